//! notify against LocalStack's S3, SNS and SQS: the real fixtures delivered and forwarded into
//! LocalStack's S3, then notified through the SNS adapter to topics with an SQS subscriber each
//! (raw message delivery off, so each queue message is SNS's JSON envelope). The notice arrives
//! as CloudTrail's message; each filter's alert arrives once with its subject and attributes.
//!
//! Faults are injected by a wrapper around the real notifier: throttling, which notify rides
//! out by repeating the publish, and a permanent failure of one filter's alert, which fails
//! exactly the alert objects holding its matches; their retry sends only that alert.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::SnsNotifier;
use cairn_shared::adapters::local::LocalLogSink;
use cairn_shared::notify::{Item, ItemOutcome, MessageKind, Notify};
use cairn_shared::ports::notifier::{Notification, Notifier, NotifierError};
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::retry::RetryPolicy;
use cairn_shared::service::Service;
use cairn_test_support::localstack_sdk_config;
use cairn_test_support::notify::{
    alert_records, config, created_objects, deliver_and_forward, expected_alerts,
    record_field_values,
};
use cairn_test_support::pipeline::{create_buckets, unique_suffix};
use cairn_test_support::sns_queue::{receive, subscribed_topic};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// Decides, per publish, whether it fails and how.
type Rule = Box<dyn FnMut(&Notification) -> Option<NotifierError> + Send>;

/// Passes publishes on to the real notifier unless its rule fails them first.
struct Faulty<'a> {
    inner: &'a dyn Notifier,
    rule: Mutex<Rule>,
}

#[async_trait]
impl Notifier for Faulty<'_> {
    async fn publish(
        &self,
        topic_arn: &str,
        notification: &Notification,
    ) -> Result<String, NotifierError> {
        let injected = (self.rule.lock().unwrap())(notification);
        match injected {
            Some(error) => Err(error),
            None => self.inner.publish(topic_arn, notification).await,
        }
    }
}

fn attribute(values: &BTreeSet<String>) -> Value {
    if values.len() == 1 {
        json!({"Type": "String", "Value": values.first().unwrap()})
    } else {
        let list: Vec<&String> = values.iter().collect();
        json!({"Type": "String.Array", "Value": serde_json::to_string(&list).unwrap()})
    }
}

/// Checks an alert envelope and returns its (log group, filter name) and records.
fn read_alert(envelope: &Value, topic: &str) -> ((String, String), Vec<String>) {
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic);
    let message = envelope["Message"].as_str().expect("Message");
    let attributes = &envelope["MessageAttributes"];
    let filter = attributes["filterName"]["Value"]
        .as_str()
        .expect("filterName")
        .to_owned();
    let subject = envelope["Subject"].as_str().expect("Subject");
    assert!(
        subject.starts_with(&format!("Cairn alert: {filter}: ")) && subject.len() <= 100,
        "{subject}"
    );
    let records = alert_records(message);
    let values = |field: &str| record_field_values(&records, field);
    assert_eq!(attributes["filterName"]["Type"], "String");
    assert_eq!(attributes["eventName"], attribute(&values("eventName")));
    assert_eq!(attributes["eventSource"], attribute(&values("eventSource")));
    assert_eq!(attributes["region"], attribute(&values("awsRegion")));
    assert_eq!(
        attributes["account"],
        attribute(&values("recipientAccountId"))
    );
    let group = message
        .lines()
        .find_map(|line| line.strip_prefix("Log group: "))
        .expect("the log group line")
        .to_owned();
    ((group, filter), records)
}

