//! The alert object: every metric-filter match in one log file, written by forward for notify
//! to announce.
//!
//! One object per log file with at least one match, in the state bucket at
//! `alerts/{bucket}/{key}.json` (the log file's bucket and key): a re-delivery of the file
//! rewrites the same object with the same bytes. Its shape (`version` [`ALERT_VERSION`]):
//!
//! ```json
//! {
//!   "version": 1,
//!   "logFile": {"s3Bucket": "cairn-trail-123456789012", "s3ObjectKey": "audit/AWSLogs/…json.gz"},
//!   "trail": "main",
//!   "trailArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
//!   "logGroup": "cairn/cloudtrail",
//!   "logStream": "123456789012_CloudTrail_us-east-1",
//!   "matches": [
//!     {
//!       "filterName": "RootAccountUsage",
//!       "filterPattern": "{ $.userIdentity.type = \"Root\" … }",
//!       "logGroup": "cairn/cloudtrail",
//!       "metric": {"namespace": "CloudTrailMetrics", "name": "RootAccountUsage", "unit": "Count",
//!                  "value": 1, "dimensions": {}},
//!       "event": {"eventTime": "2026-11-20T10:05:12Z", "eventName": "ConsoleLogin",
//!                 "eventSource": "signin.amazonaws.com", "eventID": "…",
//!                 "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root"},
//!                 "sourceIPAddress": "203.0.113.77", "awsRegion": "us-east-1",
//!                 "recipientAccountId": "123456789012", "errorCode": null},
//!       "record": { …the CloudTrail record exactly as delivered… }
//!     }
//!   ]
//! }
//! ```
//!
//! - `matches` lists one entry per (record, filter) match: records in eventTime order (as they
//!   are forwarded), then filters in configuration order. Every record of the file is matched,
//!   also one CloudWatch Logs refused (too old, say): a match is a property of the record.
//! - `metric.value` is what the filter's metric publishes for the event, `null` when the value
//!   or a dimension field is missing or not a number in it (a match without a data point).
//! - `event` summarizes the record: each field is the record's string value, `null` when absent.
//! - `record` is the record byte for byte.
//!
//! ## Insights alerts
//!
//! deliver writes one more kind of alert object, for each Insights Start it found that a trail
//! takes ([`InsightAlert`]), at `alerts/CloudTrail-Insight/{account}/{region}/{sharedEventID}.json`
//! (no bucket is named with capitals, so no log file's alert object is ever there). It carries
//! the facts deliver knew when it judged the Start, so notify only words them:
//!
//! ```json
//! {
//!   "version": 1,
//!   "insight": {
//!     "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
//!     "insightType": "ApiCallRateInsight", "account": "123456789012", "region": "us-east-1",
//!     "start": "2026-11-22T10:00:00Z", "sharedEventID": "…", "eventID": "…",
//!     "baselineAverage": 0.42, "insightAverage": 30.0,
//!     "attributions": [{"attribute": "userIdentityArn",
//!                       "insight": [{"value": "arn:…:user/ci", "average": 28.6}],
//!                       "baseline": [{"value": "arn:…:role/app", "average": 0.4}]}, …],
//!     "rule": {"windowMinutes": 5, "windowFirst": "2026-11-22T09:56:00Z", "windowCalls": 140,
//!              "expectedCalls": 2.1, "threshold": 10.8, "endBelow": 6.4, "startFactor": 2.0,
//!              "startDeviations": 6.0, "startMinCalls": 25, "endDeviations": 3.0,
//!              "baselineMinutes": 10080},
//!     "perMinute": {"first": "2026-11-22T09:30:00Z", "counts": [0, 1, 0, …]}
//!   },
//!   "files": [{"trail": "main", "s3Bucket": "…", "s3ObjectKey": "…CloudTrail-Insight…json.gz"}],
//!   "record": { …the Start record exactly as delivered… }
//! }
//! ```
//!
//! - `baselineAverage`, `insightAverage` and `attributions` are the record's statistics and
//!   attributions (per minute); `rule` is the window that fired with the detection rule's
//!   parameters (README, "Insights"); `perMinute` counts the API's calls (or errors) per minute
//!   of eventTime around the Start, as the counters held them.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::config::StandardUnit;

