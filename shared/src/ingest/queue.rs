//! ingest fed by a queue: the messages of one batch (an SQS batch, as Lambda's event source
//! mapping hands it over), each any body ingest takes, staged together in ONE staging object.
//!
//! Producers that send one event at a time would otherwise cost a staging object and an ingest
//! invocation per event; a queue in front gathers them (README, "Performance"). The message is
//! the unit the queue retries, so it is accepted or refused whole: a message whose body cannot
//! be read, or any of whose events is not a valid record, is refused with the reason and none
//! of its events is staged; the good messages of the batch are staged all the same, so a bad
//! message never costs the others their place.

use time::OffsetDateTime;

use crate::config::Config;
use crate::ports::object_store::ObjectStore;
use crate::record::Record;
use crate::staging::StagingError;

use super::accept::{stage_accepted, validate};
use super::{Accepted, Failed, LakeContext, read_body};

/// One message of a batch: the queue's id for it (SQS's `messageId`) and its body.
#[derive(Debug, Clone, Copy)]
pub struct QueuedMessage<'a> {
    pub id: &'a str,
    pub body: &'a str,
}

/// A message refused whole, and why (naming the event and field where one is at fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedMessage {
    pub id: String,
    pub reason: String,
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct QueueReport {
    /// Every event of the accepted messages: the message's id and the event's eventID (or the
    /// `sha256:` key of a record without one), in the batch's order.
    pub accepted: Vec<Accepted>,
    /// The messages refused, in the batch's order: the queue should hand them back (and after
    /// its redrive policy keep them in its dead-letter queue) rather than drop them.
    pub refused: Vec<RefusedMessage>,
    /// The staging objects written: one when any accepted event needed delivering, or one per
    /// deliver shard the events reach.
    pub staged: Vec<String>,
    /// Accepted events that a trail or the event history takes.
    pub staged_events: usize,
}

/// How many refused events a message's reason names before it only counts the rest.
const REFUSALS_NAMED: usize = 3;

