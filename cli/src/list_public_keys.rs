//! `cairn list-public-keys`: CloudTrail's `ListPublicKeys` answer from Cairn's key registry, as
//! the AWS CLI prints it.

use anyhow::Result;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::public_keys;
use clap::Args;
use time::OffsetDateTime;

use crate::args::parse_timestamp;
use crate::output::write_aws_cli_json;

/// Prints the public keys that verify the digest files signed in a time range, as
/// `aws cloudtrail list-public-keys` (AWS CLI v1) does.
///
/// Each key is listed with its base64 PKCS#1 DER Value, its Fingerprint (the MD5 hex of that
/// DER, which digest files name as digestPublicKeyFingerprint) and its validity window in epoch
/// seconds; the current key's ValidityEndTime is the end of the range, as AWS's example gives
/// every key one. Keys whose window overlaps the range are listed; with neither bound, the
/// current key.
///
/// Example: cairn list-public-keys --start-time 2026-11-01T00:00:00Z
#[derive(Debug, Clone, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ListPublicKeysArgs {
    /// The start of the range (ISO 8601, e.g. 2026-11-22T10:00:00Z, or epoch seconds).
    /// Default: now.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub start_time: Option<OffsetDateTime>,

    /// The end of the range, in the forms --start-time takes. Default: now.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub end_time: Option<OffsetDateTime>,
}

pub(crate) async fn run(
    args: &ListPublicKeysArgs,
    store: &dyn ObjectStore,
    state_bucket: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let keys = public_keys::load(store, state_bucket).await?;
    let response = public_keys::list_public_keys(&keys, args.start_time, args.end_time, now);
    let mut out = std::io::stdout().lock();
    write_aws_cli_json(&mut out, &response)?;
    Ok(())
}
