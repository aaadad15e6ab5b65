//! What the benchmarks share: the repository and its real CloudTrail fixtures.

use std::fs;
use std::path::PathBuf;

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Stratus Red Team batch files' text, in a fixed order.
pub(crate) fn stratus_batches() -> Vec<String> {
    let dir = repo().join("tests/fixtures/stratus_red_team_detonation_logs");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| fs::read_to_string(path).expect("read"))
        .collect()
}
