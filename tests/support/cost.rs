//! What the pipeline asks of AWS for a number of events, counted through the ports (see
//! `cairn_shared::adapters::counting`) while the four services run against LocalStack:
//! `scripts/cost.sh` runs this through the `cost` binary and prices what it prints.
//!
//! The services run in this process, each call standing for one Lambda invocation, timed. What
//! Lambda, EventBridge and SQS do between them is not a port, so it is counted where the
//! deployed template makes it happen: one forward invocation per object created in a trail
//! bucket (an EventBridge rule target), one SQS message per such object and per alert object
//! (the rule in front of notify's queue), and notify invoked with up to 100 of them at a time.
//! Likewise for the shapes through ingest's queue: a SendMessage per event (the producer's, or
//! the CloudTrail events rule's), the event source mapping's ReceiveMessage and
//! DeleteMessageBatch of up to 10 messages each, and one ingest invocation per batch, as large
//! as the template's BatchSize and Lambda's 6 MB payload allow (see [`queue_batches`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use cairn_shared::adapters::aws::{CloudWatchLogsSink, KmsSigner, S3ObjectStore, SnsNotifier};
use cairn_shared::adapters::counting::{Counted, RequestCounter};
use cairn_shared::config::Config;
use cairn_shared::delivery::Deliverer;
use cairn_shared::forward::Forwarder;
use cairn_shared::ingest::{Ingestor, QueuedMessage};
use cairn_shared::layout::ALERTS_PREFIX;
use cairn_shared::notify::Notify;
use cairn_shared::ports::log_sink::LogSink;
use cairn_shared::ports::notifier::Notifier;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::ports::signer::Signer;
use cairn_shared::service::Service;
use cairn_shared::trigger::ObjectCreated;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::digests::create_kms_signing_key;
use crate::notify::item;
use crate::pipeline::{create_buckets, unique_suffix};
use crate::sns_queue::create_topic;
use crate::{repo_file, synthetic};

/// How producers hand events to ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"Records":[…]}` bodies of 500 events each.
    Batch500,
    /// One event per body: an application emitting audit events one by one.
    Single,
    /// One event per message of ingest's queue: the same producer, sending to the queue.
    Queue,
    /// AWS's own CloudTrail events, one EventBridge event per message of ingest's queue (the
    /// template's RouteCloudTrailEvents rule).
    EventBridge,
}

impl Shape {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "batch500" => Some(Self::Batch500),
            "single" => Some(Self::Single),
            "queue" => Some(Self::Queue),
            "eventbridge" => Some(Self::EventBridge),
            _ => None,
        }
    }

    /// Whether the bodies are messages of ingest's queue rather than invocations of their own.
    fn queued(self) -> bool {
        matches!(self, Self::Queue | Self::EventBridge)
    }

    /// The bodies ingest is invoked with, one per invocation, or sent as one message each.
    fn bodies(self, records: &[String]) -> Vec<String> {
        match self {
            Self::Batch500 => records
                .chunks(500)
                .map(|chunk| format!("{{\"Records\":[{}]}}", chunk.join(",")))
                .collect(),
            Self::Single | Self::Queue => records
                .iter()
                .map(|record| format!("{{\"Records\":[{record}]}}"))
                .collect(),
            Self::EventBridge => records
                .iter()
                .map(|record| eventbridge_event(record))
                .collect(),
        }
    }
}

