//! ingest end to end: a body in, its events validated, routed and staged, and the answer out.

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::Config;
use crate::ports::object_store::ObjectStore;
use crate::record::Record;
use crate::staging::{self, StagedEvent, StagingError};

use super::{Body, BodyError, BodyKind, LakeContext, error_codes, read_body};

/// ingest's answer, in PutAuditEvents' shape whatever the body: per event, its caller's id and
/// either its eventID or why it was refused.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct IngestAnswer {
    pub successful: Vec<Accepted>,
    pub failed: Vec<Failed>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Accepted {
    pub id: String,
    /// The record's eventID; for an eventVersion 1.0 record, which has none, the `sha256:` key
    /// Cairn knows it by.
    #[serde(rename = "eventID")]
    pub event_id: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Failed {
    pub id: String,
    pub error_code: &'static str,
    pub error_message: String,
}

/// What one call did.
#[derive(Debug)]
pub struct IngestReport {
    pub answer: IngestAnswer,
    /// The staging objects written: one when any event needed delivering, or one per deliver
    /// shard the events reach.
    pub staged: Vec<String>,
    /// Accepted events that a trail or the event history takes (the others are valid but
    /// nobody asked for them, as CloudTrail drops events no trail selects).
    pub staged_events: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Body(#[from] BodyError),
    /// Nothing was staged, so nothing is accepted: the caller must retry the whole body.
    #[error("the events could not be staged: {0}")]
    Staging(#[from] StagingError),
}

/// Reads `body`, validates each event, routes the good ones and stages them in one object, and
/// answers only after that write: an answer of success means the events are durable.
///
/// Safe to repeat: a retried body is staged again under a new key, and deliver drops the
/// copies by eventID.
pub(crate) async fn ingest(
    config: &Config,
    store: &dyn ObjectStore,
    body: &str,
    lake: &LakeContext<'_>,
    now: OffsetDateTime,
) -> Result<IngestReport, IngestError> {
    let body = read_body(body, lake)?;
    let mut answer = IngestAnswer::default();
    let records = validate(&body, &mut answer.failed);
    let staged = stage_accepted(config, store, &records, now).await?;
    answer.successful = staged.accepted;
    Ok(IngestReport {
        answer,
        staged: staged.keys,
        staged_events: staged.events,
    })
}

/// What [`stage_accepted`] did with a set of valid records.
pub(super) struct StagedRecords {
    /// Each record's caller id (an event's in its body, or its queue message's) and dedup key.
    pub accepted: Vec<Accepted>,
    /// The staging objects written, one per deliver shard the records reach.
    pub keys: Vec<String>,
    /// The records a trail or the event history takes.
    pub events: usize,
}

/// Routes valid `records`, each with its caller's id, stages those a trail or the event history
/// takes in one object, and names every record accepted, only once that write is done.
pub(super) async fn stage_accepted(
    config: &Config,
    store: &dyn ObjectStore,
    records: &[(impl AsRef<str>, Record<'_>)],
    now: OffsetDateTime,
) -> Result<StagedRecords, StagingError> {
    let staged_events: Vec<StagedEvent> = records
        .iter()
        .filter_map(|(_, record)| StagedEvent::route(config, record))
        .collect();
    let events = staged_events.len();
    let keys = staging::stage(store, config, staged_events, now).await?;
    let accepted = records
        .iter()
        .map(|(id, record)| Accepted {
            id: id.as_ref().to_owned(),
            event_id: staging::dedup_key(record).into_owned(),
        })
        .collect();
    Ok(StagedRecords {
        accepted,
        keys,
        events,
    })
}

/// The events of `body` that are valid CloudTrail records, each with its caller's id, in the
/// body's order; each other event goes to `failed` with why it is refused.
pub(super) fn validate<'b>(
    body: &'b Body<'_>,
    failed: &mut Vec<Failed>,
) -> Vec<(String, Record<'b>)> {
    let mut records = Vec::with_capacity(body.events.len());
    for submitted in &body.events {
        let id = submitted.id.to_string();
        let raw = match &submitted.event {
            Ok(raw) => raw,
            Err(refusal) => {
                failed.push(Failed {
                    id,
                    error_code: refusal.error_code,
                    error_message: refusal.error_message.clone(),
                });
                continue;
            }
        };
        // A batch's records are named by their position, as the answer's ids are.
        let index = match body.kind {
            BodyKind::Records => id.parse().ok(),
            BodyKind::EventBridge | BodyKind::AuditEvents => None,
        };
        let depth = nesting_depth(raw.get());
        if depth > MAX_NESTING {
            failed.push(Failed {
                id,
                error_code: error_codes::INVALID_DATA,
                error_message: format!(
                    "the record nests arrays and objects {depth} levels deep, over the limit of {MAX_NESTING}"
                ),
            });
            continue;
        }
        match Record::parse(raw, index) {
            Ok(record) => records.push((id, record)),
            Err(error) => failed.push(Failed {
                id,
                error_code: error_codes::INVALID_DATA,
                error_message: error.to_string(),
            }),
        }
    }
    records
}

/// The deepest nesting of arrays and objects a record may have: serde_json's limit when a
/// record is read into a value (forward's alerts, the history's readers), which the body's raw
/// split does not apply. A deeper record would be stored, then fail every such reader.
const MAX_NESTING: usize = 128;

/// The deepest nesting of arrays and objects in `json`, valid JSON text, counted without
/// recursion so no input can exhaust the stack.
fn nesting_depth(json: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in json.as_bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::adapters::local::LocalObjectStore;
    use crate::record::EventTime;

    const CONFIG: &str = "accountId: \"111122223333\"\nstateBucket: state\n";
    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

    fn record(event_id: &str, event_name: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"Root","accountId":"111122223333"}},"eventTime":"2026-11-22T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"{event_name}","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","userAgent":"cli","requestID":"r","eventID":"{event_id}","eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}}"#
        )
    }

    async fn store() -> (tempfile::TempDir, LocalObjectStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket("state").await.unwrap();
        (dir, store)
    }

    fn lake() -> LakeContext<'static> {
        LakeContext {
            region: "us-east-1",
            channel_arn: "arn:aws:cloudtrail:us-east-1:111122223333:channel/test",
            ingestion_time: EventTime::from_unix_seconds(NOW.unix_timestamp()),
        }
    }

    #[tokio::test]
    async fn a_bad_record_is_refused_alone_and_the_good_ones_are_staged() {
        let config = Config::from_yaml(CONFIG, "test").unwrap();
        let (_dir, store) = store().await;
        let bad =
            record("e-2", "ListUsers").replace(r#""awsRegion":"us-east-1""#, r#""awsRegion":7"#);
        let body = format!(
            r#"{{"Records":[{},{bad},{}]}}"#,
            record("e-1", "ListUsers"),
            record("e-3", "CreateUser")
        );
        let done = ingest(&config, &store, &body, &lake(), NOW).await.unwrap();
        assert_eq!(
            done.answer.successful,
            [
                Accepted {
                    id: "0".into(),
                    event_id: "e-1".into()
                },
                Accepted {
                    id: "2".into(),
                    event_id: "e-3".into()
                }
            ]
        );
        assert_eq!(done.answer.failed.len(), 1);
        let failed = &done.answer.failed[0];
        assert_eq!(
            (failed.id.as_str(), failed.error_code),
            ("1", "InvalidData")
        );
        assert!(
            failed
                .error_message
                .starts_with("record 1 (eventID e-2): awsRegion"),
            "{}",
            failed.error_message
        );
        // Both good events are management events: staged for the event history.
        let [key] = &done.staged[..] else {
            panic!("one staging object: {:?}", done.staged)
        };
        let object = store.get("state", key).await.unwrap();
        let staged = staging::read_staged(key, &object.body).unwrap();
        let ids: Vec<&str> = staged.iter().map(|e| e.dedup_key.as_ref()).collect();
        assert_eq!(ids, ["e-1", "e-3"]);
        assert_eq!(done.staged_events, 2);
    }

    #[tokio::test]
    async fn a_malformed_body_is_one_error_with_its_position_and_stages_nothing() {
        let config = Config::from_yaml(CONFIG, "test").unwrap();
        let (_dir, store) = store().await;
        let error = ingest(
            &config,
            &store,
            "{\"Records\":[\n  {\"a\" 1}]}",
            &lake(),
            NOW,
        )
        .await
        .unwrap_err();
        let IngestError::Body(body) = &error else {
            panic!("{error}")
        };
        assert_eq!((body.line(), body.column()), (Some(2), Some(8)));
        assert!(store.list_all("state", "").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn nothing_is_accepted_when_staging_fails() {
        let config = Config::from_yaml(CONFIG, "test").unwrap();
        let dir = tempfile::tempdir().unwrap();
        // No state bucket: the write fails, and so does the whole call.
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        let body = format!(r#"{{"Records":[{}]}}"#, record("e-1", "ListUsers"));
        let error = ingest(&config, &store, &body, &lake(), NOW)
            .await
            .unwrap_err();
        assert!(matches!(error, IngestError::Staging(_)), "{error}");
    }
}
