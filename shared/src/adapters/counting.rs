//! A decorator around any port that counts the requests passing through it, by service and
//! kind, with the bytes each carries: what `scripts/cost.sh` prices. Counting where the domain
//! reaches AWS, rather than estimating from the code, keeps the price true when the code changes.
//!
//! One port call is one request to the service behind it, with two exceptions the counts say
//! nothing about: retries inside an adapter (the SDK's own, after throttling) and the log sink's
//! CreateLogGroup/CreateLogStream on a first put (control-plane calls CloudWatch Logs does not
//! bill). [`ObjectStore::list_folders`] is counted as one LIST, which it is up to 1,000 folders.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use crate::ports::log_sink::{
    EVENT_OVERHEAD_BYTES, LogEvent, LogSink, LogSinkError, RejectedEvents,
};
use crate::ports::notifier::{Notification, Notifier, NotifierError};
use crate::ports::object_store::{
    ListPage, ObjectInfo, ObjectStore, ObjectStoreError, PutOptions, PutReceipt, PutTarget,
    StoredObject,
};
use crate::ports::signer::{PublicKey, Signer, SignerError};

/// One kind of request to one service, named as the service's price list names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Request {
    S3Put,
    S3Get,
    S3Head,
    S3List,
    S3Delete,
    S3DeleteObjects,
    SnsPublish,
    LogsPutLogEvents,
    KmsSign,
    KmsGetPublicKey,
}

impl Request {
    /// The service, as AWS names it.
    pub fn service(self) -> &'static str {
        match self {
            Self::S3Put
            | Self::S3Get
            | Self::S3Head
            | Self::S3List
            | Self::S3Delete
            | Self::S3DeleteObjects => "S3",
            Self::SnsPublish => "SNS",
            Self::LogsPutLogEvents => "CloudWatch Logs",
            Self::KmsSign | Self::KmsGetPublicKey => "KMS",
        }
    }

    /// The request, as the service's API names it.
    pub fn kind(self) -> &'static str {
        match self {
            Self::S3Put => "PUT",
            Self::S3Get => "GET",
            Self::S3Head => "HEAD",
            Self::S3List => "LIST",
            Self::S3Delete => "DELETE",
            // DeleteObjects is `POST /{bucket}?delete`, billed with PUT, COPY, POST and LIST.
            Self::S3DeleteObjects => "POST",
            Self::SnsPublish => "Publish",
            Self::LogsPutLogEvents => "PutLogEvents",
            Self::KmsSign => "Sign",
            Self::KmsGetPublicKey => "GetPublicKey",
        }
    }
}

/// How many requests of one kind were made, and the bytes they carried: bodies put or read,
/// messages published, log events as PutLogEvents measures them (message bytes plus
/// [`EVENT_OVERHEAD_BYTES`] each), messages signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub requests: u64,
    pub bytes: u64,
}

/// The tallies of every counted port that shares it.
#[derive(Debug, Default)]
pub struct RequestCounter {
    tallies: Mutex<BTreeMap<Request, Tally>>,
}

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&self, request: Request, bytes: usize) {
        let mut tallies = self.tallies.lock().expect("no counting call panics");
        let tally = tallies.entry(request).or_default();
        tally.requests += 1;
        tally.bytes += bytes as u64;
    }

    /// Every kind counted so far, in [`Request`] order.
    pub fn tallies(&self) -> BTreeMap<Request, Tally> {
        self.tallies
            .lock()
            .expect("no counting call panics")
            .clone()
    }

    /// Forgets everything counted, so the next phase is counted on its own.
    pub fn reset(&self) {
        self.tallies
            .lock()
            .expect("no counting call panics")
            .clear();
    }
}

/// A port whose every call is counted in `counter` and then passed to `inner`. Failed calls
/// count too: the service bills them.
pub struct Counted<'a, P: ?Sized> {
    inner: &'a P,
    counter: &'a RequestCounter,
}

impl<'a, P: ?Sized> Counted<'a, P> {
    pub fn new(inner: &'a P, counter: &'a RequestCounter) -> Self {
        Self { inner, counter }
    }
}

#[async_trait]
impl<P: ObjectStore + ?Sized> ObjectStore for Counted<'_, P> {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        self.counter.add(Request::S3Put, body.len());
        self.inner.put(bucket, key, body, options).await
    }

    /// One PUT per target, as S3 bills them, whatever the store does to keep the bytes once.
    async fn put_each(
        &self,
        body: Bytes,
        targets: &[PutTarget],
    ) -> Result<Vec<PutReceipt>, ObjectStoreError> {
        for _ in targets {
            self.counter.add(Request::S3Put, body.len());
        }
        self.inner.put_each(body, targets).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        let object = self.inner.get(bucket, key).await;
        let bytes = object.as_ref().map_or(0, |object| object.body.len());
        self.counter.add(Request::S3Get, bytes);
        object
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        self.counter.add(Request::S3Head, 0);
        self.inner.head(bucket, key).await
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        self.counter.add(Request::S3List, 0);
        self.inner
            .list_page(bucket, prefix, continuation_token)
            .await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
        self.counter.add(Request::S3Delete, 0);
        self.inner.delete(bucket, key).await
    }

    async fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), ObjectStoreError> {
        self.counter.add(Request::S3DeleteObjects, 0);
        self.inner.delete_many(bucket, keys).await
    }

    async fn list_folders(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<String>, ObjectStoreError> {
        self.counter.add(Request::S3List, 0);
        self.inner.list_folders(bucket, prefix).await
    }
}