/// A CloudTrail record as EventBridge hands it to a rule target ("AWS API Call via CloudTrail").
fn eventbridge_event(record: &str) -> String {
    let detail: Value = serde_json::from_str(record).expect("a synthetic record is JSON");
    let service = detail["eventSource"]
        .as_str()
        .and_then(|source| source.strip_suffix(".amazonaws.com"))
        .unwrap_or("cloudtrail");
    json!({
        "version": "0",
        "id": format!("eb-{}", detail["eventID"].as_str().unwrap_or_default()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{service}"),
        "account": detail["recipientAccountId"],
        "time": detail["eventTime"],
        "region": detail["awsRegion"],
        "resources": [],
        "detail": detail,
    })
    .to_string()
}

/// The Lambda invocations of one function: how many, and the whole milliseconds Lambda would
/// bill for each as measured here (summed).
#[derive(Debug, Default)]
struct Invocations {
    count: u64,
    billed_ms: u64,
}

impl Invocations {
    fn add(&mut self, started: Instant) {
        self.count += 1;
        self.billed_ms += started.elapsed().as_micros().div_ceil(1000) as u64;
    }
}

/// What one phase asked of AWS, printed as tab-separated lines for `scripts/cost.sh`.
#[derive(Default)]
struct Phase {
    lambda: BTreeMap<&'static str, Invocations>,
    /// S3 "Object Created" events EventBridge routes (free AWS service events), and SQS
    /// messages sent to notify's queue.
    eventbridge_events: u64,
    sqs_messages: u64,
    notify_batches: u64,
    /// ingest's queue: SendMessage, ReceiveMessage and DeleteMessageBatch requests, each 64 KB
    /// chunk of a request's payload counted as one, as SQS bills them.
    ingest_queue: QueueRequests,
    /// The bytes of what deliver wrote to the trail bucket (log files and digests): what S3
    /// goes on storing.
    trail_bytes: u64,
}

impl Phase {
    fn print(&self, name: &str, counter: &RequestCounter) -> String {
        let mut out = String::new();
        let mut line = |fields: &[&dyn std::fmt::Display]| {
            let fields: Vec<String> = fields.iter().map(ToString::to_string).collect();
            writeln!(out, "{name}\t{}", fields.join("\t")).expect("a String takes writes");
        };
        for (request, tally) in counter.tallies() {
            line(&[
                &"request",
                &request.service(),
                &request.kind(),
                &tally.requests,
                &tally.bytes,
            ]);
        }
        for (function, invocations) in &self.lambda {
            line(&[
                &"lambda",
                function,
                &invocations.count,
                &invocations.billed_ms,
            ]);
        }
        line(&[&"eventbridge", &self.eventbridge_events]);
        line(&[&"sqs", &self.sqs_messages, &self.notify_batches]);
        let queue = &self.ingest_queue;
        line(&[&"ingestqueue", &queue.send, &queue.receive, &queue.delete]);
        line(&[&"trailbytes", &self.trail_bytes]);
        out
    }
}

/// The configuration: one multi-Region trail of every management event and the S3 object and
/// Lambda data events, with log file
/// validation, a CloudWatch Logs group and delivery notices, and the CIS metric filters of the
/// sample cairn.yaml on its group.
fn config(suffix: &str, notices: &str, alerts: &str) -> Config {
    let sample = std::fs::read_to_string(repo_file("cairn.yaml")).expect("cairn.yaml");
    let (_, filters) = sample
        .split_once("\nmetricFilters:\n")
        .expect("cairn.yaml has metric filters");
    let group = format!("cairn/cost-{suffix}");
    let yaml = format!(
        r#"accountId: "111122223333"
stateBucket: cairn-cost-state-{suffix}
alertTopicArn: {alerts}
trails:
  - Name: main
    S3BucketName: cairn-cost-trail-{suffix}
    S3KeyPrefix: audit
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    IncludeGlobalServiceEvents: true
    EnableLogFileValidation: true
    SnsTopicARN: {notices}
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:111122223333:log-group:{group}:*
    AdvancedEventSelectors:
      - FieldSelectors: [{{Field: eventCategory, Equals: [Management]}}]
      - FieldSelectors:
          - {{Field: eventCategory, Equals: [Data]}}
          - {{Field: resources.type, Equals: ["AWS::S3::Object"]}}
      - FieldSelectors:
          - {{Field: eventCategory, Equals: [Data]}}
          - {{Field: resources.type, Equals: ["AWS::Lambda::Function"]}}
metricFilters:
{}"#,
        filters.replace("cairn/cloudtrail", &group)
    );
    Config::from_yaml(&yaml, "cost configuration").expect("the cost configuration")
}

/// The workload: `events` records of the last few minutes, three in four in us-east-1 and the
/// rest in eu-west-1, delivered in `rounds` deliver runs (ingest takes a round's share of the
/// bodies, then deliver runs, as if the schedule fired between them). Then one more deliver run
/// an hour later, which finds nothing staged and signs the digests of the hour gone by: what
/// every hour costs whatever the volume. Returns the lines `scripts/cost.sh` reads.
pub async fn measure(
    sdk: &aws_config::SdkConfig,
    shape: Shape,
    events: usize,
    rounds: usize,
) -> String {
    let suffix = unique_suffix();
    let sns = aws_sdk_sns::Client::new(sdk);
    let notices = create_topic(&sns, &format!("cairn-cost-notices-{suffix}")).await;
    let alerts = create_topic(&sns, &format!("cairn-cost-alerts-{suffix}")).await;
    let config = config(&suffix, &notices, &alerts);
    create_buckets(sdk, &config).await;
    let key = create_kms_signing_key(&aws_sdk_kms::Client::new(sdk)).await;
    let key_id = key.key_id().to_owned();

    let s3 = S3ObjectStore::from_sdk_config(sdk);
    let sink = CloudWatchLogsSink::new(sdk);
    let sns_notifier = SnsNotifier::new(sdk);
    let kms_signer = KmsSigner::new(sdk, key_id);
    let counter = RequestCounter::new();
    let store = Counted::new(&s3 as &dyn ObjectStore, &counter);
    let sink = Counted::new(&sink as &dyn LogSink, &counter);
    let notifier = Counted::new(&sns_notifier as &dyn Notifier, &counter);
    let signer = Counted::new(&kms_signer as &dyn Signer, &counter);

    let start = OffsetDateTime::now_utc();
    let first = start.unix_timestamp() - 300;
    let records = synthetic::records(
        events,
        |i| first + (i * 300 / events.max(1)) as i64,
        |i| if i % 4 == 3 { "eu-west-1" } else { "us-east-1" },
    );
    let bodies = shape.bodies(&records);
    let channel = "arn:aws:cloudtrail:us-east-1:111122223333:channel/cairn";
    let ingestor = Ingestor::new(&config, &store, "us-east-1", channel);
    let after_ingest = AfterIngest {
        deliverer: Deliverer::new(&config, &store, Some(&signer as &dyn Signer)),
        forwarder: Forwarder::new(&config, &store, &sink),
        notify: Notify::new(&config, &store, &notifier),
        uncounted: &s3,
        config: &config,
    };

    let mut phase = Phase::default();
    let per_round = bodies.len().div_ceil(rounds.max(1));
    for round in bodies.chunks(per_round.max(1)) {
        if shape.queued() {
            ingest_queued(&ingestor, round, &mut phase).await;
        } else {
            for body in round {
                let started = Instant::now();
                let report = ingestor
                    .handle(body, OffsetDateTime::now_utc())
                    .await
                    .expect("ingest");
                assert!(
                    report.answer.failed.is_empty(),
                    "{:?}",
                    report.answer.failed
                );
                phase.lambda.entry("ingest").or_default().add(started);
            }
        }
        after_ingest
            .run(&mut phase, OffsetDateTime::now_utc())
            .await;
    }
    let mut out = phase.print("events", &counter);

    let later = [
        ("hour", start + Duration::hours(1)),
        ("idle", start + Duration::hours(1) + Duration::minutes(5)),
    ];
    for (name, now) in later {
        counter.reset();
        let mut phase = Phase::default();
        after_ingest.run(&mut phase, now).await;
        out.push_str(&phase.print(name, &counter));
    }
    out
}

/// SQS's requests, each 64 KB chunk of a payload billed as one request (Amazon SQS pricing,
/// https://aws.amazon.com/sqs/pricing/).
#[derive(Debug, Default)]
struct QueueRequests {
    send: u64,
    receive: u64,
    delete: u64,
}

/// SQS bills each 64 KB chunk of a request's payload as one request.
const SQS_BILLED_CHUNK_BYTES: usize = 64 * 1024;
/// ReceiveMessage returns, and DeleteMessageBatch deletes, at most 10 messages per request
/// (Amazon SQS API Reference, MaxNumberOfMessages; DeleteMessageBatch).
const SQS_MESSAGES_PER_REQUEST: usize = 10;
/// template.yaml's BatchSize for ingest's queue, the most Lambda allows for a standard queue.
const INGEST_QUEUE_BATCH_SIZE: usize = 10_000;
/// Lambda's invocation payload limit, at which the event source mapping cuts a batch (Lambda
/// API Reference, CreateEventSourceMapping, BatchSize: "up to the payload limit for synchronous
/// invocation (6 MB)").
const LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// A round's bodies as the queue's event source mapping would hand them to ingest: batches of
/// at most [`INGEST_QUEUE_BATCH_SIZE`] messages whose SQS event stays within
/// [`LAMBDA_PAYLOAD_BYTES`]. A message weighs its body as a JSON string plus the rest of an SQS
/// event record (its id, receipt handle, attributes, as in `events/sqs-ingest.json`).
///
/// This assumes the round's events all reach the queue within one batching window (the
/// template's 60 seconds): a producer whose events trickle in pays at least one batch per
/// window holding any, which README's Performance section works out.
fn queue_batches(bodies: &[String]) -> Vec<&[String]> {
    let sample = crate::sample_event("sqs-ingest.json");
    let record = &sample["Records"][0];
    let record_overhead = record.to_string().len()
        - serde_json::to_string(record["body"].as_str().expect("a body"))
            .expect("a string")
            .len();
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, "{\"Records\":[]}".len());
    for (index, body) in bodies.iter().enumerate() {
        let weight = serde_json::to_string(body).expect("a string").len() + record_overhead + 1;
        if index > start
            && (index - start == INGEST_QUEUE_BATCH_SIZE || bytes + weight > LAMBDA_PAYLOAD_BYTES)
        {
            batches.push(&bodies[start..index]);
            (start, bytes) = (index, "{\"Records\":[]}".len());
        }
        bytes += weight;
    }
    if start < bodies.len() {
        batches.push(&bodies[start..]);
    }
    batches
}

