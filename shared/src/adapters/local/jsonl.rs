//! Appending JSON lines to files, as the local log sink and notifier store what they are sent.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// Serialises appends from every local adapter in the process, so concurrent writes never
/// interleave their lines, even to the same file.
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Each value as one line of JSON, every line ending in `\n`.
pub(crate) fn lines<T: Serialize>(
    values: impl IntoIterator<Item = T>,
) -> serde_json::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for value in values {
        serde_json::to_writer(&mut bytes, &value)?;
        bytes.push(b'\n');
    }
    Ok(bytes)
}

/// Appends `bytes` to the file at `path` with one write, on tokio's blocking pool, so they are in
/// the file (not in a buffer) when this returns. The file and its folders are created as needed;
/// creating one that exists is not an error, so repeats and races are safe.
pub(crate) async fn append(path: PathBuf, bytes: Vec<u8>) -> Result<(), AppendError> {
    tokio::task::spawn_blocking(move || append_blocking(&path, &bytes)).await??;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AppendError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Stopped(#[from] tokio::task::JoinError),
}

fn append_blocking(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let _guard = APPEND_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(bytes)?;
    file.flush()
}
