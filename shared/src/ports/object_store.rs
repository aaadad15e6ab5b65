//! The object store: the only way Cairn reads and writes S3-shaped storage (staging, log files,
//! digests, public keys).
//!
//! The semantics are S3's, because the S3 adapter is the one that runs in production and the
//! local adapter must not let a test pass that S3 would fail: single-part puts, ETags as S3
//! returns them (quoted), `x-amz-meta-*` user metadata with lowercase names, conditional writes
//! (`If-None-Match: *`, `If-Match`), and ListObjectsV2 pagination in UTF-8 byte order.
//!
//! Retry and crash semantics, which the delivery pipeline builds its exactly-once guarantee on:
//! - Every put is atomic: a reader sees the whole previous object or the whole new one (body and
//!   metadata together), never a mix, including after a crash mid-write.
//! - An unconditional put is idempotent: repeating it stores the same bytes again.
//! - A conditional put is a compare-and-swap, so repeating one whose answer was lost can report
//!   [`ObjectStoreError::PreconditionFailed`] although the first attempt succeeded (the SDK also
//!   retries internally after a lost response). Callers that must tell "I lost" from "I already
//!   won" read the object back and compare it with what they wrote.
//! - Deletes are idempotent: deleting a missing key succeeds.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use time::OffsetDateTime;

/// The most entries one [`ObjectStore::list_page`] call returns: ListObjectsV2's own ceiling, so
/// code paging through the local store pages exactly as it will against S3.
pub const MAX_LIST_PAGE: usize = 1000;

/// The most keys one [`ObjectStore::delete_many`] call removes: DeleteObjects' own ceiling
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html).
pub const MAX_DELETE_KEYS: usize = 1000;

/// The longest key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// S3's limit on user metadata: the UTF-8 bytes of every name and value, summed.
pub const MAX_METADATA_BYTES: usize = 2048;

/// An entity tag exactly as S3 returns it, quotes included (`"` + md5 hex + `"` for a single-part
/// put without SSE-KMS).
///
/// A newtype so the value a store handed out is what goes back in [`Condition::IfMatch`], and is
/// never confused with the SHA-256 hashes Cairn computes over log files itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ETag(String);

impl ETag {
    /// Wraps an ETag received from a store (or persisted earlier from one).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The ETag as sent on the wire, quotes included.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Server-side encryption of an object at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3 (`AES256`): keys managed by S3.
    S3Managed,
    /// SSE-KMS (`aws:kms`) under the given key. S3 reports the key as its full ARN whatever form
    /// the put named it in, so pass an ARN when you compare what you wrote with what you read.
    Kms { key_id: String },
}

/// When a put may take effect. The condition is evaluated atomically with the write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Condition {
    /// Always write, replacing any current object.
    #[default]
    None,
    /// Create only: fail with [`ObjectStoreError::PreconditionFailed`] if the key exists.
    IfNoneMatch,
    /// Replace only if the current object's ETag equals this one; a missing object or any other
    /// ETag fails with [`ObjectStoreError::PreconditionFailed`].
    IfMatch(ETag),
}

/// How to store an object. Build with [`PutOptions::new`] and the chained setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOptions {
    /// `Content-Type`; always set because S3 would otherwise label everything
    /// `binary/octet-stream`.
    pub content_type: String,
    /// `Content-Encoding`, e.g. `gzip`.
    pub content_encoding: Option<String>,
    /// User metadata (`x-amz-meta-{name}`). Names are case-insensitive and stored lowercase, as
    /// S3 does; names and values must be printable ASCII (S3 carries them in HTTP headers, and
    /// anything else does not round-trip), values without surrounding spaces, at most
    /// [`MAX_METADATA_BYTES`] in all.
    pub metadata: BTreeMap<String, String>,
    /// Server-side encryption; `None` leaves it to the bucket default.
    pub encryption: Option<Encryption>,
    /// When the write may take effect.
    pub condition: Condition,
}

impl PutOptions {
    /// Options for an unconditional put with no metadata and the bucket's default encryption.
    pub fn new(content_type: impl Into<String>) -> Self {
        Self {
            content_type: content_type.into(),
            content_encoding: None,
            metadata: BTreeMap::new(),
            encryption: None,
            condition: Condition::None,
        }
    }

    pub fn content_encoding(mut self, encoding: impl Into<String>) -> Self {
        self.content_encoding = Some(encoding.into());
        self
    }

    /// Adds one user metadata entry; the name is lowercased as S3 would.
    pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .insert(name.into().to_ascii_lowercase(), value.into());
        self
    }

    pub fn encryption(mut self, encryption: Encryption) -> Self {
        self.encryption = Some(encryption);
        self
    }

    pub fn condition(mut self, condition: Condition) -> Self {
        self.condition = condition;
        self
    }
}

