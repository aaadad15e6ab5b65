//! The README's local loop, end to end: `cargo lambda watch` runs the four functions with the
//! environment pointing at LocalStack, and `cargo lambda invoke NAME --data-file …` feeds them
//! as a developer would: ingest the sample batch, deliver (then deliver again two hours ahead,
//! which cuts the digests of the hours gone by), forward and notify the Object Created events of
//! what deliver wrote. Checked in LocalStack: log files and signed digest files in S3, every
//! record in CloudWatch Logs, and the delivery notices and match alerts SNS sent, received
//! through an SQS subscription.
//!
//! A second test walks a producer's path under the same watch setup: `cairn put-events` to
//! ingest's Function URL, then deliver, and the metrics deliver prints.
//!
//! Needs cargo-lambda (`scripts/tools.sh install` puts it in .venv-tools/bin; `CAIRN_CARGO_LAMBDA`
//! names another) and LocalStack (`CAIRN_LOCALSTACK`, set by scripts/test.sh); without
//! LocalStack it prints NOT RUN. The first invocation of each function builds it (a dev build
//! of that binary in the workspace's target directory), so the first run takes minutes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use aws_config::SdkConfig;
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::config::Config;
use cairn_shared::delivery::DeliveredFile;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::record::EventTime;
use cairn_shared::staging::read_staged;
use cairn_shared::trail::Trail;
use cairn_test_support::forward::{Stream, expected_streams};
use cairn_test_support::pipeline::{create_buckets, unique_suffix};
use cairn_test_support::repo_file;
use cairn_test_support::sns_queue::{create_topic, receive, subscribed_queue};
use flate2::read::GzDecoder;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

const TEST: &str = "the_four_functions_run_under_cargo_lambda_against_localstack";

fn workspace() -> PathBuf {
    repo_file("").canonicalize().expect("workspace root")
}

fn cargo_lambda() -> PathBuf {
    let path = std::env::var_os("CAIRN_CARGO_LAMBDA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv-tools/bin/cargo-lambda"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/tools.sh install (or set CAIRN_CARGO_LAMBDA)",
        path.display()
    );
    path
}

