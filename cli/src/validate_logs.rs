//! `cairn validate-logs`: `aws cloudtrail validate-logs` over Cairn's digest chains, stricter.

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use cairn_shared::config::Config;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::public_keys;
use cairn_shared::record::EventTime;
use cairn_shared::validate::{self, Progress, Request, TrailArn, write_report, write_startup};
use clap::Args;
use indicatif::ProgressBar;
use time::OffsetDateTime;

use crate::args::parse_timestamp;
use crate::output::files_progress_bar;

/// Validates a trail's log files with its signed digest files, as `aws cloudtrail
/// validate-logs` does, and more strictly.
///
/// Walks each digest chain from the newest digest in the range to the oldest, verifies every
/// digest's signature with the published key its fingerprint names (see `cairn
/// list-public-keys`) and every listed log file's SHA-256, and prints aws-cli's lines: problems
/// on stderr, valid files with --verbose, then the summary. Exits 1 when anything is invalid.
///
/// Beyond aws-cli: every Region's chain is validated (or those given with --region); each
/// link's previousDigestHashValue and previousDigestSignature are checked; every missing hour's
/// digest is reported (aws-cli reports one of a run of deleted digests); log files of the period
/// that no digest lists, log files moved to another key, digests the chain does not link and
/// digests signed by a key not published as valid at their end time are reported.
///
/// The digest files and log files are read from the embedded store (--store DIR, which may be
/// an `aws s3 sync` copy: a folder per bucket) or S3 (--aws); the published keys from the state
/// bucket of cairn.yaml. A synced copy has no S3 metadata, so a digest's signature is taken from
/// the next digest's previousDigestSignature instead (as sound: only the key holder can make a
/// signature that verifies); the newest digest of each chain cannot be verified that way and is
/// reported.
///
/// Example:
///
///   cairn validate-logs --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main \
///     --start-time 2026-11-22T00:00:00Z --verbose
#[derive(Debug, Clone, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ValidateLogsArgs {
    /// The trail: arn:aws:cloudtrail:HOME_REGION:ACCOUNT:trail/NAME.
    #[arg(long, value_name = "ARN")]
    pub trail_arn: String,

    /// Validate log files delivered at or after this time (ISO 8601, e.g.
    /// 2026-11-22T00:00:00Z, or epoch seconds).
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub start_time: OffsetDateTime,

    /// Validate log files delivered at or before this time. Default: now.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub end_time: Option<OffsetDateTime>,

    /// The bucket holding the digest and log files. Default: the trail's bucket in cairn.yaml.
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// The key prefix of the digest and log files. Default: the trail's S3KeyPrefix in
    /// cairn.yaml, unless --s3-bucket is given.
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// The account whose files to validate (a member account of an organization trail).
    /// Default: the trail ARN's account.
    #[arg(long, value_name = "ACCOUNT")]
    pub account_id: Option<String>,

    /// Validate only this Region's chain (repeatable). Default: every Region the trail has
    /// digest files in, which lists all of the account's digest keys once.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,

    /// Also print every valid digest and log file.
    #[arg(long)]
    pub verbose: bool,
}

pub(crate) async fn run(
    args: &ValidateLogsArgs,
    config: &Config,
    store: &dyn ObjectStore,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    let trail_arn = TrailArn::parse(&args.trail_arn)?;
    let configured = config
        .trails
        .iter()
        .find(|trail| trail.arn() == args.trail_arn);
    let (bucket, prefix) = match (&args.s3_bucket, configured) {
        (Some(bucket), _) => (bucket.clone(), args.s3_prefix.clone()),
        (None, Some(trail)) => (
            trail.bucket().to_owned(),
            args.s3_prefix
                .clone()
                .or_else(|| trail.prefix().map(str::to_owned)),
        ),
        (None, None) => {
            return Err(anyhow!(
                "trail {} is not in the configuration; name its bucket with --s3-bucket",
                args.trail_arn
            ));
        }
    };
    let whole_seconds = |time: OffsetDateTime| EventTime::from_unix_seconds(time.unix_timestamp());
    let request = Request {
        account: args
            .account_id
            .clone()
            .unwrap_or_else(|| trail_arn.account.clone()),
        trail: trail_arn,
        bucket,
        prefix,
        organization_id: configured.and_then(|trail| trail.organization_id().map(str::to_owned)),
        regions: (!args.regions.is_empty()).then(|| args.regions.clone()),
        start: whole_seconds(args.start_time),
        end: whole_seconds(args.end_time.unwrap_or(now)),
    };

    let keys = public_keys::load(store, &config.state_bucket).await?;
    if keys.is_empty() {
        eprintln!(
            "cairn: no public keys are published in s3://{}/{}: no digest can be verified",
            config.state_bucket,
            cairn_shared::layout::PUBLIC_KEYS_KEY
        );
    }

    write_startup(
        &mut std::io::stdout().lock(),
        &args.trail_arn,
        request.start,
        request.end,
    )?;
    let bar = Bar::new();
    let report = validate::validate(store, &keys, &request, &bar).await;
    bar.0.finish_and_clear();
    let report = report?;
    write_report(
        &report,
        (request.start, request.end),
        args.verbose,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )?;
    Ok(crate::exit_code(report.is_valid()))
}

/// Files read so far, on stderr while it is a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Self {
        Self(files_progress_bar())
    }
}

impl Progress for Bar {
    fn add_work(&self, files: u64) {
        self.0.inc_length(files);
    }

    fn done(&self, files: u64) {
        self.0.inc(files);
    }
}
