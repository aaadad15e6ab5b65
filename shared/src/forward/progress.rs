//! The progress marker: how far forward got with one log file, in the state bucket at
//! `forward/progress/{bucket}/{key}.json`.
//!
//! ```json
//! {"sha256":"…","records":1200,"done":800,"batches":2,"alertWritten":true,"writer":"k3J9…"}
//! ```
//!
//! - `sha256`: of the log file's bytes as stored; a marker for other bytes under the same key
//!   does not count, and the file is forwarded from the start.
//! - `done`: how many records, in forward's sorted order, are dealt with (put, or refused and
//!   reported); `done == records` means the file is finished.
//! - `batches`: how many steps (PutLogEvents requests, or runs of refused records) are done.
//! - `alertWritten`: the file's alert object is written.
//! - `writer`: the run that wrote this version, so a run can tell its own write from another's.
//!
//! Every write is a compare-and-swap on the version the run last saw (create-only for the first):
//! two runs on the same file (EventBridge delivers at least once, sometimes twice at once)
//! cannot both record progress, and the one that loses stops.

use serde::{Deserialize, Serialize};

use crate::document::{self, DocumentError, Style};
use crate::ports::object_store::{ETag, ObjectStore, ObjectStoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Progress {
    pub sha256: String,
    pub records: usize,
    pub done: usize,
    pub batches: usize,
    pub alert_written: bool,
    pub writer: String,
}

impl document::Recovery for Progress {
    const IF_UNREADABLE: &'static str = "forward leaves this log file until it reads. Delete \
        the marker to forward the file again from its first record (CloudWatch Logs then gets \
        the records sent before twice, and the alert is written again), or fix its JSON by hand";
}

impl Progress {
    pub(super) fn start(sha256: String, records: usize, writer: &str) -> Self {
        Self {
            sha256,
            records,
            done: 0,
            batches: 0,
            alert_written: false,
            writer: writer.to_owned(),
        }
    }

    pub(super) fn is_finished(&self) -> bool {
        self.done >= self.records
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error(
        "the progress marker s3://{bucket}/{key} is unreadable ({source}). Cairn does not reset it: {remedy}"
    )]
    Corrupt {
        bucket: String,
        key: String,
        #[source]
        source: serde_json::Error,
        remedy: &'static str,
    },
}

impl From<DocumentError> for ProgressError {
    fn from(error: DocumentError) -> Self {
        match error {
            DocumentError::Store(error) => Self::Store(error),
            DocumentError::Corrupt {
                bucket,
                key,
                source,
                remedy,
            } => Self::Corrupt {
                bucket,
                key,
                source,
                remedy,
            },
        }
    }
}

/// The marker and its version, `None` when there is none.
pub(super) async fn read(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
) -> Result<Option<(Progress, ETag)>, ProgressError> {
    Ok(document::read_present(store, bucket, key).await?)
}

/// Writes `progress` if the marker is still at version `seen` (`None`: still absent). Returns
/// the new version, or `None` when another run's write came first (see [`document::swap`]:
/// a write whose answer was lost counts as done when the marker reads back as ours).
pub(super) async fn write(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    progress: &Progress,
    seen: Option<&ETag>,
) -> Result<Option<ETag>, ProgressError> {
    Ok(document::swap(store, bucket, key, (progress, Style::Compact), seen).await?)
}
