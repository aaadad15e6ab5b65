//! CloudTrail Insights over 8 days of synthetic traffic on the embedded store: a week of steady
//! calls with a daily cycle warms the baseline, then on the eighth day a burst of one write API
//! by one user, a burst of AccessDenied errors and a burst of a read-only API. Exactly the
//! first two give a Start/End pair each, delivered under `CloudTrail-Insight/` and forwarded
//! from there to the trail's CloudWatch Logs group.

use std::sync::Arc;

use cairn_shared::adapters::local::LocalNotifier;
use cairn_shared::adapters::local::{LocalLogSink, LocalObjectStore};
use cairn_shared::alert::InsightAlert;
use cairn_shared::config::Config;
use cairn_shared::delivery::{self, Deliverer};
use cairn_shared::forward::{Forwarder, Outcome};
use cairn_shared::insights::{self, InsightKind, MetricQuery};
use cairn_shared::layout::INSIGHT_ALERTS_PREFIX;
use cairn_shared::notify::{Item, ItemOutcome, MessageKind, Notify};
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::record::EventTime;
use cairn_shared::service::Service;
use cairn_shared::trigger::ObjectCreated;
use cairn_test_support::faulty_store::{Fault, FaultyStore};
use cairn_test_support::pipeline::stage_batch;
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const DAY0: OffsetDateTime = datetime!(2026-11-01 00:00:00 UTC);
const ACCOUNT: &str = "123456789012";
const MALLORY: &str = "arn:aws:iam::123456789012:user/mallory";

const ALERTS: &str = "arn:aws:sns:us-east-1:123456789012:insights-alerts";

const GROUP: &str = "cairn/watched";

const CONFIG: &str = r#"
accountId: "123456789012"
stateBucket: insights-state
alertTopicArn: arn:aws:sns:us-east-1:123456789012:insights-alerts
trails:
  - Name: watched
    S3BucketName: insights-trail
    HomeRegion: us-east-1
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:123456789012:log-group:cairn/watched:*
    InsightSelectors:
      - InsightType: ApiCallRateInsight
      - InsightType: ApiErrorRateInsight
metricFilters:
  - filterName: InsightStarts
    filterPattern: '{ $.insightDetails.state = "Start" }'
    metricTransformations:
      - metricName: InsightStarts
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
"#;

/// A deterministic stream of uniform numbers (a 64-bit LCG), so every run sees the same traffic.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Poisson count of mean `mean` (Knuth's method; the means here are small).
    fn poisson(&mut self, mean: f64) -> u64 {
        let limit = (-mean).exp();
        let mut product = self.uniform();
        let mut count = 0;
        while product > limit {
            count += 1;
            product *= self.uniform();
        }
        count
    }
}

struct Api {
    source: &'static str,
    name: &'static str,
    read_only: bool,
    /// Calls per minute on average over a day.
    rate: f64,
    error: Option<&'static str>,
}

const STEADY: &[Api] = &[
    Api {
        source: "ec2.amazonaws.com",
        name: "RunInstances",
        read_only: false,
        rate: 0.2,
        error: None,
    },
    Api {
        source: "iam.amazonaws.com",
        name: "CreateAccessKey",
        read_only: false,
        rate: 0.1,
        error: None,
    },
    Api {
        source: "ec2.amazonaws.com",
        name: "DescribeInstances",
        read_only: true,
        rate: 0.3,
        error: None,
    },
    Api {
        source: "s3.amazonaws.com",
        name: "GetBucketPolicy",
        read_only: true,
        rate: 0.02,
        error: Some("AccessDenied"),
    },
];

/// (API index, first minute after DAY0, minutes, calls per minute, caller).
const BURSTS: &[(usize, i64, i64, u64, &str)] = &[
    // One user creates access keys: an ApiCallRateInsight.
    (1, 7 * 1440 + 12 * 60, 20, 20, MALLORY),
    // AccessDenied on a read API: an ApiErrorRateInsight only.
    (
        3,
        7 * 1440 + 18 * 60,
        15,
        15,
        "arn:aws:iam::123456789012:user/scanner",
    ),
    // A read-only API, busy: nothing.
    (
        2,
        7 * 1440 + 6 * 60,
        10,
        60,
        "arn:aws:iam::123456789012:user/reader",
    ),
];

