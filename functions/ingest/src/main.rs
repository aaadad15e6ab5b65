//! ingest: validates a `{"Records":[…]}` batch and routes each record to the trails that select
//! it. Staging for delivery comes with the ingest/deliver issue; until then it answers with the
//! routing alone and stages nothing.

use cairn_shared::config::Config;
use cairn_shared::record::{Record, split_batch};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde_json::{Value, json, value::RawValue};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config_path = std::env::var("CAIRN_CONFIG").unwrap_or_else(|_| "cairn.yaml".to_owned());
    let config = Config::load(config_path.as_ref())?;
    let config = &config;
    run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move { route(config, &event.payload) },
    ))
    .await
}

fn route(config: &Config, body: &RawValue) -> Result<Value, Error> {
    let mut routed = Vec::new();
    let mut failed = Vec::new();
    for (index, raw) in split_batch(body.get())?.into_iter().enumerate() {
        match Record::parse(raw, Some(index)) {
            Ok(record) => {
                let trails: Vec<&str> = config
                    .trails
                    .iter()
                    .filter(|trail| trail.selects(&record, &config.account_id).is_some())
                    .map(|trail| trail.name())
                    .collect();
                routed.push(json!({"id": index.to_string(), "eventID": record.event_id(), "trails": trails}));
            }
            Err(error) => {
                tracing::warn!(%error, "refused record");
                failed.push(json!({"id": index.to_string(), "errorCode": "InvalidRecord", "errorMessage": error.to_string()}));
            }
        }
    }
    Ok(json!({"routed": routed, "failed": failed}))
}
