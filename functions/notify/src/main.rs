//! notify: CloudTrail's delivery notices to each trail's SnsTopicARN and metric-filter match
//! alerts to alertTopicArn, for the log files and alert objects S3 reports created.
//!
//! Deployed behind an SQS queue fed by EventBridge (batches of up to 100 "Object Created"
//! events, answered with the batch item failures to retry); a single EventBridge event, as
//! `cargo lambda invoke` sends one, works too. See `handler` for both.

mod handler;

use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::SnsNotifier;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::notify::Notify;
use lambda_runtime::{Error, run, service_fn};
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = cairn_edge::start().await?;
    let sdk = load_sdk_config().await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let notifier = SnsNotifier::new(&sdk);
    let notify = &Notify::new(&config, &store, &notifier);
    run(service_fn(move |event| {
        handler::handle(notify, event, OffsetDateTime::now_utc())
    }))
    .await
}
