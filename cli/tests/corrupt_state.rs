//! State that is not what it should be: a corrupted or hand-edited journal, digest ledger,
//! public-key registry or progress marker is refused with an error naming the object and what
//! to do, and is left as it is, never reset (a reset would break exactly-once or fork the
//! chain). Also: two deliver runs with clocks minutes apart keep the lease rules and a valid
//! chain.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use cairn_shared::adapters::local::{LocalLogSink, LocalObjectStore};
use cairn_shared::config::Config;
use cairn_shared::forward::Forwarder;
use cairn_shared::service::Service;
use cairn_shared::trigger::ObjectCreated;
use support::{repo, text};
use time::macros::datetime;

const NOW: &str = "2026-11-22T10:00:00Z";
const NEXT_HOUR: &str = "2026-11-22T11:05:00Z";
const STATE: &str = "cairn-state-123456789012";

fn cairn(store: &Path, now: &str, args: &[&str]) -> Output {
    support::cairn(store, now, args)
        .output()
        .expect("cairn runs")
}

/// A store after `cairn run` over the samples, and its folder.
fn store_after_a_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let output = cairn(
        &store,
        NOW,
        &[
            "run",
            "events/ingest-records.json",
            "events/ingest-eventbridge.json",
            "events/ingest-audit-events.json",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    (dir, store)
}

fn ingest_more(store: &Path, now: &str) {
    let output = cairn(store, now, &["ingest", "events/ingest-eventbridge.json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// Overwrites `key` in the state bucket with `bytes`, runs `args`, and checks the run fails
/// naming the object and the `remedy`, and leaves the object as it was.
fn refused(store: &Path, key: &str, bytes: &[u8], now: &str, args: &[&str], remedy: &str) {
    let path = store.join(STATE).join(key);
    std::fs::write(&path, bytes).expect("corrupt the object");
    let output = cairn(store, now, args);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{args:?} took a corrupt {key}");
    assert!(stderr.contains(&format!("s3://{STATE}/{key}")), "{stderr}");
    assert!(stderr.contains("Cairn does not reset it"), "{stderr}");
    assert!(stderr.contains(remedy), "{stderr}");
    assert_eq!(
        std::fs::read(&path).expect("still there"),
        bytes,
        "{key} was changed"
    );
}

#[test]
fn a_corrupt_journal_stops_deliver_and_stays() {
    let (_dir, store) = store_after_a_run();
    ingest_more(&store, NOW);
    for bytes in [&b"{\"batch\": {\"id\": "[..], b"[]", b"\xff\xfe"] {
        refused(
            &store,
            "deliver/journal.json",
            bytes,
            NOW,
            &["deliver"],
            "Emptying it could deliver that batch twice",
        );
    }
}

#[test]
fn a_corrupt_digest_ledger_stops_deliver_and_stays() {
    let (_dir, store) = store_after_a_run();
    ingest_more(&store, NOW);
    refused(
        &store,
        "deliver/digests.json",
        b"{\"chains\": 7}",
        NOW,
        &["deliver"],
        "Emptying it would fork every chain",
    );
}

#[test]
fn a_corrupt_public_key_registry_stops_digests_and_validation_and_stays() {
    let (_dir, store) = store_after_a_run();
    // The registry is written with the first digest, after the hour.
    let output = cairn(&store, NEXT_HOUR, &["deliver"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let remedy = "Every signing key ever used must stay in it";
    refused(
        &store,
        "public-keys.json",
        b"{\"PublicKeyList\": [{\"Value\": 1}]}",
        NEXT_HOUR,
        &["list-public-keys"],
        remedy,
    );
    // A hand-edited key whose Value is not a key is refused as well.
    refused(
        &store,
        "public-keys.json",
        br#"{"PublicKeyList":[{"Value":"bm90IGEga2V5","ValidityStartTime":"2026-11-22T10:00:00Z","Fingerprint":"00"}]}"#,
        NEXT_HOUR,
        &[
            "validate-logs",
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
            "--start-time",
            "2026-11-22T09:00:00Z",
        ],
        remedy,
    );
}

#[tokio::test]
async fn a_corrupt_progress_marker_stops_forward_for_its_file_and_stays() {
    let (dir, store) = store_after_a_run();
    let config = Config::load(&repo().join("cairn.yaml")).expect("cairn.yaml");
    let markers = store.join(STATE).join("forward/progress");
    let marker = walk(&markers)
        .into_iter()
        .next()
        .expect("a progress marker");
    let relative = marker.strip_prefix(&markers).expect("under progress/");
    let mut parts = relative.iter();
    let bucket = parts
        .next()
        .expect("bucket")
        .to_str()
        .expect("UTF-8")
        .to_owned();
    let key = parts
        .map(|p| p.to_str().expect("UTF-8"))
        .collect::<Vec<_>>()
        .join("/");
    let key = key.strip_suffix(".json").expect(".json").to_owned();
    let bytes = b"{\"sha256\": \"x\", \"records\": \"many\"}";
    std::fs::write(&marker, bytes).expect("corrupt the marker");

    let objects = LocalObjectStore::new(store.clone());
    let sink = LocalLogSink::new(dir.path().join("logs"));
    let error = Forwarder::new(&config, &objects, &sink)
        .handle(
            &ObjectCreated::new(bucket, key.clone()),
            datetime!(2026-11-22 10:00 UTC),
        )
        .await
        .expect_err("a corrupt marker");
    let message = error.to_string();
    assert!(message.contains("forward/progress/"), "{message}");
    assert!(message.contains(&key), "{message}");
    assert!(
        message.contains("Delete the marker to forward the file again"),
        "{message}"
    );
    assert_eq!(std::fs::read(&marker).expect("still there"), bytes);
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Two deliver runs whose clocks are minutes apart: the one ahead may take over the batch of the
/// one behind, whose lease its clock says ran out; the one behind then stops with LeaseLost
/// rather than finish it too. Nothing is delivered twice or left staged, and the chain written
/// after both is valid.
#[test]
fn deliver_runs_with_clocks_minutes_apart_keep_the_lease_and_the_chain() {
    let (_dir, store) = store_after_a_run();
    for (now, behind) in [
        ("2026-11-22T10:10:00Z", "2026-11-22T10:03:00Z"),
        ("2026-11-22T10:20:00Z", "2026-11-22T10:27:00Z"),
    ] {
        ingest_more(&store, now);
        let ahead = support::cairn(&store, now, &["deliver"])
            .spawn()
            .expect("deliver");
        let other = cairn(&store, behind, &["deliver"]);
        let ahead = ahead.wait_with_output().expect("wait");
        for run in [ahead, other] {
            let stderr = text(&run.stderr);
            assert!(
                run.status.success() || stderr.contains("another deliver run took the batch over"),
                "{:?} {stderr} {}",
                run.status,
                text(&run.stdout)
            );
        }
    }
    let output = cairn(&store, NEXT_HOUR, &["deliver"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let staged = store.join(STATE).join("staging");
    assert!(
        !staged.exists() || walk(&staged).is_empty(),
        "events are still staged"
    );
    let mut event_ids = std::collections::HashSet::new();
    for file in walk(&store.join("cairn-trail-123456789012/audit/AWSLogs")) {
        if !file.to_string_lossy().contains("/CloudTrail/") {
            continue;
        }
        let mut json = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&file).expect("log file"))
            .read_to_string(&mut json)
            .expect("gzip");
        let log: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        for record in log["Records"].as_array().expect("Records") {
            let id = record["eventID"].as_str().expect("eventID");
            assert!(event_ids.insert(id.to_owned()), "{id} delivered twice");
        }
    }
    let validate = cairn(
        &store,
        NEXT_HOUR,
        &[
            "validate-logs",
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
            "--start-time",
            "2026-11-22T09:00:00Z",
        ],
    );
    let report = text(&validate.stdout);
    assert!(
        validate.status.success(),
        "{report}{}",
        text(&validate.stderr)
    );
    assert!(!report.contains("INVALID"), "{report}");
}
