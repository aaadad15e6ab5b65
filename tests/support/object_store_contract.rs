//! The object-store contract: what every [`ObjectStore`] adapter must do, asserted exactly, so
//! the embedded store cannot let a pipeline test pass that S3 would fail.
//!
//! Each function takes a store and the name of an existing, empty bucket, and uses its own key
//! prefix, so they may share one bucket.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cairn_shared::ports::object_store::{
    Condition, ETag, Encryption, MAX_DELETE_KEYS, MAX_LIST_PAGE, ObjectStore, ObjectStoreError,
    PutOptions, PutReceipt, PutTarget,
};

/// `"` + md5 hex + `"` of `hello` and of the empty body, as S3 computes single-part ETags.
const HELLO_ETAG: &str = "\"5d41402abc4b2a76b9719d911017c592\"";
const EMPTY_ETAG: &str = "\"d41d8cd98f00b204e9800998ecf8427e\"";

/// Every byte value once: bodies are bytes, not text.
fn all_bytes() -> Bytes {
    (0..=255u8).collect::<Vec<_>>().into()
}

/// Put, then read back through get, head and list: the body, content type and encoding, the
/// (lowercased) user metadata, the ETag and the size all survive exactly; an unconditional put
/// replaces body and metadata together.
pub async fn round_trip(store: &dyn ObjectStore, bucket: &str) {
    let key = "round-trip/hello.json.gz";
    let before = SystemTime::now();
    let options = PutOptions::new("application/json")
        .content_encoding("gzip")
        .metadata("Signature", "ab12cd")
        .metadata("signature-algorithm", "SHA256withRSA")
        .encryption(Encryption::S3Managed);
    let receipt = store
        .put(bucket, key, Bytes::from_static(b"hello"), &options)
        .await
        .expect("put");
    let after = SystemTime::now();
    assert_eq!(receipt.etag, ETag::new(HELLO_ETAG));

    let object = store.get(bucket, key).await.expect("get");
    assert_eq!(object.body, Bytes::from_static(b"hello"));
    let info = &object.info;
    assert_eq!(info.etag, receipt.etag);
    assert_eq!(info.size, 5);
    assert_eq!(info.content_type.as_deref(), Some("application/json"));
    assert_eq!(info.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(
        info.metadata,
        BTreeMap::from([
            ("signature".to_owned(), "ab12cd".to_owned()),
            ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
        ])
    );
    assert_eq!(info.encryption, Some(Encryption::S3Managed));
    // Whole seconds, and clocks on one machine: a minute's slack is plenty.
    let modified = SystemTime::from(info.last_modified);
    assert!(
        modified >= before - Duration::from_secs(60) && modified <= after + Duration::from_secs(60),
        "last_modified {:?} is not around {before:?}",
        info.last_modified
    );
    assert_eq!(&store.head(bucket, key).await.expect("head"), info);
    let listed = store.list_all(bucket, "round-trip/").await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].key.as_str(), listed[0].size, &listed[0].etag),
        (key, 5, &receipt.etag)
    );
    assert_eq!(listed[0].last_modified, info.last_modified);

    // Replacing keeps nothing of the old object.
    let receipt = store
        .put(
            bucket,
            key,
            all_bytes(),
            &PutOptions::new("application/octet-stream"),
        )
        .await
        .expect("replace");
    let object = store.get(bucket, key).await.expect("get replaced");
    assert_eq!(object.body, all_bytes());
    assert_eq!(object.info.etag, receipt.etag);
    assert_ne!(object.info.etag, ETag::new(HELLO_ETAG));
    assert_eq!(object.info.size, 256);
    assert_eq!(
        object.info.content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(object.info.content_encoding, None);
    assert!(
        object.info.metadata.is_empty(),
        "{:?}",
        object.info.metadata
    );

    let receipt = put_text(store, bucket, "round-trip/empty", b"").await;
    assert_eq!(receipt.etag, ETag::new(EMPTY_ETAG));
    let object = store
        .get(bucket, "round-trip/empty")
        .await
        .expect("get empty");
    assert_eq!((object.body.len(), object.info.size), (0, 0));
}

