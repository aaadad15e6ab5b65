//! deliver: on each EventBridge schedule tick, turns everything staged into CloudTrail log files
//! and writes the digest files of the hours that have ended, signed with the KMS key named by
//! `CAIRN_SIGNING_KEY` (needed when a trail has EnableLogFileValidation).

mod handler;

use cairn_shared::adapters::aws::KmsSigner;
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::delivery::Deliverer;
use cairn_shared::ports::signer::Signer;
use lambda_runtime::{Error, run, service_fn};
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = cairn_edge::start().await?;
    let sdk = load_sdk_config().await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let signer = std::env::var("CAIRN_SIGNING_KEY")
        .ok()
        .map(|key_id| KmsSigner::new(&sdk, key_id));
    // One per shard, each keeping its own dedup cache across invocations.
    let deliverers =
        &Deliverer::every_shard(&config, &store, signer.as_ref().map(|s| s as &dyn Signer));
    run(service_fn(move |event| {
        handler::handle(deliverers, event, OffsetDateTime::now_utc())
    }))
    .await
}
