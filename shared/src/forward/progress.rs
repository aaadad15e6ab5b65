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

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ports::object_store::{Condition, ETag, ObjectStore, ObjectStoreError, PutOptions};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Progress {
    pub sha256: String,
    pub records: usize,
    pub done: usize,
    pub batches: usize,
    pub alert_written: bool,
    pub writer: String,
}

impl Progress {
    pub fn start(sha256: String, records: usize, writer: &str) -> Self {
        Self {
            sha256,
            records,
            done: 0,
            batches: 0,
            alert_written: false,
            writer: writer.to_owned(),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.done >= self.records
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error("the progress marker s3://{bucket}/{key} is unreadable: {source}")]
    Corrupt {
        bucket: String,
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The marker and its version, `None` when there is none.
pub async fn read(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
) -> Result<Option<(Progress, ETag)>, ProgressError> {
    let object = match store.get(bucket, key).await {
        Ok(object) => object,
        Err(ObjectStoreError::NotFound { .. }) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    let progress =
        serde_json::from_slice(&object.body).map_err(|source| ProgressError::Corrupt {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            source,
        })?;
    Ok(Some((progress, object.info.etag)))
}

/// Writes `progress` if the marker is still at version `seen` (`None`: still absent). Returns
/// the new version, or `None` when another run's write came first.
///
/// A conditional put whose answer was lost can report a failed condition although it took
/// effect; the marker is then read back, and if it is exactly what this run wrote, the write
/// counts as done.
pub async fn write(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    progress: &Progress,
    seen: Option<&ETag>,
) -> Result<Option<ETag>, ProgressError> {
    let body = Bytes::from(serde_json::to_vec(progress).expect("a marker serializes"));
    let condition = match seen {
        Some(etag) => Condition::IfMatch(etag.clone()),
        None => Condition::IfNoneMatch,
    };
    let options = PutOptions::new("application/json").condition(condition);
    match store.put(bucket, key, body, &options).await {
        Ok(receipt) => Ok(Some(receipt.etag)),
        Err(ObjectStoreError::PreconditionFailed { .. }) => match read(store, bucket, key).await? {
            Some((stored, etag)) if stored == *progress => Ok(Some(etag)),
            _ => Ok(None),
        },
        Err(other) => Err(other.into()),
    }
}
