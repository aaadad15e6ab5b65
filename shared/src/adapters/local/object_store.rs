//! The embedded object store: S3's semantics over a local directory, so the CLI runs the whole
//! pipeline without an AWS account and `aws s3 sync` moves data between the two.
//!
//! Layout under the root:
//! - `{bucket}/{key}`: the object's bytes and nothing else, so a bucket directory is an exact
//!   mirror of an S3 bucket in both directions.
//! - `.cairn-meta/{bucket}/{key}.json`: the sidecar with what S3 keeps beside the bytes (content
//!   type and encoding, user metadata, encryption, ETag). An object without one, e.g. a synced
//!   copy, still reads: its ETag is computed from its bytes.
//! - `.cairn-meta/.locks/{bucket}.lock`: the bucket's lock file. Every change to a bucket holds it
//!   exclusively and every read of a sidecar shares it (`flock`, so threads and processes alike),
//!   which makes the conditional writes real compare-and-swaps and keeps body and sidecar read as
//!   one. A read of the bytes alone needs no lock (see [`Reading::BodyAlone`]).
//!
//! Crash safety: a put writes and fsyncs a temp file beside its final name first, then, under the
//! lock, fsyncs a sidecar describing both the new file and the current one, and only then renames
//! (or, create-only, hard-links) the temp file into place. A sidecar entry names the file it
//! describes by inode, size and mtime, so whichever file a crash leaves in place finds its own
//! entry and never borrows another's metadata. A crash can leave a `.cairn-tmp.*` file behind;
//! listings skip those (and `aws s3 sync --exclude '*.cairn-tmp.*'` does too).
//!
//! `put_each` (one body under several keys: a log file and its history copy) writes, syncs and
//! hashes the body once and hard-links that file under each key, committing each as a put
//! does. Objects are replaced by rename and removed by unlink, never changed in place, so the
//! names stay independent objects; a file edited in place would change them all (and lose their
//! metadata, as any in-place edit does). A bucket on another filesystem gets its own copy.
//!
//! What S3 allows and a file tree cannot hold is refused with
//! [`ObjectStoreError::InvalidRequest`]: keys with empty, `.` or `..` segments, and a key that is
//! both an object and a folder of other keys (`a` and `a/b`).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ports::object_store::{
    Condition, ETag, Encryption, ListEntry, ListPage, MAX_LIST_PAGE, ObjectInfo, ObjectStore,
    ObjectStoreError, PutOptions, PutReceipt, PutTarget, StoredObject, validate_delete_many,
    validate_key, validate_put,
};

const META_DIR: &str = ".cairn-meta";
const LOCKS_DIR: &str = ".locks";
const TEMP_PREFIX: &str = ".cairn-tmp.";
const SIDECAR_SUFFIX: &str = ".json";
/// NAME_MAX on Linux and macOS, less room for the sidecar suffix.
const MAX_SEGMENT_BYTES: usize = 255 - SIDECAR_SUFFIX.len();

/// S3 buckets on the local filesystem. Cheap to clone; clones share the same tree.
#[derive(Debug, Clone)]
pub struct LocalObjectStore {
    root: PathBuf,
}

