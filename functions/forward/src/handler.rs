//! forward's invocations: S3's Object Created event (via EventBridge) to the forwarding of
//! that log file, and any other event to `{"outcome":"ignored","ignoredBecause":…}`. A
//! forwarded file's metrics (Cairn's: events stored, metric-filter matches) are printed as EMF
//! lines.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cairn_edge::FunctionError;
use cairn_edge::trigger::{self, Ignored};
use cairn_shared::forward::{ForwardReport, Forwarder};
use cairn_shared::service::Service;
use cairn_shared::trigger::Trigger;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use time::OffsetDateTime;

/// The answer to one invocation.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Answer {
    Ignored(Ignored),
    /// Boxed: a report is far larger than the reason an event is ignored.
    Forwarded(Box<ForwardReport>),
}

/// Answers one invocation.
pub(crate) async fn handle(
    forwarder: &Forwarder<'_>,
    event: LambdaEvent<EventBridgeEvent>,
    now: OffsetDateTime,
) -> Result<Answer, FunctionError> {
    match trigger::read(&event.payload)? {
        Trigger::Ignored(reason) => Ok(Answer::Ignored(Ignored {
            ignored_because: reason,
        })),
        Trigger::ObjectCreated(object) => {
            let report = forwarder.handle(&object, now).await?;
            for line in report.metric_lines(now) {
                cairn_edge::print_metric(&line);
            }
            Ok(Answer::Forwarded(Box::new(report)))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use bytes::Bytes;
    use cairn_shared::adapters::local::LocalLogSink;
    use cairn_shared::adapters::local::LocalObjectStore;
    use cairn_shared::config::Config;
    use cairn_shared::delivered::LogFileFacts;
    use cairn_shared::ports::object_store::{ObjectStore, PutOptions};
    use cairn_shared::record::EventTime;
    use cairn_test_support::{repo_file, sample_event};
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use lambda_runtime::{Context, Diagnostic};
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-20 10:11:00 UTC);

    /// Forwards `event` with the sample configuration over `store`, the answer as JSON.
    async fn answer(
        store: &LocalObjectStore,
        dir: &Path,
        event: Value,
    ) -> Result<Value, FunctionError> {
        let config = Config::load(&repo_file("cairn.yaml")).expect("the sample cairn.yaml");
        let sink = LocalLogSink::new(dir.join("logs"));
        let forwarder = Forwarder::new(&config, store, &sink);
        let event = LambdaEvent::new(
            serde_json::from_value(event).expect("event"),
            Context::default(),
        );
        let answer = handle(&forwarder, event, NOW).await?;
        Ok(serde_json::to_value(answer).expect("JSON"))
    }

    /// A store with the trail and state buckets and `body` at the sample event's key.
    async fn store_with(dir: &Path, body: Option<Vec<u8>>) -> LocalObjectStore {
        let store = LocalObjectStore::new(dir.join("store"));
        for bucket in ["cairn-trail-123456789012", "cairn-state-123456789012"] {
            store.create_bucket(bucket).await.expect("bucket");
        }
        if let Some(body) = body {
            let event = sample_event("s3-object-created.json");
            let key = event["detail"]["object"]["key"].as_str().expect("key");
            store
                .put(
                    "cairn-trail-123456789012",
                    key,
                    Bytes::from(body),
                    &sample_log_file_options(),
                )
                .await
                .expect("log file");
        }
        store
    }

    /// What deliver writes on the sample event's log file: its facts as metadata.
    fn sample_log_file_options() -> PutOptions {
        let time = EventTime::parse("2026-11-20T10:05:12Z").expect("a time");
        let facts = LogFileFacts {
            trail: "main".to_owned(),
            account: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            records: 1,
            oldest_event_time: time,
            newest_event_time: time,
        };
        facts.put_options()
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(text.as_bytes()).expect("gzip");
        encoder.finish().expect("gzip")
    }

    #[tokio::test]
    async fn a_schedule_tick_is_ignored_with_its_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with(dir.path(), None).await;
        let answer = answer(&store, dir.path(), sample_event("schedule.json"))
            .await
            .expect("answer");
        assert_eq!(
            answer,
            json!({"outcome": "ignored", "ignoredBecause":
                "a \"Scheduled Event\" event from \"aws.events\", not an \"Object Created\" event from aws.s3"})
        );
    }

    #[tokio::test]
    async fn a_log_file_is_forwarded_and_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let record = json!({"eventVersion": "1.08", "eventTime": "2026-11-20T10:05:12Z",
            "eventID": "5d0f3c0e-0000-4000-8000-000000000001",
            "eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com",
            "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root"},
            "awsRegion": "us-east-1", "recipientAccountId": "123456789012"});
        let body = gzip(&json!({"Records": [record]}).to_string());
        let store = store_with(dir.path(), Some(body)).await;
        let answer = answer(&store, dir.path(), sample_event("s3-object-created.json"))
            .await
            .expect("answer");
        assert_eq!(answer["outcome"], "forwarded", "{answer}");
        assert_eq!(answer["forwarded"], 1, "{answer}");
    }

    #[tokio::test]
    async fn a_log_file_gone_is_object_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with(dir.path(), None).await;
        let error = answer(&store, dir.path(), sample_event("s3-object-created.json"))
            .await
            .expect_err("no object");
        assert_eq!(Diagnostic::from(error).error_type, "ObjectMissing");
    }

    #[tokio::test]
    async fn a_log_file_that_is_not_gzip_is_a_corrupt_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with(dir.path(), Some(b"not gzip".to_vec())).await;
        let error = answer(&store, dir.path(), sample_event("s3-object-created.json"))
            .await
            .expect_err("not gzip");
        assert_eq!(Diagnostic::from(error).error_type, "CorruptObject");
    }

    #[tokio::test]
    async fn an_object_created_event_not_shaped_as_s3s_is_a_bad_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with(dir.path(), None).await;
        let mut event = sample_event("s3-object-created.json");
        event["detail"] = json!({"bucket": "not an object"});
        let error = answer(&store, dir.path(), event)
            .await
            .expect_err("bad detail");
        assert_eq!(Diagnostic::from(error).error_type, "BadEvent");
    }
}