/// One key [`ObjectStore::put_each`] stores its body under, with that object's own options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutTarget {
    pub bucket: String,
    pub key: String,
    pub options: PutOptions,
}

/// What a successful put returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutReceipt {
    /// The new object's ETag: the value to pass to [`Condition::IfMatch`] for the next
    /// compare-and-swap on this key.
    pub etag: ETag,
}

/// Everything the store knows about an object except its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub etag: ETag,
    /// Body length in bytes.
    pub size: u64,
    /// `None` only for an object the store holds no record for (e.g. a file copied into the
    /// local store by `aws s3 sync`).
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    /// User metadata, names lowercase.
    pub metadata: BTreeMap<String, String>,
    /// Whole seconds, as S3's `Last-Modified` header has it.
    pub last_modified: OffsetDateTime,
    /// As the store reports it. S3 encrypts every new object (SSE-S3 at least), so an object put
    /// without [`PutOptions::encryption`] may still report [`Encryption::S3Managed`].
    pub encryption: Option<Encryption>,
}

impl ObjectInfo {
    /// The options that put a copy of this object with its type, encoding and metadata (what an
    /// evidence bundle must keep, the signatures being metadata). A type the store never
    /// recorded is S3's default for unlabelled bytes.
    pub fn copy_options(&self) -> PutOptions {
        PutOptions {
            content_encoding: self.content_encoding.clone(),
            metadata: self.metadata.clone(),
            ..PutOptions::new(
                self.content_type
                    .as_deref()
                    .unwrap_or("application/octet-stream"),
            )
        }
    }
}

/// An object read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub body: Bytes,
    pub info: ObjectInfo,
}

/// One key in a listing, with what ListObjectsV2 reports for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub key: String,
    pub size: u64,
    pub etag: ETag,
    pub last_modified: OffsetDateTime,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// At most [`MAX_LIST_PAGE`] entries, in UTF-8 byte order of their keys.
    pub entries: Vec<ListEntry>,
    /// Pass to the next [`ObjectStore::list_page`] call to continue; `None` on the last page.
    /// Opaque: only the store that issued it understands it.
    pub next_token: Option<String>,
}

