//! deliver: on each EventBridge schedule tick, turns everything staged into CloudTrail log files.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::adapters::aws::s3::S3ObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::{DeliverOptions, Deliverer, DeliveryReport};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use time::{Duration, OffsetDateTime};

/// Time left at the end of an invocation for the batch in hand: no new batch is claimed later.
const FINISH_MARGIN: Duration = Duration::seconds(60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config_path = std::env::var("CAIRN_CONFIG").unwrap_or_else(|_| "cairn.yaml".to_owned());
    let config = Config::load(config_path.as_ref())?;
    let store = S3ObjectStore::from_sdk_config(&load_sdk_config().await);
    let deliverer = &Deliverer::new(&config, &store);
    run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent>| async move {
            let now = OffsetDateTime::now_utc();
            let deadline = OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(event.context.deadline) * 1_000_000,
            )?;
            let options = DeliverOptions {
                now,
                claim_for: (deadline - now - FINISH_MARGIN).max(Duration::ZERO),
            };
            let report: DeliveryReport = deliverer.run(options).await?;
            tracing::info!(
                events = report.events,
                log_files = report.log_files.len(),
                duplicates = report.duplicates,
                "delivered"
            );
            Ok::<_, Error>(report)
        },
    ))
    .await
}
