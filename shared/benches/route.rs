//! Validating records and routing them to trails: the per-event work ingest does before staging.
//!
//! The 310 real Stratus Red Team records, parsed from their batch files and routed through the
//! repository's sample `cairn.yaml` (two trails, basic and advanced selectors).

mod support;

use std::hint::black_box;

use cairn_shared::config::Config;
use cairn_shared::record::{Record, split_batch};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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
    group.finish();

    println!("{records} records, {bytes} bytes of batch JSON per iteration");
}

criterion_group!(benches, validate_and_route);
criterion_main!(benches);
