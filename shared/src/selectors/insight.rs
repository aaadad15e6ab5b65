//! Insights selectors: which Insights events (`AwsCloudTrailInsight`) a trail takes. A trail
//! without them takes none; event selectors never select Insights events.

use super::EventSelection;
use super::spec::{InsightSelectorSpec, InsightSourceCategory, InsightType};
use crate::invalid::Invalid;
use crate::record::{EventType, Record};

/// The Insights types a trail logs, each with the event categories it watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsightSelection {
    selected: Vec<(InsightType, Vec<InsightSourceCategory>)>,
}

impl InsightSelection {
    pub fn is_empty(&self) -> bool {
        self.selected.is_empty()
    }

    /// The selected types and the categories each watches.
    pub fn types(&self) -> impl Iterator<Item = (InsightType, &[InsightSourceCategory])> {
        self.selected
            .iter()
            .map(|(insight, categories)| (*insight, categories.as_slice()))
    }

    /// Whether some selected type watches data events: Insights then counts the trail's own.
    pub fn watches_data(&self) -> bool {
        self.watches(InsightSourceCategory::Data)
    }

    /// Whether some selected type watches `category`: Insights then counts the trail's calls
    /// of that category.
    pub(crate) fn watches(&self, category: InsightSourceCategory) -> bool {
        self.selected
            .iter()
            .any(|(_, categories)| categories.contains(&category))
    }

    /// Whether the trail of `trail_arn` takes the Insights event `record`: its type selected
    /// for the category it learned from, and for data events, learned from this trail's own
    /// (another trail's data events are that trail's to log).
    pub fn admits(&self, record: &Record<'_>, trail_arn: &str) -> bool {
        if record.event_type() != EventType::AwsCloudTrailInsight {
            return false;
        }
        let category = match record.insight_data_trail() {
            None => InsightSourceCategory::Management,
            Some(arn) if arn == trail_arn => InsightSourceCategory::Data,
            Some(_) => return false,
        };
        record.insight_type().is_some_and(|kind| {
            self.selected.iter().any(|(insight, categories)| {
                insight.as_str() == kind && categories.contains(&category)
            })
        })
    }

    /// Checks PutInsightSelectors' rules: each type once, and the events it learns from logged
    /// by the trail (write management events for the call rate, any management events for the
    /// error rate, read or write data events for either on data events).
    pub(crate) fn compile(
        specs: Option<&[InsightSelectorSpec]>,
        events: &EventSelection,
    ) -> Result<Self, Invalid> {
        const LIST: &str = "InsightSelectors";
        let mut selected: Vec<(InsightType, Vec<InsightSourceCategory>)> = Vec::new();
        for (i, spec) in specs.unwrap_or_default().iter().enumerate() {
            let at = format!("{LIST}[{i}]");
            if selected
                .iter()
                .any(|(insight, _)| *insight == spec.insight_type)
            {
                return Err(Invalid::new(
                    "InsightType",
                    format!("{} is already selected", spec.insight_type.as_str()),
                )
                .within(at));
            }
            let categories = match &spec.event_categories {
                None => vec![InsightSourceCategory::Management],
                Some(categories) if categories.is_empty() => {
                    return Err(Invalid::new(
                        "EventCategories",
                        "must hold Management, Data or both; leave it out for management events",
                    )
                    .within(at));
                }
                Some(categories) => categories.clone(),
            };
            for category in &categories {
                if let Some(why) = missing_source(spec.insight_type, *category, events) {
                    return Err(Invalid::new("", why).within(at));
                }
            }
            selected.push((spec.insight_type, categories));
        }
        Ok(Self { selected })
    }
}

fn missing_source(
    insight: InsightType,
    category: InsightSourceCategory,
    events: &EventSelection,
) -> Option<String> {
    let (logged, needed) = match (insight, category) {
        (InsightType::ApiCallRateInsight, InsightSourceCategory::Management) => {
            (events.logs_management(true), "write management events")
        }
        (InsightType::ApiErrorRateInsight, InsightSourceCategory::Management) => {
            (events.logs_management(false), "management events")
        }
        (_, InsightSourceCategory::Data) => (events.logs_data(), "read or write data events"),
    };
    (!logged).then(|| {
        format!(
            "{} on {} events needs the trail to log {needed}, and its event selectors do not",
            insight.as_str(),
            match category {
                InsightSourceCategory::Management => "management",
                InsightSourceCategory::Data => "data",
            }
        )
    })
}
