//! Insights event records, in CloudTrail's format for trails.
//!
//! The members and their order follow the User Guide's examples ("CloudTrail record contents
//! for Insights events for trails", and the Insights examples of "CloudTrail log file
//! examples"): `eventVersion`, `eventTime`, `awsRegion`, `eventID`, `eventType`,
//! `recipientAccountId`, `sharedEventID`, `insightDetails`, `eventCategory`. `insightDetails`
//! holds `state`, `eventSource`, `eventName`, `insightType` and `insightContext`, whose
//! `statistics` has `baseline.average`, `insight.average`, `insightDuration` and
//! `baselineDuration`, and whose `attributions` list `userIdentityArn`, `userAgent` and
//! `errorCode`, each with its top values for the insight and the baseline, highest average
//! first ("null" standing for an absent value, as AWS writes a call without error).
//!
//! An Insights event on data events is written as that page's data-event examples are:
//! eventVersion 1.09, and in `insightDetails` `sourceEventCategory` `Data` after
//! `insightType`, and `insightSource`, the trail's ARN, after `insightContext`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alert::{AttributionSummary, ValueAverage};
use crate::clock::EventTime;
use crate::ids::uuid_text;

/// The eventVersion of the User Guide's Insights examples, the version the fields date from.
const EVENT_VERSION: &str = "1.07";
/// The eventVersion of its examples of Insights events on data events ("Viewing Insights
/// events for trails with the AWS CLI"), which add `sourceEventCategory` and `insightSource`
/// to `insightDetails`.
const DATA_EVENT_VERSION: &str = "1.09";

/// How many values of each attribute a record lists, for the insight and for the baseline.
pub(super) const TOP_ATTRIBUTIONS: usize = 5;

/// Averages are written rounded to this many decimals (AWS's examples show up to 10).
const DECIMALS: i32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InsightKind {
    ApiCallRateInsight,
    ApiErrorRateInsight,
}

impl InsightKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InsightKind::ApiCallRateInsight => "ApiCallRateInsight",
            InsightKind::ApiErrorRateInsight => "ApiErrorRateInsight",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum State {
    Start,
    End,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Start => "Start",
            State::End => "End",
        }
    }
}

/// Which API an Insights event is about, and where.
#[derive(Debug, Clone, Copy)]
pub(super) struct Subject<'a> {
    pub account: &'a str,
    pub region: &'a str,
    /// For data events, the ARN of the trail that logs them.
    pub data_trail_arn: Option<&'a str>,
    pub source: &'a str,
    pub name: &'a str,
    pub kind: InsightKind,
}

/// One attribute's values with their averages per minute, highest first.
pub(super) type Ranked = Vec<(String, f64)>;

/// The three attributions, in AWS's order.
pub(super) const ATTRIBUTES: [&str; 3] = ["userIdentityArn", "userAgent", "errorCode"];

pub(super) struct Statistics {
    pub baseline_average: f64,
    pub insight_average: f64,
    pub insight_duration: i64,
    pub baseline_duration: i64,
    /// Per attribute of [`ATTRIBUTES`]: (insight, baseline).
    pub attributions: [(Ranked, Ranked); 3],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InsightRecord<'a> {
    event_version: &'static str,
    event_time: String,
    aws_region: &'a str,
    #[serde(rename = "eventID")]
    event_id: String,
    event_type: &'static str,
    recipient_account_id: &'a str,
    #[serde(rename = "sharedEventID")]
    shared_event_id: &'a str,
    insight_details: Details<'a>,
    event_category: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Details<'a> {
    state: State,
    event_source: &'a str,
    event_name: &'a str,
    insight_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_event_category: Option<&'static str>,
    insight_context: Context<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    insight_source: Option<&'a str>,
}

#[derive(Serialize)]
struct Context<'a> {
    statistics: StatisticsOut,
    attributions: Vec<Attribution<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatisticsOut {
    baseline: Average,
    insight: Average,
    insight_duration: i64,
    baseline_duration: i64,
}

#[derive(Serialize)]
struct Average {
    #[serde(serialize_with = "number")]
    average: f64,
}

