//! Shared by the integration tests under tests/: where the fixtures are and how to reach
//! LocalStack.

pub mod aws_chains;
pub mod cloudtrail_stub;
pub mod cost;
pub mod digests;
pub mod fault_proxy;
pub mod faulty_store;
pub mod forward;
pub mod glue_table;
pub mod notify;
pub mod object_store_contract;
pub mod pipeline;
pub mod sns_queue;
pub mod validation;

/// What `synthetic` needs of the benchmarks' support: the fixture records.
#[path = "../../shared/benches/support/mod.rs"]
pub mod support;
/// The benchmarks' generator of realistic records (copies of the real Stratus records), used
/// by the tests too rather than copied.
#[path = "../../shared/benches/support/synthetic.rs"]
pub mod synthetic;

use std::path::PathBuf;

/// A file of the repository, by its path from the workspace root.
pub fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

/// A sample event of `events/` (what `cargo lambda invoke --data-file` sends), as JSON.
pub fn sample_event(name: &str) -> serde_json::Value {
    let path = repo_file(&format!("events/{name}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The repository's test fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// LocalStack's endpoint when this run requires it.
///
/// `scripts/test.sh` sets `CAIRN_LOCALSTACK` after starting LocalStack; there an unreachable
/// LocalStack fails the test. A plain `cargo test` without it prints that the LocalStack part was
/// not run, so nothing is skipped silently.
pub fn localstack_endpoint(test_name: &str) -> Option<String> {
    match std::env::var("CAIRN_LOCALSTACK") {
        Ok(endpoint) if !endpoint.is_empty() => Some(endpoint),
        _ => {
            eprintln!(
                "NOT RUN: {test_name} needs LocalStack; run scripts/test.sh (it sets CAIRN_LOCALSTACK)"
            );
            None
        }
    }
}

/// LocalStack's SDK configuration when this run requires it (see [`localstack_endpoint`]): the
/// environment's, pinned to LocalStack's endpoint whatever else the environment says, so a test
/// can never reach a real account.
pub async fn localstack_sdk_config(test_name: &str) -> Option<aws_config::SdkConfig> {
    let endpoint = localstack_endpoint(test_name)?;
    Some(
        cairn_shared::adapters::aws::load_sdk_config()
            .await
            .into_builder()
            .endpoint_url(endpoint)
            .build(),
    )
}
