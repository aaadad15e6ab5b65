use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::{Value, json};

use super::*;
use time::OffsetDateTime;

use crate::adapters::local::LocalObjectStore;
use crate::adapters::local::RecordingStore;
use crate::delivered::test_support;
use crate::layout;
use crate::notify::test_support::{KEY, alert_json, record, root};
use crate::ports::notifier::check_publish;
use crate::ports::object_store::PutOptions;
use crate::service::Service;

/// The clock the service is handed; nothing notify sends depends on it.
const NOW: OffsetDateTime = time::macros::datetime!(2026-11-22 10:00:00 UTC);

const NOTICES: &str = "arn:aws:sns:us-east-1:123456789012:cairn-notices";
const ALERTS: &str = "arn:aws:sns:us-east-1:123456789012:cairn-alerts";
const STATE: &str = "cairn-state-123456789012";
const TRAIL_BUCKET: &str = "cairn-trail-123456789012";
const QUIET_BUCKET: &str = "cairn-quiet-123456789012";

const CONFIG: &str = r#"
accountId: "123456789012"
stateBucket: cairn-state-123456789012
alertTopicArn: arn:aws:sns:us-east-1:123456789012:cairn-alerts
trails:
  - Name: main
    S3BucketName: cairn-trail-123456789012
    S3KeyPrefix: audit
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    SnsTopicARN: arn:aws:sns:us-east-1:123456789012:cairn-notices
  - Name: quiet
    S3BucketName: cairn-quiet-123456789012
    HomeRegion: us-east-1
"#;

fn config(yaml: &str) -> Config {
    Config::from_yaml(yaml, "test").expect("config")
}

/// Decides, per publish, whether it fails and how.
type Rule = Box<dyn FnMut(&str, &Notification) -> Option<NotifierError> + Send>;

/// Keeps what it is asked to publish, after the checks the real adapters make.
struct FakeNotifier {
    published: Mutex<Vec<(String, Notification)>>,
    attempts: Mutex<usize>,
    rule: Mutex<Rule>,
}

impl FakeNotifier {
    fn failing(
        rule: impl FnMut(&str, &Notification) -> Option<NotifierError> + Send + 'static,
    ) -> Self {
        Self {
            published: Mutex::new(Vec::new()),
            attempts: Mutex::new(0),
            rule: Mutex::new(Box::new(rule)),
        }
    }

    fn healthy() -> Self {
        Self::failing(|_, _| None)
    }

    fn published(&self) -> Vec<(String, Notification)> {
        self.published.lock().unwrap().clone()
    }

    fn attempts(&self) -> usize {
        *self.attempts.lock().unwrap()
    }
}

#[async_trait]
impl Notifier for FakeNotifier {
    async fn publish(
        &self,
        topic_arn: &str,
        notification: &Notification,
    ) -> Result<String, NotifierError> {
        *self.attempts.lock().unwrap() += 1;
        check_publish(topic_arn, notification)?;
        if let Some(error) = (self.rule.lock().unwrap())(topic_arn, notification) {
            return Err(error);
        }
        let mut published = self.published.lock().unwrap();
        published.push((topic_arn.to_owned(), notification.clone()));
        Ok(format!("message-{}", published.len()))
    }
}

fn throttled(topic: &str) -> NotifierError {
    NotifierError::Retryable {
        topic_arn: topic.to_owned(),
        detail: "Throttling: Rate exceeded".to_owned(),
    }
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
    }
}

async fn store(config: &Config) -> (tempfile::TempDir, LocalObjectStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    for bucket in [STATE, TRAIL_BUCKET, QUIET_BUCKET] {
        store.create_bucket(bucket).await.expect("bucket");
    }
    assert_eq!(config.state_bucket, STATE);
    (dir, store)
}

/// A log file key of the account in `region`, its unique part `unique`, under `prefix`.
fn log_key(prefix: &str, region: &str, unique: &str) -> String {
    format!(
        "{prefix}AWSLogs/123456789012/CloudTrail/{region}/2026/11/20/123456789012_CloudTrail_{region}_20261120T1010Z_{unique}.json.gz"
    )
}

/// Puts a log file of `trail` for the account in `region`, with the metadata deliver writes;
/// its body is never read.
async fn put_log_file(
    store: &LocalObjectStore,
    trail: &str,
    bucket: &str,
    key: &str,
    region: &str,
) {
    let facts = test_support::facts(trail, "123456789012", region, 1);
    test_support::put_log_file(store, bucket, key, gzip("{\"Records\":[]}"), &facts).await;
}