fn record(api: &Api, at: OffsetDateTime, seq: u64, who: &str) -> Value {
    let time = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut record = json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": who, "accountId": ACCOUNT},
        "eventTime": time,
        "eventSource": api.source,
        "eventName": api.name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "requestID": format!("req-{seq}"),
        "eventID": format!("00000000-0000-4000-8000-{seq:012}"),
        "readOnly": api.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    });
    if let Some(code) = api.error {
        record["errorCode"] = json!(code);
    }
    record
}

/// Every minute's records from `from` to `to` minutes after DAY0, in eventTime order.
fn traffic(random: &mut Lcg, seq: &mut u64, from: i64, to: i64) -> Vec<Value> {
    let mut records = Vec::new();
    for minute in from..to {
        let at = DAY0 + Duration::minutes(minute);
        // A daily cycle: half again the average at 15:00 UTC, half of it at 03:00.
        let phase = ((minute % 1440) - 15 * 60) as f64 / 1440.0 * std::f64::consts::TAU;
        let cycle = 1.0 + 0.5 * phase.cos();
        for api in STEADY {
            for _ in 0..random.poisson(api.rate * cycle) {
                *seq += 1;
                let second = Duration::seconds((*seq % 60) as i64);
                records.push(record(
                    api,
                    at + second,
                    *seq,
                    "arn:aws:iam::123456789012:role/app",
                ));
            }
        }
        for (index, start, minutes, per_minute, who) in BURSTS {
            if (*start..start + minutes).contains(&minute) {
                for _ in 0..*per_minute {
                    *seq += 1;
                    let second = Duration::seconds((*seq % 60) as i64);
                    records.push(record(&STEADY[*index], at + second, *seq, who));
                }
            }
        }
    }
    records
}

async fn ingest(store: &dyn ObjectStore, config: &Config, records: &[Value], now: OffsetDateTime) {
    for chunk in records.chunks(2000) {
        let body = json!({ "Records": chunk }).to_string();
        stage_batch(store, config, &body, now).await;
    }
}

async fn deliver(store: &dyn ObjectStore, config: &Config, now: OffsetDateTime) {
    try_deliver(store, config, now).await.expect("deliver");
}

async fn try_deliver(
    store: &dyn ObjectStore,
    config: &Config,
    now: OffsetDateTime,
) -> Result<(), delivery::DeliveryError> {
    Deliverer::new(config, store, None)
        .handle(&Duration::minutes(10), now)
        .await
        .map(drop)
}

async fn fresh_store() -> (tempfile::TempDir, Arc<LocalObjectStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalObjectStore::new(dir.path().to_path_buf()));
    for bucket in ["insights-state", "insights-trail"] {
        store.create_bucket(bucket).await.unwrap();
    }
    (dir, store)
}

/// Every record of the files under `kind` folders of the trail bucket.
async fn records_under(store: &dyn ObjectStore, kind: &str) -> Vec<Value> {
    records_of_trail(store, "AWSLogs/", kind).await
}

/// Every record of the files under `kind` folders below `prefix` in the trail bucket.
async fn records_of_trail(store: &dyn ObjectStore, prefix: &str, kind: &str) -> Vec<Value> {
    let mut records = Vec::new();
    for entry in store.list_all("insights-trail", prefix).await.unwrap() {
        if !entry.key.contains(&format!("/{kind}/")) {
            continue;
        }
        let body = store.get("insights-trail", &entry.key).await.unwrap().body;
        let text = cairn_shared::gzip::read_one_member_text(&body, 1 << 30).unwrap();
        let file: Value = serde_json::from_str(&text).unwrap();
        records.extend(file["Records"].as_array().unwrap().iter().cloned());
    }
    records
}

