//! Validating records and routing them to trails: the per-event work ingest does before staging;
//! and reading the staging object back, deliver's first step for every event.
//!
//! The 310 real Stratus Red Team records, parsed from their batch files and routed through the
//! repository's sample `cairn.yaml` (two trails, basic and advanced selectors).

mod support;

use std::hint::black_box;
use std::io::Write;

use cairn_shared::config::Config;
use cairn_shared::record::{Record, compact, split_batch};
use cairn_shared::staging::{self, StagedEvent};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::value::RawValue;
use support::{repo, stratus_batches};

fn validate_and_route(c: &mut Criterion) {
    let batches = stratus_batches();
    let config = Config::load(&repo().join("cairn.yaml")).expect("sample config");
    let records: usize = batches
        .iter()
        .map(|body| split_batch(body).expect("batch").len())
        .sum();
    let bytes: usize = batches.iter().map(String::len).sum();

    let mut group = c.benchmark_group("stratus records");
    group.throughput(Throughput::Elements(records as u64));
    group.bench_function("parse and validate", |b| {
        b.iter(|| {
            for body in &batches {
                for (i, raw) in split_batch(body).expect("batch").into_iter().enumerate() {
                    black_box(Record::parse(raw, Some(i)).expect("valid"));
                }
            }
        })
    });
    group.bench_function("parse, validate and route", |b| {
        b.iter(|| {
            let mut selected = 0usize;
            for body in &batches {
                for (i, raw) in split_batch(body).expect("batch").into_iter().enumerate() {
                    let record = Record::parse(raw, Some(i)).expect("valid");
                    selected += config
                        .trails
                        .iter()
                        .filter(|trail| trail.selects(&record, &config.account_id).is_some())
                        .count();
                }
            }
            black_box(selected)
        })
    });
    // All of ingest's work on an event before the put: the routing as staged, the record's
    // hash, and the staging object's bytes.
    group.bench_function("parse, validate, stage and encode", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            for body in &batches {
                let staged = stage(&config, split_batch(body).expect("batch"));
                bytes += staging::encode(&staged).len();
            }
            black_box(bytes)
        })
    });
    group.finish();

    println!("{records} records, {bytes} bytes of batch JSON per iteration");
}

/// Ingest's work on each record before the staging object: parse, validate and route it.
fn stage<'a>(
    config: &Config,
    raws: impl IntoIterator<Item = &'a RawValue>,
) -> Vec<StagedEvent<'a>> {
    raws.into_iter()
        .enumerate()
        .filter_map(|(i, raw)| {
            StagedEvent::route(config, &Record::parse(raw, Some(i)).expect("valid"))
        })
        .collect()
}

/// What storing records compact costs at ingest and saves in log files. The Stratus records are
/// pretty-printed, as a producer might send them; their compact form is what an SDK or a
/// CloudTrail log file sends, and takes the path with nothing to remove.
fn compact_records(c: &mut Criterion) {
    let batches = stratus_batches();
    let pretty: Vec<&str> = batches
        .iter()
        .flat_map(|body| split_batch(body).expect("batch"))
        .map(|raw| raw.get())
        .collect();
    let compacted: Vec<String> = batches
        .iter()
        .flat_map(|body| split_batch(body).expect("batch"))
        .map(|raw| compact(raw).get().to_owned())
        .collect();
    let log_file = |records: &[&str]| format!("{{\"Records\":[{}]}}", records.join(","));
    let gzipped = |text: &str| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text.as_bytes()).expect("gzip");
        encoder.finish().expect("gzip").len()
    };
    let compacted_refs: Vec<&str> = compacted.iter().map(String::as_str).collect();
    let (as_sent, as_compact) = (log_file(&pretty), log_file(&compacted_refs));
    println!(
        "{} records: log file {} bytes as sent, {} compact; gzip {} bytes as sent, {} compact",
        pretty.len(),
        as_sent.len(),
        as_compact.len(),
        gzipped(&as_sent),
        gzipped(&as_compact),
    );

    let mut group = c.benchmark_group("stratus records");
    group.throughput(Throughput::Elements(pretty.len() as u64));
    group.bench_function("compact pretty-printed", |b| {
        b.iter(|| {
            for body in &batches {
                for raw in split_batch(body).expect("batch") {
                    black_box(compact(raw));
                }
            }
        })
    });
    group.bench_function("compact, parse and validate pretty-printed", |b| {
        b.iter(|| {
            for body in &batches {
                for (i, raw) in split_batch(body).expect("batch").into_iter().enumerate() {
                    let raw = compact(raw);
                    black_box(Record::parse(&raw, Some(i)).expect("valid"));
                }
            }
        })
    });
    group.bench_function("compact already compact", |b| {
        b.iter(|| {
            for raw in split_batch(&as_compact).expect("batch") {
                black_box(compact(raw));
            }
        })
    });
    group.bench_function("parse and validate already compact", |b| {
        b.iter(|| {
            for (i, raw) in split_batch(&as_compact)
                .expect("batch")
                .into_iter()
                .enumerate()
            {
                black_box(Record::parse(raw, Some(i)).expect("valid"));
            }
        })
    });
    group.finish();
}

/// Reading a staging object of the Stratus records, compact, as ingest stages them now (each
/// record's length before it, so the record is taken without parsing it) and as an earlier
/// ingest did (the record parsed to find its end).
fn read_staging_object(c: &mut Criterion) {
    let config = Config::load(&repo().join("cairn.yaml")).expect("sample config");
    let batches = stratus_batches();
    let compacted: Vec<_> = batches
        .iter()
        .flat_map(|body| split_batch(body).expect("batch"))
        .map(|raw| compact(raw).into_owned())
        .collect();
    let staged = stage(&config, compacted.iter().map(|raw| raw.as_ref()));
    let now = staging::encode(&staged);
    let earlier: Vec<u8> = staged
        .iter()
        .flat_map(|event| {
            let line =
                String::from_utf8(staging::encode(std::slice::from_ref(event))).expect("UTF-8");
            line.replace(&format!(",\"recordBytes\":{}", event.record.len()), "")
                .into_bytes()
        })
        .collect();
    println!(
        "{} staged events: {} bytes as staged now, {} as staged before recordBytes",
        staged.len(),
        now.len(),
        earlier.len()
    );

    let mut group = c.benchmark_group("staging object");
    group.throughput(Throughput::Elements(staged.len() as u64));
    for (name, body) in [
        ("read, as staged now", &now),
        ("read, as staged before recordBytes", &earlier),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(staging::read_staged("staging/bench.jsonl", body).expect("read")))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    validate_and_route,
    compact_records,
    read_staging_object
);
criterion_main!(benches);
