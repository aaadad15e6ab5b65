//! `cairn run`, `ingest`, `deliver` and `lookup-events` as a user runs them: the real binary on
//! the repository's sample configuration and events, on the embedded store and (with
//! LocalStack) on S3 through `--aws`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

const NOW: &str = "2026-11-22T10:00:00Z";

fn cairn(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("cannot run cairn: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn samples() -> Vec<String> {
    [
        "ingest-records.json",
        "ingest-eventbridge.json",
        "ingest-audit-events.json",
    ]
    .iter()
    .map(|name| format!("events/{name}"))
    .collect()
}

/// `cairn run` over the samples: what it prints, then the same again (all copies).
fn run_twice(backend: &[&str], envs: &[(&str, &str)]) -> (String, String) {
    let mut args = backend.to_vec();
    args.extend(["--now", NOW, "run"]);
    let files = samples();
    args.extend(files.iter().map(String::as_str));
    let first = cairn(&args, envs);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = cairn(&args, envs);
    assert!(second.status.success(), "{}", text(&second.stderr));
    (text(&first.stdout), text(&second.stdout))
}

fn check_run_output(first: &str, second: &str) {
    // The sample trails: main takes 8 of the batch's records, the EventBridge CreateAccessKey
    // and the two PutAuditEvents events; eu-writes the two eu-west-1 writes.
    assert!(
        first.contains(
            "events/ingest-records.json: 12 events accepted (11 staged for delivery), 0 refused"
        ),
        "{first}"
    );
    assert!(
        first.contains("delivered 14 events in 3 log files"),
        "{first}"
    );
    // The batch's Insights event goes to main's CloudTrail-Insight folder, apart from its
    // 10 log-file events, as CloudTrail delivers Insights events.
    assert!(
        first.contains("trail main: 10 events in 2 log files"),
        "{first}"
    );
    assert!(
        first.contains("trail main: 1 Insights events in 1 Insights files"),
        "{first}"
    );
    assert!(
        first.contains("trail eu-writes: 2 events in 1 log files"),
        "{first}"
    );
    assert!(
        first.contains("s3://cairn-eu-123456789012/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/22/123456789012_CloudTrail_eu-west-1_20261122T1000Z_"),
        "{first}"
    );
    check_nothing_delivered_again(second);
}

/// A second run over the same samples: every event a copy of one delivered.
fn check_nothing_delivered_again(second: &str) {
    assert!(
        second.contains("delivered 0 events in 0 log files"),
        "{second}"
    );
    assert!(
        second.contains("14 copies of delivered events skipped"),
        "{second}"
    );
}

/// The sample records forwarded (the main trail's 10 and its one Insights event, which
/// CloudTrail sends to the log group too), and the CIS pack's two matches among them alerted:
/// the StopLogging and the console sign-in without MFA.
fn check_forwarded_and_alerted(first: &str) {
    assert!(
        first.contains(
            "forwarded 11 events to CloudWatch Logs (0 refused); 2 metric-filter matches"
        ),
        "{first}"
    );
    assert!(
        first.contains("  alert to arn:aws:sns:us-east-1:123456789012:cairn-alerts: Cairn alert: CloudWatch.5-CloudTrailChanges: StopLogging by alice in us-east-1"),
        "{first}"
    );
    assert!(
        first.contains("  alert to arn:aws:sns:us-east-1:123456789012:cairn-alerts: Cairn alert: CloudWatch.3-ConsoleSignInWithoutMFA: ConsoleLogin by bob in us-east-1"),
        "{first}"
    );
}

/// On the embedded store, where the sample's log group and topics are folders: forward puts the
/// main trail's records and writes one alert object (the StopLogging and the console sign-in
/// without MFA matches of the CIS pack), and notify sends an alert for each and the delivery
/// notice; the second run, with nothing delivered, sends nothing.
fn check_forward_and_notify(first: &str, second: &str, store: &str) {
    check_forwarded_and_alerted(first);
    assert!(
        first.contains(": alert at s3://cairn-state-123456789012/alerts/cairn-trail-123456789012/audit/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/"),
        "{first}"
    );
    assert!(
        first.contains(
            "  delivery notice to arn:aws:sns:us-east-1:123456789012:cairn-notices: 2 log files"
        ),
        "{first}"
    );
    assert!(
        first.contains(&format!(
            "sent 1 delivery notices and 2 alerts through SNS (JSON lines in {store}/.cairn-sns); 0 objects not notified"
        )),
        "{first}"
    );
    assert!(
        second.contains("sent 0 delivery notices and 0 alerts through SNS"),
        "{second}"
    );
    let alerts = std::fs::read_to_string(Path::new(store).join(".cairn-sns/cairn-alerts.jsonl"))
        .expect("the alerts topic");
    assert_eq!(alerts.lines().count(), 2, "{alerts}");
}

fn check_lookup(backend: &[&str], envs: &[(&str, &str)]) {
    let mut args = backend.to_vec();
    args.extend([
        "--now",
        NOW,
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=CreateAccessKey",
    ]);
    let output = cairn(&args, envs);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let events = answer["Events"].as_array().expect("Events");
    assert_eq!(events.len(), 1, "{answer}");
    assert_eq!(events[0]["EventId"], "7d2e9a41-0000-4000-9000-000000000101");
    assert_eq!(events[0]["Username"], "bob");
    check_trail_search(backend, envs);
}

/// `--trail main`: the same event found in the trail's log files.
fn check_trail_search(backend: &[&str], envs: &[(&str, &str)]) {
    let mut args = backend.to_vec();
    args.extend([
        "--now",
        NOW,
        "lookup-events",
        "--trail",
        "main",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=CreateAccessKey",
        "--output",
        "records",
    ]);
    let output = cairn(&args, envs);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let record: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(record["eventID"], "7d2e9a41-0000-4000-9000-000000000101");
}

/// Copies the files of `from` under `to`, as `aws s3 sync` copies a bucket: the objects only.
fn sync_copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for entry in std::fs::read_dir(from).expect("folder") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if path.is_dir() {
            sync_copy(&path, &to.join(entry.file_name()));
        } else if path.to_string_lossy().ends_with(".json.gz") {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}

#[test]
fn the_sample_pipeline_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().to_str().expect("utf-8 path");
    let (first, second) = run_twice(&["--store", store], &[]);
    check_run_output(&first, &second);
    check_forward_and_notify(&first, &second, store);
    check_lookup(&["--store", store], &[]);
    // The trail bucket is a plain folder mirror of S3.
    let logs =
        Path::new(store).join("cairn-trail-123456789012/audit/AWSLogs/123456789012/CloudTrail");
    assert!(logs.join("us-east-1/2026/11/22").is_dir());

    // An `aws s3 sync` copy of the trail bucket is searched as the store is.
    let copy = tempfile::tempdir().expect("tempdir");
    let copy_store = copy.path().to_str().expect("utf-8 path");
    sync_copy(
        &Path::new(store).join("cairn-trail-123456789012"),
        &copy.path().join("cairn-trail-123456789012"),
    );
    check_trail_search(&["--store", copy_store], &[]);

    // A damaged log file is named on stderr, the others are still searched, and the exit code
    // says the search was incomplete.
    let damaged = logs.join("us-east-1/2026/11/22/123456789012_CloudTrail_us-east-1_20261122T0000Z_damageddamagedda.json.gz");
    std::fs::write(&damaged, b"not gzip").expect("write");
    let output = cairn(
        &[
            "--store",
            store,
            "--now",
            NOW,
            "lookup-events",
            "--trail",
            "main",
            "--output",
            "records",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("damageddamagedda.json.gz")
            && stderr.contains("1 log files could not be read"),
        "{stderr}"
    );
    assert!(text(&output.stdout).lines().count() > 1);
    let unknown = cairn(
        &["--store", store, "lookup-events", "--trail", "nosuch"],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("unknown trail \"nosuch\""),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn the_sample_pipeline_on_localstack_through_aws() {
    let Ok(endpoint) = std::env::var("CAIRN_LOCALSTACK") else {
        eprintln!(
            "NOT RUN: the_sample_pipeline_on_localstack_through_aws needs LocalStack; run scripts/test.sh"
        );
        return;
    };
    // A fresh copy of the sample configuration with bucket names no other run has used.
    let suffix = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let sample = std::fs::read_to_string(repo().join("cairn.yaml")).expect("cairn.yaml");
    let renamed = sample.replace("123456789012\n", &format!("123456789012-{suffix}\n"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("cairn.yaml");
    std::fs::write(&config, &renamed).expect("write config");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let signing_key = runtime.block_on(async {
        // scripts/test.sh exports LocalStack's credentials and Region; the endpoint is pinned.
        let sdk = cairn_shared::adapters::aws::load_sdk_config()
            .await
            .into_builder()
            .endpoint_url(&endpoint)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        for bucket in ["cairn-state", "cairn-trail", "cairn-eu"] {
            s3.create_bucket()
                .bucket(format!("{bucket}-123456789012-{suffix}"))
                .send()
                .await
                .expect("create bucket");
        }
        // The main trail validates: deliver signs its digests with a KMS key, as in Lambda.
        aws_sdk_kms::Client::new(&sdk)
            .create_key()
            .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
            .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
            .send()
            .await
            .expect("CreateKey")
            .key_metadata()
            .expect("key metadata")
            .key_id()
            .to_owned()
    });
    let envs = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("CAIRN_SIGNING_KEY", signing_key.as_str()),
    ];
    let config = config.to_str().expect("utf-8 path");
    let store = dir.path().join("local");
    let store = store.to_str().expect("utf-8 path");
    let (first, second) = run_twice(&["--config", config, "--aws", "--store", store], &envs);
    check_run_output(&first.replace(&format!("-{suffix}"), ""), &second);
    check_lookup(&["--config", config, "--aws"], &envs);
}

/// The default arguments of `scripts/run-local.sh`, the main job.
fn main_job_arguments() -> Vec<String> {
    let script = std::fs::read_to_string(repo().join("scripts/run-local.sh")).expect("script");
    let line = script
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("set -- "))
        .expect("run-local.sh sets its default arguments with `set -- …`");
    let mut arguments = Vec::new();
    for word in line.split_whitespace() {
        if word == "events/ingest-*.json" {
            arguments.extend(samples());
        } else {
            arguments.push(word.to_owned());
        }
    }
    assert_eq!(
        arguments.len(),
        2 + samples().len(),
        "the glob must name the samples: {line}"
    );
    arguments
}

/// The main job on the clock `now`: every sample forwarded, the sample alerts fired.
fn check_the_main_job_at(now: time::OffsetDateTime) {
    let now = now
        .replace_nanosecond(0)
        .expect("whole seconds")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().to_str().expect("utf-8 path");
    let mut args = vec!["--store", store, "--now", &now];
    let job = main_job_arguments();
    args.extend(job.iter().map(String::as_str));
    let first = cairn(&args, &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let (first, warnings) = (text(&first.stdout), text(&first.stderr));
    assert!(!warnings.contains("not forwarded"), "{warnings}");
    assert!(
        first.contains("delivered 14 events in 3 log files"),
        "{first}"
    );
    check_forwarded_and_alerted(&first);
    // Run twice on the same day, the same records: the second run delivers nothing.
    let second = cairn(&args, &[]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    let second = text(&second.stdout);
    check_nothing_delivered_again(&second);
}

#[test]
fn the_main_job_forwards_every_sample_today() {
    check_the_main_job_at(time::OffsetDateTime::now_utc());
}

#[test]
fn the_main_job_forwards_every_sample_a_year_from_now() {
    check_the_main_job_at(time::OffsetDateTime::now_utc() + time::Duration::days(366));
}