impl LocalObjectStore {
    /// A store rooted at `root`. Nothing is created until a bucket is.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Creates the bucket's directory (and the root) if missing.
    ///
    /// Names follow S3's bucket naming rules, which also keeps them single, non-hidden path
    /// components that cannot reach outside the root or into `.cairn-meta`.
    pub async fn create_bucket(&self, bucket: &str) -> io::Result<()> {
        if !is_valid_bucket_name(bucket) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{bucket:?} is not a valid S3 bucket name"),
            ));
        }
        tokio::fs::create_dir_all(self.root.join(bucket)).await
    }

    fn bucket(&self, bucket: &str) -> Result<BucketDirs, ObjectStoreError> {
        let data = self.root.join(bucket);
        if !is_valid_bucket_name(bucket) || !data.is_dir() {
            return Err(ObjectStoreError::NoSuchBucket {
                bucket: bucket.to_owned(),
            });
        }
        Ok(BucketDirs {
            data,
            meta: self.root.join(META_DIR).join(bucket),
            lock: self
                .root
                .join(META_DIR)
                .join(LOCKS_DIR)
                .join(format!("{bucket}.lock")),
        })
    }

    fn put_blocking(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        let target = self.prepare(bucket, key, options)?;
        let mut receipts = Self::put_prepared(body, std::slice::from_ref(&target))?;
        Ok(receipts.pop().expect("one receipt per target"))
    }

    fn put_each_blocking(
        &self,
        body: &[u8],
        targets: &[PutTarget],
    ) -> Result<Vec<PutReceipt>, ObjectStoreError> {
        let prepared = targets
            .iter()
            .map(|target| self.prepare(&target.bucket, &target.key, &target.options))
            .collect::<Result<Vec<_>, _>>()?;
        Self::put_prepared(body, &prepared)
    }

    /// One file for every target, in order: the body is written, synced and hashed once, in a
    /// temporary file beside the last target, which each other target links under a temporary
    /// name of its own and commits there; the last commits the file itself, so a single target
    /// is a plain put. Each object is still replaced by a rename, never changed in place, so
    /// sharing the file changes nothing a reader sees. Where a link cannot be made (a bucket on
    /// another filesystem), that target gets a copy of its own.
    fn put_prepared(
        body: &[u8],
        targets: &[Prepared<'_>],
    ) -> Result<Vec<PutReceipt>, ObjectStoreError> {
        let Some((last, others)) = targets.split_last() else {
            return Ok(Vec::new());
        };
        // The slow part (writing and syncing the body) happens before taking any lock.
        let (source, source_meta) =
            TempFile::create_in(last.paths.object_dir(), body).map_err(|e| last.failed(e))?;
        let etag = etag_of(body);
        let mut receipts = Vec::with_capacity(targets.len());
        for target in others {
            let dir = target.paths.object_dir();
            let (temp, temp_meta) = TempFile::link_in(dir, &source.path)
                .or_else(|_| TempFile::create_in(dir, body))
                .map_err(|e| target.failed(e))?;
            receipts.push(target.commit(temp, &temp_meta, etag.clone())?);
        }
        receipts.push(last.commit(source, &source_meta, etag)?);
        Ok(receipts)
    }

    /// What a put needs before it writes anything: the checks S3 makes (and those a file tree
    /// adds), and where the object and its sidecar go.
    fn prepare<'t>(
        &self,
        bucket: &'t str,
        key: &'t str,
        options: &'t PutOptions,
    ) -> Result<Prepared<'t>, ObjectStoreError> {
        let metadata = validate_put(bucket, key, options)?;
        let relative = key_path(bucket, key)?;
        if key
            .split('/')
            .any(|segment| segment.len() > MAX_SEGMENT_BYTES)
        {
            return Err(ObjectStoreError::InvalidRequest {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                reason: format!(
                    "the local store cannot hold this key: a segment is longer than \
                     {MAX_SEGMENT_BYTES} bytes (a file name plus its sidecar suffix)"
                ),
            });
        }
        let dirs = self.bucket(bucket)?;
        let paths = dirs.object(&relative);
        Ok(Prepared {
            bucket,
            key,
            options,
            metadata,
            dirs,
            paths,
        })
    }

    fn get_blocking(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        self.read_blocking(bucket, key, Reading::WithSidecar, |body, meta, sidecar| {
            let version = read_version(sidecar, meta);
            let info = object_info(meta, version, || Ok(etag_of(&body)))?;
            Ok(StoredObject {
                body: Bytes::from(body),
                info,
            })
        })
    }

    fn get_body_blocking(&self, bucket: &str, key: &str) -> Result<Bytes, ObjectStoreError> {
        self.read_blocking(bucket, key, Reading::BodyAlone, |body, _, _| {
            Ok(Bytes::from(body))
        })
    }

    /// Reads an object's bytes and hands them to `then` with its file's metadata and its
    /// sidecar's path. A read [`Reading::WithSidecar`] holds the bucket's shared lock
    /// throughout, so that what `then` reads of the sidecar belongs to the same version.
    fn read_blocking<T>(
        &self,
        bucket: &str,
        key: &str,
        reading: Reading,
        then: impl FnOnce(Vec<u8>, &fs::Metadata, &Path) -> io::Result<T>,
    ) -> Result<T, ObjectStoreError> {
        validate_key(bucket, key)?;
        let dirs = self.bucket(bucket)?;
        let not_found = || not_found(bucket, key);
        let relative = key_path(bucket, key).map_err(|_| not_found())?;
        let paths = dirs.object(&relative);
        let failed = |error| backend("reading", bucket, key, error);

        let _lock = match reading {
            Reading::WithSidecar => Some(BucketLock::shared(&dirs.lock).map_err(failed)?),
            Reading::BodyAlone => None,
        };
        let Opened::File(mut file, meta) = open_object(&paths.object).map_err(failed)? else {
            return Err(not_found());
        };
        let mut body = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut body).map_err(failed)?;
        then(body, &meta, &paths.sidecar).map_err(failed)
    }

    fn head_blocking(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        validate_key(bucket, key)?;
        let not_found = || not_found(bucket, key);
        // S3 answers a HEAD on a missing bucket with a bare 404, indistinguishable from a
        // missing key; answer the same so no caller comes to rely on the difference locally.
        let dirs = self.bucket(bucket).map_err(|_| not_found())?;
        let relative = key_path(bucket, key).map_err(|_| not_found())?;
        let paths = dirs.object(&relative);
        let failed = |error| backend("reading", bucket, key, error);

        let _lock = BucketLock::shared(&dirs.lock).map_err(failed)?;
        describe(&paths).map_err(failed)?.ok_or_else(not_found)
    }

    fn list_blocking(
        &self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        let dirs = self.bucket(bucket)?;
        let failed = |error| backend("listing", bucket, prefix, error);
        let empty = ListPage {
            entries: Vec::new(),
            next_token: None,
        };

        let Some((folder, start)) = walk_start(&dirs, bucket, prefix) else {
            return Ok(empty);
        };

        let _lock = BucketLock::shared(&dirs.lock).map_err(failed)?;
        let mut keys = keys_under(&start, &folder, prefix).map_err(failed)?;
        keys.retain(|key| continuation_token.is_none_or(|after| key.as_str() > after));
        let more = keys.len() > MAX_LIST_PAGE;
        keys.truncate(MAX_LIST_PAGE);

        let mut entries = Vec::with_capacity(keys.len());
        for key in keys {
            let paths = dirs.object(Path::new(&key));
            // Gone or replaced by a non-Cairn writer since the walk: list what is there now.
            let Some(info) = describe(&paths).map_err(failed)? else {
                continue;
            };
            entries.push(ListEntry {
                key,
                size: info.size,
                etag: info.etag,
                last_modified: info.last_modified,
            });
        }
        // The token is the last key returned: the next page starts strictly after it.
        let next_token = if more {
            entries.last().map(|entry| entry.key.clone())
        } else {
            None
        };
        Ok(ListPage {
            entries,
            next_token,
        })
    }

    fn list_keys_blocking(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<String>, ObjectStoreError> {
        let dirs = self.bucket(bucket)?;
        let failed = |error| backend("listing", bucket, prefix, error);
        let Some((folder, start)) = walk_start(&dirs, bucket, prefix) else {
            return Ok(Vec::new());
        };
        let _lock = BucketLock::shared(&dirs.lock).map_err(failed)?;
        keys_under(&start, &folder, prefix).map_err(failed)
    }

    fn list_folders_blocking(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<String>, ObjectStoreError> {
        let dirs = self.bucket(bucket)?;
        let failed = |error| backend("listing", bucket, prefix, error);
        let start = match prefix.strip_suffix('/') {
            None | Some("") => dirs.data.clone(),
            Some(folder) => match key_path(bucket, folder) {
                Ok(relative) => dirs.data.join(relative),
                // No object can live under a folder the store could not create.
                Err(_) => return Ok(Vec::new()),
            },
        };
        let _lock = BucketLock::shared(&dirs.lock).map_err(failed)?;
        let entries = match fs::read_dir(&start) {
            Ok(entries) => entries,
            Err(error) if is_absent(&error) => return Ok(Vec::new()),
            Err(error) => return Err(failed(error)),
        };
        let mut folders = Vec::new();
        for entry in entries {
            let entry = entry.map_err(failed)?;
            let name = entry.file_name();
            let Some(name) = name.to_str().filter(|name| !name.starts_with(TEMP_PREFIX)) else {
                continue;
            };
            // S3 has a folder only while a key is under it.
            if entry.file_type().map_err(failed)?.is_dir() {
                let mut keys = Vec::new();
                collect_keys(&entry.path(), "", &mut keys).map_err(failed)?;
                if !keys.is_empty() {
                    folders.push(format!("{prefix}{name}/"));
                }
            }
        }
        // `str` orders by UTF-8 bytes, which is S3's order.
        folders.sort_unstable();
        Ok(folders)
    }

    fn delete_blocking(&self, bucket: &str, keys: &[String]) -> Result<(), ObjectStoreError> {
        validate_delete_many(bucket, keys)?;
        let dirs = self.bucket(bucket)?;
        // A key no local object can have is absent, and deleting an absent key succeeds.
        let doomed: Vec<(&str, ObjectPaths)> = keys
            .iter()
            .filter_map(|key| Some((key.as_str(), dirs.object(&key_path(bucket, key).ok()?))))
            .collect();
        let Some((first, _)) = doomed.first() else {
            return Ok(());
        };
        let _lock = BucketLock::exclusive(&dirs.lock)
            .map_err(|error| backend("deleting", bucket, first, error))?;
        // Objects first, made durable once per folder, then their sidecars: a crash before a
        // sidecar goes only leaves an entry that matches no file.
        let mut changed: Vec<(&Path, &str)> = Vec::new();
        for (key, paths) in &doomed {
            match fs::remove_file(&paths.object) {
                Ok(()) => {
                    if !changed.iter().any(|(dir, _)| *dir == paths.object_dir()) {
                        changed.push((paths.object_dir(), key));
                    }
                }
                Err(error) if is_absent(&error) || error.kind() == io::ErrorKind::IsADirectory => {}
                Err(error) => return Err(backend("deleting", bucket, key, error)),
            }
        }
        for (dir, key) in changed {
            sync_dir(dir).map_err(|error| backend("deleting", bucket, key, error))?;
        }
        for (key, paths) in &doomed {
            match fs::remove_file(&paths.sidecar) {
                Ok(()) => {}
                Err(error) if is_absent(&error) => {}
                Err(error) => return Err(backend("deleting", bucket, key, error)),
            }
        }
        // S3 has no folders: once `a/b` is gone, `a` must be free to become an object.
        for (_, paths) in &doomed {
            prune_empty_dirs(paths.object_dir(), &dirs.data);
            if let Some(dir) = paths.sidecar.parent() {
                prune_empty_dirs(dir, &dirs.meta);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ObjectStore for LocalObjectStore {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        let (store, bucket, key, options) = (
            self.clone(),
            bucket.to_owned(),
            key.to_owned(),
            options.clone(),
        );
        run_blocking(move || store.put_blocking(&bucket, &key, &body, &options)).await
    }

    /// One file written, synced and hashed for every target (see
    /// [`LocalObjectStore::put_prepared`]).
    async fn put_each(
        &self,
        body: Bytes,
        targets: &[PutTarget],
    ) -> Result<Vec<PutReceipt>, ObjectStoreError> {
        let (store, targets) = (self.clone(), targets.to_vec());
        run_blocking(move || store.put_each_blocking(&body, &targets)).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        let (store, bucket, key) = (self.clone(), bucket.to_owned(), key.to_owned());
        run_blocking(move || store.get_blocking(&bucket, &key)).await
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        let (store, bucket, key) = (self.clone(), bucket.to_owned(), key.to_owned());
        run_blocking(move || store.head_blocking(&bucket, &key)).await
    }

    async fn get_body(&self, bucket: &str, key: &str) -> Result<Bytes, ObjectStoreError> {
        let (store, bucket, key) = (self.clone(), bucket.to_owned(), key.to_owned());
        run_blocking(move || store.get_body_blocking(&bucket, &key)).await
    }

    async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, ObjectStoreError> {
        let (store, bucket, prefix) = (self.clone(), bucket.to_owned(), prefix.to_owned());
        run_blocking(move || store.list_keys_blocking(&bucket, &prefix)).await
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        let (store, bucket, prefix) = (self.clone(), bucket.to_owned(), prefix.to_owned());
        let token = continuation_token.map(str::to_owned);
        run_blocking(move || store.list_blocking(&bucket, &prefix, token.as_deref())).await
    }

    async fn list_folders(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<String>, ObjectStoreError> {
        let (store, bucket, prefix) = (self.clone(), bucket.to_owned(), prefix.to_owned());
        run_blocking(move || store.list_folders_blocking(&bucket, &prefix)).await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
        let (store, bucket, keys) = (self.clone(), bucket.to_owned(), vec![key.to_owned()]);
        run_blocking(move || store.delete_blocking(&bucket, &keys)).await
    }

    /// One lock and one sync per folder for all of `keys`, where deleting them one by one
    /// would take the bucket's lock and sync the folder once per key.
    async fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), ObjectStoreError> {
        let (store, bucket, keys) = (self.clone(), bucket.to_owned(), keys.to_vec());
        run_blocking(move || store.delete_blocking(&bucket, &keys)).await
    }
}

/// Runs filesystem work on tokio's blocking pool so it never stalls the async workers.
async fn run_blocking<T: Send + 'static>(
    task: impl FnOnce() -> Result<T, ObjectStoreError> + Send + 'static,
) -> Result<T, ObjectStoreError> {
    match tokio::task::spawn_blocking(task).await {
        Ok(result) => result,
        // A panic is a bug in this file: surface it as one, not as a storage error.
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(ObjectStoreError::Backend {
            context: "local object store: the runtime shut down mid-operation".to_owned(),
            source: Box::new(error),
        }),
    }
}

/// A put checked and placed, not yet written: see [`LocalObjectStore::prepare`].
struct Prepared<'t> {
    bucket: &'t str,
    key: &'t str,
    options: &'t PutOptions,
    /// User metadata, names lowercased.
    metadata: BTreeMap<String, String>,
    dirs: BucketDirs,
    paths: ObjectPaths,
}

impl Prepared<'_> {
    fn failed(&self, error: io::Error) -> ObjectStoreError {
        put_error(self.bucket, self.key, error)
    }

    /// Puts the written and synced `temp` in place as this object, whose bytes hash to
    /// `etag`: under the bucket's lock, checks the condition, records the new version in the
    /// sidecar, then renames (or, create-only, links) the file into place.
    fn commit(
        &self,
        mut temp: TempFile,
        temp_meta: &fs::Metadata,
        etag: String,
    ) -> Result<PutReceipt, ObjectStoreError> {
        let Self {
            bucket,
            key,
            options,
            dirs,
            paths,
            ..
        } = self;
        let failed = |error| self.failed(error);
        let new_version = Version {
            file: Fingerprint::of(temp_meta).map_err(failed)?,
            etag: etag.clone(),
            content_type: options.content_type.clone(),
            content_encoding: options.content_encoding.clone(),
            metadata: self.metadata.clone(),
            encryption: options.encryption.as_ref().map(StoredEncryption::from),
        };
        let precondition_failed = || ObjectStoreError::PreconditionFailed {
            bucket: (*bucket).to_owned(),
            key: (*key).to_owned(),
        };
        let _lock = BucketLock::exclusive(&dirs.lock).map_err(failed)?;
        let current_version = match open_object(&paths.object).map_err(failed)? {
            Opened::Folder => return Err(folder_conflict(bucket, key)),
            Opened::Absent => match options.condition {
                Condition::IfMatch(_) => return Err(precondition_failed()),
                Condition::None | Condition::IfNoneMatch => None,
            },
            Opened::File(mut file, meta) => {
                let version = read_version(&paths.sidecar, &meta);
                match &options.condition {
                    Condition::None => {}
                    Condition::IfNoneMatch => return Err(precondition_failed()),
                    Condition::IfMatch(expected) => {
                        let current = match &version {
                            Some(version) => version.etag.clone(),
                            None => etag_of_reader(&mut file).map_err(failed)?,
                        };
                        if expected.as_str() != current {
                            return Err(precondition_failed());
                        }
                    }
                }
                version
            }
        };

        // Keep the current file's entry: until the rename below is durable, it is still the
        // object a reader (or a restart after a crash) finds.
        let mut versions = vec![new_version];
        versions.extend(current_version);
        write_sidecar(&paths.sidecar, &Sidecar { versions }).map_err(failed)?;

        if options.condition == Condition::IfNoneMatch {
            // Under the lock the key was absent; linking still refuses atomically should a
            // writer outside Cairn have created it since. Dropping `temp` removes the temp name.
            match fs::hard_link(&temp.path, &paths.object) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(precondition_failed());
                }
                Err(error) => return Err(failed(error)),
            }
        } else {
            fs::rename(&temp.path, &paths.object).map_err(failed)?;
            temp.keep = true;
        }
        sync_dir(paths.object_dir()).map_err(failed)?;
        Ok(PutReceipt {
            etag: ETag::new(etag),
        })
    }
}

