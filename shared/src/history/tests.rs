//! The history against the real fixtures: written with `objects_for_batch`, read back with
//! `lookup`, and checked against a model of LookupEvents built straight from the fixtures' JSON
//! (none of the code under test computes the expectations).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use bytes::Bytes;
use serde_json::Value;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::adapters::local::{LocalObjectStore, RecordingStore};
use crate::layout::{history_key, history_log_file_key, hour_of_history_key};
use crate::record::EventTime;
use crate::record::{EventCategory, Record, split_batch};
use crate::selectors::testing;

const BUCKET: &str = "cairn-state";

// ---------------------------------------------------------------------------------------------
// Writing a batch's history the way deliver does: grouped by account, Region and hour

/// The account a record's history belongs to: its recipientAccountId, else `default_account`.
fn account_of<'a>(record: &'a Record<'_>, default_account: &'a str) -> &'a str {
    record
        .recipient_account_id()
        .filter(|account| !account.is_empty())
        .unwrap_or(default_account)
}

/// The history objects for one delivery batch: `(key, body)` per (account, Region, hour), in key
/// order, each holding that group's management events in batch order. Records of other
/// categories are left out; a batch without management events yields nothing.
fn objects_for_batch(
    records: &[Record<'_>],
    default_account: &str,
    batch: &str,
) -> Vec<(String, Vec<u8>)> {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for record in records {
        if record.category() != EventCategory::Management {
            continue;
        }
        let key = history_key(
            account_of(record, default_account),
            record.delivery_region(),
            record.event_time().to_offset_date_time(),
            batch,
        );
        groups.entry(key).or_default().push(record.raw().get());
    }
    groups
        .into_iter()
        .map(|(key, raws)| {
            let body = encode(&raws);
            (key, body)
        })
        .collect()
}

/// Writes one batch's history objects ([`objects_for_batch`]) to `bucket` and returns their
/// keys. Unconditional puts: repeating the call stores the same bytes again.
async fn write_batch(
    store: &dyn ObjectStore,
    bucket: &str,
    records: &[Record<'_>],
    default_account: &str,
    batch: &str,
) -> Result<Vec<String>, ObjectStoreError> {
    let options = put_options();
    let mut keys = Vec::new();
    for (key, body) in objects_for_batch(records, default_account, batch) {
        store.put(bucket, &key, Bytes::from(body), &options).await?;
        keys.push(key);
    }
    Ok(keys)
}

const DEFAULT_ACCOUNT: &str = "999988887777";

// ---------------------------------------------------------------------------------------------
// Fixtures and the independent model

/// Each fixture batch: its name and its text.
fn fixture_batches() -> Vec<(String, String)> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut paths: Vec<PathBuf> = fs::read_dir(fixtures.join("stratus_red_team_detonation_logs"))
        .expect("fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths.push(fixtures.join("awsdocs_user_guide_examples/awsdocs_example_records.json"));
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .replace('.', "-");
            (name, fs::read_to_string(path).expect("read"))
        })
        .collect()
}

/// What the model knows of one fixture record, from its JSON alone.
#[derive(Debug, Clone)]
struct Expected {
    json: Value,
    time: i64,
    id: Option<String>,
    account: String,
    region: String,
}

impl Expected {
    fn new(json: Value) -> Self {
        let text = |field: &str| json.get(field).and_then(Value::as_str).map(str::to_owned);
        let time = OffsetDateTime::parse(&text("eventTime").expect("eventTime"), &Rfc3339)
            .expect("time")
            .unix_timestamp();
        let account = text("recipientAccountId").unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned());
        // Global services are shown in us-east-1; STS and sign-in only when called there.
        let source = text("eventSource").unwrap_or_default();
        let region = text("awsRegion").expect("awsRegion");
        let global = [
            "iam.amazonaws.com",
            "cloudfront.amazonaws.com",
            "route53.amazonaws.com",
            "waf.amazonaws.com",
            "organizations.amazonaws.com",
            "globalaccelerator.amazonaws.com",
            "shield.amazonaws.com",
        ];
        let region = if global.contains(&source.as_str()) {
            "us-east-1".to_owned()
        } else {
            region
        };
        Expected {
            time,
            id: text("eventID"),
            account,
            region,
            json,
        }
    }

    /// The fixtures' management events: those that say so, and the older ones that predate
    /// eventCategory (none of which is a data event) other than Insights events.
    fn is_management(&self) -> bool {
        match self.json.get("eventCategory").and_then(Value::as_str) {
            Some(category) => category == "Management",
            None => self.json["eventType"] != "AwsCloudTrailInsight",
        }
    }

    /// Where LookupEvents orders it: newest first, then eventID descending. Records without
    /// an eventID sort above every eventID of their second.
    fn position(&self) -> (i64, String) {
        (self.time, self.id.clone().unwrap_or_else(|| "~".to_owned()))
    }

    fn identity(&self, field: &str) -> Option<&str> {
        self.json
            .get("userIdentity")
            .and_then(|identity| identity.get(field))
            .and_then(Value::as_str)
    }

    /// The model's value for one attribute key; several for the resource keys.
    fn values(&self, key: AttributeKey) -> Vec<String> {
        let text = |field: &str| {
            self.json
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let resources = || {
            self.json
                .get("resources")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        match key {
            AttributeKey::EventId => text("eventID").into_iter().collect(),
            AttributeKey::EventName => text("eventName").into_iter().collect(),
            AttributeKey::EventSource => text("eventSource").into_iter().collect(),
            AttributeKey::ReadOnly => vec![self.read_only().to_owned()],
            AttributeKey::Username => self.username().into_iter().collect(),
            AttributeKey::AccessKeyId => self
                .identity("accessKeyId")
                .filter(|key| !key.is_empty())
                .map(str::to_owned)
                .into_iter()
                .collect(),
            AttributeKey::ResourceType => resources()
                .iter()
                .filter_map(|r| r.get("type").and_then(Value::as_str).map(str::to_owned))
                .collect(),
            // The name or ID the ARN names (resource_name.rs has the rules; the fixtures'
            // resources are IAM, S3, KMS, EC2 and STS ARNs).
            AttributeKey::ResourceName => resources()
                .iter()
                .filter_map(|r| {
                    r.get("ARN")
                        .or_else(|| r.get("ARNPrefix"))
                        .and_then(Value::as_str)
                        .map(model_resource_name)
                })
                .collect(),
        }
    }

    /// Every fixture record without readOnly is a write (asserted in the tests).
    fn read_only(&self) -> &'static str {
        match self.json.get("readOnly") {
            Some(Value::Bool(true)) => "true",
            Some(Value::String(s)) if s == "true" => "true",
            _ => "false",
        }
    }

    fn username(&self) -> Option<String> {
        if self.identity("type") == Some("Root") {
            return Some("root".to_owned());
        }
        if let Some(name) = self.identity("userName").filter(|n| !n.is_empty()) {
            return Some(name.to_owned());
        }
        let arn = self.identity("arn")?;
        let last = arn.rsplit('/').next()?;
        (arn.contains('/') && !last.is_empty()).then(|| last.to_owned())
    }
}