/// The encryption a put asks for is the encryption the object reports.
pub async fn encryption_round_trips(store: &dyn ObjectStore, bucket: &str, kms_key_arn: &str) {
    let kms = Encryption::Kms {
        key_id: kms_key_arn.to_owned(),
    };
    for (key, encryption) in [
        ("encryption/kms", kms),
        ("encryption/s3", Encryption::S3Managed),
    ] {
        let options = PutOptions::new("text/plain").encryption(encryption.clone());
        store
            .put(bucket, key, Bytes::from_static(b"secret"), &options)
            .await
            .expect("put");
        let object = store.get(bucket, key).await.expect("get");
        assert_eq!(object.body, Bytes::from_static(b"secret"));
        assert_eq!(object.info.encryption.as_ref(), Some(&encryption), "{key}");
        assert_eq!(store.head(bucket, key).await.expect("head"), object.info);
    }
}

fn assert_not_found<T: std::fmt::Debug>(
    result: Result<T, ObjectStoreError>,
    bucket: &str,
    key: &str,
) {
    match result {
        Err(ObjectStoreError::NotFound { bucket: b, key: k }) if b == bucket && k == key => {}
        other => panic!("expected NotFound for s3://{bucket}/{key}, got {other:?}"),
    }
}

fn assert_precondition_failed<T: std::fmt::Debug>(
    result: Result<T, ObjectStoreError>,
    bucket: &str,
    key: &str,
) {
    match result {
        Err(ObjectStoreError::PreconditionFailed { bucket: b, key: k })
            if b == bucket && k == key => {}
        other => panic!("expected PreconditionFailed for s3://{bucket}/{key}, got {other:?}"),
    }
}

/// An unconditional `text/plain` put of `body` that must succeed.
async fn put_text(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    body: &'static [u8],
) -> PutReceipt {
    let options = PutOptions::new("text/plain");
    store
        .put(bucket, key, Bytes::from_static(body), &options)
        .await
        .unwrap_or_else(|error| panic!("put {key}: {error:?}"))
}

/// The keys under `prefix`, through [`ObjectStore::list_all`].
async fn list_keys(store: &dyn ObjectStore, bucket: &str, prefix: &str) -> Vec<String> {
    store
        .list_all(bucket, prefix)
        .await
        .unwrap_or_else(|error| panic!("list {prefix}: {error:?}"))
        .into_iter()
        .map(|entry| entry.key)
        .collect()
}

fn assert_no_such_bucket<T: std::fmt::Debug>(result: Result<T, ObjectStoreError>, bucket: &str) {
    match result {
        Err(ObjectStoreError::NoSuchBucket { bucket: b }) if b == bucket => {}
        other => panic!("expected NoSuchBucket for {bucket}, got {other:?}"),
    }
}

/// Reading a key that was never written is NotFound, naming bucket and key.
pub async fn missing_key_is_not_found(store: &dyn ObjectStore, bucket: &str) {
    let key = "missing/never-written.json";
    assert_not_found(store.get(bucket, key).await, bucket, key);
    assert_not_found(store.head(bucket, key).await, bucket, key);
    let error = store.get(bucket, key).await.expect_err("missing");
    assert!(
        error.to_string().contains(&format!("s3://{bucket}/{key}")),
        "{error}"
    );
}

/// A bucket that does not exist is NoSuchBucket, except for HEAD: S3 answers it with a bare 404
/// that cannot be told from a missing key, so every store reports NotFound there.
pub async fn missing_bucket_is_no_such_bucket(store: &dyn ObjectStore, bucket: &str) {
    let missing = format!("{bucket}-absent");
    let key = "k";
    assert_no_such_bucket(
        store
            .put(&missing, key, Bytes::new(), &PutOptions::new("text/plain"))
            .await,
        &missing,
    );
    assert_no_such_bucket(store.get(&missing, key).await, &missing);
    assert_no_such_bucket(store.list_page(&missing, "", None).await, &missing);
    assert_no_such_bucket(store.delete(&missing, key).await, &missing);
    assert_not_found(store.head(&missing, key).await, &missing, key);
}