struct BucketDirs {
    data: PathBuf,
    meta: PathBuf,
    lock: PathBuf,
}

impl BucketDirs {
    fn object(&self, relative: &Path) -> ObjectPaths {
        let mut sidecar = self.meta.join(relative).into_os_string();
        sidecar.push(SIDECAR_SUFFIX);
        ObjectPaths {
            object: self.data.join(relative),
            sidecar: PathBuf::from(sidecar),
        }
    }
}

struct ObjectPaths {
    object: PathBuf,
    sidecar: PathBuf,
}

impl ObjectPaths {
    fn object_dir(&self) -> &Path {
        // `object` is the bucket directory joined with a non-empty relative path.
        self.object.parent().unwrap_or(&self.object)
    }
}

/// S3's general-purpose bucket naming rules (less the IP-address and reserved-prefix ones).
fn is_valid_bucket_name(bucket: &str) -> bool {
    let bytes = bucket.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !bucket.contains("..")
}

/// The key as a path relative to its bucket directory, or why the file tree cannot hold it.
fn key_path(bucket: &str, key: &str) -> Result<PathBuf, ObjectStoreError> {
    let invalid = |reason: &str| ObjectStoreError::InvalidRequest {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        reason: format!("the local store cannot hold this key: {reason}"),
    };
    if key.contains('\0') {
        return Err(invalid("it contains a NUL character"));
    }
    let mut path = PathBuf::new();
    for segment in key.split('/') {
        match segment {
            "" => {
                return Err(invalid(
                    "it has an empty segment (leading, trailing or double /)",
                ));
            }
            "." | ".." => return Err(invalid("it has a . or .. segment")),
            _ if segment.starts_with(TEMP_PREFIX) => {
                return Err(invalid(
                    "a segment starts with .cairn-tmp., reserved for temp files",
                ));
            }
            _ => path.push(segment),
        }
    }
    Ok(path)
}

