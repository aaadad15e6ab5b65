//! Notifier port: publishes messages to SNS topics.
//!
//! The notify function sends CloudTrail's delivery notices and metric-filter match alerts through
//! it. Adapters check SNS's limits first and refuse a message that breaks one
//! ([`NotifierError::Invalid`]) rather than sending it: such a message would fail the same way on
//! every retry.

use std::borrow::Cow;
use std::collections::BTreeMap;

use async_trait::async_trait;
use thiserror::Error;

/// Longest subject, in characters (all ASCII).
pub const MAX_SUBJECT_CHARS: usize = 100;

/// Largest message, in UTF-8 bytes. SNS counts the message attributes in this limit too: each
/// attribute's name, data type (`String`) and value.
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// Longest message attribute name, in characters.
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 256;

/// A message attribute's value, with its SNS data type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// Data type `String`.
    String(String),
    /// Data type `String.Array`: sent as a JSON array of strings. A subscription filter policy
    /// on the attribute matches the message when it matches any of the strings, so one message
    /// can stand for several values without hiding it from any of their subscribers.
    StringArray(Vec<String>),
}

impl AttributeValue {
    /// The data type SNS carries the value with.
    pub fn data_type(&self) -> &'static str {
        match self {
            Self::String(_) => "String",
            Self::StringArray(_) => "String.Array",
        }
    }

    /// The value as SNS carries it: the string itself, or the array as compact JSON text.
    pub fn wire_value(&self) -> Cow<'_, str> {
        match self {
            Self::String(value) => Cow::Borrowed(value),
            Self::StringArray(values) => Cow::Owned(
                serde_json::to_string(values).expect("a list of strings always serializes"),
            ),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Self::String(value) => value.is_empty(),
            Self::StringArray(values) => values.is_empty(),
        }
    }
}

impl From<&str> for AttributeValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<String> for AttributeValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

/// One message for a topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notification {
    /// Printable ASCII, at most [`MAX_SUBJECT_CHARS`], starting with a letter, digit or
    /// punctuation; email subscribers see it as the subject line.
    pub subject: Option<String>,
    /// The body, non-empty UTF-8.
    pub message: String,
    /// Message attributes; subscription filter policies match them.
    pub attributes: BTreeMap<String, AttributeValue>,
}

/// Publishes notifications to topics.
///
/// Not idempotent: repeating a publish after an ambiguous failure (a timeout) can deliver the
/// message twice, so subscribers must tolerate duplicates (delivery is at least once, as with
/// SNS itself).
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Publishes `notification` to the topic `topic_arn`; returns the message id.
    async fn publish(
        &self,
        topic_arn: &str,
        notification: &Notification,
    ) -> Result<String, NotifierError>;
}

/// Which SNS limit a message breaks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotificationViolation {
    #[error("the subject is empty")]
    EmptySubject,
    #[error("the subject has {chars} characters, more than {max}", max = MAX_SUBJECT_CHARS)]
    SubjectTooLong { chars: usize },
    #[error(
        "the subject has a character that is not printable ASCII (control characters and line breaks included) at {index}"
    )]
    SubjectNotPrintableAscii { index: usize },
    #[error("the subject starts with a space; it must start with a letter, digit or punctuation")]
    SubjectStartsWithSpace,
    #[error("the message is empty")]
    EmptyMessage,
    #[error(
        "the message and its attributes take {bytes} bytes, more than {max}",
        max = MAX_MESSAGE_BYTES
    )]
    MessageTooLarge { bytes: usize },
    #[error("message attribute name {name:?} is invalid: {reason}")]
    InvalidAttributeName { name: String, reason: &'static str },
    #[error("message attribute {name:?} has an empty value")]
    EmptyAttributeValue { name: String },
}

/// Why a publish failed. Every variant names the topic.
#[derive(Debug, Error)]
pub enum NotifierError {
    /// The topic ARN is not an SNS topic ARN; nothing was sent.
    #[error("{topic_arn:?} is not an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:NAME)")]
    InvalidTopicArn { topic_arn: String },
    /// The message breaks an SNS limit; nothing was sent.
    #[error("message for topic {topic_arn} refused before sending: {violation}")]
    Invalid {
        topic_arn: String,
        violation: NotificationViolation,
    },
    /// Throttling or a transient service or network failure: repeat the publish later.
    #[error(
        "publishing to topic {topic_arn} was throttled or hit a transient failure; retry later: {detail}"
    )]
    Retryable { topic_arn: String, detail: String },
    /// A failure that repeating the same publish will not fix (missing topic, access denied).
    #[error("publishing to topic {topic_arn} failed: {detail}")]
    Failed { topic_arn: String, detail: String },
}

