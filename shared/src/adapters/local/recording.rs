//! For tests: the local store, recording which keys are read and which prefixes listed, so a
//! test can show a reader fetches only what it needs (notify only HEADs a log file, a history
//! page lists and reads only its hours).

use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use super::LocalObjectStore;
use crate::ports::object_store::{
    ListPage, ObjectInfo, ObjectStore, ObjectStoreError, PutOptions, PutReceipt, StoredObject,
};

pub(crate) struct RecordingStore {
    inner: LocalObjectStore,
    gets: Mutex<Vec<String>>,
    lists: Mutex<Vec<String>>,
}

impl RecordingStore {
    pub(crate) fn new(inner: LocalObjectStore) -> Self {
        Self {
            inner,
            gets: Mutex::default(),
            lists: Mutex::default(),
        }
    }

    /// The keys read (GET) since the last call, in order.
    pub(crate) fn take_gets(&self) -> Vec<String> {
        std::mem::take(&mut *self.gets.lock().expect("lock"))
    }

    /// The prefixes listed since the last call, in order.
    pub(crate) fn take_lists(&self) -> Vec<String> {
        std::mem::take(&mut *self.lists.lock().expect("lock"))
    }
}

#[async_trait]
impl ObjectStore for RecordingStore {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        self.inner.put(bucket, key, body, options).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        self.gets.lock().expect("lock").push(key.to_owned());
        self.inner.get(bucket, key).await
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        self.inner.head(bucket, key).await
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        self.lists.lock().expect("lock").push(prefix.to_owned());
        self.inner.list_page(bucket, prefix, token).await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
        self.inner.delete(bucket, key).await
    }
}
