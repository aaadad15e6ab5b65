//! `cairn test-metric-filter` as a user runs it: the real binary, CIS benchmark metric-filter
//! patterns, and a real CloudTrail record (Stratus Red Team's cloudtrail-stop detonation).

use std::path::Path;
use std::process::{Command, Output};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/stratus_red_team_detonation_logs/aws.defense-evasion.cloudtrail-stop.json"
);

/// CIS "CloudTrail configuration changes".
const TRAIL_CHANGES: &str = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }";
/// CIS "root account usage".
const ROOT_USAGE: &str = "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }";
/// CIS "unauthorized API calls".
const UNAUTHORIZED: &str =
    "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }";

/// Each record of the fixture as one compact JSON line, as CloudWatch Logs receives it.
fn record_messages() -> Vec<String> {
    let text = std::fs::read_to_string(FIXTURE).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
    let batch: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    batch["Records"]
        .as_array()
        .unwrap_or_else(|| panic!("no Records"))
        .iter()
        .map(|record| serde_json::to_string(record).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn cairn(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cairn: {e}"))
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn cis_patterns_on_a_real_stop_logging_record() {
    // No cairn.yaml in the working directory: the command must not need one.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let record = record_messages().remove(0);
    let file = dir.path().join("messages.txt");
    std::fs::write(&file, format!("not an event\n\n{record}\n")).unwrap_or_else(|e| panic!("{e}"));
    let file = file.to_string_lossy();

    let output = cairn(
        &[
            "test-metric-filter",
            "--filter-pattern",
            TRAIL_CHANGES,
            "--log-event-messages-file",
            &file,
        ],
        dir.path(),
    );
    let message = serde_json::to_string(&record).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stdout(&output),
        format!(
            "{{\n    \"matches\": [\n        {{\n            \"eventNumber\": 2,\n            \"eventMessage\": {message},\n            \"extractedValues\": {{}}\n        }}\n    ]\n}}\n"
        )
    );

    for pattern in [ROOT_USAGE, UNAUTHORIZED] {
        let output = cairn(
            &[
                "test-metric-filter",
                "--filter-pattern",
                pattern,
                "--log-event-messages",
                &record,
            ],
            dir.path(),
        );
        assert_eq!(stdout(&output), "{\n    \"matches\": []\n}\n", "{pattern}");
    }
}

#[test]
fn an_invalid_pattern_is_refused_like_aws() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let output = cairn(
        &[
            "test-metric-filter",
            "--filter-pattern",
            "{ $.eventName = StopLogging",
            "--log-event-messages",
            "x",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "cairn: An error occurred (InvalidParameterException) when calling the TestMetricFilter operation: Invalid metric filter pattern at character 0: unterminated JSON pattern (missing '}')\n"
    );
}

/// TestMetricFilter takes 1 to 50 messages of at least 1 character (botocore's
/// `logs/2014-03-28/service-2.json`: TestEventMessages `min` 1 `max` 50, EventMessage `min` 1).
/// aws-cli checks the minimums itself (botocore's parameter validation) and prints its
/// "Parameter validation failed" report; the maximum is the service's, an
/// InvalidParameterException.
#[test]
fn message_counts_and_empty_messages_are_refused_like_aws() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, "\n\n").unwrap_or_else(|e| panic!("{e}"));
    let refused = |args: &[&str]| {
        let mut all = vec!["test-metric-filter", "--filter-pattern", "ERROR"];
        all.extend(args);
        let output = cairn(&all, dir.path());
        assert!(!output.status.success());
        assert!(output.stdout.is_empty());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };

    assert_eq!(
        refused(&["--log-event-messages-file", &blank.to_string_lossy()]),
        "cairn: Parameter validation failed:\nInvalid length for parameter logEventMessages, value: 0, valid min length: 1\n"
    );
    assert_eq!(
        refused(&["--log-event-messages", "ERROR", ""]),
        "cairn: Parameter validation failed:\nInvalid length for parameter logEventMessages[1], value: 0, valid min length: 1\n"
    );

    let many: Vec<String> = (0..51).map(|i| format!("ERROR {i}")).collect();
    let mut args = vec!["--log-event-messages"];
    args.extend(many.iter().map(String::as_str));
    assert_eq!(
        refused(&args),
        format!(
            "cairn: An error occurred (InvalidParameterException) when calling the TestMetricFilter operation: 1 validation error detected: Value '[{}]' at 'logEventMessages' failed to satisfy constraint: Member must have length less than or equal to 50\n",
            many.join(", ")
        )
    );
    args.pop();
    let output = cairn(
        &[
            &["test-metric-filter", "--filter-pattern", "ERROR"],
            &args[..],
        ]
        .concat(),
        dir.path(),
    );
    let printed: serde_json::Value =
        serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("{e}"));
    let numbers: Vec<u64> = printed["matches"]
        .as_array()
        .unwrap_or_else(|| panic!("matches"))
        .iter()
        .filter_map(|found| found["eventNumber"].as_u64())
        .collect();
    assert_eq!(
        numbers,
        (1..=50).collect::<Vec<u64>>(),
        "50 go, numbered from 1"
    );
}
