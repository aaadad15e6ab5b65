//! Searching log files deliver wrote, checked against an evaluation of the same records apart
//! from the code under test.

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::StreamExt;
use serde_json::{Value, json};
use std::io::Write;

use super::*;
use crate::adapters::local::LocalObjectStore;
use crate::history::{Extensions, LookupAttribute, LookupQuery};
use crate::ports::object_store::PutOptions;

const BUCKET: &str = "trail-bucket";

fn gzip(records: &[Value]) -> Bytes {
    let body = json!({ "Records": records }).to_string();
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(body.as_bytes()).expect("gzip");
    Bytes::from(encoder.finish().expect("gzip"))
}

fn record(id: usize, time: &str, name: &str, category: &str) -> Value {
    json!({
        "eventVersion": "1.11",
        "eventTime": time,
        "eventType": if category == "Insight" { "AwsCloudTrailInsight" } else { "AwsApiCall" },
        "eventID": format!("id-{id}"),
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "eventCategory": category,
        "recipientAccountId": "111122223333",
        "sourceIPAddress": "192.0.2.10",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "requestID": format!("request-{id}"),
        "readOnly": name == "GetObject",
        "managementEvent": false,
        "errorCode": if id.is_multiple_of(3) { Value::from("AccessDenied") } else { Value::Null }
    })
}

