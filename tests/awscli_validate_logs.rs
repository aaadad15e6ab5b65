//! The real `aws cloudtrail validate-logs` against Cairn's digest chains in LocalStack's S3,
//! with a loopback CloudTrail stub answering ListPublicKeys from Cairn's key registry: aws-cli
//! accepts the chains Cairn writes (across a key rotation, and with a log file recompressed),
//! rejects tampering, and `cairn validate-logs` prints what aws-cli prints, except where it is
//! meant to be stricter.
//!
//! aws-cli is found at `CAIRN_AWS_CLI`, by default `.venv-tools/bin/aws` in the workspace (what
//! `scripts/tools.sh install` makes). Without LocalStack the test prints NOT RUN; with
//! LocalStack (`CAIRN_LOCALSTACK`) a missing aws-cli fails it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::adapters::local::PemSigner;
use cairn_shared::config::Config;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::public_keys::{self, PublishedKey};
use cairn_shared::validate::{
    self, CAIRN_MARK, NoProgress, Report, Request, write_report, write_startup,
};
use cairn_test_support::aws_chains;
use cairn_test_support::cloudtrail_stub::{CloudTrailStub, DescribedTrail};
use cairn_test_support::pipeline::{create_buckets, unique_suffix};
use cairn_test_support::validation::{
    HOME_REGION, HOURS, PREFIX, REGIONS, T0, Tamper, alter_listed_hash, bucket, build_chains,
    config, digest, gunzip, gzip, log_files, request, resign, trail_arn,
};
use flate2::Compression;
use time::Duration;
use time::format_description::well_known::Rfc3339;

/// What a validate-logs run printed.
#[derive(Debug)]
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

fn aws_cli() -> PathBuf {
    std::env::var_os("CAIRN_AWS_CLI").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-tools/bin/aws"),
        PathBuf::from,
    )
}

struct AwsCli {
    path: PathBuf,
    s3_endpoint: String,
    cloudtrail_endpoint: String,
    config_dir: tempfile::TempDir,
}

impl AwsCli {
    /// `aws cloudtrail validate-logs --verbose` over the built period, for one Region's chain
    /// (aws-cli validates the Region it is configured for).
    async fn validate_logs(&self, config: &Config, region: &str) -> Run {
        let format = |time: time::OffsetDateTime| time.format(&Rfc3339).expect("time");
        self.run(&[
            "--region",
            region,
            "--trail-arn",
            &trail_arn(config),
            "--s3-bucket",
            &bucket(config),
            "--s3-prefix",
            PREFIX,
            "--start-time",
            &format(T0),
            "--end-time",
            &format(T0 + Duration::hours(HOURS)),
        ])
        .await
    }

    /// `aws cloudtrail validate-logs --verbose` with `args`.
    async fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(&self.path);
        command
            .args(["cloudtrail", "validate-logs", "--verbose"])
            .args(args)
            .env("AWS_ENDPOINT_URL_S3", &self.s3_endpoint)
            .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &self.cloudtrail_endpoint)
            .env("AWS_ENDPOINT_URL_ORGANIZATIONS", &self.cloudtrail_endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_CONFIG_FILE", self.config_dir.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.config_dir.path().join("credentials"),
            )
            .env_remove("AWS_PROFILE");
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("run aws-cli");
        Run {
            success: output.status.success(),
            stdout: String::from_utf8(output.stdout).expect("utf-8"),
            stderr: String::from_utf8(output.stderr).expect("utf-8"),
        }
    }
}

/// What `cairn validate-logs --verbose` prints for one Region's chain.
async fn cairn(store: &dyn ObjectStore, config: &Config, region: &str) -> (Report, Run) {
    let keys = public_keys::load(store, &config.state_bucket)
        .await
        .expect("published keys");
    cairn_with(store, &keys, &request(config, Some(&[region]))).await
}

