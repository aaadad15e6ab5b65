//! Records for tests, built from small JSON snippets: a valid management API call that each
//! test changes only where it matters.

use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::record::Record;

/// A valid record with `changes` applied; a change to `null` removes the field.
pub(crate) fn raw(changes: Value) -> Box<RawValue> {
    let mut record = json!({
        "eventVersion": "1.11",
        "eventTime": "2024-05-01T12:00:00Z",
        "eventType": "AwsApiCall",
        "eventID": "3c5d2a66-0c6e-4d5f-9d4b-2d8a1f0e7b10",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "us-east-2",
        "sourceIPAddress": "192.0.2.10",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333"
        },
        "requestID": "5f1e6b7a-1111-2222-3333-444455556666",
        "readOnly": true,
        "managementEvent": true,
        "eventCategory": "Management",
        "recipientAccountId": "111122223333"
    });
    if let (Some(fields), Value::Object(changes)) = (record.as_object_mut(), changes) {
        for (key, value) in changes {
            if value.is_null() {
                fields.remove(&key);
            } else {
                fields.insert(key, value);
            }
        }
    }
    serde_json::value::to_raw_value(&record).expect("a JSON object serializes")
}

/// The record CloudTrail Lake stores for AWS's PutAuditEvents example event, received in
/// `region` for `account`.
pub(crate) fn lake_record(account: &str, region: &str) -> Box<RawValue> {
    let record = json!({
        "eventVersion": "1.11",
        "eventCategory": "ActivityAuditLog",
        "eventType": "ActivityLog",
        "eventID": "c7ca724d-9aa4-81f2-9a90-3e290df75b0d",
        "eventTime": "2021-10-27T12:13:14Z",
        "awsRegion": region,
        "recipientAccountId": account,
        "metadata": {
            "ingestionTime": "2021-10-27T12:13:20Z",
            "channelARN": format!("arn:aws:cloudtrail:{region}:{account}:channel/EXAMPLE8-0558-4f7e-a06a-43969EXAMPLE")
        },
        "eventData": {
            "version": "eventData.version", "UID": "UID",
            "userIdentity": {"type": "CustomUserIdentity", "principalId": "principalId", "details": {"key": "value"}},
            "eventTime": "2021-10-27T12:13:14Z", "eventName": "eventName", "userAgent": "userAgent",
            "eventSource": "eventSource", "requestParameters": {"key": "value"},
            "responseElements": {"key": "value"}, "additionalEventData": {"key": "value"},
            "sourceIPAddress": "12.34.56.78", "recipientAccountId": account
        }
    });
    serde_json::value::to_raw_value(&record).expect("a JSON object serializes")
}

pub(crate) fn parse(raw: &RawValue) -> Record<'_> {
    Record::parse(raw, None).unwrap_or_else(|e| panic!("test record refused: {e}\n{}", raw.get()))
}

/// An S3 object-level data event on `bucket/key`, with the bucket and object resources
/// CloudTrail writes for it.
pub(crate) fn s3_object_event(name: &str, read_only: bool, bucket: &str, key: &str) -> Value {
    json!({
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "readOnly": read_only,
        "managementEvent": false,
        "eventCategory": "Data",
        "resources": [
            {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")},
            {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}
        ]
    })
}

/// A data event on one resource of another service (Lambda Invoke, DynamoDB GetItem…).
pub(crate) fn data_event(
    source: &str,
    name: &str,
    read_only: bool,
    kind: &str,
    arn: &str,
) -> Value {
    json!({
        "eventSource": source,
        "eventName": name,
        "readOnly": read_only,
        "managementEvent": false,
        "eventCategory": "Data",
        "resources": [{"accountId": "111122223333", "type": kind, "ARN": arn}]
    })
}