/// The version of the alert object's shape that forward writes and notify reads.
pub const ALERT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub version: u32,
    pub log_file: LogFileRef,
    pub trail: String,
    pub trail_arn: String,
    pub log_group: String,
    pub log_stream: String,
    pub matches: Vec<AlertMatch>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LogFileRef {
    #[serde(rename = "s3Bucket")]
    pub s3_bucket: String,
    #[serde(rename = "s3ObjectKey")]
    pub s3_object_key: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertMatch {
    pub filter_name: String,
    pub filter_pattern: String,
    pub log_group: String,
    pub metric: MetricOut,
    pub event: EventSummary,
    pub record: Box<RawValue>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MetricOut {
    pub namespace: String,
    pub name: String,
    pub unit: StandardUnit,
    pub value: Option<serde_json::Number>,
    pub dimensions: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("not an alert object: {0}")]
    Json(#[from] serde_json::Error),
    #[error("alert object version {found}; this notify reads version {ALERT_VERSION}")]
    Version { found: u32 },
}

/// The fields of a record an alert shows, each its string value or `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    #[serde(rename = "eventTime")]
    pub event_time: Option<String>,
    #[serde(rename = "eventName")]
    pub event_name: Option<String>,
    #[serde(rename = "eventSource")]
    pub event_source: Option<String>,
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    #[serde(rename = "userIdentity")]
    pub user_identity: IdentitySummary,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    #[serde(rename = "awsRegion")]
    pub aws_region: Option<String>,
    #[serde(rename = "recipientAccountId")]
    pub recipient_account_id: Option<String>,
    #[serde(rename = "errorCode")]
    pub error_code: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySummary {
    #[serde(rename = "type")]
    pub identity_type: Option<String>,
    pub arn: Option<String>,
}

impl EventSummary {
    pub fn of(record: &RawValue) -> Self {
        let Ok(value) = serde_json::from_str::<Value>(record.get()) else {
            return Self::default();
        };
        let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
        let identity = value.get("userIdentity").unwrap_or(&Value::Null);
        Self {
            event_time: text(&value, "eventTime"),
            event_name: text(&value, "eventName"),
            event_source: text(&value, "eventSource"),
            event_id: text(&value, "eventID"),
            user_identity: IdentitySummary {
                identity_type: text(identity, "type"),
                arn: text(identity, "arn"),
            },
            source_ip_address: text(&value, "sourceIPAddress"),
            aws_region: text(&value, "awsRegion"),
            recipient_account_id: text(&value, "recipientAccountId"),
            error_code: text(&value, "errorCode"),
        }
    }
}

impl Alert {
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("an alert serializes"))
    }

    /// Reads an alert object of [`ALERT_VERSION`]. The version is read first, so an object of
    /// another version is refused as such even when the rest of its shape changed too.
    pub fn parse(bytes: &[u8]) -> Result<Self, AlertError> {
        check_version(bytes)?;
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// An Insights Start, explained: written by deliver, announced by notify (see the module
/// documentation).
#[derive(Debug, Serialize, Deserialize)]
pub struct InsightAlert {
    pub version: u32,
    pub insight: InsightStart,
    /// The Insights files holding the Start record, one per trail whose InsightSelectors take it.
    pub files: Vec<InsightFile>,
    pub record: Box<RawValue>,
}

/// What deliver knew of an Insights Start when it judged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightStart {
    pub event_source: String,
    pub event_name: String,
    pub insight_type: String,
    pub account: String,
    pub region: String,
    /// For an Insights event on data events, the ARN of the trail that logs them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_trail: Option<String>,
    /// The minute the anomaly started: the Start record's eventTime.
    pub start: String,
    #[serde(rename = "sharedEventID")]
    pub shared_event_id: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Calls (or errors) per minute over the baseline.
    pub baseline_average: f64,
    /// Calls (or errors) in the anomaly's first minute.
    pub insight_average: f64,
    pub attributions: Vec<AttributionSummary>,
    pub rule: RuleFired,
    pub per_minute: PerMinute,
}

/// One attribute's top values, each with its average per minute, highest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionSummary {
    pub attribute: String,
    pub insight: Vec<ValueAverage>,
    pub baseline: Vec<ValueAverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueAverage {
    pub value: String,
    pub average: f64,
}

/// The window that made the detection rule fire, and the rule's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleFired {
    pub window_minutes: i64,
    /// The window's first minute.
    pub window_first: String,
    pub window_calls: u64,
    /// Calls expected in a window: the busiest baseline hour's rate times the window.
    pub expected_calls: f64,
    /// What the window had to reach: the larger of `startFactor` times expected and expected
    /// plus `startDeviations` Poisson deviations (and at least `startMinCalls`).
    pub threshold: f64,
    /// The anomaly ends with the first window below this many calls.
    pub end_below: f64,
    pub start_factor: f64,
    pub start_deviations: f64,
    pub start_min_calls: u64,
    pub end_deviations: f64,
    pub baseline_minutes: i64,
}

