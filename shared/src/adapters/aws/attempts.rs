//! One log line per AWS call attempt the SDK retries: which service and operation, which attempt,
//! and why it failed. The SDK itself retries silently (its own lines are at debug level, without
//! the operation), so without this a throttled or failing dependency shows only as slowness.

use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};

/// Logs each attempt that the SDK's retry classifiers judge retryable (throttling, a 5xx, a
/// timeout, a reset connection), exactly as the retry strategy will judge it: it runs the same
/// classifiers on the same attempt. Whether a retry follows then depends only on the attempts
/// and retry quota left, which the line gives.
#[derive(Debug)]
pub(crate) struct RetriedAttempts;

/// The message every such line carries, so that logs (and tests) can count them.
pub const RETRYABLE_ATTEMPT_MESSAGE: &str = "AWS call attempt failed retryably";

impl Intercept for RetriedAttempts {
    fn name(&self) -> &'static str {
        "RetriedAttempts"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let action =
            run_classifiers_on_ctx(runtime_components.retry_classifiers(), context.inner());
        let RetryAction::RetryIndicated(RetryReason::RetryableError { kind, .. }) = action else {
            return Ok(());
        };
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("unknown", "unknown"), |m| (m.service(), m.name()));
        let attempt = cfg.load::<RequestAttempts>().map_or(0, |a| a.attempts());
        let max_attempts = cfg
            .load::<aws_sdk_s3::config::retry::RetryConfig>()
            .map_or(1, |retry| retry.max_attempts());
        let status = context.response().map(|r| r.status().as_u16());
        let error = match context.output_or_error() {
            Some(Err(error)) => aws_sdk_s3::error::DisplayErrorContext(error).to_string(),
            _ => String::new(),
        };
        tracing::warn!(
            service,
            operation,
            attempt,
            max_attempts,
            kind = ?kind,
            status,
            error,
            "{RETRYABLE_ATTEMPT_MESSAGE}"
        );
        Ok(())
    }
}
