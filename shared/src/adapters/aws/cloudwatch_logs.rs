//! Log sink over CloudWatch Logs (`PutLogEvents`, `CreateLogStream`, `CreateLogGroup`).
//!
//! The steady state costs one call: the put is tried first, and only a `ResourceNotFound` answer
//! leads to creating the stream (and the group, when that is missing too) and putting again.
//! Creation treats `ResourceAlreadyExists` as success, so racing forwarders and retries are safe,
//! and a group provisioned by the template needs no `logs:CreateLogGroup` permission.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
use aws_sdk_cloudwatchlogs::operation::create_log_stream::CreateLogStreamError;
use aws_sdk_cloudwatchlogs::operation::put_log_events::PutLogEventsError;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, RejectedLogEventsInfo};

use crate::ports::log_sink::{LogEvent, LogSink, LogSinkError, RejectedEvents, check_put};

/// Puts log events to CloudWatch Logs.
#[derive(Debug, Clone)]
pub struct CloudWatchLogsSink {
    client: Client,
}

impl CloudWatchLogsSink {
    /// A sink using the shared SDK configuration (see [`super::load_sdk_config`]).
    pub fn new(config: &SdkConfig) -> Self {
        Self::from_client(Client::from_conf(logging_retries!(
            aws_sdk_cloudwatchlogs::config::Builder::from(config)
        )))
    }

    /// A sink over an already configured client.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    /// One PutLogEvents, without a sequence token unless the service asks for one.
    ///
    /// CloudWatch Logs has ignored sequence tokens since January 2023. An older implementation
    /// may still answer `InvalidSequenceToken` with the token it expects: the put is repeated
    /// once with it. `DataAlreadyAccepted` means this very batch is stored already: success.
    async fn put(
        &self,
        group: &str,
        stream: &str,
        events: &[InputLogEvent],
    ) -> Result<RejectedEvents, SdkError<PutLogEventsError>> {
        let mut sequence_token: Option<String> = None;
        loop {
            let err = match self
                .client
                .put_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .set_log_events(Some(events.to_vec()))
                .set_sequence_token(sequence_token.clone())
                .send()
                .await
            {
                Ok(output) => return Ok(rejected_events(output.rejected_log_events_info())),
                Err(err) => err,
            };
            match err.as_service_error() {
                Some(PutLogEventsError::DataAlreadyAcceptedException(_)) => {
                    return Ok(RejectedEvents::none());
                }
                Some(PutLogEventsError::InvalidSequenceTokenException(e))
                    if sequence_token.is_none() && e.expected_sequence_token().is_some() =>
                {
                    sequence_token = e.expected_sequence_token().map(str::to_owned);
                }
                _ => return Err(err),
            }
        }
    }

    /// Creates the stream, and the group first when the stream's creation says it is missing.
    async fn create_stream(&self, group: &str, stream: &str) -> Result<(), LogSinkError> {
        create_when_missing(
            || self.try_create_stream(group, stream),
            |err| matches!(err, CreateLogStreamError::ResourceNotFoundException(_)),
            self.create_group(group, stream),
            |err| create_stream_failure(err, group, stream),
        )
        .await
    }

    async fn try_create_stream(
        &self,
        group: &str,
        stream: &str,
    ) -> Result<(), SdkError<CreateLogStreamError>> {
        match self
            .client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
        {
            Err(err)
                if !matches!(
                    err.as_service_error(),
                    Some(CreateLogStreamError::ResourceAlreadyExistsException(_))
                ) =>
            {
                Err(err)
            }
            _ => Ok(()),
        }
    }

    async fn create_group(&self, group: &str, stream: &str) -> Result<(), LogSinkError> {
        let Err(err) = self
            .client
            .create_log_group()
            .log_group_name(group)
            .send()
            .await
        else {
            return Ok(());
        };
        let retryable = match err.as_service_error() {
            Some(CreateLogGroupError::ResourceAlreadyExistsException(_)) => return Ok(()),
            Some(
                CreateLogGroupError::ServiceUnavailableException(_)
                | CreateLogGroupError::OperationAbortedException(_),
            ) => true,
            _ => false,
        };
        Err(failure(err, group, stream, "CreateLogGroup", retryable))
    }
}

