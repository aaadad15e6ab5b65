//! A trail as written in `cairn.yaml`: CreateTrail's parameters, in the PascalCase that
//! `aws cloudtrail describe-trails` prints, plus the selectors of get-event-selectors and
//! get-insight-selectors. The read-only fields describe-trails adds (TrailARN,
//! LogFileValidationEnabled, HasCustomEventSelectors…) are accepted and checked for
//! agreement, so its output pastes in unchanged.

use serde::Deserialize;

use crate::selectors::spec::{AdvancedEventSelectorSpec, EventSelectorSpec, InsightSelectorSpec};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct TrailSpec {
    pub name: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: Option<String>,
    pub home_region: String,
    pub is_multi_region_trail: Option<bool>,
    pub include_global_service_events: Option<bool>,
    #[serde(alias = "LogFileValidationEnabled")]
    pub enable_log_file_validation: Option<bool>,
    pub is_organization_trail: Option<bool>,
    pub organization_id: Option<String>,
    pub kms_key_id: Option<String>,
    #[serde(rename = "SnsTopicARN")]
    pub sns_topic_arn: Option<String>,
    /// describe-trails' deprecated twin of SnsTopicARN.
    pub sns_topic_name: Option<String>,
    pub cloud_watch_logs_log_group_arn: Option<String>,
    pub cloud_watch_logs_role_arn: Option<String>,
    #[serde(rename = "TrailARN")]
    pub trail_arn: Option<String>,
    pub has_custom_event_selectors: Option<bool>,
    pub has_insight_selectors: Option<bool>,
    pub event_selectors: Option<Vec<EventSelectorSpec>>,
    pub advanced_event_selectors: Option<Vec<AdvancedEventSelectorSpec>>,
    pub insight_selectors: Option<Vec<InsightSelectorSpec>>,
}
