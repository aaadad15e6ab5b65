//! CloudTrail's delivery notice: the message a trail's SnsTopicARN receives when log files are
//! delivered.
//!
//! CloudTrail publishes the bucket and the keys, compact JSON, with no subject and no message
//! attributes:
//!
//! ```json
//! {"s3Bucket":"amzn-s3-demo-bucket","s3ObjectKey":["AWSLogs/123456789012/CloudTrail/us-east-2/2013/12/13/123456789012_CloudTrail_us-west-2_20131213T1920Z_LnPgDQnpkSKEsppV.json.gz"]}
//! ```
//!
//! Log files delivered together may share one notice (`s3ObjectKey` lists them all). Here, keys
//! of one bucket bound for one topic share notices, as many keys per notice as SNS's size limit
//! allows, in the order they came.

use std::ops::Range;

/// One notice: its message and which of the keys it announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Notice {
    pub message: String,
    /// Positions in the keys given to [`notices`].
    pub keys: Range<usize>,
}

/// `{"s3Bucket":` + bucket + `,"s3ObjectKey":[` … `]}`, less the bucket and the keys.
const FRAME_BYTES: usize = r#"{"s3Bucket":,"s3ObjectKey":[]}"#.len();

/// The notices announcing `keys` of `bucket`: every key once, in order, in as few messages as
/// fit, each message at most `max_bytes` long. A key too long to fit in any message (impossible
/// for S3 keys at SNS's limit) gets a message of its own, which the notifier then refuses.
pub(super) fn notices(bucket: &str, keys: &[&str], max_bytes: usize) -> Vec<Notice> {
    let bucket = json_string(bucket);
    let frame = FRAME_BYTES + bucket.len();
    let mut notices = Vec::new();
    let mut start = 0;
    let mut listed: Vec<String> = Vec::new();
    let mut bytes = frame;
    for (position, key) in keys.iter().enumerate() {
        let key = json_string(key);
        let comma = usize::from(!listed.is_empty());
        if !listed.is_empty() && bytes + comma + key.len() > max_bytes {
            notices.push(notice(&bucket, &listed, start..position));
            listed.clear();
            start = position;
            bytes = frame;
        }
        bytes += usize::from(!listed.is_empty()) + key.len();
        listed.push(key);
    }
    if !listed.is_empty() {
        notices.push(notice(&bucket, &listed, start..keys.len()));
    }
    notices
}

