//! deliver: on each EventBridge schedule tick, turns everything staged into CloudTrail log files
//! and writes the digest files of the hours that have ended, signed with the KMS key named by
//! `CAIRN_SIGNING_KEY` (needed when a trail has EnableLogFileValidation).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cairn_shared::adapters::aws::kms::KmsSigner;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::adapters::aws::s3::S3ObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::{DeliverOptions, Deliverer, DeliveryReport};
use cairn_shared::ports::signer::Signer;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use time::{Duration, OffsetDateTime};

/// Time left at the end of an invocation for the batch in hand: no new batch is claimed later.
const FINISH_MARGIN: Duration = Duration::seconds(60);

/// How long a run claims batches when the invocation carries no usable deadline.
const LOCAL_CLAIM_WINDOW: Duration = Duration::seconds(240);

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config_path = std::env::var("CAIRN_CONFIG").unwrap_or_else(|_| "cairn.yaml".to_owned());
    let config = Config::load(config_path.as_ref())?;
    let sdk = load_sdk_config().await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let signer = std::env::var("CAIRN_SIGNING_KEY")
        .ok()
        .map(|key_id| KmsSigner::new(&sdk, key_id));
    let deliverer = &Deliverer::new(&config, &store, signer.as_ref().map(|s| s as &dyn Signer));
    run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent>| async move {
            let real_now = OffsetDateTime::now_utc();
            let deadline = OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(event.context.deadline) * 1_000_000,
            )?;
            // The schedule's time is the clock when it is ahead of this machine's (a replay of
            // later hours in a test); a late retry of an old tick uses the real clock.
            let scheduled = event
                .payload
                .time
                .map(|time| OffsetDateTime::from_unix_timestamp(time.timestamp()))
                .transpose()?;
            let options = DeliverOptions {
                now: scheduled.map_or(real_now, |scheduled| scheduled.max(real_now)),
                claim_for: if deadline > real_now {
                    (deadline - real_now - FINISH_MARGIN).max(Duration::ZERO)
                } else {
                    // `cargo lambda watch` sends a fixed duration, not an epoch deadline.
                    LOCAL_CLAIM_WINDOW
                },
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