/// Why an object-store call failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectStoreError {
    #[error("no object s3://{bucket}/{key}")]
    NotFound { bucket: String, key: String },

    /// A conditional put whose condition was false when it reached the store: the key existed
    /// (create-only) or no longer had the expected ETag (compare-and-swap). Also what a
    /// concurrent conditional write that lost the race gets (S3's 409 ConditionalRequestConflict).
    #[error(
        "conditional write to s3://{bucket}/{key} lost: the object is not in the expected state"
    )]
    PreconditionFailed { bucket: String, key: String },

    #[error("no bucket {bucket}")]
    NoSuchBucket { bucket: String },

    /// A request no store could ever carry out as made (a key or metadata S3 would refuse, or a
    /// key the local store cannot map to a file): retrying cannot help.
    #[error("invalid request for s3://{bucket}/{key}: {reason}")]
    InvalidRequest {
        bucket: String,
        key: String,
        reason: String,
    },

    /// Anything else: I/O, network, throttling, permissions. `context` names the operation, bucket
    /// and key; the cause is the error's source.
    #[error("{context}")]
    Backend {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// S3-shaped object storage. Dyn-compatible: the pipeline holds an `Arc<dyn ObjectStore>`.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Stores `body` under `key` as one atomic single-part put.
    ///
    /// Repeating an unconditional put is harmless. A conditional put that reports
    /// [`ObjectStoreError::PreconditionFailed`] wrote nothing, but the current object may be this
    /// caller's own earlier attempt (see the module docs).
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError>;

    /// Stores the same `body` under every one of `targets`: as many puts, each atomic and
    /// harmless to repeat as [`Self::put`] is. On an error some targets may hold the body and
    /// others not; repeating the call is harmless. Receipts come in the targets' order.
    ///
    /// This default makes the puts side by side, so no target waits for another (on S3 a
    /// server-side copy would wait for its source). A store that can keep one copy of the
    /// bytes for every key does: the local store writes and syncs one file and links it under
    /// each key, where a put per key would write and hash the bytes again for each.
    async fn put_each(
        &self,
        body: Bytes,
        targets: &[PutTarget],
    ) -> Result<Vec<PutReceipt>, ObjectStoreError> {
        futures::future::try_join_all(
            targets
                .iter()
                .map(|target| self.put(&target.bucket, &target.key, body.clone(), &target.options)),
        )
        .await
    }

    /// Reads a whole object.
    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError>;

    /// Reads an object's description without its body.
    ///
    /// A missing bucket is [`ObjectStoreError::NotFound`] here, not `NoSuchBucket`: S3 answers a
    /// HEAD with a bare 404 either way, and the local store answers alike so nothing comes to
    /// rely on the difference.
    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError>;

    /// One page of the keys starting with `prefix`, after the position `continuation_token`
    /// (from the previous page) names; `None` starts at the beginning.
    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError>;

    /// Removes an object. Succeeds when the key is already absent, so a retried or repeated
    /// delete (e.g. a cleanup re-run after a crash) is harmless.
    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError>;

    /// Removes every key of `keys` (at most [`MAX_DELETE_KEYS`]), as one request where the store
    /// has one (S3's DeleteObjects). Keys already absent count as removed. On an error some keys
    /// may be gone and others not: deletes are idempotent, so the caller repeats the call. This
    /// default deletes the keys one by one, a few at a time.
    async fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), ObjectStoreError> {
        validate_delete_many(bucket, keys)?;
        for wave in keys.chunks(16) {
            futures::future::try_join_all(wave.iter().map(|key| self.delete(bucket, key))).await?;
        }
        Ok(())
    }

    /// The folders directly under `prefix` (which ends with `/`), each as `prefix` and one more
    /// segment ending with `/`, in UTF-8 byte order: S3's CommonPrefixes of a listing with
    /// delimiter `/`. This default derives them from every key under `prefix`; a store that can
    /// list one level only does so.
    async fn list_folders(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<String>, ObjectStoreError> {
        let mut folders: Vec<String> = self
            .list_all(bucket, prefix)
            .await?
            .into_iter()
            .filter_map(|entry| {
                let rest = entry.key.strip_prefix(prefix)?;
                let (segment, _) = rest.split_once('/')?;
                Some(format!("{prefix}{segment}/"))
            })
            .collect();
        folders.dedup();
        Ok(folders)
    }

    /// An object's body alone, for a reader that needs nothing else of it (a validator hashing
    /// log files). This default reads the whole object; a store that would have to work out
    /// the rest (the local store, the ETag of a file no put recorded) skips that.
    async fn get_body(&self, bucket: &str, key: &str) -> Result<Bytes, ObjectStoreError> {
        Ok(self.get(bucket, key).await?.body)
    }

    /// Every key under `prefix`, in UTF-8 byte order, for a reader that needs the keys alone.
    /// This default takes them from [`Self::list_all`]; a store that would have to work out
    /// each entry's ETag skips that.
    async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, ObjectStoreError> {
        Ok(self
            .list_all(bucket, prefix)
            .await?
            .into_iter()
            .map(|entry| entry.key)
            .collect())
    }

    /// Every key under `prefix`, following continuation tokens to the end, in UTF-8 byte order.
    ///
    /// Fails rather than loop forever if the store hands back the token it was given.
    async fn list_all(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ListEntry>, ObjectStoreError> {
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.list_page(bucket, prefix, token.as_deref()).await?;
            entries.extend(page.entries);
            match page.next_token {
                None => return Ok(entries),
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(repeated_token(bucket, prefix, &next));
                }
                Some(next) => token = Some(next),
            }
        }
    }
}

/// A listing the store would page forever: it handed back the continuation token it was given.
pub fn repeated_token(bucket: &str, prefix: &str, token: &str) -> ObjectStoreError {
    ObjectStoreError::Backend {
        context: format!("listing s3://{bucket}/{prefix}"),
        source: format!("the store repeated continuation token {token:?}").into(),
    }
}

/// Checks what every adapter must refuse the same way S3 does, so the local store cannot accept a
/// key or metadata that production would reject. Returns the metadata with names lowercased.
pub(crate) fn validate_put(
    bucket: &str,
    key: &str,
    options: &PutOptions,
) -> Result<BTreeMap<String, String>, ObjectStoreError> {
    validate_key(bucket, key)?;
    let invalid = |reason: String| ObjectStoreError::InvalidRequest {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        reason,
    };
    let mut metadata = BTreeMap::new();
    let mut total = 0;
    for (name, value) in &options.metadata {
        // HTTP header names are RFC 9110 tokens.
        let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(is_token_char) {
            return Err(invalid(format!(
                "metadata name {name:?} is not an HTTP header token"
            )));
        }
        if !value.chars().all(|c| c == ' ' || c.is_ascii_graphic()) || value.trim() != value {
            return Err(invalid(format!(
                "metadata {name:?} must be printable ASCII without surrounding spaces"
            )));
        }
        total += name.len() + value.len();
        if metadata
            .insert(name.to_ascii_lowercase(), value.clone())
            .is_some()
        {
            return Err(invalid(format!(
                "metadata name {name:?} repeats another name up to case"
            )));
        }
    }
    if total > MAX_METADATA_BYTES {
        return Err(invalid(format!(
            "user metadata is {total} bytes; S3 allows {MAX_METADATA_BYTES}"
        )));
    }
    Ok(metadata)
}

