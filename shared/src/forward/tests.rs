//! forward on the embedded store with a scripted log sink: whole files, failures at every batch
//! and resumption, retries, refusals, metric filters and alerts.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use time::macros::datetime;

use super::*;
use crate::adapters::local::LocalObjectStore;
use crate::adapters::local::RecordingStore;
use crate::delivered::test_support;
use crate::layout::{self, log_file_key};
use crate::ports::object_store::{ListPage, ObjectInfo, PutReceipt, StoredObject};
use crate::record::EventTime;
use crate::service::Service;
use crate::trigger::ObjectCreated;

const NOW: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);
const GROUP: &str = "cairn/cloudtrail";
const STREAM: &str = "111122223333_CloudTrail_us-east-1";
const BUCKET: &str = "trail-bucket";
const STATE: &str = "state-bucket";

const CONFIG: &str = r#"
accountId: "111122223333"
stateBucket: state-bucket
trails:
  - Name: main
    S3BucketName: trail-bucket
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:111122223333:log-group:cairn/cloudtrail:*
  - Name: quiet
    S3BucketName: quiet-bucket
    HomeRegion: us-east-1
metricFilters:
  - filterName: AccessDenied
    filterPattern: '{ $.errorCode = "AccessDenied*" }'
    metricTransformations:
      - metricName: AccessDeniedCalls
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
        unit: Count
  - filterName: ElsewhereOnly
    logGroupName: other/group
    filterPattern: '{ $.eventName = * }'
    metricTransformations:
      - metricName: Everything
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
"#;

fn config() -> Config {
    Config::from_yaml(CONFIG, "forward test").expect("config")
}

/// Record `i`: 10 hours after record `i - 1`, from five days before [`NOW`], so batches hold
/// three records each (a batch spans at most 24 hours). Records 4 and 7 were denied.
fn record(i: usize) -> String {
    let time = EventTime::from_unix_seconds(
        (NOW - time::Duration::days(5)).unix_timestamp() + i as i64 * 36_000,
    );
    let error = if i == 4 || i == 7 {
        r#","errorCode":"AccessDenied""#
    } else {
        ""
    };
    format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{i}"}},"eventTime":"{time}","eventSource":"iam.amazonaws.com","eventName":"GetUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","requestID":"11111111-0000-4000-8000-{i:012}","eventID":"00000000-0000-4000-8000-{i:012}","eventType":"AwsApiCall","recipientAccountId":"111122223333"{error}}}"#
    )
}

fn records(n: usize) -> Vec<String> {
    (0..n).map(record).collect()
}

/// One gzip member of `{"Records":[…]}` holding `records` as given.
fn gzip(records: &[String]) -> Bytes {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    write!(encoder, "{{\"Records\":[{}]}}", records.join(",")).unwrap();
    Bytes::from(encoder.finish().unwrap())
}

fn log_key(unique: &str) -> String {
    log_file_key(None, None, "111122223333", "us-east-1", NOW, unique)
}

struct Env {
    _dir: tempfile::TempDir,
    store: LocalObjectStore,
    config: Config,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    for bucket in [BUCKET, STATE, "quiet-bucket"] {
        store.create_bucket(bucket).await.expect("bucket");
    }
    Env {
        _dir: dir,
        store,
        config: config(),
    }
}

impl Env {
    /// Puts a log file of trail main, with the metadata deliver writes.
    async fn put_file(&self, bucket: &str, key: &str, body: Bytes) {
        self.put_file_of("main", bucket, key, body).await;
    }

    /// Puts a log file of account 111122223333 in us-east-1 whose metadata names `trail`.
    async fn put_file_of(&self, trail: &str, bucket: &str, key: &str, body: Bytes) {
        let records = gzip::read_one_member_text(&body, MAX_UNCOMPRESSED_BYTES)
            .ok()
            .and_then(|text| split_batch(&text).ok().map(|records| records.len()))
            .unwrap_or_default();
        let facts = test_support::facts(trail, "111122223333", "us-east-1", records);
        test_support::put_log_file(&self.store, bucket, key, body, &facts).await;
    }

    fn forwarder<'a>(&'a self, sink: &'a dyn LogSink) -> Forwarder<'a> {
        self.forwarder_over(&self.store, sink)
    }

    fn forwarder_over<'a>(
        &'a self,
        store: &'a dyn ObjectStore,
        sink: &'a dyn LogSink,
    ) -> Forwarder<'a> {
        Forwarder::new(&self.config, store, sink).with_retry(RetryPolicy {
            attempts: 3,
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        })
    }

    async fn marker(&self, key: &str) -> Option<Progress> {
        progress::read(
            &self.store,
            STATE,
            &layout::forward_progress_key(BUCKET, key),
        )
        .await
        .expect("marker")
        .map(|(progress, _)| progress)
    }
}

