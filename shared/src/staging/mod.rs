//! The staging area: accepted events waiting for deliver, in the state bucket under `staging/`.
//!
//! ingest writes one staging object per request, holding every event of that request that some
//! trail or the event history takes, with the routing decided on arrival. deliver reads them in
//! key order (the key starts with the staging time), and removes them only once their log files
//! are written (see `delivery`).

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::config::Config;
use crate::ids::random_id;
use crate::layout;
use crate::ports::object_store::{Condition, ObjectStore, ObjectStoreError, PutOptions};
use crate::record::{EventCategory, EventType, Record};
use crate::selectors::InsightSourceCategory;
use crate::trail::Destination;

/// One staged event: the raw record and what deliver needs to file it without re-validating it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedEvent<'a> {
    /// What makes two submissions the same event: the eventID, or for a record without one
    /// (eventVersion 1.0) `sha256:` and the hash of its bytes.
    #[serde(borrow)]
    pub dedup_key: Cow<'a, str>,
    /// The record's eventTime, as written there; deliver sorts log files by it.
    #[serde(borrow)]
    pub event_time: Cow<'a, str>,
    /// Every trail that takes the event, with its log file's account and region.
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route<'a>>,
    /// The (account, region) of the event history that keeps it, for management events.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub history: Option<(Cow<'a, str>, Cow<'a, str>)>,
    /// An Insights event (eventType AwsCloudTrailInsight): its trails get it in
    /// `CloudTrail-Insight` files, never in `CloudTrail` ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insight: bool,
    /// What Insights counts of the event: of a management event when a trail that takes it
    /// watches management events for Insights, of a data event when such a trail watches data
    /// events (deliver then counts it for each of its routes' trails that does).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<Counted<'a>>,
    #[serde(borrow)]
    pub record: &'a RawValue,
}

/// A call as Insights counts it (`[eventSource, eventName, rated, errorCode,
/// userIdentity.arn, userAgent]`), read once at ingest; `rated` when ApiCallRateInsight counts
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted<'a>(
    #[serde(borrow)] pub Cow<'a, str>,
    #[serde(borrow)] pub Cow<'a, str>,
    pub bool,
    #[serde(borrow)] pub Option<Cow<'a, str>>,
    #[serde(borrow)] pub Option<Cow<'a, str>>,
    #[serde(borrow)] pub Option<Cow<'a, str>>,
);

impl<'a> Counted<'a> {
    /// The call's facts when either Insights type counts it ("Working with CloudTrail
    /// Insights"): the call rate counts write management calls and every data call, the error
    /// rate calls with an errorCode.
    fn of(record: &Record<'a>, category: InsightSourceCategory) -> Option<Self> {
        let rated = category == InsightSourceCategory::Data || !record.is_read_only();
        let error = record.error_code();
        if !rated && error.is_none() {
            return None;
        }
        let owned = |text: Option<&str>| text.map(|text| Cow::Owned(text.to_owned()));
        Some(Counted(
            Cow::Owned(record.event_source()?.to_owned()),
            Cow::Owned(record.event_name()?.to_owned()),
            rated,
            owned(error),
            owned(record.user_identity().and_then(|who| who.arn.as_deref())),
            owned(record.user_agent()),
        ))
    }
}

/// A trail's choice of an event, as `[trail, account, region]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route<'a>(
    #[serde(borrow)] pub Cow<'a, str>,
    #[serde(borrow)] pub Cow<'a, str>,
    #[serde(borrow)] pub Cow<'a, str>,
);

impl Route<'_> {
    pub fn new(trail: &str, destination: Destination<'_>) -> Self {
        Route(
            Cow::Owned(trail.to_owned()),
            Cow::Owned(destination.account_id.to_owned()),
            Cow::Owned(destination.region.to_owned()),
        )
    }

    pub fn trail(&self) -> &str {
        &self.0
    }

    pub fn account(&self) -> &str {
        &self.1
    }

    pub fn region(&self) -> &str {
        &self.2
    }
}

impl<'a> StagedEvent<'a> {
    /// Routes a validated record: every trail that selects it, and the event history when it is
    /// a management event (CloudTrail keeps those with no trail at all). `None` when nothing
    /// takes it, so there is nothing to stage.
    pub fn route(config: &Config, record: &Record<'a>) -> Option<Self> {
        let category = match record.category() {
            EventCategory::Management => Some(InsightSourceCategory::Management),
            EventCategory::Data => Some(InsightSourceCategory::Data),
            _ => None,
        };
        let mut watched = false;
        let routes: Vec<Route<'a>> = config
            .trails
            .iter()
            .filter_map(|trail| {
                let destination = trail.selects(record, &config.account_id)?;
                watched |= category.is_some_and(|c| trail.insight_selection().watches(c));
                Some(Route::new(trail.name(), destination))
            })
            .collect();
        let history = (record.category() == EventCategory::Management).then(|| {
            (
                Cow::Owned(
                    record
                        .recipient_account_id()
                        .unwrap_or(&config.account_id)
                        .to_owned(),
                ),
                Cow::Owned(record.delivery_region().to_owned()),
            )
        });
        if routes.is_empty() && history.is_none() {
            return None;
        }
        let counted = category
            .filter(|_| watched)
            .and_then(|c| Counted::of(record, c));
        Some(StagedEvent {
            dedup_key: dedup_key(record),
            event_time: Cow::Owned(record.event_time().to_string()),
            routes,
            history,
            insight: record.event_type() == EventType::AwsCloudTrailInsight,
            counted,
            record: record.raw(),
        })
    }
}