fn invalid_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.contains("\tINVALID: "))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_cli_accepts_cairns_chains_rejects_tampering_and_cairn_agrees() {
    let Some(endpoint) = cairn_test_support::localstack_endpoint(
        "aws_cli_accepts_cairns_chains_rejects_tampering_and_cairn_agrees",
    ) else {
        return;
    };
    let path = aws_cli();
    assert!(
        path.exists(),
        "aws-cli not found at {} (run scripts/tools.sh install, or set CAIRN_AWS_CLI)",
        path.display()
    );

    let sdk = load_sdk_config()
        .await
        .into_builder()
        .endpoint_url(&endpoint)
        .build();
    let config = config(&unique_suffix());
    create_buckets(&sdk, &config).await;
    let store: Arc<dyn ObjectStore> = Arc::new(S3ObjectStore::from_sdk_config(&sdk));
    let keys = tempfile::tempdir().expect("tempdir");
    let (first, second, attacker) = tokio::join!(
        PemSigner::open_or_create(keys.path().join("first.pem")),
        PemSigner::open_or_create(keys.path().join("second.pem")),
        PemSigner::open_or_create(keys.path().join("attacker.pem")),
    );
    let attacker = attacker.expect("key");
    build_chains(
        store.as_ref(),
        &config,
        &first.expect("key"),
        &second.expect("key"),
    )
    .await;
    let stub = CloudTrailStub::start(Arc::clone(&store), config.state_bucket.clone());
    let aws = AwsCli {
        path,
        s3_endpoint: endpoint,
        cloudtrail_endpoint: stub.endpoint.clone(),
        config_dir: tempfile::tempdir().expect("tempdir"),
    };
    let store = store.as_ref();

    // Cairn's chains, signed by two keys in turn: aws-cli accepts them, and cairn prints the
    // very same thing.
    for region in REGIONS {
        let theirs = aws.validate_logs(&config, region).await;
        let (report, ours) = cairn(store, &config, region).await;
        assert!(
            theirs.success,
            "aws-cli refused {region}'s chain: {theirs:?}"
        );
        assert!(
            theirs
                .stdout
                .contains(&format!("\n{HOURS}/{HOURS} digest files valid\n")),
            "{theirs:?}"
        );
        assert!(report.is_valid());
        assert_eq!(ours.stdout, theirs.stdout, "{region}");
        assert_eq!(ours.stderr, theirs.stderr, "{region}");
    }

    let region = REGIONS[0];
    let hour1 = log_files(store, &config, region, 1).await;

    // A log file recompressed (same bytes): valid for both.
    let mut tamper = Tamper::new(store);
    let original = tamper.get(&hour1[0]).await;
    let recompressed = gzip(&gunzip(&original.body), Compression::best());
    assert_ne!(recompressed, original.body);
    tamper.put(&hour1[0], recompressed, &original).await;
    let theirs = aws.validate_logs(&config, region).await;
    let (_, ours) = cairn(store, &config, region).await;
    assert!(theirs.success && ours.success, "{theirs:?} {ours:?}");
    tamper.undo().await;

    // A log file modified, a digest modified, a digest re-signed with a key never published:
    // both refuse each with the same line and print the same summary.
    let d2 = digest(&config, region, 2);
    let mut tamper = Tamper::new(store);
    tamper
        .put(
            &hour1[0],
            gzip(b"{\"Records\":[]}", Compression::default()),
            &original,
        )
        .await;
    same_refusal(
        &aws,
        store,
        &config,
        &format!("Log file\t{}\tINVALID: hash value doesn't match", hour1[0]),
    )
    .await;
    tamper.undo().await;

    let mut tamper = Tamper::new(store);
    alter_listed_hash(&mut tamper, &d2).await;
    same_refusal(
        &aws,
        store,
        &config,
        &format!("Digest file\t{d2}\tINVALID: signature verification failed"),
    )
    .await;
    tamper.undo().await;

    let mut tamper = Tamper::new(store);
    let fingerprint = resign(&mut tamper, &d2, &attacker).await;
    same_refusal(
        &aws,
        store,
        &config,
        &format!(
            "Digest file\t{d2}\tINVALID: public key not found in region {HOME_REGION} for fingerprint {fingerprint}"
        ),
    )
    .await;
    tamper.undo().await;

    // Two digests deleted in a row: aws-cli names one (aws/aws-cli#7054), cairn both, and the
    // log files no digest vouches for any more.
    let mut tamper = Tamper::new(store);
    let d3 = digest(&config, region, 3);
    tamper.delete(&d2).await;
    tamper.delete(&d3).await;
    let theirs = aws.validate_logs(&config, region).await;
    let (report, ours) = cairn(store, &config, region).await;
    assert!(!theirs.success && !ours.success);
    let not_found = |file: &cairn_shared::validate::Location| {
        format!("Digest file\t{file}\tINVALID: not found")
    };
    assert_eq!(invalid_lines(&theirs.stderr), [not_found(&d3).as_str()]);
    let ours_invalid = invalid_lines(&ours.stderr);
    assert_eq!(
        ours_invalid[..2],
        [
            not_found(&d3).as_str(),
            format!("{CAIRN_MARK}{}", not_found(&d2)).as_str()
        ]
    );
    only_cairn_lines_added(&theirs, &ours);
    assert_eq!(
        ours_invalid.len(),
        2 + report.count(cairn_shared::validate::FileKind::Log, false),
        "{ours_invalid:?}"
    );
    assert!(
        ours_invalid[2..]
            .iter()
            .all(|line| line.ends_with("INVALID: not listed in any digest"))
    );
    tamper.undo().await;

    let theirs = aws.validate_logs(&config, region).await;
    assert!(theirs.success, "{theirs:?}");
}

