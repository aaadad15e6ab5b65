//! ingest: validates the events of a body (a Records batch, an EventBridge CloudTrail event or a
//! PutAuditEvents body; directly or through a Function URL), stages them in S3 for deliver, and
//! answers per event.

mod handler;

use cairn_edge::env_or;
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::ingest::Ingestor;
use lambda_runtime::{Error, run, service_fn};
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = cairn_edge::start().await?;
    let store = S3ObjectStore::from_sdk_config(&load_sdk_config().await);
    let region = env_or("AWS_REGION", "us-east-1");
    let channel_arn = env_or(
        "CAIRN_CHANNEL_ARN",
        &format!(
            "arn:aws:cloudtrail:{region}:{}:channel/cairn",
            config.account_id
        ),
    );
    let ingestor = &Ingestor::new(&config, &store, &region, &channel_arn);
    run(service_fn(move |event| {
        handler::handle(ingestor, event, OffsetDateTime::now_utc())
    }))
    .await
}
