//! What the forward tests share: the pipeline configuration with log groups and metric filters,
//! the real fixtures moved to recent times (CloudWatch Logs takes events of the past 14 days
//! only), and what each log stream should hold after deliver and forward.

use std::collections::BTreeMap;
use std::io::Read;

use cairn_shared::config::Config;
use cairn_shared::delivery::DeliveredFile;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::record::{EventTime, split_batch};
use flate2::bufread::GzDecoder;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::pipeline::{CONFIG, fixture_batches};

/// (log group, log stream).
pub type Stream = (String, String);

/// The log groups of the pipeline's two trails (with `suffix`, so runs against one LocalStack
/// never share groups).
pub fn log_groups(suffix: &str) -> [String; 2] {
    [
        format!("cairn/everything{}", dash(suffix)),
        format!("cairn/home-writes{}", dash(suffix)),
    ]
}

/// The pipeline configuration (see `crate::pipeline::CONFIG`) with a log group for each trail
/// and three metric filters: one for every group, one for each group. With a non-empty `suffix`
/// the buckets and groups are renamed as `crate::pipeline::config_with_suffix` renames buckets.
pub fn config(suffix: &str) -> Config {
    let [everything, writes] = log_groups(suffix);
    let arn = |group: &str| format!("arn:aws:logs:us-east-1:111122223333:log-group:{group}:*");
    let mut yaml = CONFIG
        .replace(
            "    S3BucketName: cairn-test-everything\n",
            &format!(
                "    S3BucketName: cairn-test-everything{}\n    CloudWatchLogsLogGroupArn: {}\n",
                dash(suffix),
                arn(&everything)
            ),
        )
        .replace(
            "    S3BucketName: cairn-test-writes\n",
            &format!(
                "    S3BucketName: cairn-test-writes{}\n    CloudWatchLogsLogGroupArn: {}\n",
                dash(suffix),
                arn(&writes)
            ),
        );
    if !suffix.is_empty() {
        yaml.push_str(&format!("stateBucket: cairn-test-state{}\n", dash(suffix)));
    }
    yaml.push_str(&format!(
        r#"metricFilters:
  - filterName: UnauthorizedAPICalls
    filterPattern: '{{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }}'
    metricTransformations:
      - metricName: UnauthorizedAPICalls
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
  - filterName: IamChanges
    logGroupName: {everything}
    filterPattern: '{{ ($.eventSource = "iam.amazonaws.com") && ($.readOnly IS FALSE) && ($.eventName = *) }}'
    metricTransformations:
      - metricName: IamChanges
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
        unit: Count
        dimensions:
          EventName: $.eventName
  - filterName: Writes
    logGroupName: {writes}
    filterPattern: '{{ $.readOnly IS FALSE }}'
    metricTransformations:
      - metricName: Writes
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
"#
    ));
    Config::from_yaml(&yaml, "forward test configuration").expect("the test configuration")
}

fn dash(suffix: &str) -> String {
    if suffix.is_empty() {
        String::new()
    } else {
        format!("-{suffix}")
    }
}

/// The fixture batches with every record's eventTime moved into the ten days before `now`
/// (keeping their order), each record otherwise as it was.
pub fn recent_fixture_batches(now: OffsetDateTime) -> Vec<(String, String)> {
    let batches = fixture_batches();
    let time_of = |record: &Value| {
        EventTime::parse(record["eventTime"].as_str().expect("eventTime"))
            .expect("eventTime")
            .unix_seconds()
    };
    let parsed: Vec<(String, Vec<Value>)> = batches
        .into_iter()
        .map(|(name, body)| {
            let records = split_batch(&body)
                .expect("batch")
                .into_iter()
                .map(|raw| serde_json::from_str(raw.get()).expect("json"))
                .collect();
            (name, records)
        })
        .collect();
    let times: Vec<i64> = parsed
        .iter()
        .flat_map(|(_, records)| records.iter().map(time_of))
        .collect();
    let (oldest, newest) = (
        *times.iter().min().expect("records"),
        *times.iter().max().expect("records"),
    );
    let start = (now - Duration::days(10)).unix_timestamp();
    let span = (Duration::days(10) - Duration::hours(1)).whole_seconds();
    let moved = |t: i64| {
        let offset =
            i128::from(t - oldest) * i128::from(span) / i128::from((newest - oldest).max(1));
        EventTime::from_unix_seconds(start + offset as i64).to_string()
    };
    parsed
        .into_iter()
        .map(|(name, records)| {
            let records: Vec<String> = records
                .into_iter()
                .map(|mut record| {
                    record["eventTime"] = moved(time_of(&record)).into();
                    serde_json::to_string(&record).expect("json")
                })
                .collect();
            (name, format!("{{\"Records\":[{}]}}", records.join(",")))
        })
        .collect()
}

