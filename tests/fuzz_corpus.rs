//! Every fuzz target (fuzz/src/lib.rs, included here) over its seeds, written by fuzz/seeds.py
//! from the real data, and over every input that once crashed it (fuzz/regressions/TARGET/):
//! the ordinary test run catches a regression without a fuzzing build. `scripts/fuzz.sh`
//! fuzzes them for real.

#[allow(unreachable_pub, dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use std::path::Path;
use std::process::Command;

use cairn_test_support::repo_file;

fn inputs(folder: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|entry| entry.expect("a folder entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_takes_its_seeds_and_past_crashes() {
    let seeds = tempfile::tempdir().expect("tempdir");
    let status = Command::new("python3")
        .arg(repo_file("fuzz/seeds.py"))
        .arg(seeds.path())
        .status()
        .expect("python3 runs fuzz/seeds.py");
    assert!(status.success(), "fuzz/seeds.py failed");
    for (target, run) in fuzz::TARGETS {
        let mut files = inputs(&seeds.path().join(target));
        assert!(!files.is_empty(), "{target} has no seeds");
        files.extend(inputs(&repo_file("fuzz/regressions").join(target)));
        for file in files {
            let data = std::fs::read(&file).expect("an input");
            // A panic names the target and the input that made it.
            eprintln!("{target}: {}", file.display());
            run(&data);
        }
    }
}
