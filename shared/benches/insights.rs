//! deliver with Insights on against off: the same 100,000 realistic records (the deliver
//! bench's) staged by ingest, delivered by a trail without InsightSelectors and by the same trail
//! with both Insights types. The two run in pairs, the order swapped from one pair to the next
//! (off first, then on first), so a drift of the machine's speed over the run weighs on both
//! alike. Each pair gives the ratio of its on time to its off time, by the clock and by the CPU
//! time the process spent (every thread's, from /proc/self/stat); the overhead printed is the
//! median of those ratios, with the lowest and highest. The fastest on run against the fastest
//! off run is printed too: this machine's noise only ever adds time, so the fastest runs are
//! the closest to the work itself. Last, the size of the counters documents Insights left in
//! the state bucket.

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/staged.rs"]
mod staged;
mod support;
#[path = "support/synthetic.rs"]
mod synthetic;

use std::time::Duration;

use cairn_shared::config::Config;
use cairn_shared::ports::object_store::ObjectStore;
use staged::{CONFIG, RECORDS, records, staged_store, timed_delivery};

/// Pairs of deliveries, one off and one on.
const PAIRS: usize = 21;

fn on() -> String {
    format!(
        "{CONFIG}    InsightSelectors:\n      - InsightType: ApiCallRateInsight\n      - InsightType: ApiErrorRateInsight\n"
    )
}

/// What one delivery took: by the clock, and in CPU time.
struct Took {
    wall: Duration,
    cpu: Duration,
}

/// One delivery of the records, staged first (untimed); returns what the delivery took and
/// the bytes of the Insights counters it left.
fn deliver_once(
    config: &Config,
    records: &[String],
    runtime: &tokio::runtime::Runtime,
) -> (Took, u64) {
    let (_dir, store) = staged_store(config, records, runtime);
    let cpu_before = cpu::process();
    let (wall, report) = timed_delivery(config, &store, runtime);
    let cpu = cpu::process() - cpu_before;
    assert_eq!(report.events, RECORDS);
    let counters = runtime
        .block_on(store.list_all("bench-state", "insights/"))
        .expect("list")
        .iter()
        .map(|entry| entry.size)
        .sum();
    (Took { wall, cpu }, counters)
}

/// The median, lowest and highest of the on/off `ratios`, as overheads in percent.
fn spread(mut ratios: Vec<f64>) -> String {
    ratios.sort_by(f64::total_cmp);
    let percent = |ratio: f64| (ratio - 1.0) * 100.0;
    format!(
        "{:+.1}% (median of {PAIRS} pairs; lowest {:+.1}%, highest {:+.1}%)",
        percent(ratios[ratios.len() / 2]),
        percent(ratios[0]),
        percent(ratios[ratios.len() - 1])
    )
}

fn main() {
    let records = records();
    let off = Config::from_yaml(CONFIG, "bench").expect("config");
    let on = Config::from_yaml(&on(), "bench").expect("config");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let (mut wall_off, mut wall_on) = (Vec::new(), Vec::new());
    let mut counter_bytes = 0;
    for pair in 0..PAIRS {
        let (took_off, took_on) = if pair % 2 == 0 {
            let took_off = deliver_once(&off, &records, &runtime).0;
            let (took_on, bytes) = deliver_once(&on, &records, &runtime);
            counter_bytes = bytes;
            (took_off, took_on)
        } else {
            let (took_on, bytes) = deliver_once(&on, &records, &runtime);
            counter_bytes = bytes;
            (deliver_once(&off, &records, &runtime).0, took_on)
        };
        wall.push(took_on.wall.as_secs_f64() / took_off.wall.as_secs_f64());
        cpu.push(took_on.cpu.as_secs_f64() / took_off.cpu.as_secs_f64());
        wall_off.push(took_off.wall.as_secs_f64());
        wall_on.push(took_on.wall.as_secs_f64());
    }
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let fastest = |times: &[f64]| times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "deliver {RECORDS} records, Insights off {:.3} s, on {:.3} s (medians); overhead by the clock {}, in CPU time {}; fastest on {:.3} s against fastest off {:.3} s: {:+.1}%; counters documents {counter_bytes} bytes",
        median(wall_off.clone()),
        median(wall_on.clone()),
        spread(wall),
        spread(cpu),
        fastest(&wall_on),
        fastest(&wall_off),
        (fastest(&wall_on) / fastest(&wall_off) - 1.0) * 100.0,
    );
}
