//! ingest's invocations, to the service's answer:
//! - a body invoked directly (a producer, or EventBridge's rule target when it invokes ingest);
//! - a Function URL request carrying one (the answer wrapped in an HTTP response);
//! - an SQS batch from ingest's queue (the event source mapping), each message's body one
//!   body ingest takes: a producer's single event, or an EventBridge CloudTrail event the
//!   RouteCloudTrailEvents rule queued. The batch's good messages are staged in one object,
//!   and the answer lists the messages to hand back, `{"batchItemFailures":[{"itemIdentifier":
//!   "…"}]}`: only those refused, each logged with its reason, so they end in the dead-letter
//!   queue after the redrive policy's receives while the others are done.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use cairn_edge::FunctionError;
use cairn_edge::error::{Classify, ErrorKind};
use cairn_shared::ingest::{
    IngestError, Ingestor, QueuedMessage, function_url_body, function_url_error_response,
    function_url_response,
};
use cairn_shared::service::Service;
use lambda_runtime::{LambdaEvent, tracing};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

/// An SQS batch ingest cannot take apart message by message: it fails as a whole, and the
/// queue hands every message back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BatchError {
    #[error("the invocation is an SQS batch but not in Lambda's SQS event shape: {0}")]
    NotSqs(#[source] serde_json::Error),
    #[error("SQS record {index} has no messageId, so it cannot be handed back alone")]
    NoMessageId { index: usize },
}

impl Classify for BatchError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadEvent
    }
}

/// Answers one invocation. A direct invocation gets the answer JSON, or an error for a body
/// that cannot be read (the caller sees it as the function error). A Function URL request gets
/// an HTTP response either way: 200 with the answer, 400/405/413 naming what is wrong with the
/// body, 503 when staging failed and the whole body should be sent again.
pub(crate) async fn handle(
    ingestor: &Ingestor<'_>,
    event: LambdaEvent<Box<RawValue>>,
    now: OffsetDateTime,
) -> Result<Box<RawValue>, FunctionError> {
    let payload = &event.payload;
    if is_sqs_batch(payload) {
        let batch: SqsEvent = serde_json::from_str(payload.get()).map_err(BatchError::NotSqs)?;
        return Ok(to_json(&sqs_batch(ingestor, &batch, now).await?));
    }
    let Some(request) = function_url_body(payload) else {
        let ingested = ingestor.handle(payload.get(), now).await?;
        return Ok(to_json(&ingested.answer));
    };
    let response = match request {
        Err(error) => function_url_error_response(&error),
        Ok(body) => match ingestor.handle(&body, now).await {
            Ok(ingested) => function_url_response(200, &ingested.answer),
            Err(IngestError::Body(error)) => function_url_error_response(&error),
            Err(error @ IngestError::Staging(_)) => {
                tracing::error!(%error, "staging failed");
                function_url_response(503, &serde_json::json!({"message": error.to_string()}))
            }
        },
    };
    Ok(response.expect("a response of strings and numbers always serializes"))
}

/// Whether `payload` is Lambda's SQS event: `{"Records":[…]}` whose records come from
/// `"eventSource":"aws:sqs"` (Lambda Developer Guide, "Using Lambda with Amazon SQS", example
/// event). A CloudTrail `{"Records":[…]}` batch has the same top-level key, but a CloudTrail
/// record's eventSource is a service's endpoint (`sqs.amazonaws.com`), never `aws:sqs`.
fn is_sqs_batch(payload: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Batch<'a> {
        #[serde(rename = "Records", borrow)]
        records: Option<Vec<&'a RawValue>>,
    }
    #[derive(Deserialize)]
    struct Source<'a> {
        #[serde(rename = "eventSource", borrow)]
        event_source: Option<&'a str>,
    }
    let first = serde_json::from_str::<Batch>(payload.get())
        .ok()
        .and_then(|batch| batch.records?.first().copied());
    first
        .and_then(|record| serde_json::from_str::<Source>(record.get()).ok())
        .is_some_and(|record| record.event_source == Some("aws:sqs"))
}

