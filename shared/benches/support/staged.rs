//! What the deliver benches share: 100,000 realistic records over four Regions, a trail taking
//! them all, and a fresh store with the records staged by ingest (untimed), ready to deliver.

use std::time::{Duration, Instant};

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::{Deliverer, DeliveryReport};
use cairn_shared::ingest::Ingestor;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::service::Service;
use time::macros::datetime;

use crate::synthetic;

pub(crate) const RECORDS: usize = 100_000;
const PER_REQUEST: usize = 1_000;
const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"];

/// One multi-Region trail taking every record.
pub(crate) const CONFIG: &str = r#"
accountId: "111122223333"
stateBucket: bench-state
trails:
  - Name: everything
    S3BucketName: bench-trail
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
"#;

/// The records, compact, one string each.
pub(crate) fn records() -> Vec<String> {
    let start = datetime!(2026-11-22 09:00:00 UTC).unix_timestamp();
    synthetic::records(
        RECORDS,
        |i| start + (i as i64) / 30,
        |i| REGIONS[i % REGIONS.len()],
    )
}

/// A fresh store holding the records, staged by ingest in requests of 1,000.
pub(crate) fn staged_store(
    config: &Config,
    records: &[String],
    runtime: &tokio::runtime::Runtime,
) -> (tempfile::TempDir, LocalObjectStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    runtime.block_on(async {
        store
            .create_bucket(&config.state_bucket)
            .await
            .expect("bucket");
        for trail in &config.trails {
            store.create_bucket(trail.bucket()).await.expect("bucket");
        }
    });
    stage(config, &store, records, runtime);
    (dir, store)
}

/// Stages the records in `store` by ingest, in requests of 1,000.
pub(crate) fn stage(
    config: &Config,
    store: &dyn ObjectStore,
    records: &[String],
    runtime: &tokio::runtime::Runtime,
) {
    let now = datetime!(2026-11-22 10:00:00 UTC);
    let ingestor = Ingestor::new(
        config,
        store,
        "us-east-1",
        "arn:aws:cloudtrail:us-east-1:111122223333:channel/bench",
    );
    runtime.block_on(async {
        for chunk in records.chunks(PER_REQUEST) {
            let body = format!("{{\"Records\":[{}]}}", chunk.join(","));
            let done = ingestor.handle(&body, now).await.expect("ingest");
            assert!(done.answer.failed.is_empty());
        }
    });
}

/// Delivers everything staged in `store` in one run; only this is timed.
pub(crate) fn timed_delivery(
    config: &Config,
    store: &dyn ObjectStore,
    runtime: &tokio::runtime::Runtime,
) -> (Duration, DeliveryReport) {
    let started = Instant::now();
    let report = runtime
        .block_on(Deliverer::new(config, store, None).handle(
            &time::Duration::hours(1),
            datetime!(2026-11-22 10:05:00 UTC),
        ))
        .expect("deliver");
    (started.elapsed(), report)
}
