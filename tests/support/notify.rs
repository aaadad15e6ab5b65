//! What the notify tests share: the pipeline configuration with topics, log groups and metric
//! filters, the fixtures delivered and forwarded, and what notify should make of them.

use std::collections::{BTreeMap, BTreeSet};

use cairn_shared::config::Config;
use cairn_shared::delivery::{DeliveredFile, Deliverer};
use cairn_shared::forward::Forwarder;
use cairn_shared::layout::ALERTS_PREFIX;
use cairn_shared::notify::Item;
use cairn_shared::ports::log_sink::LogSink;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::trigger::ObjectCreated;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::forward::{log_groups, recent_fixture_batches};
use crate::pipeline::{CONFIG, stage_batch};
use cairn_shared::service::Service;

/// The pipeline configuration (see `crate::pipeline::CONFIG`): trail `everything` sends
/// delivery notices to `notices`, trail `home-writes` has no topic; both have a log group
/// (named as `crate::forward::log_groups` names them), with three metric filters, and alerts
/// go to `alerts`. With a non-empty `suffix` buckets and groups get it, so runs against one
/// LocalStack never meet.
pub fn config(suffix: &str, notices: &str, alerts: &str) -> Config {
    let [everything, writes] = log_groups(suffix);
    let dash = if suffix.is_empty() {
        String::new()
    } else {
        format!("-{suffix}")
    };
    let arn = |group: &str| format!("arn:aws:logs:us-east-1:111122223333:log-group:{group}:*");
    let mut yaml = CONFIG
        .replace(
            "    S3BucketName: cairn-test-everything\n",
            &format!(
                "    S3BucketName: cairn-test-everything{dash}\n    CloudWatchLogsLogGroupArn: {}\n    SnsTopicARN: {notices}\n",
                arn(&everything)
            ),
        )
        .replace(
            "    S3BucketName: cairn-test-writes\n",
            &format!(
                "    S3BucketName: cairn-test-writes{dash}\n    CloudWatchLogsLogGroupArn: {}\n",
                arn(&writes)
            ),
        );
    yaml.push_str(&format!(
        r#"stateBucket: cairn-test-state{dash}
alertTopicArn: {alerts}
metricFilters:
  - filterName: UnauthorizedAPICalls
    filterPattern: '{{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }}'
    metricTransformations:
      - {{metricName: UnauthorizedAPICalls, metricNamespace: CloudTrailMetrics, metricValue: "1"}}
  - filterName: IamChanges
    logGroupName: {everything}
    filterPattern: '{{ ($.eventSource = "iam.amazonaws.com") && ($.readOnly IS FALSE) }}'
    metricTransformations:
      - {{metricName: IamChanges, metricNamespace: CloudTrailMetrics, metricValue: "1"}}
  - filterName: Writes
    logGroupName: {writes}
    filterPattern: '{{ $.readOnly IS FALSE }}'
    metricTransformations:
      - {{metricName: Writes, metricNamespace: CloudTrailMetrics, metricValue: "1"}}
"#
    ));
    Config::from_yaml(&yaml, "notify test configuration").expect("the test configuration")
}

/// Stages the fixtures (moved to the days before `now`), delivers them and forwards every log
/// file and Insights file; returns the log files delivered.
pub async fn deliver_and_forward(
    config: &Config,
    store: &dyn ObjectStore,
    sink: &dyn LogSink,
    now: OffsetDateTime,
) -> Vec<DeliveredFile> {
    for (i, (_, body)) in recent_fixture_batches(now).iter().enumerate() {
        stage_batch(store, config, body, now + Duration::milliseconds(i as i64)).await;
    }
    let delivery = Deliverer::new(config, store, Some(crate::digests::signer().await))
        .handle(&Duration::minutes(10), now)
        .await
        .expect("deliver");
    let forwarder = Forwarder::new(config, store, sink);
    for file in delivery.log_files.iter().chain(&delivery.insight_files) {
        forwarder
            .handle(&ObjectCreated::new(&file.bucket, &file.key), now)
            .await
            .expect("forward");
    }
    delivery.log_files
}

/// An item for the object `bucket`/`key`, named after it.
pub fn item(bucket: &str, key: &str) -> Item {
    Item {
        id: format!("s3://{bucket}/{key}"),
        object: ObjectCreated {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: None,
            etag: None,
        },
    }
}

/// Every object S3 would report created: each trail bucket's objects (log files and digests),
/// then the alert objects, in listing order.
pub async fn created_objects(config: &Config, store: &dyn ObjectStore) -> Vec<Item> {
    let mut items = Vec::new();
    for trail in &config.trails {
        for entry in store.list_all(trail.bucket(), "").await.expect("list") {
            items.push(item(trail.bucket(), &entry.key));
        }
    }
    for entry in store
        .list_all(&config.state_bucket, ALERTS_PREFIX)
        .await
        .expect("list")
    {
        items.push(item(&config.state_bucket, &entry.key));
    }
    items
}

/// What the alert objects hold, per metric filter (log group, filter name): each match's
/// record text, in eventTime order (stable, files in listing order).
pub async fn expected_alerts(
    config: &Config,
    store: &dyn ObjectStore,
) -> BTreeMap<(String, String), Vec<String>> {
    let mut matches: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
    for entry in store
        .list_all(&config.state_bucket, ALERTS_PREFIX)
        .await
        .expect("list")
    {
        let object = store
            .get(&config.state_bucket, &entry.key)
            .await
            .expect("alert object");
        let alert: Value = serde_json::from_slice(&object.body).expect("json");
        for found in alert["matches"].as_array().expect("matches") {
            let filter = (
                found["logGroup"].as_str().expect("group").to_owned(),
                found["filterName"].as_str().expect("filter").to_owned(),
            );
            let time = found["event"]["eventTime"].as_str().unwrap_or_default();
            matches
                .entry(filter)
                .or_default()
                .push((time.to_owned(), found["record"].to_string()));
        }
    }
    matches
        .into_iter()
        .map(|(filter, mut found)| {
            found.sort_by(|a, b| a.0.cmp(&b.0));
            (
                filter,
                found.into_iter().map(|(_, record)| record).collect(),
            )
        })
        .collect()
}

/// The records an alert message carries: the `{"Records":[…]}` after its summary, each record
/// re-serialized compactly (as `expected_alerts` has them).
/// The distinct string values of `field` over records (those that have it as a string): what
/// a grouped alert's message attribute for that field must carry.
pub fn record_field_values(records: &[String], field: &str) -> BTreeSet<String> {
    records
        .iter()
        .filter_map(|record| {
            let record: Value = serde_json::from_str(record).expect("a record");
            record[field].as_str().map(str::to_owned)
        })
        .collect()
}

pub fn alert_records(message: &str) -> Vec<String> {
    let at = message
        .find("{\"Records\":[")
        .expect("an alert message ends with its records");
    let batch: Value = serde_json::from_str(&message[at..]).expect("records JSON");
    batch["Records"]
        .as_array()
        .expect("records")
        .iter()
        .map(Value::to_string)
        .collect()
}
