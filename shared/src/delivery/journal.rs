//! The delivery journal: one object in the state bucket naming the batch being delivered, if
//! any. Every change to it is a compare-and-swap on its ETag, which is what makes one deliver
//! run at a time the owner of a batch, and what lets a later run finish a batch a crashed run
//! left half done.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::document::{self, Style};
use crate::layout::Shard;
use crate::ports::object_store::{ETag, ObjectStore};

use super::DeliveryError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    pub batch: Option<Batch>,
    /// The batch finished last. Emptying the journal names it so that no two empty journals
    /// have the same bytes, hence the same ETag: a run that read the journal empty before
    /// another run claimed, delivered and emptied it again must see its swap fail, not succeed
    /// on an ETag that only looks unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
}

impl document::Recovery for Journal {
    const IF_UNREADABLE: &'static str = "deliver stops until it reads. It names the batch in hand \
        and its log files: restore it from a backup or a previous version, or, once no deliver \
        run is running, fix its JSON by hand. Emptying it could deliver that batch twice";
}

impl Journal {
    /// The journal naming `batch` as in hand.
    pub fn holding(batch: Batch) -> Self {
        Self {
            batch: Some(batch),
            finished: None,
        }
    }

    /// The empty journal after `batch` is done.
    pub fn finished(batch: &Batch) -> Self {
        Self {
            batch: None,
            finished: Some(batch.id.clone()),
        }
    }
}

/// A batch of staging objects on its way to log files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub id: String,
    /// The run holding the batch until `lease_until`; another run may take it over after.
    pub owner: String,
    #[serde(with = "time::serde::rfc3339")]
    pub lease_until: OffsetDateTime,
    /// The delivery time the log files are named and dated by.
    #[serde(with = "time::serde::rfc3339")]
    pub delivered_at: OffsetDateTime,
    pub phase: Phase,
    /// The staging objects the batch consumes, in order.
    pub staged: Vec<String>,
    /// The log files the batch writes, in the order the plan builds them.
    pub log_files: Vec<PlannedFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// Log files, history and dedup records are being written; the staging objects are intact.
    Writing,
    /// Everything is written; the staging objects are being removed.
    Cleaning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedFile {
    pub trail: String,
    pub bucket: String,
    pub key: String,
    pub records: usize,
}

/// The shard's journal and its ETag; an absent journal is an empty one with no ETag.
pub async fn read(
    store: &dyn ObjectStore,
    bucket: &str,
    shard: Shard,
) -> Result<(Journal, Option<ETag>), DeliveryError> {
    Ok(document::read(store, bucket, &shard.journal_key()).await?)
}

/// Replaces the journal if it is still at `expected` (absent when `None`); returns the new
/// ETag, or `None` when another run changed it first. Safe to repeat (see [`document::swap`]).
pub(super) async fn swap(
    store: &dyn ObjectStore,
    bucket: &str,
    shard: Shard,
    journal: &Journal,
    expected: Option<&ETag>,
) -> Result<Option<ETag>, DeliveryError> {
    Ok(document::swap(
        store,
        bucket,
        &shard.journal_key(),
        (journal, Style::Compact),
        expected,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::adapters::local::LocalObjectStore;

    fn batch(id: &str) -> Batch {
        Batch {
            id: id.to_owned(),
            owner: "run".to_owned(),
            lease_until: datetime!(2026-11-22 10:02:00 UTC),
            delivered_at: datetime!(2026-11-22 10:00:00 UTC),
            phase: Phase::Writing,
            staged: vec!["staging/a.jsonl".to_owned()],
            log_files: Vec::new(),
        }
    }

    /// A run that read the journal empty must not claim after another run has claimed,
    /// finished and emptied it in between (the ABA case).
    #[tokio::test]
    async fn a_stale_empty_journal_cannot_be_swapped() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket("state").await.unwrap();

        let e1 = swap(
            &store,
            "state",
            Shard::ONLY,
            &Journal::holding(batch("b1")),
            None,
        )
        .await
        .unwrap()
        .expect("claimed");
        let empty = swap(
            &store,
            "state",
            Shard::ONLY,
            &Journal::finished(&batch("b1")),
            Some(&e1),
        )
        .await
        .unwrap()
        .expect("finished");

        // Run A reads the journal empty; run B claims b2, finishes it and empties the journal.
        let (read, stale) = read(&store, "state", Shard::ONLY).await.unwrap();
        assert_eq!(read.batch, None);
        assert_eq!(stale.as_ref(), Some(&empty));
        let e2 = swap(
            &store,
            "state",
            Shard::ONLY,
            &Journal::holding(batch("b2")),
            stale.as_ref(),
        )
        .await
        .unwrap()
        .expect("B claims");
        swap(
            &store,
            "state",
            Shard::ONLY,
            &Journal::finished(&batch("b2")),
            Some(&e2),
        )
        .await
        .unwrap()
        .expect("B finishes");

        // A's claim on what it read fails.
        let claim = swap(
            &store,
            "state",
            Shard::ONLY,
            &Journal::holding(batch("b3")),
            stale.as_ref(),
        )
        .await
        .unwrap();
        assert_eq!(claim, None);
    }
}