impl NotifierError {
    /// Whether repeating the same publish later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }
}

/// The bytes SNS counts against [`MAX_MESSAGE_BYTES`]: the message's UTF-8 bytes and, for each
/// attribute, its name, data type and value as sent.
pub fn message_bytes(notification: &Notification) -> usize {
    notification.message.len()
        + notification
            .attributes
            .iter()
            .map(|(name, value)| name.len() + value.data_type().len() + value.wire_value().len())
            .sum::<usize>()
}

/// Checks a notification against SNS's Publish limits.
pub fn check_notification(notification: &Notification) -> Result<(), NotificationViolation> {
    if let Some(subject) = &notification.subject {
        check_subject(subject)?;
    }
    if notification.message.is_empty() {
        return Err(NotificationViolation::EmptyMessage);
    }
    for (name, value) in &notification.attributes {
        check_attribute_name(name).map_err(|reason| {
            NotificationViolation::InvalidAttributeName {
                name: name.clone(),
                reason,
            }
        })?;
        if value.is_empty() {
            return Err(NotificationViolation::EmptyAttributeValue { name: name.clone() });
        }
    }
    let bytes = message_bytes(notification);
    if bytes > MAX_MESSAGE_BYTES {
        return Err(NotificationViolation::MessageTooLarge { bytes });
    }
    Ok(())
}

fn check_subject(subject: &str) -> Result<(), NotificationViolation> {
    if subject.is_empty() {
        return Err(NotificationViolation::EmptySubject);
    }
    if let Some(index) = subject.chars().position(|c| !(' '..='~').contains(&c)) {
        return Err(NotificationViolation::SubjectNotPrintableAscii { index });
    }
    // All ASCII from here on: bytes are characters.
    if subject.len() > MAX_SUBJECT_CHARS {
        return Err(NotificationViolation::SubjectTooLong {
            chars: subject.len(),
        });
    }
    if subject.starts_with(' ') {
        return Err(NotificationViolation::SubjectStartsWithSpace);
    }
    Ok(())
}

/// SNS's attribute-name rules: 1–256 of `A–Z a–z 0–9 _ - .`, no leading, trailing or doubled
/// `.`, and no `AWS.` or `Amazon.` prefix (reserved, in any case).
fn check_attribute_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > MAX_ATTRIBUTE_NAME_CHARS {
        return Err("a name has 1 to 256 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err("a name has only letters, digits and _ - .");
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err("a name neither starts nor ends with '.' nor has '..'");
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aws.") || lower.starts_with("amazon.") {
        return Err("names starting with AWS. or Amazon. are reserved");
    }
    Ok(())
}

/// The topic name (the ARN's last segment) of a well-formed SNS topic ARN.
pub fn topic_name(topic_arn: &str) -> Result<&str, NotifierError> {
    let invalid = || NotifierError::InvalidTopicArn {
        topic_arn: topic_arn.to_owned(),
    };
    let parts: Vec<&str> = topic_arn.split(':').collect();
    let [arn, partition, service, region, account, name] = parts.as_slice() else {
        return Err(invalid());
    };
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    let valid = *arn == "arn"
        && !partition.is_empty()
        && *service == "sns"
        && !region.is_empty()
        && !account.is_empty()
        && !base.is_empty()
        && name.len() <= 256
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid { Ok(name) } else { Err(invalid()) }
}

