//! Log files: hashing the listed ones, in parallel, and finding the ones no digest lists.

use std::collections::HashMap;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use sha2::{Digest as _, Sha256};

use crate::digest::format::{HASH_ALGORITHM, LogFileEntry};
use crate::layout::log_file_stamp;
use crate::layout::{LOG_FILE_KIND, day_folder};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::record::EventTime;

use super::Progress;
use super::chain::HOUR;
use super::digests::{ChainPlace, Digest, gunzip_one_member};
use super::report::{Location, ValidationProblem};

/// Objects of each kind read at once (digests, and log files while digests are still being
/// read): enough to hide S3's per-request latency, few enough to bound memory (each log file
/// read holds one compressed log file).
pub(crate) const READ_CONCURRENCY: usize = 32;

/// Where a chain delivers its log files.
impl ChainPlace<'_> {
    pub(super) fn folder(&self, day: EventTime) -> String {
        day_folder(
            self.prefix,
            self.organization_id,
            &self.chain.account,
            LOG_FILE_KIND,
            &self.chain.region,
            day.to_offset_date_time(),
        )
    }

    /// Why a digest of this chain ending at `digest_end` cannot list `entry`, if it cannot:
    /// the writer lists only log files of its own chain's folders, delivered before the
    /// digest's end, hashed with SHA-256.
    pub(super) fn misfiled(&self, entry: &LogFileEntry, digest_end: EventTime) -> Option<String> {
        if entry.s3_bucket != self.bucket {
            return Some(format!("it is not in the trail's bucket {}", self.bucket));
        }
        if entry.hash_algorithm != HASH_ALGORITHM {
            return Some(format!(
                "with hashAlgorithm {:?}, not {HASH_ALGORITHM}",
                entry.hash_algorithm
            ));
        }
        let Some(stamp) = log_file_stamp(&entry.s3_object) else {
            return Some("its key is not a CloudTrail log file key".to_owned());
        };
        let folder = self.folder(stamp);
        if !entry.s3_object.starts_with(&folder) || entry.s3_object[folder.len()..].contains('/') {
            return Some(format!("its key is not in its chain's folder {folder}"));
        }
        if stamp >= digest_end {
            return Some(format!(
                "it was delivered at {stamp}, not before the digest's end time {digest_end}"
            ));
        }
        None
    }

    /// The log files `digest` lists that it could list (see [`Self::misfiled`]): the ones to
    /// read ahead, before the walk has checked the digest.
    pub(super) fn hashable(&self, digest: &Digest) -> Vec<Location> {
        let Some((_, end)) = digest.period() else {
            return Vec::new();
        };
        digest
            .body
            .log_files
            .iter()
            .filter(|entry| self.misfiled(entry, end).is_none())
            .map(|entry| Location::new(&entry.s3_bucket, &entry.s3_object))
            .collect()
    }

    /// Every log file key of this chain delivered in `[from, to)`, by delivery stamp.
    pub(super) async fn list_delivered(
        &self,
        store: &dyn ObjectStore,
        from: EventTime,
        to: EventTime,
    ) -> Result<Vec<(EventTime, Location)>, ObjectStoreError> {
        const DAY: i64 = 24 * HOUR;
        let mut folders = Vec::new();
        let mut day = from.unix_seconds() - from.unix_seconds().rem_euclid(DAY);
        while day < to.unix_seconds() {
            folders.push(self.folder(EventTime::from_unix_seconds(day)));
            day += DAY;
        }
        Ok(list_in_parallel(store, self.bucket, folders)
            .await?
            .into_iter()
            .filter_map(|key| {
                let stamp = log_file_stamp(&key)?;
                (from <= stamp && stamp < to).then(|| (stamp, Location::new(self.bucket, key)))
            })
            .collect())
    }
}

/// Every key under each of `prefixes`, listed concurrently, in the prefixes' order.
pub(crate) async fn list_in_parallel(
    store: &dyn ObjectStore,
    bucket: &str,
    prefixes: Vec<String>,
) -> Result<Vec<String>, ObjectStoreError> {
    let listings: Vec<Vec<String>> = stream::iter(prefixes)
        .map(|prefix| async move { store.list_keys(bucket, &prefix).await })
        .buffered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(listings.into_iter().flatten().collect())
}

/// What reading and hashing a log file gave: the lowercase hex SHA-256 of its uncompressed
/// bytes, or what makes that impossible (`NotFound` included), or the store's failure.
pub(crate) type Hashed = Result<Result<String, ValidationProblem>, ObjectStoreError>;