fn item(id: &str, bucket: &str, key: &str) -> Item {
    Item {
        id: id.to_owned(),
        object: ObjectCreated {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: None,
            etag: None,
        },
    }
}

async fn put_alert(store: &LocalObjectStore, text: &str) -> String {
    let key = layout::alert_key(TRAIL_BUCKET, KEY);
    store
        .put(
            STATE,
            &key,
            Bytes::from(text.to_owned()),
            &PutOptions::new("application/json"),
        )
        .await
        .expect("alert object");
    key
}

fn outcomes(report: &NotifyReport) -> Vec<(&str, ItemOutcome)> {
    report
        .items
        .iter()
        .map(|item| (item.id.as_str(), item.outcome))
        .collect()
}

/// Two filters' matches: two root logins and a StopLogging.
fn two_filters() -> String {
    alert_json(&[
        (
            "RootAccountUsage",
            record("ConsoleLogin", "2026-11-20T10:05:12Z", root(), json!({})),
        ),
        (
            "CloudTrailChanges",
            record(
                "StopLogging",
                "2026-11-20T10:06:00Z",
                json!({"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/mallory"}),
                json!({"eventSource": "cloudtrail.amazonaws.com"}),
            ),
        ),
        (
            "RootAccountUsage",
            record("ConsoleLogin", "2026-11-20T10:07:00Z", root(), json!({})),
        ),
    ])
}

#[tokio::test]
async fn one_batch_gets_one_notice_per_topic_and_bucket_and_one_alert_per_filter() {
    let config = config(CONFIG);
    let (_dir, store) = store(&config).await;
    let alert_key = put_alert(&store, &two_filters()).await;
    let first = log_key("audit/", "us-east-1", "AAAAAAAAAAAAAAA1");
    let second = log_key("audit/", "eu-west-1", "AAAAAAAAAAAAAAA2");
    let quiet = log_key("", "us-east-1", "AAAAAAAAAAAAAAA3");
    put_log_file(&store, "main", TRAIL_BUCKET, &first, "us-east-1").await;
    put_log_file(&store, "main", TRAIL_BUCKET, &second, "eu-west-1").await;
    put_log_file(&store, "quiet", QUIET_BUCKET, &quiet, "us-east-1").await;
    let digest = "audit/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/20/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20261120T100000Z.json.gz";
    let items = [
        item("m1", TRAIL_BUCKET, &first),
        item("m2", STATE, &alert_key),
        item("m3", TRAIL_BUCKET, &second),
        item("m4", QUIET_BUCKET, &quiet),
        item("m5", TRAIL_BUCKET, digest),
        item("m6", STATE, "forward/progress/x.json"),
        item("m7", TRAIL_BUCKET, &first),
    ];
    let notifier = FakeNotifier::healthy();
    let report = Notify::new(&config, &store, &notifier)
        .with_retry(fast())
        .handle(&items, NOW)
        .await
        .expect("notify never fails as a whole");

    assert_eq!(
        outcomes(&report),
        [
            ("m1", ItemOutcome::Notified),
            ("m2", ItemOutcome::Notified),
            ("m3", ItemOutcome::Notified),
            ("m4", ItemOutcome::Ignored),
            ("m5", ItemOutcome::Ignored),
            ("m6", ItemOutcome::Ignored),
            ("m7", ItemOutcome::Notified),
        ]
    );
    let reason = |i: usize| report.items[i].reason.as_deref().unwrap_or_default();
    assert_eq!(
        reason(3),
        format!(
            "s3://{QUIET_BUCKET}/{quiet} is a log file of trail quiet, which has no SnsTopicARN"
        )
    );
    assert!(
        reason(4).contains("is a digest file, not a log file"),
        "{}",
        reason(4)
    );
    assert!(
        reason(5).contains("is not the bucket of a configured trail"),
        "{}",
        reason(5)
    );

    let published = notifier.published();
    assert_eq!(published.len(), 3, "{published:#?}");
    assert_eq!(
        published[0],
        (
            NOTICES.to_owned(),
            Notification {
                message: format!(
                    r#"{{"s3Bucket":"{TRAIL_BUCKET}","s3ObjectKey":["{first}","{second}"]}}"#
                ),
                ..Notification::default()
            }
        )
    );
    let alerts: Vec<(&str, Option<&str>)> = published[1..]
        .iter()
        .map(|(topic, n)| (topic.as_str(), n.subject.as_deref()))
        .collect();
    assert_eq!(
        alerts,
        [
            (
                ALERTS,
                Some("Cairn alert: RootAccountUsage: 2 x ConsoleLogin by root in us-east-1")
            ),
            (
                ALERTS,
                Some("Cairn alert: CloudTrailChanges: StopLogging by mallory in us-east-1")
            ),
        ]
    );
    assert_eq!(
        report
            .sent
            .iter()
            .map(|m| (m.kind, m.log_files, m.matches, m.attempts))
            .collect::<Vec<_>>(),
        [
            (MessageKind::DeliveryNotice, 2, 0, 1),
            (MessageKind::Alert, 0, 2, 1),
            (MessageKind::Alert, 0, 1, 1),
        ]
    );

    // The marker says every match went: the alert object again (a redelivery) sends nothing.
    let marker = store
        .get(STATE, &layout::notify_sent_key(&alert_key))
        .await
        .expect("sent marker");
    let marker: Value = serde_json::from_slice(&marker.body).expect("json");
    assert_eq!(marker["announced"], json!([[0, 2]]));
    let again = Notify::new(&config, &store, &notifier)
        .handle(&items[1..2], NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&again), [("m2", ItemOutcome::AlreadyNotified)]);
    assert!(again.sent.is_empty());
    assert_eq!(notifier.published().len(), 3);
}