#[async_trait]
impl<P: Notifier + ?Sized> Notifier for Counted<'_, P> {
    async fn publish(
        &self,
        topic_arn: &str,
        notification: &Notification,
    ) -> Result<String, NotifierError> {
        self.counter
            .add(Request::SnsPublish, notification.message.len());
        self.inner.publish(topic_arn, notification).await
    }
}

#[async_trait]
impl<P: LogSink + ?Sized> LogSink for Counted<'_, P> {
    async fn put_events(
        &self,
        group: &str,
        stream: &str,
        events: &[LogEvent],
    ) -> Result<RejectedEvents, LogSinkError> {
        if !events.is_empty() {
            let bytes = events
                .iter()
                .map(|event| event.message.len() + EVENT_OVERHEAD_BYTES)
                .sum();
            self.counter.add(Request::LogsPutLogEvents, bytes);
        }
        self.inner.put_events(group, stream, events).await
    }
}

#[async_trait]
impl<P: Signer + ?Sized> Signer for Counted<'_, P> {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.counter.add(Request::KmsSign, message.len());
        self.inner.sign(message).await
    }

    async fn public_key(&self) -> Result<PublicKey, SignerError> {
        self.counter.add(Request::KmsGetPublicKey, 0);
        self.inner.public_key().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::{LocalLogSink, LocalNotifier, LocalObjectStore};

    #[tokio::test]
    async fn every_call_is_counted_by_kind_with_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().join("s3"));
        store.create_bucket("bucket").await.expect("bucket");
        let counter = RequestCounter::new();
        let counted = Counted::new(&store as &dyn ObjectStore, &counter);
        let options = PutOptions::new("text/plain");
        counted
            .put("bucket", "k", Bytes::from_static(b"hello"), &options)
            .await
            .expect("put");
        counted.get("bucket", "k").await.expect("get");
        counted.head("bucket", "k").await.expect("head");
        counted.list_all("bucket", "").await.expect("list");
        counted.delete("bucket", "k").await.expect("delete");
        counted.get("bucket", "k").await.expect_err("gone");
        let keys = ["a", "b", "c"].map(String::from);
        for key in &keys {
            counted
                .put("bucket", key, Bytes::new(), &options)
                .await
                .expect("put");
        }
        counted
            .delete_many("bucket", &keys)
            .await
            .expect("delete many");
        assert!(store.list_all("bucket", "").await.expect("list").is_empty());
        // One body under two keys is two PUTs on S3, however the store keeps it.
        let targets = ["copy-1", "copy-2"].map(|key| PutTarget {
            bucket: "bucket".into(),
            key: key.into(),
            options: options.clone(),
        });
        counted
            .put_each(Bytes::from_static(b"abc"), &targets)
            .await
            .expect("put each");

        let sink = LocalLogSink::new(dir.path().join("logs"));
        let counted_sink = Counted::new(&sink, &counter);
        let events = [
            LogEvent {
                timestamp_ms: 1,
                message: "abc".into(),
            },
            LogEvent {
                timestamp_ms: 2,
                message: "de".into(),
            },
        ];
        counted_sink
            .put_events("group", "stream", &events)
            .await
            .expect("put events");
        counted_sink
            .put_events("group", "stream", &[])
            .await
            .expect("an empty batch sends nothing");

        let notifier = LocalNotifier::new(dir.path().join("sns"));
        let counted_notifier = Counted::new(&notifier, &counter);
        let notification = Notification {
            message: "notice".into(),
            ..Notification::default()
        };
        counted_notifier
            .publish("arn:aws:sns:us-east-1:111122223333:t", &notification)
            .await
            .expect("publish");

        let tally = |requests, bytes| Tally { requests, bytes };
        assert_eq!(
            counter.tallies(),
            BTreeMap::from([
                (Request::S3Put, tally(6, 11)),
                (Request::S3Get, tally(2, 5)),
                (Request::S3Head, tally(1, 0)),
                (Request::S3List, tally(1, 0)),
                (Request::S3Delete, tally(1, 0)),
                (Request::S3DeleteObjects, tally(1, 0)),
                (Request::SnsPublish, tally(1, 6)),
                (
                    Request::LogsPutLogEvents,
                    tally(1, 5 + 2 * EVENT_OVERHEAD_BYTES as u64)
                ),
            ])
        );
        counter.reset();
        assert!(counter.tallies().is_empty());
    }
}
