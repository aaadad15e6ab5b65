//! The selector shapes exactly as `aws cloudtrail get-event-selectors` and
//! `get-insight-selectors` print them, so their output pastes into `cairn.yaml` unchanged.
//! Unknown keys are refused by name: a misspelt key would otherwise silently widen or narrow
//! what a trail logs.

use serde::Deserialize;

/// One basic event selector (`EventSelectors[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct EventSelectorSpec {
    pub read_write_type: Option<ReadWriteType>,
    pub include_management_events: Option<bool>,
    pub data_resources: Option<Vec<DataResourceSpec>>,
    pub exclude_management_event_sources: Option<Vec<String>>,
}

/// `ReadWriteType` of a basic event selector; CloudTrail's default is `All`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ReadWriteType {
    ReadOnly,
    WriteOnly,
    #[default]
    All,
}

impl ReadWriteType {
    /// Whether a call that did (or did not) only read is of the kind this setting logs.
    pub fn admits(self, read_only: bool) -> bool {
        match self {
            ReadWriteType::ReadOnly => read_only,
            ReadWriteType::WriteOnly => !read_only,
            ReadWriteType::All => true,
        }
    }

    /// Whether write calls pass, which Insights on the API call rate need.
    pub fn admits_writes(self) -> bool {
        self != ReadWriteType::ReadOnly
    }
}

/// One `DataResources[]` entry of a basic event selector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct DataResourceSpec {
    #[serde(rename = "Type")]
    pub resource_type: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// One advanced event selector (`AdvancedEventSelectors[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct AdvancedEventSelectorSpec {
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelectorSpec>,
}

/// One condition of an advanced event selector: a record field and its operators.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct FieldSelectorSpec {
    pub field: String,
    pub equals: Option<Vec<String>>,
    pub starts_with: Option<Vec<String>>,
    pub ends_with: Option<Vec<String>>,
    pub not_equals: Option<Vec<String>>,
    pub not_starts_with: Option<Vec<String>>,
    pub not_ends_with: Option<Vec<String>>,
}

/// One `InsightSelectors[]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct InsightSelectorSpec {
    pub insight_type: InsightType,
    pub event_categories: Option<Vec<InsightSourceCategory>>,
}

/// The Insights types CloudTrail offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum InsightType {
    ApiCallRateInsight,
    ApiErrorRateInsight,
}

impl InsightType {
    pub fn as_str(self) -> &'static str {
        match self {
            InsightType::ApiCallRateInsight => "ApiCallRateInsight",
            InsightType::ApiErrorRateInsight => "ApiErrorRateInsight",
        }
    }
}

/// Which events an Insights type watches (`EventCategories`); management events by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum InsightSourceCategory {
    Management,
    Data,
}
