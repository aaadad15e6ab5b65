//! An object store that fails one chosen call: the crash-at-every-step harness.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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

/// What a call was: the port method that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Put,
    Get,
    Head,
    List,
    Delete,
}

/// Passes calls through to `inner`, counting them; call number `fail_at` (1-based) fails as
/// `fault` says, and so does every later call, as after a crash nothing more happens.
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    calls: AtomicUsize,
    /// Each call's kind, in the order the calls were numbered.
    kinds: Mutex<Vec<Call>>,
    fail_at: usize,
    fault: Fault,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>, fail_at: usize, fault: Fault) -> Self {
        Self {
            inner,
            calls: AtomicUsize::new(0),
            kinds: Mutex::new(Vec::new()),
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

    /// The numbers (1-based) of the calls of `kind` so far.
    pub fn calls_of(&self, kind: Call) -> Vec<usize> {
        let kinds = self.kinds.lock().expect("kinds");
        (1..=kinds.len()).filter(|n| kinds[n - 1] == kind).collect()
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
        kind: Call,
        call: impl Future<Output = Result<T, ObjectStoreError>>,
    ) -> Result<T, ObjectStoreError> {
        let number = {
            // Numbered and logged under one lock, so the log's order is the numbers' order.
            let mut kinds = self.kinds.lock().expect("kinds");
            kinds.push(kind);
            self.calls.fetch_add(1, Ordering::SeqCst) + 1
        };
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
        self.call(Call::Put, self.inner.put(bucket, key, body, options))
            .await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        self.call(Call::Get, self.inner.get(bucket, key)).await
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        self.call(Call::Head, self.inner.head(bucket, key)).await
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        self.call(
            Call::List,
            self.inner.list_page(bucket, prefix, continuation_token),
        )
        .await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
        self.call(Call::Delete, self.inner.delete(bucket, key))
            .await
    }
}