fn not_found(bucket: &str, key: &str) -> ObjectStoreError {
    ObjectStoreError::NotFound {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    }
}

fn folder_conflict(bucket: &str, key: &str) -> ObjectStoreError {
    ObjectStoreError::InvalidRequest {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        reason: "the local store cannot hold both an object and other keys below it as a folder \
                 (like `a` and `a/b`)"
            .to_owned(),
    }
}

fn backend(operation: &str, bucket: &str, key: &str, error: io::Error) -> ObjectStoreError {
    ObjectStoreError::Backend {
        context: format!("local object store: {operation} s3://{bucket}/{key}"),
        source: Box::new(error),
    }
}

/// A put fails on the tree's shape when the key collides with a folder or a folder with a file.
/// On a full disk the error says so itself, with what to do, since the cause (the source) is
/// not shown everywhere the error is: a put is atomic, so nothing of the object was kept.
fn put_error(bucket: &str, key: &str, error: io::Error) -> ObjectStoreError {
    match error.kind() {
        io::ErrorKind::NotADirectory
        | io::ErrorKind::IsADirectory
        | io::ErrorKind::AlreadyExists
        | io::ErrorKind::DirectoryNotEmpty => folder_conflict(bucket, key),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => ObjectStoreError::Backend {
            context: format!(
                "local object store: writing s3://{bucket}/{key} failed: the disk holding the \
                 store is full ({error}); nothing of the object was kept. Free space on it, or \
                 move the store to a bigger disk, and repeat"
            ),
            source: Box::new(error),
        },
        _ => backend("writing", bucket, key, error),
    }
}

/// A missing file, or a "folder" on the way that is really a file.
fn is_absent(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

enum Opened {
    Absent,
    /// The path is a folder of other keys, not an object.
    Folder,
    File(File, fs::Metadata),
}

/// What a read takes of an object besides its bytes.
enum Reading {
    /// Its sidecar too: under the bucket's shared lock, which keeps the two one version.
    WithSidecar,
    /// Nothing: no lock is needed, since an object is one file, which a put replaces by a
    /// rename and a delete removes by an unlink, both atomic, so the open finds one whole
    /// version or none. The reads a delivery makes of its next batch then run while the batch
    /// before is deleted, rather than wait for the deletes to release the bucket.
    BodyAlone,
}

/// Opens the object once so its metadata, bytes and ETag all come from the same file.
fn open_object(path: &Path) -> io::Result<Opened> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if is_absent(&error) => return Ok(Opened::Absent),
        Err(error) => return Err(error),
    };
    let meta = file.metadata()?;
    Ok(if meta.is_file() {
        Opened::File(file, meta)
    } else {
        Opened::Folder
    })
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