/// `cargo lambda watch`, stopped with everything it started (the `cargo run` of each function
/// and the function itself) when dropped.
struct Watch {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Watch {
    fn start(environment: &[(&str, &str)], log: PathBuf) -> Self {
        // A free port now; the watch binds it a moment later.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let tools = cargo_lambda().parent().expect("bin folder").to_owned();
        let path = std::env::join_paths(std::iter::once(tools).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .expect("PATH");
        let output = File::create(&log).expect("watch log");
        let mut command = Command::new(cargo_lambda());
        // cargo test hands this process the test crate's CARGO_PKG_*, CARGO_MANIFEST_DIR…; build
        // scripts (ring's) rerun when those change, so the functions' build would rebuild half
        // the dependency tree, and the next test build the same half again. The watch gets the
        // environment a shell would give it.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR" {
                command.env_remove(name.as_ref());
            }
        }
        let child = command
            .args(["lambda", "watch", "--ignore-changes"])
            .args(["--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(workspace())
            .env("PATH", path)
            .envs(environment.iter().copied())
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("log"))
            .stderr(output)
            // Its own process group, so the functions it starts are stopped with it.
            .process_group(0)
            .spawn()
            .expect("cargo lambda watch");
        let mut watch = Watch { child, port, log };
        let deadline = Instant::now() + StdDuration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = watch.child.try_wait().expect("wait") {
                panic!(
                    "cargo lambda watch exited ({status}):\n{}",
                    watch.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch did not listen on {port} within 120 s:\n{}",
                watch.log_tail()
            );
            std::thread::sleep(StdDuration::from_millis(200));
        }
        watch
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// `cargo lambda invoke NAME --data-file FILE`: the function's answer.
    fn invoke(&self, function: &str, data_file: &Path) -> Value {
        let output = Command::new(cargo_lambda())
            .args(["lambda", "invoke", function])
            .arg("--data-file")
            .arg(data_file)
            .args(["--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &self.port.to_string()])
            .args(["--output-format", "json"])
            .current_dir(workspace())
            .output()
            .expect("cargo lambda invoke");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "cargo lambda invoke {function} --data-file {} failed ({}):\n{stdout}\n{}\n--- watch:\n{}",
            data_file.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.log_tail()
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{function} answered {stdout:?}, not JSON: {e}"))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let kill = |signal: &str| {
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        kill("-TERM");
        let deadline = Instant::now() + StdDuration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(StdDuration::from_millis(100));
        }
        kill("-KILL");
        let _ = self.child.wait();
    }
}

/// What the test creates in LocalStack, all named with one suffix.
struct Resources {
    config: Config,
    config_yaml: String,
    signing_key: String,
    queue_url: String,
    notice_topic: String,
    alert_topic: String,
}

/// The repository's cairn.yaml with every name it uses made this run's own, and the resources
/// behind those names created: buckets, the trail's log group, the topics (subscribed by one
/// queue) and the signing key. The eu trail's SSE-KMS key is not: LocalStack's CreateKey fails
/// for symmetric keys here, and its S3 takes SSE-KMS puts naming a key it does not have.
async fn create_resources(sdk: &SdkConfig, suffix: &str) -> Resources {
    let sns = aws_sdk_sns::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let kms = aws_sdk_kms::Client::new(sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);

    let notice_topic = create_topic(&sns, &format!("cairn-notices-{suffix}")).await;
    let alert_topic = create_topic(&sns, &format!("cairn-alerts-{suffix}")).await;

    let original = std::fs::read_to_string(workspace().join("cairn.yaml")).expect("cairn.yaml");
    let mut yaml = original.clone();
    for (name, ours) in [
        ("cairn-state-123456789012", format!("cairn-state-{suffix}")),
        ("cairn-trail-123456789012", format!("cairn-trail-{suffix}")),
        ("cairn-eu-123456789012", format!("cairn-eu-{suffix}")),
        ("cairn/cloudtrail", format!("cairn/cloudtrail-{suffix}")),
        ("alias/cairn-logs", format!("alias/cairn-logs-{suffix}")),
        (
            "arn:aws:sns:us-east-1:123456789012:cairn-notices",
            notice_topic.clone(),
        ),
        (
            "arn:aws:sns:us-east-1:123456789012:cairn-alerts",
            alert_topic.clone(),
        ),
    ] {
        assert!(
            yaml.contains(name),
            "cairn.yaml no longer names {name}: update this test"
        );
        yaml = yaml.replace(name, &ours);
    }
    let config = Config::from_yaml(&yaml, "cairn.yaml, renamed for the loop test")
        .expect("the renamed cairn.yaml");
    create_buckets(sdk, &config).await;

    for trail in &config.trails {
        if let Some(group) = trail.cloud_watch_logs_log_group_name() {
            logs.create_log_group()
                .log_group_name(group)
                .send()
                .await
                .expect("CreateLogGroup");
        }
    }
    let signing_key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .description("cairn loop test: the digest signing key")
        .send()
        .await
        .expect("CreateKey (signing)")
        .key_metadata()
        .expect("metadata")
        .arn()
        .expect("key ARN")
        .to_owned();

    let queue_url = subscribed_queue(
        &sns,
        &sqs,
        &format!("cairn-loop-{suffix}"),
        &[&notice_topic, &alert_topic],
    )
    .await;
    Resources {
        config,
        config_yaml: yaml,
        signing_key,
        queue_url,
        notice_topic,
        alert_topic,
    }
}

/// The SDK's configuration from the environment, pointed at LocalStack.
async fn localstack_sdk(endpoint: &str) -> SdkConfig {
    load_sdk_config()
        .await
        .into_builder()
        .endpoint_url(endpoint)
        .build()
}

/// `cargo lambda watch` running the functions against `resources`: their cairn.yaml written
/// into `folder` (the watch's log goes there too), the AWS environment pointed at LocalStack.
fn watch_over(resources: &Resources, endpoint: &str, folder: &Path) -> Watch {
    let config_path = folder.join("cairn.yaml");
    std::fs::write(&config_path, &resources.config_yaml).expect("write cairn.yaml");
    let config_path = config_path.to_str().expect("UTF-8 path").to_owned();
    Watch::start(
        &[
            ("CAIRN_CONFIG", &config_path),
            ("CAIRN_SIGNING_KEY", &resources.signing_key),
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
        folder.join("watch.log"),
    )
}

/// events/ingest-records.json with its records moved to the past half hour, in the same order
/// and spacing: CloudWatch Logs takes events of the past 14 days only.
fn recent_sample_batch(now: OffsetDateTime) -> (String, usize) {
    let text = std::fs::read_to_string(workspace().join("events/ingest-records.json"))
        .expect("events/ingest-records.json");
    let mut batch: Value = serde_json::from_str(&text).expect("the sample is JSON");
    let records = batch["Records"].as_array_mut().expect("Records");
    let time_of = |record: &Value| {
        EventTime::parse(record["eventTime"].as_str().expect("eventTime"))
            .expect("eventTime")
            .unix_seconds()
    };
    let newest = records.iter().map(time_of).max().expect("records");
    let shift = (now - Duration::minutes(30)).unix_timestamp() - newest;
    for record in records.iter_mut() {
        record["eventTime"] = EventTime::from_unix_seconds(time_of(record) + shift)
            .to_string()
            .into();
    }
    let count = records.len();
    (batch.to_string(), count)
}

/// events/schedule.json at `time`.
fn schedule_at(time: OffsetDateTime) -> Value {
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("events/schedule.json")).expect("schedule"),
    )
    .expect("JSON");
    event["time"] = EventTime::from_unix_seconds(time.unix_timestamp())
        .to_string()
        .into();
    event
}

/// events/s3-object-created.json for s3://`bucket`/`key`.
fn object_created(bucket: &str, key: &str, size: u64) -> Value {
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("events/s3-object-created.json"))
            .expect("object created"),
    )
    .expect("JSON");
    event["resources"] = json!([format!("arn:aws:s3:::{bucket}")]);
    event["detail"]["bucket"]["name"] = bucket.into();
    event["detail"]["object"]["key"] = key.into();
    event["detail"]["object"]["size"] = size.into();
    event
}

