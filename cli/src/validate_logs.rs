//! `cairn validate-logs`: `aws cloudtrail validate-logs` over Cairn's digest chains, stricter.

use std::process::ExitCode;

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use cairn_shared::adapters::aws::{CloudTrailKeys, load_sdk_config};
use cairn_shared::config::Config;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::public_keys::{self, PublishedKey};
use cairn_shared::record::EventTime;
use cairn_shared::validate::{
    self, CAIRN_MARK, Counts, Progress, Report, Request, TrailArn, ValidateError, write_report,
    write_startup, write_summary,
};
use clap::Args;
use futures::{StreamExt, stream};
use indicatif::ProgressBar;
use time::OffsetDateTime;

use crate::args::parse_timestamp;
use crate::output::files_progress_bar;

/// Validates a trail's log files with its signed digest files, as `aws cloudtrail
/// validate-logs` does, and more strictly.
///
/// Walks each digest chain from the newest digest in the range to the oldest, then the chain of
/// backfill digests, verifies every digest's signature with the public key its fingerprint
/// names and every listed log file's SHA-256, and prints aws-cli's lines: problems on stderr,
/// valid files with --verbose, then the summary. Exits 1 when anything is invalid. Chains are
/// read as CloudTrail writes them (periods at any offset from the hour, backfill digests,
/// fields added later, organization trails) as well as Cairn's.
///
/// Beyond aws-cli, on stderr lines starting `cairn: ` (so a diff against aws-cli's output shows
/// only them) and counted apart after the summary: each link's previousDigestHashValue and
/// previousDigestSignature; every missing period's digest (aws-cli reports one of a run of
/// deleted digests); log files of the period that no digest lists, log files moved to another
/// key, digests the chain does not link and digests signed by a key not valid at their end
/// time; and what Cairn knows beyond aws-cli's verdict (where a moved digest belongs, why a
/// format is invalid).
///
/// The files are read from the embedded store or a folder (--store DIR: an `aws s3 sync` copy
/// with a folder per bucket, or a `cairn sync` bundle) or S3 (--aws). The public keys come from
/// --public-keys FILE (what `aws cloudtrail list-public-keys` prints, CLI v1 or v2), else from
/// the key registry in the state bucket of cairn.yaml. A synced copy has no S3 metadata, so a
/// digest's signature is taken from the next digest's previousDigestSignature instead (as
/// sound: only the key holder can make a signature that verifies); the newest digest of each
/// chain cannot be verified that way: it is reported UNVERIFIABLE and counted apart, and does
/// not fail the run. A `cairn sync` bundle keeps the signatures: everything verifies.
///
/// As aws-cli, it validates the chains of one Region: --region, else AWS_REGION or
/// AWS_DEFAULT_REGION, else the trail's home Region; --all-regions takes every Region the trail
/// has digests in. An organization trail needs --account-id (repeatable), as with aws-cli, or
/// --all-accounts (Cairn's extension): every account with a folder under the trail's
/// AWSLogs/ORGANIZATION_ID/, found by listing. Several accounts or Regions are validated in one
/// run, chains in parallel, with one summary per chain (account and Region) and a total.
///
/// Example:
///
///   cairn validate-logs --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main \
///     --start-time 2026-11-22T00:00:00Z --verbose
#[derive(Debug, Clone, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ValidateLogsArgs {
    #[command(flatten)]
    pub scope: TrailScope,

    /// `text`: aws-cli's lines and summary. `json`: one JSON report on stdout, for CI: the
    /// counts and problems of each account and the total.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Also print every valid digest and log file.
    #[arg(long)]
    pub verbose: bool,
}

/// Which trail's files, where, and which keys verify them: what validate-logs and sync share.
#[derive(Debug, Clone, Args)]
pub(crate) struct TrailScope {
    /// The trail: arn:aws:cloudtrail:HOME_REGION:ACCOUNT:trail/NAME.
    #[arg(long, value_name = "ARN")]
    pub trail_arn: String,

