//! An object store in a map, for the deliver bench only: a delivery into it is deliver's own
//! work, without any store's. The embedded store pays for each put an MD5 ETag, a file, an
//! fsync and a rename; S3 a network round trip, which a Lambda waits for rather than computes.
//! Puts and gets share the caller's `Bytes`, so the store copies nothing.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use cairn_shared::ports::object_store::{
    Condition, ETag, ListEntry, ListPage, MAX_LIST_PAGE, ObjectInfo, ObjectStore, ObjectStoreError,
    PutOptions, PutReceipt, StoredObject,
};
use time::OffsetDateTime;

type Objects = BTreeMap<(String, String), (Bytes, ObjectInfo)>;

#[derive(Default)]
pub(crate) struct MemoryStore {
    objects: Mutex<Objects>,
    /// ETags are a counter: S3 promises only that a changed object has a new one.
    writes: AtomicU64,
}

impl MemoryStore {
    /// How many objects `bucket` holds under `prefix`.
    pub(crate) fn count(&self, bucket: &str, prefix: &str) -> usize {
        self.objects
            .lock()
            .unwrap()
            .keys()
            .filter(|(b, key)| b == bucket && key.starts_with(prefix))
            .count()
    }
}

fn not_found(bucket: &str, key: &str) -> ObjectStoreError {
    ObjectStoreError::NotFound {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        let mut objects = self.objects.lock().unwrap();
        let place = (bucket.to_owned(), key.to_owned());
        let current = objects.get(&place).map(|(_, info)| &info.etag);
        let allowed = match &options.condition {
            Condition::None => true,
            Condition::IfNoneMatch => current.is_none(),
            Condition::IfMatch(etag) => current == Some(etag),
        };
        if !allowed {
            return Err(ObjectStoreError::PreconditionFailed {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            });
        }
        let etag = ETag::new(format!(
            "\"{:032x}\"",
            self.writes.fetch_add(1, Ordering::Relaxed)
        ));
        let info = ObjectInfo {
            etag: etag.clone(),
            size: body.len() as u64,
            content_type: Some(options.content_type.clone()),
            content_encoding: options.content_encoding.clone(),
            metadata: options.metadata.clone(),
            last_modified: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
            encryption: options.encryption.clone(),
        };
        objects.insert(place, (body, info));
        Ok(PutReceipt { etag })
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        let objects = self.objects.lock().unwrap();
        let (body, info) = objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .ok_or_else(|| not_found(bucket, key))?;
        Ok(StoredObject {
            body: body.clone(),
            info: info.clone(),
        })
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        Ok(self.get(bucket, key).await?.info)
    }

    /// The token is the last key of the previous page.
    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        let objects = self.objects.lock().unwrap();
        let start = (
            bucket.to_owned(),
            continuation_token.unwrap_or(prefix).to_owned(),
        );
        let mut entries: Vec<ListEntry> = objects
            .range(start..)
            .filter(|((_, key), _)| Some(key.as_str()) != continuation_token)
            .take_while(|((b, key), _)| b == bucket && key.starts_with(prefix))
            .take(MAX_LIST_PAGE + 1)
            .map(|((_, key), (_, info))| ListEntry {
                key: key.clone(),
                size: info.size,
                etag: info.etag.clone(),
                last_modified: info.last_modified,
            })
            .collect();
        let next_token = (entries.len() > MAX_LIST_PAGE).then(|| {
            entries.truncate(MAX_LIST_PAGE);
            entries[MAX_LIST_PAGE - 1].key.clone()
        });
        Ok(ListPage {
            entries,
            next_token,
        })
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
        self.objects
            .lock()
            .unwrap()
            .remove(&(bucket.to_owned(), key.to_owned()));
        Ok(())
    }
}