fn write_event(folder: &Path, name: &str, event: &Value) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(event).expect("JSON")).expect("write event");
    path
}

fn gunzip(body: &[u8]) -> String {
    let mut text = String::new();
    GzDecoder::new(body)
        .read_to_string(&mut text)
        .expect("gzip");
    text
}

/// An object deliver wrote, and the trail it wrote it for.
struct Written<'c> {
    trail: &'c Trail,
    key: String,
    size: u64,
}

impl Written<'_> {
    fn bucket(&self) -> &str {
        self.trail.bucket()
    }
}

/// Every object under the trails' `{prefix/}AWSLogs/` whose key has `/{kind}/` in it.
async fn trail_objects<'c>(
    store: &S3ObjectStore,
    config: &'c Config,
    kind: &str,
) -> Vec<Written<'c>> {
    let mut found = Vec::new();
    for trail in &config.trails {
        let root = match trail.prefix() {
            Some(prefix) => format!("{prefix}/AWSLogs/"),
            None => "AWSLogs/".to_owned(),
        };
        for entry in store.list_all(trail.bucket(), &root).await.expect("list") {
            if entry.key.contains(&format!("/{kind}/")) {
                found.push(Written {
                    trail,
                    key: entry.key,
                    size: entry.size,
                });
            }
        }
    }
    found
}

