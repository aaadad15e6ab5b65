//! Small JSON documents in a bucket, changed only by compare-and-swap on their ETag: the
//! delivery journal, the digest ledger, forward's progress markers and the public key registry.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ports::object_store::{Condition, ETag, ObjectStore, ObjectStoreError, PutOptions};

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error("s3://{bucket}/{key} is unreadable ({source}). Cairn does not reset it: {remedy}")]
    Corrupt {
        bucket: String,
        key: String,
        #[source]
        source: serde_json::Error,
        /// What a person should do: [`Recovery::IF_UNREADABLE`] of the document's kind.
        remedy: &'static str,
    },
}

/// A kind of document, and what a person should do about one that does not read. Cairn never
/// replaces an unreadable document with an empty one: the journal, the ledger and the registry
/// are what keep delivery exactly-once and the digest chains whole.
pub trait Recovery {
    const IF_UNREADABLE: &'static str;
}

/// The document and its ETag; an absent document is the default one with no ETag.
pub async fn read<T: DeserializeOwned + Default + Recovery>(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
) -> Result<(T, Option<ETag>), DocumentError> {
    Ok(match read_present(store, bucket, key).await? {
        Some((document, etag)) => (document, Some(etag)),
        None => (T::default(), None),
    })
}

/// The document and its ETag, `None` when there is none.
pub async fn read_present<T: DeserializeOwned + Recovery>(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
) -> Result<Option<(T, ETag)>, DocumentError> {
    match store.get(bucket, key).await {
        Ok(object) => {
            let document =
                serde_json::from_slice(&object.body).map_err(|source| DocumentError::Corrupt {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    source,
                    remedy: T::IF_UNREADABLE,
                })?;
            Ok(Some((document, object.info.etag)))
        }
        Err(ObjectStoreError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// How a document is written: compact for those only Cairn reads, indented for those people
/// read too (the public key registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Compact,
    Indented,
}

/// Replaces the document if it is still at `expected` (absent when `None`); returns the new
/// ETag, or `None` when someone changed it first.
///
/// Safe to repeat: when the store reports a lost race, the document is read back, and if it
/// already holds exactly this content (our own earlier attempt whose answer was lost), that is
/// a success.
pub async fn swap<T: Serialize + DeserializeOwned + PartialEq + Recovery>(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    (document, style): (&T, Style),
    expected: Option<&ETag>,
) -> Result<Option<ETag>, DocumentError> {
    let body = match style {
        Style::Compact => serde_json::to_vec(document),
        Style::Indented => serde_json::to_vec_pretty(document),
    }
    .expect("a document always serializes");
    let condition = match expected {
        Some(etag) => Condition::IfMatch(etag.clone()),
        None => Condition::IfNoneMatch,
    };
    let options = PutOptions::new("application/json").condition(condition);
    match store.put(bucket, key, Bytes::from(body), &options).await {
        Ok(receipt) => Ok(Some(receipt.etag)),
        Err(ObjectStoreError::PreconditionFailed { .. }) => {
            Ok(match read_present::<T>(store, bucket, key).await? {
                Some((current, etag)) if current == *document => Some(etag),
                _ => None,
            })
        }
        Err(error) => Err(error.into()),
    }
}