/// The eventID, or a hash of the exact bytes when the record predates eventIDs.
pub fn dedup_key<'a>(record: &Record<'a>) -> Cow<'a, str> {
    match record.event_id() {
        Some(id) => Cow::Owned(id.to_owned()),
        None => Cow::Owned(format!(
            "sha256:{}",
            hex::encode(Sha256::digest(record.raw().get().as_bytes()))
        )),
    }
}

/// The body of one staging object: the events as concatenated JSON values, one per line. A
/// record keeps its own bytes, so a pretty-printed one spans lines: read it back with
/// [`read_staged`], not by splitting lines.
pub fn encode(events: &[StagedEvent<'_>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(
        events
            .iter()
            .map(|event| event.record.get().len() + 160)
            .sum(),
    );
    for event in events {
        serde_json::to_writer(&mut body, event).expect("a staged event always serializes");
        body.push(b'\n');
    }
    body
}

/// Parses a staging object's body; `key` names it in the error.
pub fn read_staged<'a>(key: &str, body: &'a [u8]) -> Result<Vec<StagedEvent<'a>>, StagingError> {
    serde_json::Deserializer::from_slice(body)
        .into_iter::<StagedEvent<'a>>()
        .collect::<Result<_, _>>()
        .map_err(|source| StagingError::Corrupt {
            key: key.to_owned(),
            source,
        })
}

#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    #[error("staging object {key} is not what ingest writes: {source}")]
    Corrupt {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
}

/// Writes `events` as a new staging object and returns its key; writes nothing for no events.
///
/// Safe to repeat: a retried request stages a second object under a new key, and deliver drops
/// the copies by dedup key. Create-only, so a key can never replace events staged earlier.
pub async fn stage(
    store: &dyn ObjectStore,
    bucket: &str,
    events: &[StagedEvent<'_>],
    now: OffsetDateTime,
) -> Result<Option<String>, StagingError> {
    if events.is_empty() {
        return Ok(None);
    }
    let key = layout::staging_key(now, &random_id());
    let options = PutOptions::new("application/x-ndjson").condition(Condition::IfNoneMatch);
    store
        .put(bucket, &key, Bytes::from(encode(events)), &options)
        .await?;
    Ok(Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    const RECORD: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","accountId":"123456789012"},"eventTime":"2024-03-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","userAgent":"cli","requestID":"r","eventID":"e-1","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}"#;

    const CONFIG: &str = r#"
accountId: "123456789012"
trails:
  - Name: main
    S3BucketName: trail-bucket
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
  - Name: writes
    S3BucketName: writes-bucket
    HomeRegion: us-east-1
    EventSelectors: [{ReadWriteType: WriteOnly}]
"#;

    fn config() -> Config {
        Config::from_yaml(CONFIG, "test").unwrap()
    }

    #[test]
    fn staged_events_round_trip_with_their_record_bytes() {
        let config = config();
        let raw = record(RECORD);
        let pretty = record(&RECORD.replace(",\"", ",\n  \""));
        let parsed = Record::parse(&raw, None).unwrap();
        let parsed_pretty = Record::parse(&pretty, None).unwrap();
        let events = vec![
            StagedEvent::route(&config, &parsed).unwrap(),
            StagedEvent::route(&config, &parsed_pretty).unwrap(),
        ];
        let body = encode(&events);
        let back = read_staged("k", &body).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].record.get(), RECORD);
        assert_eq!(back[1].record.get(), pretty.get());
        assert_eq!(back[0].dedup_key, "e-1");
        assert_eq!(back[0].event_time, "2024-03-01T10:00:00Z");
        // A read-only call: the all-events trail takes it, the write-only trail does not.
        assert_eq!(
            back[0].routes,
            vec![Route(
                "main".into(),
                "123456789012".into(),
                "us-east-1".into()
            )]
        );
        assert_eq!(
            back[0].history,
            Some(("123456789012".into(), "us-east-1".into()))
        );
    }

    #[test]
    fn nothing_is_staged_for_an_event_nobody_takes() {
        let config = config();
        // A data event: no trail here selects data events, and the history keeps only
        // management events.
        let raw = record(
            &RECORD
                .replace(
                    "\"eventCategory\":\"Management\"",
                    "\"eventCategory\":\"Data\"",
                )
                .replace("\"managementEvent\":true", "\"managementEvent\":false"),
        );
        let parsed = Record::parse(&raw, None).unwrap();
        assert!(StagedEvent::route(&config, &parsed).is_none());
    }

    #[test]
    fn records_without_an_event_id_are_known_by_their_hash() {
        let raw = record(
            r#"{"eventVersion":"1.0","userIdentity":{"type":"Root"},"eventTime":"2014-03-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","userAgent":"cli"}"#,
        );
        let parsed = Record::parse(&raw, None).unwrap();
        let key = dedup_key(&parsed);
        assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
    }

    #[test]
    fn a_corrupt_staging_object_is_named() {
        let error = read_staged("staging/x.jsonl", b"{\"dedupKey\":").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("staging object staging/x.jsonl")
        );
    }

    #[test]
    fn staging_keys_sort_by_staging_time() {
        let early = layout::staging_key(time::macros::datetime!(2024-03-01 10:00:00.5 UTC), "a");
        let late = layout::staging_key(time::macros::datetime!(2024-03-01 10:00:01 UTC), "a");
        assert!(early.starts_with("staging/20240301T100000500Z-"), "{early}");
        assert!(early < late);
    }
}