/// Every event of a log group, by stream, each stream's as (timestamp, message) sorted.
async fn log_group_events(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
) -> BTreeMap<Stream, Vec<(i64, String)>> {
    let mut streams: BTreeMap<Stream, Vec<(i64, String)>> = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name(group)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("FilterLogEvents");
        for event in page.events() {
            streams
                .entry((
                    group.to_owned(),
                    event.log_stream_name().expect("stream").to_owned(),
                ))
                .or_default()
                .push((
                    event.timestamp().expect("timestamp"),
                    event.message().expect("message").to_owned(),
                ));
        }
        match page.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    for events in streams.values_mut() {
        events.sort();
    }
    streams
}

#[tokio::test(flavor = "multi_thread")]
async fn the_four_functions_run_under_cargo_lambda_against_localstack() {
    let Some(endpoint) = cairn_test_support::localstack_endpoint(TEST) else {
        return;
    };
    let sdk = localstack_sdk(&endpoint).await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let suffix = unique_suffix();
    let resources = create_resources(&sdk, &suffix).await;
    let config = &resources.config;

    let folder = tempfile::tempdir().expect("temp dir");
    let watch = watch_over(&resources, &endpoint, folder.path());

    // ingest: the sample batch, every event accepted.
    let now = OffsetDateTime::now_utc();
    let (batch, records) = recent_sample_batch(now);
    let batch_file = folder.path().join("ingest-records.json");
    std::fs::write(&batch_file, batch).expect("write batch");
    let answer = watch.invoke("ingest", &batch_file);
    assert_eq!(answer["failed"], json!([]), "{answer}");
    assert_eq!(
        answer["successful"].as_array().map(Vec::len),
        Some(records),
        "{answer}"
    );

    // deliver: the sample schedule event (its time is past, so the real clock rules).
    let report = watch.invoke("deliver", &workspace().join("events/schedule.json"));
    let reported: BTreeSet<String> = report["logFiles"]
        .as_array()
        .expect("logFiles")
        .iter()
        .map(|file| file["key"].as_str().expect("key").to_owned())
        .collect();
    let log_files = trail_objects(&store, config, "CloudTrail").await;
    assert!(!log_files.is_empty(), "deliver wrote no log file: {report}");
    assert_eq!(
        log_files
            .iter()
            .map(|file| file.key.clone())
            .collect::<BTreeSet<_>>(),
        reported,
        "the log files in S3 are the ones deliver reported"
    );
    assert!(report["events"].as_u64() > Some(0), "{report}");

    // forward: an Object Created event for each log file, as EventBridge would send it.
    let mut forwarded = Vec::new();
    let mut alerts = Vec::new();
    for (i, file) in log_files.iter().enumerate() {
        let event = write_event(
            folder.path(),
            &format!("forward-{i}.json"),
            &object_created(file.bucket(), &file.key, file.size),
        );
        let report = watch.invoke("forward", &event);
        if let Some(alert) = report["alert"].as_str() {
            alerts.push(alert.to_owned());
        }
        if file.trail.cloud_watch_logs_log_group_name().is_some() {
            assert_eq!(report["outcome"], "forwarded", "{}: {report}", file.key);
            forwarded.push(DeliveredFile {
                trail: file.trail.name().to_owned(),
                bucket: file.bucket().to_owned(),
                key: file.key.clone(),
                records: report["forwarded"].as_u64().expect("forwarded") as usize,
            });
        }
    }
    assert!(
        !forwarded.is_empty(),
        "no log file of a trail with a log group"
    );
    let expected = expected_streams(&store, config, &forwarded).await;
    let mut arrived = BTreeMap::new();
    let groups: BTreeSet<&String> = expected.keys().map(|(group, _)| group).collect();
    for group in groups {
        arrived.extend(log_group_events(&logs, group).await);
    }
    let mut expected = expected;
    for events in expected.values_mut() {
        events.sort();
    }
    assert_eq!(arrived, expected, "CloudWatch Logs holds every record once");
    assert!(
        !alerts.is_empty(),
        "the sample's StopLogging matches CloudWatch.5-CloudTrailChanges"
    );

    // deliver again, two hours ahead: the hours gone by get their digest files, which list
    // every log file of the trails that validate.
    let event = write_event(
        folder.path(),
        "schedule-ahead.json",
        &schedule_at(now + Duration::hours(2)),
    );
    watch.invoke("deliver", &event);
    let digests = trail_objects(&store, config, "CloudTrail-Digest").await;
    let mut listed: Vec<String> = Vec::new();
    for digest in &digests {
        let key = &digest.key;
        let object = store.get(digest.bucket(), key).await.expect("digest");
        assert_eq!(
            object
                .info
                .metadata
                .get("signature-algorithm")
                .map(String::as_str),
            Some("SHA256withRSA"),
            "{key}"
        );
        assert!(
            object
                .info
                .metadata
                .get("signature")
                .is_some_and(|s| s.len() == 512 && s.bytes().all(|b| b.is_ascii_hexdigit())),
            "{key}: {:?}",
            object.info.metadata
        );
        let digest: Value = serde_json::from_str(&gunzip(&object.body)).expect("digest JSON");
        assert_eq!(digest["digestS3Object"], key.as_str());
        for file in digest["logFiles"].as_array().expect("logFiles") {
            listed.push(file["s3Object"].as_str().expect("s3Object").to_owned());
        }
    }
    listed.sort();
    let mut validated: Vec<String> = log_files
        .iter()
        .filter(|file| file.trail.log_file_validation())
        .map(|file| file.key.clone())
        .collect();
    validated.sort();
    assert!(!validated.is_empty());
    assert_eq!(listed, validated, "each log file in exactly one digest");
    store
        .get(&config.state_bucket, "public-keys.json")
        .await
        .expect("the public-key registry");

    // notify: the same Object Created events for the log files, and one for each alert object.
    let mut events = Vec::new();
    for file in &log_files {
        events.push(object_created(file.bucket(), &file.key, file.size));
    }
    for key in &alerts {
        let size = store
            .head(&config.state_bucket, key)
            .await
            .expect("alert object")
            .size;
        events.push(object_created(&config.state_bucket, key, size));
    }
    for (i, event) in events.iter().enumerate() {
        let event = write_event(folder.path(), &format!("notify-{i}.json"), event);
        watch.invoke("notify", &event);
    }

    // One notice per log file of a trail with a topic, exactly as CloudTrail words it.
    let mut want_notices: BTreeSet<String> = BTreeSet::new();
    for file in log_files
        .iter()
        .filter(|f| f.trail.sns_topic_arn().is_some())
    {
        want_notices
            .insert(json!({"s3Bucket": file.bucket(), "s3ObjectKey": [file.key]}).to_string());
    }
    assert!(!want_notices.is_empty());
    // Every filter that matched, with the events it matched, must be in an alert message; notify
    // sends at least one message per alert object and filter.
    let mut want_alerts: BTreeSet<(String, String)> = BTreeSet::new();
    let mut alert_filters: BTreeSet<(String, String)> = BTreeSet::new();
    for key in &alerts {
        let object = store.get(&config.state_bucket, key).await.expect("alert");
        let alert: Value = serde_json::from_slice(&object.body).expect("alert JSON");
        for found in alert["matches"].as_array().expect("matches") {
            let filter = found["filterName"].as_str().expect("filterName");
            alert_filters.insert((key.clone(), filter.to_owned()));
            want_alerts.insert((
                filter.to_owned(),
                found["event"]["eventName"]
                    .as_str()
                    .expect("eventName")
                    .to_owned(),
            ));
        }
    }
    let messages = receive(
        &sqs,
        &resources.queue_url,
        want_notices.len() + alert_filters.len(),
    )
    .await;
    let mut notices = BTreeSet::new();
    let mut alert_messages = Vec::new();
    for envelope in &messages {
        let text = envelope["Message"].as_str().expect("Message").to_owned();
        match envelope["TopicArn"].as_str() {
            Some(topic) if topic == resources.notice_topic => {
                let notice: Value = serde_json::from_str(&text).expect("a notice is JSON");
                notices.insert(notice.to_string());
            }
            Some(topic) if topic == resources.alert_topic => alert_messages.push(text),
            other => panic!("a message from {other:?}"),
        }
    }
    assert_eq!(notices, want_notices, "delivery notices");
    for (filter, event_name) in &want_alerts {
        assert!(
            alert_messages
                .iter()
                .any(|text| text.contains(filter.as_str()) && text.contains(event_name.as_str())),
            "no alert message names {filter} and {event_name}: {alert_messages:#?}"
        );
    }
    drop(watch);
}

