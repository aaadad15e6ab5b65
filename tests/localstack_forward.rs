//! forward against LocalStack's S3 and CloudWatch Logs: the real fixtures ingested, delivered
//! and forwarded through the AWS adapters, then read back with GetLogEvents. Every record of the
//! log files and Insights files is in its stream once, byte for byte, in eventTime order; a
//! second pass puts nothing.
//!
//! LocalStack's CloudWatch Logs matches every event to every filter pattern, so what is checked
//! of metric filters here is Cairn's own matcher, wired through forward: the alert objects in
//! LocalStack's S3 and the EMF records.

use std::collections::BTreeMap;

use cairn_shared::adapters::aws::CloudWatchLogsSink;
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::delivery::Deliverer;
use cairn_shared::forward::{Forwarder, Outcome};
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::service::Service;
use cairn_shared::trigger::ObjectCreated;
use cairn_test_support::digests::signer;
use cairn_test_support::forward::{
    Stream, config, expected_matches, expected_streams, read_stream, recent_fixture_batches,
};
use cairn_test_support::localstack_sdk_config;
use cairn_test_support::pipeline::{create_buckets, stage_batch, unique_suffix};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

#[tokio::test(flavor = "multi_thread")]
async fn delivered_records_reach_cloudwatch_logs_once_and_in_order() {
    let Some(sdk) =
        localstack_sdk_config("delivered_records_reach_cloudwatch_logs_once_and_in_order").await
    else {
        return;
    };
    let config = config(&unique_suffix());
    create_buckets(&sdk, &config).await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let sink = CloudWatchLogsSink::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);

    // Real time: LocalStack's CloudWatch Logs may judge event ages by its own clock.
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("time");
    for (i, (_, body)) in recent_fixture_batches(now).iter().enumerate() {
        stage_batch(
            &store,
            &config,
            body,
            now + Duration::milliseconds(i as i64),
        )
        .await;
    }
    let delivery = Deliverer::new(&config, &store, Some(signer().await))
        .handle(&Duration::minutes(10), now)
        .await
        .expect("deliver");
    assert!(!delivery.log_files.is_empty() && !delivery.insight_files.is_empty());
    let files: Vec<_> = delivery
        .log_files
        .into_iter()
        .chain(delivery.insight_files)
        .collect();

    let forwarder = Forwarder::new(&config, &store, &sink);
    let mut matches = 0;
    let mut metrics = 0;
    for file in &files {
        let report = forwarder
            .handle(&ObjectCreated::new(&file.bucket, &file.key), now)
            .await
            .expect("forward");
        assert_eq!(report.outcome, Outcome::Forwarded, "{}", file.key);
        assert_eq!(report.refused_total(), 0, "{:?}", report.refused_events);
        assert_eq!(report.forwarded, file.records);
        matches += report.matches;
        metrics += report.metrics.len();
        if let Some(key) = &report.alert {
            let object = store.get(&config.state_bucket, key).await.expect("alert");
            let alert: Value = serde_json::from_slice(&object.body).expect("alert json");
            assert_eq!(
                alert["matches"].as_array().expect("matches").len(),
                report.matches
            );
        }
    }

    let expected = expected_streams(&store, &config, &files).await;
    let mut arrived: BTreeMap<Stream, Vec<(i64, String)>> = BTreeMap::new();
    for (group, stream) in expected.keys() {
        arrived.insert(
            (group.clone(), stream.clone()),
            read_stream(&logs, group, stream).await,
        );
    }
    assert_eq!(arrived, expected);
    let want_matches = expected_matches(&config, &expected);
    assert!(want_matches > 0);
    assert_eq!((matches, metrics), (want_matches, want_matches));

    // A re-delivery of every event puts nothing more.
    for file in &files {
        let report = forwarder
            .handle(&ObjectCreated::new(&file.bucket, &file.key), now)
            .await
            .expect("again");
        assert_eq!(report.outcome, Outcome::AlreadyForwarded);
    }
    for (group, stream) in expected.keys() {
        assert_eq!(
            read_stream(&logs, group, stream).await,
            expected[&(group.clone(), stream.clone())]
        );
    }
}
