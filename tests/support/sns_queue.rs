//! SQS queues on LocalStack, on their own or subscribed to SNS topics, and reading what
//! arrives: how the LocalStack tests see the messages Cairn publishes.

use std::time::{Duration, Instant};

use serde_json::Value;

/// Creates topic `name` and returns its ARN.
pub async fn create_topic(sns: &aws_sdk_sns::Client, name: &str) -> String {
    sns.create_topic()
        .name(name)
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn()
        .expect("topic ARN")
        .to_owned()
}

/// Creates queue `name` and returns its URL and ARN.
pub async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("queue URL")
        .to_owned();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("queue ARN")
        .to_owned();
    (url, arn)
}

/// Creates queue `name`, subscribes it to each topic (raw message delivery off, so the queue
/// receives SNS's JSON envelope) and returns its URL.
pub async fn subscribed_queue(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    topic_arns: &[&str],
) -> String {
    let (queue_url, queue_arn) = create_queue(sqs, name).await;
    for topic_arn in topic_arns {
        sns.subscribe()
            .topic_arn(*topic_arn)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .send()
            .await
            .expect("Subscribe");
    }
    queue_url
}

/// A topic with an SQS queue subscribed to it; returns (topic ARN, queue URL).
pub async fn subscribed_topic(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> (String, String) {
    let topic_arn = create_topic(sns, name).await;
    let queue_url = subscribed_queue(sns, sqs, &format!("{name}-subscriber"), &[&topic_arn]).await;
    (topic_arn, queue_url)
}

/// Receives (and deletes) `count` SNS envelopes from the queue within a minute, then checks
/// that no more come.
pub async fn receive(sqs: &aws_sdk_sqs::Client, queue_url: &str, count: usize) -> Vec<Value> {
    let envelopes = receive_at_least(sqs, queue_url, count).await;
    assert_eq!(envelopes.len(), count, "{envelopes:#?}");
    envelopes
}

/// Receives (and deletes) SNS envelopes from the queue until at least `count` came and then no
/// more for a while, or a minute passed: with SNS's at-least-once delivery, some may be copies.
pub async fn receive_at_least(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    count: usize,
) -> Vec<Value> {
    let mut envelopes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let output = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(if envelopes.len() < count { 5 } else { 2 })
            .send()
            .await
            .expect("ReceiveMessage");
        for message in output.messages() {
            envelopes
                .push(serde_json::from_str(message.body().expect("body")).expect("SNS envelope"));
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().expect("receipt handle"))
                .send()
                .await
                .expect("DeleteMessage");
        }
        let waited_for_more = envelopes.len() >= count && output.messages().is_empty();
        if waited_for_more || Instant::now() > deadline {
            break;
        }
    }
    envelopes
}
