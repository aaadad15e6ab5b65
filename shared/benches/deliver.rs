//! deliver: 100,000 realistic records (the 310 real Stratus records as templates, each copy
//! with its own eventID, time, account and Region) staged by ingest in requests of 1,000, then
//! delivered to log files and the event history, on the embedded store and on a store in
//! memory (deliver's own work alone: no MD5 ETags, files or fsyncs). In the same run, gzip
//! alone at the same level on the same records, chunked as the log files are: the ratio of a
//! delivery to it is what everything but compression costs.

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
    let timings = Mutex::new([(Duration::ZERO, 0u32); 3]);

    let mut group = c.benchmark_group("deliver 100k records");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("staging to log files and history", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (_dir, store) = staged_store(&config, &records, &runtime);
                let (elapsed, report) = timed_delivery(&config, &store, &runtime);
                total += elapsed;
                assert_eq!(report.events, RECORDS);
            }
            let mut t = timings.lock().unwrap();
            t[0].0 += total;
            t[0].1 += iterations as u32;
            total
        })
    });
    group.bench_function("staging to log files and history, in memory", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let store = MemoryStore::default();
                stage(&config, &store, &records, &runtime);
                let (elapsed, report) = timed_delivery(&config, &store, &runtime);
                total += elapsed;
                assert_eq!(report.events, RECORDS);
                assert_eq!(store.count(&config.state_bucket, "staging/"), 0);
            }
            let mut t = timings.lock().unwrap();
            t[2].0 += total;
            t[2].1 += iterations as u32;
            total
        })
    });
    // The same records, in log-file-sized chunks, compressed on one core.
    group.bench_function("gzip alone, same bytes and level", |b| {
        b.iter_custom(|iterations| {
            let started = Instant::now();
            for _ in 0..iterations {
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
            }
            let total = started.elapsed();
            let mut t = timings.lock().unwrap();
            t[1].0 += total;
            t[1].1 += iterations as u32;
            total
        })
    });
    group.finish();

    let t = timings.lock().unwrap();
    let mean = |(total, n): (Duration, u32)| total.as_secs_f64() / f64::from(n.max(1));
    let (delivery, gzip, in_memory) = (mean(t[0]), mean(t[1]), mean(t[2]));
    println!(
        "deliver: {:.0} events/s, {:.1} MB/s of records; gzip alone: {:.1} MB/s; delivery time / gzip time = {:.2} ({} records, {:.1} MB)",
        RECORDS as f64 / delivery,
        bytes as f64 / 1e6 / delivery,
        bytes as f64 / 1e6 / gzip,
        delivery / gzip,
        RECORDS,
        bytes as f64 / 1e6
    );
    println!(
        "deliver in memory: {:.0} events/s; delivery time / gzip time = {:.2}",
        RECORDS as f64 / in_memory,
        in_memory / gzip
    );
}

criterion_group!(benches, deliver);
criterion_main!(benches);