#[tokio::test]
async fn a_week_of_baseline_then_three_bursts_gives_exactly_two_insights() {
    let config = Config::from_yaml(CONFIG, "insights test").unwrap();
    let (_dir, store) = fresh_store().await;
    let mut random = Lcg(7);
    let mut seq = 0;

    // The week before: existing log files ingested at once warm the baseline.
    let week = traffic(&mut random, &mut seq, 0, 7 * 1440);
    let day7 = DAY0 + Duration::days(7);
    ingest(store.as_ref(), &config, &week, day7).await;
    deliver(store.as_ref(), &config, day7).await;

    // The eighth day, delivered every half hour as it happens.
    for half_hour in 0..48 {
        let from = 7 * 1440 + half_hour * 30;
        let records = traffic(&mut random, &mut seq, from, from + 30);
        let now = DAY0 + Duration::minutes(from + 30) + Duration::seconds(30);
        ingest(store.as_ref(), &config, &records, now).await;
        deliver(store.as_ref(), &config, now).await;
    }

    let logged = records_under(store.as_ref(), "CloudTrail").await;
    assert!(
        logged.iter().all(|r| r["eventType"] == "AwsApiCall"),
        "no Insights event in CloudTrail/ log files"
    );
    let insights = records_under(store.as_ref(), "CloudTrail-Insight").await;
    let summary: Vec<(String, String, String, String)> = insights
        .iter()
        .map(|r| {
            let details = &r["insightDetails"];
            (
                details["insightType"].as_str().unwrap().to_owned(),
                details["eventName"].as_str().unwrap().to_owned(),
                details["state"].as_str().unwrap().to_owned(),
                r["eventTime"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = summary.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            (
                "ApiCallRateInsight",
                "CreateAccessKey",
                "End",
                "2026-11-08T12:20:00Z"
            ),
            (
                "ApiCallRateInsight",
                "CreateAccessKey",
                "Start",
                "2026-11-08T12:00:00Z"
            ),
            (
                "ApiErrorRateInsight",
                "GetBucketPolicy",
                "End",
                "2026-11-08T18:15:00Z"
            ),
            (
                "ApiErrorRateInsight",
                "GetBucketPolicy",
                "Start",
                "2026-11-08T18:00:00Z"
            ),
        ]
        .map(|(a, b, c, d)| (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned())),
        "{summary:#?}"
    );
    // Insights on management events say nothing of a category, as the User Guide's examples.
    assert!(
        insights
            .iter()
            .all(|r| r["insightDetails"].get("sourceEventCategory").is_none()
                && r["eventVersion"] == "1.07")
    );

    let find = |kind: &str, state: &str| {
        insights
            .iter()
            .find(|r| {
                r["insightDetails"]["insightType"] == kind && r["insightDetails"]["state"] == state
            })
            .unwrap()
    };
    for kind in ["ApiCallRateInsight", "ApiErrorRateInsight"] {
        let (start, end) = (find(kind, "Start"), find(kind, "End"));
        assert_eq!(start["sharedEventID"], end["sharedEventID"]);
        assert_ne!(start["eventID"], end["eventID"]);
        assert_eq!(start["eventCategory"], "Insight");
        assert_eq!(start["recipientAccountId"], ACCOUNT);
    }

    // The write burst: 20 calls a minute for 20 minutes over a baseline of about 0.1.
    let start = find("ApiCallRateInsight", "Start");
    let end = find("ApiCallRateInsight", "End");
    let statistics = &end["insightDetails"]["insightContext"]["statistics"];
    let baseline = statistics["baseline"]["average"].as_f64().unwrap();
    assert!((0.07..0.13).contains(&baseline), "baseline {baseline}");
    assert_eq!(statistics["insightDuration"], 20);
    assert_eq!(statistics["baselineDuration"], 10_080);
    let insight = statistics["insight"]["average"].as_f64().unwrap();
    assert!((20.0..20.5).contains(&insight), "insight average {insight}");
    for record in [start, end] {
        let attributions = &record["insightDetails"]["insightContext"]["attributions"];
        assert_eq!(attributions[0]["attribute"], "userIdentityArn");
        assert_eq!(attributions[0]["insight"][0]["value"], MALLORY);
        assert_eq!(attributions[1]["attribute"], "userAgent");
        assert_eq!(attributions[2]["attribute"], "errorCode");
        assert_eq!(attributions[2]["insight"][0]["value"], "null");
    }
    let errors = find("ApiErrorRateInsight", "End");
    let attributions = &errors["insightDetails"]["insightContext"]["attributions"];
    assert_eq!(attributions[2]["insight"][0]["value"], "AccessDenied");

    // Insights events are in the event history too, as eventCategory Insight.
    let mut in_history = 0;
    for entry in store.list_all("insights-state", "history/").await.unwrap() {
        let body = store.get("insights-state", &entry.key).await.unwrap().body;
        let text = cairn_shared::history::decode(&entry.key, &body).unwrap();
        in_history += text
            .lines()
            .filter(|line| line.contains(r#""eventCategory":"Insight""#))
            .count();
    }
    assert_eq!(in_history, 4);

    // forward takes the Insights files as CloudTrail sends Insights events to the trail's log
    // group: to the account's and Region's stream, where the metric filter sees both Starts.
    let logs = tempfile::tempdir().unwrap();
    let sink = LocalLogSink::new(logs.path());
    let forwarder = Forwarder::new(&config, store.as_ref(), &sink);
    let (mut forwarded, mut matches) = (0, 0);
    for entry in store.list_all("insights-trail", "AWSLogs/").await.unwrap() {
        if !entry.key.contains("/CloudTrail-Insight/") {
            continue;
        }
        let report = forwarder
            .handle(
                &ObjectCreated::new("insights-trail", &entry.key),
                DAY0 + Duration::days(8),
            )
            .await
            .unwrap();
        assert_eq!(report.outcome, Outcome::Forwarded, "{report:?}");
        assert_eq!(
            report.log_stream.as_deref(),
            Some("123456789012_CloudTrail_us-east-1")
        );
        forwarded += report.forwarded;
        matches += report.matches;
    }
    assert_eq!((forwarded, matches), (4, 2));
    let stream = sink
        .stream_path(GROUP, "123456789012_CloudTrail_us-east-1")
        .unwrap();
    let mut in_stream: Vec<Value> = std::fs::read_to_string(stream)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["message"].clone())
        .map(|message| serde_json::from_str(message.as_str().unwrap()).unwrap())
        .collect();
    let mut delivered = insights.clone();
    let by_id = |record: &Value| record["eventID"].as_str().unwrap().to_owned();
    in_stream.sort_by_key(by_id);
    delivered.sort_by_key(by_id);
    assert_eq!(in_stream, delivered);

    // list-insights-metric-data's series, per hour: the burst's hour holds its 400 calls (and
    // the few steady ones), the other hours the steady few.
    let hourly = MetricQuery {
        source: "iam.amazonaws.com",
        name: "CreateAccessKey",
        kind: InsightKind::ApiCallRateInsight,
        error_code: None,
        start: (DAY0 + Duration::days(7)).unix_timestamp(),
        end: (DAY0 + Duration::days(8)).unix_timestamp(),
        period: 3600,
    };
    let management = insights::Place {
        account: ACCOUNT,
        region: "us-east-1",
        data_trail: None,
    };
    let points = insights::metric_data(store.as_ref(), "insights-state", &management, &hourly)
        .await
        .unwrap();
    let noon = (DAY0 + Duration::days(7) + Duration::hours(12)).unix_timestamp();
    let at_noon = points.iter().find(|(at, _)| *at == noon).unwrap().1;
    assert!((400..420).contains(&at_noon), "{points:?}");
    assert!(
        points.iter().all(|(at, count)| *at == noon || *count < 20),
        "{points:?}"
    );

    // Each Start has its alert object, with the facts deliver knew, and notify announces it
    // once: a second notify of the same objects sends nothing.
    let alert_keys: Vec<String> = store
        .list_all("insights-state", INSIGHT_ALERTS_PREFIX)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.key)
        .collect();
    assert_eq!(alert_keys.len(), 2, "{alert_keys:#?}");
    let mut explained = Vec::new();
    for key in &alert_keys {
        let body = store.get("insights-state", key).await.unwrap().body;
        explained.push(InsightAlert::parse(&body).unwrap());
    }
    let calls = explained
        .iter()
        .find(|alert| alert.insight.insight_type == "ApiCallRateInsight")
        .unwrap();
    let insight = &calls.insight;
    assert_eq!(insight.event_name, "CreateAccessKey");
    assert_eq!(insight.start, "2026-11-08T12:00:00Z");
    assert_eq!(
        insight.shared_event_id,
        start["sharedEventID"].as_str().unwrap()
    );
    assert_eq!(insight.event_id, start["eventID"].as_str().unwrap());
    let statistics = &start["insightDetails"]["insightContext"]["statistics"];
    assert_eq!(
        insight.baseline_average,
        statistics["baseline"]["average"].as_f64().unwrap()
    );
    assert_eq!(
        insight.insight_average,
        statistics["insight"]["average"].as_f64().unwrap()
    );
    assert_eq!(insight.attributions[0].insight[0].value, MALLORY);
    let record: Value = serde_json::from_str(calls.record.get()).unwrap();
    assert_eq!(&record, start);
    assert_eq!(calls.files.len(), 1);
    assert!(
        calls.files[0]
            .s3_object_key
            .contains("/CloudTrail-Insight/")
    );
    // The rule's window held at least the threshold, and the chart shows the burst from its
    // Start on: 20 calls a minute.
    assert!(insight.rule.window_calls as f64 >= insight.rule.threshold);
    let per_minute = &insight.per_minute;
    let before = (EventTime::parse(&insight.start).unwrap().unix_seconds()
        - EventTime::parse(&per_minute.first).unwrap().unix_seconds())
        / 60;
    assert_eq!(before, 30);
    assert_eq!(per_minute.counts[before as usize], 20);

    let sns = tempfile::tempdir().unwrap();
    let notifier = LocalNotifier::new(sns.path());
    let items: Vec<Item> = alert_keys
        .iter()
        .map(|key| Item {
            id: key.clone(),
            object: ObjectCreated::new("insights-state", key),
        })
        .collect();
    let notify = Notify::new(&config, store.as_ref(), &notifier);
    let first = notify.handle(&items, DAY0).await.unwrap();
    assert_eq!(first.sent.len(), 2, "{first:#?}");
    assert!(
        first
            .sent
            .iter()
            .all(|m| m.kind == MessageKind::InsightAlert)
    );
    assert!(first.sent.iter().all(|m| m.topic_arn == ALERTS));
    let again = notify.handle(&items, DAY0).await.unwrap();
    assert!(again.sent.is_empty(), "{again:#?}");
    assert!(
        again
            .items
            .iter()
            .all(|item| item.outcome == ItemOutcome::AlreadyNotified)
    );
}

/// A crash at storage call N of the run that finds an anomaly, for every N, in both ways a call
/// can fail, followed by the next run once the crashed run's claim has lapsed: the anomaly's
/// Start and End are delivered once each, with the statistics of a run without a crash (so no
/// minute was counted twice).
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_at_any_storage_call_gives_one_start_and_one_end() {
    let config = Config::from_yaml(CONFIG, "insights test").unwrap();
    let day7 = DAY0 + Duration::days(7);
    let burst_at = 7 * 1440 + 12 * 60;
    let finding_run = DAY0 + Duration::minutes(burst_at + 30) + Duration::seconds(30);
    let quiet = Api {
        rate: 0.02,
        ..STEADY[1]
    };
    let mut random = Lcg(3);
    let mut week = Vec::new();
    for minute in 0..7 * 1440 {
        for _ in 0..random.poisson(quiet.rate) {
            let seq = week.len() as u64 + 1;
            week.push(record(
                &quiet,
                DAY0 + Duration::minutes(minute),
                seq,
                "arn:aws:iam::123456789012:role/app",
            ));
        }
    }
    let burst: Vec<Value> = (0..20 * 20)
        .map(|i| {
            let at = DAY0 + Duration::minutes(burst_at + i / 20) + Duration::seconds(i % 20);
            record(&quiet, at, 1_000_000 + i as u64, MALLORY)
        })
        .collect();
    let prepared = |store: Arc<LocalObjectStore>| {
        let (config, week, burst) = (&config, &week, &burst);
        async move {
            ingest(store.as_ref(), config, week, day7).await;
            deliver(store.as_ref(), config, day7).await;
            ingest(store.as_ref(), config, burst, finding_run).await;
        }
    };
    let insight_records = |store: Arc<LocalObjectStore>| async move {
        let mut texts: Vec<String> = records_under(store.as_ref(), "CloudTrail-Insight")
            .await
            .iter()
            .map(Value::to_string)
            .collect();
        texts.sort();
        // The Start's alert object too: one, with the same facts, naming one file (whose key
        // is dated by the run that delivered it).
        for entry in store
            .list_all("insights-state", INSIGHT_ALERTS_PREFIX)
            .await
            .unwrap()
        {
            let body = store.get("insights-state", &entry.key).await.unwrap().body;
            let mut alert: Value = serde_json::from_slice(&body).unwrap();
            let files = alert.as_object_mut().unwrap().remove("files").unwrap();
            assert_eq!(files.as_array().unwrap().len(), 1);
            texts.push(alert.to_string());
        }
        texts
    };

    let (_dir, store) = fresh_store().await;
    prepared(store.clone()).await;
    let counting = FaultyStore::counting(store.clone());
    try_deliver(&counting, &config, finding_run)
        .await
        .expect("a clean run");
    let total = counting.calls();
    let expected = insight_records(store.clone()).await;
    assert_eq!(expected.len(), 3, "{expected:#?}");

    let later = finding_run + delivery::LEASE + Duration::minutes(1);
    for fault in [Fault::Before, Fault::After] {
        for fail_at in 1..=total {
            let (_dir, store) = fresh_store().await;
            prepared(store.clone()).await;
            let faulty = FaultyStore::new(store.clone(), fail_at, fault);
            assert!(
                try_deliver(&faulty, &config, finding_run).await.is_err(),
                "call {fail_at} ({fault:?}) did not fail the run"
            );
            deliver(store.as_ref(), &config, later).await;
            let found = insight_records(store.clone()).await;
            assert_eq!(
                found, expected,
                "crash at call {fail_at} of {total} ({fault:?})"
            );
        }
    }
}

/// Two trails log the same S3 object data events; only `objects` has Insights on data events.
const DATA_CONFIG: &str = r#"
accountId: "123456789012"
stateBucket: insights-state
trails:
  - Name: objects
    S3BucketName: insights-trail
    HomeRegion: us-east-1
    AdvancedEventSelectors: &objects
      - FieldSelectors:
          - Field: eventCategory
            Equals: [Data]
          - Field: resources.type
            Equals: ["AWS::S3::Object"]
    InsightSelectors:
      - InsightType: ApiCallRateInsight
        EventCategories: [Data]
  - Name: copy
    S3BucketName: insights-trail
    S3KeyPrefix: copy
    HomeRegion: us-east-1
    AdvancedEventSelectors: *objects
"#;

/// An S3 GetObject data event: read-only, which ApiCallRateInsight on data events counts.
fn get_object(at: OffsetDateTime, seq: u64, who: &str) -> Value {
    let time = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": who, "accountId": ACCOUNT},
        "eventTime": time,
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-sdk-java/2.20.0",
        "requestParameters": {"bucketName": "reports", "key": format!("r/{seq}.csv")},
        "responseElements": null,
        "requestID": format!("req-{seq}"),
        "eventID": format!("00000000-0000-4000-9000-{seq:012}"),
        "readOnly": true,
        "resources": [{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::reports/r/{seq}.csv")}],
        "eventType": "AwsApiCall",
        "managementEvent": false,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Data"
    })
}

/// Steady reads for a week, then on the eighth day one role reads 20 objects a minute for 20
/// minutes: the trail with Insights on data events gets one ApiCallRateInsight Start and End
/// about GetObject, marked as learned from its own data events; the other trail logging the
/// same events gets none, and the event history none.
#[tokio::test]
async fn a_burst_of_data_reads_gives_one_insight_to_the_trail_watching_data_events() {
    let config = Config::from_yaml(DATA_CONFIG, "insights test").unwrap();
    let (_dir, store) = fresh_store().await;
    let mut random = Lcg(11);
    let mut seq = 0;
    let burst = 7 * 1440 + 9 * 60;
    let thief = "arn:aws:sts::123456789012:assumed-role/exfil/session";
    let mut traffic = |from: i64, to: i64| {
        let mut records = Vec::new();
        for minute in from..to {
            let at = DAY0 + Duration::minutes(minute);
            for _ in 0..random.poisson(0.3) {
                seq += 1;
                records.push(get_object(
                    at,
                    seq,
                    "arn:aws:sts::123456789012:assumed-role/app/a",
                ));
            }
            if (burst..burst + 20).contains(&minute) {
                for _ in 0..20 {
                    seq += 1;
                    records.push(get_object(
                        at + Duration::seconds(seq as i64 % 60),
                        seq,
                        thief,
                    ));
                }
            }
        }
        records
    };
    let day7 = DAY0 + Duration::days(7);
    let week = traffic(0, 7 * 1440);
    ingest(store.as_ref(), &config, &week, day7).await;
    deliver(store.as_ref(), &config, day7).await;
    for hour in 0..24 {
        let from = 7 * 1440 + hour * 60;
        let records = traffic(from, from + 60);
        let now = DAY0 + Duration::minutes(from + 60) + Duration::seconds(30);
        ingest(store.as_ref(), &config, &records, now).await;
        deliver(store.as_ref(), &config, now).await;
    }

    let insights = records_under(store.as_ref(), "CloudTrail-Insight").await;
    let states: Vec<(&str, &str, &str)> = insights
        .iter()
        .map(|r| {
            let details = &r["insightDetails"];
            (
                details["insightType"].as_str().unwrap(),
                details["state"].as_str().unwrap(),
                r["eventTime"].as_str().unwrap(),
            )
        })
        .collect();
    // The Start is the window's first minute above the baseline's busiest rate: the burst's
    // first, or a steady minute just before it that happened to be busy (08:59 with this seed).
    assert_eq!(
        states,
        [
            ("ApiCallRateInsight", "Start", "2026-11-08T08:59:00Z"),
            ("ApiCallRateInsight", "End", "2026-11-08T09:20:00Z"),
        ],
        "{insights:#?}"
    );
    let objects_arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/objects";
    for record in &insights {
        assert_eq!(record["eventVersion"], "1.09");
        let details = &record["insightDetails"];
        assert_eq!(details["eventSource"], "s3.amazonaws.com");
        assert_eq!(details["eventName"], "GetObject");
        assert_eq!(details["sourceEventCategory"], "Data");
        assert_eq!(details["insightSource"], objects_arn);
        let attributions = &details["insightContext"]["attributions"];
        assert_eq!(attributions[0]["insight"][0]["value"], thief);
    }
    assert_eq!(insights[0]["sharedEventID"], insights[1]["sharedEventID"]);
    let statistics = &insights[1]["insightDetails"]["insightContext"]["statistics"];
    let baseline = statistics["baseline"]["average"].as_f64().unwrap();
    assert!((0.25..0.35).contains(&baseline), "baseline {baseline}");
    assert_eq!(statistics["insightDuration"], 21);

    // The other trail logged every read and no Insights event.
    assert!(
        records_of_trail(store.as_ref(), "copy/AWSLogs/", "CloudTrail-Insight")
            .await
            .is_empty()
    );
    assert_eq!(
        records_of_trail(store.as_ref(), "copy/AWSLogs/", "CloudTrail")
            .await
            .len(),
        seq as usize
    );
    // The event history keeps management events and their Insights only; the counters are the
    // trail's own.
    assert!(
        store
            .list_all("insights-state", "history/")
            .await
            .unwrap()
            .is_empty()
    );
    let counters: Vec<String> = store
        .list_all("insights-state", "insights/")
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.key)
        .collect();
    assert_eq!(
        counters,
        ["insights/trails/objects/123456789012/us-east-1/counters.json"]
    );

    // The Start's alert names the trail, and the series is the trail's.
    let alert_keys = store
        .list_all("insights-state", INSIGHT_ALERTS_PREFIX)
        .await
        .unwrap();
    assert_eq!(alert_keys.len(), 1);
    let body = store
        .get("insights-state", &alert_keys[0].key)
        .await
        .unwrap()
        .body;
    let alert = InsightAlert::parse(&body).unwrap();
    assert_eq!(alert.insight.data_trail.as_deref(), Some(objects_arn));
    assert_eq!(alert.files.len(), 1);
    assert_eq!(alert.files[0].trail, "objects");
    let hourly = MetricQuery {
        source: "s3.amazonaws.com",
        name: "GetObject",
        kind: InsightKind::ApiCallRateInsight,
        error_code: None,
        start: day7.unix_timestamp(),
        end: (day7 + Duration::days(1)).unix_timestamp(),
        period: 3600,
    };
    let place = insights::Place {
        account: ACCOUNT,
        region: "us-east-1",
        data_trail: Some(insights::DataTrail {
            name: "objects",
            arn: objects_arn,
        }),
    };
    let points = insights::metric_data(store.as_ref(), "insights-state", &place, &hourly)
        .await
        .unwrap();
    let nine = (day7 + Duration::hours(9)).unix_timestamp();
    let at_nine = points.iter().find(|(at, _)| *at == nine).unwrap().1;
    assert!((400..440).contains(&at_nine), "{points:?}");
}