/// What the sink does on one call.
enum Act {
    Store,
    /// Refuses the batch; nothing stored.
    Fail {
        retryable: bool,
    },
    /// Stores the batch, then the answer is lost (a timeout): the caller sees a failure.
    StoreThenFail,
    /// Accepts the batch but leaves these events out, as CloudWatch Logs reports them.
    Reject(RejectedEvents),
    /// Another forward run moves the marker, then this batch is stored.
    MoveMarker(LocalObjectStore, String),
}

/// A log sink that keeps what it stores and follows a script, one act per call (then stores).
#[derive(Default)]
struct ScriptedSink {
    script: Mutex<VecDeque<Act>>,
    calls: AtomicUsize,
    stored: Mutex<Vec<(String, String, LogEvent)>>,
}

impl ScriptedSink {
    fn with(acts: impl IntoIterator<Item = Act>) -> Self {
        Self {
            script: Mutex::new(acts.into_iter().collect()),
            ..Self::default()
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn messages(&self) -> Vec<String> {
        self.stored
            .lock()
            .unwrap()
            .iter()
            .map(|(_, _, event)| event.message.clone())
            .collect()
    }

    fn store(&self, group: &str, stream: &str, events: &[LogEvent], skip: &[usize]) {
        let mut stored = self.stored.lock().unwrap();
        for (i, event) in events.iter().enumerate() {
            if !skip.contains(&i) {
                stored.push((group.to_owned(), stream.to_owned(), event.clone()));
            }
        }
    }
}

#[async_trait]
impl LogSink for ScriptedSink {
    async fn put_events(
        &self,
        group: &str,
        stream: &str,
        events: &[LogEvent],
    ) -> Result<RejectedEvents, LogSinkError> {
        crate::ports::log_sink::check_put(group, stream, events)?;
        self.calls.fetch_add(1, Ordering::SeqCst);
        let act = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Act::Store);
        let failure = |retryable: bool| {
            let (group, stream) = (group.to_owned(), stream.to_owned());
            let detail = "scripted".to_owned();
            if retryable {
                LogSinkError::Retryable {
                    group,
                    stream,
                    operation: "PutLogEvents",
                    detail,
                }
            } else {
                LogSinkError::Failed {
                    group,
                    stream,
                    operation: "PutLogEvents",
                    detail,
                }
            }
        };
        match act {
            Act::Store => {
                self.store(group, stream, events, &[]);
                Ok(RejectedEvents::none())
            }
            Act::Fail { retryable } => Err(failure(retryable)),
            Act::StoreThenFail => {
                self.store(group, stream, events, &[]);
                Err(failure(false))
            }
            Act::Reject(rejected) => {
                let skip: Vec<usize> = batch::sink_refusals(&rejected, events.len())
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| r.map(|_| i))
                    .collect();
                self.store(group, stream, events, &skip);
                Ok(rejected)
            }
            Act::MoveMarker(store, key) => {
                let mut other = Progress::start("other".into(), 1, "another-run");
                other.batches = 7;
                store
                    .put(
                        STATE,
                        &key,
                        Bytes::from(serde_json::to_vec(&other).unwrap()),
                        &PutOptions::new("application/json"),
                    )
                    .await
                    .expect("move marker");
                self.store(group, stream, events, &[]);
                Ok(RejectedEvents::none())
            }
        }
    }
}

/// Passes everything to the local store, except that the `fail_at`-th write of a progress
/// marker (1-based) fails before reaching it: a crash between a batch's put and its marker.
struct MarkerCrash {
    inner: LocalObjectStore,
    fail_at: usize,
    marker_puts: AtomicUsize,
}

#[async_trait]
impl ObjectStore for MarkerCrash {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        if key.starts_with(layout::FORWARD_PROGRESS_PREFIX)
            && self.marker_puts.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at
        {
            return Err(ObjectStoreError::Backend {
                context: format!("put s3://{bucket}/{key}"),
                source: "injected crash".into(),
            });
        }
        self.inner.put(bucket, key, body, options).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        self.inner.get(bucket, key).await
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        self.inner.head(bucket, key).await
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        self.inner.list_page(bucket, prefix, token).await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
        self.inner.delete(bucket, key).await
    }
}

