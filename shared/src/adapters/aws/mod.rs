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

/// An SDK client configuration from `$builder`, logging every attempt it retries (see
/// [`attempts::RetriedAttempts`]): how each adapter builds its client from the shared
/// configuration ([`load_sdk_config`]).
macro_rules! logging_retries {
    ($builder:expr) => {
        $builder
            .interceptor(crate::adapters::aws::attempts::RetriedAttempts)
            .build()
    };
}

mod attempts;
mod cloudtrail;
mod cloudwatch_logs;
mod kms;
mod s3;
mod sns;

pub use attempts::RETRYABLE_ATTEMPT_MESSAGE;
pub use cloudtrail::CloudTrailKeys;
pub use cloudwatch_logs::CloudWatchLogsSink;
pub use kms::KmsSigner;
pub use s3::S3ObjectStore;
pub use sns::SnsNotifier;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// Attempts per AWS call, the first included (the SDK's default is 3). Measured through the
/// fault proxy (tests/localstack_faults.rs, README "Network faults"): with one S3 call in eight
/// failing, 3 of the run's 863 calls needed a fourth attempt, and under the default each would
/// have failed the whole invocation around it (an ingest request, a deliver run); with 5, none
/// did.
pub const MAX_ATTEMPTS: u32 = 5;
/// The first retry waits up to this, each further one up to twice as long ("full jitter"),
/// whatever the error (the SDK's default is 1 s). The fault run measured the cost of each failed
/// attempt at about half a second with 500 ms; with 200 ms the same run takes a third less time,
/// and four retries still wait up to 3 s in all, time enough for throttling to pass.
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// No single wait between attempts is longer.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Opening a TCP (and TLS) connection to an AWS endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// From sending a request to the first byte of its response. S3 answers Cairn's largest
/// PutObject (a log file of a few MB) well within this; a silent endpoint costs one attempt.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// One attempt, connection and body upload included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// A whole call, all attempts and waits included: a call gives up with time left for the
/// Lambda function around it (60 s, deliver's 300 s) to answer and log why.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(45);

/// Loads the SDK configuration from the environment, once per process, with Cairn's retry and
/// timeout settings: the one place they are set for every AWS client.
///
/// Standard retry mode: exponential backoff with full jitter, and a retry quota per client that
/// stops retries when most calls fail (adaptive mode would add client-side rate limiting, which
/// only suits a single client hammering one resource). See the AWS SDK for Rust developer
/// guide, "Configure retries" (<https://docs.aws.amazon.com/sdk-for-rust/latest/dg/retries.html>)
/// and "Configure timeouts" (<https://docs.aws.amazon.com/sdk-for-rust/latest/dg/timeouts.html>).
///
/// The HTTPS client uses rustls with the `ring` provider: it cross-compiles to arm64 Lambda
/// without a C toolchain for aws-lc.
pub async fn load_sdk_config() -> SdkConfig {
    let mut http_client =
        aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring));
    if only_plain_http(std::env::vars()) {
        // Loading the system's root certificates is tens of milliseconds of every run (the SDK
        // reads them when the client is built); no connection here can use them.
        let no_roots = TlsContext::builder()
            .with_trust_store(TrustStore::empty())
            .build()
            .expect("a TLS context of an empty trust store builds");
        http_client = http_client.tls_context(no_roots);
    }
    let http_client = http_client.build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(INITIAL_BACKOFF)
                .with_max_backoff(MAX_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .load()
        .await
}

/// Whether the environment `vars` sends every AWS call to a plain-HTTP endpoint (LocalStack, as
/// `AWS_ENDPOINT_URL=http://…` points every service at it) with static credentials, so that
/// no TLS connection is ever made: `AWS_ENDPOINT_URL` and every service's
/// `AWS_ENDPOINT_URL_{SERVICE}` are `http://` URLs and not ignored
/// (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), which makes endpoints in the shared config files
/// irrelevant, and the credentials are `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, which
/// the default chain takes first, so no STS or SSO call (over HTTPS) fetches any. See the AWS
/// SDKs and Tools reference guide, "Service-specific endpoints"
/// (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html>).
fn only_plain_http(vars: impl IntoIterator<Item = (String, String)>) -> bool {
    let (mut global, mut key, mut secret) = (false, false, false);
    for (name, value) in vars {
        match name.as_str() {
            "AWS_ENDPOINT_URL" => global = value.starts_with("http://"),
            "AWS_ACCESS_KEY_ID" => key = !value.is_empty(),
            "AWS_SECRET_ACCESS_KEY" => secret = !value.is_empty(),
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" if value.eq_ignore_ascii_case("true") => {
                return false;
            }
            _ if name.starts_with("AWS_ENDPOINT_URL_") && !value.starts_with("http://") => {
                return false;
            }
            _ => {}
        }
    }
    global && key && secret
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

#[cfg(test)]
mod tests {
    use super::only_plain_http;

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    const LOCALSTACK: &[(&str, &str)] = &[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("HOME", "/root"),
    ];

    #[test]
    fn tls_is_needed_unless_every_endpoint_is_plain_http_with_static_credentials() {
        assert!(only_plain_http(env(LOCALSTACK)));
        let with = |extra: (&str, &str)| {
            let mut vars = env(LOCALSTACK);
            vars.push((extra.0.to_owned(), extra.1.to_owned()));
            only_plain_http(vars)
        };
        assert!(with((
            "AWS_ENDPOINT_URL_CLOUDTRAIL",
            "http://127.0.0.1:9000"
        )));
        assert!(!with(("AWS_ENDPOINT_URL_S3", "https://s3.example.com")));
        assert!(!with(("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")));

        assert!(!only_plain_http(env(&[])), "AWS itself");
        assert!(!only_plain_http(env(&[
            (
                "AWS_ENDPOINT_URL",
                "https://localhost.localstack.cloud:4566"
            ),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ])));
        assert!(
            !only_plain_http(env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")])),
            "credentials from a profile may need STS or SSO"
        );
    }
}