/// The key rules S3 itself enforces.
pub(crate) fn validate_key(bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
    let reason = if key.is_empty() {
        "the key is empty"
    } else if key.len() > MAX_KEY_BYTES {
        "the key is longer than 1024 bytes"
    } else {
        return Ok(());
    };
    Err(ObjectStoreError::InvalidRequest {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        reason: reason.to_owned(),
    })
}

/// DeleteObjects' rules: at most [`MAX_DELETE_KEYS`] keys, each a valid key.
pub(crate) fn validate_delete_many(bucket: &str, keys: &[String]) -> Result<(), ObjectStoreError> {
    if keys.len() > MAX_DELETE_KEYS {
        return Err(ObjectStoreError::InvalidRequest {
            bucket: bucket.to_owned(),
            key: keys[MAX_DELETE_KEYS].clone(),
            reason: format!(
                "one DeleteObjects request takes at most {MAX_DELETE_KEYS} keys; this one had {}",
                keys.len()
            ),
        });
    }
    keys.iter().try_for_each(|key| validate_key(bucket, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_reason(result: Result<BTreeMap<String, String>, ObjectStoreError>) -> String {
        match result {
            Err(ObjectStoreError::InvalidRequest { reason, .. }) => reason,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn a_copy_keeps_type_encoding_and_metadata_and_labels_untyped_bytes_as_s3_does() {
        let mut info = ObjectInfo {
            etag: ETag::new("\"e\""),
            size: 1,
            content_type: Some("application/json".to_owned()),
            content_encoding: Some("gzip".to_owned()),
            metadata: BTreeMap::from([("signature".into(), "ab".into())]),
            last_modified: OffsetDateTime::UNIX_EPOCH,
            encryption: None,
        };
        assert_eq!(
            info.copy_options(),
            PutOptions::new("application/json")
                .content_encoding("gzip")
                .metadata("signature", "ab")
        );
        info.content_type = None;
        info.content_encoding = None;
        assert_eq!(
            info.copy_options(),
            PutOptions::new("application/octet-stream").metadata("signature", "ab")
        );
    }

    #[test]
    fn metadata_names_are_lowercased() {
        let mut options = PutOptions::new("text/plain");
        options
            .metadata
            .insert("Signature-Algorithm".into(), "SHA256withRSA".into());
        let metadata = validate_put("b", "k", &options).expect("valid");
        assert_eq!(
            metadata,
            BTreeMap::from([("signature-algorithm".into(), "SHA256withRSA".into())])
        );
    }

    #[test]
    fn metadata_that_would_not_round_trip_through_s3_is_refused() {
        let with = |name: &str, value: &str| {
            let mut options = PutOptions::new("text/plain");
            options.metadata.insert(name.into(), value.into());
            validate_put("b", "k", &options)
        };
        assert!(invalid_reason(with("na me", "v")).contains("header token"));
        assert!(invalid_reason(with("", "v")).contains("header token"));
        assert!(invalid_reason(with("n", "caf\u{e9}")).contains("printable ASCII"));
        assert!(invalid_reason(with("n", " padded")).contains("printable ASCII"));
        assert!(invalid_reason(with("n", "line\nbreak")).contains("printable ASCII"));
        assert!(invalid_reason(with("n", &"x".repeat(2048))).contains("2048"));

        let mut options = PutOptions::new("text/plain");
        options.metadata.insert("Name".into(), "a".into());
        options.metadata.insert("name".into(), "b".into());
        assert!(invalid_reason(validate_put("b", "k", &options)).contains("repeats"));
    }

    #[test]
    fn keys_s3_refuses_are_refused() {
        let options = PutOptions::new("text/plain");
        assert!(invalid_reason(validate_put("b", "", &options)).contains("empty"));
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(invalid_reason(validate_put("b", &long, &options)).contains("1024"));
        assert!(validate_put("b", &"k".repeat(MAX_KEY_BYTES), &options).is_ok());
    }

    #[test]
    fn errors_name_bucket_and_key() {
        let error = ObjectStoreError::PreconditionFailed {
            bucket: "trail-bucket".into(),
            key: "AWSLogs/x.json.gz".into(),
        };
        assert!(
            error
                .to_string()
                .contains("s3://trail-bucket/AWSLogs/x.json.gz")
        );
    }
}
