//! Processes killed for real: several `cairn ingest` and `cairn deliver` processes at once on
//! one embedded store, with deliver runs sent SIGKILL at random moments, then a final deliver
//! after the leases expire. Every good event is delivered exactly once and byte-equal, every
//! bad one refused with its reason, nothing stays staged, and the digest chain validates.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use flate2::read::GzDecoder;

/// The runs' clock: every concurrent run in one hour, the final deliver after the leases
/// (two minutes) and the hour are over, so it also writes the hour's digest.
const NOW: &str = "2026-11-22T10:00:00Z";
const FINAL: &str = "2026-11-22T11:05:00Z";
const ROUNDS: usize = 6;
const FILES_PER_ROUND: usize = 3;
const GOOD_PER_FILE: usize = 40;
const DELIVERS_PER_ROUND: usize = 3;
const TRAIL_LOGS: &str = "cairn-trail-123456789012/audit/AWSLogs/123456789012/CloudTrail";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cairn(store: &Path, now: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .arg("--config")
        .arg(repo().join("cairn.yaml"))
        .arg("--store")
        .arg(store)
        .args(["--now", now])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A small deterministic generator, so a failing run can be repeated from its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// A compact management record the sample main trail takes.
fn good_record(id: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","principalId":"AIDAKILLTEST","arn":"arn:aws:iam::123456789012:user/k","accountId":"123456789012","userName":"k"}},"eventTime":"2026-11-22T09:{:02}:{:02}Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"kill-test","requestParameters":{{"n":{id}}},"responseElements":null,"requestID":"r-{id}","eventID":"6d1f0000-0000-4000-8000-{id:012}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}}"#,
        id / 60 % 60,
        id % 60
    )
}

/// A record without an eventTime: refused by ingest, naming the field.
fn bad_record(id: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.11","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","eventID":"bad-{id}","eventType":"AwsApiCall"}}"#
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    GzDecoder::new(std::fs::File::open(path).expect("log file"))
        .read_to_string(&mut text)
        .expect("gzip");
    text
}

fn files_under(root: &Path) -> Vec<PathBuf> {
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

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("wait")
}

#[test]
fn deliver_runs_killed_at_random_lose_and_duplicate_nothing() {
    let seed = std::env::var("CAIRN_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00c0_ffee_u64);
    eprintln!("kill test seed {seed} (CAIRN_KILL_SEED repeats it)");
    let mut random = Lcg(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).expect("inputs");

    let mut good: HashMap<String, String> = HashMap::new();
    let mut bad_expected = 0;
    let mut killed = 0;
    let mut next_id = 0;
    for round in 0..ROUNDS {
        let mut ingests = Vec::new();
        for file in 0..FILES_PER_ROUND {
            let mut records = Vec::new();
            for _ in 0..GOOD_PER_FILE {
                let record = good_record(next_id);
                good.insert(
                    format!("6d1f0000-0000-4000-8000-{next_id:012}"),
                    record.clone(),
                );
                records.push(record);
                next_id += 1;
            }
            records.insert(GOOD_PER_FILE / 2, bad_record(next_id));
            bad_expected += 1;
            next_id += 1;
            let path = inputs.join(format!("round{round}-file{file}.json"));
            std::fs::write(&path, format!(r#"{{"Records":[{}]}}"#, records.join(",")))
                .expect("input");
            ingests.push(
                cairn(&store, NOW, &["ingest", path.to_str().expect("path")])
                    .spawn()
                    .expect("cairn ingest"),
            );
        }
        let mut delivers: Vec<(Child, Option<Duration>)> = (0..DELIVERS_PER_ROUND)
            .map(|_| {
                let child = cairn(&store, NOW, &["deliver"])
                    .spawn()
                    .expect("cairn deliver");
                // Two of three are killed, each at its own moment in its first 400 ms.
                let kill_at =
                    (random.next(3) != 0).then(|| Duration::from_millis(random.next(400)));
                (child, kill_at)
            })
            .collect();
        let started = Instant::now();
        let mut pending: Vec<usize> = (0..delivers.len()).collect();
        while !pending.is_empty() {
            pending.retain(|&index| {
                let (child, kill_at) = &mut delivers[index];
                if child.try_wait().expect("try_wait").is_some() {
                    return false;
                }
                match kill_at {
                    Some(at) if started.elapsed() >= *at => {
                        // std's kill is SIGKILL on Unix.
                        child.kill().expect("SIGKILL");
                        killed += 1;
                        false
                    }
                    _ => true,
                }
            });
            std::thread::sleep(Duration::from_millis(5));
        }
        for (child, _) in delivers {
            let _ = finish(child);
        }
        for ingest in ingests {
            let output = finish(ingest);
            // Exit 1: an event was refused, as the bad one is.
            assert_eq!(
                output.status.code(),
                Some(1),
                "ingest: {}",
                text(&output.stderr)
            );
            let stdout = text(&output.stdout);
            assert!(
                stdout.contains(&format!(
                    "{GOOD_PER_FILE} events accepted ({GOOD_PER_FILE} staged for delivery), 1 refused"
                )),
                "{stdout}"
            );
            let stderr = text(&output.stderr);
            assert!(
                stderr.contains(&format!("refused id {}: InvalidData:", GOOD_PER_FILE / 2))
                    && stderr.contains("eventTime missing"),
                "{stderr}"
            );
        }
    }
    eprintln!("{killed} deliver runs killed");
    assert!(killed > 0, "the seed killed no run");

    // After the leases: deliver until nothing is left (a run takes one batch at a time).
    for _ in 0..20 {
        let output = finish(cairn(&store, FINAL, &["deliver"]).spawn().expect("deliver"));
        assert!(
            output.status.success(),
            "final deliver: {}",
            text(&output.stderr)
        );
        if files_under(&store.join("cairn-state-123456789012/staging")).is_empty() {
            break;
        }
    }
    assert!(
        files_under(&store.join("cairn-state-123456789012/staging")).is_empty(),
        "events are still staged"
    );

    let mut delivered: HashMap<String, usize> = HashMap::new();
    for file in files_under(&store.join(TRAIL_LOGS)) {
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
    assert_eq!(delivered.len(), ROUNDS * FILES_PER_ROUND * GOOD_PER_FILE);
    assert_eq!(bad_expected, ROUNDS * FILES_PER_ROUND);

    let validate = finish(
        cairn(
            &store,
            FINAL,
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
