//! forward on the embedded store: the real fixtures ingested and delivered, then every object in
//! the trail buckets forwarded into the local log sink. Every record of every log file and
//! Insights file arrives once, byte for byte, in eventTime order, in its trail's group and its
//! account's and Region's stream; metric-filter matches become alert objects and EMF records; a
//! second pass changes nothing.

use std::collections::BTreeMap;

use cairn_shared::adapters::local::LocalLogSink;
use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::{DeliveredFile, Deliverer};
use cairn_shared::forward::{Forwarder, Outcome};
use cairn_shared::layout::{ALERTS_PREFIX, INSIGHT_KIND, LOG_FILE_KIND};
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::service::Service;
use cairn_shared::trigger::ObjectCreated;
use cairn_test_support::digests::signer;
use cairn_test_support::forward::{
    Stream, config, expected_matches, expected_streams, recent_fixture_batches,
};
use cairn_test_support::pipeline::{Placement, expected_deliveries, stage_batch};
use serde_json::Value;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

async fn fresh_store(config: &Config) -> (tempfile::TempDir, LocalObjectStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().join("store"));
    store
        .create_bucket(&config.state_bucket)
        .await
        .expect("bucket");
    for trail in &config.trails {
        store.create_bucket(trail.bucket()).await.expect("bucket");
    }
    (dir, store)
}

