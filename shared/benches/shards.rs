//! deliver's scale-out on the embedded store: the same 100,000 realistic records (the Stratus
//! templates, over 8 accounts and 4 Regions, taken by one organization trail), staged by ingest
//! in requests of 1,000 for 1 shard and for 2, then delivered by one run per shard, each on its
//! own thread and runtime as each shard's Lambda invocation is on its own instance. Only the
//! delivery is timed, from the first run's start to the last one's end.
//!
//! Rounds alternate which shard count goes first; the figures are each count's median and
//! fastest round, and the ratio of the medians. The process's CPU time over each delivery is
//! printed too: the embedded store makes every change to a bucket under one file lock, with
//! its fsyncs, so on one machine the shards also wait for each other there, where on S3 and
//! Lambda they share nothing but the digest ledger; the CPU time says whether sharding added
//! work.

#[path = "support/cpu.rs"]
mod cpu;
// This bench stages its own configuration and times every shard's run itself.
#[allow(dead_code)]
#[path = "support/staged.rs"]
mod staged;
mod support;
#[path = "support/synthetic.rs"]
mod synthetic;

use std::time::{Duration, Instant};

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::Deliverer;
use cairn_shared::service::Service;
use time::macros::datetime;

const ROUNDS: usize = 7;
const ACCOUNTS: usize = 8;

fn config(shards: u16) -> Config {
    let yaml = format!(
        r#"
accountId: "111122223333"
stateBucket: bench-state
deliverShards: {shards}
trails:
  - Name: organization
    S3BucketName: bench-trail
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    IsOrganizationTrail: true
    OrganizationId: o-exampleorgid
"#
    );
    Config::from_yaml(&yaml, "bench").expect("config")
}

/// The deliver benches' records, spread over `ACCOUNTS` member accounts.
fn records() -> Vec<String> {
    staged::records()
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            record.replace(
                "\"recipientAccountId\":\"111122223333\"",
                // The Region is the record's position modulo 4: the account moves every 4
                // records, so every account has every Region.
                &format!(
                    "\"recipientAccountId\":\"1111222233{:02}\"",
                    (i / 4) % ACCOUNTS
                ),
            )
        })
        .collect()
}

/// Every shard's run at once, one thread each: the elapsed time, the process's CPU time, and
/// each shard's events.
fn deliver_all(config: &Config, store: &LocalObjectStore) -> (Duration, Duration, Vec<usize>) {
    let started = Instant::now();
    let cpu_before = cpu::process();
    let events = std::thread::scope(|scope| {
        let runs: Vec<_> = Deliverer::every_shard(config, store, None)
            .into_iter()
            .map(|deliverer| {
                scope.spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime")
                        .block_on(deliverer.handle(
                            &time::Duration::hours(1),
                            datetime!(2026-11-22 10:05:00 UTC),
                        ))
                        .expect("deliver")
                        .events
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("a shard's run"))
            .collect()
    });
    (started.elapsed(), cpu::process() - cpu_before, events)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this once as a smoke test.
    let rounds = if std::env::args().any(|arg| arg == "--bench") {
        ROUNDS
    } else {
        1
    };
    let records = records();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let configs = [config(1), config(2)];
    let mut seconds = [Vec::new(), Vec::new()];
    let mut cpu_seconds = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let config = &configs[which];
            let (_dir, store) = staged::staged_store(config, &records, &runtime);
            let (elapsed, cpu, events) = deliver_all(config, &store);
            assert_eq!(events.len(), usize::from(config.deliver_shards));
            // Each shard delivers its own part of every event: together, every record.
            assert!(events.iter().sum::<usize>() >= staged::RECORDS);
            println!(
                "round {round}: {} shard(s): {:.3} s, {:.2} CPU s, events per shard {events:?}",
                config.deliver_shards,
                elapsed.as_secs_f64(),
                cpu.as_secs_f64()
            );
            seconds[which].push(elapsed.as_secs_f64());
            cpu_seconds[which].push(cpu.as_secs_f64());
        }
    }
    for which in [0, 1] {
        let times = &seconds[which];
        let fastest = times.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "{} shard(s): median {:.3} s ({:.0} records/s), fastest {:.3} s ({:.0} records/s); CPU time, median {:.2} s",
            configs[which].deliver_shards,
            median(times.clone()),
            staged::RECORDS as f64 / median(times.clone()),
            fastest,
            staged::RECORDS as f64 / fastest,
            median(cpu_seconds[which].clone()),
        );
    }
    println!(
        "2 shards against 1: {:.2}x by the medians of the clock, on {} cores",
        median(seconds[0].clone()) / median(seconds[1].clone()),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
}
