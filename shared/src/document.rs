//! Small JSON documents in a bucket, changed only by compare-and-swap on their ETag: the
//! delivery journal and the digest ledger. An absent document reads as its default.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ports::object_store::{Condition, ETag, ObjectStore, ObjectStoreError, PutOptions};

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error("s3://{bucket}/{key} is unreadable: {source}")]
    Corrupt {
        bucket: String,
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The document and its ETag; an absent document is the default one with no ETag.
pub async fn read<T: DeserializeOwned + Default>(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
) -> Result<(T, Option<ETag>), DocumentError> {
    match store.get(bucket, key).await {
        Ok(object) => {
            let document =
                serde_json::from_slice(&object.body).map_err(|source| DocumentError::Corrupt {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    source,
                })?;
            Ok((document, Some(object.info.etag)))
        }
        Err(ObjectStoreError::NotFound { .. }) => Ok((T::default(), None)),
        Err(error) => Err(error.into()),
    }
}

/// Replaces the document if it is still at `expected` (absent when `None`); returns the new
/// ETag, or `None` when someone changed it first.
///
/// Safe to repeat: when the store reports a lost race, the document is read back, and if it
/// already holds exactly this content (our own earlier attempt whose answer was lost), that is
/// a success.
pub async fn swap<T: Serialize + DeserializeOwned + Default + PartialEq>(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    document: &T,
    expected: Option<&ETag>,
) -> Result<Option<ETag>, DocumentError> {
    let body = serde_json::to_vec(document).expect("a document always serializes");
    let condition = match expected {
        Some(etag) => Condition::IfMatch(etag.clone()),
        None => Condition::IfNoneMatch,
    };
    let options = PutOptions::new("application/json").condition(condition);
    match store.put(bucket, key, Bytes::from(body), &options).await {
        Ok(receipt) => Ok(Some(receipt.etag)),
        Err(ObjectStoreError::PreconditionFailed { .. }) => {
            let (current, etag) = read::<T>(store, bucket, key).await?;
            Ok((current == *document).then_some(etag).flatten())
        }
        Err(error) => Err(error.into()),
    }
}
