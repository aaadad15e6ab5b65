//! ingest's invocations: a body invoked directly, or a Function URL request carrying one, to
//! the service's answer (for a Function URL, wrapped in an HTTP response).

use cairn_edge::FunctionError;
use cairn_shared::ingest::{
    IngestError, Ingestor, function_url_body, function_url_error_response, function_url_response,
};
use cairn_shared::service::Service;
use lambda_runtime::{LambdaEvent, tracing};
use serde_json::value::RawValue;
use time::OffsetDateTime;

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

fn to_json<T: serde::Serialize>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("an answer of strings always serializes")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use cairn_shared::adapters::local::LocalObjectStore;
    use cairn_shared::config::Config;
    use cairn_test_support::repo_file;
    use lambda_runtime::{Context, Diagnostic};
    use serde_json::Value;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-20 10:06:00 UTC);
    const CHANNEL: &str = "arn:aws:cloudtrail:us-east-1:123456789012:channel/cairn";

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
