//! The README's main job on the repository's own sample: `cairn.yaml` and the events in
//! `events/` route as the sample trails' selectors say.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cairn_shared::config::Config;
use cairn_shared::record::{Record, split_batch};

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

#[test]
fn sample_events_route_to_the_sample_trails() {
    let config = Config::load(&repo_file("cairn.yaml")).expect("sample config loads");
    let body = std::fs::read_to_string(repo_file("events/ingest-records.json")).expect("sample");
    let mut routed: BTreeMap<(&str, String, String), Vec<String>> = BTreeMap::new();
    for (index, raw) in split_batch(&body).expect("batch").into_iter().enumerate() {
        let record = Record::parse(raw, Some(index)).expect("sample records are valid");
        for trail in &config.trails {
            if let Some(to) = trail.selects(&record, &config.account_id) {
                let what = record
                    .event_name()
                    .or(record.insight_type())
                    .unwrap_or_default()
                    .to_owned();
                routed
                    .entry((trail.name(), to.account_id.to_owned(), to.region.to_owned()))
                    .or_default()
                    .push(what);
            }
        }
    }
    let expected: BTreeMap<(&str, String, String), Vec<String>> = [
        // Management events but KMS's, writes to cairn-example-data, and Insights; IAM's
        // CreateUser is a global service event; the other account's call stays out.
        (("main", "eu-west-1"), vec!["RunInstances", "AssumeRole"]),
        (
            ("main", "us-east-1"),
            vec![
                "DescribeInstances",
                "CreateUser",
                "ConsoleLogin",
                "PutObject",
                "StopLogging",
                "ApiCallRateInsight",
            ],
        ),
        // Writes in eu-west-1 and the billing function's invocations; no global events.
        (("eu-writes", "eu-west-1"), vec!["RunInstances", "Invoke"]),
    ]
    .into_iter()
    .map(|((trail, region), names)| {
        (
            (trail, "123456789012".to_owned(), region.to_owned()),
            names.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    assert_eq!(routed, expected);
}