/// The requests of `bodies` through ingest's queue: one SendMessage each, and the poller's
/// receives and deletes of up to 10 at a time.
fn queue_requests(bodies: &[String]) -> QueueRequests {
    let chunks = |bytes: usize| bytes.div_ceil(SQS_BILLED_CHUNK_BYTES).max(1) as u64;
    let mut requests = QueueRequests {
        send: bodies.iter().map(|body| chunks(body.len())).sum(),
        ..QueueRequests::default()
    };
    for group in bodies.chunks(SQS_MESSAGES_PER_REQUEST) {
        requests.receive += chunks(group.iter().map(String::len).sum());
        requests.delete += 1;
    }
    requests
}

/// One round of a queued shape: the bodies sent as messages, handed to ingest in batches, one
/// invocation and one staging object per batch.
async fn ingest_queued(ingestor: &Ingestor<'_>, bodies: &[String], phase: &mut Phase) {
    for batch in queue_batches(bodies) {
        let ids: Vec<String> = (0..batch.len()).map(|n| n.to_string()).collect();
        let messages: Vec<QueuedMessage> = ids
            .iter()
            .zip(batch)
            .map(|(id, body)| QueuedMessage { id, body })
            .collect();
        let started = Instant::now();
        let report = ingestor
            .handle_messages(&messages, OffsetDateTime::now_utc())
            .await
            .expect("ingest");
        assert_eq!(report.refused, [], "every message is a good event");
        phase.lambda.entry("ingest").or_default().add(started);
        let requests = queue_requests(batch);
        phase.ingest_queue.send += requests.send;
        phase.ingest_queue.receive += requests.receive;
        phase.ingest_queue.delete += requests.delete;
    }
}