/// aws-cli and cairn both refuse the chain of the first Region with exactly `line` and print
/// the same summary.
async fn same_refusal(aws: &AwsCli, store: &dyn ObjectStore, config: &Config, line: &str) {
    let region = REGIONS[0];
    let theirs = aws.validate_logs(config, region).await;
    let (_, ours) = cairn(store, config, region).await;
    assert!(!theirs.success && !ours.success, "{theirs:?} {ours:?}");
    assert_eq!(invalid_lines(&theirs.stderr), [line]);
    assert_eq!(invalid_lines(&ours.stderr), [line]);
    assert_eq!(ours.stdout, theirs.stdout);
    only_cairn_lines_added(&theirs, &ours);
}

/// Without the lines marked as Cairn's, cairn printed exactly what aws-cli printed: a diff of
/// the two shows only Cairn's extra findings.
fn only_cairn_lines_added(theirs: &Run, ours: &Run) {
    let without_cairn = |text: &str| -> String {
        text.split_inclusive('\n')
            .filter(|line| !line.starts_with(CAIRN_MARK))
            .collect()
    };
    assert_eq!(without_cairn(&ours.stdout), theirs.stdout, "{ours:?}");
    assert_eq!(without_cairn(&ours.stderr), theirs.stderr, "{ours:?}");
}

