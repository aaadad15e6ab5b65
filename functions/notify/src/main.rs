//! notify: sends SNS delivery notices and metric-filter match alerts.
//!
//! This build starts the runtime and checks its trigger, an S3 Object Created event (via EventBridge), but the stage itself is
//! not built yet: every invocation fails loudly rather than pretending the work was done.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(
        |event: LambdaEvent<EventBridgeEvent>| async move {
            tracing::info!(detail_type = %event.payload.detail_type, "trigger received");
            Err::<(), Error>(
                format!(
                    "notify is not available in this build (trigger: {})",
                    event.payload.detail_type
                )
                .into(),
            )
        },
    ))
    .await
}
