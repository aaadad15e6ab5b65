//! The object-store contract (tests/support/object_store_contract.rs) on both adapters: the
//! embedded store in a temp directory, and S3 on LocalStack when `CAIRN_LOCALSTACK` is set.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_test_support::{localstack_endpoint, object_store_contract as contract};

/// Local buckets live in their own temp directory, so one name serves every test.
const LOCAL_BUCKET: &str = "contract-bucket";
/// A key ARN as S3 reports SSE-KMS keys. Neither store checks the key exists: the local one
/// keeps what it is told, and LocalStack's S3 does not ask its KMS (whose CreateKey fails for
/// symmetric keys in the pinned host-mode install: "encoding without a string argument").
const KMS_KEY_ARN: &str =
    "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000";

struct Local {
    store: LocalObjectStore,
    _root: tempfile::TempDir,
}

async fn local() -> Local {
    let root = tempfile::tempdir().expect("temp dir");
    let store = LocalObjectStore::new(root.path().to_path_buf());
    store
        .create_bucket(LOCAL_BUCKET)
        .await
        .expect("create local bucket");
    Local { store, _root: root }
}

/// A fresh bucket on LocalStack, deleted again by [`LocalStack::finish`] when the test passes (a
/// failed test leaves it for inspection; LocalStack keeps nothing across restarts).
struct LocalStack {
    store: S3ObjectStore,
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// `None` when this run does not include LocalStack (the helper says so on stderr); otherwise
/// LocalStack must answer, and the test fails loudly if it does not.
async fn localstack(test_name: &str) -> Option<LocalStack> {
    let endpoint = localstack_endpoint(test_name)?;
    // Always LocalStack's endpoint, whatever else the environment says: these tests create and
    // delete buckets and must never reach a real account.
    let sdk_config = load_sdk_config()
        .await
        .into_builder()
        .endpoint_url(&endpoint)
        .build();
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config)
            .force_path_style(true)
            .build(),
    );
    let bucket = unique_bucket_name();
    if let Err(error) = client.create_bucket().bucket(&bucket).send().await {
        panic!(
            "{test_name}: CAIRN_LOCALSTACK={endpoint} but creating bucket {bucket} failed \
             (is LocalStack running? scripts/localstack.sh start): {}",
            DisplayErrorContext(error)
        );
    }
    Some(LocalStack {
        store: S3ObjectStore::from_sdk_config(&sdk_config),
        client,
        bucket,
    })
}

fn unique_bucket_name() -> String {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!(
        "cairn-contract-{:x}-{:x}-{}",
        nanos,
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    )
}

impl LocalStack {
    async fn finish(self) {
        let keys = self
            .store
            .list_all(&self.bucket, "")
            .await
            .expect("list for cleanup");
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|entry| ObjectIdentifier::builder().key(&entry.key).build())
                .collect::<Result<Vec<_>, _>>()
                .expect("object identifiers");
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .expect("delete request");
            self.client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .unwrap_or_else(|error| panic!("DeleteObjects: {}", DisplayErrorContext(error)));
        }
        self.client
            .delete_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap_or_else(|error| panic!("DeleteBucket: {}", DisplayErrorContext(error)));
    }
}

/// One test per contract function and adapter, so a failure names both.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod local {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let local = local().await;
                    contract::$name(&local.store, LOCAL_BUCKET).await;
                }
            )*
        }

        mod s3_on_localstack {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(target) = localstack(concat!("s3_on_localstack::", stringify!($name))).await else {
                        return;
                    };
                    contract::$name(&target.store, &target.bucket).await;
                    target.finish().await;
                }
            )*
        }
    };
}

contract_tests!(
    round_trip,
    missing_key_is_not_found,
    missing_bucket_is_no_such_bucket,
    create_only_refuses_an_existing_key,
    compare_and_swap_replaces_only_the_expected_version,
    concurrent_create_only_puts_have_one_winner,
    concurrent_compare_and_swaps_have_one_winner,
    listing_pages_through_every_key_in_order,
    keys_list_in_utf8_byte_order,
    folders_list_one_level_in_utf8_byte_order,
    delete_is_idempotent,
    delete_many_removes_exactly_the_keys_named,
    put_each_stores_one_body_under_every_key,
    requests_s3_would_refuse_are_invalid,
);

#[tokio::test]
async fn local_encryption_round_trips() {
    let local = local().await;
    contract::encryption_round_trips(&local.store, LOCAL_BUCKET, KMS_KEY_ARN).await;
}

#[tokio::test]
async fn s3_on_localstack_encryption_round_trips() {
    let Some(target) = localstack("s3_on_localstack_encryption_round_trips").await else {
        return;
    };
    contract::encryption_round_trips(&target.store, &target.bucket, KMS_KEY_ARN).await;
    target.finish().await;
}