#[tokio::test]
async fn throttled_publishes_are_repeated_within_a_bound() {
    let config = config(CONFIG);
    let (_dir, store) = store(&config).await;
    let key = log_key("audit/", "us-east-1", "AAAAAAAAAAAAAAA1");
    put_log_file(&store, "main", TRAIL_BUCKET, &key, "us-east-1").await;
    let items = [item("m1", TRAIL_BUCKET, &key)];

    let mut failures = 2;
    let notifier = FakeNotifier::failing(move |topic, _| {
        (failures > 0).then(|| {
            failures -= 1;
            throttled(topic)
        })
    });
    let report = Notify::new(&config, &store, &notifier)
        .with_retry(fast())
        .handle(&items, NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&report), [("m1", ItemOutcome::Notified)]);
    assert_eq!(report.sent[0].attempts, 3);
    assert_eq!(notifier.published().len(), 1);

    let notifier = FakeNotifier::failing(|topic, _| Some(throttled(topic)));
    let report = Notify::new(&config, &store, &notifier)
        .with_retry(fast())
        .handle(&items, NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&report), [("m1", ItemOutcome::Failed)]);
    assert_eq!(notifier.attempts(), 3);
    let reason = report.items[0].reason.as_deref().unwrap();
    assert!(
        reason.starts_with("not published after 3 attempt(s): publishing to topic arn:aws:sns:us-east-1:123456789012:cairn-notices was throttled"),
        "{reason}"
    );
    assert_eq!(report.failed().count(), 1);
}

#[tokio::test]
async fn a_failed_alert_is_retried_without_resending_what_went() {
    let config = config(CONFIG);
    let (_dir, store) = store(&config).await;
    let alert_key = put_alert(&store, &two_filters()).await;
    let log_file = log_key("audit/", "us-east-1", "AAAAAAAAAAAAAAA1");
    put_log_file(&store, "main", TRAIL_BUCKET, &log_file, "us-east-1").await;
    let items = [
        item("notice", TRAIL_BUCKET, &log_file),
        item("alert", STATE, &alert_key),
    ];
    // CloudTrailChanges' message fails for good; everything else goes.
    let notifier = FakeNotifier::failing(|topic, notification| {
        let subject = notification.subject.as_deref().unwrap_or_default();
        subject
            .contains(": CloudTrailChanges:")
            .then(|| NotifierError::Failed {
                topic_arn: topic.to_owned(),
                detail: "AuthorizationError".to_owned(),
            })
    });
    let report = Notify::new(&config, &store, &notifier)
        .with_retry(fast())
        .handle(&items, NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(
        outcomes(&report),
        [
            ("notice", ItemOutcome::Notified),
            ("alert", ItemOutcome::Failed)
        ]
    );
    assert_eq!(
        report.items[1].reason.as_deref(),
        Some(
            "not published after 1 attempt(s): publishing to topic arn:aws:sns:us-east-1:123456789012:cairn-alerts failed: AuthorizationError"
        )
    );
    let first_run: Vec<Option<String>> = notifier
        .published()
        .into_iter()
        .map(|(_, n)| n.subject)
        .collect();
    assert_eq!(
        first_run,
        [
            None,
            Some("Cairn alert: RootAccountUsage: 2 x ConsoleLogin by root in us-east-1".to_owned())
        ]
    );
    // Nothing was removed: the alert object is there for the retry, and the marker names the
    // two root logins (positions 0 and 2) as announced.
    store
        .get(STATE, &alert_key)
        .await
        .expect("alert object kept");
    let marker = store
        .get(STATE, &layout::notify_sent_key(&alert_key))
        .await
        .expect("marker");
    let marker: Value = serde_json::from_slice(&marker.body).expect("json");
    assert_eq!(marker["announced"], json!([[0, 0], [2, 2]]));

    // The retry of the failed item sends only the StopLogging alert.
    let healthy = FakeNotifier::healthy();
    let retry = Notify::new(&config, &store, &healthy)
        .with_retry(fast())
        .handle(&items[1..], NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&retry), [("alert", ItemOutcome::Notified)]);
    let resent: Vec<Notification> = healthy.published().into_iter().map(|(_, n)| n).collect();
    assert_eq!(resent.len(), 1);
    assert_eq!(
        resent[0].subject.as_deref(),
        Some("Cairn alert: CloudTrailChanges: StopLogging by mallory in us-east-1")
    );
    assert!(!resent[0].message.contains("ConsoleLogin"));
    let again = Notify::new(&config, &store, &healthy)
        .handle(&items[1..], NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&again), [("alert", ItemOutcome::AlreadyNotified)]);
    assert_eq!(healthy.published().len(), 1);
}