/// One gzip member of `{"Records":[…]}`, its records as text.
pub fn log_file_records(body: &[u8]) -> Vec<String> {
    let mut decoder = GzDecoder::new(body);
    let mut text = String::new();
    decoder.read_to_string(&mut text).expect("gzip");
    assert!(decoder.into_inner().is_empty(), "one gzip member");
    split_batch(&text)
        .expect("records")
        .into_iter()
        .map(|raw| raw.get().to_owned())
        .collect()
}

/// eventTime of a record, in milliseconds.
pub fn timestamp_ms(record: &str) -> i64 {
    let value: Value = serde_json::from_str(record).expect("json");
    EventTime::parse(value["eventTime"].as_str().expect("eventTime"))
        .expect("eventTime")
        .unix_seconds()
        * 1000
}

/// What each stream should hold once `files` are forwarded in that order: each file's records
/// sorted by eventTime (stably), after those of the files before it, as (timestamp, message).
pub async fn expected_streams(
    store: &dyn ObjectStore,
    config: &Config,
    files: &[DeliveredFile],
) -> BTreeMap<Stream, Vec<(i64, String)>> {
    let mut streams: BTreeMap<Stream, Vec<(i64, String)>> = BTreeMap::new();
    for file in files {
        let trail = config
            .trails
            .iter()
            .find(|t| t.name() == file.trail)
            .expect("trail");
        let group = trail
            .cloud_watch_logs_log_group_name()
            .expect("log group")
            .to_owned();
        let name = file.key.rsplit('/').next().expect("file name");
        let mut parts = name.split('_');
        let (account, region) = (parts.next().unwrap(), parts.nth(1).unwrap());
        let body = store
            .get(&file.bucket, &file.key)
            .await
            .expect("log file")
            .body;
        let mut records: Vec<(i64, String)> = log_file_records(&body)
            .into_iter()
            .map(|record| (timestamp_ms(&record), record))
            .collect();
        records.sort_by_key(|(timestamp, _)| *timestamp);
        // CloudTrail's stream name, with an organization trail's ID in front (the User Guide's
        // role policy for organization trails grants `log-stream:o-exampleorgid_*`).
        let stream = match trail.organization_id() {
            Some(organization) => format!("{organization}_{account}_CloudTrail_{region}"),
            None => format!("{account}_CloudTrail_{region}"),
        };
        streams.entry((group, stream)).or_default().extend(records);
    }
    streams
}

/// How many (record, filter) matches the streams' records make with the filters of their group.
pub fn expected_matches(config: &Config, streams: &BTreeMap<Stream, Vec<(i64, String)>>) -> usize {
    streams
        .iter()
        .map(|((group, _), records)| {
            let filters: Vec<_> = config
                .metric_filters
                .iter()
                .filter(|f| f.log_group_name.as_deref().is_none_or(|g| g == group))
                .collect();
            records
                .iter()
                .map(|(_, message)| {
                    filters
                        .iter()
                        .filter(|f| f.pattern.matches(message).is_some())
                        .count()
                })
                .sum::<usize>()
        })
        .sum()
}

/// Every event of a stream, oldest first, following GetLogEvents' forward tokens.
pub async fn read_stream(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
) -> Vec<(i64, String)> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1000 {
        let page = logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetLogEvents {group} {stream}: {e:?}"));
        if page.events().is_empty() {
            break;
        }
        events.extend(page.events().iter().map(|event| {
            (
                event.timestamp().expect("timestamp"),
                event.message().expect("message").to_owned(),
            )
        }));
        let next = page.next_forward_token().map(str::to_owned);
        if next.is_none() || next == token {
            break;
        }
        token = next;
    }
    events
}
