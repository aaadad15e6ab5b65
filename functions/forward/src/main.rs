//! forward: on each S3 "Object Created" event (via EventBridge) for a trail's log file, puts its
//! records to the trail's CloudWatch Logs group and evaluates the metric filters on them.
//!
//! Matches leave an alert object in the state bucket for notify, and each data point of a
//! matched event is printed to stdout as an embedded-metric-format record, which the function's
//! own log group turns into the metric. Anything but a log file of a configured trail is
//! ignored, successfully, with the reason logged. Errors fail the invocation, so Lambda retries
//! the event, and the retry resumes after the last batch the failed attempt recorded.

mod handler;

use cairn_shared::adapters::aws::CloudWatchLogsSink;
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::forward::Forwarder;
use lambda_runtime::{Error, run, service_fn};
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = cairn_edge::start().await?;
    let sdk = load_sdk_config().await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let sink = CloudWatchLogsSink::new(&sdk);
    let forwarder =
        &Forwarder::new(&config, &store, &sink).with_metric_output(&cairn_edge::print_metric);
    run(service_fn(move |event| {
        handler::handle(forwarder, event, OffsetDateTime::now_utc())
    }))
    .await
}
