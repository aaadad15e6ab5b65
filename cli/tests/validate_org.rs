//! `cairn validate-logs` over an organization trail written as CloudTrail writes it (two
//! accounts, two Regions, offset periods, a backfill digest): `--all-accounts` finds every
//! account by listing and `--all-regions` every Region, one summary per chain and a total;
//! without it or `--account-id`, aws-cli's refusal.

use std::path::Path;
use std::process::{Command, Output};

use cairn_shared::adapters::local::{LocalObjectStore, PemSigner};
use cairn_test_support::aws_chains;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_account_and_region_of_an_organization_trail_in_one_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("store");
    let store = LocalObjectStore::new(root.clone());
    let (bucket, state) = ("aws-chains", "aws-chains-state");
    for name in [bucket, state] {
        store.create_bucket(name).await.expect("bucket");
    }
    let signer = |name: &str| PemSigner::open_or_create(dir.path().join(name));
    let (first, second) = (
        signer("first.pem").await.expect("key"),
        signer("second.pem").await.expect("key"),
    );
    aws_chains::build(&store, bucket, state, &first, &second).await;
    let keys = dir.path().join("keys.json");
    let (listed, _) = aws_chains::listed_keys(&store, state).await;
    std::fs::write(&keys, &listed).expect("keys file");
    let (start, end) = aws_chains::range();
    let run = |more: &[&str]| -> Output {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .current_dir(repo())
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .arg("--store")
            .arg(&root)
            .args(["validate-logs", "--trail-arn", &aws_chains::trail_arn()])
            .args(["--s3-bucket", bucket, "--s3-prefix", aws_chains::PREFIX])
            .args(["--organization-id", aws_chains::ORGANIZATION])
            .arg("--public-keys")
            .arg(&keys)
            .args([
                "--start-time",
                &start.to_string(),
                "--end-time",
                &end.to_string(),
            ])
            .args(more)
            .output()
            .expect("cairn")
    };

    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(255));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "\nMissing required parameter for organization trail: '--account-id'\n"
    );

    let all = run(&["--all-accounts", "--all-regions"]);
    let stdout = String::from_utf8_lossy(&all.stdout);
    assert!(all.status.success(), "{all:?}");
    for account in aws_chains::ACCOUNTS {
        for region in aws_chains::REGIONS {
            let header = format!("cairn: account {account}, Region {region}:\n");
            assert_eq!(stdout.matches(&header).count(), 1, "{stdout}");
        }
    }
    let total = stdout
        .split("cairn: all chains:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no total: {stdout}"));
    let digests = 4 * aws_chains::PERIODS;
    assert!(
        total.contains(&format!("\n{digests}/{digests} digest files valid")),
        "{total}"
    );
    assert!(
        total.contains("\n1/1 backfill digest files valid"),
        "{total}"
    );
    assert_eq!(
        stdout.matches("Results requested for").count(),
        5,
        "{stdout}"
    );
}
