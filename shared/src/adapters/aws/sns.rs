//! Notifier over SNS `Publish`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use aws_sdk_sns::error::{DisplayErrorContext, SdkError};
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::ports::notifier::{Notification, Notifier, NotifierError, check_publish};

/// Publishes notifications to SNS topics.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
}

impl SnsNotifier {
    /// A notifier using the shared SDK configuration (see [`super::load_sdk_config`]).
    pub fn new(config: &SdkConfig) -> Self {
        Self::from_client(Client::from_conf(logging_retries!(
            aws_sdk_sns::config::Builder::from(config)
        )))
    }

    /// A notifier over an already configured client.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn publish(
        &self,
        topic_arn: &str,
        notification: &Notification,
    ) -> Result<String, NotifierError> {
        check_publish(topic_arn, notification)?;
        let failed = |detail: String| NotifierError::Failed {
            topic_arn: topic_arn.to_owned(),
            detail,
        };
        let attributes = notification
            .attributes
            .iter()
            .map(|(name, value)| {
                MessageAttributeValue::builder()
                    .data_type(value.data_type())
                    .string_value(value.wire_value())
                    .build()
                    .map(|value| (name.clone(), value))
            })
            .collect::<Result<HashMap<_, _>, _>>()
            .map_err(|e| failed(e.to_string()))?;

        let output = self
            .client
            .publish()
            .topic_arn(topic_arn)
            .message(&notification.message)
            .set_subject(notification.subject.clone())
            .set_message_attributes((!attributes.is_empty()).then_some(attributes))
            .send()
            .await
            .map_err(|err| publish_failure(err, topic_arn))?;
        output
            .message_id()
            .map(str::to_owned)
            .ok_or_else(|| failed("Publish answered without a message id".to_owned()))
    }
}

