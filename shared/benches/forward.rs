//! forward on the embedded store: 100,000 realistic records (the 310 real Stratus records as
//! templates, each copy with its own eventID and time within the past ten days) in ten log files
//! of 10,000 records as deliver writes them, each forwarded with the sample cairn.yaml's two
//! metric filters evaluated on every record.
//!
//! Two sinks: the local log sink (JSON lines on disk, what `cairn` writes), and a sink that only
//! checks each batch and drops it, which leaves forward's own cost (read, gunzip, split, sort,
//! match, cut batches, write progress markers and alerts). The discarding sink once more without
//! metric filters shows what matching costs.

mod support;
#[path = "support/synthetic.rs"]
mod synthetic;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use cairn_shared::adapters::local::LocalLogSink;
use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivered::LogFileFacts;
use cairn_shared::delivery::{MAX_RECORDS, encode_log_file, log_file_unique_part};
use cairn_shared::forward::{Forwarder, Outcome};
use cairn_shared::ports::log_sink::{LogEvent, LogSink, LogSinkError, RejectedEvents, check_put};
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::record::EventTime;
use cairn_shared::service::Service;
use cairn_shared::trigger::ObjectCreated;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use time::macros::datetime;

const RECORDS: usize = 100_000;
const NOW: time::OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

const CONFIG: &str = r#"
accountId: "111122223333"
stateBucket: bench-state
trails:
  - Name: main
    S3BucketName: bench-trail
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:111122223333:log-group:cairn/cloudtrail:*
metricFilters:
  - filterName: UnauthorizedAPICalls
    filterPattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    metricTransformations:
      - metricName: UnauthorizedAPICalls
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
  - filterName: RootAccountUsage
    logGroupName: cairn/cloudtrail
    filterPattern: '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
    metricTransformations:
      - metricName: RootAccountUsage
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
        defaultValue: 0
        unit: Count
"#;

/// The records, compact, in eventTime order: ten days before [`NOW`], about one every 8.6 s.
fn records() -> Vec<String> {
    let start = NOW.unix_timestamp() - 10 * 86_400;
    synthetic::records(
        RECORDS,
        |i| start + (i as i64) * 864_000 / RECORDS as i64,
        |_| "us-east-1",
    )
}

/// The store with the trail's log files, ten of 10,000 records, and their keys.
fn store_with_log_files(
    records: &[String],
    runtime: &tokio::runtime::Runtime,
) -> (tempfile::TempDir, LocalObjectStore, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().join("store"));
    let keys = runtime.block_on(async {
        for bucket in ["bench-state", "bench-trail"] {
            store.create_bucket(bucket).await.expect("bucket");
        }
        let mut keys = Vec::new();
        for (part, chunk) in records.chunks(MAX_RECORDS).enumerate() {
            let timed: Vec<(EventTime, &str)> = chunk
                .iter()
                .map(|record| {
                    let value: Value = serde_json::from_str(record).expect("json");
                    let time = EventTime::parse(value["eventTime"].as_str().unwrap()).unwrap();
                    (time, record.as_str())
                })
                .collect();
            let body = encode_log_file(&timed, false);
            let unique = log_file_unique_part(format!("bench/{part}").as_bytes());
            let key = cairn_shared::layout::log_file_key(
                None,
                None,
                "111122223333",
                "us-east-1",
                NOW,
                &unique,
            );
            let options = LogFileFacts {
                trail: "main".to_owned(),
                account: "111122223333".to_owned(),
                region: "us-east-1".to_owned(),
                records: body.records,
                oldest_event_time: body.oldest_event_time,
                newest_event_time: body.newest_event_time,
            }
            .put_options();
            store
                .put("bench-trail", &key, body.gzip, &options)
                .await
                .expect("put log file");
            keys.push(key);
        }
        keys
    });
    (dir, store, keys)
}

/// Checks each batch against the PutLogEvents limits, then drops it.
struct DiscardingSink;

#[async_trait]
impl LogSink for DiscardingSink {
    async fn put_events(
        &self,
        group: &str,
        stream: &str,
        events: &[LogEvent],
    ) -> Result<RejectedEvents, LogSinkError> {
        check_put(group, stream, events)?;
        Ok(RejectedEvents::none())
    }
}

/// Forwards every file, having removed the progress markers of an earlier iteration; the time
/// of the forwarding alone.
fn forward_all(
    config: &Config,
    store: &LocalObjectStore,
    keys: &[String],
    sink: &dyn LogSink,
    runtime: &tokio::runtime::Runtime,
) -> Duration {
    runtime.block_on(async {
        for entry in store
            .list_all("bench-state", cairn_shared::layout::FORWARD_PROGRESS_PREFIX)
            .await
            .expect("list")
        {
            store
                .delete("bench-state", &entry.key)
                .await
                .expect("delete");
        }
        let forwarder = Forwarder::new(config, store, sink);
        let started = Instant::now();
        let mut forwarded = 0;
        for key in keys {
            let report = forwarder
                .handle(&ObjectCreated::new("bench-trail", key), NOW)
                .await
                .expect("forward");
            assert_eq!(report.outcome, Outcome::Forwarded);
            forwarded += report.forwarded;
        }
        let elapsed = started.elapsed();
        assert_eq!(forwarded, RECORDS);
        elapsed
    })
}

fn forward(c: &mut Criterion) {
    let config = Config::from_yaml(CONFIG, "bench").expect("config");
    let records = records();
    let bytes: usize = records.iter().map(String::len).sum();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (dir, store, keys) = store_with_log_files(&records, &runtime);
    println!(
        "forward: {RECORDS} records, {:.1} MB, in {} log files",
        bytes as f64 / 1e6,
        keys.len()
    );

    let mut group = c.benchmark_group("forward 100k records");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("to the local log sink", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|i| {
                    let logs = dir.path().join(format!("logs-{i}"));
                    let sink = LocalLogSink::new(&logs);
                    let elapsed = forward_all(&config, &store, &keys, &sink, &runtime);
                    std::fs::remove_dir_all(&logs).expect("remove logs");
                    elapsed
                })
                .sum()
        })
    });
    group.bench_function("to a discarding sink", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| forward_all(&config, &store, &keys, &DiscardingSink, &runtime))
                .sum()
        })
    });
    let unfiltered = Config {
        metric_filters: Vec::new(),
        ..config.clone()
    };
    group.bench_function("to a discarding sink, no metric filters", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| forward_all(&unfiltered, &store, &keys, &DiscardingSink, &runtime))
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
