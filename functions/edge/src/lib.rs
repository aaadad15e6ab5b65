//! The edge the four Lambda functions share: start-up, the kinds of failure Lambda reports for
//! them ([`error`]), and S3's Object Created trigger as forward and notify read it
//! ([`trigger`]).

pub mod error;
pub mod trigger;

use cairn_shared::config::Config;
use lambda_runtime::tracing;
use lambda_runtime_api_client::PooledClient;
use lambda_runtime_api_client::body::Body;

pub use error::{ErrorKind, FunctionError};

/// Lambda's endpoint for a function that cannot start.
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// Sets up logging (JSON when the function's LoggingConfig says `LogFormat: JSON`, which
/// Lambda passes on as AWS_LAMBDA_LOG_FORMAT) and loads the configuration at `CAIRN_CONFIG`
/// (`cairn.yaml` next to bootstrap unless set).
///
/// A configuration that cannot be loaded is logged and reported to Lambda as the init error
/// `ConfigInvalid`, then returned for `main` to exit with.
pub async fn start() -> Result<Config, FunctionError> {
    tracing::init_default_subscriber();
    let path = env_or("CAIRN_CONFIG", "cairn.yaml");
    let shards = std::env::var(DELIVER_SHARDS_VARIABLE).ok();
    let error = match Config::load(path.as_ref()) {
        Ok(config) => match check_shards(&config, shards.as_deref()) {
            Ok(()) => return Ok(config),
            Err(error) => FunctionError::from(error),
        },
        Err(error) => FunctionError::from(error),
    };
    tracing::error!(
        error_type = error.kind().error_type(),
        %error,
        "the configuration cannot be used; the function does not start"
    );
    report_init_error(&error).await;
    Err(error)
}

/// template.yaml's `DeliverShards`, in the environment of ingest and deliver.
const DELIVER_SHARDS_VARIABLE: &str = "CAIRN_DELIVER_SHARDS";

/// The deployment schedules a different number of deliver shards than cairn.yaml splits events
/// into: some shard's events would never be delivered, or a schedule would name no shard.
#[derive(Debug, thiserror::Error)]
#[error(
    "template.yaml's DeliverShards ({DELIVER_SHARDS_VARIABLE}={template}) is not cairn.yaml's deliverShards ({config}); deploy both with the same number"
)]
pub struct ShardsDisagree {
    template: String,
    config: u16,
}

/// Checks the template's shard count, when the function's environment has one, against the
/// configuration's.
fn check_shards(config: &Config, template: Option<&str>) -> Result<(), ShardsDisagree> {
    match template {
        Some(text) if text.parse::<u16>().ok() != Some(config.deliver_shards) => {
            Err(ShardsDisagree {
                template: text.to_owned(),
                config: config.deliver_shards,
            })
        }
        _ => Ok(()),
    }
}

/// Prints an embedded-metric-format line ([`cairn_shared::emf`]) to stdout, alone on its line:
/// Lambda sends stdout to the function's log group, and CloudWatch Logs extracts the metrics.
pub fn print_metric(line: &str) {
    println!("{line}");
}

/// An environment variable, or `default` when it is unset or not Unicode.
pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Tells Lambda why the function could not start, so the invocation that started it fails
/// with the error's kind rather than a bare exit. Only under a Lambda runtime API; a failed
/// report is logged, and the process exits with the error all the same.
async fn report_init_error(error: &FunctionError) {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return;
    }
    let body = match serde_json::to_vec(&error.diagnostic()) {
        Ok(body) => body,
        Err(report) => {
            tracing::warn!(%report, "the init error cannot be reported to Lambda");
            return;
        }
    };
    let request = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri(INIT_ERROR_PATH)
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
        .body(Body::from(body));
    let result = match request {
        Ok(request) => PooledClient::builder().build().call(request).await,
        Err(report) => Err(report.into()),
    };
    if let Err(report) = result {
        tracing::warn!(%report, "the init error was not reported to Lambda");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_shard_count_must_be_the_configurations() {
        let config = |shards: u16| {
            Config::from_yaml(
                &format!("accountId: \"111122223333\"\ndeliverShards: {shards}\n"),
                "cairn.yaml",
            )
            .expect("valid")
        };
        assert!(check_shards(&config(2), Some("2")).is_ok());
        // Run outside the template (cargo lambda watch): the configuration alone decides.
        assert!(check_shards(&config(2), None).is_ok());
        let error = check_shards(&config(1), Some("2")).expect_err("they differ");
        assert_eq!(
            error.to_string(),
            "template.yaml's DeliverShards (CAIRN_DELIVER_SHARDS=2) is not cairn.yaml's deliverShards (1); deploy both with the same number"
        );
        assert_eq!(
            lambda_runtime::Diagnostic::from(FunctionError::from(error)).error_type,
            "ConfigInvalid"
        );
        assert!(check_shards(&config(1), Some("one")).is_err());
    }
}