/// Create-only: the second put of a key fails and the first body survives untouched.
pub async fn create_only_refuses_an_existing_key(store: &dyn ObjectStore, bucket: &str) {
    let key = "create-only/object";
    let options = PutOptions::new("text/plain")
        .metadata("writer", "first")
        .condition(Condition::IfNoneMatch);
    let first = store
        .put(bucket, key, Bytes::from_static(b"first"), &options)
        .await
        .expect("first create");
    let options = PutOptions::new("text/html")
        .metadata("writer", "second")
        .condition(Condition::IfNoneMatch);
    let second = store
        .put(bucket, key, Bytes::from_static(b"second"), &options)
        .await;
    assert_precondition_failed(second, bucket, key);
    let object = store.get(bucket, key).await.expect("get");
    assert_eq!(object.body, Bytes::from_static(b"first"));
    assert_eq!(object.info.etag, first.etag);
    assert_eq!(object.info.content_type.as_deref(), Some("text/plain"));
    assert_eq!(object.info.metadata["writer"], "first");
}

/// If-Match replaces only the version it names: the current ETag wins, a stale one or a missing
/// object loses, and a loss changes nothing.
pub async fn compare_and_swap_replaces_only_the_expected_version(
    store: &dyn ObjectStore,
    bucket: &str,
) {
    let key = "cas/object";
    let plain = || PutOptions::new("text/plain");
    let v1 = put_text(store, bucket, key, b"v1").await;
    let v2 = store
        .put(
            bucket,
            key,
            Bytes::from_static(b"v2"),
            &plain().condition(Condition::IfMatch(v1.etag.clone())),
        )
        .await
        .expect("swap with the current etag");
    assert_ne!(v2.etag, v1.etag);
    let stale = plain().condition(Condition::IfMatch(v1.etag));
    let result = store
        .put(bucket, key, Bytes::from_static(b"v3"), &stale)
        .await;
    assert_precondition_failed(result, bucket, key);
    let object = store.get(bucket, key).await.expect("get");
    assert_eq!(object.body, Bytes::from_static(b"v2"));
    assert_eq!(object.info.etag, v2.etag);

    let missing = "cas/never-written";
    let current = plain().condition(Condition::IfMatch(v2.etag));
    let result = store
        .put(bucket, missing, Bytes::from_static(b"x"), &current)
        .await;
    assert_precondition_failed(result, bucket, missing);
    assert_not_found(store.get(bucket, missing).await, bucket, missing);
}

/// Drives every future concurrently on the current task, returning outputs in input order.
///
/// The contract works on `&dyn ObjectStore`, which cannot move into spawned tasks; the requests
/// (or the local store's blocking-pool work) still run at the same time.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|output| output.expect("every future completed"))
        .collect()
}