#[tokio::test(flavor = "multi_thread")]
async fn notices_and_alerts_reach_sqs_subscribers_through_sns_despite_faults() {
    let Some(sdk) = localstack_sdk_config(
        "notices_and_alerts_reach_sqs_subscribers_through_sns_despite_faults",
    )
    .await
    else {
        return;
    };
    let suffix = unique_suffix();
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (notices, notice_queue) =
        subscribed_topic(&sns, &sqs, &format!("cairn-notices-{suffix}")).await;
    let (alerts, alert_queue) =
        subscribed_topic(&sns, &sqs, &format!("cairn-alerts-{suffix}")).await;
    let config = config(&suffix, &notices, &alerts);
    create_buckets(&sdk, &config).await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = LocalLogSink::new(dir.path().join("logs"));
    let now = OffsetDateTime::now_utc();
    let files = deliver_and_forward(&config, &store, &sink, now).await;
    let items = created_objects(&config, &store).await;
    let expected = expected_alerts(&config, &store).await;
    assert!(expected.len() >= 3, "{:?}", expected.keys());

    // The first two publishes are throttled; IamChanges' alert fails for good.
    let sns_notifier = SnsNotifier::new(&sdk);
    let mut throttles = 2;
    let faulty = Faulty {
        inner: &sns_notifier,
        rule: Mutex::new(Box::new(move |notification: &Notification| {
            if throttles > 0 {
                throttles -= 1;
                return Some(NotifierError::Retryable {
                    topic_arn: "injected".to_owned(),
                    detail: "Throttling: Rate exceeded".to_owned(),
                });
            }
            let subject = notification.subject.as_deref().unwrap_or_default();
            subject
                .starts_with("Cairn alert: IamChanges:")
                .then(|| NotifierError::Failed {
                    topic_arn: "injected".to_owned(),
                    detail: "AuthorizationError: not allowed".to_owned(),
                })
        })),
    };
    let retry = RetryPolicy {
        attempts: 4,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
    };
    let report = Notify::new(&config, &store, &faulty)
        .with_retry(retry)
        .handle(&items, now)
        .await
        .expect("notify never fails as a whole");
    assert_eq!(report.sent[0].kind, MessageKind::DeliveryNotice);
    assert_eq!(
        report.sent[0].attempts, 3,
        "two throttled attempts, then sent"
    );

    // Exactly the alert objects holding an IamChanges match failed; they are still there.
    let mut iam_alerts = BTreeSet::new();
    for item in &items {
        if item.object.bucket != config.state_bucket {
            continue;
        }
        let object = store
            .get(&config.state_bucket, &item.object.key)
            .await
            .expect("alert object kept");
        let alert: Value = serde_json::from_slice(&object.body).unwrap();
        if alert["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["filterName"] == "IamChanges")
        {
            iam_alerts.insert(item.id.clone());
        }
    }
    assert!(!iam_alerts.is_empty());
    let failed: BTreeSet<String> = report.failed().map(|item| item.id.clone()).collect();
    assert_eq!(failed, iam_alerts);

    // The notice: CloudTrail's message for exactly trail everything's log files.
    let with_topic = config.trails[0].bucket();
    let keys: Vec<String> = items
        .iter()
        .filter(|item| {
            item.object.bucket == with_topic && files.iter().any(|f| f.key == item.object.key)
        })
        .map(|item| serde_json::to_string(&item.object.key).unwrap())
        .collect();
    let envelope = &receive(&sqs, &notice_queue, 1).await[0];
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], notices.as_str());
    assert_eq!(
        envelope["Message"].as_str().unwrap(),
        format!(
            r#"{{"s3Bucket":"{with_topic}","s3ObjectKey":[{}]}}"#,
            keys.join(",")
        )
    );
    assert!(
        envelope.get("Subject").is_none_or(Value::is_null),
        "{envelope}"
    );
    assert!(
        envelope
            .get("MessageAttributes")
            .is_none_or(|a| a.as_object().is_none_or(|a| a.is_empty())),
        "{envelope}"
    );

    // Every filter's alert but IamChanges', once each.
    let iam = expected
        .keys()
        .find(|(_, filter)| filter == "IamChanges")
        .expect("IamChanges matched")
        .clone();
    let mut got: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for envelope in receive(&sqs, &alert_queue, expected.len() - 1).await {
        let (filter, records) = read_alert(&envelope, &alerts);
        assert!(got.insert(filter, records).is_none(), "one alert a filter");
    }
    assert!(!got.contains_key(&iam));

    // The failed items again, SNS working: only IamChanges' alert goes, and no notice.
    let retried: Vec<Item> = items
        .iter()
        .filter(|item| failed.contains(&item.id))
        .cloned()
        .collect();
    let report = Notify::new(&config, &store, &sns_notifier)
        .handle(&retried, now)
        .await
        .expect("notify never fails as a whole");
    assert!(
        report
            .items
            .iter()
            .all(|item| item.outcome == ItemOutcome::Notified),
        "{report:#?}"
    );
    let envelope = &receive(&sqs, &alert_queue, 1).await[0];
    let (filter, records) = read_alert(envelope, &alerts);
    assert_eq!(filter, iam);
    got.insert(filter, records);
    assert_eq!(got, expected);
    receive(&sqs, &notice_queue, 0).await;
}
