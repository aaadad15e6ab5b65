//! `cairn run`: the whole pipeline on some event files: ingest, then deliver.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use cairn_shared::config::Config;
use cairn_shared::ports::object_store::ObjectStore;
use time::OffsetDateTime;

use crate::deliver::deliver;
use crate::ingest::ingest_files;

pub async fn run(
    config: &Config,
    store: &dyn ObjectStore,
    files: &[PathBuf],
    region: &str,
    now: OffsetDateTime,
    expire_history: bool,
) -> Result<ExitCode> {
    let totals = ingest_files(config, store, files, region, now).await?;
    deliver(config, store, now, expire_history).await?;
    Ok(crate::exit_code(totals.refused == 0))
}