fn etag_of_reader(reader: &mut impl Read) -> io::Result<String> {
    let mut hasher = Md5::new();
    io::copy(reader, &mut hasher)?;
    Ok(format!("\"{}\"", hex::encode(hasher.finalize())))
}

fn last_modified(meta: &fs::Metadata) -> io::Result<OffsetDateTime> {
    let modified = OffsetDateTime::from(meta.modified()?);
    Ok(modified - Duration::nanoseconds(i64::from(modified.nanosecond())))
}

fn object_info(
    meta: &fs::Metadata,
    version: Option<Version>,
    etag_from_bytes: impl FnOnce() -> io::Result<String>,
) -> io::Result<ObjectInfo> {
    let last_modified = last_modified(meta)?;
    Ok(match version {
        Some(version) => ObjectInfo {
            etag: ETag::new(version.etag),
            size: meta.len(),
            content_type: Some(version.content_type),
            content_encoding: version.content_encoding,
            metadata: version.metadata,
            last_modified,
            encryption: version.encryption.map(Encryption::from),
        },
        None => ObjectInfo {
            etag: ETag::new(etag_from_bytes()?),
            size: meta.len(),
            content_type: None,
            content_encoding: None,
            metadata: BTreeMap::new(),
            last_modified,
            encryption: None,
        },
    })
}

/// What the store knows of the object at `paths` without reading its body into memory; `None`
/// when no object is there.
fn describe(paths: &ObjectPaths) -> io::Result<Option<ObjectInfo>> {
    let Opened::File(mut file, meta) = open_object(&paths.object)? else {
        return Ok(None);
    };
    let version = read_version(&paths.sidecar, &meta);
    object_info(&meta, version, || etag_of_reader(&mut file)).map(Some)
}

/// Where a listing of `prefix` walks: only the deepest folder the prefix names in full, as
/// (its key prefix, its path); `None` when no object can be under it (the store could not
/// create such a folder).
fn walk_start(dirs: &BucketDirs, bucket: &str, prefix: &str) -> Option<(String, PathBuf)> {
    match prefix.rsplit_once('/') {
        None => Some((String::new(), dirs.data.clone())),
        Some((folder, _)) => key_path(bucket, folder)
            .ok()
            .map(|relative| (format!("{folder}/"), dirs.data.join(relative))),
    }
}

/// The keys starting with `prefix` under `dir` (whose keys all start with `folder`), in UTF-8
/// byte order, S3's.
fn keys_under(dir: &Path, folder: &str, prefix: &str) -> io::Result<Vec<String>> {
    let mut keys = Vec::new();
    collect_keys(dir, folder, &mut keys)?;
    keys.retain(|key| key.starts_with(prefix));
    keys.sort_unstable();
    Ok(keys)
}

/// Appends every object key under `dir` (whose keys all start with `folder`) to `keys`.
fn collect_keys(dir: &Path, folder: &str, keys: &mut Vec<String>) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if is_absent(&error) => return Ok(()),
        Err(error) => return Err(error),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            tracing::warn!(path = %entry.path().display(), "skipping a file whose name is not UTF-8: S3 keys are");
            continue;
        };
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let key = format!("{folder}{name}");
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            collect_keys(&entry.path(), &format!("{key}/"), keys)?;
        } else if file_type.is_file()
            // Reads follow a symlink to a file, so listings do too; symlinked folders are not
            // followed, which rules out cycles.
            || (file_type.is_symlink() && fs::metadata(entry.path()).is_ok_and(|m| m.is_file()))
        {
            keys.push(key);
        }
    }
    Ok(())
}

/// Removes `dir` and its parents while they are empty, stopping at `stop`.
fn prune_empty_dirs(dir: &Path, stop: &Path) {
    let mut dir = dir;
    while dir != stop && dir.starts_with(stop) {
        // Failing (not empty, or already gone) simply ends the pruning.
        if fs::remove_dir(dir).is_err() {
            return;
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => return,
        }
    }
}

/// Makes a rename or unlink in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A fully written and synced file under a reserved name, removed on drop unless kept.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    fn create_in(dir: &Path, contents: &[u8]) -> io::Result<(Self, fs::Metadata)> {
        Self::reserve_in(dir, |path| {
            let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
            file.write_all(contents)?;
            file.sync_all()?;
            file.metadata()
        })
    }

    /// Another name, beside `dir`'s objects, for the file at `source` (written and synced
    /// already, so only the rename that puts the new name in place needs syncing).
    fn link_in(dir: &Path, source: &Path) -> io::Result<(Self, fs::Metadata)> {
        Self::reserve_in(dir, |path| {
            fs::hard_link(source, path)?;
            fs::metadata(path)
        })
    }

    /// Makes a file under a fresh reserved name in `dir` with `make`, which must fail with
    /// `AlreadyExists` when the name is taken.
    fn reserve_in(
        dir: &Path,
        mut make: impl FnMut(&Path) -> io::Result<fs::Metadata>,
    ) -> io::Result<(Self, fs::Metadata)> {
        // A concurrent delete may prune `dir` between creating it and creating the file in it.
        let mut dir_attempts = 0;
        loop {
            let path = dir.join(format!("{TEMP_PREFIX}{:016x}", rand::random::<u64>()));
            match make(&path) {
                Ok(meta) => return Ok((Self { path, keep: false }, meta)),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound && dir_attempts < 3 => {
                    dir_attempts += 1;
                    fs::create_dir_all(dir)?;
                }
                Err(error) => {
                    // Best effort, as on drop: a file `make` left half made is invisible.
                    let _ = fs::remove_file(&path);
                    return Err(error);
                }
            }
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: a leftover temp file is invisible to reads and listings.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// An exclusive or shared `flock` on a bucket's lock file, released on drop.
struct BucketLock(Option<File>);

impl BucketLock {
    fn open(path: &Path) -> io::Result<File> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    }

    fn exclusive(path: &Path) -> io::Result<Self> {
        let file = Self::open(path)?;
        file.lock()?;
        Ok(Self(Some(file)))
    }

    /// On a read-only tree (a synced copy on a read-only mount) no writer can exist, so reading
    /// without the lock is safe and better than refusing.
    fn shared(path: &Path) -> io::Result<Self> {
        match Self::open(path) {
            Ok(file) => {
                file.lock_shared()?;
                Ok(Self(Some(file)))
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied
                ) =>
            {
                Ok(Self(None))
            }
            Err(error) => Err(error),
        }
    }
}

impl Drop for BucketLock {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            // Closing the file releases the lock anyway; unlocking first just says so.
            let _ = file.unlock();
        }
    }
}