/// Both checks, as the adapters run them before sending.
pub fn check_publish<'a>(
    topic_arn: &'a str,
    notification: &Notification,
) -> Result<&'a str, NotifierError> {
    let name = topic_name(topic_arn)?;
    check_notification(notification).map_err(|violation| NotifierError::Invalid {
        topic_arn: topic_arn.to_owned(),
        violation,
    })?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Notification {
        Notification {
            message: text.to_owned(),
            ..Notification::default()
        }
    }

    fn with_subject(subject: &str) -> Notification {
        Notification {
            subject: Some(subject.to_owned()),
            ..message("body")
        }
    }

    #[test]
    fn subjects_are_printable_ascii_of_at_most_100_characters() {
        assert_eq!(check_notification(&with_subject(&"S".repeat(100))), Ok(()));
        assert_eq!(
            check_notification(&with_subject("[Cairn] ALARM: root-login!")),
            Ok(())
        );
        assert_eq!(
            check_notification(&with_subject(&"S".repeat(101))),
            Err(NotificationViolation::SubjectTooLong { chars: 101 })
        );
        assert_eq!(
            check_notification(&with_subject("two\nlines")),
            Err(NotificationViolation::SubjectNotPrintableAscii { index: 3 })
        );
        assert_eq!(
            check_notification(&with_subject("tab\there")),
            Err(NotificationViolation::SubjectNotPrintableAscii { index: 3 })
        );
        assert_eq!(
            check_notification(&with_subject("café")),
            Err(NotificationViolation::SubjectNotPrintableAscii { index: 3 })
        );
        assert_eq!(
            check_notification(&with_subject(" padded")),
            Err(NotificationViolation::SubjectStartsWithSpace)
        );
        assert_eq!(
            check_notification(&with_subject("")),
            Err(NotificationViolation::EmptySubject)
        );
    }

    #[test]
    fn the_size_limit_counts_utf8_bytes_and_attributes() {
        assert_eq!(
            check_notification(&message(&"m".repeat(MAX_MESSAGE_BYTES))),
            Ok(())
        );
        // 87,382 three-byte characters: fewer characters than the limit, more bytes.
        let wide = "€".repeat(MAX_MESSAGE_BYTES / 3 + 1);
        assert_eq!(
            check_notification(&message(&wide)),
            Err(NotificationViolation::MessageTooLarge { bytes: 262_146 })
        );
        let mut with_attribute = message(&"m".repeat(MAX_MESSAGE_BYTES - 10));
        with_attribute.attributes.insert("k".into(), "vvv".into());
        assert_eq!(check_notification(&with_attribute), Ok(()));
        with_attribute.attributes.insert("kk".into(), "v".into());
        assert_eq!(
            check_notification(&with_attribute),
            Err(NotificationViolation::MessageTooLarge {
                bytes: MAX_MESSAGE_BYTES + 9
            })
        );
        assert_eq!(
            check_notification(&message("")),
            Err(NotificationViolation::EmptyMessage)
        );
    }

    #[test]
    fn attribute_names_and_values_follow_sns_rules() {
        let with = |name: &str, value: &str| Notification {
            attributes: BTreeMap::from([(name.to_owned(), value.into())]),
            ..message("body")
        };
        assert_eq!(check_notification(&with("event.type-1_x", "v")), Ok(()));
        for name in [
            "",
            "has space",
            ".lead",
            "trail.",
            "a..b",
            "AWS.x",
            "amazon.y",
        ] {
            assert!(
                matches!(
                    check_notification(&with(name, "v")),
                    Err(NotificationViolation::InvalidAttributeName { .. })
                ),
                "{name:?}"
            );
        }
        assert_eq!(
            check_notification(&with("k", "")),
            Err(NotificationViolation::EmptyAttributeValue { name: "k".into() })
        );
        let empty_array = Notification {
            attributes: BTreeMap::from([("k".into(), AttributeValue::StringArray(Vec::new()))]),
            ..message("body")
        };
        assert_eq!(
            check_notification(&empty_array),
            Err(NotificationViolation::EmptyAttributeValue { name: "k".into() })
        );
    }

    #[test]
    fn string_arrays_go_as_json_text_and_count_as_sent() {
        let array = AttributeValue::StringArray(vec!["ConsoleLogin".into(), "a\"b".into()]);
        assert_eq!(array.data_type(), "String.Array");
        assert_eq!(array.wire_value(), r#"["ConsoleLogin","a\"b"]"#);
        let string = AttributeValue::from("ConsoleLogin");
        assert_eq!(
            (string.data_type(), &*string.wire_value()),
            ("String", "ConsoleLogin")
        );
        let notification = Notification {
            attributes: BTreeMap::from([("eventName".into(), array), ("e".into(), string)]),
            ..message("body")
        };
        // The body (4); eventName (9), String.Array (12), the JSON text (23); e (1), String (6),
        // ConsoleLogin (12).
        assert_eq!(message_bytes(&notification), 4 + 9 + 12 + 23 + 1 + 6 + 12);
    }

    #[test]
    fn topic_names_come_from_well_formed_arns() {
        assert_eq!(
            topic_name("arn:aws:sns:us-east-1:123456789012:cairn-alerts").ok(),
            Some("cairn-alerts")
        );
        assert_eq!(
            topic_name("arn:aws-cn:sns:cn-north-1:123456789012:t.fifo").ok(),
            Some("t.fifo")
        );
        for arn in [
            "cairn-alerts",
            "arn:aws:sqs:us-east-1:123456789012:q",
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:123456789012:../x",
            "arn:aws:sns:us-east-1:123456789012:a:b",
        ] {
            assert!(
                matches!(topic_name(arn), Err(NotifierError::InvalidTopicArn { .. })),
                "{arn}"
            );
        }
    }
}
