//! deliver: 100,000 realistic records (the 310 real Stratus records as templates, each copy
//! with its own eventID, time, account and Region) staged by ingest in requests of 1,000, then
//! delivered to log files and the event history, on the embedded store and on a store in
//! memory (deliver's own work alone: no MD5 ETags, files or fsyncs). After each delivery, gzip
//! alone at the same level compresses the very bytes of the log files the delivery wrote (read
//! back untimed): the ratio of the deliveries to those runs is what everything but compression
//! costs.
//!
//! Also printed, for comparison with figures from before 2026-12-07: gzip of the same records
//! in arrival order, in chunks of a log file's size. deliver's files group the records by
//! account and Region in eventTime order, which deflate finds harder on these records, so that
//! older baseline flatters gzip.

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/memory_store.rs"]
mod memory_store;
#[path = "support/staged.rs"]
mod staged;
mod support;
#[path = "support/synthetic.rs"]
mod synthetic;

use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cairn_shared::config::Config;
use cairn_shared::delivery::MAX_RECORDS;
use cairn_shared::digest::GZIP_LEVEL;
use cairn_shared::ports::object_store::ObjectStore;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use memory_store::MemoryStore;
use staged::{CONFIG, RECORDS, records, stage, staged_store, timed_delivery};

/// Per store, what its deliveries and the gzip runs paired with them took, summed.
#[derive(Clone, Copy, Default)]
struct Paired {
    delivery: Duration,
    /// Every thread's CPU time during the deliveries.
    cpu: Duration,
    /// gzip alone on the log files' bytes.
    gzip: Duration,
    /// gzip alone on the records in arrival order (the baseline before 2026-12-07).
    gzip_arrival: Duration,
    deliveries: u32,
}

fn deliver(c: &mut Criterion) {
    let config = Config::from_yaml(CONFIG, "bench").expect("config");
    let records = records();
    let bytes: usize = records.iter().map(String::len).sum();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let trail_bucket = config.trails[0].bucket();
    // Each delivery is paired with runs of gzip alone right after it, so the ratio compares
    // the two on the machine as it was then: this machine's speed drifts by a fifth between
    // minutes, more than the ratio moves.
    let paired = Mutex::new([Paired::default(); 2]);
    let pair =
        |store_index: usize, store: &dyn ObjectStore, (delivery, cpu): (Duration, Duration)| {
            let bodies = log_file_bodies(store, trail_bucket, bytes, &runtime);
            let gzip = gzip_alone(bodies.iter().map(Vec::as_slice));
            let gzip_arrival = gzip_arrival_order(&records);
            let mut paired = paired.lock().unwrap();
            let sums = &mut paired[store_index];
            sums.delivery += delivery;
            sums.cpu += cpu;
            sums.gzip += gzip;
            sums.gzip_arrival += gzip_arrival;
            sums.deliveries += 1;
        };
    // A delivery's time by the clock and in CPU (every thread's).
    let measured = |store: &dyn ObjectStore| {
        let cpu_before = cpu::process();
        let (elapsed, report) = timed_delivery(&config, store, &runtime);
        assert_eq!(report.events, RECORDS);
        (elapsed, cpu::process() - cpu_before)
    };

    let mut group = c.benchmark_group("deliver 100k records");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("staging to log files and history", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (_dir, store) = staged_store(&config, &records, &runtime);
                let timed = measured(&store);
                total += timed.0;
                pair(0, &store, timed);
            }
            total
        })
    });
    group.bench_function("staging to log files and history, in memory", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let store = MemoryStore::default();
                stage(&config, &store, &records, &runtime);
                let timed = measured(&store);
                assert_eq!(store.count(&config.state_bucket, "staging/"), 0);
                total += timed.0;
                pair(1, &store, timed);
            }
            total
        })
    });
    group.finish();

    let paired = paired.lock().unwrap();
    for (store, sums) in ["the embedded store", "memory"].iter().zip(paired.iter()) {
        let seconds = |time: Duration| time.as_secs_f64() / f64::from(sums.deliveries.max(1));
        let (delivery, cpu, gzip, gzip_arrival) = (
            seconds(sums.delivery),
            seconds(sums.cpu),
            seconds(sums.gzip),
            seconds(sums.gzip_arrival),
        );
        let megabytes = bytes as f64 / 1e6;
        println!(
            "deliver on {store}: {:.0} events/s, {:.1} MB/s of records, {:.2} CPU-seconds ({:.2} cores busy); gzip alone on its log files: {:.1} MB/s; delivery time / gzip time = {:.2}; against gzip of the records in arrival order ({:.1} MB/s), {:.2} ({} records, {:.1} MB, {} deliveries each paired with gzip alone)",
            RECORDS as f64 / delivery,
            megabytes / delivery,
            cpu,
            cpu / delivery,
            megabytes / gzip,
            delivery / gzip,
            megabytes / gzip_arrival,
            delivery / gzip_arrival,
            RECORDS,
            megabytes,
            sums.deliveries,
        );
    }
}

/// The uncompressed bytes of every log file a delivery wrote to `bucket`, read back untimed.
fn log_file_bodies(
    store: &dyn ObjectStore,
    bucket: &str,
    record_bytes: usize,
    runtime: &tokio::runtime::Runtime,
) -> Vec<Vec<u8>> {
    runtime.block_on(async {
        let mut bodies = Vec::new();
        for entry in store.list_all(bucket, "").await.expect("list") {
            assert!(
                entry.key.ends_with(".json.gz"),
                "only log files: {}",
                entry.key
            );
            let gzip = store.get_body(bucket, &entry.key).await.expect("get");
            let mut body = Vec::new();
            GzDecoder::new(&gzip[..])
                .read_to_end(&mut body)
                .expect("a log file is gzip");
            bodies.push(body);
        }
        // Every record once, each file framed as `{"Records":[…]}` with commas between.
        let framing = br#"{"Records":[]}"#.len() - 1;
        assert_eq!(
            bodies.iter().map(Vec::len).sum::<usize>(),
            record_bytes + RECORDS + framing * bodies.len(),
            "the log files hold exactly the records"
        );
        bodies
    })
}

/// `bodies` compressed one by one, on one core, at deliver's level.
fn gzip_alone<'b>(bodies: impl Iterator<Item = &'b [u8]>) -> Duration {
    let started = Instant::now();
    for body in bodies {
        let mut gzip = GzEncoder::new(Vec::new(), Compression::new(GZIP_LEVEL));
        gzip.write_all(body).unwrap();
        black_box(gzip.finish().unwrap());
    }
    started.elapsed()
}

/// The records in arrival order, in log-file-sized chunks, compressed on one core at deliver's
/// level.
fn gzip_arrival_order(records: &[String]) -> Duration {
    let started = Instant::now();
    for chunk in records.chunks(MAX_RECORDS) {
        let mut gzip = GzEncoder::new(Vec::new(), Compression::new(GZIP_LEVEL));
        gzip.write_all(b"{\"Records\":[").unwrap();
        for (i, record) in chunk.iter().enumerate() {
            if i > 0 {
                gzip.write_all(b",").unwrap();
            }
            gzip.write_all(record.as_bytes()).unwrap();
        }
        gzip.write_all(b"]}").unwrap();
        black_box(gzip.finish().unwrap());
    }
    started.elapsed()
}

criterion_group!(benches, deliver);
criterion_main!(benches);