    /// Log files delivered at or after this time (ISO 8601, e.g. 2026-11-22T00:00:00Z, or
    /// epoch seconds).
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub start_time: OffsetDateTime,

    /// Log files delivered at or before this time. Default: now.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub end_time: Option<OffsetDateTime>,

    /// The bucket holding the digest and log files. Default: the trail's bucket in cairn.yaml.
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// The key prefix of the digest and log files. Default: the trail's S3KeyPrefix in
    /// cairn.yaml, unless --s3-bucket is given.
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// The account whose files to take (a member account of an organization trail;
    /// repeatable). Default: the trail ARN's account, for a trail that is not an organization's.
    #[arg(long = "account-id", value_name = "ACCOUNT")]
    pub account_ids: Vec<String>,

    /// Cairn's extension, for an organization trail: every account with a folder under its
    /// AWSLogs/ORGANIZATION_ID/, found by listing, instead of naming each with --account-id.
    #[arg(long, conflicts_with = "account_ids")]
    pub all_accounts: bool,

    /// The organization of an organization trail that is not in cairn.yaml (its files are
    /// under AWSLogs/ORGANIZATION_ID/ACCOUNT/).
    #[arg(long, value_name = "ORGANIZATION_ID")]
    pub organization_id: Option<String>,

    /// Only this Region's chains (repeatable). Default: AWS_REGION, else AWS_DEFAULT_REGION,
    /// else the trail's home Region, as aws-cli.
    #[arg(long = "region", value_name = "REGION", conflicts_with = "all_regions")]
    pub regions: Vec<String>,

    /// The chains of every Region the trail has digest files in.
    #[arg(long)]
    pub all_regions: bool,

    /// The public keys, as `aws cloudtrail list-public-keys --start-time … --output json`
    /// prints them (AWS CLI v1 or v2). Default: the key registry in the state bucket for a
    /// trail of cairn.yaml; with --aws, CloudTrail's ListPublicKeys for any other trail, as
    /// aws-cli asks it (the range and two hours past it).
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,
}

/// A [`TrailScope`] worked out: one request per account, and the keys.
pub(crate) struct Scope {
    pub requests: Vec<Request>,
    pub keys: Vec<PublishedKey>,
    pub start: EventTime,
    pub end: EventTime,
}

