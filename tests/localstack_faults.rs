//! The whole pipeline on LocalStack through a network that fails: every AWS call of ingest,
//! deliver, forward, notify and validate-logs goes through a loopback proxy (tests/support/
//! fault_proxy.rs) that answers a seeded fraction of S3, SNS and CloudWatch Logs calls with
//! throttling (S3's `503 SlowDown`), a `500`, a connection reset or a slow answer. The SDK
//! clients are the production ones ([`load_sdk_config`]), so what rides the faults out is the
//! real retry and timeout configuration; where a call still fails after its attempts, the
//! test repeats the invocation as Lambda's platform would (a Function URL client sending the
//! body again, the next scheduled deliver run, an S3 event redelivered, an SQS message seen
//! again), and counts it.
//!
//! Nothing may be lost or altered: every good event is delivered once, byte-equal, and reaches
//! its CloudWatch Logs stream once; every alert arrives (SNS may deliver a message more than
//! once; copies are counted and reported); the digest chains are valid and validate-logs,
//! itself through the proxy, finds every log file valid. Retries stay bounded: no call makes
//! more than the configured attempts. Each failed attempt is logged exactly once, naming the
//! service and operation retried.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use cairn_shared::adapters::aws::{
    CloudWatchLogsSink, MAX_ATTEMPTS, RETRYABLE_ATTEMPT_MESSAGE, S3ObjectStore, SnsNotifier,
    load_sdk_config,
};
use cairn_shared::delivery::{DeliveredFile, Deliverer};
use cairn_shared::forward::{Forwarder, Outcome};
use cairn_shared::ingest::Ingestor;
use cairn_shared::notify::{Item, MessageKind, Notify};
use cairn_shared::public_keys;
use cairn_shared::record::EventTime;
use cairn_shared::service::Service;
use cairn_shared::trigger::ObjectCreated;
use cairn_shared::validate::{self, NoProgress, Request, TrailArn};
use cairn_test_support::digests::{assert_digest_chains, signer};
use cairn_test_support::fault_proxy::{Fault, FaultProxy, Plan, Tally};
use cairn_test_support::forward::{expected_streams, read_stream, recent_fixture_batches};
use cairn_test_support::notify::{alert_records, config, created_objects, expected_alerts};
use cairn_test_support::pipeline::{
    assert_settled, create_buckets, delivered, expected_deliveries, unique_suffix,
};
use cairn_test_support::sns_queue::{receive_at_least, subscribed_topic};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const NAME: &str = "the_pipeline_loses_nothing_through_a_failing_network";

/// About one S3 and CloudWatch Logs call in eight fails and one in fifty is slow: far worse
/// than the services' normal error rates, so that every retry path runs many times in one run.
/// SNS sees only a handful of publishes, so more than half of them fail, to meet every fault.
const PLAN: Plan = Plan {
    seed: 17,
    services: &[
        (
            "s3",
            [
                (Fault::Throttle, 0.04),
                (Fault::Internal, 0.04),
                (Fault::Reset, 0.04),
                (Fault::Slow, 0.02),
            ],
        ),
        (
            "logs",
            [
                (Fault::Throttle, 0.04),
                (Fault::Internal, 0.04),
                (Fault::Reset, 0.04),
                (Fault::Slow, 0.02),
            ],
        ),
        (
            "sns",
            [
                (Fault::Throttle, 0.2),
                (Fault::Internal, 0.2),
                (Fault::Reset, 0.2),
                (Fault::Slow, 0.1),
            ],
        ),
    ],
    slow: StdDuration::from_millis(100)..StdDuration::from_millis(700),
};

/// The SDK's own default for attempts per call, to show what Cairn's setting saves.
const SDK_DEFAULT_ATTEMPTS: u32 = 3;

/// How often the test repeats an invocation that failed as a whole, as the platform would.
const INVOCATIONS: u32 = 4;

/// How long each deliver run may claim batches.
const CLAIM_FOR: Duration = Duration::minutes(10);

/// The log lines written while the test runs (JSON, one a line), from WARN up.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn install() -> Self {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::WARN)
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        captured
    }

    /// The `fields` of every line whose message is `message`.
    fn lines(&self, message: &str) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .expect("UTF-8 logs")
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON log line"))
            .filter(|line| line["fields"]["message"] == message)
            .map(|line| line["fields"].clone())
            .collect()
    }
}

