//! notify on the embedded store: the real fixtures ingested, delivered and forwarded, then every
//! object S3 would report created handed to notify at once, into the local notifier. The trail
//! with a topic gets CloudTrail's delivery notice for exactly its log files, byte for byte; every
//! metric-filter match in the alert objects is alerted once, grouped per filter, with the
//! attributes of its records; a second pass repeats the notices (SNS is at least once) but no
//! alert.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cairn_shared::adapters::local::LocalLogSink;
use cairn_shared::adapters::local::LocalNotifier;
use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::notify::{ItemOutcome, Notify};
use cairn_shared::ports::notifier::MAX_SUBJECT_CHARS;
use cairn_shared::service::Service;
use cairn_test_support::notify::{
    alert_records, config, created_objects, deliver_and_forward, expected_alerts,
    record_field_values,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);
const NOTICES: &str = "arn:aws:sns:us-east-1:111122223333:cairn-test-notices";
const ALERTS: &str = "arn:aws:sns:us-east-1:111122223333:cairn-test-alerts";

fn read_topic(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|line| serde_json::from_str(line).expect("json line"))
        .collect()
}

/// The value a String or String.Array attribute should have for `values`.
fn attribute(values: &BTreeSet<String>) -> Value {
    if values.len() == 1 {
        json!({"Type": "String", "Value": values.first().unwrap()})
    } else {
        let list: Vec<&String> = values.iter().collect();
        json!({"Type": "String.Array", "Value": serde_json::to_string(&list).unwrap()})
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn delivered_log_files_are_announced_and_every_match_alerted_once() {
    let config = config("", NOTICES, ALERTS);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().join("store"));
    for bucket in std::iter::once(config.state_bucket.as_str())
        .chain(config.trails.iter().map(|t| t.bucket()))
    {
        store.create_bucket(bucket).await.expect("bucket");
    }
    let sink = LocalLogSink::new(dir.path().join("logs"));
    let files = deliver_and_forward(&config, &store, &sink, T0).await;
    let items = created_objects(&config, &store).await;
    let notifier = LocalNotifier::new(dir.path().join("sns"));
    let notify = Notify::new(&config, &store, &notifier);
    let report = notify
        .handle(&items, T0)
        .await
        .expect("notify never fails as a whole");

    // What each object got: the log files of the trail with a topic and the alert objects are
    // notified; the other trail's log files and all digests are not.
    let with_topic = config.trails[0].bucket();
    let is_log_file = |bucket: &str, key: &str| {
        files
            .iter()
            .any(|file| file.bucket == bucket && file.key == key)
    };
    let mut expected_notice_keys = Vec::new();
    for (item, got) in items.iter().zip(&report.items) {
        let (bucket, key) = (item.object.bucket.as_str(), item.object.key.as_str());
        let expected = if bucket == config.state_bucket {
            ItemOutcome::Notified
        } else if bucket == with_topic && is_log_file(bucket, key) {
            expected_notice_keys.push(key.to_owned());
            ItemOutcome::Notified
        } else {
            ItemOutcome::Ignored
        };
        assert_eq!(got.outcome, expected, "{} {:?}", item.id, got.reason);
        assert_eq!(got.id, item.id);
    }
    let ignored_log_files = report
        .items
        .iter()
        .filter(|item| item.outcome == ItemOutcome::Ignored && is_log_file(&item.bucket, &item.key))
        .count();
    assert!(ignored_log_files > 0, "home-writes has log files too");
    assert!(expected_notice_keys.len() > 5, "{expected_notice_keys:?}");

    // One notice (its keys fit in one message), CloudTrail's message byte for byte, no subject
    // and no attributes.
    let notices = read_topic(&notifier.topic_path(NOTICES).unwrap());
    assert_eq!(notices.len(), 1);
    let quoted: Vec<String> = expected_notice_keys
        .iter()
        .map(|key| serde_json::to_string(key).unwrap())
        .collect();
    assert_eq!(
        notices[0]["Message"].as_str().unwrap(),
        format!(
            r#"{{"s3Bucket":"{with_topic}","s3ObjectKey":[{}]}}"#,
            quoted.join(",")
        )
    );
    let fields: BTreeSet<&str> = notices[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["Message", "MessageId", "Timestamp", "TopicArn", "Type"])
    );
    assert_eq!(notices[0]["TopicArn"], NOTICES);

    // Alerts: one message per metric filter, holding every match's record once, in eventTime
    // order, with attributes naming what is in it.
    let expected = expected_alerts(&config, &store).await;
    assert!(expected.len() >= 3, "{:?}", expected.keys());
    for records in expected.values() {
        let bytes: usize = records.iter().map(String::len).sum();
        assert!(bytes < 200_000, "each filter's matches fit in one message");
    }
    let alerts = read_topic(&notifier.topic_path(ALERTS).unwrap());
    assert_eq!(alerts.len(), expected.len());
    let mut got: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for alert in &alerts {
        let message = alert["Message"].as_str().unwrap();
        let group = message
            .lines()
            .find_map(|line| line.strip_prefix("Log group: "))
            .expect("the log group line")
            .to_owned();
        let attributes = &alert["MessageAttributes"];
        let filter = attributes["filterName"]["Value"]
            .as_str()
            .unwrap()
            .to_owned();
        let subject = alert["Subject"].as_str().unwrap();
        assert!(
            subject.starts_with(&format!("Cairn alert: {filter}: ")),
            "{subject}"
        );
        assert!(subject.len() <= MAX_SUBJECT_CHARS);
        let records = alert_records(message);
        let values = |field: &str| record_field_values(&records, field);
        assert_eq!(attributes["eventName"], attribute(&values("eventName")));
        assert_eq!(attributes["eventSource"], attribute(&values("eventSource")));
        assert_eq!(attributes["region"], attribute(&values("awsRegion")));
        assert_eq!(
            attributes["account"],
            attribute(&values("recipientAccountId"))
        );
        assert!(
            message.starts_with(&format!(
                "Metric filter {filter} matched {} ",
                records.len()
            )),
            "{message}"
        );
        got.insert((group, filter), records);
    }
    assert_eq!(got, expected);

    // Every event again, as an at-least-once redelivery: no alert goes twice (the sent markers
    // say every match went); the notice does, as CloudTrail's may.
    let again = notify
        .handle(&items, T0)
        .await
        .expect("notify never fails as a whole");
    for (item, got) in items.iter().zip(&again.items) {
        if item.object.bucket == config.state_bucket {
            assert_eq!(got.outcome, ItemOutcome::AlreadyNotified, "{}", item.id);
        }
    }
    assert_eq!(read_topic(&notifier.topic_path(ALERTS).unwrap()), alerts);
    let notices_again = read_topic(&notifier.topic_path(NOTICES).unwrap());
    assert_eq!(notices_again.len(), 2);
    assert_eq!(notices_again[1]["Message"], notices[0]["Message"]);
}