/// What `cairn validate-logs --verbose` prints for `request` with `keys`.
async fn cairn_with(
    store: &dyn ObjectStore,
    keys: &[PublishedKey],
    request: &Request,
) -> (Report, Run) {
    let report = validate::validate(store, keys, request, &NoProgress)
        .await
        .expect("validate");
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    write_startup(&mut stdout, &request.trail.arn, request.start, request.end).expect("write");
    write_report(
        &report,
        (request.start, request.end),
        true,
        &mut stdout,
        &mut stderr,
    )
    .expect("write");
    let run = Run {
        success: report.is_valid(),
        stdout: String::from_utf8(stdout).expect("utf-8"),
        stderr: String::from_utf8(stderr).expect("utf-8"),
    };
    (report, run)
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_cli_and_cairn_agree_on_chains_written_as_cloudtrail_writes_them() {
    let Some(endpoint) = cairn_test_support::localstack_endpoint(
        "aws_cli_and_cairn_agree_on_chains_written_as_cloudtrail_writes_them",
    ) else {
        return;
    };
    let path = aws_cli();
    assert!(path.exists(), "aws-cli not found at {}", path.display());
    let sdk = load_sdk_config()
        .await
        .into_builder()
        .endpoint_url(&endpoint)
        .build();
    let config = config(&unique_suffix());
    create_buckets(&sdk, &config).await;
    let store: Arc<dyn ObjectStore> = Arc::new(S3ObjectStore::from_sdk_config(&sdk));
    let bucket = bucket(&config);
    let keys = tempfile::tempdir().expect("tempdir");
    let (first, second) = tokio::join!(
        PemSigner::open_or_create(keys.path().join("first.pem")),
        PemSigner::open_or_create(keys.path().join("second.pem")),
    );
    let built = aws_chains::build(
        store.as_ref(),
        &bucket,
        &config.state_bucket,
        &first.expect("key"),
        &second.expect("key"),
    )
    .await;
    let stub = CloudTrailStub::start_describing(
        Arc::clone(&store),
        config.state_bucket.clone(),
        Some(DescribedTrail {
            arn: aws_chains::trail_arn(),
            name: aws_chains::TRAIL.to_owned(),
            home_region: aws_chains::HOME_REGION.to_owned(),
            bucket: bucket.clone(),
            prefix: aws_chains::PREFIX.to_owned(),
            organization_id: aws_chains::ORGANIZATION.to_owned(),
        }),
    );
    let aws = AwsCli {
        path,
        s3_endpoint: endpoint,
        cloudtrail_endpoint: stub.endpoint.clone(),
        config_dir: tempfile::tempdir().expect("tempdir"),
    };
    let store = store.as_ref();
    let listed = aws_chains::listed_keys(store, &config.state_bucket).await.1;
    let (start, end) = aws_chains::range();
    let (start, end) = (start.to_string(), end.to_string());
    let arn = aws_chains::trail_arn();
    let aws_cli = |account: &'static str, region: &'static str| {
        let (aws, arn, start, end) = (&aws, &arn, &start, &end);
        async move {
            aws.run(&[
                "--region",
                region,
                "--trail-arn",
                arn,
                "--account-id",
                account,
                "--start-time",
                start,
                "--end-time",
                end,
            ])
            .await
        }
    };

    // The organization trail, each account and Region as aws-cli validates it (through
    // DescribeTrails and DescribeOrganization): valid for both, printed the same, the backfill
    // digest included.
    for account in aws_chains::ACCOUNTS {
        for region in aws_chains::REGIONS {
            let theirs = aws_cli(account, region).await;
            let (_, ours) = cairn_with(
                store,
                &listed,
                &aws_chains::request(&bucket, account, Some(&[region])),
            )
            .await;
            assert!(
                theirs.success,
                "aws-cli refused {account} {region}: {theirs:?}"
            );
            assert!(ours.success, "{ours:?}");
            assert_eq!(ours.stdout, theirs.stdout, "{account} {region}");
            assert_eq!(ours.stderr, theirs.stderr, "{account} {region}");
            let backfill = account == aws_chains::ACCOUNTS[0] && region == aws_chains::REGIONS[0];
            assert_eq!(
                theirs.stdout.contains("\n1/1 backfill digest files valid"),
                backfill,
                "{theirs:?}"
            );
        }
    }

    // Two offset digests deleted in a row and the backfill digest modified: aws-cli names one
    // digest and the backfill digest; cairn the same lines, and on lines of its own the other
    // digest and the log files no digest lists any more (the modified backfill digest's own
    // problem is what covers its log file).
    let (account, region) = (aws_chains::ACCOUNTS[0], aws_chains::REGIONS[0]);
    let digest = |k| aws_chains::digest(&bucket, account, region, k);
    let backfill = aws_chains::backfill_digest(&bucket);
    let mut tamper = Tamper::new(store);
    tamper.delete(&digest(2)).await;
    tamper.delete(&digest(3)).await;
    alter_listed_hash(&mut tamper, &backfill).await;
    let theirs = aws_cli(account, region).await;
    let (_, ours) = cairn_with(
        store,
        &listed,
        &aws_chains::request(&bucket, account, Some(&[region])),
    )
    .await;
    assert!(!theirs.success && !ours.success);
    assert_eq!(
        invalid_lines(&theirs.stderr),
        [
            format!("Digest file\t{}\tINVALID: not found", digest(3)),
            format!("(backfill) Digest file\t{backfill}\tINVALID: signature verification failed"),
        ]
    );
    let mut extra: Vec<String> = built
        .logs(account, region, 3)
        .iter()
        .map(|file| format!("{CAIRN_MARK}Log file\t{file}\tINVALID: not listed in any digest"))
        .collect();
    extra.sort();
    extra.insert(
        0,
        format!("{CAIRN_MARK}Digest file\t{}\tINVALID: not found", digest(2)),
    );
    let ours_extra: Vec<&str> = ours
        .stderr
        .lines()
        .filter(|line| line.starts_with(CAIRN_MARK))
        .collect();
    assert_eq!(ours_extra, extra);
    only_cairn_lines_added(&theirs, &ours);
    tamper.undo().await;
}