/// Stages the batch's good messages together and names the refused ones. A staging failure
/// fails the invocation, so the queue hands the whole batch back: what makes that safe is
/// `Ingestor::handle_messages`' rule, deliver dropping repeated events by eventID.
async fn sqs_batch(
    ingestor: &Ingestor<'_>,
    batch: &SqsEvent,
    now: OffsetDateTime,
) -> Result<SqsBatchResponse, FunctionError> {
    let mut response = SqsBatchResponse::default();
    let mut messages = Vec::with_capacity(batch.records.len());
    for (index, message) in batch.records.iter().enumerate() {
        let id = message
            .message_id
            .as_deref()
            .ok_or(BatchError::NoMessageId { index })?;
        match message.body.as_deref() {
            Some(body) => messages.push(QueuedMessage { id, body }),
            None => {
                tracing::error!(message_id = %id, reason = "the message has no body", "message refused; handed back to the queue");
                response.add_failure(id.to_owned());
            }
        }
    }
    let report = ingestor.handle_messages(&messages, now).await.inspect_err(
        |error| tracing::error!(%error, "staging failed; the whole batch is handed back"),
    )?;
    for refused in &report.refused {
        tracing::error!(message_id = %refused.id, reason = %refused.reason, "message refused; handed back to the queue");
        response.add_failure(refused.id.clone());
    }
    tracing::info!(
        messages = batch.records.len(),
        events_accepted = report.accepted.len(),
        events_staged = report.staged_events,
        staging_objects = ?report.staged,
        refused = response.batch_item_failures.len(),
        "batch staged"
    );
    Ok(response)
}

fn to_json<T: serde::Serialize>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("an answer of strings always serializes")
}

