//! A full disk under the embedded store: `cairn ingest` on a store on a 1 MiB tmpfs, until the
//! disk is full. A body that no longer fits is refused with an error naming the object and the
//! full disk; deliver on the full disk fails the same way. Nothing half-written stays behind to
//! be taken for an object, and once space is freed every event acknowledged as accepted is
//! delivered, once and byte-equal, with a valid digest chain.
//!
//! The tmpfs is mounted in a mount namespace of its own (`unshare`), so nothing outlives the
//! test: the test runs itself again inside one. Without permission to do that it says it did
//! not run, unless `CAIRN_REQUIRE_TMPFS` is set (scripts/test.sh sets it), where that fails it.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use support::{
    STAGING, assert_delivered_once, assert_validates, cairn, deliver_everything, files_under,
    finish, good_event_id, good_record, text,
};

const NAME: &str = "a_full_disk_is_named_and_loses_no_accepted_event";
/// Set to the test's folder when it runs inside its mount namespace.
const INSIDE: &str = "CAIRN_FULL_DISK_FOLDER";
/// Set where the test must run (it fails rather than saying it did not).
const REQUIRED: &str = "CAIRN_REQUIRE_TMPFS";
/// The inner run's exit status when it could not mount the tmpfs.
const CANNOT_MOUNT: i32 = 77;

const NOW: &str = "2026-11-22T10:00:00Z";
/// After the hour: the deliver runs also write its digest.
const FINAL: &str = "2026-11-22T11:05:00Z";
const RECORDS_PER_BODY: usize = 100;
/// Far more bodies than fit in 1 MiB (each stages about 60 KB).
const MAX_BODIES: usize = 60;
/// What the local store says when the disk is full.
const DISK_FULL: &str = "the disk holding the store is full";
/// The OS's own words for it (ENOSPC).
const ENOSPC: &str = "No space left on device";

#[test]
fn a_full_disk_is_named_and_loses_no_accepted_event() {
    if let Some(folder) = std::env::var_os(INSIDE) {
        return inside_the_namespace(Path::new(&folder));
    }
    let folder = tempfile::tempdir().expect("tempdir");
    let test = std::env::current_exe().expect("the test binary");
    // Root can make a mount namespace directly; anyone else through a user namespace.
    let mut outcome = None;
    for namespace in [&["--mount"][..], &["--user", "--map-root-user", "--mount"]] {
        let status = Command::new("unshare")
            .args(namespace)
            .arg("--")
            .arg(&test)
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(INSIDE, folder.path())
            .status();
        match status {
            // 1: unshare itself failed (the test harness exits 101 on a failure).
            Ok(status) if matches!(status.code(), Some(1 | CANNOT_MOUNT)) => {
                outcome = Some(format!("unshare {namespace:?}: {status}"));
            }
            Ok(status) => {
                assert!(status.success(), "the test failed inside its namespace");
                return;
            }
            Err(error) => outcome = Some(format!("unshare: {error}")),
        }
    }
    let why = outcome.expect("tried");
    assert!(
        std::env::var_os(REQUIRED).is_none(),
        "{NAME} is required ({REQUIRED}) but cannot mount a tmpfs: {why}"
    );
    eprintln!("NOT RUN: {NAME} cannot mount a tmpfs here ({why}); {REQUIRED} makes it required");
}

fn mount_tmpfs(at: &Path, size: &str, remount: bool) -> bool {
    let options = if remount {
        format!("remount,size={size}")
    } else {
        format!("size={size}")
    };
    let output = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &options, "tmpfs"])
        .arg(at)
        .output()
        .expect("mount runs");
    if !output.status.success() {
        eprintln!(
            "mount -o {options} {}: {}",
            at.display(),
            text(&output.stderr)
        );
    }
    output.status.success()
}

