//! ingest and deliver against LocalStack's S3: every fixture record delivered once per
//! selecting trail, replays skipped, and two concurrent runs, as on the embedded store; digests
//! signed with KMS through a key rotation.

use aws_config::SdkConfig;
use cairn_shared::adapters::aws::KmsSigner;
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::Deliverer;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::ports::signer::Signer;
use cairn_shared::service::Service;
use cairn_test_support::digests::{assert_digest_chains, create_kms_signing_key, signer};
use cairn_test_support::pipeline::{
    assert_settled, config_with_suffix, create_buckets, delivered, expected_deliveries,
    fixture_batches, stage_batch, unique_suffix,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

/// LocalStack's S3 with fresh buckets for a fresh configuration, and the SDK configuration;
/// `None` without LocalStack.
async fn localstack(test_name: &str) -> Option<(Config, S3ObjectStore, SdkConfig)> {
    let sdk = cairn_test_support::localstack_sdk_config(test_name).await?;
    let config = config_with_suffix(&unique_suffix());
    create_buckets(&sdk, &config).await;
    Some((config, S3ObjectStore::from_sdk_config(&sdk), sdk))
}

/// How long each run may claim new batches.
const CLAIM_FOR: Duration = Duration::minutes(10);

async fn stage_fixtures(store: &dyn ObjectStore, config: &Config) {
    for (i, (_, body)) in fixture_batches().iter().enumerate() {
        stage_batch(store, config, body, T0 + Duration::milliseconds(i as i64)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fixtures_are_delivered_once_and_replays_are_skipped() {
    let Some((config, store, _)) =
        localstack("fixtures_are_delivered_once_and_replays_are_skipped").await
    else {
        return;
    };
    stage_fixtures(&store, &config).await;
    let first = Deliverer::new(&config, &store, Some(signer().await))
        .handle(&CLAIM_FOR, T0)
        .await
        .expect("deliver");
    let expected = expected_deliveries(&config, &fixture_batches());
    assert_eq!(delivered(&store, &config).await, expected);
    assert_settled(&store, &config).await;

    stage_fixtures(&store, &config).await;
    let replay = Deliverer::new(&config, &store, Some(signer().await))
        .handle(&CLAIM_FOR, T0 + Duration::hours(2))
        .await
        .expect("deliver");
    assert_eq!(replay.events, 0);
    assert_eq!(replay.duplicates, first.events);
    assert_eq!(delivered(&store, &config).await, expected);
    assert_settled(&store, &config).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_at_once_deliver_everything_once() {
    let Some((config, store, _)) = localstack("two_runs_at_once_deliver_everything_once").await
    else {
        return;
    };
    stage_fixtures(&store, &config).await;
    let a = Deliverer::new(&config, &store, Some(signer().await)).with_max_batch_bytes(64 * 1024);
    let b = Deliverer::new(&config, &store, Some(signer().await)).with_max_batch_bytes(64 * 1024);
    let (ra, rb) = tokio::join!(a.handle(&CLAIM_FOR, T0), b.handle(&CLAIM_FOR, T0));
    ra.expect("run a");
    rb.expect("run b");
    Deliverer::new(&config, &store, Some(signer().await))
        .handle(&CLAIM_FOR, T0 + Duration::seconds(5))
        .await
        .expect("finishing run");
    assert_eq!(
        delivered(&store, &config).await,
        expected_deliveries(&config, &fixture_batches())
    );
    assert_settled(&store, &config).await;
}

/// deliver in two shards on S3, each shard's two runs at once (four runs racing on S3's
/// conditional writes: two per journal, all four on the digest ledger): every record delivered
/// once, nothing left staged or claimed, and the digest chains whole two hours later.
#[tokio::test(flavor = "multi_thread")]
async fn two_shards_each_raced_by_two_runs_deliver_everything_once() {
    let name = "two_shards_each_raced_by_two_runs_deliver_everything_once";
    let Some((config, store, _)) = localstack(name).await else {
        return;
    };
    let config = Config {
        deliver_shards: 2,
        ..config
    };
    stage_fixtures(&store, &config).await;
    let signer = signer().await;
    let runs = || {
        Deliverer::every_shard(&config, &store, Some(signer))
            .into_iter()
            .map(|deliverer| deliverer.with_max_batch_bytes(64 * 1024))
    };
    let deliverers: Vec<Deliverer> = runs().chain(runs()).collect();
    let run = |i: usize| deliverers[i].handle(&CLAIM_FOR, T0);
    let (a, b, c, d) = tokio::join!(run(0), run(1), run(2), run(3));
    let mut delivered_by_shard = [0, 0];
    for (deliverer, report) in deliverers.iter().zip([a, b, c, d]) {
        let report = report.expect("a run");
        delivered_by_shard[usize::from(deliverer.shard().index())] += report.events;
    }
    assert!(
        delivered_by_shard.iter().all(|&events| events > 0),
        "{delivered_by_shard:?}"
    );
    let later = T0 + Duration::hours(2);
    for deliverer in &deliverers[..2] {
        deliverer
            .handle(&CLAIM_FOR, later)
            .await
            .expect("digest run");
    }
    assert_eq!(
        delivered(&store, &config).await,
        expected_deliveries(&config, &fixture_batches())
    );
    assert_settled(&store, &config).await;
    assert_digest_chains(&store, &config, later).await;
}

/// Digests on S3 signed with a KMS RSA_2048 key (the production signer), and a rotation to a
/// second KMS key between two hours: the chain stays unbroken, each digest names the key that
/// signed it, and both keys stay published.
#[tokio::test(flavor = "multi_thread")]
async fn digests_are_signed_with_kms_and_survive_a_key_rotation() {
    let name = "digests_are_signed_with_kms_and_survive_a_key_rotation";
    let Some((config, store, sdk)) = localstack(name).await else {
        return;
    };
    let kms = aws_sdk_kms::Client::new(&sdk);
    let mut signers = Vec::new();
    for _ in 0..2 {
        let key_id = create_kms_signing_key(&kms).await.key_id().to_owned();
        signers.push(KmsSigner::new(&sdk, key_id));
    }

    stage_fixtures(&store, &config).await;
    Deliverer::new(&config, &store, Some(&signers[0]))
        .handle(&CLAIM_FOR, T0)
        .await
        .expect("deliver");
    let first_hour = Deliverer::new(&config, &store, Some(&signers[0]))
        .handle(&CLAIM_FOR, T0 + Duration::hours(1))
        .await
        .expect("digests of 10:00");
    assert!(!first_hour.digests.is_empty());
    let rotated = Deliverer::new(&config, &store, Some(&signers[1]))
        .handle(&CLAIM_FOR, T0 + Duration::hours(2))
        .await
        .expect("digests of 11:00, new key");
    assert_eq!(rotated.digests.len(), first_hour.digests.len());

    let chains = assert_digest_chains(&store, &config, T0 + Duration::hours(2)).await;
    assert!(chains.digests.values().all(|keys| keys.len() == 2));
    let published = cairn_shared::public_keys::load(&store, &config.state_bucket)
        .await
        .expect("keys");
    let fingerprints: Vec<String> = published
        .iter()
        .map(|k| k.key.fingerprint().to_owned())
        .collect();
    let expected = [
        signers[0].public_key().await.expect("key 1"),
        signers[1].public_key().await.expect("key 2"),
    ]
    .map(|key| key.fingerprint().to_owned());
    assert_eq!(fingerprints, expected);
    assert!(published[0].validity_end.is_some() && published[1].validity_end.is_none());
}
