//! deliver with Insights on against off: the same 100,000 realistic records (the deliver
//! bench's) staged by ingest, delivered by a trail without InsightSelectors and by the same trail
//! with both Insights types, alternately, five times each. Prints the median of each and the
//! overhead, and the size of the counters documents Insights left in the state bucket.

mod support;
#[path = "support/synthetic.rs"]
mod synthetic;

use std::time::{Duration, Instant};

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::Deliverer;
use cairn_shared::ingest::Ingestor;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::service::Service;
use time::macros::datetime;

const RECORDS: usize = 100_000;
const PER_REQUEST: usize = 1_000;
const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"];
const RUNS: usize = 5;

const OFF: &str = r#"
accountId: "111122223333"
stateBucket: bench-state
trails:
  - Name: everything
    S3BucketName: bench-trail
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
"#;

fn on() -> String {
    format!(
        "{OFF}    InsightSelectors:\n      - InsightType: ApiCallRateInsight\n      - InsightType: ApiErrorRateInsight\n"
    )
}

/// One delivery of the records, staged first (untimed); returns the delivery's time and the
/// bytes of the Insights counters it left.
fn deliver_once(
    config: &Config,
    records: &[String],
    runtime: &tokio::runtime::Runtime,
) -> (Duration, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    let now = datetime!(2026-11-22 10:00:00 UTC);
    let ingestor = Ingestor::new(
        config,
        &store,
        "us-east-1",
        "arn:aws:cloudtrail:us-east-1:111122223333:channel/bench",
    );
    runtime.block_on(async {
        for bucket in ["bench-state", "bench-trail"] {
            store.create_bucket(bucket).await.expect("bucket");
        }
        for chunk in records.chunks(PER_REQUEST) {
            let body = format!("{{\"Records\":[{}]}}", chunk.join(","));
            let done = ingestor.handle(&body, now).await.expect("ingest");
            assert!(done.answer.failed.is_empty());
        }
    });
    let started = Instant::now();
    let report = runtime
        .block_on(Deliverer::new(config, &store, None).handle(
            &time::Duration::hours(1),
            datetime!(2026-11-22 10:05:00 UTC),
        ))
        .expect("deliver");
    let elapsed = started.elapsed();
    assert_eq!(report.events, RECORDS);
    let counters = runtime
        .block_on(store.list_all("bench-state", "insights/"))
        .expect("list")
        .iter()
        .map(|entry| entry.size)
        .sum();
    (elapsed, counters)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let start = datetime!(2026-11-22 09:00:00 UTC).unix_timestamp();
    let records = synthetic::records(
        RECORDS,
        |i| start + (i as i64) / 30,
        |i| REGIONS[i % REGIONS.len()],
    );
    let off = Config::from_yaml(OFF, "bench").expect("config");
    let on = Config::from_yaml(&on(), "bench").expect("config");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (mut times_off, mut times_on) = (Vec::new(), Vec::new());
    let mut counter_bytes = 0;
    for _ in 0..RUNS {
        times_off.push(deliver_once(&off, &records, &runtime).0);
        let (time, bytes) = deliver_once(&on, &records, &runtime);
        times_on.push(time);
        counter_bytes = bytes;
    }
    let (off, on) = (median(times_off), median(times_on));
    println!(
        "deliver {RECORDS} records: Insights off {:.3} s, on {:.3} s (median of {RUNS}): overhead {:+.1}%; counters documents {counter_bytes} bytes",
        off.as_secs_f64(),
        on.as_secs_f64(),
        (on.as_secs_f64() / off.as_secs_f64() - 1.0) * 100.0
    );
}