/// Of the racing conditional puts, exactly one succeeds, every other one is PreconditionFailed,
/// and the stored object is the winner's.
async fn assert_one_winner(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    writers: usize,
    condition: Condition,
) {
    let bodies: Vec<Bytes> = (0..writers)
        .map(|writer| Bytes::from(format!("writer {writer} of {writers}")))
        .collect();
    let options = PutOptions::new("text/plain").condition(condition);
    let results = join_all(
        bodies
            .iter()
            .map(|body| store.put(bucket, key, body.clone(), &options))
            .collect(),
    )
    .await;

    let mut winners = Vec::new();
    for (writer, result) in results.into_iter().enumerate() {
        match result {
            Ok(receipt) => winners.push((writer, receipt)),
            Err(ObjectStoreError::PreconditionFailed { .. }) => {}
            Err(error) => panic!("writer {writer}: {error:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let (winner, receipt) = &winners[0];
    let object = store.get(bucket, key).await.expect("get");
    assert_eq!(object.body, bodies[*winner]);
    assert_eq!(object.info.etag, receipt.etag);
}

/// 16 create-only puts of one key at once: one creates it, fifteen lose.
pub async fn concurrent_create_only_puts_have_one_winner(store: &dyn ObjectStore, bucket: &str) {
    assert_one_winner(store, bucket, "race/create", 16, Condition::IfNoneMatch).await;
}

/// 8 compare-and-swaps from the same ETag at once: one swaps, seven lose.
pub async fn concurrent_compare_and_swaps_have_one_winner(store: &dyn ObjectStore, bucket: &str) {
    let key = "race/swap";
    let seed = put_text(store, bucket, key, b"seed").await;
    assert_one_winner(store, bucket, key, 8, Condition::IfMatch(seed.etag)).await;
}

/// Puts every key (body: the key itself) a few dozen at a time; returns each key's ETag.
async fn put_keys(
    store: &dyn ObjectStore,
    bucket: &str,
    keys: &[String],
) -> BTreeMap<String, ETag> {
    let options = PutOptions::new("text/plain");
    let mut etags = BTreeMap::new();
    for chunk in keys.chunks(32) {
        let results = join_all(
            chunk
                .iter()
                .map(|key| store.put(bucket, key, Bytes::from(key.clone()), &options))
                .collect(),
        )
        .await;
        for (key, result) in chunk.iter().zip(results) {
            let receipt = result.unwrap_or_else(|error| panic!("put {key}: {error:?}"));
            etags.insert(key.clone(), receipt.etag);
        }
    }
    etags
}

/// 1,205 keys under one prefix (in three sibling folders whose names straddle `/` in byte order)
/// plus neighbours outside it: paging returns each key under the prefix exactly once, in UTF-8
/// byte order, at most 1,000 a page, with its size and ETag; the prefix is a plain string prefix.
pub async fn listing_pages_through_every_key_in_order(store: &dyn ObjectStore, bucket: &str) {
    let prefix = "list/p/";
    let inside: Vec<String> = (0..1205)
        .map(|i| match i % 4 {
            0 => format!("{prefix}{i:04}"),
            1 => format!("{prefix}d/{i:04}"),
            2 => format!("{prefix}d-{i:04}"),
            _ => format!("{prefix}d.{i:04}"),
        })
        .collect();
    let outside: Vec<String> = ["list/o", "list/p-x", "list/p0", "list/q/x", "lisu"]
        .map(str::to_owned)
        .to_vec();
    let etags = put_keys(store, bucket, &[inside.clone(), outside].concat()).await;

    let mut expected = inside.clone();
    expected.sort();
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_page(bucket, prefix, token.as_deref())
            .await
            .expect("list page");
        pages += 1;
        assert!(
            page.entries.len() <= MAX_LIST_PAGE,
            "{} entries",
            page.entries.len()
        );
        for entry in &page.entries {
            assert_eq!(entry.size, entry.key.len() as u64, "{}", entry.key);
            assert_eq!(Some(&entry.etag), etags.get(&entry.key), "{}", entry.key);
        }
        listed.extend(page.entries.into_iter().map(|entry| entry.key));
        match page.next_token {
            Some(next) => token = Some(next),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert!(pages >= 2, "1,205 keys cannot fit one page");
    assert_eq!(listed.len(), expected.len());
    assert_eq!(listed, expected);

    assert_eq!(list_keys(store, bucket, prefix).await, expected);

    // A prefix ending mid-name, and one naming a folder.
    let expected_under = |prefix: &str| -> Vec<String> {
        expected
            .iter()
            .filter(|key| key.starts_with(prefix))
            .cloned()
            .collect()
    };
    let under_d = expected_under("list/p/d");
    assert_eq!(list_keys(store, bucket, "list/p/d").await, under_d);
    assert_eq!(under_d.len(), 903);
    let in_d = expected_under("list/p/d/");
    assert_eq!(list_keys(store, bucket, "list/p/d/").await, in_d);
    assert_eq!(in_d.len(), 301);
    assert_eq!(
        list_keys(store, bucket, "list/p").await.len(),
        1205 + 2,
        "list/p-x and list/p0 too"
    );

    let page = store
        .list_page(bucket, "list/none/", None)
        .await
        .expect("empty listing");
    assert!(page.entries.is_empty());
    assert_eq!(page.next_token, None);
}

/// Keys sort by their UTF-8 bytes: `-` < `.` < `/` < digits < upper < lower < non-ASCII.
pub async fn keys_list_in_utf8_byte_order(store: &dyn ObjectStore, bucket: &str) {
    let keys: Vec<String> = [
        "order/\u{1F600}",
        "order/z",
        "order/\u{e9}",
        "order/a0",
        "order/a/b",
        "order/Z",
        "order/a.b",
        "order/\u{2124}",
        "order/a-b",
        "order/A",
    ]
    .map(str::to_owned)
    .to_vec();
    put_keys(store, bucket, &keys).await;
    assert_eq!(
        list_keys(store, bucket, "order/").await,
        [
            "order/A",
            "order/Z",
            "order/a-b",
            "order/a.b",
            "order/a/b",
            "order/a0",
            "order/z",
            "order/\u{e9}",
            "order/\u{2124}",
            "order/\u{1F600}",
        ]
    );
}

/// The folders directly under a prefix are S3's CommonPrefixes with delimiter `/`: one level,
/// each once, in UTF-8 byte order; a folder whose keys are all deleted is gone, and a key
/// directly under the prefix is no folder.
pub async fn folders_list_one_level_in_utf8_byte_order(store: &dyn ObjectStore, bucket: &str) {
    let keys: Vec<String> = [
        "folders/b/x",
        "folders/a/1/2",
        "folders/a/3",
        "folders/file",
        "folders/\u{e9}/k",
        "folders/A/k",
        "folders/gone/k",
        "other/z/k",
    ]
    .map(str::to_owned)
    .to_vec();
    put_keys(store, bucket, &keys).await;
    store
        .delete(bucket, "folders/gone/k")
        .await
        .expect("delete");
    assert_eq!(
        store
            .list_folders(bucket, "folders/")
            .await
            .expect("folders"),
        ["folders/A/", "folders/a/", "folders/b/", "folders/\u{e9}/"]
    );
    assert_eq!(
        store
            .list_folders(bucket, "folders/a/")
            .await
            .expect("folders"),
        ["folders/a/1/"]
    );
    assert!(
        store
            .list_folders(bucket, "nothing/")
            .await
            .expect("folders")
            .is_empty()
    );
}

/// Delete removes the object from reads and listings; deleting again, or deleting a key that
/// never existed, succeeds.
pub async fn delete_is_idempotent(store: &dyn ObjectStore, bucket: &str) {
    let key = "delete/object";
    put_text(store, bucket, key, b"x").await;
    store.delete(bucket, key).await.expect("delete");
    assert_not_found(store.get(bucket, key).await, bucket, key);
    assert_not_found(store.head(bucket, key).await, bucket, key);
    assert!(list_keys(store, bucket, "delete/").await.is_empty());
    store.delete(bucket, key).await.expect("delete again");
    store
        .delete(bucket, "delete/never-written")
        .await
        .expect("delete a missing key");
    // And the key is free again, even for create-only.
    store
        .put(
            bucket,
            key,
            Bytes::from_static(b"y"),
            &PutOptions::new("text/plain").condition(Condition::IfNoneMatch),
        )
        .await
        .expect("re-create");
}

/// DeleteObjects: every key named goes, present or not, nothing else does, and a repeat is
/// harmless; more keys than one request takes are refused before anything is deleted.
pub async fn delete_many_removes_exactly_the_keys_named(store: &dyn ObjectStore, bucket: &str) {
    let keys: Vec<String> = (0..40).map(|i| format!("many/{}/{i:02}", i % 3)).collect();
    put_keys(store, bucket, &keys).await;
    put_text(store, bucket, "many/kept", b"x").await;
    let mut doomed: Vec<String> = keys[..30].to_vec();
    doomed.push("many/never-written".to_owned());
    store
        .delete_many(bucket, &doomed)
        .await
        .expect("delete many");
    let mut left = keys[30..].to_vec();
    left.push("many/kept".to_owned());
    left.sort();
    assert_eq!(list_keys(store, bucket, "many/").await, left);
    assert_not_found(store.get(bucket, &keys[0]).await, bucket, &keys[0]);
    store
        .delete_many(bucket, &doomed)
        .await
        .expect("delete many again");
    store
        .delete_many(bucket, &[])
        .await
        .expect("delete nothing");

    let too_many: Vec<String> = (0..=MAX_DELETE_KEYS).map(|i| format!("many/{i}")).collect();
    let refused = store.delete_many(bucket, &too_many).await;
    assert!(
        matches!(&refused, Err(ObjectStoreError::InvalidRequest { reason, .. }) if reason.contains("at most 1000 keys")),
        "{refused:?}"
    );
    assert_eq!(list_keys(store, bucket, "many/").await, left);
}

/// One body under several keys: each object has the body, its own type, encoding and
/// metadata, and the body's ETag; each then lives on its own (replacing or deleting one leaves
/// the others as they were), and a target's condition holds as a put's does.
pub async fn put_each_stores_one_body_under_every_key(store: &dyn ObjectStore, bucket: &str) {
    let target = |key: &str, options: PutOptions| PutTarget {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        options,
    };
    let log_file = target(
        "each/AWSLogs/log.json.gz",
        PutOptions::new("application/json")
            .content_encoding("gzip")
            .metadata("cairn-trail", "main"),
    );
    let history = target("each/history/copy.json.gz", PutOptions::new("text/plain"));
    let created = target(
        "each/created",
        PutOptions::new("text/plain").condition(Condition::IfNoneMatch),
    );
    let targets = [log_file.clone(), history.clone(), created.clone()];
    let receipts = store
        .put_each(Bytes::from_static(b"hello"), &targets)
        .await
        .expect("put each");
    assert_eq!(
        receipts,
        vec![
            PutReceipt {
                etag: ETag::new(HELLO_ETAG)
            };
            3
        ]
    );
    for target in &targets {
        let object = store.get(bucket, &target.key).await.expect("get");
        assert_eq!(object.body, Bytes::from_static(b"hello"), "{}", target.key);
        assert_eq!(object.info.etag, ETag::new(HELLO_ETAG));
        assert_eq!(
            object.info.content_type.as_deref(),
            Some(target.options.content_type.as_str())
        );
        assert_eq!(
            object.info.content_encoding,
            target.options.content_encoding
        );
        assert_eq!(object.info.metadata, target.options.metadata);
    }

    put_text(store, bucket, &log_file.key, b"replaced").await;
    store.delete(bucket, &created.key).await.expect("delete");
    let copy = store.get(bucket, &history.key).await.expect("get the copy");
    assert_eq!(copy.body, Bytes::from_static(b"hello"));
    assert_eq!(copy.info.etag, ETag::new(HELLO_ETAG));
    assert_eq!(
        list_keys(store, bucket, "each/").await,
        vec![log_file.key.clone(), history.key.clone()]
    );

    // The create-only target's key is taken now.
    let refused = store
        .put_each(
            Bytes::from_static(b"again"),
            &[target("each/AWSLogs/log.json.gz", created.options.clone())],
        )
        .await;
    assert!(
        matches!(refused, Err(ObjectStoreError::PreconditionFailed { .. })),
        "{refused:?}"
    );
    assert_eq!(
        store.get(bucket, &log_file.key).await.expect("get").body,
        Bytes::from_static(b"replaced")
    );
    assert_eq!(
        store
            .put_each(Bytes::from_static(b"x"), &[])
            .await
            .expect("no target"),
        Vec::new()
    );
}

/// What S3 refuses, every store refuses, before writing anything.
pub async fn requests_s3_would_refuse_are_invalid(store: &dyn ObjectStore, bucket: &str) {
    let plain = PutOptions::new("text/plain");
    let long_key = "k".repeat(1025);
    for (key, options) in [
        ("", plain.clone()),
        (long_key.as_str(), plain.clone()),
        (
            "invalid/metadata",
            plain.clone().metadata("note", "caf\u{e9}"),
        ),
        ("invalid/metadata", plain.clone().metadata("bad name", "v")),
        (
            "invalid/metadata",
            plain.clone().metadata("big", "x".repeat(2048)),
        ),
    ] {
        match store.put(bucket, key, Bytes::new(), &options).await {
            Err(ObjectStoreError::InvalidRequest { .. }) => {}
            other => {
                panic!("put of {key:?} with {options:?}: expected InvalidRequest, got {other:?}")
            }
        }
    }
    assert!(list_keys(store, bucket, "invalid/").await.is_empty());
}
