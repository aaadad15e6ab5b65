//! Evidence bundles: a trail's digest and log files copied from one store into another with
//! what S3 keeps beside them (the digests' `signature`, `signature-algorithm` and
//! `backfill-generation-timestamp` metadata), so the copy validates offline with every
//! signature checked, which an `aws s3 sync` copy cannot.

use futures::{StreamExt, TryStreamExt, stream};

use crate::ports::object_store::{ObjectStore, ObjectStoreError};

use super::chain::{self, HOUR};
use super::digests::{self, ChainPlace, Fetched};
use super::logs::{READ_CONCURRENCY, list_in_parallel};
use super::report::Location;
use super::{Progress, Request, list_digest_keys, listing, trail_chain};

/// What a bundle holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bundled {
    pub digests: usize,
    pub log_files: usize,
}

/// Copies into `to` every digest of the request's chains that validation would read, every log
/// file they list, and every log file of the chains' folders in the range (so a file no digest
/// lists is carried too), each with its content type, encoding and user metadata. `to` must
/// have the request's bucket. Reads and writes [`READ_CONCURRENCY`] objects at a time.
pub async fn copy_evidence(
    from: &dyn ObjectStore,
    to: &dyn ObjectStore,
    request: &Request,
    progress: &dyn Progress,
) -> Result<Bundled, ObjectStoreError> {
    let trail = trail_chain(request);
    let listed = list_digest_keys(from, request).await?;
    let mut digest_keys = Vec::new();
    let mut folders = Vec::new();
    for (key, keys) in chain::chains(listed, &trail, request.regions.as_deref()) {
        let chain_id = crate::layout::ChainId {
            region: key.region,
            ..trail.clone()
        };
        let place = ChainPlace {
            bucket: &request.bucket,
            prefix: request.prefix.as_deref(),
            organization_id: request.organization_id.as_deref(),
            chain: &chain_id,
            home_region: &request.trail.home_region,
            backfill: key.backfill,
            copy_without_metadata: false,
        };
        // The folders of the days the range touches, an hour either side.
        const DAY: i64 = 24 * HOUR;
        let first = request.start.unix_seconds() - HOUR;
        let mut day = first - first.rem_euclid(DAY);
        let last = request.end.unix_seconds() + HOUR;
        while day <= last {
            let folder = place.folder(crate::record::EventTime::from_unix_seconds(day));
            if !folders.contains(&folder) {
                folders.push(folder);
            }
            day += DAY;
        }
        digest_keys.extend(
            listing(keys, request)
                .in_range
                .into_iter()
                .map(|(_, location)| location),
        );
    }

    let mut log_files: Vec<Location> = list_in_parallel(from, &request.bucket, folders)
        .await?
        .into_iter()
        .map(|key| Location::new(&request.bucket, key))
        .collect();
    progress.add_work(digest_keys.len() as u64);
    let listed_by_digests: Vec<Vec<Location>> = stream::iter(&digest_keys)
        .map(|location| async move {
            let listed = match digests::fetch(from, location).await? {
                Fetched::Found(digest) => digest
                    .body
                    .log_files
                    .iter()
                    .map(|entry| Location::new(&entry.s3_bucket, &entry.s3_object))
                    .collect(),
                Fetched::Missing | Fetched::Unreadable(_) => Vec::new(),
            };
            Ok::<_, ObjectStoreError>(listed)
        })
        .buffered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    log_files.extend(listed_by_digests.into_iter().flatten());
    log_files.sort();
    log_files.dedup();

    let bundled = Bundled {
        digests: copy_all(from, to, digest_keys, progress).await?,
        log_files: copy_all(from, to, log_files, progress).await?,
    };
    Ok(bundled)
}

/// Copies each object that exists, with its metadata; returns how many did.
async fn copy_all(
    from: &dyn ObjectStore,
    to: &dyn ObjectStore,
    files: Vec<Location>,
    progress: &dyn Progress,
) -> Result<usize, ObjectStoreError> {
    progress.add_work(files.len() as u64);
    let copied: Vec<bool> = stream::iter(files)
        .map(|file| async move {
            let object = match from.get(&file.bucket, &file.key).await {
                Ok(object) => object,
                Err(ObjectStoreError::NotFound { .. }) => {
                    progress.done(1);
                    return Ok(false);
                }
                Err(error) => return Err(error),
            };
            let options = object.info.copy_options();
            to.put(&file.bucket, &file.key, object.body, &options)
                .await?;
            progress.done(1);
            Ok(true)
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(copied.into_iter().filter(|&copied| copied).count())
}