/// The model's ResourceName of an ARN, written apart from the code under test: the last `/`
/// segment for IAM, the whole resource part for S3, the part after the resource type for the
/// rest.
fn model_resource_name(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, _, _, resource] = parts[..] else {
        return arn.to_owned();
    };
    let name = match service {
        "iam" => resource.split('/').next_back().unwrap_or(resource),
        "s3" => resource,
        _ => match (resource.split_once('/'), resource.split_once(':')) {
            (Some((kind, id)), Some((other, _))) if kind.len() < other.len() => id,
            (Some((_, id)), None) => id,
            (_, Some((_, id))) => id.trim_end_matches(":*"),
            (None, None) => resource,
        },
    };
    name.to_owned()
}

/// Every fixture record the model knows, with the batch it came in.
fn model() -> Vec<Expected> {
    fixture_batches()
        .iter()
        .flat_map(|(_, text)| {
            let batch: Value = serde_json::from_str(text).expect("json");
            batch["Records"]
                .as_array()
                .expect("records")
                .iter()
                .cloned()
                .map(Expected::new)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The management events of one account and Region, in LookupEvents' order, duplicates (same
/// eventTime and eventID) once.
fn expected_order(model: &[Expected], account: &str, region: &str) -> Vec<Expected> {
    let mut events: Vec<Expected> = model
        .iter()
        .filter(|e| e.is_management() && e.account == account && e.region == region)
        .cloned()
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.position()));
    events.dedup_by(|a, b| a.id.is_some() && a.position() == b.position());
    events
}

fn partitions(model: &[Expected]) -> BTreeSet<(String, String)> {
    model
        .iter()
        .filter(|e| e.is_management())
        .map(|e| (e.account.clone(), e.region.clone()))
        .collect()
}

/// Time windows of at most 89 days that together cover every event of `events`, each with a
/// `now` one hour after its last event.
fn windows(events: &[Expected]) -> Vec<(i64, i64)> {
    let mut times: Vec<i64> = events.iter().map(|e| e.time).collect();
    times.sort_unstable();
    let mut windows = Vec::new();
    let mut i = 0;
    while i < times.len() {
        let start = times[i];
        let limit = start + 89 * 86_400;
        let mut end = start;
        while i < times.len() && times[i] <= limit {
            end = times[i];
            i += 1;
        }
        windows.push((start, end));
    }
    windows
}

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).expect("time")
}

async fn empty_store() -> (tempfile::TempDir, LocalObjectStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    store.create_bucket(BUCKET).await.expect("bucket");
    (dir, store)
}

/// A store holding the history of every fixture batch, written as the deliver step writes it.
async fn fixture_store() -> (tempfile::TempDir, LocalObjectStore) {
    let (dir, store) = empty_store().await;
    for (name, text) in fixture_batches() {
        let raws = split_batch(&text).expect("batch");
        let records: Vec<Record> = raws
            .iter()
            .map(|raw| Record::parse(raw, None).expect("record"))
            .collect();
        write_batch(&store, BUCKET, &records, DEFAULT_ACCOUNT, &name)
            .await
            .expect("write");
    }
    (dir, store)
}

/// Every page of a lookup, following NextToken; checks each page's size on the way.
async fn all_pages(
    store: &dyn ObjectStore,
    account: &str,
    region: &str,
    mut query: LookupQuery,
    now: OffsetDateTime,
) -> Vec<LookupEvent> {
    let size = usize::try_from(query.max_results.unwrap_or(50)).expect("size");
    let mut events = Vec::new();
    for _ in 0..10_000 {
        let page = lookup(store, BUCKET, account, region, &query, now)
            .await
            .expect("lookup");
        if page.next_token.is_some() {
            assert_eq!(page.events.len(), size, "a page with a NextToken is full");
        } else {
            assert!(page.events.len() <= size);
        }
        events.extend(page.events);
        match page.next_token {
            Some(token) => query.next_token = Some(token),
            None => return events,
        }
    }
    panic!("pagination never ended");
}

fn output_position(event: &LookupEvent) -> (i64, String) {
    (
        event.event_time.unix_seconds(),
        event.event_id.clone().unwrap_or_else(|| "~".to_owned()),
    )
}

/// The events returned are exactly `expected`, in order, each described as the model
/// describes it.
fn assert_same_events(got: &[LookupEvent], expected: &[Expected], context: &str) {
    let got_positions: Vec<_> = got.iter().map(output_position).collect();
    let want_positions: Vec<_> = expected.iter().map(Expected::position).collect();
    assert_eq!(got_positions, want_positions, "{context}");
    for (event, model) in got.iter().zip(expected) {
        let json: Value = serde_json::from_str(&event.cloud_trail_event).expect("event json");
        assert!(!event.cloud_trail_event.contains('\n'));
        assert_eq!(json["eventTime"], model.json["eventTime"], "{context}");
        let as_model = Expected::new(json);
        assert_eq!(
            event.event_name,
            as_model.values(AttributeKey::EventName).pop()
        );
        assert_eq!(
            event.event_source,
            as_model.values(AttributeKey::EventSource).pop()
        );
        assert_eq!(event.read_only.as_deref(), Some(as_model.read_only()));
        assert_eq!(event.username, as_model.username(), "{context}");
        assert_eq!(
            event.access_key_id,
            as_model.values(AttributeKey::AccessKeyId).pop()
        );
        let types: Vec<_> = event
            .resources
            .iter()
            .filter_map(|r| r.resource_type.clone())
            .collect();
        let names: Vec<_> = event
            .resources
            .iter()
            .filter_map(|r| r.resource_name.clone())
            .collect();
        assert_eq!(types, as_model.values(AttributeKey::ResourceType));
        assert_eq!(names, as_model.values(AttributeKey::ResourceName));
    }
}

// ---------------------------------------------------------------------------------------------
// Layout

#[test]
fn keys_follow_the_layout_and_parse_back() {
    let hour = EventTime::parse("2024-08-05T07:00:00Z").expect("time");
    let key = history_key(
        "123456789012",
        "eu-west-1",
        hour.to_offset_date_time(),
        "batch-1",
    );
    assert_eq!(
        key,
        "history/123456789012/eu-west-1/2024/08/05/07/batch-1.jsonl.lz4"
    );
    assert_eq!(hour_of_history_key(&key), Some(hour));
    // Objects written while the history was gzip are still found.
    assert_eq!(
        hour_of_history_key("history/123456789012/eu-west-1/2024/08/05/07/batch-1.jsonl.gz"),
        Some(hour)
    );
    // Minutes and seconds do not matter.
    let later = EventTime::parse("2024-08-05T07:59:59Z").expect("time");
    assert_eq!(
        history_key(
            "123456789012",
            "eu-west-1",
            later.to_offset_date_time(),
            "batch-1"
        ),
        key
    );
    // Any offset: the UTC hour counts.
    let offset = OffsetDateTime::parse("2024-08-05T09:30:00+02:00", &Rfc3339).expect("time");
    assert_eq!(
        history_key("123456789012", "eu-west-1", offset, "batch-1"),
        key
    );
    // Odd values stay one segment each.
    assert_eq!(
        history_key("a/b", "..", hour.to_offset_date_time(), ""),
        "history/a%2Fb/%2E%2E/2024/08/05/07/%00.jsonl.lz4"
    );
    for bad in [
        "history/1/r/2024/08/05/07.jsonl.gz",
        "history/1/r/2024/13/05/07/b.jsonl.gz",
        "history/1/r/2024/08/05/24/b.jsonl.gz",
        "history/1/r/2024/8/05/07/b.jsonl.gz",
        "history/1/r/2024/08/05/07/b.json",
        "other/1/r/2024/08/05/07/b.jsonl.gz",
    ] {
        assert_eq!(hour_of_history_key(bad), None, "{bad}");
    }
}