impl TrailScope {
    /// The requests and keys, or the exit of aws-cli's error when aws-cli would refuse to start
    /// (after printing it).
    pub(crate) async fn resolve(
        &self,
        config: &Config,
        store: &dyn ObjectStore,
        aws: bool,
        now: OffsetDateTime,
    ) -> Result<Result<Scope, ExitCode>> {
        let trail_arn = match TrailArn::parse(&self.trail_arn) {
            Ok(arn) => arn,
            // aws-cli's words (validation.py line 95).
            Err(_) => {
                return Ok(Err(aws_cli_error(format!(
                    "Invalid trail ARN provided: {}",
                    self.trail_arn
                ))));
            }
        };
        let whole_seconds =
            |time: OffsetDateTime| EventTime::from_unix_seconds(time.unix_timestamp());
        let (start, end) = (
            whole_seconds(self.start_time),
            whole_seconds(self.end_time.unwrap_or(now)),
        );
        if start > end {
            return Ok(Err(aws_cli_error(ValidateError::InvertedRange {
                start,
                end,
            })));
        }
        let configured = config
            .trails
            .iter()
            .find(|trail| trail.arn() == self.trail_arn);
        let (bucket, prefix) = match (&self.s3_bucket, configured) {
            (Some(bucket), _) => (bucket.clone(), self.s3_prefix.clone()),
            (None, Some(trail)) => (
                trail.bucket().to_owned(),
                self.s3_prefix
                    .clone()
                    .or_else(|| trail.prefix().map(str::to_owned)),
            ),
            (None, None) => {
                return Err(anyhow!(
                    "trail {} is not in the configuration; name its bucket with --s3-bucket",
                    self.trail_arn
                ));
            }
        };
        let organization_id = self
            .organization_id
            .clone()
            .or_else(|| configured.and_then(|trail| trail.organization_id().map(str::to_owned)));
        let accounts = match (&organization_id, self.all_accounts) {
            (Some(organization_id), true) => {
                validate::organization_accounts(store, &bucket, prefix.as_deref(), organization_id)
                    .await?
            }
            (None, true) => {
                return Err(anyhow!(
                    "--all-accounts is for an organization trail: name one of cairn.yaml, or give --organization-id"
                ));
            }
            // aws-cli's words (validation.py lines 156-159).
            (Some(_), false) if self.account_ids.is_empty() => {
                return Ok(Err(aws_cli_error(
                    "Missing required parameter for organization trail: '--account-id'",
                )));
            }
            (None, false) if self.account_ids.is_empty() => vec![trail_arn.account.clone()],
            (_, false) => self.account_ids.clone(),
        };
        let regions = if self.all_regions {
            None
        } else if self.regions.is_empty() {
            // aws-cli validates the Region it is configured for, else the trail's home Region
            // (validation.py line 303).
            Some(vec![
                [
                    std::env::var("AWS_REGION").ok(),
                    std::env::var("AWS_DEFAULT_REGION").ok(),
                ]
                .into_iter()
                .flatten()
                .find(|region| !region.is_empty())
                .unwrap_or_else(|| trail_arn.home_region.clone()),
            ])
        } else {
            Some(self.regions.clone())
        };
        let keys = match &self.public_keys {
            Some(path) => {
                let json = std::fs::read(path)
                    .with_context(|| format!("reading the public keys {}", path.display()))?;
                public_keys::parse_listed_keys(&json)
                    .with_context(|| format!("reading the public keys {}", path.display()))?
            }
            None if aws && configured.is_none() => {
                let sdk = load_sdk_config().await;
                public_keys::list_from(
                    &CloudTrailKeys::new(&sdk),
                    start.to_offset_date_time(),
                    keys_until(end).to_offset_date_time(),
                )
                .await?
            }
            None => public_keys::load(store, &config.state_bucket).await?,
        };
        let requests = accounts
            .into_iter()
            .map(|account| Request {
                trail: trail_arn.clone(),
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                organization_id: organization_id.clone(),
                account,
                regions: regions.clone(),
                copy_without_metadata: !aws,
                start,
                end,
            })
            .collect();
        Ok(Ok(Scope {
            requests,
            keys,
            start,
            end,
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

/// The end of the range whose keys aws-cli asks for: two hours past the validated range's
/// (validation.py line 591).
pub(crate) fn keys_until(end: EventTime) -> EventTime {
    EventTime::from_unix_seconds(end.unix_seconds() + 2 * 3600)
}

/// aws-cli's way out on an error (`awscli/clidriver.py` catching the command's exception and
/// `awscli/utils.py` `write_exception`): the message between newlines on stderr, exit 255.
fn aws_cli_error(message: impl std::fmt::Display) -> ExitCode {
    eprint!("\n{message}\n");
    ExitCode::from(255)
}

pub(crate) async fn run(
    args: &ValidateLogsArgs,
    config: &Config,
    store: &dyn ObjectStore,
    aws: bool,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    let scope = match args.scope.resolve(config, store, aws, now).await? {
        Ok(scope) => scope,
        Err(exit) => return Ok(exit),
    };
    let (start, end, keys) = (scope.start, scope.end, scope.keys);

    let text = args.output == OutputFormat::Text;
    if text {
        write_startup(
            &mut std::io::stdout().lock(),
            &args.scope.trail_arn,
            start,
            end,
        )?;
    }
    // aws-cli stops when no key is valid in that range (validation.py lines 809-812).
    let until = keys_until(end);
    if !keys
        .iter()
        .any(|key| key.overlaps(start.to_offset_date_time(), until.to_offset_date_time()))
    {
        return Ok(aws_cli_error(format!(
            "No public keys found between {start} and {until}"
        )));
    }

    let requests = chains(store, scope.requests).await?;
    let bar = Bar::new("files read");
    let reports: Vec<_> = stream::iter(requests)
        .map(|request| {
            let (keys, bar) = (&keys, &bar);
            async move {
                let report = validate::validate(store, keys, &request, bar).await;
                (request, report)
            }
        })
        .buffered(CHAINS_AT_ONCE)
        .collect()
        .await;
    bar.0.finish_and_clear();
    let mut total = Counts::default();
    let mut json_chains = Vec::new();
    let several = reports.len() > 1;
    for (request, report) in reports {
        let report = report?;
        let counts = report.counts();
        total.add(&counts);
        let (account, region) = (&request.account, chain_region(&request));
        if text {
            if several {
                match region {
                    Some(region) => println!("{CAIRN_MARK}account {account}, Region {region}:"),
                    None => println!("{CAIRN_MARK}account {account}:"),
                }
            }
            write_report(
                &report,
                (start, end),
                args.verbose,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            )?;
        } else {
            json_chains.push(json_chain(account, region, &report, counts));
        }
    }
    if text && several {
        println!("{CAIRN_MARK}all chains:");
        write_summary(&total, None, (start, end), &mut std::io::stdout().lock())?;
    }
    if !text {
        let report = serde_json::json!({
            "trailArn": args.scope.trail_arn,
            "startTime": start.to_string(),
            "endTime": end.to_string(),
            "valid": total.is_valid(),
            "total": total,
            "chains": json_chains,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(crate::exit_code(total.is_valid()))
}

/// Chains validated at once: each reads [`validate`]'s objects at a time, so this bounds the
/// reads in flight, and memory, whatever the organization's size.
const CHAINS_AT_ONCE: usize = 4;

/// The requests split into one per chain: per account, a request for several Regions (or, with
/// --all-regions, every Region the account has digest folders in) becomes one per Region, so
/// each chain gets its own summary. An account without digests keeps its one request, which
/// says so.
async fn chains(store: &dyn ObjectStore, requests: Vec<Request>) -> Result<Vec<Request>> {
    let mut chains = Vec::new();
    for request in requests {
        let regions = match &request.regions {
            Some(regions) => regions.clone(),
            None => validate::digest_regions(store, &request).await?,
        };
        if regions.len() < 2 {
            chains.push(request);
            continue;
        }
        for region in regions {
            chains.push(Request {
                regions: Some(vec![region]),
                ..request.clone()
            });
        }
    }
    Ok(chains)
}

/// The one Region a request validates, if it names one.
fn chain_region(request: &Request) -> Option<&str> {
    match request.regions.as_deref() {
        Some([region]) => Some(region),
        _ => None,
    }
}

/// One chain's part of the `--output json` report.
fn json_chain(
    account: &str,
    region: Option<&str>,
    report: &Report,
    counts: Counts,
) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = report
        .invalid()
        .map(|(kind, file, problem)| {
            serde_json::json!({
                "kind": kind.to_string(),
                "file": file.to_string(),
                "problem": problem.to_string(),
                "awsCliVerdict": problem.aws_cli_verdict(),
            })
        })
        .collect();
    serde_json::json!({
        "account": account,
        "region": region,
        "resultsFound": report.found.map(|(from, to)| [from.to_string(), to.to_string()]),
        "counts": counts,
        "problems": problems,
    })
}

/// Files read so far, on stderr while it is a terminal.
pub(crate) struct Bar(pub ProgressBar);

impl Bar {
    pub(crate) fn new(what: &str) -> Self {
        Self(files_progress_bar(what))
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