/// Whole invocations repeated because one failed, per step.
#[derive(Debug, Default)]
struct Repeated(BTreeMap<&'static str, Vec<String>>);

impl Repeated {
    /// Runs `attempt` until it succeeds, at most [`INVOCATIONS`] times, noting each failure.
    async fn until_ok<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
        &mut self,
        step: &'static str,
        mut attempt: impl FnMut(u32) -> F,
    ) -> T {
        for invocation in 0..INVOCATIONS {
            match attempt(invocation).await {
                Ok(value) => return value,
                Err(error) => self.0.entry(step).or_default().push(error.to_string()),
            }
        }
        panic!("{step} failed {INVOCATIONS} times: {:?}", self.0[step]);
    }
}

/// The SDK configuration pointed at `endpoint`, with everything else (retries, timeouts) as
/// production loads it. Without the environment's per-service settings: its `AWS_ENDPOINT_URL`
/// (LocalStack's) would take precedence over the proxy's.
async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    load_sdk_config()
        .await
        .into_builder()
        .endpoint_url(endpoint)
        .service_config(NoServiceSettings)
        .build()
}

/// No per-service setting comes from the environment.
#[derive(Debug)]
struct NoServiceSettings;

impl LoadServiceConfig for NoServiceSettings {
    fn load_config(&self, _key: ServiceConfigKey<'_>) -> Option<String> {
        None
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pipeline_loses_nothing_through_a_failing_network() {
    let Some(direct) = cairn_test_support::localstack_sdk_config(NAME).await else {
        return;
    };
    let logs = Captured::install();
    let endpoint = direct.endpoint_url().expect("LocalStack's endpoint");
    let upstream: SocketAddr = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("LocalStack at host:port");
    let proxy = FaultProxy::start(upstream, PLAN.clone()).await;
    let faulty = sdk_config(&proxy.url()).await;

    // Set-up and checks go to LocalStack directly; only the pipeline goes through the proxy.
    let suffix = unique_suffix();
    let sns = aws_sdk_sns::Client::new(&direct);
    let sqs = aws_sdk_sqs::Client::new(&direct);
    let mut topics = Vec::new();
    for name in ["notices", "alerts"] {
        topics.push(subscribed_topic(&sns, &sqs, &format!("cairn-faults-{name}-{suffix}")).await);
    }
    let config = config(&suffix, &topics[0].0, &topics[1].0);
    create_buckets(&direct, &config).await;
    let checked = S3ObjectStore::from_sdk_config(&direct);
    let store = S3ObjectStore::from_sdk_config(&faulty);
    let sink = CloudWatchLogsSink::new(&faulty);
    let notifier = SnsNotifier::new(&faulty);
    let mut repeated = Repeated::default();

    let mut steps = Vec::new();
    let mut step = Instant::now();
    // Ingest: every fixture body, each sent again by its client until ingest answers.
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("time");
    let batches = recent_fixture_batches(now);
    for (i, (_, body)) in batches.iter().enumerate() {
        let ingestor = Ingestor::new(
            &config,
            &store,
            "us-east-1",
            "arn:aws:cloudtrail:us-east-1:111122223333:channel/faults",
        );
        let at = now + Duration::milliseconds(i as i64);
        let done = repeated
            .until_ok("ingest", |_| ingestor.handle(body, at))
            .await;
        assert!(done.answer.failed.is_empty(), "{:?}", done.answer.failed);
    }

    steps.push(("ingest", step.elapsed()));
    step = Instant::now();

    // Deliver, then the run an hour later that closes the hour's digests. A failed run is
    // followed by the next one after its claim lapsed.
    let signer = signer().await;
    let mut log_files: Vec<DeliveredFile> = Vec::new();
    let digests_cut = now + Duration::hours(1) + Duration::minutes(5);
    for at in [now, digests_cut] {
        let delivery = repeated
            .until_ok("deliver", |run| {
                let deliverer = Deliverer::new(&config, &store, Some(signer));
                let at = at + (CLAIM_FOR + Duration::seconds(1)) * run as i32;
                async move { deliverer.handle(&CLAIM_FOR, at).await }
            })
            .await;
        log_files.extend(delivery.log_files);
    }
    assert!(!log_files.is_empty());

    steps.push(("deliver", step.elapsed()));
    step = Instant::now();

    // Forward every log file; S3 redelivers the event of one whose forward failed.
    let forwarder = Forwarder::new(&config, &store, &sink);
    for file in &log_files {
        let report = repeated
            .until_ok("forward", |_| async {
                forwarder
                    .handle(&ObjectCreated::new(&file.bucket, &file.key), now)
                    .await
            })
            .await;
        assert!(
            matches!(
                report.outcome,
                Outcome::Forwarded | Outcome::AlreadyForwarded
            ),
            "{}: {:?}",
            file.key,
            report.outcome
        );
    }

    steps.push(("forward", step.elapsed()));
    step = Instant::now();

    // Notify about every object created; SQS hands failed items back.
    let mut items: Vec<Item> = created_objects(&config, &checked).await;
    let mut sent = Vec::new();
    for _ in 0..INVOCATIONS {
        if items.is_empty() {
            break;
        }
        let report = Notify::new(&config, &store, &notifier)
            .handle(&items, now)
            .await
            .expect("notify never fails as a whole");
        let failed: BTreeSet<&str> = report.failed().map(|item| item.id.as_str()).collect();
        for item in report.failed() {
            repeated
                .0
                .entry("notify")
                .or_default()
                .push(format!("{}: {:?}", item.id, item.reason));
        }
        items.retain(|item| failed.contains(item.id.as_str()));
        sent.extend(report.sent);
    }
    assert!(
        items.is_empty(),
        "notify items still failing: {:?}",
        repeated.0.get("notify")
    );

    steps.push(("notify", step.elapsed()));
    step = Instant::now();

    // validate-logs, through the proxy too, for every account with a chain.
    let chains = assert_digest_chains(&checked, &config, digests_cut).await;
    let accounts: BTreeSet<String> = chains
        .digests
        .keys()
        .map(|chain| {
            chain
                .split('/')
                .nth(1)
                .expect("trail/account/region")
                .to_owned()
        })
        .collect();
    let everything = &config.trails[0];
    let mut validated = 0;
    for account in &accounts {
        let at = |t: OffsetDateTime| EventTime::from_unix_seconds(t.unix_timestamp());
        let request = Request {
            trail: TrailArn::parse(everything.arn()).expect("arn"),
            bucket: everything.bucket().to_owned(),
            prefix: everything.prefix().map(str::to_owned),
            organization_id: everything.organization_id().map(str::to_owned),
            account: account.clone(),
            regions: None,
            copy_without_metadata: false,
            start: at(now - Duration::hours(1)),
            end: at(now + Duration::hours(2)),
        };
        let report = repeated
            .until_ok("validate-logs", |_| async {
                let keys = public_keys::load(&store, &config.state_bucket).await?;
                validate::validate(&store, &keys, &request, &NoProgress)
                    .await
                    .map_err(Box::<dyn std::error::Error>::from)
            })
            .await;
        let counts = report.counts();
        assert!(counts.is_valid(), "{account}: {counts:?}");
        assert_eq!(counts.unverifiable_digests, 0, "{account}");
        validated += counts.valid_logs;
    }
    let everything_files = log_files
        .iter()
        .filter(|file| file.trail == everything.name())
        .count();
    assert_eq!(validated, everything_files, "every log file validated");

    steps.push(("validate-logs", step.elapsed()));
    step = Instant::now();

    // Nothing lost, nothing delivered twice, nothing altered.
    assert_eq!(
        delivered(&checked, &config).await,
        expected_deliveries(&config, &batches)
    );
    assert_settled(&checked, &config).await;
    let cloudwatch = aws_sdk_cloudwatchlogs::Client::new(&direct);
    let streams = expected_streams(&checked, &config, &log_files).await;
    for ((group, stream), expected) in &streams {
        let mut arrived = read_stream(&cloudwatch, group, stream).await;
        // Forward puts a file's events in eventTime order; files forwarded again after a failure
        // keep their order within the file, which is what CloudWatch Logs shows.
        arrived.sort();
        let mut expected = expected.clone();
        expected.sort();
        assert_eq!(arrived, expected, "{group} {stream}: each event once");
    }

    // SNS: every message notify sent arrived, copies aside.
    let notices_sent = sent
        .iter()
        .filter(|m| m.kind == MessageKind::DeliveryNotice)
        .count();
    let alerts_sent = sent.len() - notices_sent;
    let notices = distinct(receive_at_least(&sqs, &topics[0].1, notices_sent).await);
    let alerts = distinct(receive_at_least(&sqs, &topics[1].1, alerts_sent).await);
    assert_eq!(
        (notices.distinct.len(), alerts.distinct.len()),
        (notices_sent, alerts_sent)
    );
    let mut arrived_alerts: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for envelope in &alerts.distinct {
        let message = envelope["Message"].as_str().expect("Message");
        let group = message
            .lines()
            .find_map(|line| line.strip_prefix("Log group: "))
            .expect("the log group line")
            .to_owned();
        let filter = envelope["MessageAttributes"]["filterName"]["Value"]
            .as_str()
            .expect("filterName")
            .to_owned();
        arrived_alerts
            .entry((group, filter))
            .or_default()
            .extend(alert_records(message));
    }
    assert_eq!(arrived_alerts, expected_alerts(&config, &checked).await);

    steps.push(("checks", step.elapsed()));

    // Retries bounded, and each failed attempt logged once with what was retried.
    let tally = proxy.tally();
    let retried = logs.lines(RETRYABLE_ATTEMPT_MESSAGE);
    report(&tally, &retried, &repeated, &notices, &alerts, &steps);
    for (service, (highest, announced)) in &tally.attempts {
        assert_eq!(
            *announced, MAX_ATTEMPTS,
            "{service}: the SDK's max attempts"
        );
        assert!(*highest <= MAX_ATTEMPTS, "{service}: attempt {highest}");
    }
    assert!(
        tally.invocations.values().all(|n| *n <= MAX_ATTEMPTS),
        "a call made more than {MAX_ATTEMPTS} attempts"
    );
    // The SDK names services by their SDK names, the proxy by their SigV4 signing names.
    for (proxy_name, sdk_name) in [("s3", "S3"), ("sns", "SNS"), ("logs", "CloudWatch Logs")] {
        let logged: Vec<&Value> = retried
            .iter()
            .filter(|line| line["service"] == sdk_name)
            .collect();
        assert_eq!(
            logged.len(),
            tally.failures(proxy_name),
            "{proxy_name}: one log line per failed attempt"
        );
        assert!(
            logged.iter().all(
                |line| line["operation"].as_str().is_some_and(|o| !o.is_empty())
                    && line["attempt"].as_u64().is_some_and(|a| a >= 1)
            ),
            "{logged:?}"
        );
    }
    for (service, _) in PLAN.services {
        let faults = tally.faults(service);
        assert!(
            Fault::ALL.iter().all(|fault| faults.contains_key(fault)),
            "{service}: every fault tried at least once: {faults:?}"
        );
    }
}

/// Envelopes received, and the distinct messages among them (SNS's copies set aside).
struct Received {
    total: usize,
    distinct: Vec<Value>,
}

fn distinct(envelopes: Vec<Value>) -> Received {
    let total = envelopes.len();
    let mut seen = BTreeSet::new();
    let distinct = envelopes
        .into_iter()
        .filter(|envelope| {
            seen.insert((
                envelope["Message"].as_str().unwrap_or_default().to_owned(),
                envelope["Subject"].as_str().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    Received { total, distinct }
}

/// What the run met, for the log of the test run (and the closing note).
fn report(
    tally: &Tally,
    retried: &[Value],
    repeated: &Repeated,
    notices: &Received,
    alerts: &Received,
    steps: &[(&str, StdDuration)],
) {
    eprintln!(
        "fault run (seed {}, slow answers {:?} late):",
        PLAN.seed, PLAN.slow
    );
    for (service, fractions) in PLAN.services {
        eprintln!(
            "  {service} ({fractions:?}): {} requests; injected {:?}; highest attempt/max {:?}",
            tally.requests(service),
            tally.faults(service),
            tally.attempts.get(*service)
        );
    }
    let retried_calls = tally.invocations.values().filter(|n| **n > 1).count();
    let beyond_default = tally
        .invocations
        .values()
        .filter(|n| **n > SDK_DEFAULT_ATTEMPTS)
        .count();
    let most = tally.invocations.values().max().copied().unwrap_or(0);
    eprintln!(
        "  SDK calls retried: {retried_calls} of {}, most attempts for one call: {most}; calls that needed more than the SDK's default {SDK_DEFAULT_ATTEMPTS} attempts: {beyond_default}; failed attempts logged: {}",
        tally.invocations.len(),
        retried.len()
    );
    let mut operations: BTreeMap<String, usize> = BTreeMap::new();
    for line in retried {
        *operations
            .entry(format!("{}.{}", line["service"], line["operation"]).replace('"', ""))
            .or_default() += 1;
    }
    eprintln!("  failed attempts per operation: {operations:?}");
    eprintln!(
        "  invocations repeated as the platform would: {:?}",
        repeated.0
    );
    eprintln!(
        "  SNS: notices {} received, {} distinct; alerts {} received, {} distinct",
        notices.total,
        notices.distinct.len(),
        alerts.total,
        alerts.distinct.len()
    );
    eprintln!("  took {steps:?}");
}
