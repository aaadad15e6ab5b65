//! Which events a trail takes: basic or advanced event selectors (or CloudTrail's default of
//! every management event), and Insights selectors. Selectors are checked against AWS's rules
//! and compiled when the configuration loads, so matching a record allocates nothing.

mod advanced;
mod basic;
mod fields;
mod insight;
mod operators;
pub(crate) mod spec;

pub use advanced::AdvancedSelector;
pub use basic::{ArnMatch, BasicResourceType, BasicSelector, DataResource};
pub use insight::InsightSelection;
pub(crate) use spec::InsightSourceCategory;

use crate::invalid::Invalid;
use crate::record::{EventCategory, Record};
use spec::{AdvancedEventSelectorSpec, EventSelectorSpec};

/// A trail's event selectors, compiled. An event matches the trail when any selector matches.
#[derive(Debug, Clone)]
pub enum EventSelection {
    /// No selectors: CloudTrail's default, every management event, read and write.
    Default,
    Basic(Vec<BasicSelector>),
    Advanced(Vec<AdvancedSelector>),
}

impl EventSelection {
    /// Compiles the trail's selectors; a trail may have one kind or the other, not both.
    pub(crate) fn compile(
        basic: Option<&[EventSelectorSpec]>,
        advanced: Option<&[AdvancedEventSelectorSpec]>,
    ) -> Result<Self, Invalid> {
        match (basic, advanced) {
            (Some(_), Some(_)) => Err(Invalid::new(
                "",
                "a trail has EventSelectors or AdvancedEventSelectors, not both",
            )),
            (Some(specs), None) => basic::compile(specs).map(EventSelection::Basic),
            (None, Some(specs)) => advanced::compile(specs).map(EventSelection::Advanced),
            (None, None) => Ok(EventSelection::Default),
        }
    }

    pub fn admits(&self, record: &Record<'_>) -> bool {
        match self {
            EventSelection::Default => record.category() == EventCategory::Management,
            EventSelection::Basic(selectors) => selectors.iter().any(|s| s.matches(record)),
            EventSelection::Advanced(selectors) => selectors.iter().any(|s| s.matches(record)),
        }
    }

    /// Whether some selector logs management events (only writes counted when `writes_only`).
    pub(crate) fn logs_management(&self, writes_only: bool) -> bool {
        match self {
            EventSelection::Default => true,
            EventSelection::Basic(selectors) => {
                selectors.iter().any(|s| s.logs_management(writes_only))
            }
            EventSelection::Advanced(selectors) => {
                selectors.iter().any(|s| s.logs_management(writes_only))
            }
        }
    }

    pub(crate) fn logs_data(&self) -> bool {
        match self {
            EventSelection::Default => false,
            EventSelection::Basic(selectors) => selectors.iter().any(BasicSelector::logs_data),
            EventSelection::Advanced(selectors) => selectors
                .iter()
                .any(|s| s.category() == EventCategory::Data),
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