#[tokio::test]
async fn every_record_goes_once_in_order_byte_for_byte_to_its_stream() {
    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    // The file's records out of order: forward sorts them by eventTime.
    let mut shuffled = records(10);
    shuffled.swap(0, 9);
    shuffled.swap(3, 5);
    env.put_file(BUCKET, &key, gzip(&shuffled)).await;
    let sink = ScriptedSink::default();
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("forward");

    assert_eq!(report.outcome, Outcome::Forwarded);
    assert_eq!(report.records, 10);
    assert_eq!(report.forwarded, 10);
    assert_eq!(
        report.batches, 4,
        "batches of three (24-hour span), then one"
    );
    assert_eq!(sink.calls(), 4);
    assert_eq!(report.trail.as_deref(), Some("main"));
    assert_eq!(report.log_group.as_deref(), Some(GROUP));
    assert_eq!(report.log_stream.as_deref(), Some(STREAM));
    assert_eq!(report.refused_total(), 0);
    assert_eq!(sink.messages(), records(10), "sorted, byte-identical");
    for (group, stream, event) in sink.stored.lock().unwrap().iter() {
        assert_eq!((group.as_str(), stream.as_str()), (GROUP, STREAM));
        let time: Value = serde_json::from_str(&event.message).unwrap();
        let time = EventTime::parse(time["eventTime"].as_str().unwrap()).unwrap();
        assert_eq!(event.timestamp_ms, time.unix_seconds() * 1000);
    }
    let marker = env.marker(&key).await.expect("marker");
    assert!(marker.is_finished());
    assert_eq!((marker.done, marker.batches), (10, 4));

    // A re-delivery of a finished file does nothing.
    let again = ScriptedSink::default();
    let report = env
        .forwarder(&again)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("again");
    assert_eq!(report.outcome, Outcome::AlreadyForwarded);
    assert_eq!(again.calls(), 0);
    assert_eq!(report.metrics.len(), 0);
}

#[tokio::test]
async fn a_failed_batch_is_resumed_and_every_event_goes_exactly_once() {
    // Fail each of the four batches in turn (refused outright: nothing stored).
    for failing in 1..=4 {
        let env = env().await;
        let key = log_key("AbCdEfGh01234567");
        env.put_file(BUCKET, &key, gzip(&records(10))).await;
        let mut script: Vec<Act> = (1..failing).map(|_| Act::Store).collect();
        script.push(Act::Fail { retryable: false });
        let first = ScriptedSink::with(script);
        let err = env
            .forwarder(&first)
            .handle(&ObjectCreated::new(BUCKET, &key), NOW)
            .await
            .expect_err("the sink fails");
        assert!(
            matches!(err, ForwardError::Sink { batch, attempts: 1, .. } if batch == failing - 1),
            "{err}"
        );
        let marker = env.marker(&key).await;
        assert_eq!(
            marker.as_ref().map(|m| m.batches),
            // The alert (records 4 and 7 match) is written before the first batch.
            Some(failing - 1),
            "failing batch {failing}"
        );

        let second = ScriptedSink::default();
        let report = env
            .forwarder(&second)
            .handle(&ObjectCreated::new(BUCKET, &key), NOW)
            .await
            .expect("resume");
        assert_eq!(report.outcome, Outcome::Forwarded);
        assert_eq!(report.resumed_at, 3 * (failing - 1));
        assert_eq!(report.batches, 4 - (failing - 1));
        assert_eq!(report.alert, None, "the alert was written by the first run");
        let mut all = first.messages();
        all.extend(second.messages());
        assert_eq!(all, records(10), "failing batch {failing}: each event once");

        let third = ScriptedSink::default();
        let report = env
            .forwarder(&third)
            .handle(&ObjectCreated::new(BUCKET, &key), NOW)
            .await
            .expect("finished");
        assert_eq!(report.outcome, Outcome::AlreadyForwarded);
        assert_eq!(third.calls(), 0);
    }
}

#[tokio::test]
async fn each_run_measures_the_events_and_matches_it_stored() {
    use crate::emf::cairn::{CairnMetric, TRAIL_DIMENSION};

    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    env.put_file(BUCKET, &key, gzip(&records(10))).await;
    // Batches of three: the first two go (record 4 matches), the third fails.
    let first = ScriptedSink::with([Act::Store, Act::Store, Act::Fail { retryable: false }]);
    env.forwarder(&first)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect_err("the sink fails");

    let report = env
        .forwarder(&ScriptedSink::default())
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("resume");
    assert_eq!((report.forwarded, report.matches), (4, 2));
    // Only record 7 matched among the records this run stored.
    assert_eq!(report.matches_stored, 1);
    let lines = report.metric_lines(NOW);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(line[TRAIL_DIMENSION], "main");
    assert_eq!(line["_aws"]["Timestamp"], NOW.unix_timestamp() * 1000);
    assert_eq!(line[CairnMetric::EventsForwarded.name()], 4);
    assert_eq!(line[CairnMetric::MetricFilterMatches.name()], 1);

    // A file done before stores nothing; anything that is not a trail's log file measures
    // nothing.
    let again = env
        .forwarder(&ScriptedSink::default())
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("finished");
    let line: Value = serde_json::from_str(&again.metric_lines(NOW)[0]).unwrap();
    assert_eq!(line[CairnMetric::EventsForwarded.name()], 0);
    assert_eq!(line[CairnMetric::MetricFilterMatches.name()], 0);
    let elsewhere = env
        .forwarder(&ScriptedSink::default())
        .handle(&ObjectCreated::new("elsewhere", "AWSLogs/x.json.gz"), NOW)
        .await
        .expect("ignored");
    assert_eq!(elsewhere.outcome, Outcome::Ignored);
    assert!(elsewhere.metric_lines(NOW).is_empty());
}

