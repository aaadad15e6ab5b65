//! Local notifier: one JSON line per message in `{root}/{topic name}.jsonl`.
//!
//! Each line has the fields of the SNS envelope an SQS subscriber receives (without the
//! signature fields): `Type`, `MessageId`, `TopicArn`, `Subject` (when set), `Message`,
//! `Timestamp`, `MessageAttributes` (when any, as `{"Type":"String","Value":…}`, or with type
//! `String.Array` and the array as JSON text), so a consumer written against SNS→SQS bodies
//! reads these lines unchanged.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use super::jsonl;
use crate::ports::notifier::{Notification, Notifier, NotifierError, check_publish, topic_name};

/// Appends published messages to one JSON-lines file per topic under a root folder.
#[derive(Debug, Clone)]
pub struct LocalNotifier {
    root: PathBuf,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    message_id: &'a str,
    topic_arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    message: &'a str,
    timestamp: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    message_attributes: BTreeMap<&'a str, Attribute<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute<'a> {
    #[serde(rename = "Type")]
    data_type: &'static str,
    value: Cow<'a, str>,
}

impl LocalNotifier {
    /// A notifier writing under `root` (created on the first publish).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The file holding the messages of `topic_arn`.
    pub fn topic_path(&self, topic_arn: &str) -> Result<PathBuf, NotifierError> {
        topic_name(topic_arn).map(|name| self.path_for(name))
    }

    fn path_for(&self, topic_name: &str) -> PathBuf {
        self.root.join(format!("{topic_name}.jsonl"))
    }
}

#[async_trait]
impl Notifier for LocalNotifier {
    /// Appends one line with a fresh message id (see `jsonl::append`); the line is in the file
    /// when this returns.
    async fn publish(
        &self,
        topic_arn: &str,
        notification: &Notification,
    ) -> Result<String, NotifierError> {
        let name = check_publish(topic_arn, notification)?;
        let path = self.path_for(name);
        let message_id = new_message_id();
        let timestamp = OffsetDateTime::now_utc()
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .map_err(|e| failed(topic_arn, e.to_string()))?;
        let envelope = Envelope {
            kind: "Notification",
            message_id: &message_id,
            topic_arn,
            subject: notification.subject.as_deref(),
            message: &notification.message,
            timestamp: &timestamp,
            message_attributes: notification
                .attributes
                .iter()
                .map(|(name, value)| {
                    let attribute = Attribute {
                        data_type: value.data_type(),
                        value: value.wire_value(),
                    };
                    (name.as_str(), attribute)
                })
                .collect(),
        };
        let line = jsonl::lines([&envelope]).map_err(|e| failed(topic_arn, e.to_string()))?;
        jsonl::append(path, line)
            .await
            .map_err(|e| failed(topic_arn, e.to_string()))?;
        Ok(message_id)
    }
}

/// A random (version 4) UUID, the shape of SNS message ids.
fn new_message_id() -> String {
    crate::ids::uuid_text(rand::random(), 4)
}

fn failed(topic_arn: &str, detail: String) -> NotifierError {
    NotifierError::Failed {
        topic_arn: topic_arn.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::notifier::{AttributeValue, NotificationViolation};
    use serde_json::{Value, json};
    use std::fs;
    use std::path::Path;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:cairn-alerts";

    fn read_lines(path: &Path) -> Vec<Value> {
        fs::read_to_string(path)
            .expect("topic file")
            .lines()
            .map(|line| serde_json::from_str(line).expect("json line"))
            .collect()
    }

    #[tokio::test]
    async fn appends_one_envelope_line_per_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let notifier = LocalNotifier::new(dir.path());
        let alert = Notification {
            subject: Some("[Cairn] root login".into()),
            message: "{\"alarm\":\"root\"}\nsecond line".into(),
            attributes: BTreeMap::from([
                ("trail".into(), "main".into()),
                ("kind".into(), "match".into()),
                (
                    "region".into(),
                    AttributeValue::StringArray(vec!["eu-west-1".into(), "us-east-1".into()]),
                ),
            ]),
        };
        let notice = Notification {
            message: r#"{"s3Bucket":"b","s3ObjectKey":["k"]}"#.into(),
            ..Notification::default()
        };
        let first_id = notifier.publish(TOPIC, &alert).await.expect("publish");
        let second_id = notifier.publish(TOPIC, &notice).await.expect("publish");
        assert_ne!(first_id, second_id);

        let path = dir.path().join("cairn-alerts.jsonl");
        assert_eq!(notifier.topic_path(TOPIC).expect("path"), path);
        let lines = read_lines(&path);
        assert_eq!(lines.len(), 2);

        let timestamp = lines[0]["Timestamp"]
            .as_str()
            .expect("timestamp")
            .to_owned();
        assert!(
            OffsetDateTime::parse(&timestamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{timestamp}"
        );
        assert!(
            timestamp.ends_with('Z') && timestamp.len() == 24,
            "{timestamp}"
        );
        assert_eq!(
            lines[0],
            json!({
                "Type": "Notification",
                "MessageId": first_id,
                "TopicArn": TOPIC,
                "Subject": "[Cairn] root login",
                "Message": "{\"alarm\":\"root\"}\nsecond line",
                "Timestamp": timestamp,
                "MessageAttributes": {
                    "kind": {"Type": "String", "Value": "match"},
                    "region": {"Type": "String.Array", "Value": "[\"eu-west-1\",\"us-east-1\"]"},
                    "trail": {"Type": "String", "Value": "main"},
                },
            })
        );
        assert_eq!(
            lines[1],
            json!({
                "Type": "Notification",
                "MessageId": second_id,
                "TopicArn": TOPIC,
                "Message": r#"{"s3Bucket":"b","s3ObjectKey":["k"]}"#,
                "Timestamp": lines[1]["Timestamp"],
            })
        );
    }

    #[test]
    fn message_ids_are_version_4_uuids() {
        let id = new_message_id();
        let groups: Vec<&str> = id.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'));
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    }

    #[tokio::test]
    async fn refuses_invalid_messages_and_topics_without_writing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let notifier = LocalNotifier::new(dir.path().join("sns"));
        let bad_subject = Notification {
            subject: Some("line\nbreak".into()),
            message: "m".into(),
            ..Notification::default()
        };
        let err = notifier
            .publish(TOPIC, &bad_subject)
            .await
            .expect_err("newline in subject");
        assert!(matches!(
            err,
            NotifierError::Invalid {
                violation: NotificationViolation::SubjectNotPrintableAscii { index: 4 },
                ..
            }
        ));
        assert!(!err.is_retryable());

        let too_large = Notification {
            message: "m".repeat(262_145),
            ..Notification::default()
        };
        let err = notifier
            .publish(TOPIC, &too_large)
            .await
            .expect_err("too large");
        assert!(matches!(
            err,
            NotifierError::Invalid {
                violation: NotificationViolation::MessageTooLarge { bytes: 262_145 },
                ..
            }
        ));

        let err = notifier
            .publish(
                "arn:aws:sns:us-east-1:1:../../x",
                &Notification {
                    message: "m".into(),
                    ..Notification::default()
                },
            )
            .await
            .expect_err("bad topic");
        assert!(matches!(err, NotifierError::InvalidTopicArn { .. }));
        assert!(!dir.path().join("sns").exists(), "nothing written");
    }
}
