//! ingest: validates the events of a body (a Records batch, an EventBridge CloudTrail event or a
//! PutAuditEvents body; directly or through a Function URL), stages them in S3 for deliver, and
//! answers per event.

use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::adapters::aws::s3::S3ObjectStore;
use cairn_shared::config::Config;
use cairn_shared::ingest::Ingestor;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde_json::value::RawValue;
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::load(env("CAIRN_CONFIG", "cairn.yaml").as_ref())?;
    let store = S3ObjectStore::from_sdk_config(&load_sdk_config().await);
    let region = env("AWS_REGION", "us-east-1");
    let channel_arn = env(
        "CAIRN_CHANNEL_ARN",
        &format!(
            "arn:aws:cloudtrail:{region}:{}:channel/cairn",
            config.account_id
        ),
    );
    let ingestor = &Ingestor {
        config: &config,
        store: &store,
        region: &region,
        channel_arn: &channel_arn,
    };
    run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            Ok::<_, Error>(
                ingestor
                    .invoke(&event.payload, OffsetDateTime::now_utc())
                    .await?,
            )
        },
    ))
    .await
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}
