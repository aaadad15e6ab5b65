//! What the tests running `cairn` processes on an embedded store share: the command, the
//! records they ingest, and the checks of what deliver made of them.

// Each test binary that includes this uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use flate2::read::GzDecoder;

/// Where the sample configuration's main trail delivers its log files, below the store.
pub(crate) const TRAIL_LOGS: &str =
    "cairn-trail-123456789012/audit/AWSLogs/123456789012/CloudTrail";
/// Where ingest stages events, below the store.
pub(crate) const STAGING: &str = "cairn-state-123456789012/staging";

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cairn` with the sample configuration on the store at `store`, its clock at `now`, in the
/// repository (where the sample events are), output captured.
pub(crate) fn cairn(store: &Path, now: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .arg("--config")
        .arg(repo().join("cairn.yaml"))
        .arg("--store")
        .arg(store)
        .args(["--now", now])
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

pub(crate) fn finish(child: Child) -> Output {
    child.wait_with_output().expect("wait")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The eventID of [`good_record`] `id`.
pub(crate) fn good_event_id(id: usize) -> String {
    format!("6d1f0000-0000-4000-8000-{id:012}")
}

/// A compact management record the sample main trail takes, with eventTime in 09:00–10:00.
pub(crate) fn good_record(id: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","principalId":"AIDAKILLTEST","arn":"arn:aws:iam::123456789012:user/k","accountId":"123456789012","userName":"k"}},"eventTime":"2026-11-22T09:{:02}:{:02}Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"kill-test","requestParameters":{{"n":{id}}},"responseElements":null,"requestID":"r-{id}","eventID":"{}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}}"#,
        id / 60 % 60,
        id % 60,
        good_event_id(id)
    )
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    GzDecoder::new(std::fs::File::open(path).expect("log file"))
        .read_to_string(&mut text)
        .expect("gzip");
    text
}

/// Every file below `root`, any depth.
pub(crate) fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// The objects below `root`: every file but the `.cairn-tmp.*` ones the store writes before
/// renaming them into place. A process killed between the two leaves its temp file behind, a
/// full copy of the object it was writing; the store's listings skip it, and so must a count of
/// what was delivered, or a killed run's half-done put would look like a second delivery.
pub(crate) fn objects_under(root: &Path) -> Vec<PathBuf> {
    files_under(root)
        .into_iter()
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(".cairn-tmp."))
        })
        .collect()
}

/// Delivers on `store` at `now` until nothing is staged (a run takes one batch at a time).
pub(crate) fn deliver_everything(store: &Path, now: &str) {
    for _ in 0..20 {
        let output = finish(cairn(store, now, &["deliver"]).spawn().expect("deliver"));
        assert!(
            output.status.success(),
            "final deliver: {}",
            text(&output.stderr)
        );
        if objects_under(&store.join(STAGING)).is_empty() {
            return;
        }
    }
    panic!("events are still staged");
}

/// Checks that the main trail's log files hold exactly the `good` events (eventID to record
/// text), each once and byte-equal.
pub(crate) fn assert_delivered_once(store: &Path, good: &HashMap<String, String>) {
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for file in objects_under(&store.join(TRAIL_LOGS)) {
        let text = gunzip(&file);
        let log: serde_json::Value = serde_json::from_str(&text).expect("log file JSON");
        for record in log["Records"].as_array().expect("Records") {
            let id = record["eventID"].as_str().expect("eventID").to_owned();
            assert!(!id.starts_with("bad-"), "a refused event was delivered");
            let expected = good
                .get(&id)
                .unwrap_or_else(|| panic!("unknown event {id}"));
            assert!(text.contains(expected.as_str()), "{id} is not byte-equal");
            *delivered.entry(id).or_default() += 1;
        }
    }
    let missing: Vec<_> = good
        .keys()
        .filter(|id| !delivered.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}

/// Checks that `cairn validate-logs` at `now` finds the main trail's digests and log files
/// since 09:00 valid.
pub(crate) fn assert_validates(store: &Path, now: &str) {
    let validate = finish(
        cairn(
            store,
            now,
            &[
                "validate-logs",
                "--trail-arn",
                "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
                "--start-time",
                "2026-11-22T09:00:00Z",
            ],
        )
        .spawn()
        .expect("validate-logs"),
    );
    let report = text(&validate.stdout);
    assert!(
        validate.status.success(),
        "{report}{}",
        text(&validate.stderr)
    );
    assert!(report.contains("digest files valid"), "{report}");
}