fn notice(bucket: &str, keys: &[String], positions: Range<usize>) -> Notice {
    Notice {
        message: format!(
            r#"{{"s3Bucket":{bucket},"s3ObjectKey":[{}]}}"#,
            keys.join(",")
        ),
        keys: positions,
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::notifier::MAX_MESSAGE_BYTES;
    use serde_json::{Value, json};

    /// The two examples of CloudTrail's user guide ("Configuring Amazon SNS notifications for
    /// CloudTrail"), as printed there.
    const ONE_KEY: &str = r#"{
    "s3Bucket": "amzn-s3-demo-bucket","s3ObjectKey": ["AWSLogs/123456789012/CloudTrail/us-east-2/2013/12/13/123456789012_CloudTrail_us-west-2_20131213T1920Z_LnPgDQnpkSKEsppV.json.gz"]
}"#;
    const TWO_KEYS: &str = r#"{
    "s3Bucket": "amzn-s3-demo-bucket",
    "s3ObjectKey": [
        "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz",
        "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2210Z_zqDkyQv3TK8ZdLr0.json.gz"
    ]
}"#;

    fn keys_of(example: &str) -> Vec<String> {
        let value: Value = serde_json::from_str(example).expect("example");
        value["s3ObjectKey"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|key| key.as_str().expect("key").to_owned())
            .collect()
    }

    #[test]
    fn notices_are_cloudtrails_documented_message_compacted_as_it_arrives() {
        for example in [ONE_KEY, TWO_KEYS] {
            let keys = keys_of(example);
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let sent = notices("amzn-s3-demo-bucket", &keys, MAX_MESSAGE_BYTES);
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].keys, 0..keys.len());
            // SNS delivers CloudTrail's notice as compact JSON; the guide pretty-prints it.
            let compact: String = example
                .split('"')
                .enumerate()
                .map(|(i, part)| {
                    if i % 2 == 0 {
                        part.split_whitespace().collect()
                    } else {
                        part.to_owned()
                    }
                })
                .collect::<Vec<String>>()
                .join("\"");
            assert_eq!(sent[0].message, compact);
        }
        assert_eq!(
            notices(
                "amzn-s3-demo-bucket",
                &keys_of(ONE_KEY)
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                MAX_MESSAGE_BYTES
            )[0]
            .message,
            r#"{"s3Bucket":"amzn-s3-demo-bucket","s3ObjectKey":["AWSLogs/123456789012/CloudTrail/us-east-2/2013/12/13/123456789012_CloudTrail_us-west-2_20131213T1920Z_LnPgDQnpkSKEsppV.json.gz"]}"#
        );
    }

    #[test]
    fn keys_are_json_escaped() {
        let sent = notices("b", &["a \"quoted\" key/é\\x"], MAX_MESSAGE_BYTES);
        assert_eq!(
            sent[0].message,
            r#"{"s3Bucket":"b","s3ObjectKey":["a \"quoted\" key/é\\x"]}"#
        );
        let parsed: Value = serde_json::from_str(&sent[0].message).expect("json");
        assert_eq!(
            parsed,
            json!({"s3Bucket": "b", "s3ObjectKey": ["a \"quoted\" key/é\\x"]})
        );
    }

    /// `count` distinct keys of `key_len` characters each.
    fn keys(count: usize, key_len: usize) -> Vec<String> {
        (0..count)
            .map(|i| format!("{i:0>width$}", width = key_len))
            .collect()
    }

    #[test]
    fn a_notice_may_be_exactly_the_limit_and_one_byte_more_splits_it() {
        // 255 keys of 1,000 characters: 255 × 1,002 quoted + 254 commas = 255,764 bytes, plus
        // the frame with the bucket ("b", 3 quoted): 255,764 + 30 + 3 = 255,797. The last key
        // is lengthened to make the message exactly 262,144 bytes.
        let mut listed = keys(255, 1000);
        let short = MAX_MESSAGE_BYTES - 255_797;
        listed[254].push_str(&"x".repeat(short));
        let refs: Vec<&str> = listed.iter().map(String::as_str).collect();
        let sent = notices("b", &refs, MAX_MESSAGE_BYTES);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].message.len(), MAX_MESSAGE_BYTES);
        assert_eq!(sent[0].keys, 0..255);

        listed[254].push('x');
        let refs: Vec<&str> = listed.iter().map(String::as_str).collect();
        let sent = notices("b", &refs, MAX_MESSAGE_BYTES);
        assert_eq!(
            sent.iter().map(|n| n.keys.clone()).collect::<Vec<_>>(),
            [0..254, 254..255]
        );
        assert!(sent.iter().all(|n| n.message.len() <= MAX_MESSAGE_BYTES));
        let first: Value = serde_json::from_str(&sent[0].message).expect("json");
        assert_eq!(first["s3ObjectKey"].as_array().unwrap().len(), 254);
        let second: Value = serde_json::from_str(&sent[1].message).expect("json");
        assert_eq!(second["s3ObjectKey"], json!([listed[254]]));
    }

    #[test]
    fn many_keys_fill_messages_in_order() {
        let listed = keys(1000, 900);
        let refs: Vec<&str> = listed.iter().map(String::as_str).collect();
        let sent = notices("cairn-trail-123456789012", &refs, MAX_MESSAGE_BYTES);
        assert_eq!(
            sent.len(),
            4,
            "903 bytes a key with its comma: 290 keys a message"
        );
        let mut announced = Vec::new();
        for notice in &sent {
            assert!(notice.message.len() <= MAX_MESSAGE_BYTES);
            let parsed: Value = serde_json::from_str(&notice.message).expect("json");
            assert_eq!(parsed["s3Bucket"], "cairn-trail-123456789012");
            let these: Vec<String> = parsed["s3ObjectKey"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(these, listed[notice.keys.clone()]);
            announced.extend(these);
        }
        assert_eq!(announced, listed);
        assert!(notices("b", &[], MAX_MESSAGE_BYTES).is_empty());
    }
}