#[async_trait]
impl LogSink for CloudWatchLogsSink {
    async fn put_events(
        &self,
        group: &str,
        stream: &str,
        events: &[LogEvent],
    ) -> Result<RejectedEvents, LogSinkError> {
        check_put(group, stream, events)?;
        if events.is_empty() {
            return Ok(RejectedEvents::none());
        }
        let input = events
            .iter()
            .map(|event| {
                InputLogEvent::builder()
                    .timestamp(event.timestamp_ms)
                    .message(&event.message)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LogSinkError::Failed {
                group: group.to_owned(),
                stream: stream.to_owned(),
                operation: "PutLogEvents",
                detail: e.to_string(),
            })?;

        create_when_missing(
            || self.put(group, stream, &input),
            |err| matches!(err, PutLogEventsError::ResourceNotFoundException(_)),
            self.create_stream(group, stream),
            |err| put_failure(err, group, stream),
        )
        .await
    }
}

/// Runs `call`; when it fails because what it works on does not exist (`is_missing`), awaits
/// `create` and runs `call` once more. Any other failure, and a second one, goes through
/// `failure`. `create` does nothing unless it is needed: it is a future not yet awaited.
async fn create_when_missing<T, E, F>(
    call: impl Fn() -> F,
    is_missing: impl Fn(&E) -> bool,
    create: impl Future<Output = Result<(), LogSinkError>>,
    failure: impl Fn(SdkError<E>) -> LogSinkError,
) -> Result<T, LogSinkError>
where
    F: Future<Output = Result<T, SdkError<E>>>,
{
    match call().await {
        Err(err) if err.as_service_error().is_some_and(&is_missing) => {}
        result => return result.map_err(failure),
    }
    create.await?;
    call().await.map_err(failure)
}

fn rejected_events(info: Option<&RejectedLogEventsInfo>) -> RejectedEvents {
    let index = |value: Option<i32>| value.and_then(|i| usize::try_from(i).ok());
    info.map_or_else(RejectedEvents::none, |info| RejectedEvents {
        too_new_start_index: index(info.too_new_log_event_start_index()),
        too_old_end_index: index(info.too_old_log_event_end_index()),
        expired_end_index: index(info.expired_log_event_end_index()),
    })
}

fn put_failure(err: SdkError<PutLogEventsError>, group: &str, stream: &str) -> LogSinkError {
    // A stream still missing right after it was created was deleted meanwhile, and a token still
    // refused was moved by another writer: a later put recreates or catches up.
    let retryable = matches!(
        err.as_service_error(),
        Some(
            PutLogEventsError::ServiceUnavailableException(_)
                | PutLogEventsError::InvalidSequenceTokenException(_)
                | PutLogEventsError::ResourceNotFoundException(_)
        )
    );
    failure(err, group, stream, "PutLogEvents", retryable)
}

fn create_stream_failure(
    err: SdkError<CreateLogStreamError>,
    group: &str,
    stream: &str,
) -> LogSinkError {
    // Still no group right after it was created: it was deleted meanwhile.
    let retryable = matches!(
        err.as_service_error(),
        Some(
            CreateLogStreamError::ServiceUnavailableException(_)
                | CreateLogStreamError::ResourceNotFoundException(_)
        )
    );
    failure(err, group, stream, "CreateLogStream", retryable)
}

fn failure<E>(
    err: SdkError<E>,
    group: &str,
    stream: &str,
    operation: &'static str,
    modeled_retryable: bool,
) -> LogSinkError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (group, stream) = (group.to_owned(), stream.to_owned());
    let detail = DisplayErrorContext(&err).to_string();
    if modeled_retryable || super::is_transient(&err) {
        LogSinkError::Retryable {
            group,
            stream,
            operation,
            detail,
        }
    } else {
        LogSinkError::Failed {
            group,
            stream,
            operation,
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::log_sink::{BatchViolation, MAX_BATCH_SPAN_MS, event};
    use aws_sdk_cloudwatchlogs::error::ErrorMetadata;
    use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupOutput;
    use aws_sdk_cloudwatchlogs::operation::create_log_stream::CreateLogStreamOutput;
    use aws_sdk_cloudwatchlogs::operation::put_log_events::PutLogEventsOutput;
    use aws_sdk_cloudwatchlogs::types::error::{
        DataAlreadyAcceptedException, InvalidParameterException, InvalidSequenceTokenException,
        LimitExceededException, OperationAbortedException, ResourceAlreadyExistsException,
        ResourceNotFoundException, ServiceUnavailableException,
    };
    use aws_smithy_mocks::{Rule, RuleMode, mock};

    const GROUP: &str = "/aws/cloudtrail/main";
    const STREAM: &str = "123456789012_CloudTrail_us-east-1";

    /// A sink whose client answers from `rules`, in order; any other call panics.
    fn sink(rules: &[&Rule]) -> CloudWatchLogsSink {
        CloudWatchLogsSink::from_client(mock_client!(
            aws_sdk_cloudwatchlogs,
            RuleMode::Sequential,
            rules
        ))
    }

    /// Puts [`events`] to `GROUP`, `STREAM` through a sink answering from `rules`.
    async fn put_with(rules: &[&Rule]) -> Result<RejectedEvents, LogSinkError> {
        sink(rules).put_events(GROUP, STREAM, &events()).await
    }

    fn events() -> Vec<LogEvent> {
        vec![
            event(1_700_000_000_000, "first"),
            event(1_700_000_000_500, "second"),
        ]
    }

    fn put_error(error: fn() -> PutLogEventsError) -> Rule {
        mock!(Client::put_log_events).then_error(error)
    }

    /// A put that stores every event.
    fn put_stored() -> Rule {
        mock!(Client::put_log_events).then_output(|| PutLogEventsOutput::builder().build())
    }

    /// A put to a stream that does not exist (yet).
    fn no_stream() -> Rule {
        put_error(|| {
            PutLogEventsError::ResourceNotFoundException(
                ResourceNotFoundException::builder().build(),
            )
        })
    }

    /// A stream creation in a group that does not exist (yet).
    fn no_group() -> Rule {
        mock!(Client::create_log_stream).then_error(|| {
            CreateLogStreamError::ResourceNotFoundException(
                ResourceNotFoundException::builder().build(),
            )
        })
    }

    fn stream_created() -> Rule {
        mock!(Client::create_log_stream).then_output(|| CreateLogStreamOutput::builder().build())
    }

    #[tokio::test]
    async fn a_put_to_an_existing_stream_is_one_call_and_reports_rejections() {
        let put = mock!(Client::put_log_events)
            .match_requests(|req| {
                req.log_group_name() == Some(GROUP)
                    && req.log_stream_name() == Some(STREAM)
                    && req.sequence_token().is_none()
                    && req.log_events().len() == 2
                    && req.log_events()[1].timestamp() == 1_700_000_000_500
                    && req.log_events()[1].message() == "second"
            })
            .then_output(|| {
                PutLogEventsOutput::builder()
                    .rejected_log_events_info(
                        RejectedLogEventsInfo::builder()
                            .too_new_log_event_start_index(1)
                            .build(),
                    )
                    .build()
            });
        let rejected = put_with(&[&put]).await.expect("put");
        assert_eq!(
            rejected,
            RejectedEvents {
                too_new_start_index: Some(1),
                ..RejectedEvents::none()
            }
        );
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn creates_a_missing_group_and_stream_tolerating_racing_creators() {
        // Another forwarder created the group and then the stream in between.
        let group_exists = mock!(Client::create_log_group)
            .match_requests(|req| req.log_group_name() == Some(GROUP))
            .then_error(|| {
                CreateLogGroupError::ResourceAlreadyExistsException(
                    ResourceAlreadyExistsException::builder().build(),
                )
            });
        let stream_exists = mock!(Client::create_log_stream)
            .match_requests(|req| {
                req.log_group_name() == Some(GROUP) && req.log_stream_name() == Some(STREAM)
            })
            .then_error(|| {
                CreateLogStreamError::ResourceAlreadyExistsException(
                    ResourceAlreadyExistsException::builder().build(),
                )
            });
        let rules = [
            &no_stream(),
            &no_group(),
            &group_exists,
            &stream_exists,
            &put_stored(),
        ];
        let rejected = put_with(&rules).await.expect("put");
        assert!(rejected.is_none());
        for rule in rules {
            assert_eq!(rule.num_calls(), 1);
        }
    }

    #[tokio::test]
    async fn creates_the_group_then_the_stream_when_both_are_missing() {
        let group_created =
            mock!(Client::create_log_group).then_output(|| CreateLogGroupOutput::builder().build());
        let rules = [
            &no_stream(),
            &no_group(),
            &group_created,
            &stream_created(),
            &put_stored(),
        ];
        put_with(&rules).await.expect("put");
        for rule in rules {
            assert_eq!(rule.num_calls(), 1);
        }
    }

    #[tokio::test]
    async fn a_missing_stream_in_an_existing_group_skips_group_creation() {
        let put = put_stored();
        put_with(&[&no_stream(), &stream_created(), &put])
            .await
            .expect("put");
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn throttling_and_unavailability_are_retryable() {
        let throttled = put_error(|| {
            PutLogEventsError::generic(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("Rate exceeded")
                    .build(),
            )
        });
        let err = put_with(&[&throttled]).await.expect_err("throttled");
        assert!(err.is_retryable(), "{err}");
        let text = err.to_string();
        assert!(text.contains(GROUP) && text.contains(STREAM), "{text}");
        assert!(text.contains("ThrottlingException"), "{text}");

        let unavailable = put_error(|| {
            PutLogEventsError::ServiceUnavailableException(
                ServiceUnavailableException::builder().build(),
            )
        });
        let err = put_with(&[&unavailable]).await.expect_err("unavailable");
        assert!(matches!(
            err,
            LogSinkError::Retryable {
                operation: "PutLogEvents",
                ..
            }
        ));

        let aborted = mock!(Client::create_log_group).then_error(|| {
            CreateLogGroupError::OperationAbortedException(
                OperationAbortedException::builder().build(),
            )
        });
        let err = put_with(&[&no_stream(), &no_group(), &aborted])
            .await
            .expect_err("aborted");
        assert!(matches!(
            err,
            LogSinkError::Retryable {
                operation: "CreateLogGroup",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn invalid_requests_and_quotas_are_permanent() {
        let invalid = put_error(|| {
            PutLogEventsError::InvalidParameterException(
                InvalidParameterException::builder()
                    .message("Log event too large")
                    .build(),
            )
        });
        let err = put_with(&[&invalid]).await.expect_err("invalid");
        assert!(
            matches!(
                err,
                LogSinkError::Failed {
                    operation: "PutLogEvents",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("Log event too large"), "{err}");

        let quota = mock!(Client::create_log_group).then_error(|| {
            CreateLogGroupError::LimitExceededException(LimitExceededException::builder().build())
        });
        let err = put_with(&[&no_stream(), &no_group(), &quota])
            .await
            .expect_err("quota");
        assert!(
            matches!(
                err,
                LogSinkError::Failed {
                    operation: "CreateLogGroup",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn legacy_sequence_token_answers_are_handled() {
        // An implementation that still checks tokens: repeat once with the expected one.
        let wrong_token = || {
            put_error(|| {
                PutLogEventsError::InvalidSequenceTokenException(
                    InvalidSequenceTokenException::builder()
                        .expected_sequence_token("49039859")
                        .build(),
                )
            })
        };
        let with_token = mock!(Client::put_log_events)
            .match_requests(|req| req.sequence_token() == Some("49039859"))
            .then_output(|| PutLogEventsOutput::builder().build());
        put_with(&[&wrong_token(), &with_token])
            .await
            .expect("put with the expected token");
        assert_eq!(with_token.num_calls(), 1);

        // The token moved again (another writer): retry later rather than loop.
        let moved = put_error(|| {
            PutLogEventsError::InvalidSequenceTokenException(
                InvalidSequenceTokenException::builder()
                    .expected_sequence_token("49039860")
                    .build(),
            )
        });
        let err = put_with(&[&wrong_token(), &moved])
            .await
            .expect_err("token moved");
        assert!(err.is_retryable(), "{err}");

        // The batch is stored already: that is what the caller wanted.
        let accepted = put_error(|| {
            PutLogEventsError::DataAlreadyAcceptedException(
                DataAlreadyAcceptedException::builder().build(),
            )
        });
        let rejected = put_with(&[&accepted]).await.expect("already accepted");
        assert!(rejected.is_none());
    }

    #[tokio::test]
    async fn batches_over_the_limits_are_never_sent() {
        // No rules: any call would panic in the mock.
        let sink = sink(&[]);
        let events = [event(0, "a"), event(MAX_BATCH_SPAN_MS + 1, "b")];
        let err = sink
            .put_events(GROUP, STREAM, &events)
            .await
            .expect_err("span");
        assert!(matches!(
            err,
            LogSinkError::BatchLimit {
                violation: BatchViolation::SpanTooLong { .. },
                ..
            }
        ));
        assert!(
            sink.put_events(GROUP, STREAM, &[])
                .await
                .expect("empty batch")
                .is_none()
        );
    }
}