#[tokio::test]
async fn only_the_batch_in_flight_at_a_crash_goes_twice() {
    // The put stores the batch but its answer is lost.
    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    env.put_file(BUCKET, &key, gzip(&records(10))).await;
    let first = ScriptedSink::with([Act::Store, Act::StoreThenFail]);
    env.forwarder(&first)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect_err("lost answer");
    let second = ScriptedSink::default();
    env.forwarder(&second)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("resume");
    let mut all = first.messages();
    all.extend(second.messages());
    let expected: Vec<String> = [&records(10)[..6], &records(10)[3..]].concat();
    assert_eq!(
        all, expected,
        "batch 2 (records 3 to 5) twice, nothing else"
    );

    // The process stops after each put in turn, before its marker is written.
    for crash in 1..=4 {
        let env = self::env().await;
        let key = log_key("AbCdEfGh01234567");
        env.put_file(BUCKET, &key, gzip(&records(10))).await;
        // Marker write 1 is the alert's; batch `crash`'s is write `crash + 1`.
        let store = MarkerCrash {
            inner: env.store.clone(),
            fail_at: crash + 1,
            marker_puts: AtomicUsize::new(0),
        };
        let first = ScriptedSink::default();
        env.forwarder_over(&store, &first)
            .handle(&ObjectCreated::new(BUCKET, &key), NOW)
            .await
            .expect_err("crash");
        let second = ScriptedSink::default();
        env.forwarder(&second)
            .handle(&ObjectCreated::new(BUCKET, &key), NOW)
            .await
            .expect("resume");
        let mut all = first.messages();
        all.extend(second.messages());
        let all_records = records(10);
        let repeated = &all_records[3 * (crash - 1)..(3 * crash).min(10)];
        let expected: Vec<String> = [&all_records[..3 * crash.min(4) - 3], repeated, repeated]
            .concat()
            .into_iter()
            .chain(all_records[(3 * crash).min(10)..].iter().cloned())
            .collect();
        assert_eq!(all, expected, "crash after batch {crash}");
    }
}

#[tokio::test]
async fn throttling_is_retried_with_backoff_until_the_attempts_run_out() {
    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    env.put_file(BUCKET, &key, gzip(&records(4))).await;
    let sink = ScriptedSink::with([Act::Fail { retryable: true }, Act::Fail { retryable: true }]);
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("third attempt succeeds");
    assert_eq!(sink.calls(), 4, "3 attempts for batch 1, 1 for batch 2");
    assert_eq!(report.batches, 2);
    assert_eq!(sink.messages(), records(4));

    let env = self::env().await;
    env.put_file(BUCKET, &key, gzip(&records(4))).await;
    let sink = ScriptedSink::with((0..3).map(|_| Act::Fail { retryable: true }));
    let err = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect_err("out of attempts");
    assert!(
        matches!(err, ForwardError::Sink { attempts: 3, ref source, .. } if source.is_retryable()),
        "{err}"
    );
    assert_eq!(sink.calls(), 3);
}

#[tokio::test]
async fn events_cloudwatch_logs_leaves_out_are_counted_by_reason() {
    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    env.put_file(BUCKET, &key, gzip(&records(3))).await;
    let sink = ScriptedSink::with([Act::Reject(RejectedEvents {
        too_old_end_index: Some(1),
        too_new_start_index: Some(2),
        expired_end_index: None,
    })]);
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("forward");
    assert_eq!(report.forwarded, 1);
    assert_eq!(
        report.refused,
        BTreeMap::from([(RejectReason::TooOld, 1), (RejectReason::TooNew, 1)])
    );
    let ids: Vec<(&str, RejectReason)> = report
        .refused_events
        .iter()
        .map(|e| (e.event_id.as_str(), e.reason))
        .collect();
    assert_eq!(
        ids,
        [
            ("00000000-0000-4000-8000-000000000000", RejectReason::TooOld),
            ("00000000-0000-4000-8000-000000000002", RejectReason::TooNew)
        ]
    );
    assert_eq!(sink.messages(), [record(1)]);
    assert!(env.marker(&key).await.unwrap().is_finished());
}