#[cfg(test)]
mod localstack;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use cairn_shared::adapters::local::LocalObjectStore;
    use cairn_shared::config::Config;
    use cairn_shared::ports::object_store::ObjectStore;
    use cairn_shared::staging::read_staged;
    use cairn_test_support::repo_file;
    use lambda_runtime::{Context, Diagnostic};
    use serde_json::Value;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-20 10:06:00 UTC);
    const CHANNEL: &str = "arn:aws:cloudtrail:us-east-1:123456789012:channel/cairn";
    /// The events of events/sqs-ingest.json's messages: a single-event Records body, another,
    /// and an EventBridge CloudTrail event.
    const SAMPLE_SQS_EVENT_IDS: [&str; 3] = [
        "5b1f7e9c-0000-4000-9000-000000000003",
        "5b1f7e9c-0000-4000-9000-000000000009",
        "7d2e9a41-0000-4000-9000-000000000101",
    ];

    fn sample_config() -> Config {
        Config::load(&repo_file("cairn.yaml")).expect("the sample cairn.yaml")
    }

    fn event(text: &str) -> LambdaEvent<Box<RawValue>> {
        let payload = RawValue::from_string(text.to_owned()).expect("JSON");
        LambdaEvent::new(payload, Context::default())
    }

    fn sample(name: &str) -> LambdaEvent<Box<RawValue>> {
        let path = repo_file(&format!("events/{name}"));
        event(&std::fs::read_to_string(path).expect("sample event"))
    }

    async fn answer(
        store: &LocalObjectStore,
        event: LambdaEvent<Box<RawValue>>,
    ) -> Result<Value, FunctionError> {
        let config = sample_config();
        let ingestor = Ingestor::new(&config, store, "us-east-1", CHANNEL);
        let answer = handle(&ingestor, event, NOW).await?;
        Ok(serde_json::from_str(answer.get()).expect("JSON"))
    }

    async fn store_with_state_bucket(dir: &Path) -> LocalObjectStore {
        let store = LocalObjectStore::new(dir.to_owned());
        store
            .create_bucket(&sample_config().state_bucket)
            .await
            .expect("bucket");
        store
    }

    #[tokio::test]
    async fn the_sample_batch_is_answered_per_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_state_bucket(dir.path()).await;
        let answer = answer(&store, sample("ingest-records.json"))
            .await
            .expect("answer");
        assert_eq!(answer["failed"], serde_json::json!([]), "{answer}");
        assert!(
            !answer["successful"]
                .as_array()
                .expect("successful")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_function_url_request_gets_an_http_response() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_state_bucket(dir.path()).await;
        let answer = answer(&store, sample("function-url-ingest.json"))
            .await
            .expect("answer");
        assert_eq!(answer["statusCode"], 200, "{answer}");
    }

    #[tokio::test]
    async fn a_body_ingest_cannot_read_is_a_bad_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_state_bucket(dir.path()).await;
        let error = answer(&store, event("[1, 2]"))
            .await
            .expect_err("not a body");
        assert_eq!(Diagnostic::from(error).error_type, "BadEvent");
    }

    /// The staging objects in the state bucket, each as the dedup keys of its events.
    async fn staged(store: &LocalObjectStore) -> Vec<Vec<String>> {
        let bucket = sample_config().state_bucket;
        let mut objects = Vec::new();
        for object in store.list_all(&bucket, "staging/").await.expect("list") {
            let body = store.get(&bucket, &object.key).await.expect("get").body;
            let events = read_staged(&object.key, &body).expect("a staging object");
            objects.push(events.iter().map(|e| e.dedup_key.to_string()).collect());
        }
        objects
    }

    #[tokio::test]
    async fn the_sample_sqs_batch_is_staged_in_one_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_state_bucket(dir.path()).await;
        let answer = answer(&store, sample("sqs-ingest.json"))
            .await
            .expect("answer");
        assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));
        assert_eq!(staged(&store).await, [SAMPLE_SQS_EVENT_IDS]);
    }

    #[tokio::test]
    async fn only_the_malformed_messages_of_a_batch_are_handed_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_state_bucket(dir.path()).await;
        let mut batch = cairn_test_support::sample_event("sqs-ingest.json");
        let records = batch["Records"].as_array_mut().expect("records");
        let mut not_json = records[0].clone();
        not_json["messageId"] = "not-json".into();
        not_json["body"] = "{\"Records\":[".into();
        let mut bad_record = records[2].clone();
        bad_record["messageId"] = "bad-record".into();
        let mut event: Value =
            serde_json::from_str(bad_record["body"].as_str().expect("body")).expect("JSON");
        event["detail"]["eventTime"] = "yesterday".into();
        bad_record["body"] = event.to_string().into();
        let mut no_body = records[1].clone();
        no_body["messageId"] = "no-body".into();
        no_body.as_object_mut().expect("a record").remove("body");
        records.insert(1, not_json);
        records.push(bad_record);
        records.push(no_body);

        let answer = answer(&store, event_of(&batch)).await.expect("answer");
        assert_eq!(
            answer,
            serde_json::json!({"batchItemFailures": [
                {"itemIdentifier": "no-body"},
                {"itemIdentifier": "not-json"},
                {"itemIdentifier": "bad-record"},
            ]})
        );
        assert_eq!(staged(&store).await, [SAMPLE_SQS_EVENT_IDS]);
    }

    #[tokio::test]
    async fn an_sqs_record_without_a_message_id_fails_the_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_state_bucket(dir.path()).await;
        let mut batch = cairn_test_support::sample_event("sqs-ingest.json");
        batch["Records"][1]
            .as_object_mut()
            .expect("a record")
            .remove("messageId");
        let error = answer(&store, event_of(&batch))
            .await
            .expect_err("no messageId");
        assert_eq!(Diagnostic::from(error).error_type, "BadEvent");
        assert!(staged(&store).await.is_empty());
    }

    #[tokio::test]
    async fn an_sqs_batch_that_cannot_be_staged_fails_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().to_owned());
        let error = answer(&store, sample("sqs-ingest.json"))
            .await
            .expect_err("no bucket");
        assert_eq!(Diagnostic::from(error).error_type, "StagingUnavailable");
    }

    #[test]
    fn only_records_from_aws_sqs_make_an_sqs_batch() {
        let is_sqs =
            |text: &str| is_sqs_batch(&RawValue::from_string(text.to_owned()).expect("JSON"));
        let sample = std::fs::read_to_string(repo_file("events/sqs-ingest.json")).expect("sample");
        assert!(is_sqs(&sample));
        let records =
            std::fs::read_to_string(repo_file("events/ingest-records.json")).expect("sample");
        assert!(!is_sqs(&records));
        assert!(!is_sqs(r#"{"Records":[]}"#));
        assert!(!is_sqs(
            r#"{"Records":[{"eventSource":"sqs.amazonaws.com"}]}"#
        ));
        assert!(!is_sqs(r#"{"Records":7}"#));
    }

    fn event_of(value: &Value) -> LambdaEvent<Box<RawValue>> {
        event(&value.to_string())
    }

    #[tokio::test]
    async fn a_missing_state_bucket_is_staging_unavailable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().to_owned());
        let error = answer(&store, sample("ingest-records.json"))
            .await
            .expect_err("no bucket");
        assert_eq!(Diagnostic::from(error).error_type, "StagingUnavailable");
    }
}