/// Reads and hashes the log files `files` yields, [`READ_CONCURRENCY`] at a time, until it
/// ends. A store failure is kept with its file rather than ending the reads: a file read ahead
/// may turn out not to be needed, and then neither is its failure.
pub(crate) async fn hash_ahead(
    store: &dyn ObjectStore,
    files: impl Stream<Item = Location>,
    progress: &dyn Progress,
) -> HashMap<Location, Hashed> {
    files
        .map(|file| async move {
            let hashed = hash_one(store, &file).await;
            progress.done(1);
            (file, hashed)
        })
        .buffer_unordered(READ_CONCURRENCY)
        .collect()
        .await
}

/// Reads and hashes log files in parallel: for each, the lowercase hex SHA-256 of its
/// uncompressed bytes, or what makes that impossible (`NotFound` included); a store failure
/// fails them all.
pub(crate) async fn hash_all(
    store: &dyn ObjectStore,
    files: Vec<Location>,
    progress: &dyn Progress,
) -> Result<HashMap<Location, Result<String, ValidationProblem>>, ObjectStoreError> {
    progress.add_work(files.len() as u64);
    hash_ahead(store, stream::iter(files), progress)
        .await
        .into_iter()
        .map(|(file, hashed)| hashed.map(|hash| (file, hash)))
        .collect()
}

async fn hash_one(store: &dyn ObjectStore, file: &Location) -> Hashed {
    let body = match store.get_body(&file.bucket, &file.key).await {
        Ok(body) => body,
        Err(ObjectStoreError::NotFound { .. }) => return Ok(Err(ValidationProblem::NotFound)),
        Err(error) => return Err(error),
    };
    // Inflating and hashing is the CPU-bound part: off the async workers, so files hash on
    // every core while others are being read.
    let hashed = tokio::task::spawn_blocking(move || {
        let mut hasher = Sha256::new();
        gunzip_one_member(&body, |chunk| hasher.update(chunk))
            .map(|()| hex::encode(hasher.finalize()))
    })
    .await;
    match hashed {
        Ok(result) => Ok(result),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(ObjectStoreError::Backend {
            context: format!("hashing {file}: the runtime shut down"),
            source: Box::new(error),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::ChainId;

    fn entry(key: &str) -> LogFileEntry {
        LogFileEntry {
            s3_bucket: "trail".into(),
            s3_object: key.into(),
            hash_value: "00".into(),
            hash_algorithm: HASH_ALGORITHM.into(),
            newest_event_time: "2026-11-22T09:59:00Z".into(),
            oldest_event_time: "2026-11-22T09:00:00Z".into(),
        }
    }

    #[test]
    fn a_digest_lists_only_its_own_chains_earlier_log_files() {
        let chain = ChainId {
            trail: "t".into(),
            home_region: "us-east-1".into(),
            account: "111122223333".into(),
            region: "eu-west-1".into(),
        };
        let place = ChainPlace {
            bucket: "trail",
            prefix: Some("audit"),
            organization_id: None,
            chain: &chain,
            home_region: "us-east-1",
            backfill: false,
            copy_without_metadata: false,
        };
        let end = EventTime::parse("2026-11-22T10:00:00Z").expect("time");
        let key = |region: &str, stamp: &str| {
            format!(
                "audit/AWSLogs/111122223333/CloudTrail/{region}/2026/11/22/111122223333_CloudTrail_{region}_{stamp}_AbCdEfGh01234567.json.gz"
            )
        };
        assert_eq!(
            place.misfiled(&entry(&key("eu-west-1", "20261122T0959Z")), end),
            None
        );

        let late = place
            .misfiled(&entry(&key("eu-west-1", "20261122T1000Z")), end)
            .expect("late");
        assert!(late.contains("not before the digest's end time"), "{late}");
        let elsewhere = place
            .misfiled(&entry(&key("us-east-1", "20261122T0959Z")), end)
            .expect("other region");
        assert!(elsewhere.contains("chain's folder"), "{elsewhere}");
        let mut other_bucket = entry(&key("eu-west-1", "20261122T0959Z"));
        other_bucket.s3_bucket = "elsewhere".into();
        assert!(place.misfiled(&other_bucket, end).is_some());
        let mut md5 = entry(&key("eu-west-1", "20261122T0959Z"));
        md5.hash_algorithm = "MD5".into();
        assert!(place.misfiled(&md5, end).is_some());
        assert!(place.misfiled(&entry("audit/notes.txt"), end).is_some());
    }
}