#[tokio::test]
async fn records_that_cannot_go_are_reported_and_the_file_still_finishes() {
    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    env.put_file(BUCKET, &key, gzip(&records(10))).await;
    // Eleven days later, records 0 to 4 are more than 14 days old.
    let later = NOW + time::Duration::days(11);
    let sink = ScriptedSink::default();
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), later)
        .await
        .expect("forward");
    assert_eq!(report.outcome, Outcome::Forwarded);
    assert_eq!(report.refused, BTreeMap::from([(RejectReason::TooOld, 5)]));
    assert_eq!(report.forwarded, 5);
    assert_eq!(sink.messages(), records(10)[5..]);
    // The alert still names both denied calls; only record 7 reached the log group and
    // published a data point.
    assert_eq!(report.matches, 2);
    assert_eq!(report.metrics.len(), 1);
    assert!(env.marker(&key).await.unwrap().is_finished());
}

#[tokio::test]
async fn matches_write_one_alert_and_emf_for_stored_events() {
    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    env.put_file(BUCKET, &key, gzip(&records(10))).await;
    let sink = ScriptedSink::default();
    let printed = Mutex::new(Vec::new());
    let output = |line: &str| printed.lock().unwrap().push(line.to_owned());
    let report = Forwarder::new(&env.config, &env.store, &sink)
        .with_metric_output(&output)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("forward");
    assert_eq!(
        report.matches, 2,
        "ElsewhereOnly belongs to another log group"
    );
    let alert_key = format!("alerts/{BUCKET}/{key}.json");
    assert_eq!(report.alert.as_deref(), Some(alert_key.as_str()));

    let time_of = |i: usize| {
        EventTime::from_unix_seconds(
            (NOW - time::Duration::days(5)).unix_timestamp() + i as i64 * 36_000,
        )
    };
    let expected_emf: Vec<String> = [4, 7]
        .iter()
        .map(|&i| {
            format!(
                r#"{{"_aws":{{"Timestamp":{},"CloudWatchMetrics":[{{"Namespace":"CloudTrailMetrics","Dimensions":[[]],"Metrics":[{{"Name":"AccessDeniedCalls","Unit":"Count"}}]}}]}},"AccessDeniedCalls":1}}"#,
                time_of(i).unix_seconds() * 1000
            )
        })
        .collect();
    assert_eq!(report.metrics, expected_emf);
    assert_eq!(*printed.lock().unwrap(), expected_emf);

    let stored = env.store.get(STATE, &alert_key).await.expect("alert");
    let alert: Value = serde_json::from_slice(&stored.body).unwrap();
    assert_eq!(alert["version"], 1);
    assert_eq!(alert["logFile"]["s3Bucket"], BUCKET);
    assert_eq!(alert["logFile"]["s3ObjectKey"], key.as_str());
    assert_eq!(alert["trail"], "main");
    assert_eq!(
        alert["trailArn"],
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"
    );
    assert_eq!(alert["logGroup"], GROUP);
    assert_eq!(alert["logStream"], STREAM);
    let matches = alert["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 2);
    let first = &matches[0];
    assert_eq!(first["filterName"], "AccessDenied");
    assert_eq!(
        first["filterPattern"],
        r#"{ $.errorCode = "AccessDenied*" }"#
    );
    assert_eq!(first["logGroup"], GROUP);
    assert_eq!(
        first["metric"],
        serde_json::json!({"namespace": "CloudTrailMetrics", "name": "AccessDeniedCalls",
            "unit": "Count", "value": 1, "dimensions": {}})
    );
    assert_eq!(
        first["event"],
        serde_json::json!({
            "eventTime": time_of(4).to_string(),
            "eventName": "GetUser",
            "eventSource": "iam.amazonaws.com",
            "eventID": "00000000-0000-4000-8000-000000000004",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/u4"},
            "sourceIPAddress": "198.51.100.7",
            "awsRegion": "us-east-1",
            "recipientAccountId": "111122223333",
            "errorCode": "AccessDenied"
        })
    );
    // The record itself, byte for byte.
    let body = std::str::from_utf8(&stored.body).unwrap();
    assert!(
        body.contains(&format!(r#""record":{}}}"#, record(4))),
        "{body}"
    );
    assert_eq!(
        matches[1]["event"]["eventID"],
        "00000000-0000-4000-8000-000000000007"
    );

    // A file that changed under the same key is matched and alerted afresh.
    env.put_file(BUCKET, &key, gzip(&records(5))).await;
    let sink = ScriptedSink::default();
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("new bytes");
    assert_eq!(report.outcome, Outcome::Forwarded);
    assert_eq!(report.matches, 1);
    assert_eq!(report.alert.as_deref(), Some(alert_key.as_str()));
    assert_eq!(sink.messages(), records(5));
}

#[tokio::test]
async fn what_is_not_a_trail_log_file_is_ignored_and_a_trail_without_a_group_sends_nothing() {
    let env = env().await;
    let sink = ScriptedSink::default();
    let forwarder = env.forwarder(&sink);
    let digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/22/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20261122T100000Z.json.gz";
    for (bucket, key, why) in [
        (BUCKET, digest, "digest file"),
        (
            "elsewhere",
            "AWSLogs/x.json.gz",
            "not the bucket of a configured trail",
        ),
        (
            BUCKET,
            "notes/readme.txt",
            "is not a CloudTrail log file of trail main",
        ),
    ] {
        let report = forwarder
            .handle(&ObjectCreated::new(bucket, key), NOW)
            .await
            .expect("ignored");
        assert_eq!(report.outcome, Outcome::Ignored);
        assert!(
            report.ignored_because.as_deref().unwrap().contains(why),
            "{:?}",
            report.ignored_because
        );
    }
    // The quiet trail has no log group: its file is not even read (its metadata names it).
    let quiet = log_key("AbCdEfGh01234567");
    env.put_file_of("quiet", "quiet-bucket", &quiet, gzip(&records(2)))
        .await;
    let counting = RecordingStore::new(env.store.clone());
    let report = env
        .forwarder_over(&counting, &sink)
        .handle(&ObjectCreated::new("quiet-bucket", &quiet), NOW)
        .await
        .expect("no log group");
    assert_eq!(report.outcome, Outcome::NoLogGroup);
    assert_eq!(report.trail.as_deref(), Some("quiet"));
    assert_eq!(sink.calls(), 0);
    assert_eq!(counting.take_gets().len(), 0);
}

#[tokio::test]
async fn files_without_cairns_metadata_or_naming_another_trail_are_ignored() {
    let env = env().await;
    let sink = ScriptedSink::default();
    let bare = log_key("AAAAAAAAAAAAAAA1");
    env.store
        .put(
            BUCKET,
            &bare,
            gzip(&records(2)),
            &PutOptions::new("application/json"),
        )
        .await
        .expect("put");
    let unknown = log_key("AAAAAAAAAAAAAAA2");
    env.put_file_of("gone", BUCKET, &unknown, gzip(&records(2)))
        .await;
    // Trail quiet's metadata on an object in trail main's bucket.
    let spoofed = log_key("AAAAAAAAAAAAAAA3");
    env.put_file_of("quiet", BUCKET, &spoofed, gzip(&records(2)))
        .await;
    for (key, why) in [
        (
            &bare,
            "is not a log file Cairn delivered: it has no cairn-trail metadata".to_owned(),
        ),
        (
            &unknown,
            "names trail \"gone\" in its metadata, which is not configured".to_owned(),
        ),
        (
            &spoofed,
            "names trail quiet in its metadata, whose log files are under s3://quiet-bucket/AWSLogs/, not here"
                .to_owned(),
        ),
    ] {
        let report = env
            .forwarder(&sink)
            .handle(&ObjectCreated::new(BUCKET, key), NOW)
            .await
            .expect("ignored");
        assert_eq!(report.outcome, Outcome::Ignored);
        assert!(
            report.ignored_because.as_deref().unwrap().contains(&why),
            "{:?}",
            report.ignored_because
        );
        assert!(env.marker(key).await.is_none());
    }
    assert_eq!(sink.calls(), 0);
}

#[tokio::test]
async fn a_run_that_loses_the_marker_to_another_stops() {
    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    env.put_file(BUCKET, &key, gzip(&records(10))).await;
    let marker_key = layout::forward_progress_key(BUCKET, &key);
    let sink = ScriptedSink::with([Act::Store, Act::MoveMarker(env.store.clone(), marker_key)]);
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("superseded is not an error");
    assert_eq!(report.outcome, Outcome::Superseded);
    assert_eq!(
        sink.calls(),
        2,
        "it stopped after the batch it lost the marker on"
    );
    assert_eq!(env.marker(&key).await.unwrap().writer, "another-run");
}

#[tokio::test]
async fn a_file_that_is_not_one_gzip_member_of_records_is_an_error() {
    let env = env().await;
    let sink = ScriptedSink::default();
    let cases: [(&str, Bytes); 4] = [
        ("AAAAAAAAAAAAAAA1", {
            let mut two = gzip(&records(2)).to_vec();
            two.extend_from_slice(&gzip(&records(1)));
            Bytes::from(two)
        }),
        ("AAAAAAAAAAAAAAA2", Bytes::from_static(b"{\"Records\":[]}")),
        ("AAAAAAAAAAAAAAA3", {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(b"[1,2,3]").unwrap();
            Bytes::from(encoder.finish().unwrap())
        }),
        ("AAAAAAAAAAAAAAA4", Bytes::new()),
    ];
    for (unique, body) in cases {
        let key = log_key(unique);
        env.put_file(BUCKET, &key, body).await;
        let err = env
            .forwarder(&sink)
            .handle(&ObjectCreated::new(BUCKET, &key), NOW)
            .await
            .expect_err(unique);
        assert!(
            matches!(err, ForwardError::Unreadable { .. }),
            "{unique}: {err}"
        );
    }
    let err = env
        .forwarder(&sink)
        .handle(
            &ObjectCreated::new(BUCKET, log_key("AAAAAAAAAAAAAAA1")),
            NOW,
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("data after the gzip member"),
        "{err}"
    );
    assert_eq!(sink.calls(), 0);
}

#[tokio::test]
async fn a_file_without_records_is_finished_at_once() {
    let env = env().await;
    let key = log_key("AbCdEfGh01234567");
    env.put_file(BUCKET, &key, gzip(&[])).await;
    let sink = ScriptedSink::default();
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("forward");
    assert_eq!(
        (report.outcome, report.records, report.batches),
        (Outcome::Forwarded, 0, 0)
    );
    assert!(env.marker(&key).await.unwrap().is_finished());
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("again");
    assert_eq!(report.outcome, Outcome::AlreadyForwarded);
    assert_eq!(sink.calls(), 0);
}

#[tokio::test]
async fn trails_sharing_a_folder_are_told_apart_by_their_metadata() {
    let yaml = r#"
accountId: "111122223333"
stateBucket: state-bucket
trails:
  - Name: writes
    S3BucketName: trail-bucket
    HomeRegion: us-east-1
    EventSelectors: [{ReadWriteType: WriteOnly}]
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:111122223333:log-group:writes:*
  - Name: reads
    S3BucketName: trail-bucket
    HomeRegion: us-east-1
    EventSelectors: [{ReadWriteType: ReadOnly}]
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:111122223333:log-group:reads:*
"#;
    let mut env = env().await;
    env.config = Config::from_yaml(yaml, "test").expect("config");
    let read_only = |i: usize| {
        record(i).replace(
            r#""eventType":"AwsApiCall""#,
            r#""eventType":"AwsApiCall","readOnly":true,"managementEvent":true,"eventCategory":"Management""#,
        )
    };
    for text in [read_only(0), read_only(1)] {
        let raw = serde_json::value::RawValue::from_string(text).unwrap();
        crate::record::Record::parse(&raw, None).expect("a valid record");
    }
    let key = log_key("AbCdEfGh01234567");
    env.put_file_of("reads", BUCKET, &key, gzip(&[read_only(0), read_only(1)]))
        .await;
    let sink = ScriptedSink::default();
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("forward");
    assert_eq!(report.trail.as_deref(), Some("reads"), "{report:?}");
    assert_eq!(sink.stored.lock().unwrap()[0].0, "reads");

    // A file whose metadata names neither trail is left alone, with the reason.
    let mixed = log_key("AbCdEfGh01234568");
    let write = record(2).replace(
        r#""eventType":"AwsApiCall""#,
        r#""eventType":"AwsApiCall","readOnly":false,"managementEvent":true,"eventCategory":"Management""#,
    );
    env.put_file_of("both", BUCKET, &mixed, gzip(&[read_only(0), write]))
        .await;
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &mixed), NOW)
        .await
        .expect("ignored");
    assert_eq!(report.outcome, Outcome::Ignored);
    assert!(
        report
            .ignored_because
            .unwrap()
            .contains("names trail \"both\" in its metadata, which is not configured")
    );
}

/// An organization trail's streams have the organization's ID in front:
/// `o-exampleorgid_{account}_CloudTrail_{region}`, the streams AWS's role policy for
/// organization trails grants as `log-stream:o-exampleorgid_*` (CloudTrail User Guide, "Role
/// policy document for CloudTrail to use CloudWatch Logs for monitoring").
#[tokio::test]
async fn an_organization_trails_file_goes_to_the_stream_with_the_organization_in_front() {
    let yaml = r#"
accountId: "111122223333"
stateBucket: state-bucket
trails:
  - Name: org
    S3BucketName: trail-bucket
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    IsOrganizationTrail: true
    OrganizationId: o-exampleorgid
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:111122223333:log-group:cairn/cloudtrail:*
"#;
    let mut env = env().await;
    env.config = Config::from_yaml(yaml, "test").expect("config");
    // A member account's file, under the trail's AWSLogs/o-exampleorgid/ folder.
    let key = log_file_key(
        None,
        Some("o-exampleorgid"),
        "444455556666",
        "eu-west-1",
        NOW,
        "AbCdEfGh01234567",
    );
    let facts = test_support::facts("org", "444455556666", "eu-west-1", 2);
    test_support::put_log_file(&env.store, BUCKET, &key, gzip(&records(2)), &facts).await;
    let sink = ScriptedSink::default();
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("forward");

    const ORG_STREAM: &str = "o-exampleorgid_444455556666_CloudTrail_eu-west-1";
    assert_eq!(report.outcome, Outcome::Forwarded, "{report:?}");
    assert_eq!(report.log_stream.as_deref(), Some(ORG_STREAM));
    let stored = sink.stored.lock().unwrap();
    assert_eq!(stored.len(), 2);
    for (group, stream, _) in stored.iter() {
        assert_eq!((group.as_str(), stream.as_str()), (GROUP, ORG_STREAM));
    }
}

/// The User Guide's example Insights Start and End ("CloudTrail log file examples"), moved to
/// the forward test's account and to a day before [`NOW`].
fn insights_records() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/awsdocs_user_guide_examples/awsdocs_example_records.json");
    let body: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let day_before = (NOW - time::Duration::days(1)).unix_timestamp();
    body["Records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["insightDetails"]["eventName"] == "UpdateInstanceInformation")
        .enumerate()
        .map(|(i, record)| {
            let mut record = record.clone();
            record["recipientAccountId"] = "111122223333".into();
            record["eventTime"] = EventTime::from_unix_seconds(day_before + i as i64 * 60)
                .to_string()
                .into();
            serde_json::to_string(&record).unwrap()
        })
        .collect()
}

/// An Insights file is forwarded as a log file is (CloudTrail sends Insights events to the
/// trail's log group, User Guide "Working with CloudTrail Insights"), to the same stream: its
/// records byte for byte, the group's metric filters evaluated on them, its own progress marker.
#[tokio::test]
async fn an_insights_file_goes_to_the_accounts_stream_and_meets_the_metric_filters() {
    let mut env = env().await;
    env.config = Config::from_yaml(
        &format!(
            r#"{CONFIG}  - filterName: InsightStarts
    filterPattern: '{{ ($.eventType = "AwsCloudTrailInsight") && ($.insightDetails.state = "Start") }}'
    metricTransformations:
      - metricName: InsightStarts
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
"#
        ),
        "test",
    )
    .expect("config");
    let key = layout::insight_file_key(
        None,
        None,
        "111122223333",
        "us-east-1",
        NOW,
        "AbCdEfGh01234567",
    );
    let records = insights_records();
    assert_eq!(records.len(), 2, "the example's Start and End");
    env.put_file(BUCKET, &key, gzip(&records)).await;
    let sink = ScriptedSink::default();
    let report = env
        .forwarder(&sink)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("forward");

    assert_eq!(report.outcome, Outcome::Forwarded, "{report:?}");
    assert_eq!((report.records, report.forwarded), (2, 2));
    assert_eq!(report.log_stream.as_deref(), Some(STREAM));
    assert_eq!(sink.messages(), records);
    for (group, stream, _) in sink.stored.lock().unwrap().iter() {
        assert_eq!((group.as_str(), stream.as_str()), (GROUP, STREAM));
    }
    // The Start matches; the AccessDenied filter looks at a top-level errorCode, which an
    // Insights record has not.
    assert_eq!((report.matches, report.metrics.len()), (1, 1));
    let alert = env
        .store
        .get(STATE, &layout::alert_key(BUCKET, &key))
        .await
        .expect("alert");
    let alert: Value = serde_json::from_slice(&alert.body).unwrap();
    assert_eq!(alert["matches"][0]["filterName"], "InsightStarts");
    assert_eq!(
        alert["matches"][0]["record"],
        serde_json::from_str::<Value>(&records[0]).unwrap()
    );
    assert!(env.marker(&key).await.expect("marker").is_finished());

    let again = ScriptedSink::default();
    let report = env
        .forwarder(&again)
        .handle(&ObjectCreated::new(BUCKET, &key), NOW)
        .await
        .expect("again");
    assert_eq!(report.outcome, Outcome::AlreadyForwarded);
    assert_eq!(again.calls(), 0);
}