#[tokio::test]
async fn alert_objects_that_cannot_be_announced_say_why() {
    let config = config(CONFIG);
    let (_dir, store) = store(&config).await;
    let notifier = FakeNotifier::healthy();
    let notify = Notify::new(&config, &store, &notifier).with_retry(fast());

    let missing = item("gone", STATE, &layout::alert_key(TRAIL_BUCKET, KEY));
    let report = notify
        .handle(std::slice::from_ref(&missing), NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&report), [("gone", ItemOutcome::Ignored)]);

    // A newer writer's format is not guessed at: the item fails and waits for a notify that
    // reads it.
    let newer = two_filters().replacen("\"version\":1", "\"version\":2", 1);
    put_alert(&store, &newer).await;
    let report = notify
        .handle(std::slice::from_ref(&missing), NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&report), [("gone", ItemOutcome::Failed)]);
    assert_eq!(
        report.items[0].reason.as_deref(),
        Some(
            format!(
                "s3://{STATE}/alerts/{TRAIL_BUCKET}/{KEY}.json: alert object version 2; this notify reads version 1"
            )
            .as_str()
        )
    );

    // Without alertTopicArn nothing is read or sent.
    let silent = self::config(&CONFIG.replace("alertTopicArn:", "# alertTopicArn:"));
    let report = Notify::new(&silent, &store, &notifier)
        .handle(std::slice::from_ref(&missing), NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&report), [("gone", ItemOutcome::Ignored)]);
    assert!(
        report.items[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("alertTopicArn is not set")
    );

    // A state bucket that cannot be read fails the item, to be tried again.
    let unreachable = self::config(&CONFIG.replace(
        "stateBucket: cairn-state-123456789012",
        "stateBucket: cairn-state-elsewhere",
    ));
    let report = Notify::new(&unreachable, &store, &notifier)
        .handle(
            &[item(
                "x",
                "cairn-state-elsewhere",
                &layout::alert_key(TRAIL_BUCKET, KEY),
            )],
            NOW,
        )
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&report), [("x", ItemOutcome::Failed)]);
    assert!(notifier.published().is_empty());
}

fn gzip(text: &str) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).expect("gzip");
    Bytes::from(encoder.finish().expect("gzip"))
}

#[tokio::test]
async fn trails_sharing_a_folder_with_different_topics_are_told_apart_by_the_metadata() {
    let yaml = r#"
accountId: "123456789012"
stateBucket: cairn-state-123456789012
trails:
  - Name: writes
    S3BucketName: cairn-trail-123456789012
    HomeRegion: us-east-1
    SnsTopicARN: arn:aws:sns:us-east-1:123456789012:writes
    EventSelectors: [{ReadWriteType: WriteOnly}]
  - Name: reads
    S3BucketName: cairn-trail-123456789012
    HomeRegion: us-east-1
    SnsTopicARN: arn:aws:sns:us-east-1:123456789012:reads
    EventSelectors: [{ReadWriteType: ReadOnly}]
"#;
    let config = config(yaml);
    let (_dir, store) = store(&config).await;
    let key = log_key("", "us-east-1", "AAAAAAAAAAAAAAA1");
    put_log_file(&store, "reads", TRAIL_BUCKET, &key, "us-east-1").await;
    let notifier = FakeNotifier::healthy();
    let counting = RecordingStore::new(store.clone());
    let notify = Notify::new(&config, &counting, &notifier);
    let report = notify
        .handle(&[item("m1", TRAIL_BUCKET, &key)], NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(
        outcomes(&report),
        [("m1", ItemOutcome::Notified)],
        "{report:?}"
    );
    assert_eq!(
        notifier.published()[0].0,
        "arn:aws:sns:us-east-1:123456789012:reads"
    );
    assert_eq!(
        counting.take_gets().len(),
        0,
        "notify reads a log file's metadata, never the file"
    );

    // A file whose metadata names neither trail is not guessed at.
    let other = log_key("", "us-east-1", "AAAAAAAAAAAAAAA2");
    put_log_file(&store, "both", TRAIL_BUCKET, &other, "us-east-1").await;
    let report = notify
        .handle(&[item("m2", TRAIL_BUCKET, &other)], NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&report), [("m2", ItemOutcome::Ignored)]);
    let reason = report.items[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("names trail \"both\" in its metadata, which is not configured"),
        "{reason}"
    );
    assert_eq!(notifier.published().len(), 1);
}