/// The functions that run once events are staged.
struct AfterIngest<'a> {
    deliverer: Deliverer<'a>,
    forwarder: Forwarder<'a>,
    notify: Notify<'a>,
    /// For the driver's own reads, which no function makes.
    uncounted: &'a dyn ObjectStore,
    config: &'a Config,
}

impl AfterIngest<'_> {
    /// One deliver run at `now`, then forward and notify for what it wrote, as the template's
    /// rules would invoke them.
    async fn run(&self, phase: &mut Phase, now: OffsetDateTime) {
        let started = Instant::now();
        let report = self
            .deliverer
            .handle(&Duration::minutes(4), now)
            .await
            .expect("deliver");
        phase.lambda.entry("deliver").or_default().add(started);

        // Every object deliver created in the trail bucket is an Object Created event for forward
        // and a message for notify; the HEADs and listings here are the driver's own, not counted.
        let mut created: Vec<_> = report
            .log_files
            .iter()
            .chain(&report.insight_files)
            .map(|file| (file.bucket.clone(), file.key.clone()))
            .collect();
        created.extend(
            report
                .digests
                .iter()
                .map(|digest| (digest.bucket.clone(), digest.key.clone())),
        );
        for (bucket, key) in &created {
            let info = self
                .uncounted
                .head(bucket, key)
                .await
                .expect("created object");
            phase.trail_bytes += info.size;
            let started = Instant::now();
            self.forwarder
                .handle(&ObjectCreated::new(bucket, key), now)
                .await
                .expect("forward");
            phase.lambda.entry("forward").or_default().add(started);
        }
        phase.eventbridge_events += created.len() as u64;

        let mut items: Vec<_> = created
            .iter()
            .map(|(bucket, key)| item(bucket, key))
            .collect();
        for alert in self
            .uncounted
            .list_all(&self.config.state_bucket, ALERTS_PREFIX)
            .await
            .expect("alerts")
        {
            items.push(item(&self.config.state_bucket, &alert.key));
            phase.eventbridge_events += 1;
        }
        phase.sqs_messages += items.len() as u64;
        for batch in items.chunks(100) {
            let started = Instant::now();
            let report = self.notify.handle(batch, now).await.expect("notify");
            assert_eq!(report.failed().count(), 0, "notify failed");
            phase.lambda.entry("notify").or_default().add(started);
            phase.notify_batches += 1;
        }
        // notify leaves alert objects where they are (their sent markers stop a repeat); only the
        // new ones are the next round's messages.
        for alert in self
            .uncounted
            .list_all(&self.config.state_bucket, ALERTS_PREFIX)
            .await
            .expect("alerts")
        {
            self.uncounted
                .delete(&self.config.state_bucket, &alert.key)
                .await
                .expect("delete alert");
        }
    }
}