/// Reads each message, validates its events, and stages every event of the accepted messages
/// in one object; answers only after that write. A failed write fails the whole batch: nothing
/// is accepted, and the queue hands every message back.
///
/// Safe to repeat, which the queue does (a batch whose invocation failed or timed out; a
/// message received twice, as standard queues and Lambda's event source mappings deliver "at
/// least once", Lambda Developer Guide, "How Lambda processes records from stream and
/// queue-based event sources"): a repeated message is staged again under
/// another staging key, and deliver drops the copies by dedup key (the eventID), within its
/// batch and against what it delivered in the past 24 hours.
pub(crate) async fn ingest_messages(
    config: &Config,
    store: &dyn ObjectStore,
    messages: &[QueuedMessage<'_>],
    lake: &LakeContext<'_>,
    now: OffsetDateTime,
) -> Result<QueueReport, StagingError> {
    let mut report = QueueReport::default();
    let bodies: Vec<_> = messages
        .iter()
        .map(|message| (message.id, read_body(message.body, lake)))
        .collect();
    let mut records: Vec<(&str, Record<'_>)> = Vec::with_capacity(messages.len());
    for (id, body) in &bodies {
        let body = match body {
            Ok(body) => body,
            Err(error) => {
                report.refused.push(RefusedMessage {
                    id: (*id).to_owned(),
                    reason: error.to_string(),
                });
                continue;
            }
        };
        let mut failed = Vec::new();
        let valid = validate(body, &mut failed);
        if failed.is_empty() {
            records.extend(valid.into_iter().map(|(_, record)| (*id, record)));
        } else {
            report.refused.push(RefusedMessage {
                id: (*id).to_owned(),
                reason: refusal_reason(&failed, body.events.len()),
            });
        }
    }
    let staged = stage_accepted(config, store, &records, now).await?;
    report.accepted = staged.accepted;
    report.staged = staged.keys;
    report.staged_events = staged.events;
    Ok(report)
}

/// Why a message with refused events is refused: how many, and the first few by their id in
/// the body with their error code and message.
fn refusal_reason(failed: &[Failed], events: usize) -> String {
    let named: Vec<String> = failed
        .iter()
        .take(REFUSALS_NAMED)
        .map(|event| {
            format!(
                "event {}: {}: {}",
                event.id, event.error_code, event.error_message
            )
        })
        .collect();
    let more = failed.len() - named.len();
    let more = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    format!(
        "{} of the message's {events} events refused, so none is staged: {}{more}",
        failed.len(),
        named.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::adapters::local::LocalObjectStore;
    use crate::record::EventTime;
    use crate::staging::read_staged;

    const CONFIG: &str = "accountId: \"111122223333\"\nstateBucket: state\n";
    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

    fn record(event_id: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"Root","accountId":"111122223333"}},"eventTime":"2026-11-22T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","userAgent":"cli","requestID":"r","eventID":"{event_id}","eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}}"#
        )
    }

    fn lake() -> LakeContext<'static> {
        LakeContext {
            region: "us-east-1",
            channel_arn: "arn:aws:cloudtrail:us-east-1:111122223333:channel/test",
            ingestion_time: EventTime::from_unix_seconds(NOW.unix_timestamp()),
        }
    }

    async fn store() -> (tempfile::TempDir, LocalObjectStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket("state").await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn the_good_messages_share_one_staging_object_and_the_bad_ones_are_refused_whole() {
        let config = Config::from_yaml(CONFIG, "test").unwrap();
        let (_dir, store) = store().await;
        let one = format!(r#"{{"Records":[{}]}}"#, record("e-1"));
        let bad_region = record("e-3").replace(r#""awsRegion":"us-east-1""#, r#""awsRegion":7"#);
        let half_bad = format!(r#"{{"Records":[{},{bad_region}]}}"#, record("e-2"));
        let two = format!(r#"{{"Records":[{},{}]}}"#, record("e-4"), record("e-5"));
        let messages = [
            QueuedMessage {
                id: "m-1",
                body: &one,
            },
            QueuedMessage {
                id: "m-2",
                body: "{\"Records\":[",
            },
            QueuedMessage {
                id: "m-3",
                body: &half_bad,
            },
            QueuedMessage {
                id: "m-4",
                body: &two,
            },
        ];
        let report = ingest_messages(&config, &store, &messages, &lake(), NOW)
            .await
            .unwrap();

        let accepted: Vec<(&str, &str)> = report
            .accepted
            .iter()
            .map(|a| (a.id.as_str(), a.event_id.as_str()))
            .collect();
        assert_eq!(accepted, [("m-1", "e-1"), ("m-4", "e-4"), ("m-4", "e-5")]);
        let refused: Vec<&str> = report.refused.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(refused, ["m-2", "m-3"]);
        assert!(
            report.refused[0]
                .reason
                .starts_with("the body is not valid JSON"),
            "{}",
            report.refused[0].reason
        );
        assert!(
            report.refused[1].reason.starts_with(
                "1 of the message's 2 events refused, so none is staged: event 1: InvalidData: record 1 (eventID e-3): awsRegion"
            ),
            "{}",
            report.refused[1].reason
        );

        // One object for the whole batch, holding the accepted messages' events only.
        let objects = store.list_all("state", "").await.unwrap();
        assert_eq!(objects.len(), 1);
        let [key] = &report.staged[..] else {
            panic!("one staging object: {:?}", report.staged)
        };
        assert_eq!(&objects[0].key, key);
        let object = store.get("state", key).await.unwrap();
        let staged = read_staged(key, &object.body).unwrap();
        let ids: Vec<&str> = staged.iter().map(|e| e.dedup_key.as_ref()).collect();
        assert_eq!(ids, ["e-1", "e-4", "e-5"]);
        assert_eq!(report.staged_events, 3);
    }

    #[test]
    fn a_reason_names_the_first_refusals_and_counts_the_rest() {
        let failed: Vec<Failed> = (0..5)
            .map(|n| Failed {
                id: n.to_string(),
                error_code: "InvalidData",
                error_message: format!("problem {n}"),
            })
            .collect();
        assert_eq!(
            refusal_reason(&failed, 6),
            "5 of the message's 6 events refused, so none is staged: event 0: InvalidData: problem 0; event 1: InvalidData: problem 1; event 2: InvalidData: problem 2; and 2 more"
        );
    }

    #[tokio::test]
    async fn nothing_is_accepted_when_staging_fails() {
        let config = Config::from_yaml(CONFIG, "test").unwrap();
        let dir = tempfile::tempdir().unwrap();
        // No state bucket: the write fails, and the whole batch with it.
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        let body = format!(r#"{{"Records":[{}]}}"#, record("e-1"));
        let messages = [QueuedMessage {
            id: "m-1",
            body: &body,
        }];
        let error = ingest_messages(&config, &store, &messages, &lake(), NOW)
            .await
            .unwrap_err();
        assert!(matches!(error, StagingError::Store(_)), "{error}");
    }
}