#[tokio::test]
async fn only_the_day_folders_in_range_and_only_matching_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    store.create_bucket(BUCKET).await.expect("bucket");
    let options = PutOptions::new("application/json");
    let mut all = Vec::new();
    let days = ["2024/05/01", "2024/05/02", "2024/05/03", "2024/05/07"];
    for (d, day) in days.iter().enumerate() {
        for (account, region) in [("111122223333", "us-east-1"), ("444455556666", "eu-west-1")] {
            let date = day.replace('/', "-");
            let records: Vec<Value> = (0..6)
                .map(|i| {
                    let id = d * 100 + i;
                    let name = if i % 2 == 0 { "GetObject" } else { "PutObject" };
                    record(id, &format!("{date}T1{i}:00:00Z"), name, "Data")
                })
                .collect();
            let key = format!(
                "logs/AWSLogs/{account}/CloudTrail/{region}/{day}/{account}_CloudTrail_{region}_{}T2300Z_abcdefghijklmnop.json.gz",
                date.replace('-', "")
            );
            store
                .put(BUCKET, &key, gzip(&records), &options)
                .await
                .expect("put");
            all.extend(records);
        }
    }
    // An Insights file, where CloudTrail puts them.
    let insight = json!({
        "eventVersion": "1.08",
        "eventTime": "2024-05-02T10:00:00Z",
        "awsRegion": "us-east-1",
        "eventID": "insight-1",
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": "111122223333",
        "sharedEventID": "shared-1",
        "eventCategory": "Insight",
        "insightDetails": {
            "state": "Start",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "insightType": "ApiCallRateInsight"
        }
    });
    store
        .put(
            BUCKET,
            "logs/AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/05/02/111122223333_CloudTrail-Insight_us-east-1_20240502T2300Z_abcdefghijklmnop.json.gz",
            gzip(std::slice::from_ref(&insight)),
            &options,
        )
        .await
        .expect("put");

    let start = EventTimeSeconds::of("2024-05-02T11:00:00Z");
    let end = EventTimeSeconds::of("2024-05-03T13:00:00Z");
    let files = TrailFiles::new(BUCKET, Some("logs"), None, false);
    let keys = files.keys(&store, start, end).await.expect("keys");
    // 05/02 and 05/03 (and 05/04, empty) in both accounts; never 05/01 or 05/07.
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| k.contains("/2024/05/02/") || k.contains("/2024/05/03/"))
    );

    let query = LookupQuery {
        lookup_attributes: vec![LookupAttribute {
            attribute_key: "EventName".to_owned(),
            attribute_value: "GetObject".to_owned(),
        }],
        extensions: Some(Extensions {
            filter_pattern: Some("{ $.errorCode = \"AccessDenied\" }".to_owned()),
        }),
        ..LookupQuery::default()
    };
    let criteria = Criteria::new(&query).expect("criteria");
    let mut found = Vec::new();
    for key in &keys {
        let body = store.get(BUCKET, key).await.expect("get").body;
        found.extend(matching_records(&body, &criteria, start, end).expect("readable"));
    }
    let found: Vec<Value> = found
        .iter()
        .map(|text| serde_json::from_str(text).expect("json"))
        .collect();
    let mut expected: Vec<Value> = all
        .iter()
        .filter(|r| {
            let time = EventTimeSeconds::of(r["eventTime"].as_str().expect("time"));
            time >= start
                && time <= end
                && r["eventName"] == "GetObject"
                && r["errorCode"] == "AccessDenied"
        })
        .cloned()
        .collect();
    let id = |r: &Value| r["eventID"].as_str().expect("id").to_owned();
    let mut got = found.clone();
    got.sort_by_key(id);
    expected.sort_by_key(id);
    assert_eq!(got, expected);
    assert!(!expected.is_empty());

    // Insights: CloudTrail-Insight/ is read only when they are asked for, and then beside
    // CloudTrail/ (where Cairn's deliver puts a trail's Insights events).
    let insights = TrailFiles::new(BUCKET, Some("logs"), None, true);
    let keys = insights
        .keys(&store, start - 86_400, end)
        .await
        .expect("keys");
    let insight_keys: Vec<&String> = keys
        .iter()
        .filter(|key| key.contains("/CloudTrail-Insight/"))
        .collect();
    assert_eq!(insight_keys.len(), 1, "{keys:?}");
    assert_eq!(keys.len(), 6 + 1, "{keys:?}");
    let criteria = Criteria::new(&LookupQuery {
        event_category: Some("insight".to_owned()),
        ..LookupQuery::default()
    })
    .expect("criteria");
    let mut found = Vec::new();
    for key in &keys {
        let body = store.get(BUCKET, key).await.expect("get").body;
        found.extend(matching_records(&body, &criteria, start - 86_400, end).expect("readable"));
    }
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("\"insight-1\""), "{found:?}");

    // A damaged file is named as unreadable.
    assert!(matching_records(b"not gzip", &criteria, start, end).is_err());

    // From 1970: every day folder up to the day after the end, and no other.
    let open = files.keys(&store, 0, end).await.expect("keys");
    assert_eq!(open.len(), 6, "{open:?}");
    assert!(open.iter().all(|k| !k.contains("/2024/05/07/")));

    // The search reads them all, in key order, and a damaged file is reported with its key
    // while the others are still searched.
    let damaged = "logs/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/02/111122223333_CloudTrail_us-east-1_20240502T0000Z_damageddamagedda.json.gz";
    store
        .put(BUCKET, damaged, Bytes::from_static(b"not gzip"), &options)
        .await
        .expect("put");
    let keys = files.keys(&store, 0, end).await.expect("keys");
    let criteria = std::sync::Arc::new(Criteria::new(&LookupQuery::default()).expect("criteria"));
    let results: Vec<FileMatches> = files
        .search(&store, keys.clone(), criteria, i64::MIN, i64::MAX)
        .collect()
        .await;
    assert_eq!(
        results
            .iter()
            .map(|file| file.key.clone())
            .collect::<Vec<_>>(),
        keys
    );
    let unreadable: Vec<&str> = results
        .iter()
        .filter(|file| file.records.is_err())
        .map(|file| file.key.as_str())
        .collect();
    assert_eq!(unreadable, [damaged]);
    let found: usize = results
        .iter()
        .filter_map(|file| file.records.as_ref().ok())
        .map(Vec::len)
        .sum();
    assert_eq!(found, 6 * 6);
}

/// Epoch seconds of an eventTime, computed apart from the code under test.
struct EventTimeSeconds;

impl EventTimeSeconds {
    fn of(text: &str) -> i64 {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .expect("time")
            .unix_timestamp()
    }
}
