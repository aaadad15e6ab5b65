//! Hostile input at ingest's edge: bodies at and just over every limit, deep nesting, huge
//! numbers, duplicate keys, a byte-order mark. Each gets a specific answer, and the good events
//! of a body keep their place wherever its format allows.

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::ingest::{
    BodyError, IngestError, IngestReport, Ingestor, MAX_AUDIT_EVENTS, MAX_FUNCTION_URL_BODY_BYTES,
    function_url_body, function_url_error_response,
};
use cairn_shared::record::MAX_RECORD_BYTES;
use cairn_shared::service::Service;
use cairn_test_support::repo_file;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-20 10:06:00 UTC);
const CHANNEL: &str = "arn:aws:cloudtrail:us-east-1:123456789012:channel/cairn";

fn config() -> Config {
    Config::load(&repo_file("cairn.yaml")).expect("the sample cairn.yaml")
}

async fn ingest(body: &str) -> Result<IngestReport, IngestError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    let config = config();
    store
        .create_bucket(&config.state_bucket)
        .await
        .expect("bucket");
    Ingestor::new(&config, &store, "us-east-1", CHANNEL)
        .handle(body, NOW)
        .await
}

fn body_error(result: Result<IngestReport, IngestError>) -> BodyError {
    match result {
        Err(IngestError::Body(error)) => error,
        Err(other) => panic!("expected a body error, got {other}"),
        Ok(report) => panic!("expected a body error, got {:?}", report.answer),
    }
}

/// A management event the sample main trail takes, with `id` and a `requestParameters` value.
fn record(id: usize, request_parameters: Value) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "123456789012"},
        "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "hostile-input-test",
        "requestParameters": request_parameters,
        "responseElements": null,
        "requestID": format!("req-{id}"),
        "eventID": format!("00000000-0000-4000-8000-{id:012}"),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management"
    })
}

/// A record of exactly `bytes` bytes as compact JSON, padded in `requestParameters`.
fn record_of_size(id: usize, bytes: usize) -> String {
    let empty = record(id, json!({"pad": ""})).to_string();
    let text = record(id, json!({"pad": "x".repeat(bytes - empty.len())})).to_string();
    assert_eq!(text.len(), bytes);
    text
}

fn ids(report: &IngestReport) -> (Vec<&str>, Vec<(&str, &str)>) {
    (
        report
            .answer
            .successful
            .iter()
            .map(|a| a.id.as_str())
            .collect(),
        report
            .answer
            .failed
            .iter()
            .map(|f| (f.id.as_str(), f.error_message.as_str()))
            .collect(),
    )
}

#[tokio::test]
async fn a_record_at_the_256_kib_limit_is_taken_and_one_byte_over_is_refused_alone() {
    let body = format!(
        r#"{{"Records":[{},{},{}]}}"#,
        record(0, json!({})),
        record_of_size(1, MAX_RECORD_BYTES),
        record_of_size(2, MAX_RECORD_BYTES + 1),
    );
    let report = ingest(&body).await.expect("a body with good records");
    let (accepted, refused) = ids(&report);
    assert_eq!(accepted, ["0", "1"]);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, "2");
    assert!(
        refused[0].1.contains(&format!("{}", MAX_RECORD_BYTES + 1))
            && refused[0].1.contains(&MAX_RECORD_BYTES.to_string()),
        "{refused:?}"
    );
}

fn audit_events(count: usize) -> String {
    let events: Vec<Value> = (0..count)
        .map(|index| {
            let data = json!({
                "version": "1.0",
                "userIdentity": {"type": "CustomUser", "principalId": "alice"},
                "eventSource": "app.example.com",
                "eventName": "Login",
                "eventTime": "2026-11-20T10:00:00Z",
                "UID": format!("uid-{index}"),
                "recipientAccountId": "123456789012"
            });
            json!({"id": format!("e{index}"), "eventData": data.to_string()})
        })
        .collect();
    json!({ "auditEvents": events }).to_string()
}

#[tokio::test]
async fn put_audit_events_takes_100_events_and_refuses_101() {
    let report = ingest(&audit_events(MAX_AUDIT_EVENTS))
        .await
        .expect("100 events");
    assert_eq!(report.answer.successful.len(), MAX_AUDIT_EVENTS);
    assert!(
        report.answer.failed.is_empty(),
        "{:?}",
        report.answer.failed
    );

    let error = body_error(ingest(&audit_events(MAX_AUDIT_EVENTS + 1)).await);
    assert_eq!(error.http_status(), 400);
    assert!(
        error
            .to_string()
            .contains("holds 101 events; PutAuditEvents takes 1 to 100"),
        "{error}"
    );
}

#[tokio::test]
async fn put_audit_events_over_1_mb_is_413() {
    let padding = " ".repeat(1024 * 1024);
    let body = format!("{}{padding}", audit_events(1));
    let error = body_error(ingest(&body).await);
    assert_eq!(error.http_status(), 413);
    assert!(
        error
            .to_string()
            .contains("over PutAuditEvents' limit of 1048576 bytes per request"),
        "{error}"
    );
}

