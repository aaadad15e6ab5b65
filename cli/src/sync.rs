//! `cairn sync`: a trail's digest and log files copied into a folder with their signatures, an
//! evidence bundle that `cairn validate-logs --store DIR` verifies offline, every digest's
//! signature included.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::public_keys;
use cairn_shared::validate::{Bundled, copy_evidence};
use clap::Args;
use time::OffsetDateTime;

use crate::validate_logs::{Bar, TrailScope, keys_until};

/// The file of a bundle holding the public keys, as `aws cloudtrail list-public-keys` prints
/// them, for `cairn validate-logs --public-keys`.
const KEYS_FILE: &str = "public-keys.json";

/// Copies a trail's digest and log files from S3 (--aws) or the embedded store into a folder,
/// with the S3 metadata that holds each digest's signature, and the public keys beside them:
/// an evidence bundle to carry and validate offline, where an `aws s3 sync` copy leaves each
/// chain's newest digest unverifiable.
///
/// It copies the digests validate-logs would read for the same options, every log file they
/// list and every log file of the chains' folders in the range (so an inserted one comes
/// along), 32 at a time. The folder holds a folder per bucket and DIR/public-keys.json.
///
/// Example:
///
///   cairn --aws sync --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main \
///     --start-time 2026-11-22T00:00:00Z --end-time 2026-11-23T00:00:00Z --to evidence/
///   cairn --store evidence/ validate-logs --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main \
///     --start-time 2026-11-22T00:00:00Z --end-time 2026-11-23T00:00:00Z \
///     --s3-bucket BUCKET --public-keys evidence/public-keys.json
#[derive(Debug, Clone, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct SyncArgs {
    #[command(flatten)]
    pub scope: TrailScope,

    /// The folder to copy into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

pub(crate) async fn run(
    args: &SyncArgs,
    config: &Config,
    store: &dyn ObjectStore,
    aws: bool,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    let scope = match args.scope.resolve(config, store, aws, now).await? {
        Ok(scope) => scope,
        Err(exit) => return Ok(exit),
    };
    let bundle = LocalObjectStore::new(args.to.clone());
    let bar = Bar::new("files copied");
    let mut total = Bundled::default();
    for request in &scope.requests {
        bundle
            .create_bucket(&request.bucket)
            .await
            .with_context(|| format!("creating {}", args.to.display()))?;
        let copied = copy_evidence(store, &bundle, request, &bar).await?;
        total.digests += copied.digests;
        total.log_files += copied.log_files;
    }
    bar.0.finish_and_clear();
    // The keys that verify the range: those valid in it and two hours past it, as aws-cli asks.
    let listed = public_keys::list_public_keys(
        &scope.keys,
        Some(scope.start.to_offset_date_time()),
        Some(keys_until(scope.end).to_offset_date_time()),
        now,
    );
    let keys_file = args.to.join(KEYS_FILE);
    std::fs::write(&keys_file, serde_json::to_vec_pretty(&listed)?)
        .with_context(|| format!("writing {}", keys_file.display()))?;
    println!(
        "{} digest files and {} log files copied into {}, with their signatures; public keys in {}",
        total.digests,
        total.log_files,
        args.to.display(),
        keys_file.display()
    );
    Ok(ExitCode::SUCCESS)
}
