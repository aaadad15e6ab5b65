//! forward's and notify's trigger: S3's "Object Created" event, as EventBridge delivers it.
//!
//! ```json
//! {"version":"0","detail-type":"Object Created","source":"aws.s3","account":"123456789012",
//!  "region":"us-east-1","resources":["arn:aws:s3:::BUCKET"],
//!  "detail":{"version":"0","bucket":{"name":"BUCKET"},
//!            "object":{"key":"KEY","size":5,"etag":"…","sequencer":"…"},
//!            "request-id":"…","requester":"…","reason":"PutObject"}}
//! ```
//!
//! The object key is URL-encoded, as in S3's other event notifications (`a b+c.json` arrives as
//! `a+b%2Bc.json`): it is decoded here, `+` to a space and `%XX` to its byte. LocalStack, whose
//! S3-to-EventBridge events are checked against AWS, sends keys percent-encoded the same way
//! (spaces as `%20`), which decodes alike. Cairn's own log file keys have no character that
//! encoding changes unless a trail's S3KeyPrefix does.

use serde::Deserialize;
use serde_json::Value;

/// The object an "Object Created" event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    pub bucket: String,
    /// The key as stored (decoded).
    pub key: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
}

impl ObjectCreated {
    /// The object `bucket`/`key` (the key as stored), as an event that gave no size or ETag.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            size: None,
            etag: None,
        }
    }
}

/// What an EventBridge event asks of forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    ObjectCreated(ObjectCreated),
    /// Not an S3 "Object Created" event: nothing to do, and why.
    Ignored(String),
}

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("the \"Object Created\" event's detail is not S3's shape: {0}")]
    Detail(serde_json::Error),
    #[error("the object key {key:?} is not URL-encoded UTF-8: {why}")]
    Key { key: String, why: &'static str },
}

#[derive(Deserialize)]
struct Detail {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
struct Object {
    key: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    etag: Option<String>,
}

/// Reads an EventBridge event's `detail-type`, `source` and `detail`.
pub fn from_eventbridge(
    detail_type: &str,
    source: &str,
    detail: &Value,
) -> Result<Trigger, TriggerError> {
    if source != "aws.s3" || detail_type != "Object Created" {
        return Ok(Trigger::Ignored(format!(
            "a {detail_type:?} event from {source:?}, not an \"Object Created\" event from aws.s3"
        )));
    }
    let detail = Detail::deserialize(detail).map_err(TriggerError::Detail)?;
    Ok(Trigger::ObjectCreated(ObjectCreated {
        bucket: detail.bucket.name,
        key: decode_key(&detail.object.key)?,
        size: detail.object.size,
        etag: detail.object.etag,
    }))
}

/// Decodes a key as S3 event notifications encode it (`application/x-www-form-urlencoded`).
pub fn decode_key(encoded: &str) -> Result<String, TriggerError> {
    let refuse = |why| TriggerError::Key {
        key: encoded.to_owned(),
        why,
    };
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        match byte {
            b'+' => {
                bytes.push(b' ');
                rest = tail;
            }
            b'%' => {
                let hex = |b: u8| char::from(b).to_digit(16);
                let (Some(high), Some(low)) = (
                    tail.first().copied().and_then(hex),
                    tail.get(1).copied().and_then(hex),
                ) else {
                    return Err(refuse("a % is not followed by two hex digits"));
                };
                bytes.push((high * 16 + low) as u8);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).map_err(|_| refuse("the decoded bytes are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The sample event in events/, as the function receives it.
    const SAMPLE: &str = include_str!("../../events/s3-object-created.json");

    fn parse(event: &Value) -> Result<Trigger, TriggerError> {
        from_eventbridge(
            event["detail-type"].as_str().unwrap_or_default(),
            event["source"].as_str().unwrap_or_default(),
            &event["detail"],
        )
    }

    #[test]
    fn the_sample_event_names_a_log_file_of_the_sample_main_trail() {
        let event: Value = serde_json::from_str(SAMPLE).expect("sample event");
        let Trigger::ObjectCreated(object) = parse(&event).expect("trigger") else {
            panic!("the sample is an Object Created event");
        };
        assert_eq!(object.bucket, "cairn-trail-123456789012");
        assert!(
            object
                .key
                .starts_with("audit/AWSLogs/123456789012/CloudTrail/us-east-1/"),
            "{}",
            object.key
        );
        assert!(object.size.is_some() && object.etag.is_some());
        let config = crate::config::Config::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cairn.yaml"),
        )
        .expect("the sample cairn.yaml");
        let trails = crate::delivered::candidates(&config, &object.bucket, &object.key)
            .expect("a log file of a configured trail");
        let names: Vec<&str> = trails.iter().map(|trail| trail.name()).collect();
        assert_eq!(names, ["main"]);
        assert_eq!(object.key.split('/').nth(4), Some("us-east-1"));
    }

    #[test]
    fn other_events_are_ignored_with_a_reason() {
        let scheduled =
            json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        let Trigger::Ignored(why) = parse(&scheduled).expect("ignored") else {
            panic!("a schedule is not a trigger");
        };
        assert!(why.contains("Scheduled Event"), "{why}");
        let deleted = json!({"detail-type": "Object Deleted", "source": "aws.s3",
            "detail": {"bucket": {"name": "b"}, "object": {"key": "k"}}});
        assert!(matches!(parse(&deleted), Ok(Trigger::Ignored(_))));
    }

    #[test]
    fn a_detail_of_another_shape_is_an_error() {
        let event = json!({"detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": "b"}});
        assert!(matches!(parse(&event), Err(TriggerError::Detail(_))));
    }

    #[test]
    fn keys_are_url_decoded() {
        let event = json!({"detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": "b"}, "object": {"key": "my+logs/a%2Bb%3D1/caf%C3%A9%20x.json.gz"}}});
        let Ok(Trigger::ObjectCreated(object)) = parse(&event) else {
            panic!("trigger");
        };
        assert_eq!(object.key, "my logs/a+b=1/café x.json.gz");
        assert_eq!(object.size, None);
        // Keys Cairn writes pass through unchanged.
        let key = "AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/2026/11/22/111122223333_CloudTrail_us-east-1_20261122T1000Z_AbCdEfGh01234567.json.gz";
        assert_eq!(decode_key(key).unwrap(), key);
        assert!(decode_key("a%2").is_err());
        assert!(decode_key("a%zz").is_err());
        assert!(decode_key("%FF").is_err());
    }
}
