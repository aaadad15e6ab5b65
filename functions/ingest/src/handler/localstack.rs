//! ingest's queue on LocalStack, which cannot run Lambda functions here: the real fixture
//! records are sent one per message to a real SQS queue (with a dead-letter queue after two
//! receives), received as Lambda's event source mapping receives them, turned into the SQS event
//! it invokes ingest with, and answered by the handler; the messages it did not hand back are
//! deleted, as the mapping deletes them. Then deliver runs on LocalStack's S3. Checked: every
//! event delivered exactly once (a batch handled twice included, as after a timed-out
//! invocation), one staging object per batch, and the malformed messages handed back on every
//! receive until the queue moves them to its dead-letter queue. (The test sits beside the handler
//! because the handler is in this binary crate, out of reach of `tests/`.)

use std::collections::BTreeSet;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::Deliverer;
use cairn_shared::ingest::Ingestor;
use cairn_shared::layout::STAGING_PREFIX;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::ports::signer::Signer;
use cairn_shared::record::{compact, split_batch};
use cairn_shared::service::Service;
use cairn_test_support::pipeline::{
    config_with_suffix, create_buckets, delivered, expected_deliveries, fixture_batches,
    unique_suffix,
};
use cairn_test_support::sns_queue::create_queue;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

use super::handle;

const NOW: time::OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);
const CHANNEL: &str = "arn:aws:cloudtrail:us-east-1:111122223333:channel/test";
/// Messages per batch: small, so the fixtures make several batches.
const BATCH: usize = 100;

/// Receives every visible message, 10 at a time with a short wait, as the mapping's poller.
async fn receive_all(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut messages = Vec::new();
    loop {
        let output = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("ReceiveMessage");
        if output.messages().is_empty() {
            return messages;
        }
        messages.extend(output.messages().iter().cloned());
    }
}

/// The SQS event Lambda invokes a function with for `messages` (Lambda Developer Guide, "Using
/// Lambda with Amazon SQS", example standard queue message event).
fn sqs_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|message| {
            let attributes: serde_json::Map<String, Value> = message
                .attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_str().into()))
                .collect();
            json!({
                "messageId": message.message_id(),
                "receiptHandle": message.receipt_handle(),
                "body": message.body(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": message.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Invokes the handler with `event` and returns the ids it hands back.
async fn invoke(ingestor: &Ingestor<'_>, event: &Value) -> BTreeSet<String> {
    let payload = serde_json::value::to_raw_value(event).expect("JSON");
    let answer = handle(ingestor, LambdaEvent::new(payload, Context::default()), NOW)
        .await
        .expect("the batch is answered");
    let answer: Value = serde_json::from_str(answer.get()).expect("JSON");
    answer["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures")
        .iter()
        .map(|failure| failure["itemIdentifier"].as_str().expect("id").to_owned())
        .collect()
}

/// One poll of the mapping: every visible message in batches of [`BATCH`], each handed to the
/// handler (the first batch twice, as when an invocation timed out after staging), and the
/// messages it did not hand back deleted. Returns the ids handed back.
async fn poll(
    sqs: &aws_sdk_sqs::Client,
    (url, arn): (&str, &str),
    ingestor: &Ingestor<'_>,
) -> BTreeSet<String> {
    let messages = receive_all(sqs, url).await;
    let mut handed_back = BTreeSet::new();
    for (n, batch) in messages.chunks(BATCH).enumerate() {
        let event = sqs_event(batch, arn);
        let failed = invoke(ingestor, &event).await;
        if n == 0 {
            assert_eq!(
                invoke(ingestor, &event).await,
                failed,
                "a repeat answers alike"
            );
        }
        for message in batch {
            let id = message.message_id().expect("id");
            if failed.contains(id) {
                // Visible again at once, as when its visibility timeout ends.
                sqs.change_message_visibility()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().expect("handle"))
                    .visibility_timeout(0)
                    .send()
                    .await
                    .expect("ChangeMessageVisibility");
            } else {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().expect("handle"))
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
        handed_back.extend(failed);
    }
    handed_back
}

#[tokio::test]
async fn single_events_through_a_localstack_queue_are_delivered_exactly_once() {
    let Some(sdk) = cairn_test_support::localstack_sdk_config(
        "single_events_through_a_localstack_queue_are_delivered_exactly_once",
    )
    .await
    else {
        return;
    };
    let suffix = unique_suffix();
    let config: Config = config_with_suffix(&suffix);
    create_buckets(&sdk, &config).await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (dead_url, dead_arn) = create_queue(&sqs, &format!("cairn-ingest-dlq-{suffix}")).await;
    let (url, arn) = create_queue(&sqs, &format!("cairn-ingest-{suffix}")).await;
    let redrive = json!({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "2"});
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .expect("SetQueueAttributes");

    // Every fixture record alone in a body, one SendMessage each, and two bad messages.
    let batches = fixture_batches();
    let mut sent = 0;
    for (_, body) in &batches {
        for raw in split_batch(body).expect("a fixture batch") {
            let message = format!("{{\"Records\":[{}]}}", compact(raw).get());
            sqs.send_message()
                .queue_url(&url)
                .message_body(message)
                .send()
                .await
                .expect("SendMessage");
            sent += 1;
        }
    }
    let mut bad_ids = BTreeSet::new();
    for bad in [
        "{\"Records\":[",
        r#"{"Records":[{"eventVersion":"1.08","eventTime":"yesterday"}]}"#,
    ] {
        let output = sqs
            .send_message()
            .queue_url(&url)
            .message_body(bad)
            .send()
            .await
            .expect("SendMessage");
        bad_ids.insert(output.message_id().expect("id").to_owned());
    }

    let ingestor = Ingestor::new(&config, &store, "us-east-1", CHANNEL);
    assert_eq!(poll(&sqs, (&url, &arn), &ingestor).await, bad_ids);
    // One staging object per batch, the repeated first batch's twice.
    let staged = store
        .list_all(&config.state_bucket, STAGING_PREFIX)
        .await
        .expect("list");
    assert_eq!(staged.len(), (sent + bad_ids.len()).div_ceil(BATCH) + 1);
    // The second receive hands the bad ones back again; then the queue moves them aside.
    assert_eq!(poll(&sqs, (&url, &arn), &ingestor).await, bad_ids);
    assert_eq!(poll(&sqs, (&url, &arn), &ingestor).await, BTreeSet::new());
    let dead: BTreeSet<String> = receive_all(&sqs, &dead_url)
        .await
        .iter()
        .map(|message| message.message_id().expect("id").to_owned())
        .collect();
    assert_eq!(dead, bad_ids);

    let signer = cairn_test_support::digests::signer().await;
    Deliverer::new(&config, &store, Some(signer as &dyn Signer))
        .handle(&Duration::minutes(10), NOW + Duration::minutes(1))
        .await
        .expect("deliver");
    assert_eq!(
        delivered(&store, &config).await,
        expected_deliveries(&config, &batches),
        "every record delivered once, to each trail that selects it"
    );
}
