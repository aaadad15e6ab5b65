//! AWS SDK adapters, configured from the standard AWS environment (`AWS_ENDPOINT_URL` included,
//! so the same code runs against LocalStack).

/// For the adapters' unit tests: a client of SDK crate `$sdk` that answers from the mock `$rules`
/// in `$mode` (a call no rule answers panics), with the SDK's own retries off so that each rule
/// is one attempt.
#[cfg(test)]
macro_rules! mock_client {
    ($sdk:ident, $mode:expr, $rules:expr) => {
        aws_smithy_mocks::mock_client!($sdk, $mode, $rules, |conf| {
            conf.retry_config($sdk::config::retry::RetryConfig::disabled())
        })
    };
}

mod cloudtrail;
mod cloudwatch_logs;
mod kms;
mod s3;
mod sns;

pub use cloudtrail::CloudTrailKeys;
pub use cloudwatch_logs::CloudWatchLogsSink;
pub use kms::KmsSigner;
pub use s3::S3ObjectStore;
pub use sns::SnsNotifier;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// Loads the SDK configuration from the environment, once per process.
///
/// The HTTPS client uses rustls with the `ring` provider: it cross-compiles to arm64 Lambda
/// without a C toolchain for aws-lc.
pub async fn load_sdk_config() -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .load()
        .await
}

// Every SDK crate re-exports the same smithy error types; any one of them names them.
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};

/// Error codes AWS services use for throttling and passing unavailability.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Whether a failed call may succeed if repeated: timeouts, connection failures, throttling
/// and server-side errors. Everything else is the request's own fault and repeating it won't
/// help.
pub(crate) fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status == 429
                || status >= 500
                || service
                    .err()
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        _ => false,
    }
}
