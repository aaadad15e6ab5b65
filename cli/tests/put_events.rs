//! `cairn put-events` against a loopback Function URL that runs ingest's own code
//! (`function_url`'s answers around `Ingestor`): signed and unsigned, throttled first, and with
//! an event the answer asks to be sent again.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::ingest::{Ingestor, function_url_response};
use cairn_shared::service::Service;
use cairn_test_support::cloudtrail_stub::read_request;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One request as the endpoint saw it.
#[derive(Debug, Clone)]
struct Seen {
    authorization: Option<String>,
    body: String,
    status: u16,
}

/// What the endpoint does with the requests, in order: the first `throttle` get 429, and the
/// first answer marks the first event as failed with InternalFailure (not ingested).
struct Endpoint {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn start(throttle: usize, fail_first_event_once: bool) -> (Endpoint, tempfile::TempDir) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!(
        "http://{}/lambda-url/ingest/",
        listener.local_addr().expect("address")
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let config = Config::load(&repo().join("cairn.yaml")).expect("cairn.yaml");
        let store = LocalObjectStore::new(root);
        runtime
            .block_on(store.create_bucket(&config.state_bucket))
            .expect("state bucket");
        let channel = "arn:aws:cloudtrail:us-east-1:123456789012:channel/cairn";
        let ingestor = Ingestor::new(&config, &store, "us-east-1", channel);
        let now = time::macros::datetime!(2026-11-20 10:08:00 UTC);
        let mut failed_once = !fail_first_event_once;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((authorization, body)) = read_request(&stream, "authorization") else {
                continue;
            };
            let authorization = (!authorization.is_empty()).then_some(authorization);
            let body = String::from_utf8(body).expect("a UTF-8 body");
            let count = log.lock().expect("log").len();
            let (status, answer) = if count < throttle {
                (429, r#"{"Message":"Rate Exceeded."}"#.to_owned())
            } else {
                let mut report = runtime
                    .block_on(ingestor.handle(&body, now))
                    .expect("ingest takes the body");
                if !failed_once && !report.answer.successful.is_empty() {
                    failed_once = true;
                    let first = report.answer.successful.remove(0);
                    let failed = serde_json::json!({"successful": report.answer.successful,
                        "failed": [{"id": first.id, "errorCode": "InternalFailure", "errorMessage": "try again"}]});
                    (200, failed.to_string())
                } else {
                    let response = function_url_response(200, &report.answer).expect("a response");
                    let response: serde_json::Value =
                        serde_json::from_str(response.get()).expect("JSON");
                    (200, response["body"].as_str().expect("a body").to_owned())
                }
            };
            log.lock().expect("log").push(Seen {
                authorization,
                body,
                status,
            });
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (Endpoint { url, seen }, dir)
}

fn put_events(endpoint: &Endpoint, extra: &[&str], envs: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("put-events")
        .args(["--url", &endpoint.url])
        .args(extra)
        .args([
            "events/ingest-records.json",
            "events/ingest-eventbridge.json",
            "events/ingest-audit-events.json",
        ])
        .current_dir(repo())
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .envs(envs.iter().copied())
        .output()
        .expect("cairn runs");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn unsigned_to_a_local_endpoint_every_sample_event_is_taken() {
    let (endpoint, _dir) = start(0, false);
    let (ok, output) = put_events(&endpoint, &["--no-sign"], &[]);
    assert!(ok, "{output}");
    assert!(
        output.contains(&format!(
            "sent 15 events in 3 requests to {}: 15 accepted, 0 refused",
            endpoint.url
        )),
        "{output}"
    );
    let seen = endpoint.seen.lock().expect("log").clone();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|request| request.authorization.is_none()));
    assert!(
        seen[0].body.starts_with("{\"Records\":["),
        "{}",
        seen[0].body
    );
    assert!(seen[1].body.contains("\"detail-type\""));
    assert!(seen[2].body.starts_with("{\"auditEvents\":["));
}

#[test]
fn signed_for_lambda_throttling_is_waited_out_and_failed_events_are_sent_again() {
    let (endpoint, _dir) = start(2, true);
    let envs = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_REGION", "eu-west-1"),
    ];
    let (ok, output) = put_events(&endpoint, &["--region", "us-east-1"], &envs);
    assert!(ok, "{output}");
    assert!(
        output.contains(&format!(
            "sent 15 events in 4 requests to {}: 15 accepted, 0 refused",
            endpoint.url
        )),
        "{output}"
    );
    let seen = endpoint.seen.lock().expect("log").clone();
    let statuses: Vec<u16> = seen.iter().map(|request| request.status).collect();
    // Two 429s for the first request, then its answer with one event to send again, which is
    // the fourth request, alone; then the other two bodies.
    assert_eq!(statuses, [429, 429, 200, 200, 200, 200]);
    assert_eq!(seen[0].body, seen[2].body);
    let again: serde_json::Value = serde_json::from_str(&seen[3].body).expect("JSON");
    assert_eq!(again["Records"].as_array().map(Vec::len), Some(1));
    for request in &seen {
        let authorization = request.authorization.as_deref().expect("signed");
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                && authorization.contains("/us-east-1/lambda/aws4_request"),
            "{authorization}"
        );
    }
}
