//! `cairn ingest`: event files into the staging area, as the ingest function takes bodies.

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::Result;
use cairn_shared::config::Config;
use cairn_shared::ingest::Ingestor;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::service::Service;
use time::OffsetDateTime;

use crate::input::InputFile;
use crate::replay::Replay;

/// What ingesting some files came to.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub accepted: usize,
    pub staged: usize,
    pub refused: usize,
}

/// Ingests every body of every file, printing a line per file and each refusal on stderr. A
/// body that cannot be read at all counts as refused and the other bodies go on. With
/// `replay`, the files' timestamps are moved to the day before `now` first.
pub(crate) async fn ingest_files(
    config: &Config,
    store: &dyn ObjectStore,
    files: &[PathBuf],
    region: &str,
    replay: bool,
    now: OffsetDateTime,
) -> Result<Totals> {
    let channel_arn = format!(
        "arn:aws:cloudtrail:{region}:{}:channel/cairn",
        config.account_id
    );
    let ingestor = Ingestor::new(config, store, region, &channel_arn);
    let replay = if replay {
        Replay::at(now, files)?
    } else {
        None
    };
    let mut totals = Totals::default();
    for path in files {
        let input = InputFile::read(path)?;
        let mut file = Totals::default();
        for body in input.bodies()? {
            let body = match body {
                Ok(body) => body,
                Err(line) => {
                    eprintln!("refused {line:#}");
                    file.refused += 1;
                    continue;
                }
            };
            let body = match &replay {
                Some(replay) => Cow::Owned(replay.apply(&body)),
                None => body,
            };
            match ingestor.handle(&body, now).await {
                Ok(done) => {
                    file.accepted += done.answer.successful.len();
                    file.staged += done.staged_events;
                    file.refused += done.answer.failed.len();
                    for failed in &done.answer.failed {
                        eprintln!(
                            "{}: refused id {}: {}: {}",
                            path.display(),
                            failed.id,
                            failed.error_code,
                            failed.error_message
                        );
                    }
                }
                Err(error) => {
                    eprintln!("{}: refused the body: {error}", path.display());
                    file.refused += 1;
                }
            }
        }
        println!(
            "{}: {} events accepted ({} staged for delivery), {} refused",
            path.display(),
            file.accepted,
            file.staged,
            file.refused
        );
        totals.accepted += file.accepted;
        totals.staged += file.staged;
        totals.refused += file.refused;
    }
    Ok(totals)
}
