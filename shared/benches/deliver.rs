//! deliver: 100,000 realistic records (the 310 real Stratus records as templates, each copy
//! with its own eventID, time, account and Region) staged by ingest in requests of 1,000, then
//! delivered to log files and the event history, on the embedded store and on a store in
//! memory (deliver's own work alone: no MD5 ETags, files or fsyncs). After each delivery, gzip
//! alone at the same level on the same records, chunked as the log files are: the ratio of the
//! deliveries to those runs is what everything but compression costs.

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
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cairn_shared::config::Config;
use cairn_shared::delivery::MAX_RECORDS;
use cairn_shared::digest::GZIP_LEVEL;
use cairn_shared::ports::object_store::ObjectStore;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::write::GzEncoder;
use memory_store::MemoryStore;
use staged::{CONFIG, RECORDS, records, stage, staged_store, timed_delivery};

fn deliver(c: &mut Criterion) {
    let config = Config::from_yaml(CONFIG, "bench").expect("config");
    let records = records();
    let bytes: usize = records.iter().map(String::len).sum();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Per store: (delivery time, its CPU time, gzip time, deliveries). Each delivery is paired
    // with a run of gzip alone right after it, so the ratio compares the two on the machine as
    // it was then: this machine's speed drifts by a fifth between minutes, more than the ratio
    // moves.
    let paired = Mutex::new([(Duration::ZERO, Duration::ZERO, Duration::ZERO, 0u32); 2]);
    let pair = |store: usize, (delivery, cpu): (Duration, Duration)| {
        let gzip = gzip_alone(&records);
        let mut paired = paired.lock().unwrap();
        paired[store].0 += delivery;
        paired[store].1 += cpu;
        paired[store].2 += gzip;
        paired[store].3 += 1;
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
                pair(0, timed);
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
                pair(1, timed);
            }
            total
        })
    });
    group.finish();

    let paired = paired.lock().unwrap();
    let seconds = |time: Duration, n: u32| time.as_secs_f64() / f64::from(n.max(1));
    for (store, (delivery, cpu, gzip, n)) in
        ["the embedded store", "memory"].iter().zip(paired.iter())
    {
        let (delivery, cpu, gzip) = (
            seconds(*delivery, *n),
            seconds(*cpu, *n),
            seconds(*gzip, *n),
        );
        println!(
            "deliver on {store}: {:.0} events/s, {:.1} MB/s of records, {:.2} CPU-seconds ({:.2} cores busy); gzip alone: {:.1} MB/s; delivery time / gzip time = {:.2} ({} records, {:.1} MB, {n} deliveries each paired with gzip alone)",
            RECORDS as f64 / delivery,
            bytes as f64 / 1e6 / delivery,
            cpu,
            cpu / delivery,
            bytes as f64 / 1e6 / gzip,
            delivery / gzip,
            RECORDS,
            bytes as f64 / 1e6
        );
    }
}

/// The same records, in log-file-sized chunks, compressed on one core at deliver's level.
fn gzip_alone(records: &[String]) -> Duration {
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