/// Identifies the exact file a sidecar entry describes: a rename or hard link keeps all three,
/// and any other writer (a sync, an editor) changes at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Fingerprint {
    inode: u64,
    size: u64,
    modified_secs: i64,
    modified_nanos: u32,
}

impl Fingerprint {
    fn of(meta: &fs::Metadata) -> io::Result<Self> {
        let modified = OffsetDateTime::from(meta.modified()?);
        Ok(Self {
            inode: inode(meta),
            size: meta.len(),
            modified_secs: modified.unix_timestamp(),
            modified_nanos: modified.nanosecond(),
        })
    }
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

/// Elsewhere size and nanosecond mtime must identify the file on their own.
#[cfg(not(unix))]
fn inode(_meta: &fs::Metadata) -> u64 {
    0
}

#[derive(Debug, Serialize, Deserialize)]
struct Sidecar {
    /// The newest write first; at most the new file and the one it replaces.
    versions: Vec<Version>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Version {
    file: Fingerprint,
    etag: String,
    content_type: String,
    content_encoding: Option<String>,
    metadata: BTreeMap<String, String>,
    encryption: Option<StoredEncryption>,
}

/// The sidecar's own spelling of [`Encryption`], so the port type can change without breaking
/// stores already on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum StoredEncryption {
    S3Managed,
    Kms { key_id: String },
}

impl From<&Encryption> for StoredEncryption {
    fn from(encryption: &Encryption) -> Self {
        match encryption {
            Encryption::S3Managed => Self::S3Managed,
            Encryption::Kms { key_id } => Self::Kms {
                key_id: key_id.clone(),
            },
        }
    }
}

impl From<StoredEncryption> for Encryption {
    fn from(encryption: StoredEncryption) -> Self {
        match encryption {
            StoredEncryption::S3Managed => Self::S3Managed,
            StoredEncryption::Kms { key_id } => Self::Kms { key_id },
        }
    }
}

/// The sidecar entry describing the file `meta` came from, if any.
fn read_version(sidecar: &Path, meta: &fs::Metadata) -> Option<Version> {
    let file = Fingerprint::of(meta).ok()?;
    let bytes = match fs::read(sidecar) {
        Ok(bytes) => bytes,
        Err(error) => {
            // A name too long for the suffix can only belong to a synced file, which has none.
            if !is_absent(&error) && error.kind() != io::ErrorKind::InvalidFilename {
                tracing::warn!(path = %sidecar.display(), %error, "unreadable sidecar; using the object's bytes alone");
            }
            return None;
        }
    };
    match serde_json::from_slice::<Sidecar>(&bytes) {
        Ok(sidecar) => sidecar
            .versions
            .into_iter()
            .find(|version| version.file == file),
        Err(error) => {
            tracing::warn!(path = %sidecar.display(), %error, "corrupt sidecar; using the object's bytes alone");
            None
        }
    }
}

/// Replaces the sidecar atomically and durably, so it is on disk before the object it describes.
fn write_sidecar(path: &Path, sidecar: &Sidecar) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("a sidecar path has no parent"))?;
    let json = serde_json::to_vec(sidecar)?;
    let (mut temp, _) = TempFile::create_in(dir, &json)?;
    fs::rename(&temp.path, path)?;
    temp.keep = true;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: &str = "test-bucket";

    async fn store() -> (tempfile::TempDir, LocalObjectStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket(BUCKET).await.expect("create bucket");
        (dir, store)
    }

    fn options() -> PutOptions {
        PutOptions::new("application/json")
    }

    fn md5_etag(body: &[u8]) -> ETag {
        ETag::new(etag_of(body))
    }

    /// Puts `body` under `key` in the test bucket.
    async fn put(
        store: &LocalObjectStore,
        key: &str,
        body: &'static [u8],
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        store
            .put(BUCKET, key, Bytes::from_static(body), options)
            .await
    }

    fn targets(keys: &[(&str, &str)]) -> Vec<PutTarget> {
        keys.iter()
            .map(|(bucket, key)| PutTarget {
                bucket: (*bucket).to_owned(),
                key: (*key).to_owned(),
                options: options(),
            })
            .collect()
    }

    #[cfg(unix)]
    fn inode_of(path: &Path) -> u64 {
        std::os::unix::fs::MetadataExt::ino(&fs::metadata(path).expect("metadata"))
    }

    #[tokio::test]
    async fn put_each_keeps_one_file_for_every_key_and_each_key_lives_on_its_own() {
        let (dir, store) = store().await;
        store.create_bucket("state-bucket").await.expect("bucket");
        let targets = targets(&[
            (BUCKET, "AWSLogs/log.json.gz"),
            ("state-bucket", "history/a"),
        ]);
        store
            .put_each(Bytes::from_static(b"records"), &targets)
            .await
            .expect("put each");
        let log_file = dir.path().join(BUCKET).join("AWSLogs/log.json.gz");
        let copy = dir.path().join("state-bucket/history/a");
        #[cfg(unix)]
        assert_eq!(inode_of(&log_file), inode_of(&copy), "one file, two names");
        // No temp name is left behind, beside either key.
        let leftovers = |folder: &Path| {
            fs::read_dir(folder)
                .expect("folder")
                .filter(|entry| {
                    let name = entry.as_ref().expect("entry").file_name();
                    name.to_string_lossy().starts_with(TEMP_PREFIX)
                })
                .count()
        };
        assert_eq!(leftovers(log_file.parent().expect("folder")), 0);
        assert_eq!(leftovers(copy.parent().expect("folder")), 0);

        // Replacing one key renames a new file over its name; the other keeps the bytes.
        put(&store, "AWSLogs/log.json.gz", b"other", &options())
            .await
            .expect("replace");
        let kept = store.get("state-bucket", "history/a").await.expect("get");
        assert_eq!(kept.body, Bytes::from_static(b"records"));
        assert_eq!(kept.info.etag, md5_etag(b"records"));
        assert_eq!(fs::read(&log_file).expect("read"), b"other");
    }

    /// A bucket on another filesystem cannot share the file: it gets a copy of its own.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn put_each_copies_the_body_to_a_bucket_on_another_filesystem() {
        use std::os::unix::fs::MetadataExt;
        let (dir, store) = store().await;
        let elsewhere = tempfile::tempdir_in("/dev/shm").expect("a folder on tmpfs");
        assert_ne!(
            fs::metadata(dir.path()).expect("root").dev(),
            fs::metadata(elsewhere.path()).expect("tmpfs").dev(),
            "the test needs its temp folder off /dev/shm's filesystem"
        );
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("state-bucket"))
            .expect("bucket folder on tmpfs");
        let targets = targets(&[(BUCKET, "log.json.gz"), ("state-bucket", "history/a")]);
        let receipts = store
            .put_each(Bytes::from_static(b"records"), &targets)
            .await
            .expect("put each");
        assert_eq!(receipts[1].etag, md5_etag(b"records"));
        assert_eq!(
            fs::read(elsewhere.path().join("history/a")).expect("the copy"),
            b"records"
        );
        let copy = store.get("state-bucket", "history/a").await.expect("get");
        assert_eq!(copy.info.content_type.as_deref(), Some("application/json"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_body_reads_while_a_writer_holds_the_bucket_and_a_get_waits_for_it() {
        let (_dir, store) = store().await;
        put(&store, "k", b"v1", &options()).await.expect("put");
        let writer =
            BucketLock::exclusive(&store.bucket(BUCKET).expect("bucket").lock).expect("lock");
        let wait = std::time::Duration::from_secs(10);
        let body = tokio::time::timeout(wait, store.get_body(BUCKET, "k"))
            .await
            .expect("the body alone does not wait for the writer")
            .expect("get_body");
        assert_eq!(&body[..], b"v1");
        let get = tokio::spawn({
            let store = store.clone();
            async move { store.get(BUCKET, "k").await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            !get.is_finished(),
            "a get pairs body and sidecar under the lock"
        );
        drop(writer);
        let object = tokio::time::timeout(wait, get)
            .await
            .expect("the get goes on once the writer is done")
            .expect("task")
            .expect("get");
        assert_eq!(object.info.etag, md5_etag(b"v1"));
    }

    #[tokio::test]
    async fn objects_live_at_their_exact_paths_with_sidecars_apart() {
        let (dir, store) = store().await;
        let options = options().metadata("Signature", "ab");
        let receipt = put(&store, "AWSLogs/1/x.json.gz", b"body", &options)
            .await
            .expect("put");

        let root = dir.path();
        assert_eq!(
            fs::read(root.join(BUCKET).join("AWSLogs/1/x.json.gz")).expect("object file"),
            b"body"
        );
        let sidecar: Sidecar = serde_json::from_slice(
            &fs::read(
                root.join(".cairn-meta")
                    .join(BUCKET)
                    .join("AWSLogs/1/x.json.gz.json"),
            )
            .expect("sidecar file"),
        )
        .expect("sidecar json");
        assert_eq!(sidecar.versions.len(), 1);
        assert_eq!(sidecar.versions[0].etag, receipt.etag.as_str());
        assert_eq!(sidecar.versions[0].metadata["signature"], "ab");

        // Nothing but the object in the bucket tree: no temp files, no metadata.
        let mut names = Vec::new();
        collect_all_names(&root.join(BUCKET), &mut names);
        assert_eq!(names, ["AWSLogs", "1", "x.json.gz"]);
    }

    fn collect_all_names(dir: &Path, names: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("read_dir") {
            let entry = entry.expect("entry");
            names.push(entry.file_name().to_string_lossy().into_owned());
            if entry.file_type().expect("type").is_dir() {
                collect_all_names(&entry.path(), names);
            }
        }
    }

    #[tokio::test]
    async fn bodies_and_keys_alone_are_what_get_and_list_give() {
        let (dir, store) = store().await;
        let folder = dir.path().join(BUCKET).join("AWSLogs").join("a");
        fs::create_dir_all(&folder).expect("mkdir");
        fs::write(folder.join("copied.json"), b"hello").expect("write");
        fs::write(folder.join(".cairn-tmp.0123456789abcdef"), b"partial").expect("write");
        put(&store, "AWSLogs/b.json", b"put", &options())
            .await
            .expect("put");

        for key in ["AWSLogs/a/copied.json", "AWSLogs/b.json"] {
            let object = store.get(BUCKET, key).await.expect("get");
            assert_eq!(
                store.get_body(BUCKET, key).await.expect("body"),
                object.body
            );
        }
        assert!(matches!(
            store.get_body(BUCKET, "AWSLogs/none.json").await,
            Err(ObjectStoreError::NotFound { .. })
        ));
        for prefix in [
            "",
            "AWSLogs/",
            "AWSLogs/a",
            "AWSLogs/a/",
            "AWSLogs/c/",
            "nothing",
        ] {
            let listed: Vec<String> = store
                .list_all(BUCKET, prefix)
                .await
                .expect("list")
                .into_iter()
                .map(|entry| entry.key)
                .collect();
            assert_eq!(
                store.list_keys(BUCKET, prefix).await.expect("keys"),
                listed,
                "{prefix}"
            );
        }
    }

    #[tokio::test]
    async fn a_synced_copy_without_sidecars_reads_with_etags_from_its_bytes() {
        let (dir, store) = store().await;
        let folder = dir.path().join(BUCKET).join("AWSLogs");
        fs::create_dir_all(&folder).expect("mkdir");
        fs::write(folder.join("copied.json"), b"hello").expect("write");
        // A crash's leftover temp file is not an object.
        fs::write(folder.join(".cairn-tmp.0123456789abcdef"), b"partial").expect("write");

        let object = store.get(BUCKET, "AWSLogs/copied.json").await.expect("get");
        assert_eq!(object.body, Bytes::from_static(b"hello"));
        assert_eq!(
            object.info.etag.as_str(),
            "\"5d41402abc4b2a76b9719d911017c592\""
        );
        assert_eq!(object.info.content_type, None);
        assert!(object.info.metadata.is_empty());
        let head = store
            .head(BUCKET, "AWSLogs/copied.json")
            .await
            .expect("head");
        assert_eq!(head, object.info);

        let page = store.list_page(BUCKET, "", None).await.expect("list");
        let keys: Vec<_> = page.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["AWSLogs/copied.json"]);
        assert_eq!(page.entries[0].etag, object.info.etag);

        // A compare-and-swap works against the computed ETag too.
        let options = options().condition(Condition::IfMatch(object.info.etag));
        put(&store, "AWSLogs/copied.json", b"v2", &options)
            .await
            .expect("if-match on a synced copy");
    }

    #[tokio::test]
    async fn an_object_replaced_outside_cairn_drops_its_stale_sidecar() {
        let (dir, store) = store().await;
        put(&store, "k", b"cairn", &options().metadata("a", "1"))
            .await
            .expect("put");
        // As `aws s3 sync` does: a new file renamed over the old one.
        let path = dir.path().join(BUCKET).join("k");
        let staged = dir.path().join(BUCKET).join("staged");
        fs::write(&staged, b"synced").expect("write");
        fs::rename(&staged, &path).expect("rename");

        let info = store.head(BUCKET, "k").await.expect("head");
        assert_eq!(info.etag, md5_etag(b"synced"));
        assert!(info.metadata.is_empty());
        assert_eq!(info.content_type, None);
    }

    #[tokio::test]
    async fn a_crash_before_the_rename_leaves_the_old_object_whole() {
        let (dir, store) = store().await;
        let options = options().metadata("signature", "old-sig");
        let old = put(&store, "digest", b"old", &options).await.expect("put");

        // Replay a put up to its last step: new file written, sidecar committed, no rename.
        let dirs = store.bucket(BUCKET).expect("bucket");
        let paths = dirs.object(Path::new("digest"));
        let (temp, temp_meta) = TempFile::create_in(paths.object_dir(), b"new").expect("temp file");
        let current = read_version(&paths.sidecar, &fs::metadata(&paths.object).expect("stat"))
            .expect("current version");
        let new = Version {
            file: Fingerprint::of(&temp_meta).expect("fingerprint"),
            etag: etag_of(b"new"),
            content_type: "application/json".into(),
            content_encoding: None,
            metadata: BTreeMap::from([("signature".into(), "new-sig".into())]),
            encryption: None,
        };
        write_sidecar(
            &paths.sidecar,
            &Sidecar {
                versions: vec![new, current],
            },
        )
        .expect("sidecar");
        drop(temp);

        let object = store.get(BUCKET, "digest").await.expect("get");
        assert_eq!(object.body, Bytes::from_static(b"old"));
        assert_eq!(object.info.etag, old.etag);
        assert_eq!(object.info.metadata["signature"], "old-sig");
        assert!(dir.path().join(BUCKET).join("digest").exists());
    }

    #[tokio::test]
    async fn keys_the_tree_cannot_hold_are_refused_clearly() {
        let (_dir, store) = store().await;
        for key in [
            "../escape",
            "a/../../escape",
            "/absolute",
            "a//b",
            "trailing/",
            "./x",
            "a/.cairn-tmp.x",
            "nul\0byte",
        ] {
            let error = put(&store, key, b"", &options()).await.expect_err(key);
            assert!(
                matches!(&error, ObjectStoreError::InvalidRequest { reason, .. } if reason.contains("cannot hold this key")),
                "{key:?}: {error:?}"
            );
            assert!(matches!(
                store.get(BUCKET, key).await,
                Err(ObjectStoreError::NotFound { .. })
            ));
            store
                .delete(BUCKET, key)
                .await
                .expect("delete of an impossible key");
        }
    }

    #[tokio::test]
    async fn a_key_cannot_be_both_object_and_folder_until_the_folder_empties() {
        let (_dir, store) = store().await;
        put(&store, "a/b", b"1", &options()).await.expect("put a/b");
        for (key, body) in [("a", b"2"), ("a/b/c", b"3")] {
            let conflict = put(&store, key, body, &options()).await;
            assert!(
                matches!(&conflict, Err(ObjectStoreError::InvalidRequest { reason, .. }) if reason.contains("folder")),
                "{conflict:?}"
            );
        }
        assert!(matches!(
            store.get(BUCKET, "a").await,
            Err(ObjectStoreError::NotFound { .. })
        ));

        store.delete(BUCKET, "a/b").await.expect("delete");
        put(&store, "a", b"2", &options())
            .await
            .expect("`a` is free once its folder is empty");
    }

    #[tokio::test]
    async fn bucket_names_are_checked_and_buckets_must_exist() {
        let (dir, store) = store().await;
        for name in ["..", ".cairn-meta", "a/b", "UPPER", "ab", "-ab", "a..b"] {
            assert!(store.create_bucket(name).await.is_err(), "{name}");
            assert!(matches!(
                store.put(name, "k", Bytes::new(), &options()).await,
                Err(ObjectStoreError::NoSuchBucket { .. })
            ));
        }
        assert!(!dir.path().join("UPPER").exists());
        assert!(matches!(
            store.list_page("missing-bucket", "", None).await,
            Err(ObjectStoreError::NoSuchBucket { .. })
        ));
    }

    /// Processes share nothing but the files, so this is the test that `flock` (and not some
    /// in-process mutex) is what serialises compare-and-swaps: children increment one counter
    /// with If-Match retries, and a single lost update shows in the total.
    #[test]
    fn compare_and_swap_is_atomic_across_processes() {
        const CHILD_ROOT: &str = "CAIRN_LOCAL_STORE_CAS_CHILD_ROOT";
        const CHILDREN: usize = 4;
        const INCREMENTS: usize = 25;
        let runtime = tokio::runtime::Runtime::new().expect("runtime");

        if let Ok(root) = std::env::var(CHILD_ROOT) {
            let store = LocalObjectStore::new(PathBuf::from(root));
            runtime.block_on(async {
                let mut done = 0;
                while done < INCREMENTS {
                    let current = store.get(BUCKET, "counter").await.expect("get");
                    let value: usize = std::str::from_utf8(&current.body)
                        .expect("utf8")
                        .parse()
                        .expect("number");
                    let options = options().condition(Condition::IfMatch(current.info.etag));
                    match store
                        .put(
                            BUCKET,
                            "counter",
                            Bytes::from((value + 1).to_string()),
                            &options,
                        )
                        .await
                    {
                        Ok(_) => done += 1,
                        Err(ObjectStoreError::PreconditionFailed { .. }) => {}
                        Err(error) => panic!("{error}"),
                    }
                }
            });
            return;
        }

        let (dir, store) = runtime.block_on(store());
        runtime
            .block_on(put(&store, "counter", b"0", &options()))
            .expect("seed");
        let exe = std::env::current_exe().expect("test binary");
        let children: Vec<_> = (0..CHILDREN)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "adapters::local::object_store::tests::compare_and_swap_is_atomic_across_processes",
                        "--test-threads=1",
                    ])
                    .env(CHILD_ROOT, dir.path())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("spawn child")
            })
            .collect();
        for mut child in children {
            assert!(child.wait().expect("wait").success(), "a child failed");
        }
        let body = runtime
            .block_on(store.get(BUCKET, "counter"))
            .expect("get")
            .body;
        assert_eq!(body, (CHILDREN * INCREMENTS).to_string().as_bytes());
    }
}