/// The key of a history object of JSON lines.
const LINES: &str = "history/123456789012/eu-west-1/2024/08/05/07/batch-1.jsonl.lz4";

#[test]
fn a_copy_of_a_log_file_reads_as_the_lines_of_its_records() {
    use std::io::Write;

    let compact = r#"{"eventVersion":"1.09","eventName":"ListUsers"}"#;
    let pretty = "{\n  \"eventName\" : \"GetUser\"\n}";
    let file = format!(r#"{{"Records":[{compact},{pretty}]}}"#);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(file.as_bytes()).expect("gzip");
    let body = gzip.finish().expect("gzip");
    let hour = time::macros::datetime!(2024-08-05 07:00 UTC);
    let key = history_log_file_key("123456789012", "eu-west-1", hour, "batch-1");
    assert!(key.ends_with("/07/batch-1.json.gz"), "{key}");
    assert_eq!(
        hour_of_history_key(&key),
        Some(EventTime::from_unix_seconds(hour.unix_timestamp()))
    );
    let lines = format!("{compact}\n{{\"eventName\":\"GetUser\"}}\n");
    assert_eq!(decode(&key, &body).expect("unpack"), lines);
    // Unpacked on the way, it reads the same.
    assert_eq!(decode(&key, file.as_bytes()).expect("plain"), lines);
    // The same bytes under a name of JSON lines are one line, not records.
    assert_eq!(decode(LINES, &body).expect("unpack"), file);
    assert!(decode(&key, b"{\"Records\":[").is_err(), "truncated");
    assert!(
        decode(&key, &body[..body.len() - 4]).is_err(),
        "truncated gzip"
    );
}

#[test]
fn compact_records_are_stored_byte_for_byte() {
    let compact = r#"{"eventVersion":"1.09", "a b":"x\ny \"q\" \\","n":1.50e3}"#;
    let body = encode(&[compact, compact]);
    assert_eq!(
        decode(LINES, &body).expect("unpack"),
        format!("{compact}\n{compact}\n")
    );
    // Deterministic bytes, so a retried batch writes the very same object.
    assert_eq!(body, encode(&[compact, compact]));
    // A body already unpacked on the way reads the same; anything else is an error.
    assert_eq!(
        decode(LINES, format!("{compact}\n").as_bytes()).expect("plain"),
        format!("{compact}\n")
    );
    assert!(
        decode(LINES, &body[..body.len() - 4]).is_err(),
        "truncated frame"
    );
    assert!(decode(LINES, &[0xff, 0xfe]).is_err(), "not UTF-8");
}

#[test]
fn objects_written_as_gzip_read_the_same() {
    use std::io::Write;

    let compact = r#"{"eventVersion":"1.09","eventName":"ListUsers"}"#;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(format!("{compact}\n{compact}\n").as_bytes())
        .expect("gzip");
    let body = gzip.finish().expect("gzip");
    assert_eq!(
        decode(LINES, &body).expect("gunzip"),
        format!("{compact}\n{compact}\n")
    );
    assert!(
        decode(LINES, &body[..body.len() - 4]).is_err(),
        "truncated gzip"
    );
}

#[test]
fn pretty_printed_records_become_one_line_with_nothing_else_changed() {
    let pretty = "{\n  \"eventName\" : \"Put Object\",\r\n\t\"s\": \"a \\\" b\\\\\",\n  \"n\": 1.50e3,\n  \"l\": [ 1 , {\"k\": \" \"} ]\n}";
    let line = decode(LINES, &encode(&[pretty])).expect("unpack");
    assert_eq!(
        line,
        "{\"eventName\":\"Put Object\",\"s\":\"a \\\" b\\\\\",\"n\":1.50e3,\"l\":[1,{\"k\":\" \"}]}\n"
    );
}

#[test]
fn objects_for_batch_groups_management_events_by_account_region_and_hour() {
    let model = model();
    let mut lines_seen = 0;
    for (name, text) in fixture_batches() {
        let raws = split_batch(&text).expect("batch");
        let records: Vec<Record> = raws
            .iter()
            .map(|raw| Record::parse(raw, None).expect("record"))
            .collect();
        let objects = objects_for_batch(&records, DEFAULT_ACCOUNT, &name);
        let keys: Vec<&String> = objects.iter().map(|(key, _)| key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted, "one object per key, in key order");

        let batch: Value = serde_json::from_str(&text).expect("json");
        let originals: Vec<Expected> = batch["Records"]
            .as_array()
            .expect("records")
            .iter()
            .cloned()
            .map(Expected::new)
            .collect();
        let mut stored = Vec::new();
        for (key, body) in &objects {
            assert!(key.ends_with(&format!("/{name}.jsonl.lz4")));
            for line in decode(key, body).expect("unpack").lines() {
                let record = Expected::new(serde_json::from_str(line).expect("line"));
                let hour = record.time - record.time.rem_euclid(3600);
                assert_eq!(
                    key,
                    &history_key(&record.account, &record.region, at(hour), &name)
                );
                stored.push(record.json);
            }
        }
        // Exactly the management events, in batch order within each object.
        let mut want: Vec<Value> = originals
            .iter()
            .filter(|e| e.is_management())
            .map(|e| e.json.clone())
            .collect();
        let sort = |values: &mut Vec<Value>| values.sort_by_key(|v| v.to_string());
        sort(&mut want);
        sort(&mut stored);
        lines_seen += stored.len();
        assert_eq!(stored, want, "{name}");
    }
    assert_eq!(
        lines_seen,
        model.iter().filter(|e| e.is_management()).count()
    );
    assert_eq!(model.len(), 310 + 22);
    assert_eq!(
        lines_seen,
        310 + 22 - 3,
        "all but the three Insights events"
    );
}

#[test]
fn fixture_assumptions_hold() {
    let model = model();
    // Records without readOnly are writes, which is what the model assumes of them.
    for event in &model {
        if event.json.get("readOnly").is_none() && event.is_management() {
            let name = event.json["eventName"].as_str().unwrap_or("");
            let record = testing::raw(serde_json::json!({"eventName": name, "readOnly": null}));
            assert!(!testing::parse(&record).is_read_only(), "{name}");
        }
    }
    // No two records without an eventID share a second (the model orders them by "~").
    let mut seconds = BTreeSet::new();
    for event in model.iter().filter(|e| e.id.is_none()) {
        assert!(seconds.insert(event.time));
    }
    // The fixtures cover every lookup attribute with real values.
    for key in AttributeKey::ALL {
        assert!(
            model.iter().any(|e| !e.values(key).is_empty()),
            "{}",
            key.as_str()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Lookups

#[tokio::test]
async fn every_event_is_found_once_newest_first_across_pages() {
    let (_dir, store) = fixture_store().await;
    let model = model();
    let mut total = 0;
    for (account, region) in partitions(&model) {
        let expected = expected_order(&model, &account, &region);
        for (start, end) in windows(&expected) {
            let in_window: Vec<Expected> = expected
                .iter()
                .filter(|e| e.time >= start && e.time <= end)
                .cloned()
                .collect();
            for size in [1, 3, 50] {
                let query = LookupQuery {
                    start_time: Some(at(start)),
                    end_time: Some(at(end)),
                    max_results: Some(size),
                    ..LookupQuery::default()
                };
                let got = all_pages(&store, &account, &region, query, at(end + 3600)).await;
                assert_same_events(&got, &in_window, &format!("{account} {region} size {size}"));
            }
            total += in_window.len();
        }
    }
    // 329 management events less the two documentation examples repeated verbatim.
    assert_eq!(total, 329 - 2);
}

#[tokio::test]
async fn each_attribute_key_finds_what_an_independent_filter_finds() {
    let (_dir, store) = fixture_store().await;
    let model = model();
    let mut answered: BTreeMap<&str, usize> = BTreeMap::new();
    for (account, region) in partitions(&model) {
        let expected = expected_order(&model, &account, &region);
        for (start, end) in windows(&expected) {
            let in_window: Vec<&Expected> = expected
                .iter()
                .filter(|e| e.time >= start && e.time <= end)
                .collect();
            for key in AttributeKey::ALL {
                let mut values: BTreeSet<String> =
                    in_window.iter().flat_map(|e| e.values(key)).collect();
                // A value from another partition or none at all finds nothing here.
                values.insert("no-such-value".to_owned());
                if key == AttributeKey::Username {
                    values.insert("ROOT".to_owned());
                }
                for value in values {
                    let want: Vec<Expected> = in_window
                        .iter()
                        .filter(|e| e.values(key).contains(&value))
                        .map(|e| (*e).clone())
                        .collect();
                    let query = LookupQuery {
                        lookup_attributes: vec![LookupAttribute {
                            attribute_key: key.as_str().to_owned(),
                            attribute_value: value.clone(),
                        }],
                        start_time: Some(at(start)),
                        end_time: Some(at(end)),
                        max_results: Some(4),
                        ..LookupQuery::default()
                    };
                    let got = all_pages(&store, &account, &region, query, at(end + 60)).await;
                    let context = format!("{account} {region} {}={value}", key.as_str());
                    assert_same_events(&got, &want, &context);
                    if !want.is_empty() {
                        *answered.entry(key.as_str()).or_default() += 1;
                    }
                }
            }
        }
    }
    // Every key was exercised with values that match something.
    assert_eq!(answered.len(), 8, "{answered:?}");
}

#[tokio::test]
async fn time_bounds_are_inclusive_to_the_second() {
    let (_dir, store) = fixture_store().await;
    let model = model();
    // The busiest second of the busiest partition.
    let (account, region) = partitions(&model)
        .into_iter()
        .max_by_key(|(a, r)| expected_order(&model, a, r).len())
        .expect("partitions");
    let expected = expected_order(&model, &account, &region);
    let mut per_second: BTreeMap<i64, usize> = BTreeMap::new();
    for event in &expected {
        *per_second.entry(event.time).or_default() += 1;
    }
    let (&second, _) = per_second
        .iter()
        .max_by_key(|(time, count)| (**count, **time))
        .expect("seconds");
    let now = at(second + 86_400);
    let exactly = |from: OffsetDateTime, to: OffsetDateTime| {
        let from_s = from.unix_timestamp() + i64::from(from.nanosecond() > 0);
        let to_s = to.unix_timestamp();
        expected
            .iter()
            .filter(|e| e.time >= from_s && e.time <= to_s)
            .cloned()
            .collect::<Vec<_>>()
    };
    let half = Duration::milliseconds(500);
    let t = at(second);
    let cases = [
        (t, t),
        (t - Duration::seconds(1), t),
        (t, t + Duration::seconds(1)),
        (t + Duration::seconds(1), t + Duration::seconds(5)),
        (t - Duration::seconds(5), t - Duration::seconds(1)),
        (t - half, t + half),
        (t + half, t + Duration::seconds(2)),
        (t - Duration::seconds(2), t - half),
    ];
    for (from, to) in cases {
        let query = LookupQuery {
            start_time: Some(from),
            end_time: Some(to),
            ..LookupQuery::default()
        };
        let got = all_pages(&store, &account, &region, query, now).await;
        let want = exactly(from, to);
        assert_same_events(&got, &want, &format!("{from} .. {to}"));
    }
    assert!(per_second[&second] > 1, "a second with several events");
    assert_eq!(
        exactly(t, t).len(),
        per_second[&second],
        "start = end = that second finds all of it"
    );
}

#[tokio::test]
async fn defaults_are_the_last_90_days_and_50_events() {
    let (_dir, store) = fixture_store().await;
    let model = model();
    let (account, region) = partitions(&model)
        .into_iter()
        .max_by_key(|(a, r)| expected_order(&model, a, r).len())
        .expect("partitions");
    let expected = expected_order(&model, &account, &region);
    assert!(expected.len() > 50, "{}", expected.len());
    let newest = expected[0].time;
    // Every event in range: the first page is the newest 50, and says there is more.
    let now = at(newest + 3600);
    let page = lookup(
        &store,
        BUCKET,
        &account,
        &region,
        &LookupQuery::default(),
        now,
    )
    .await
    .expect("lookup");
    assert_eq!(page.events.len(), 50);
    assert!(page.next_token.is_some());
    assert_same_events(&page.events, &expected[..50], "first page");

    // 90 days on, only what is younger than 90 days is left, even for an early StartTime.
    let now = at(expected[expected.len() / 2].time + 90 * 86_400);
    let horizon = now.unix_timestamp() - 90 * 86_400;
    let young: Vec<Expected> = expected
        .iter()
        .filter(|e| e.time >= horizon)
        .cloned()
        .collect();
    assert!(!young.is_empty() && young.len() < expected.len());
    for start_time in [None, Some(OffsetDateTime::UNIX_EPOCH)] {
        let query = LookupQuery {
            start_time,
            ..LookupQuery::default()
        };
        let got = all_pages(&store, &account, &region, query, now).await;
        assert_same_events(&got, &young, "retention");
    }

    // An EndTime before `now` leaves out what is newer.
    let end = expected[10].time;
    let query = LookupQuery {
        end_time: Some(at(end)),
        ..LookupQuery::default()
    };
    let got = all_pages(&store, &account, &region, query, at(newest + 3600)).await;
    let want: Vec<Expected> = expected.iter().filter(|e| e.time <= end).cloned().collect();
    assert_same_events(&got, &want, "end time");
}

#[tokio::test]
async fn next_token_is_exact_and_bound_to_its_query() {
    let (_dir, store) = fixture_store().await;
    let model = model();
    let (account, region) = partitions(&model)
        .into_iter()
        .max_by_key(|(a, r)| expected_order(&model, a, r).len())
        .expect("partitions");
    let expected = expected_order(&model, &account, &region);
    let now = at(expected[0].time + 60);
    let total = expected.len();

    // A page size dividing the total exactly: the last page carries no NextToken.
    let divisor = (2..=50)
        .rev()
        .find(|n| total.is_multiple_of(*n))
        .expect("divisor");
    let query = LookupQuery {
        max_results: Some(i64::try_from(divisor).expect("size")),
        ..LookupQuery::default()
    };
    let got = all_pages(&store, &account, &region, query, now).await;
    assert_eq!(got.len(), total);

    let first = LookupQuery {
        lookup_attributes: vec![LookupAttribute {
            attribute_key: "ReadOnly".into(),
            attribute_value: "true".into(),
        }],
        max_results: Some(2),
        ..LookupQuery::default()
    };
    let page = lookup(&store, BUCKET, &account, &region, &first, now)
        .await
        .expect("lookup");
    let token = page.next_token.expect("more read-only events");

    // The same query with another MaxResults continues.
    let mut next = first.clone();
    next.next_token = Some(token.clone());
    next.max_results = Some(5);
    let continued = lookup(&store, BUCKET, &account, &region, &next, now)
        .await
        .expect("continue");
    assert_eq!(continued.events.len(), 5);
    assert!(output_position(&continued.events[0]) < output_position(&page.events[1]));

    // Anything else refuses the token.
    let mut other_value = next.clone();
    other_value.lookup_attributes[0].attribute_value = "false".into();
    let mut other_key = next.clone();
    other_key.lookup_attributes.clear();
    let mut other_end = next.clone();
    other_end.end_time = Some(now);
    let mut garbage = next.clone();
    garbage.next_token = Some("not-a-token".into());
    let mut tampered = next.clone();
    tampered.next_token = Some(format!("{token}x"));
    for (what, query, in_region) in [
        ("other value", &other_value, region.as_str()),
        ("no attribute", &other_key, region.as_str()),
        ("explicit end", &other_end, region.as_str()),
        ("garbage", &garbage, region.as_str()),
        ("tampered", &tampered, region.as_str()),
        ("other region", &next, "us-west-2"),
    ] {
        let error = lookup(&store, BUCKET, &account, in_region, query, now)
            .await
            .expect_err(what);
        assert_eq!(error.code(), Some("InvalidNextTokenException"), "{what}");
    }
    // And another account.
    let error = lookup(&store, BUCKET, "000000000000", &region, &next, now)
        .await
        .expect_err("other account");
    assert!(matches!(error, LookupError::InvalidNextToken(_)));
}

#[tokio::test]
async fn pages_hold_still_while_new_events_arrive() {
    let (_dir, store) = empty_store().await;
    let event = |id: &str, time: &str| {
        testing::raw(
            serde_json::json!({"eventID": id, "eventTime": time, "eventName": "RunInstances", "readOnly": false}),
        )
    };
    let first: Vec<Box<RawValue>> = (0..6)
        .map(|i| event(&format!("id-{i}"), &format!("2024-05-01T12:0{i}:00Z")))
        .collect();
    let records: Vec<Record> = first.iter().map(|raw| testing::parse(raw)).collect();
    write_batch(&store, BUCKET, &records, DEFAULT_ACCOUNT, "b1")
        .await
        .expect("write");
    let now = at(OffsetDateTime::parse("2024-05-01T12:30:00Z", &Rfc3339)
        .expect("now")
        .unix_timestamp());
    let query = LookupQuery {
        max_results: Some(2),
        ..LookupQuery::default()
    };
    let account = "111122223333";
    let page = lookup(&store, BUCKET, account, "us-east-2", &query, now)
        .await
        .expect("page 1");
    let ids = |page: &LookupPage| -> Vec<String> {
        page.events
            .iter()
            .map(|e| e.event_id.clone().expect("id"))
            .collect()
    };
    assert_eq!(ids(&page), ["id-5", "id-4"]);

    // A newer event, and one in the middle, arrive before the next page is asked for.
    let later = [
        event("id-new", "2024-05-01T12:20:00Z"),
        event("id-2b", "2024-05-01T12:02:00Z"),
    ];
    let records: Vec<Record> = later.iter().map(|raw| testing::parse(raw)).collect();
    write_batch(&store, BUCKET, &records, DEFAULT_ACCOUNT, "b2")
        .await
        .expect("write");
    let mut next = query.clone();
    next.next_token = page.next_token.clone();
    let page2 = lookup(
        &store,
        BUCKET,
        account,
        "us-east-2",
        &next,
        now + Duration::hours(1),
    )
    .await
    .expect("page 2");
    assert_eq!(ids(&page2), ["id-3", "id-2b"]);
    next.next_token = page2.next_token.clone();
    let page3 = lookup(&store, BUCKET, account, "us-east-2", &next, now)
        .await
        .expect("page 3");
    assert_eq!(ids(&page3), ["id-2", "id-1"]);
    next.next_token = page3.next_token.clone();
    let page4 = lookup(&store, BUCKET, account, "us-east-2", &next, now)
        .await
        .expect("page 4");
    assert_eq!(ids(&page4), ["id-0"]);
    assert_eq!(page4.next_token, None);
}

#[tokio::test]
async fn same_second_events_order_by_event_id_and_duplicates_show_once() {
    let (_dir, store) = empty_store().await;
    let raws: Vec<Box<RawValue>> = ["b", "d", "a", "c", "b"]
        .iter()
        .map(|id| testing::raw(serde_json::json!({"eventID": id})))
        .collect();
    let records: Vec<Record> = raws.iter().map(|raw| testing::parse(raw)).collect();
    // Two batches, so the duplicate sits in another object.
    write_batch(&store, BUCKET, &records[..3], DEFAULT_ACCOUNT, "one")
        .await
        .expect("write");
    write_batch(&store, BUCKET, &records[3..], DEFAULT_ACCOUNT, "two")
        .await
        .expect("write");
    let now = at(EventTime::parse("2024-05-01T13:00:00Z")
        .expect("time")
        .unix_seconds());
    for size in [1, 2, 50] {
        let query = LookupQuery {
            max_results: Some(size),
            ..LookupQuery::default()
        };
        let got = all_pages(&store, "111122223333", "us-east-2", query, now).await;
        let ids: Vec<_> = got.iter().filter_map(|e| e.event_id.clone()).collect();
        assert_eq!(ids, ["d", "c", "b", "a"], "size {size}");
    }
}

#[tokio::test]
async fn validation_errors_are_aws_errors() {
    let (_dir, store) = empty_store().await;
    let now = at(1_720_000_000);
    let attribute = |key: &str, value: &str| LookupAttribute {
        attribute_key: key.to_owned(),
        attribute_value: value.to_owned(),
    };
    let cases = [
        (
            LookupQuery {
                lookup_attributes: vec![
                    attribute("EventName", "RunInstances"),
                    attribute("ReadOnly", "false"),
                ],
                ..LookupQuery::default()
            },
            "InvalidLookupAttributesException",
        ),
        (
            LookupQuery {
                lookup_attributes: vec![attribute("eventName", "RunInstances")],
                ..LookupQuery::default()
            },
            "InvalidLookupAttributesException",
        ),
        (
            LookupQuery {
                lookup_attributes: vec![attribute("Region", "us-east-1")],
                ..LookupQuery::default()
            },
            "InvalidLookupAttributesException",
        ),
        (
            LookupQuery {
                // 1001 underscores count as 2002 characters.
                lookup_attributes: vec![attribute("ResourceName", &"_".repeat(1001))],
                ..LookupQuery::default()
            },
            "InvalidLookupAttributesException",
        ),
        (
            LookupQuery {
                max_results: Some(0),
                ..LookupQuery::default()
            },
            "InvalidMaxResultsException",
        ),
        (
            LookupQuery {
                max_results: Some(51),
                ..LookupQuery::default()
            },
            "InvalidMaxResultsException",
        ),
        (
            LookupQuery {
                max_results: Some(-3),
                ..LookupQuery::default()
            },
            "InvalidMaxResultsException",
        ),
        (
            LookupQuery {
                start_time: Some(now - Duration::hours(1)),
                end_time: Some(now - Duration::hours(2)),
                ..LookupQuery::default()
            },
            "InvalidTimeRangeException",
        ),
        (
            // A StartTime in the future is after the default EndTime, now.
            LookupQuery {
                start_time: Some(now + Duration::seconds(1)),
                ..LookupQuery::default()
            },
            "InvalidTimeRangeException",
        ),
        (
            LookupQuery {
                next_token: Some("eyJ2IjoxfQ".into()),
                ..LookupQuery::default()
            },
            "InvalidNextTokenException",
        ),
    ];
    for (query, code) in cases {
        let error = lookup(&store, BUCKET, "111122223333", "us-east-1", &query, now)
            .await
            .expect_err(code);
        assert_eq!(error.code(), Some(code), "{query:?}: {error}");
        assert!(!error.to_string().is_empty());
    }
    let message = lookup(
        &store,
        BUCKET,
        "111122223333",
        "us-east-1",
        &LookupQuery {
            lookup_attributes: vec![attribute("Region", "x")],
            ..LookupQuery::default()
        },
        now,
    )
    .await
    .expect_err("unknown key")
    .to_string();
    assert!(
        message.contains("[EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId]"),
        "{message}"
    );

    // The limits themselves are fine: 2000 counted characters, 1 and 50 results, start = end.
    let fine = [
        LookupQuery {
            lookup_attributes: vec![attribute("ResourceName", &"_".repeat(1000))],
            ..LookupQuery::default()
        },
        LookupQuery {
            lookup_attributes: vec![attribute("EventName", &"x".repeat(2000))],
            max_results: Some(1),
            ..LookupQuery::default()
        },
        LookupQuery {
            lookup_attributes: vec![],
            max_results: Some(50),
            start_time: Some(now),
            end_time: Some(now),
            ..LookupQuery::default()
        },
    ];
    for query in fine {
        let page = lookup(&store, BUCKET, "111122223333", "us-east-1", &query, now)
            .await
            .expect("valid");
        assert!(page.events.is_empty() && page.next_token.is_none());
    }
}

// ---------------------------------------------------------------------------------------------
// Reading only what a page needs

#[tokio::test]
async fn a_page_reads_only_the_hours_it_needs() {
    let (_dir, inner) = empty_store().await;
    let store = RecordingStore::new(inner);
    // Three events in each of six hours over three days, each hour in two batches.
    let mut raws = Vec::new();
    for (day, hour) in [(1, 5), (1, 9), (2, 7), (2, 8), (3, 1), (3, 22)] {
        for minute in [10, 20, 30] {
            let time = format!("2024-05-0{day}T{hour:02}:{minute}:00Z");
            raws.push(testing::raw(serde_json::json!({
                "eventID": format!("e-{day}-{hour}-{minute}"),
                "eventTime": time
            })));
        }
    }
    let records: Vec<Record> = raws.iter().map(|raw| testing::parse(raw)).collect();
    let (odd, even): (Vec<_>, Vec<_>) = records
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let odd: Vec<Record> = odd.into_iter().map(|(_, r)| r).collect();
    let even: Vec<Record> = even.into_iter().map(|(_, r)| r).collect();
    write_batch(&store, BUCKET, &odd, DEFAULT_ACCOUNT, "odd")
        .await
        .expect("write");
    write_batch(&store, BUCKET, &even, DEFAULT_ACCOUNT, "even")
        .await
        .expect("write");
    let now = at(EventTime::parse("2024-05-04T00:00:00Z")
        .expect("time")
        .unix_seconds());
    let account = "111122223333";
    let region = "us-east-2";

    // Two events: the newest hour holds three, so its two objects are all that is read.
    let query = LookupQuery {
        max_results: Some(2),
        ..LookupQuery::default()
    };
    let page = lookup(&store, BUCKET, account, region, &query, now)
        .await
        .expect("lookup");
    assert_eq!(page.events.len(), 2);
    assert!(page.next_token.is_some());
    let gets = store.take_gets();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(gets.iter().all(|key| key.contains("/2024/05/03/22/")));
    let lists = store.take_lists();
    assert_eq!(
        lists,
        [
            "history/111122223333/us-east-2/2024/05/04/",
            "history/111122223333/us-east-2/2024/05/03/"
        ]
    );

    // Three events: the page is full after the newest hour, but whether more exist needs the
    // next hour too; nothing beyond it.
    let query = LookupQuery {
        max_results: Some(3),
        ..LookupQuery::default()
    };
    let page = lookup(&store, BUCKET, account, region, &query, now)
        .await
        .expect("lookup");
    assert!(page.next_token.is_some());
    let gets = store.take_gets();
    assert_eq!(gets.len(), 4, "{gets:?}");
    assert!(gets.iter().all(|key| key.contains("/2024/05/03/")));
    store.take_lists();

    // The continuation starts at its own hour: the days after it are not even listed.
    let mut next = query.clone();
    next.next_token = page.next_token;
    let page = lookup(&store, BUCKET, account, region, &next, now)
        .await
        .expect("lookup");
    let ids: Vec<_> = page
        .events
        .iter()
        .filter_map(|e| e.event_id.clone())
        .collect();
    assert_eq!(ids, ["e-3-1-30", "e-3-1-20", "e-3-1-10"]);
    let lists = store.take_lists();
    assert_eq!(
        lists,
        [
            "history/111122223333/us-east-2/2024/05/03/",
            "history/111122223333/us-east-2/2024/05/02/"
        ]
    );
    let gets = store.take_gets();
    // The cursor's own hour again (it may hold more events of the cursor's second), then
    // 03/01 for the page and 02/08 to know that more exist.
    assert_eq!(gets.len(), 6, "{gets:?}");
    for hour in ["/2024/05/03/22/", "/2024/05/03/01/", "/2024/05/02/08/"] {
        assert_eq!(
            gets.iter().filter(|key| key.contains(hour)).count(),
            2,
            "{hour}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Output

#[test]
fn events_serialize_as_the_aws_cli_prints_them() {
    let raw = testing::raw(serde_json::json!({
        "eventID": "e-1",
        "eventName": "AssumeRole",
        "eventSource": "sts.amazonaws.com",
        "readOnly": null,
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice-session",
            "accountId": "111122223333",
            "accessKeyId": "ASIAEXAMPLE"
        },
        "resources": [
            {"accountId": "111122223333", "type": "AWS::IAM::Role", "ARN": "arn:aws:iam::111122223333:role/Admin"},
            {"ARN": "arn:aws:s3:::bucket"}
        ]
    }));
    let record = testing::parse(&raw);
    let page = LookupPage {
        events: vec![LookupEvent::from_record(&record, raw.get())],
        next_token: Some("tok".into()),
    };
    let json = serde_json::to_string(&page).expect("json");
    let cloud_trail_event = serde_json::to_string(raw.get()).expect("string");
    assert_eq!(
        json,
        format!(
            "{{\"Events\":[{{\"EventId\":\"e-1\",\"EventName\":\"AssumeRole\",\
             \"ReadOnly\":\"false\",\"AccessKeyId\":\"ASIAEXAMPLE\",\
             \"EventTime\":1714564800.0,\"EventSource\":\"sts.amazonaws.com\",\
             \"Username\":\"alice-session\",\"Resources\":[{{\"ResourceType\":\"AWS::IAM::Role\",\
             \"ResourceName\":\"Admin\"}},\
             {{\"ResourceName\":\"bucket\"}}],\
             \"CloudTrailEvent\":{cloud_trail_event}}}],\"NextToken\":\"tok\"}}"
        )
    );

    // Absent members are left out; Resources stays, empty.
    let bare = testing::raw(serde_json::json!({
        "eventVersion": "1.0", "eventID": null, "requestID": null, "eventType": null,
        "userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
    }));
    let event = LookupEvent::from_record(&testing::parse(&bare), bare.get());
    let json = serde_json::to_string(&event).expect("json");
    let cloud_trail_event = serde_json::to_string(bare.get()).expect("string");
    assert_eq!(
        json,
        format!(
            "{{\"EventName\":\"DescribeInstances\",\"ReadOnly\":\"true\",\
             \"EventTime\":1714564800.0,\"EventSource\":\"ec2.amazonaws.com\",\
             \"Resources\":[],\"CloudTrailEvent\":{cloud_trail_event}}}"
        )
    );
}

#[test]
fn usernames_are_the_ones_event_history_shows() {
    let name = |identity: Value| {
        let raw = testing::raw(serde_json::json!({ "userIdentity": identity }));
        username(&testing::parse(&raw)).map(|n| n.into_owned())
    };
    let cases = [
        (
            serde_json::json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/path/to/Alice", "userName": "Alice"}),
            Some("Alice"),
        ),
        (
            serde_json::json!({"type": "Root", "arn": "arn:aws:iam::1:root", "userName": "my-alias"}),
            Some("root"),
        ),
        (
            serde_json::json!({"type": "Root", "arn": "arn:aws:iam::1:root"}),
            Some("root"),
        ),
        (
            serde_json::json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/Role/session@example.com"}),
            Some("session@example.com"),
        ),
        (
            serde_json::json!({"type": "FederatedUser", "arn": "arn:aws:sts::1:federated-user/Bob"}),
            Some("Bob"),
        ),
        (
            serde_json::json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/Carol"}),
            Some("Carol"),
        ),
        (
            serde_json::json!({"type": "AWSService", "invokedBy": "s3.amazonaws.com"}),
            None,
        ),
        (
            serde_json::json!({"type": "AWSAccount", "accountId": "1"}),
            None,
        ),
    ];
    for (identity, want) in cases {
        assert_eq!(name(identity.clone()).as_deref(), want, "{identity}");
    }
}

// ---------------------------------------------------------------------------------------------
// Retention

#[tokio::test]
async fn prune_deletes_exactly_the_hours_past_retention() {
    let (_dir, store) = empty_store().await;
    let now = OffsetDateTime::parse("2024-12-01T00:30:00Z", &Rfc3339).expect("now");
    // The cutoff is 2024-09-02T00:30:00Z: the 23:00 hour of 09-01 ended before it, the 00:00
    // hour of 09-02 did not.
    let times = [
        ("2024-08-15T10:00:00Z", true),
        ("2024-09-01T22:59:59Z", true),
        ("2024-09-01T23:00:00Z", true),
        ("2024-09-01T23:59:59Z", true),
        ("2024-09-02T00:00:00Z", false),
        ("2024-09-02T00:45:00Z", false),
        ("2024-11-30T23:00:00Z", false),
    ];
    let raws: Vec<Box<RawValue>> = times
        .iter()
        .enumerate()
        .map(|(i, (time, _))| {
            testing::raw(serde_json::json!({"eventID": format!("e{i}"), "eventTime": time}))
        })
        .collect();
    let records: Vec<Record> = raws.iter().map(|raw| testing::parse(raw)).collect();
    let keys = write_batch(&store, BUCKET, &records, DEFAULT_ACCOUNT, "b")
        .await
        .expect("write");
    // Something else under the prefix is not the history's to delete.
    let foreign = "history/README.txt";
    store
        .put(
            BUCKET,
            foreign,
            Bytes::from_static(b"hi"),
            &PutOptions::new("text/plain"),
        )
        .await
        .expect("put");

    let expired_hours: BTreeSet<i64> = times
        .iter()
        .filter(|(_, expired)| *expired)
        .map(|(time, _)| hour_start(EventTime::parse(time).expect("time").unix_seconds()))
        .collect();
    let deleted = prune(&store, BUCKET, now).await.expect("prune");
    assert_eq!(deleted, expired_hours.len());
    let left: BTreeSet<String> = store
        .list_all(BUCKET, HISTORY_PREFIX)
        .await
        .expect("list")
        .into_iter()
        .map(|entry| entry.key)
        .collect();
    let want: BTreeSet<String> = keys
        .iter()
        .filter(|key| {
            !expired_hours.contains(&hour_of_history_key(key).expect("key").unix_seconds())
        })
        .cloned()
        .chain([foreign.to_owned()])
        .collect();
    assert_eq!(left, want);
    assert_eq!(
        prune(&store, BUCKET, now).await.expect("again"),
        0,
        "idempotent"
    );

    // What is left still answers, less the events older than 90 days in the kept hour.
    let page = lookup(
        &store,
        BUCKET,
        "111122223333",
        "us-east-2",
        &LookupQuery::default(),
        now,
    )
    .await
    .expect("lookup");
    let ids: Vec<_> = page
        .events
        .iter()
        .filter_map(|e| e.event_id.clone())
        .collect();
    assert_eq!(ids, ["e6", "e5"]);
}

#[tokio::test]
async fn prune_over_the_fixtures_matches_the_model() {
    let (_dir, store) = fixture_store().await;
    let before = store.list_all(BUCKET, HISTORY_PREFIX).await.expect("list");
    let now = OffsetDateTime::parse("2024-11-15T12:00:00Z", &Rfc3339).expect("now");
    let cutoff = now.unix_timestamp() - 90 * 86_400;
    let expired = before
        .iter()
        .filter(|entry| {
            let rest: Vec<&str> = entry.key.split('/').collect();
            let hour = OffsetDateTime::parse(
                &format!("{}-{}-{}T{}:00:00Z", rest[3], rest[4], rest[5], rest[6]),
                &Rfc3339,
            )
            .expect("hour");
            hour.unix_timestamp() + 3600 <= cutoff
        })
        .count();
    assert!(expired > 0 && expired < before.len());
    assert_eq!(prune(&store, BUCKET, now).await.expect("prune"), expired);
    let after = store.list_all(BUCKET, HISTORY_PREFIX).await.expect("list");
    assert_eq!(after.len(), before.len() - expired);
    assert_eq!(prune(&store, BUCKET, now).await.expect("again"), 0);
}

// ---------------------------------------------------------------------------------------------
// EventCategory and Cairn's extensions

#[tokio::test]
async fn extensions_and_several_attributes_and_a_filter_pattern_against_the_model() {
    let (_dir, store) = fixture_store().await;
    let model = model();
    let mut found = 0;
    for (account, region) in partitions(&model) {
        let expected = expected_order(&model, &account, &region);
        for (start, end) in windows(&expected) {
            let in_window: Vec<&Expected> = expected
                .iter()
                .filter(|e| e.time >= start && e.time <= end)
                .collect();
            // Every (EventSource, ReadOnly) pair the window holds, and one that matches nothing.
            let mut pairs: BTreeSet<(String, String)> = in_window
                .iter()
                .flat_map(|e| {
                    e.values(AttributeKey::EventSource)
                        .into_iter()
                        .map(|source| (source, e.read_only().to_owned()))
                })
                .collect();
            pairs.insert(("iam.amazonaws.com".to_owned(), "maybe".to_owned()));
            for (source, read_only) in pairs {
                let pattern =
                    format!("{{ $.eventSource = \"{source}\" && $.eventName = \"*e*\" }}");
                let want: Vec<Expected> = in_window
                    .iter()
                    .filter(|e| e.values(AttributeKey::EventSource).contains(&source))
                    .filter(|e| e.read_only() == read_only)
                    .filter(|e| {
                        e.json["eventName"]
                            .as_str()
                            .is_some_and(|name| name.contains('e'))
                    })
                    .map(|e| (*e).clone())
                    .collect();
                let query = LookupQuery {
                    lookup_attributes: vec![
                        LookupAttribute {
                            attribute_key: "EventSource".to_owned(),
                            attribute_value: source.clone(),
                        },
                        LookupAttribute {
                            attribute_key: "ReadOnly".to_owned(),
                            attribute_value: read_only.clone(),
                        },
                    ],
                    start_time: Some(at(start)),
                    end_time: Some(at(end)),
                    max_results: Some(7),
                    extensions: Some(Extensions {
                        filter_pattern: Some(pattern),
                    }),
                    ..LookupQuery::default()
                };
                let got = all_pages(&store, &account, &region, query, at(end + 60)).await;
                assert_same_events(
                    &got,
                    &want,
                    &format!("{account} {region} {source} {read_only}"),
                );
                found += want.len();
            }
        }
    }
    assert!(found > 100, "{found}");
}

#[tokio::test]
async fn insight_events_only_when_asked_for() {
    let (_dir, store) = empty_store().await;
    let account = "111122223333";
    // A hand-made Insights record, in the shape of the User Guide's examples, beside a
    // management event of the same second.
    let insight = testing::raw(serde_json::json!({
        "eventVersion": "1.08",
        "eventTime": "2024-05-01T12:00:00Z",
        "awsRegion": "us-east-1",
        "eventID": "insight-1",
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": account,
        "sharedEventID": "shared-1",
        "eventCategory": "Insight",
        "insightDetails": {
            "state": "Start",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "insightType": "ApiCallRateInsight"
        }
    }));
    let management = testing::raw(serde_json::json!({
        "eventTime": "2024-05-01T12:00:00Z",
        "eventID": "management-1",
        "eventName": "RunInstances",
        "eventSource": "ec2.amazonaws.com",
        "awsRegion": "us-east-1",
        "recipientAccountId": account
    }));
    let key = history_key(
        account,
        "us-east-1",
        EventTime::parse("2024-05-01T12:00:00Z")
            .expect("time")
            .to_offset_date_time(),
        "batch",
    );
    store
        .put(
            BUCKET,
            &key,
            Bytes::from(encode(&[insight.get(), management.get()])),
            &put_options(),
        )
        .await
        .expect("put");
    let now = at(1_714_600_000);
    let ids = |page: LookupPage| -> Vec<String> {
        page.events
            .into_iter()
            .map(|event| event.event_id.expect("id"))
            .collect()
    };
    let default = lookup(
        &store,
        BUCKET,
        account,
        "us-east-1",
        &LookupQuery::default(),
        now,
    )
    .await
    .expect("lookup");
    assert_eq!(ids(default), ["management-1"]);
    let insight_query = LookupQuery {
        event_category: Some("insight".to_owned()),
        ..LookupQuery::default()
    };
    let insights = lookup(&store, BUCKET, account, "us-east-1", &insight_query, now)
        .await
        .expect("insights");
    assert_eq!(ids(insights), ["insight-1"]);

    // Insights are looked up by EventId, EventName and EventSource only; the category is the
    // API's one value, `insight`; an empty AttributeValue is refused as the AWS CLI refuses it.
    let refused = [
        (
            LookupQuery {
                event_category: Some("insight".to_owned()),
                lookup_attributes: vec![LookupAttribute {
                    attribute_key: "Username".to_owned(),
                    attribute_value: "root".to_owned(),
                }],
                ..LookupQuery::default()
            },
            Some("InvalidLookupAttributesException"),
        ),
        (
            LookupQuery {
                event_category: Some("Insight".to_owned()),
                ..LookupQuery::default()
            },
            Some("InvalidEventCategoryException"),
        ),
        (
            LookupQuery {
                lookup_attributes: vec![LookupAttribute {
                    attribute_key: "EventName".to_owned(),
                    attribute_value: String::new(),
                }],
                ..LookupQuery::default()
            },
            None,
        ),
        (
            LookupQuery {
                extensions: Some(Extensions {
                    filter_pattern: Some("{ $.eventName = ".to_owned()),
                }),
                ..LookupQuery::default()
            },
            None,
        ),
    ];
    for (query, code) in refused {
        let error = lookup(&store, BUCKET, account, "us-east-1", &query, now)
            .await
            .expect_err("refused");
        assert_eq!(error.code(), code, "{query:?}: {error}");
    }
    let empty = lookup(
        &store,
        BUCKET,
        account,
        "us-east-1",
        &LookupQuery {
            lookup_attributes: vec![LookupAttribute {
                attribute_key: "EventName".to_owned(),
                attribute_value: String::new(),
            }],
            ..LookupQuery::default()
        },
        now,
    )
    .await
    .expect_err("empty value")
    .to_string();
    assert_eq!(
        empty,
        "Parameter validation failed:\nInvalid length for parameter \
         LookupAttributes[0].AttributeValue, value: 0, valid min length: 1"
    );
}
