//! What notify's unit tests share: records and alert objects of the documented shapes.

use serde_json::{Value, json};

/// A log file key of trail main of the sample configuration (`audit` prefix).
pub(super) const KEY: &str = "audit/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1010Z_Qm7Xc2LpV9aK4dRt.json.gz";

/// A management event record of account 123456789012 in us-east-1; `extra` adds or replaces
/// fields.
pub(super) fn record(name: &str, time: &str, identity: Value, extra: Value) -> Value {
    let mut record = json!({
        "eventVersion": "1.08",
        "userIdentity": identity,
        "eventTime": time,
        "eventSource": "signin.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.77",
        "eventID": format!("{name}-{time}"),
        "recipientAccountId": "123456789012",
    });
    record
        .as_object_mut()
        .expect("an object")
        .extend(extra.as_object().expect("an object").clone());
    record
}

pub(super) fn root() -> Value {
    json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root"})
}

/// The text of an alert object of the documented shape for log file [`KEY`] of trail main,
/// its matches (filter, record) in that order, each filter of log group `cairn/cloudtrail`.
pub(super) fn alert_json(matches: &[(&str, Value)]) -> String {
    let matches: Vec<Value> = matches
        .iter()
        .map(|(filter, record)| {
            let text = |name: &str| record.get(name).cloned().unwrap_or(Value::Null);
            let identity = |name: &str| {
                record["userIdentity"]
                    .get(name)
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            json!({
                "filterName": filter,
                "filterPattern": format!("{{ $.filter = \"{filter}\" }}"),
                "logGroup": "cairn/cloudtrail",
                "metric": {"namespace": "CloudTrailMetrics", "name": filter, "unit": "Count",
                           "value": 1, "dimensions": {}},
                "event": {
                    "eventTime": text("eventTime"), "eventName": text("eventName"),
                    "eventSource": text("eventSource"), "eventID": text("eventID"),
                    "userIdentity": {"type": identity("type"), "arn": identity("arn")},
                    "sourceIPAddress": text("sourceIPAddress"), "awsRegion": text("awsRegion"),
                    "recipientAccountId": text("recipientAccountId"),
                    "errorCode": text("errorCode"),
                },
                "record": record,
            })
        })
        .collect();
    json!({
        "version": 1,
        "logFile": {"s3Bucket": "cairn-trail-123456789012", "s3ObjectKey": KEY},
        "trail": "main",
        "trailArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
        "logGroup": "cairn/cloudtrail",
        "logStream": "123456789012_CloudTrail_us-east-1",
        "matches": matches,
    })
    .to_string()
}
