//! `cairn run`: the whole pipeline on some event files: ingest, deliver, then forward.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use cairn_shared::config::Config;
use time::OffsetDateTime;

use crate::backend::BackendArgs;
use crate::deliver::deliver;
use crate::forward::forward_delivered;
use crate::ingest::ingest_files;

pub async fn run(
    config: &Config,
    backend: &BackendArgs,
    files: &[PathBuf],
    region: &str,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    let store = backend.object_store(config).await?;
    let totals = ingest_files(config, store.as_ref(), files, region, now).await?;
    let delivered = deliver(config, store.as_ref(), backend, now).await?;
    let sink = backend.log_sink().await;
    forward_delivered(
        config,
        store.as_ref(),
        sink.as_ref(),
        &delivered,
        &backend.metrics_file(),
        now,
    )
    .await?;
    Ok(crate::exit_code(totals.refused == 0))
}