const PUT_EVENTS_TEST: &str =
    "cairn_put_events_feeds_ingest_under_cargo_lambda_and_deliver_delivers";

/// The `cairn` command beside this test's binary (`target/debug/cairn`, which `cargo test
/// --workspace` builds for the CLI's own tests; `cargo build -p cairn-cli` when this test runs
/// alone), or the one `CAIRN_BIN` names.
fn cairn_command() -> PathBuf {
    let path = std::env::var_os("CAIRN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let test = std::env::current_exe().expect("the test binary");
            let profile = test.parent().and_then(Path::parent).expect("target/debug");
            profile.join("cairn")
        });
    assert!(
        path.is_file(),
        "{} is missing: cargo build -p cairn-cli (or set CAIRN_BIN)",
        path.display()
    );
    path
}

/// Every staged event of the state bucket's `staging/`, as (dedup key, record JSON) in order.
async fn staged_events(store: &dyn ObjectStore, state_bucket: &str) -> Vec<(String, String)> {
    let mut events = Vec::new();
    for entry in store
        .list_all(state_bucket, cairn_shared::layout::STAGING_PREFIX)
        .await
        .expect("list staging/")
    {
        let object = store.get(state_bucket, &entry.key).await.expect("staged");
        for event in read_staged(&entry.key, &object.body).expect("a staging object") {
            events.push((event.dedup_key.to_string(), event.record.to_owned()));
        }
    }
    events.sort();
    events
}

