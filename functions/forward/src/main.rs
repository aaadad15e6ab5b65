//! forward: on each S3 "Object Created" event (via EventBridge) for a trail's log file, puts its
//! records to the trail's CloudWatch Logs group and evaluates the metric filters on them.
//!
//! Matches leave an alert object in the state bucket for notify, and each data point of a
//! matched event is printed to stdout as an embedded-metric-format record, which the function's
//! own log group turns into the metric. Anything but a log file of a configured trail is
//! ignored, successfully, with the reason logged. Errors fail the invocation, so Lambda retries
//! the event, and the retry resumes after the last batch the failed attempt recorded.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cairn_shared::adapters::aws::cloudwatch_logs::CloudWatchLogsSink;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::adapters::aws::s3::S3ObjectStore;
use cairn_shared::config::Config;
use cairn_shared::forward::{ForwardReport, Forwarder};
use cairn_shared::trigger::{self, Trigger};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// EMF records go to stdout, one per line, where Lambda's log group picks them up.
fn print_metric(line: &str) {
    println!("{line}");
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config_path = std::env::var("CAIRN_CONFIG").unwrap_or_else(|_| "cairn.yaml".to_owned());
    let config = Config::load(config_path.as_ref())?;
    let sdk = load_sdk_config().await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let sink = CloudWatchLogsSink::new(&sdk);
    let forwarder = &Forwarder::new(&config, &store, &sink).with_metric_output(&print_metric);
    run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent>| async move {
            let event = event.payload;
            let object = match trigger::from_eventbridge(
                &event.detail_type,
                &event.source,
                &event.detail,
            )? {
                Trigger::ObjectCreated(object) => object,
                Trigger::Ignored(reason) => {
                    tracing::info!(%reason, "not an S3 Object Created event; nothing to do");
                    return Ok::<Value, Error>(
                        json!({"outcome": "ignored", "ignoredBecause": reason}),
                    );
                }
            };
            let report: ForwardReport = forwarder
                .forward_log_file(&object.bucket, &object.key, OffsetDateTime::now_utc())
                .await?;
            Ok(serde_json::to_value(&report)?)
        },
    ))
    .await
}
