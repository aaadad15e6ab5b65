//! Processes killed for real: several `cairn ingest` and `cairn deliver` processes at once on
//! one embedded store, with deliver runs sent SIGKILL at random moments, then a final deliver
//! after the leases expire. Every good event is delivered exactly once and byte-equal, every
//! bad one refused with its reason, nothing stays staged, and the digest chain validates.

mod support;

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

use support::{
    TRAIL_LOGS, assert_delivered_once, assert_validates, cairn, deliver_everything, files_under,
    finish, good_event_id, good_record, objects_under, text,
};

/// The runs' clock: every concurrent run in one hour, the final deliver after the leases
/// (two minutes) and the hour are over, so it also writes the hour's digest.
const NOW: &str = "2026-11-22T10:00:00Z";
const FINAL: &str = "2026-11-22T11:05:00Z";
const ROUNDS: usize = 6;
const FILES_PER_ROUND: usize = 3;
const GOOD_PER_FILE: usize = 40;
const DELIVERS_PER_ROUND: usize = 3;

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

/// A record without an eventTime: refused by ingest, naming the field.
fn bad_record(id: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.11","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","eventID":"bad-{id}","eventType":"AwsApiCall"}}"#
    )
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
                good.insert(good_event_id(next_id), record.clone());
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

    // After the leases: deliver until nothing is left.
    deliver_everything(&store, FINAL);
    let logs = store.join(TRAIL_LOGS);
    eprintln!(
        "{} temp files left in the log folders by puts killed before their rename",
        files_under(&logs).len() - objects_under(&logs).len()
    );
    assert_delivered_once(&store, &good);
    assert_eq!(good.len(), ROUNDS * FILES_PER_ROUND * GOOD_PER_FILE);
    assert_eq!(bad_expected, ROUNDS * FILES_PER_ROUND);
    assert_validates(&store, FINAL);
}
