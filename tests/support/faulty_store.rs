//! An object store that fails one chosen call: the crash-at-every-step harness.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use cairn_shared::ports::object_store::{
    ListPage, ObjectInfo, ObjectStore, ObjectStoreError, PutOptions, PutReceipt, StoredObject,
};

/// How the chosen call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call never reaches the store (a crash just before it).
    Before,
    /// The call takes effect but its answer is lost (a crash just after it, or a timeout).
    After,
}

/// Passes calls through to `inner`, counting them; call number `fail_at` (1-based) fails as
/// `fault` says, and so does every later call, as after a crash nothing more happens.
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    calls: AtomicUsize,
    fail_at: usize,
    fault: Fault,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>, fail_at: usize, fault: Fault) -> Self {
        Self {
            inner,
            calls: AtomicUsize::new(0),
            fail_at,
            fault,
        }
    }

    /// A store that never fails, to count the calls a run makes.
    pub fn counting(inner: Arc<dyn ObjectStore>) -> Self {
        Self::new(inner, usize::MAX, Fault::Before)
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn crashed() -> ObjectStoreError {
        ObjectStoreError::Backend {
            context: "injected fault".to_owned(),
            source: "the process stopped here".into(),
        }
    }

    /// Runs `call` unless this call is at or past the fault.
    async fn call<T>(
        &self,
        call: impl Future<Output = Result<T, ObjectStoreError>>,
    ) -> Result<T, ObjectStoreError> {
        let number = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if number < self.fail_at {
            return call.await;
        }
        if number == self.fail_at && self.fault == Fault::After {
            let _ = call.await;
        }
        Err(Self::crashed())
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        self.call(self.inner.put(bucket, key, body, options)).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        self.call(self.inner.get(bucket, key)).await
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        self.call(self.inner.head(bucket, key)).await
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        self.call(self.inner.list_page(bucket, prefix, continuation_token))
            .await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
        self.call(self.inner.delete(bucket, key)).await
    }
}