#[derive(Serialize)]
struct Attribution<'a> {
    attribute: &'static str,
    insight: Vec<Valued<'a>>,
    baseline: Vec<Valued<'a>>,
}

#[derive(Serialize)]
struct Valued<'a> {
    value: &'a str,
    #[serde(serialize_with = "number")]
    average: f64,
}

/// An average as AWS's examples write it: a whole number without a fraction (`"average": 0`,
/// `"average": 664`), any other as it is (`0.6`).
fn number<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    // Below 2^53 every whole f64 is an exact integer.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// The sharedEventID of the anomaly of `subject` that started at `start`: the same for its
/// Start and End, and for every rerun of the batch that found it.
pub(super) fn shared_event_id(subject: &Subject<'_>, start: EventTime) -> String {
    let start = start.unix_seconds().to_string();
    let mut parts = vec![
        subject.account,
        subject.region,
        subject.source,
        subject.name,
        subject.kind.as_str(),
        &start,
    ];
    // A trail's anomaly on data events is its own, apart from the same API's on management
    // events and from another trail's.
    parts.extend(subject.data_trail_arn);
    id_of(&parts)
}

fn id_of(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid_text(bytes, 8)
}

/// The eventID of the anomaly's `state` record.
pub(super) fn event_id(shared_event_id: &str, state: State) -> String {
    id_of(&[shared_event_id, state.as_str()])
}

/// A value as records write it.
pub(super) fn rounded(value: f64) -> f64 {
    let scale = 10f64.powi(DECIMALS);
    (value * scale).round() / scale
}

/// The record's compact JSON.
pub(super) fn encode(
    subject: &Subject<'_>,
    shared_event_id: &str,
    state: State,
    at: EventTime,
    statistics: &Statistics,
) -> String {
    let attributions = ATTRIBUTES
        .iter()
        .zip(&statistics.attributions)
        .map(|(attribute, (insight, baseline))| Attribution {
            attribute,
            insight: listed(insight),
            baseline: listed(baseline),
        })
        .collect();
    let record = InsightRecord {
        event_version: match subject.data_trail_arn {
            None => EVENT_VERSION,
            Some(_) => DATA_EVENT_VERSION,
        },
        event_time: at.to_string(),
        aws_region: subject.region,
        event_id: event_id(shared_event_id, state),
        event_type: "AwsCloudTrailInsight",
        recipient_account_id: subject.account,
        shared_event_id,
        insight_details: Details {
            state,
            event_source: subject.source,
            event_name: subject.name,
            insight_type: subject.kind.as_str(),
            source_event_category: subject.data_trail_arn.map(|_| "Data"),
            insight_context: Context {
                statistics: StatisticsOut {
                    baseline: Average {
                        average: rounded(statistics.baseline_average),
                    },
                    insight: Average {
                        average: rounded(statistics.insight_average),
                    },
                    insight_duration: statistics.insight_duration,
                    baseline_duration: statistics.baseline_duration,
                },
                attributions,
            },
            insight_source: subject.data_trail_arn,
        },
        event_category: "Insight",
    };
    serde_json::to_string(&record).expect("an Insights record serializes")
}

/// The attributions as an alert carries them: the record's values, rounded as it writes them.
pub(super) fn summaries(attributions: &[(Ranked, Ranked); 3]) -> Vec<AttributionSummary> {
    let summary = |ranked: &Ranked| {
        ranked
            .iter()
            .map(|(value, average)| ValueAverage {
                value: value.clone(),
                average: rounded(*average),
            })
            .collect()
    };
    ATTRIBUTES
        .iter()
        .zip(attributions)
        .map(|(attribute, (insight, baseline))| AttributionSummary {
            attribute: (*attribute).to_owned(),
            insight: summary(insight),
            baseline: summary(baseline),
        })
        .collect()
}

fn listed(ranked: &Ranked) -> Vec<Valued<'_>> {
    ranked
        .iter()
        .map(|(value, average)| Valued {
            value,
            average: rounded(*average),
        })
        .collect()
}