#[tokio::test]
async fn log_files_without_cairns_metadata_or_of_another_trails_bucket_are_ignored() {
    let config = config(CONFIG);
    let (_dir, store) = store(&config).await;
    let bare = log_key("audit/", "us-east-1", "AAAAAAAAAAAAAAA1");
    store
        .put(
            TRAIL_BUCKET,
            &bare,
            gzip("{\"Records\":[]}"),
            &PutOptions::new("application/json"),
        )
        .await
        .expect("log file");
    // Trail quiet's metadata on an object in trail main's bucket and folder.
    let spoofed = log_key("audit/", "us-east-1", "AAAAAAAAAAAAAAA2");
    put_log_file(&store, "quiet", TRAIL_BUCKET, &spoofed, "us-east-1").await;
    let gone = log_key("audit/", "us-east-1", "AAAAAAAAAAAAAAA3");
    let notifier = FakeNotifier::healthy();
    let counting = RecordingStore::new(store.clone());
    let report = Notify::new(&config, &counting, &notifier)
        .handle(
            &[
                item("bare", TRAIL_BUCKET, &bare),
                item("spoofed", TRAIL_BUCKET, &spoofed),
                item("gone", TRAIL_BUCKET, &gone),
            ],
            NOW,
        )
        .await
        .expect("notify never fails as a whole");
    assert_eq!(
        outcomes(&report),
        [
            ("bare", ItemOutcome::Ignored),
            ("spoofed", ItemOutcome::Ignored),
            ("gone", ItemOutcome::Ignored),
        ]
    );
    let reason = |i: usize| report.items[i].reason.as_deref().unwrap_or_default();
    assert_eq!(
        reason(0),
        format!(
            "s3://{TRAIL_BUCKET}/{bare} is not a log file Cairn delivered: it has no cairn-trail \
             metadata, which Cairn's deliver writes on every log file"
        )
    );
    assert!(
        reason(1).contains(&format!(
            "names trail quiet in its metadata, whose log files are under s3://{QUIET_BUCKET}/AWSLogs/, not here"
        )),
        "{}",
        reason(1)
    );
    assert!(reason(2).contains("is gone"), "{}", reason(2));
    assert!(notifier.published().is_empty());
    assert_eq!(counting.take_gets().len(), 0);
}

/// Insights files reach notify (its rule takes every object of the trail bucket) but get no
/// delivery notice, even on a trail with a topic; they are not read either.
#[tokio::test]
async fn insights_files_get_no_delivery_notice() {
    let config = config(CONFIG);
    let (_dir, store) = store(&config).await;
    let insights = log_key("audit/", "us-east-1", "AAAAAAAAAAAAAAA1")
        .replace("CloudTrail", layout::INSIGHT_KIND);
    put_log_file(&store, "main", TRAIL_BUCKET, &insights, "us-east-1").await;
    let notifier = FakeNotifier::healthy();
    let counting = RecordingStore::new(store.clone());
    let report = Notify::new(&config, &counting, &notifier)
        .handle(&[item("insights", TRAIL_BUCKET, &insights)], NOW)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(outcomes(&report), [("insights", ItemOutcome::Ignored)]);
    assert_eq!(
        report.items[0].reason.as_deref(),
        Some(
            format!(
                "s3://{TRAIL_BUCKET}/{insights} is an Insights file of trail main: delivery \
                 notices are for log files"
            )
            .as_str()
        )
    );
    assert!(notifier.published().is_empty());
    assert_eq!(counting.take_gets().len(), 0);
}