fn inside_the_namespace(folder: &Path) {
    let disk = folder.join("disk");
    std::fs::create_dir_all(&disk).expect("mount point");
    if !mount_tmpfs(&disk, "1m", false) {
        std::process::exit(CANNOT_MOUNT);
    }
    let store = disk.join("store");
    let inputs = folder.join("inputs");
    std::fs::create_dir_all(&inputs).expect("inputs");

    // Ingest until the disk is full, then once more.
    let mut accepted: HashMap<String, String> = HashMap::new();
    let mut refused = Vec::new();
    let mut next_id = 0;
    for body in 0..MAX_BODIES {
        let records: Vec<(String, String)> = (0..RECORDS_PER_BODY)
            .map(|_| {
                next_id += 1;
                (good_event_id(next_id), good_record(next_id))
            })
            .collect();
        let joined: Vec<&str> = records.iter().map(|(_, record)| record.as_str()).collect();
        let path = inputs.join(format!("body{body}.json"));
        std::fs::write(&path, format!(r#"{{"Records":[{}]}}"#, joined.join(","))).expect("input");
        let output = finish(
            cairn(&store, NOW, &["ingest", path.to_str().expect("path")])
                .spawn()
                .expect("cairn ingest"),
        );
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        if output.status.success() {
            assert!(
                stdout.contains(&format!(
                    "{RECORDS_PER_BODY} events accepted ({RECORDS_PER_BODY} staged for delivery), 0 refused"
                )),
                "{stdout}"
            );
            accepted.extend(records);
            continue;
        }
        // Refused as a whole, naming the staging object it could not write and why.
        assert!(
            stdout.contains("0 events accepted (0 staged for delivery), 1 refused"),
            "{stdout}{stderr}"
        );
        let named = stderr
            .split_whitespace()
            .any(|word| word.starts_with("s3://cairn-state-123456789012/staging/"));
        assert!(
            named && stderr.contains(DISK_FULL) && stderr.contains(ENOSPC),
            "{stderr}"
        );
        eprintln!("body {body} refused: {stderr}");
        refused.push(body);
        if refused.len() == 2 {
            break;
        }
    }
    assert_eq!(refused.len(), 2, "the disk never filled");
    assert!(!accepted.is_empty());
    eprintln!(
        "{} bodies accepted ({} events) before the disk was full; bodies {refused:?} refused",
        accepted.len() / RECORDS_PER_BODY,
        accepted.len()
    );

    // Deliver on the full disk cannot write the log file: it says why and keeps the events.
    let staged = files_under(&store.join(STAGING));
    let output = finish(cairn(&store, NOW, &["deliver"]).spawn().expect("deliver"));
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "deliver wrote on a full disk");
    assert!(
        stderr.contains("s3://cairn-") && stderr.contains(DISK_FULL),
        "{stderr}"
    );
    assert_eq!(
        files_under(&store.join(STAGING)),
        staged,
        "staged events lost"
    );
    eprintln!("deliver on the full disk: {stderr}");

    // Nothing half-written: no temporary file is left, and every object has its metadata.
    let files = files_under(&store);
    let leftovers: Vec<_> = files
        .iter()
        .filter(|path| path.to_string_lossy().contains(".cairn-tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let meta = store.join(".cairn-meta");
    for file in &files {
        let relative = file.strip_prefix(&store).expect("below the store");
        // Buckets are the store's folders; its own files are in dot-folders.
        if relative.to_string_lossy().starts_with('.') {
            continue;
        }
        let mut sidecar = meta.join(relative).into_os_string();
        sidecar.push(".json");
        assert!(
            Path::new(&sidecar).is_file(),
            "{} has no metadata",
            file.display()
        );
    }

    // Space freed: everything accepted is delivered, once, and the chain is valid.
    assert!(mount_tmpfs(&disk, "64m", true), "remount bigger");
    deliver_everything(&store, FINAL);
    assert_delivered_once(&store, &accepted);
    assert_validates(&store, FINAL);
}