fn publish_failure(err: SdkError<PublishError>, topic_arn: &str) -> NotifierError {
    let modeled_retryable = matches!(
        err.as_service_error(),
        Some(PublishError::InternalErrorException(_) | PublishError::KmsThrottlingException(_))
    );
    let topic_arn = topic_arn.to_owned();
    let detail = DisplayErrorContext(&err).to_string();
    if modeled_retryable || super::is_transient(&err) {
        NotifierError::Retryable { topic_arn, detail }
    } else {
        NotifierError::Failed { topic_arn, detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::notifier::{AttributeValue, NotificationViolation};
    use aws_sdk_sns::error::ErrorMetadata;
    use aws_sdk_sns::operation::publish::PublishOutput;
    use aws_sdk_sns::types::error::{
        AuthorizationErrorException, InternalErrorException, NotFoundException,
    };
    use aws_smithy_mocks::{Rule, RuleMode, mock};
    use std::collections::BTreeMap;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:cairn-alerts";

    /// A notifier whose client answers from `rules`, in order; any other call panics.
    fn notifier(rules: &[&Rule]) -> SnsNotifier {
        SnsNotifier::from_client(mock_client!(aws_sdk_sns, RuleMode::Sequential, rules))
    }

    fn alert() -> Notification {
        Notification {
            subject: Some("[Cairn] root login".into()),
            message: "{\"alarm\":\"root\"}".into(),
            attributes: BTreeMap::from([("trail".into(), "main".into())]),
        }
    }

    fn publish_error(error: fn() -> PublishError) -> Rule {
        mock!(Client::publish).then_error(error)
    }

    #[tokio::test]
    async fn publishes_subject_message_and_string_attributes() {
        let publish = mock!(Client::publish)
            .match_requests(|req| {
                let attribute = req.message_attributes().and_then(|a| a.get("trail"));
                req.topic_arn() == Some(TOPIC)
                    && req.subject() == Some("[Cairn] root login")
                    && req.message() == Some("{\"alarm\":\"root\"}")
                    && req.message_attributes().map(HashMap::len) == Some(1)
                    && attribute.map(|a| a.data_type()) == Some("String")
                    && attribute.and_then(|a| a.string_value()) == Some("main")
            })
            .then_output(|| PublishOutput::builder().message_id("m-1").build());
        let no_extras = mock!(Client::publish)
            .match_requests(|req| req.subject().is_none() && req.message_attributes().is_none())
            .then_output(|| PublishOutput::builder().message_id("m-2").build());
        let notifier = notifier(&[&publish, &no_extras]);
        assert_eq!(
            notifier.publish(TOPIC, &alert()).await.expect("publish"),
            "m-1"
        );
        let notice = Notification {
            message: "notice".into(),
            ..Notification::default()
        };
        assert_eq!(
            notifier.publish(TOPIC, &notice).await.expect("publish"),
            "m-2"
        );
    }

    #[tokio::test]
    async fn string_arrays_are_sent_as_json_text_with_their_data_type() {
        let publish = mock!(Client::publish)
            .match_requests(|req| {
                let attribute = req.message_attributes().and_then(|a| a.get("region"));
                attribute.map(|a| a.data_type()) == Some("String.Array")
                    && attribute.and_then(|a| a.string_value())
                        == Some(r#"["eu-west-1","us-east-1"]"#)
            })
            .then_output(|| PublishOutput::builder().message_id("m-3").build());
        let notifier = notifier(&[&publish]);
        let mut alert = alert();
        alert.attributes.insert(
            "region".into(),
            AttributeValue::StringArray(vec!["eu-west-1".into(), "us-east-1".into()]),
        );
        assert_eq!(
            notifier.publish(TOPIC, &alert).await.expect("publish"),
            "m-3"
        );
    }

    #[tokio::test]
    async fn throttling_and_internal_errors_are_retryable() {
        let throttled = publish_error(|| {
            PublishError::generic(
                ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        });
        let internal = publish_error(|| {
            PublishError::InternalErrorException(InternalErrorException::builder().build())
        });
        let notifier = notifier(&[&throttled, &internal]);
        let err = notifier
            .publish(TOPIC, &alert())
            .await
            .expect_err("throttled");
        assert!(err.is_retryable(), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(TOPIC) && text.contains("Rate exceeded"),
            "{text}"
        );
        let err = notifier
            .publish(TOPIC, &alert())
            .await
            .expect_err("internal error");
        assert!(matches!(err, NotifierError::Retryable { .. }), "{err}");
    }

    #[tokio::test]
    async fn missing_topics_and_denied_access_are_permanent() {
        let not_found = publish_error(|| {
            PublishError::NotFoundException(
                NotFoundException::builder()
                    .message("Topic does not exist")
                    .build(),
            )
        });
        let denied = publish_error(|| {
            PublishError::AuthorizationErrorException(
                AuthorizationErrorException::builder().build(),
            )
        });
        let notifier = notifier(&[&not_found, &denied]);
        let err = notifier
            .publish(TOPIC, &alert())
            .await
            .expect_err("not found");
        assert!(matches!(err, NotifierError::Failed { .. }), "{err}");
        assert!(err.to_string().contains("Topic does not exist"), "{err}");
        let err = notifier.publish(TOPIC, &alert()).await.expect_err("denied");
        assert!(!err.is_retryable(), "{err}");
    }

    #[tokio::test]
    async fn messages_over_the_limits_are_never_sent() {
        // No rules: any call would panic in the mock.
        let notifier = notifier(&[]);
        let long_subject = Notification {
            subject: Some("s".repeat(101)),
            ..alert()
        };
        let err = notifier
            .publish(TOPIC, &long_subject)
            .await
            .expect_err("subject too long");
        assert!(matches!(
            err,
            NotifierError::Invalid {
                violation: NotificationViolation::SubjectTooLong { chars: 101 },
                ..
            }
        ));
        let err = notifier
            .publish("not-an-arn", &alert())
            .await
            .expect_err("bad arn");
        assert!(matches!(err, NotifierError::InvalidTopicArn { .. }));
    }
}