/// A Function URL request as Lambda passes it, around `body` (already a JSON string).
fn function_url_request(body_json: &str, base64: bool) -> Box<RawValue> {
    RawValue::from_string(format!(
        r#"{{"version":"2.0","rawPath":"/","requestContext":{{"http":{{"method":"POST","path":"/"}}}},"body":{body_json},"isBase64Encoded":{base64}}}"#
    ))
    .expect("JSON")
}

#[test]
fn a_function_url_body_over_6_mb_is_413_before_it_is_decoded() {
    // Not even a valid string inside: refused on its length alone, before it is unescaped or
    // base64-decoded.
    let inner = "A".repeat(MAX_FUNCTION_URL_BODY_BYTES);
    for base64 in [false, true] {
        let payload = function_url_request(&format!("\"{inner}\""), base64);
        let error = function_url_body(&payload)
            .expect("a Function URL request")
            .expect_err("too large");
        assert_eq!(error.http_status(), 413);
        assert!(
            error
                .to_string()
                .contains("over a Function URL request's limit of 6291456 bytes"),
            "{error}"
        );
        let response: Value =
            serde_json::from_str(function_url_error_response(&error).expect("response").get())
                .expect("JSON");
        assert_eq!(response["statusCode"], 413);
    }
    // Just under the limit is read.
    let inner = "A".repeat(MAX_FUNCTION_URL_BODY_BYTES - 2);
    let payload = function_url_request(&format!("\"{inner}\""), false);
    let body = function_url_body(&payload)
        .expect("a Function URL request")
        .expect("under the limit");
    assert_eq!(body.len(), MAX_FUNCTION_URL_BODY_BYTES - 2);
}

/// A record `levels` deep: the record object, its requestParameters object, and arrays.
fn record_nested(id: usize, levels: usize) -> String {
    let arrays = levels - 2;
    record(id, json!({"deep": "HERE"})).to_string().replace(
        r#""HERE""#,
        &format!(r#"{}"\"[{{"{}"#, "[".repeat(arrays), "]".repeat(arrays)),
    )
}

#[tokio::test]
async fn a_record_nested_past_128_levels_is_refused_alone() {
    let body = format!(
        r#"{{"Records":[{},{},{},{}]}}"#,
        record(0, json!({})),
        record_nested(1, 128),
        record_nested(2, 129),
        record_nested(3, 100_000),
    );
    let report = ingest(&body).await.expect("the shallow records are taken");
    let (accepted, refused) = ids(&report);
    assert_eq!(accepted, ["0", "1"]);
    assert_eq!(
        refused,
        [
            (
                "2",
                "the record nests arrays and objects 129 levels deep, over the limit of 128"
            ),
            (
                "3",
                "the record nests arrays and objects 100000 levels deep, over the limit of 128"
            )
        ]
    );
}

#[tokio::test]
async fn huge_numbers_are_kept_with_their_exact_text() {
    let huge = format!("1{}", "0".repeat(5000));
    let body = format!(
        r#"{{"Records":[{}]}}"#,
        record(0, json!({"n": 1})).to_string().replace(
            r#""n":1"#,
            &format!(r#""n":{huge},"f":1e999999,"g":-0.000000000000000000000000001e-400"#)
        )
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    let config = config();
    store
        .create_bucket(&config.state_bucket)
        .await
        .expect("bucket");
    let report = Ingestor::new(&config, &store, "us-east-1", CHANNEL)
        .handle(&body, NOW)
        .await
        .expect("huge numbers are JSON");
    assert_eq!(ids(&report).0, ["0"]);
    let staged = std::fs::read_to_string(
        dir.path()
            .join(&config.state_bucket)
            .join(report.staged.first().expect("staged")),
    )
    .expect("staging object");
    assert!(staged.contains(&huge), "the number is kept digit for digit");
    assert!(staged.contains("1e999999"));
}

#[tokio::test]
async fn duplicate_keys_refuse_the_record_or_the_body_by_name() {
    let good = record(0, json!({}));
    let twice = record(1, json!({})).to_string().replacen(
        r#""eventName":"ListUsers""#,
        r#""eventName":"ListUsers","eventName":"DeleteTrail""#,
        1,
    );
    let report = ingest(&format!(r#"{{"Records":[{good},{twice}]}}"#))
        .await
        .expect("one bad record");
    let (accepted, refused) = ids(&report);
    assert_eq!(accepted, ["0"]);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "1");
    assert!(refused[0].1.contains("eventName"), "{refused:?}");

    let error = body_error(ingest(&format!(r#"{{"Records":[{good}],"Records":[]}}"#)).await);
    assert_eq!(error.http_status(), 400);
    assert!(error.to_string().contains("Records"), "{error}");
}

#[tokio::test]
async fn a_byte_order_mark_before_the_body_is_ignored() {
    let body = format!("\u{feff}{}", json!({"Records": [record(0, json!({}))]}));
    let report = ingest(&body)
        .await
        .expect("RFC 8259 lets a reader skip a BOM");
    assert_eq!(ids(&report).0, ["0"]);
}
