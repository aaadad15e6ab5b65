//! notify's invocations, in either shape:
//! - an SQS batch (the deployed trigger: EventBridge feeds the queue, each message's body one
//!   EventBridge event). Its objects are notified together, and the answer lists the messages
//!   to try again, `{"batchItemFailures":[{"itemIdentifier":"…"}]}`: those whose object failed,
//!   and those whose body is not an EventBridge event (they go back to the queue, and after its
//!   redrive policy to the dead-letter queue, rather than vanish).
//! - one EventBridge event (a direct invoke, `cargo lambda invoke notify`): a failure fails the
//!   invocation, so the caller sees it (and an asynchronous invoke is retried).
//!
//! Events other than S3 "Object Created" succeed with nothing done, the reason logged.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use cairn_edge::FunctionError;
use cairn_edge::error::{Classify, ErrorKind};
use cairn_edge::trigger::{self, Ignored};
use cairn_shared::notify::{Item, Notify, NotifyReport};
use cairn_shared::service::Service;
use cairn_shared::trigger::{ObjectCreated, Trigger, TriggerError};
use lambda_runtime::{LambdaEvent, tracing};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

/// The answer to one invocation.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Answer {
    Batch(SqsBatchResponse),
    Ignored(Ignored),
    Notified(NotifyReport),
}