/// Every line of every stream file under the sink's root, per (group, stream).
fn read_sink(sink: &LocalLogSink, streams: &[Stream]) -> BTreeMap<Stream, Vec<(i64, String)>> {
    streams
        .iter()
        .map(|(group, stream)| {
            let path = sink.stream_path(group, stream).expect("path");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let events = text
                .lines()
                .map(|line| {
                    let event: Value = serde_json::from_str(line).expect("json line");
                    (
                        event["timestamp"].as_i64().expect("timestamp"),
                        event["message"].as_str().expect("message").to_owned(),
                    )
                })
                .collect();
            ((group.clone(), stream.clone()), events)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_delivered_record_reaches_its_log_stream_once_and_in_order() {
    let config = config("");
    let (dir, store) = fresh_store(&config).await;
    let batches = recent_fixture_batches(T0);
    for (i, (_, body)) in batches.iter().enumerate() {
        stage_batch(&store, &config, body, T0 + Duration::milliseconds(i as i64)).await;
    }
    let delivery = Deliverer::new(&config, &store, Some(signer().await))
        .handle(&Duration::minutes(10), T0)
        .await
        .expect("deliver");
    assert!(delivery.log_files.len() > 5, "{:?}", delivery.log_files);
    // The fixtures hold the User Guide's Insights events, which go to CloudTrail-Insight files.
    assert!(!delivery.insight_files.is_empty());
    let files: Vec<DeliveredFile> = delivery
        .log_files
        .iter()
        .chain(&delivery.insight_files)
        .cloned()
        .collect();

    let sink = LocalLogSink::new(dir.path().join("logs"));
    let forwarder = Forwarder::new(&config, &store, &sink);
    let mut forwarded = 0;
    let mut matches = 0;
    let mut metrics = 0;
    let mut alerts = 0;
    // Every object in the trail buckets: log files and Insights files are forwarded, anything
    // else (digests) is ignored.
    for trail in &config.trails {
        for entry in store.list_all(trail.bucket(), "").await.expect("list") {
            let report = forwarder
                .handle(&ObjectCreated::new(trail.bucket(), &entry.key), T0)
                .await
                .expect("forward");
            let is_record_file = files.iter().any(|f| f.key == entry.key);
            if !is_record_file {
                assert_eq!(report.outcome, Outcome::Ignored, "{}", entry.key);
                continue;
            }
            assert_eq!(report.outcome, Outcome::Forwarded, "{}", entry.key);
            assert_eq!(report.refused_total(), 0, "{:?}", report.refused_events);
            assert_eq!(report.forwarded, report.records);
            forwarded += report.forwarded;
            matches += report.matches;
            metrics += report.metrics.len();
            if let Some(key) = &report.alert {
                let object = store.get(&config.state_bucket, key).await.expect("alert");
                let alert: Value = serde_json::from_slice(&object.body).expect("alert json");
                assert_eq!(alert["logFile"]["s3ObjectKey"], entry.key.as_str());
                assert_eq!(alert["logGroup"], report.log_group.as_deref().unwrap());
                assert_eq!(
                    alert["matches"].as_array().expect("matches").len(),
                    report.matches
                );
                alerts += 1;
            } else {
                assert_eq!(report.matches, 0);
            }
        }
    }
    // Files are forwarded in listing order, which is what the expected streams follow.
    let mut in_listing_order = files.clone();
    in_listing_order.sort_by(|a, b| (&a.bucket, &a.key).cmp(&(&b.bucket, &b.key)));
    let bucket_order: Vec<&str> = config.trails.iter().map(|t| t.bucket()).collect();
    in_listing_order.sort_by_key(|f| bucket_order.iter().position(|b| *b == f.bucket));
    let expected = expected_streams(&store, &config, &in_listing_order).await;
    let streams: Vec<Stream> = expected.keys().cloned().collect();
    let arrived = read_sink(&sink, &streams);
    assert_eq!(
        arrived, expected,
        "streams hold each file's records in eventTime order"
    );
    assert_eq!(
        forwarded,
        expected.values().map(Vec::len).sum::<usize>(),
        "nothing else arrived"
    );

    // And that is what the trails' selectors ask for: each selected record once per trail, in
    // the stream of its account and Region, Insights events included (in the same stream).
    let wanted = expected_deliveries(&config, &batches);
    assert!(
        wanted
            .values()
            .flatten()
            .any(|placement| placement.kind == INSIGHT_KIND)
    );
    let mut got: BTreeMap<String, Vec<Placement>> = BTreeMap::new();
    for ((group, stream), events) in &arrived {
        let trail = config
            .trails
            .iter()
            .find(|t| t.cloud_watch_logs_log_group_name() == Some(group.as_str()))
            .expect("trail of the group");
        // An organization trail's streams have its ID in front, as CloudTrail names them.
        let stream = match trail.organization_id() {
            Some(organization) => stream
                .strip_prefix(&format!("{organization}_"))
                .expect("an organization trail's stream starts with its ID"),
            None => stream.as_str(),
        };
        let (account, region) = stream.split_once("_CloudTrail_").expect("stream name");
        for (_, message) in events {
            let record: Value = serde_json::from_str(message).expect("json");
            let insight = record["eventType"] == "AwsCloudTrailInsight";
            got.entry(message.clone()).or_default().push(Placement {
                trail: trail.name().to_owned(),
                account: account.to_owned(),
                region: region.to_owned(),
                kind: if insight { INSIGHT_KIND } else { LOG_FILE_KIND },
            });
        }
    }
    for placements in got.values_mut() {
        placements.sort();
    }
    assert_eq!(got, wanted);
    assert!(wanted.len() > 300, "{} records", wanted.len());

    // Metric filters: every match counted, written to an alert, and published (each filter's
    // metric has a constant value, so every match has a data point).
    let want_matches = expected_matches(&config, &expected);
    assert!(want_matches > 5, "{want_matches} matches");
    assert_eq!(matches, want_matches);
    assert_eq!(metrics, want_matches);
    assert!(alerts > 0);
    let alert_objects = store
        .list_all(&config.state_bucket, ALERTS_PREFIX)
        .await
        .expect("alerts");
    assert_eq!(alert_objects.len(), alerts);

    // A second pass, as a re-delivery of every event: nothing moves.
    for file in &files {
        let report = forwarder
            .handle(
                &ObjectCreated::new(&file.bucket, &file.key),
                T0 + Duration::minutes(5),
            )
            .await
            .expect("again");
        assert_eq!(report.outcome, Outcome::AlreadyForwarded);
        assert!(report.metrics.is_empty());
    }
    assert_eq!(read_sink(&sink, &streams), expected);
}
