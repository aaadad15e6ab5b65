//! validate-logs on the embedded store: one chain of 24 hourly digests over 100,000 realistic
//! records (the real Stratus records as templates), delivered by ingest and deliver twice an
//! hour and signed with an RSA-2048 key, then validated in full: every digest verified, every
//! log file read, inflated and hashed, the log folders listed for unlisted files.

mod support;
#[path = "support/synthetic.rs"]
mod synthetic;

use std::time::{Duration, Instant};

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::adapters::local::PemSigner;
use cairn_shared::config::Config;
use cairn_shared::delivery::Deliverer;
use cairn_shared::ingest::Ingestor;
use cairn_shared::public_keys;
use cairn_shared::record::EventTime;
use cairn_shared::service::Service;
use cairn_shared::validate::{FileKind, NoProgress, Request, TrailArn, validate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::OffsetDateTime;
use time::macros::datetime;

const RECORDS: usize = 100_000;
const HOURS: i64 = 24;
const RUNS: i64 = HOURS * 2;
const PER_REQUEST: usize = 1_000;
const T0: OffsetDateTime = datetime!(2026-11-22 00:00:00 UTC);

const CONFIG: &str = r#"
accountId: "111122223333"
stateBucket: bench-state
trails:
  - Name: busy
    S3BucketName: bench-trail
    HomeRegion: us-east-1
    EnableLogFileValidation: true
"#;

/// A store holding the delivered day: each half hour's records arrive in its first 25 minutes
/// and are delivered at minute 26; a last run cuts the 24th digest.
fn delivered_day(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
) -> (tempfile::TempDir, LocalObjectStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().join("store"));
    let per_run = RECORDS.div_ceil(RUNS as usize);
    let run_start = |run: i64| T0 + time::Duration::minutes(30 * run);
    let records = synthetic::records(
        RECORDS,
        |i| {
            let run = (i / per_run) as i64;
            run_start(run).unix_timestamp() + ((i % per_run) * 1500 / per_run) as i64
        },
        |_| "us-east-1",
    );
    runtime.block_on(async {
        let signer = PemSigner::open_or_create(dir.path().join("key.pem"))
            .await
            .expect("key");
        for bucket in ["bench-state", "bench-trail"] {
            store.create_bucket(bucket).await.expect("bucket");
        }
        let deliver = |now: OffsetDateTime| {
            let deliverer = Deliverer::new(config, &store, Some(&signer));
            async move {
                deliverer
                    .handle(&time::Duration::hours(1), now)
                    .await
                    .expect("deliver")
            }
        };
        let ingestor = Ingestor::new(
            config,
            &store,
            "us-east-1",
            "arn:aws:cloudtrail:us-east-1:111122223333:channel/bench",
        );
        for (run, chunk) in (0..RUNS).zip(records.chunks(per_run)) {
            let now = run_start(run) + time::Duration::minutes(26);
            for request in chunk.chunks(PER_REQUEST) {
                let body = format!("{{\"Records\":[{}]}}", request.join(","));
                let done = ingestor.handle(&body, now).await.expect("ingest");
                assert!(done.answer.failed.is_empty());
            }
            deliver(now).await;
        }
        deliver(run_start(RUNS) + time::Duration::minutes(10)).await;
    });
    (dir, store)
}

fn bench(c: &mut Criterion) {
    let config = Config::from_yaml(CONFIG, "bench").expect("config");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (_dir, store) = delivered_day(&config, &runtime);
    let keys = runtime
        .block_on(public_keys::load(&store, "bench-state"))
        .expect("keys");
    let at = |time: OffsetDateTime| EventTime::from_unix_seconds(time.unix_timestamp());
    let request = Request {
        trail: TrailArn::parse(config.trails[0].arn()).expect("arn"),
        bucket: "bench-trail".to_owned(),
        prefix: None,
        organization_id: None,
        account: "111122223333".to_owned(),
        regions: None,
        copy_without_metadata: false,
        start: at(T0),
        end: at(T0 + time::Duration::hours(HOURS)),
    };
    let check = runtime
        .block_on(validate(&store, &keys, &request, &NoProgress))
        .expect("validate");
    assert!(check.is_valid());
    assert_eq!(check.count(FileKind::Digest, true), HOURS as usize);
    let log_files = check.count(FileKind::Log, true);

    let mut total = (Duration::ZERO, 0u32);
    let mut group = c.benchmark_group("validate a day");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("24 hourly digests over 100k events", |b| {
        b.iter_custom(|iterations| {
            let started = Instant::now();
            for _ in 0..iterations {
                let report = runtime
                    .block_on(validate(&store, &keys, &request, &NoProgress))
                    .expect("validate");
                assert!(report.is_valid());
            }
            let elapsed = started.elapsed();
            total.0 += elapsed;
            total.1 += iterations as u32;
            elapsed
        })
    });
    group.finish();
    let mean = total.0.as_secs_f64() / f64::from(total.1.max(1));
    println!(
        "validate: {HOURS} digests, {log_files} log files, {RECORDS} events in {mean:.3} s ({:.0} events/s)",
        RECORDS as f64 / mean
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
