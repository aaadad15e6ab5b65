//! deliver with Insights on against off: the same 100,000 realistic records (the deliver
//! bench's) staged by ingest, delivered by a trail without InsightSelectors and by the same trail
//! with both Insights types, alternately, five times each. Prints the median of each and the
//! overhead, and the size of the counters documents Insights left in the state bucket.

#[path = "support/staged.rs"]
mod staged;
mod support;
#[path = "support/synthetic.rs"]
mod synthetic;

use std::time::Duration;

use cairn_shared::config::Config;
use cairn_shared::ports::object_store::ObjectStore;
use staged::{CONFIG, RECORDS, records, staged_store, timed_delivery};

const RUNS: usize = 5;

fn on() -> String {
    format!(
        "{CONFIG}    InsightSelectors:\n      - InsightType: ApiCallRateInsight\n      - InsightType: ApiErrorRateInsight\n"
    )
}

/// One delivery of the records, staged first (untimed); returns the delivery's time and the
/// bytes of the Insights counters it left.
fn deliver_once(
    config: &Config,
    records: &[String],
    runtime: &tokio::runtime::Runtime,
) -> (Duration, u64) {
    let (_dir, store) = staged_store(config, records, runtime);
    let (elapsed, report) = timed_delivery(config, &store, runtime);
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
    let records = records();
    let off = Config::from_yaml(CONFIG, "bench").expect("config");
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