/// An invocation, or an SQS message, that is not what notify takes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EventError {
    #[error("the invocation has Records but is not an SQS event: {0}")]
    NotSqs(#[source] serde_json::Error),
    #[error("the invocation is neither an SQS batch nor an EventBridge event: {0}")]
    Unknown(#[source] serde_json::Error),
    #[error("an SQS record without a messageId")]
    NoMessageId,
    #[error("the message body is not an EventBridge event: {0}")]
    Body(#[source] serde_json::Error),
    #[error(transparent)]
    Trigger(#[from] TriggerError),
}

impl Classify for EventError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadEvent
    }
}

/// A directly invoked object whose notice or alerts did not go out.
#[derive(Debug, thiserror::Error)]
#[error("s3://{bucket}/{key} was not notified: {reason}")]
pub(crate) struct NotNotified {
    bucket: String,
    key: String,
    reason: String,
}

impl Classify for NotNotified {
    fn kind(&self) -> ErrorKind {
        ErrorKind::NotifyFailed
    }
}

/// Answers one invocation.
pub(crate) async fn handle(
    notify: &Notify<'_>,
    event: LambdaEvent<Value>,
    now: OffsetDateTime,
) -> Result<Answer, FunctionError> {
    let payload = event.payload;
    if payload.get("Records").is_some() {
        let batch: SqsEvent = serde_json::from_value(payload).map_err(EventError::NotSqs)?;
        Ok(Answer::Batch(sqs_batch(notify, batch, now).await?))
    } else {
        let event: EventBridgeEvent =
            serde_json::from_value(payload).map_err(EventError::Unknown)?;
        eventbridge(notify, event, now).await
    }
}

/// The one call of the service, for both shapes of invocation.
async fn notify_items(notify: &Notify<'_>, items: &[Item], now: OffsetDateTime) -> NotifyReport {
    let Ok(report) = notify.handle(items, now).await;
    report
}

async fn sqs_batch(
    notify: &Notify<'_>,
    batch: SqsEvent,
    now: OffsetDateTime,
) -> Result<SqsBatchResponse, EventError> {
    let mut response = SqsBatchResponse::default();
    let mut items = Vec::with_capacity(batch.records.len());
    for message in batch.records {
        // Without its id a message cannot be handed back alone: fail the whole batch instead.
        let id = message.message_id.ok_or(EventError::NoMessageId)?;
        match object_of(message.body.as_deref().unwrap_or_default()) {
            Ok(Some(object)) => items.push(Item { id, object }),
            Ok(None) => {}
            Err(error) => {
                tracing::error!(message_id = %id, %error, "the message is handed back to the queue");
                response.add_failure(id);
            }
        }
    }
    let report = notify_items(notify, &items, now).await;
    for item in report.failed() {
        response.add_failure(item.id.clone());
    }
    tracing::info!(
        messages = report.sent.len(),
        failed = response.batch_item_failures.len(),
        "batch done"
    );
    Ok(response)
}

/// The object an SQS message's body names; `None` for an event that is not S3's "Object
/// Created".
fn object_of(body: &str) -> Result<Option<ObjectCreated>, EventError> {
    let event: EventBridgeEvent = serde_json::from_str(body).map_err(EventError::Body)?;
    match trigger::read(&event)? {
        Trigger::ObjectCreated(object) => Ok(Some(object)),
        Trigger::Ignored(_) => Ok(None),
    }
}

async fn eventbridge(
    notify: &Notify<'_>,
    event: EventBridgeEvent,
    now: OffsetDateTime,
) -> Result<Answer, FunctionError> {
    let object = match trigger::read(&event)? {
        Trigger::ObjectCreated(object) => object,
        Trigger::Ignored(reason) => {
            return Ok(Answer::Ignored(Ignored {
                ignored_because: reason,
            }));
        }
    };
    let id = event.id.unwrap_or_else(|| "event".to_owned());
    let report = notify_items(notify, &[Item { id, object }], now).await;
    if let Some(failed) = report.failed().next() {
        return Err(NotNotified {
            bucket: failed.bucket.clone(),
            key: failed.key.clone(),
            reason: failed
                .reason
                .clone()
                .unwrap_or_else(|| "unknown failure".to_owned()),
        }
        .into());
    }
    Ok(Answer::Notified(report))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use bytes::Bytes;
    use cairn_shared::adapters::local::LocalNotifier;
    use cairn_shared::adapters::local::LocalObjectStore;
    use cairn_shared::config::Config;
    use cairn_shared::delivered::LogFileFacts;
    use cairn_shared::ports::object_store::{ObjectStore, PutOptions};
    use cairn_shared::record::EventTime;
    use cairn_test_support::{repo_file, sample_event};

    use lambda_runtime::{Context, Diagnostic};
    use serde_json::json;

    use super::*;

    /// Answers `payload` as one invocation, the answer as JSON.
    async fn invoke(notify: &Notify<'_>, payload: Value) -> Result<Value, FunctionError> {
        let answer = handle(
            notify,
            LambdaEvent::new(payload, Context::default()),
            OffsetDateTime::UNIX_EPOCH,
        )
        .await?;
        Ok(serde_json::to_value(answer).expect("JSON"))
    }

    const NOTICES: &str = "arn:aws:sns:us-east-1:123456789012:cairn-notices";
    const ALERTS: &str = "arn:aws:sns:us-east-1:123456789012:cairn-alerts";

    fn sample_config() -> Config {
        Config::load(&repo_file("cairn.yaml")).expect("the sample cairn.yaml")
    }

    /// The embedded store holding the sample alert object (one root login) and the sample log
    /// files, with the metadata deliver writes, at the keys the samples name.
    async fn store_with_alert(config: &Config, dir: &Path) -> LocalObjectStore {
        let store = LocalObjectStore::new(dir.join("store"));
        store
            .create_bucket(&config.state_bucket)
            .await
            .expect("bucket");
        store
            .create_bucket("cairn-trail-123456789012")
            .await
            .expect("bucket");
        let messages = sample_event("notify-sqs.json");
        for message in messages["Records"].as_array().expect("records") {
            let body: Value = serde_json::from_str(message["body"].as_str().expect("body"))
                .expect("an EventBridge event");
            let key = body["detail"]["object"]["key"].as_str().expect("key");
            let Some(region) = key.strip_prefix("audit/AWSLogs/123456789012/CloudTrail/") else {
                continue;
            };
            let time = EventTime::parse("2026-11-20T10:05:12Z").expect("a time");
            let facts = LogFileFacts {
                trail: "main".to_owned(),
                account: "123456789012".to_owned(),
                region: region.split('/').next().expect("a Region").to_owned(),
                records: 1,
                oldest_event_time: time,
                newest_event_time: time,
            };
            store
                .put(
                    "cairn-trail-123456789012",
                    key,
                    Bytes::new(),
                    &facts.put_options(),
                )
                .await
                .expect("log file");
        }
        let event = sample_event("alert-object-created.json");
        let key = event["detail"]["object"]["key"].as_str().expect("key");
        let log_file = key
            .strip_prefix("alerts/cairn-trail-123456789012/")
            .and_then(|k| k.strip_suffix(".json"))
            .expect("an alert object key");
        let record = json!({"eventVersion": "1.08", "eventTime": "2026-11-20T10:05:12Z",
            "eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com",
            "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root"},
            "awsRegion": "us-east-1", "recipientAccountId": "123456789012"});
        let alert = json!({
            "version": 1,
            "logFile": {"s3Bucket": "cairn-trail-123456789012", "s3ObjectKey": log_file},
            "trail": "main",
            "trailArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
            "logGroup": "cairn/cloudtrail",
            "logStream": "123456789012_CloudTrail_us-east-1",
            "matches": [{
                "filterName": "RootAccountUsage", "filterPattern": "{ $.userIdentity.type = \"Root\" }",
                "logGroup": "cairn/cloudtrail",
                "metric": {"namespace": "CloudTrailMetrics", "name": "RootAccountUsage",
                           "unit": "Count", "value": 1, "dimensions": {}},
                "event": {"eventTime": "2026-11-20T10:05:12Z", "eventName": "ConsoleLogin",
                          "eventSource": "signin.amazonaws.com", "eventID": null,
                          "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root"},
                          "sourceIPAddress": null, "awsRegion": "us-east-1",
                          "recipientAccountId": "123456789012", "errorCode": null},
                "record": record,
            }],
        });
        store
            .put(
                &config.state_bucket,
                key,
                Bytes::from(alert.to_string()),
                &PutOptions::new("application/json"),
            )
            .await
            .expect("alert object");
        store
    }

    /// The messages the local notifier holds for `topic`.
    fn published(notifier: &LocalNotifier, topic: &str) -> Vec<Value> {
        let path = notifier.topic_path(topic).expect("topic path");
        match std::fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .map(|line| serde_json::from_str(line).expect("json line"))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// A local notifier whose alerts topic cannot be written to (its file is a folder), so
    /// publishing there fails for good while the notices topic works.
    fn notifier_failing_alerts(dir: &Path) -> LocalNotifier {
        let notifier = LocalNotifier::new(dir.join("sns"));
        std::fs::create_dir_all(notifier.topic_path(ALERTS).unwrap()).expect("folder");
        notifier
    }

    #[tokio::test]
    async fn the_sample_batch_hands_back_only_the_message_whose_work_failed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = sample_config();
        let store = store_with_alert(&config, dir.path()).await;
        let notifier = notifier_failing_alerts(dir.path());
        let notify = Notify::new(&config, &store, &notifier);
        let batch = sample_event("notify-sqs.json");

        let answer = invoke(&notify, batch.clone()).await.expect("answer");
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": batch["Records"][2]["messageId"]}]})
        );
        // The two log files, which came together, share one notice.
        let keys: Vec<Value> = (0..2)
            .map(|i| {
                let body: Value =
                    serde_json::from_str(batch["Records"][i]["body"].as_str().unwrap()).unwrap();
                body["detail"]["object"]["key"].clone()
            })
            .collect();
        let notices = published(&notifier, NOTICES);
        assert_eq!(notices.len(), 1);
        assert_eq!(
            notices[0]["Message"],
            json!({"s3Bucket": "cairn-trail-123456789012", "s3ObjectKey": keys}).to_string()
        );

        // Once the alerts topic works, the handed-back message goes through, alone.
        std::fs::remove_dir(notifier.topic_path(ALERTS).unwrap()).expect("remove");
        let retry = json!({"Records": [batch["Records"][2]]});
        let answer = invoke(&notify, retry).await.expect("answer");
        assert_eq!(answer, json!({"batchItemFailures": []}));
        let alerts = published(&notifier, ALERTS);
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            alerts[0]["Subject"],
            "Cairn alert: RootAccountUsage: ConsoleLogin by root in us-east-1"
        );
        assert_eq!(published(&notifier, NOTICES).len(), 1);
    }

    #[tokio::test]
    async fn a_body_that_is_not_an_eventbridge_event_goes_back_to_the_queue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = sample_config();
        let store = store_with_alert(&config, dir.path()).await;
        let notifier = LocalNotifier::new(dir.path().join("sns"));
        let notify = Notify::new(&config, &store, &notifier);
        let mut batch = sample_event("notify-sqs.json");
        batch["Records"][1]["body"] = json!("not an event");
        let schedule = sample_event("schedule.json").to_string();
        batch["Records"][2]["body"] = json!(schedule);

        let answer = invoke(&notify, batch.clone()).await.expect("answer");
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["messageId"]}]})
        );
        let notices = published(&notifier, NOTICES);
        assert_eq!(notices.len(), 1);
        assert!(published(&notifier, ALERTS).is_empty());
    }

    #[tokio::test]
    async fn a_direct_eventbridge_event_fails_the_invocation_when_its_work_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = sample_config();
        let store = store_with_alert(&config, dir.path()).await;
        let notifier = notifier_failing_alerts(dir.path());
        let notify = Notify::new(&config, &store, &notifier);

        let report = invoke(&notify, sample_event("s3-object-created.json"))
            .await
            .expect("the sample log file is announced");
        assert_eq!(report["items"][0]["outcome"], "notified");
        assert_eq!(report["sent"][0]["kind"], "deliveryNotice");
        assert_eq!(published(&notifier, NOTICES).len(), 1);

        let error = invoke(&notify, sample_event("alert-object-created.json"))
            .await
            .expect_err("the alerts topic fails");
        let text = error.to_string();
        assert!(
            text.starts_with(
                "s3://cairn-state-123456789012/alerts/cairn-trail-123456789012/audit/AWSLogs/"
            ) && text.contains("was not notified: not published after 1 attempt(s)"),
            "{text}"
        );
        assert_eq!(Diagnostic::from(error).error_type, "NotifyFailed");

        let ignored = invoke(&notify, sample_event("schedule.json"))
            .await
            .expect("ignored");
        assert_eq!(ignored["outcome"], "ignored");
    }

    #[tokio::test]
    async fn an_invocation_notify_does_not_take_is_a_bad_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = sample_config();
        let store = LocalObjectStore::new(dir.path().join("store"));
        let notifier = LocalNotifier::new(dir.path().join("sns"));
        let notify = Notify::new(&config, &store, &notifier);
        for payload in [
            json!({"Records": "not a list"}),
            json!({"neither": "SQS nor EventBridge"}),
            json!({"Records": [{"body": "{}"}]}),
        ] {
            let error = invoke(&notify, payload.clone()).await.expect_err("refused");
            assert_eq!(Diagnostic::from(error).error_type, "BadEvent", "{payload}");
        }
    }
}