/// Calls (or errors) per minute of eventTime, from minute `first` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerMinute {
    pub first: String,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsightFile {
    pub trail: String,
    #[serde(rename = "s3Bucket")]
    pub s3_bucket: String,
    #[serde(rename = "s3ObjectKey")]
    pub s3_object_key: String,
}

impl InsightAlert {
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("an Insights alert serializes"))
    }

    /// Reads an Insights alert object of [`ALERT_VERSION`], the version first as for
    /// [`Alert::parse`].
    pub fn parse(bytes: &[u8]) -> Result<Self, AlertError> {
        check_version(bytes)?;
        Ok(serde_json::from_slice(bytes)?)
    }
}

fn check_version(bytes: &[u8]) -> Result<(), AlertError> {
    #[derive(Deserialize)]
    struct Versioned {
        version: u32,
    }
    let Versioned { version } = serde_json::from_slice(bytes)?;
    if version != ALERT_VERSION {
        return Err(AlertError::Version { found: version });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_takes_string_fields_and_leaves_the_rest_null() {
        let record = RawValue::from_string(
            r#"{"eventTime":"2026-11-20T10:05:12Z","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","eventID":"e-1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/bob"},"sourceIPAddress":"203.0.113.77","awsRegion":"eu-west-1","recipientAccountId":"123456789012","errorCode":7}"#
                .to_owned(),
        )
        .unwrap();
        let summary = EventSummary::of(&record);
        assert_eq!(
            serde_json::to_value(&summary).unwrap(),
            serde_json::json!({
                "eventTime": "2026-11-20T10:05:12Z",
                "eventName": "StopLogging",
                "eventSource": "cloudtrail.amazonaws.com",
                "eventID": "e-1",
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/bob"},
                "sourceIPAddress": "203.0.113.77",
                "awsRegion": "eu-west-1",
                "recipientAccountId": "123456789012",
                "errorCode": null
            })
        );
        let insight =
            RawValue::from_string(r#"{"eventTime":"2026-11-20T10:00:00Z"}"#.to_owned()).unwrap();
        let summary = EventSummary::of(&insight);
        assert_eq!(summary.user_identity, IdentitySummary::default());
        assert_eq!(summary.event_name, None);
    }

    #[test]
    fn what_forward_writes_notify_reads_back_byte_for_byte() {
        let text = r#"{"version":1,"logFile":{"s3Bucket":"b","s3ObjectKey":"k.json.gz"},"trail":"main","trailArn":"arn:aws:cloudtrail:us-east-1:123456789012:trail/main","logGroup":"g","logStream":"123456789012_CloudTrail_us-east-1","matches":[{"filterName":"F","filterPattern":"{ $.x = 1 }","logGroup":"g","metric":{"namespace":"N","name":"M","unit":"Count","value":1,"dimensions":{}},"event":{"eventTime":null,"eventName":null,"eventSource":null,"eventID":null,"userIdentity":{"type":null,"arn":null},"sourceIPAddress":null,"awsRegion":null,"recipientAccountId":null,"errorCode":null},"record":{"x" : 1}}]}"#;
        let alert = Alert::parse(text.as_bytes()).expect("an alert object");
        assert_eq!(alert.to_bytes(), text.as_bytes());
    }

    #[test]
    fn another_version_is_refused_naming_both_versions() {
        let error = Alert::parse(br#"{"version":7,"shape":"unknown"}"#).unwrap_err();
        assert!(matches!(error, AlertError::Version { found: 7 }));
        assert_eq!(
            error.to_string(),
            "alert object version 7; this notify reads version 1"
        );
    }
}
