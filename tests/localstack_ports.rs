//! The log sink, notifier and signer AWS adapters against LocalStack's CloudWatch Logs, SNS (with
//! an SQS subscriber) and KMS.
//!
//! Without `CAIRN_LOCALSTACK` each test prints that it did not run; with it LocalStack is
//! required and an unreachable one fails the test. Every test makes its own uniquely named
//! resources, so runs and parallel tests never see each other's data.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cairn_shared::adapters::aws::CloudWatchLogsSink;
use cairn_shared::adapters::aws::KmsSigner;
use cairn_shared::adapters::aws::SnsNotifier;
use cairn_shared::ports::log_sink::{LogEvent, LogSink};
use cairn_shared::ports::notifier::{Notification, Notifier};
use cairn_shared::ports::signer::{self, Signer, SignerError};
use cairn_test_support::localstack_sdk_config;
use cairn_test_support::sns_queue::subscribed_queue;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::sha2::Sha256;
use rsa::signature::Verifier;
use serde_json::{Value, json};

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
}

/// A name no earlier run or parallel test has used.
fn unique(prefix: &str) -> String {
    let nanos = since_epoch().as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn now_ms() -> i64 {
    i64::try_from(since_epoch().as_millis()).expect("milliseconds fit i64")
}

async fn read_stream(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
) -> Vec<(i64, String)> {
    let output = logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .start_from_head(true)
        .send()
        .await
        .expect("GetLogEvents");
    output
        .events()
        .iter()
        .map(|event| {
            (
                event.timestamp().expect("event timestamp"),
                event.message().expect("event message").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn cloudwatch_logs_sink_creates_group_and_stream_and_appends_in_order() {
    let Some(config) =
        localstack_sdk_config("cloudwatch_logs_sink_creates_group_and_stream_and_appends_in_order")
            .await
    else {
        return;
    };
    let sink = CloudWatchLogsSink::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = format!("/cairn/test/{}", unique("trail"));
    let stream = "123456789012_CloudTrail_us-east-1";

    let start = now_ms();
    let first: Vec<LogEvent> = (0..3)
        .map(|i| LogEvent {
            timestamp_ms: start + i,
            message: json!({"eventName": "PutObject", "n": i}).to_string(),
        })
        .collect();
    // Neither the group nor the stream exists yet.
    let rejected = sink
        .put_events(&group, stream, &first)
        .await
        .expect("first put creates the group and the stream");
    assert!(rejected.is_none(), "{rejected:?}");

    // Same group and stream again: they exist now.
    let second = vec![
        LogEvent {
            timestamp_ms: start + 3,
            message: "fourth, with \"quotes\" and é".to_owned(),
        },
        LogEvent {
            timestamp_ms: start + 3,
            message: "fifth, same millisecond".to_owned(),
        },
    ];
    sink.put_events(&group, stream, &second)
        .await
        .expect("second put to the existing stream");

    let expected: Vec<(i64, String)> = first
        .iter()
        .chain(&second)
        .map(|event| (event.timestamp_ms, event.message.clone()))
        .collect();
    assert_eq!(read_stream(&logs, &group, stream).await, expected);

    // A new stream in the existing group.
    let other_stream = "123456789012_CloudTrail_eu-west-1";
    sink.put_events(&group, other_stream, &first[..1])
        .await
        .expect("put to a new stream of an existing group");
    assert_eq!(
        read_stream(&logs, &group, other_stream).await,
        expected[..1]
    );
}

#[tokio::test]
async fn sns_notifier_delivers_subject_message_and_attributes_to_an_sqs_subscriber() {
    let Some(config) = localstack_sdk_config(
        "sns_notifier_delivers_subject_message_and_attributes_to_an_sqs_subscriber",
    )
    .await
    else {
        return;
    };
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);

    let topic_arn = sns
        .create_topic()
        .name(unique("cairn-alerts"))
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn()
        .expect("topic ARN")
        .to_owned();
    let queue_url = subscribed_queue(
        &sns,
        &sqs,
        &unique("cairn-alerts-subscriber"),
        &[&topic_arn],
    )
    .await;

    let notification = Notification {
        subject: Some("[Cairn] root login: ConsoleLogin (us-east-1)".to_owned()),
        message: json!({"alarm": "root-login", "events": ["a", "b"]}).to_string() + "\nline two é",
        attributes: BTreeMap::from([
            ("trail".to_owned(), "main-trail".into()),
            ("kind".to_owned(), "metric-filter-match".into()),
        ]),
    };
    let message_id = SnsNotifier::new(&config)
        .publish(&topic_arn, &notification)
        .await
        .expect("publish");
    assert!(!message_id.is_empty());

    let envelope = receive_one(&sqs, &queue_url).await;
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["MessageId"], message_id.as_str());
    assert_eq!(envelope["TopicArn"], topic_arn.as_str());
    assert_eq!(envelope["Subject"], json!(notification.subject));
    assert_eq!(envelope["Message"], notification.message.as_str());
    assert_eq!(
        envelope["MessageAttributes"],
        json!({
            "kind": {"Type": "String", "Value": "metric-filter-match"},
            "trail": {"Type": "String", "Value": "main-trail"},
        })
    );
}

/// Waits (up to about 20 s) for the one message SNS delivers to the queue; returns its body.
async fn receive_one(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Value {
    for _ in 0..4 {
        let output = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(5)
            .send()
            .await
            .expect("ReceiveMessage");
        if let [message] = output.messages() {
            return serde_json::from_str(message.body().expect("message body"))
                .expect("SNS envelope is JSON");
        }
        assert!(
            output.messages().is_empty(),
            "exactly one message expected, got {:?}",
            output.messages()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no message reached the subscribed queue");
}

#[tokio::test]
async fn kms_signer_signatures_verify_with_the_published_pkcs1_key() {
    let Some(config) =
        localstack_sdk_config("kms_signer_signatures_verify_with_the_published_pkcs1_key").await
    else {
        return;
    };
    let kms = aws_sdk_kms::Client::new(&config);
    let create_key = |spec: aws_sdk_kms::types::KeySpec| {
        let kms = kms.clone();
        async move {
            kms.create_key()
                .key_spec(spec)
                .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
                .description("cairn localstack_ports test")
                .send()
                .await
                .expect("CreateKey")
                .key_metadata()
                .expect("key metadata")
                .key_id()
                .to_owned()
        }
    };

    let key_id = create_key(aws_sdk_kms::types::KeySpec::Rsa2048).await;
    let signer = KmsSigner::new(&config, &key_id);
    let message = "2024-05-01T12:00:00Z\n\
        cairn-trail-bucket/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01/\
        123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20240501T120000Z.json.gz\n\
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nnull"
        .as_bytes();

    let signature = signer.sign(message).await.expect("Sign");
    assert_eq!(signature.len(), 256, "RSA-2048 signature");
    assert_eq!(
        signer.sign(message).await.expect("Sign again"),
        signature,
        "PKCS#1 v1.5 is deterministic"
    );

    let public_key = signer.public_key().await.expect("public key");
    assert_eq!(
        public_key.fingerprint(),
        signer::fingerprint(public_key.pkcs1_der())
    );
    assert_eq!(
        signer::verify(public_key.pkcs1_der(), message, &signature),
        Ok(true)
    );

    // Independently of the port's helper: the published bytes load as PKCS#1 RSAPublicKey DER,
    // as `aws cloudtrail validate-logs` loads them.
    let rsa_key = rsa::RsaPublicKey::from_pkcs1_der(public_key.pkcs1_der()).expect("PKCS#1 DER");
    let verifying_key = VerifyingKey::<Sha256>::new(rsa_key);
    let parsed = Signature::try_from(signature.as_slice()).expect("signature bytes");
    verifying_key
        .verify(message, &parsed)
        .expect("signature verifies");
    let mut altered = message.to_vec();
    altered[0] ^= 1;
    assert!(verifying_key.verify(&altered, &parsed).is_err());

    // A key of another size is refused before it signs anything.
    let rsa_4096 = create_key(aws_sdk_kms::types::KeySpec::Rsa4096).await;
    let err = KmsSigner::new(&config, &rsa_4096)
        .sign(message)
        .await
        .expect_err("RSA_4096 refused");
    assert!(matches!(err, SignerError::UnsuitableKey { .. }), "{err}");
}