/// A staged record without what depends on the moment ingest took it: a CloudTrail Lake
/// record's `metadata.ingestionTime`. Any other record is its bytes, as staged.
fn timeless(record: &str) -> String {
    let mut value: Value = serde_json::from_str(record).expect("a staged record");
    let ingestion_time = value
        .get_mut("metadata")
        .and_then(|metadata| metadata.as_object_mut())
        .and_then(|metadata| metadata.remove("ingestionTime"));
    match ingestion_time {
        Some(_) => value.to_string(),
        None => record.to_owned(),
    }
}

/// The producer's path: `cairn put-events --no-sign` sends the sample bodies (a Records batch,
/// an EventBridge event, a PutAuditEvents body) to ingest's Function URL as `cargo lambda
/// watch` serves it; ingest stages exactly what the same bodies stage in-process (byte for
/// byte; a Lake record's ingestion time aside), and deliver delivers every staged event and
/// prints its metrics, one EMF line per trail.
#[tokio::test(flavor = "multi_thread")]
async fn cairn_put_events_feeds_ingest_under_cargo_lambda_and_deliver_delivers() {
    use cairn_shared::adapters::local::LocalObjectStore;
    use cairn_shared::emf::cairn::{CairnMetric, NAMESPACE, TRAIL_DIMENSION};
    use cairn_shared::ingest::Ingestor;
    use cairn_shared::service::Service;

    let Some(endpoint) = cairn_test_support::localstack_endpoint(PUT_EVENTS_TEST) else {
        return;
    };
    let cairn = cairn_command();
    let sdk = localstack_sdk(&endpoint).await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let resources = create_resources(&sdk, &unique_suffix()).await;
    let config = &resources.config;
    let folder = tempfile::tempdir().expect("temp dir");
    let watch = watch_over(&resources, &endpoint, folder.path());

    let samples = [
        "events/ingest-records.json",
        "events/ingest-eventbridge.json",
        "events/ingest-audit-events.json",
    ];
    // The first invocation starts ingest (building it when the other test has not): through
    // `cargo lambda invoke`, which waits for that, with a batch that stages nothing.
    let empty = write_event(folder.path(), "empty.json", &json!({"Records": []}));
    let answer = watch.invoke("ingest", &empty);
    assert_eq!(answer, json!({"successful": [], "failed": []}));

    let url = format!("http://127.0.0.1:{}/lambda-url/ingest/", watch.port);
    let output = Command::new(&cairn)
        .args(["put-events", "--no-sign", "--url", &url])
        .args(samples.iter().map(|sample| workspace().join(sample)))
        .stdin(Stdio::null())
        .output()
        .expect("cairn put-events");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cairn put-events failed ({}):\n{stdout}\n{}\n--- watch:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        watch.log_tail()
    );
    assert!(
        stdout.contains("in 3 requests") && stdout.contains(", 0 refused"),
        "{stdout}"
    );

    // The same bodies, staged in-process by the same code with the same configuration.
    let local_dir = tempfile::tempdir().expect("temp dir");
    let local = LocalObjectStore::new(local_dir.path().to_path_buf());
    local
        .create_bucket(&config.state_bucket)
        .await
        .expect("the state bucket");
    let channel = format!(
        "arn:aws:cloudtrail:us-east-1:{}:channel/cairn",
        config.account_id
    );
    let ingestor = Ingestor::new(config, &local, "us-east-1", &channel);
    for sample in samples {
        let body = std::fs::read_to_string(workspace().join(sample)).expect("sample");
        let report = ingestor
            .handle(&body, OffsetDateTime::now_utc())
            .await
            .expect("ingest in-process");
        assert!(report.answer.failed.is_empty(), "{sample}");
    }
    let expected = staged_events(&local, &config.state_bucket).await;
    let staged = staged_events(&store, &config.state_bucket).await;
    assert!(expected.len() > 10, "{expected:?}");
    let timeless_all = |events: &[(String, String)]| -> Vec<(String, String)> {
        events
            .iter()
            .map(|(key, record)| (key.clone(), timeless(record)))
            .collect()
    };
    assert_eq!(
        timeless_all(&staged),
        timeless_all(&expected),
        "what ingest staged from cairn put-events"
    );

    // deliver: every staged event, and one EMF line per trail on the function's stdout.
    let report = watch.invoke("deliver", &workspace().join("events/schedule.json"));
    assert_eq!(
        report["events"].as_u64(),
        Some(staged.len() as u64),
        "{report}"
    );
    assert!(staged_events(&store, &config.state_bucket).await.is_empty());
    let mut per_trail: BTreeMap<String, u64> = BTreeMap::new();
    for file in report["logFiles"].as_array().expect("logFiles") {
        *per_trail
            .entry(file["trail"].as_str().expect("trail").to_owned())
            .or_default() += file["records"].as_u64().expect("records");
    }
    assert!(!per_trail.is_empty(), "{report}");
    let log = std::fs::read_to_string(&watch.log).expect("the watch log");
    let printed: BTreeMap<String, Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .filter(|line| line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE)
        .filter(|line| line[CairnMetric::EventsDelivered.name()].is_number())
        .map(|line| {
            let trail = line[TRAIL_DIMENSION].as_str().expect("Trail").to_owned();
            (trail, line)
        })
        .collect();
    assert_eq!(
        printed.keys().collect::<Vec<_>>(),
        per_trail.keys().collect::<Vec<_>>(),
        "deliver printed one EMF line per trail:\n{}",
        watch.log_tail()
    );
    for (trail, records) in &per_trail {
        let line = &printed[trail];
        assert_eq!(
            line[CairnMetric::EventsDelivered.name()].as_u64(),
            Some(*records),
            "{line}"
        );
        assert!(
            line[CairnMetric::DeliveryLag.name()]
                .as_u64()
                .is_some_and(|lag| lag < 600),
            "{line}"
        );
    }
    drop(watch);
}
