//! deliver on the embedded store: every fixture record reaches each trail that selects it
//! exactly once, through replays, a crash at every storage call, and concurrent runs.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivery::{self, Deliverer, DeliveryReport, read_journal};
use cairn_shared::layout::Shard;
use cairn_shared::ports::object_store::{ObjectStore, PutOptions};
use cairn_shared::service::Service;
use cairn_shared::staging;
use cairn_shared::validate::{FileKind, Line};
use cairn_test_support::digests::{assert_closed_digest_chains, assert_digest_chains, signer};
use cairn_test_support::faulty_store::{Call, Fault, FaultyStore};
use cairn_test_support::pipeline::{
    CONFIG, assert_settled, config, delivered, expected_deliveries, fixture_batches, stage_batch,
};
use cairn_test_support::validation;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

async fn fresh_store(config: &Config) -> (tempfile::TempDir, Arc<LocalObjectStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(LocalObjectStore::new(dir.path().to_path_buf()));
    store
        .create_bucket(&config.state_bucket)
        .await
        .expect("bucket");
    for trail in &config.trails {
        store.create_bucket(trail.bucket()).await.expect("bucket");
    }
    (dir, store)
}

async fn stage_fixtures(store: &dyn ObjectStore, config: &Config) {
    stage(store, config, &fixture_batches()).await;
}

/// Stages each body as one ingest request, a millisecond apart, so staging order (and with it
/// the batches deliver forms) is the same on every run.
async fn stage(store: &dyn ObjectStore, config: &Config, batches: &[(String, String)]) {
    for (i, (_, body)) in batches.iter().enumerate() {
        let at = T0 + Duration::milliseconds(i as i64);
        stage_batch(store, config, body, at).await;
    }
}

/// How long each run may claim new batches.
const CLAIM_FOR: Duration = Duration::minutes(10);

/// A run of every shard, one after the other, as their scheduled runs would.
async fn deliver(store: &dyn ObjectStore, config: &Config, now: OffsetDateTime) -> DeliveryReport {
    let mut report = DeliveryReport::default();
    for deliverer in Deliverer::every_shard(config, store, Some(signer().await)) {
        report.absorb(deliverer.handle(&CLAIM_FOR, now).await.expect("deliver"));
    }
    report
}

/// The pipeline tests' configuration, with deliver in two shards.
fn two_shards() -> Config {
    Config::from_yaml(
        &format!("deliverShards: 2\n{}", cairn_test_support::pipeline::CONFIG),
        "two shards",
    )
    .expect("two shards")
}

fn assert_exactly_once(
    found: &BTreeMap<String, Vec<cairn_test_support::pipeline::Placement>>,
    expected: &BTreeMap<String, Vec<cairn_test_support::pipeline::Placement>>,
) {
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !found.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "{} records not delivered",
        missing.len()
    );
    for (record, placements) in found {
        assert_eq!(
            Some(placements),
            expected.get(record),
            "record delivered to the wrong places or more than once: {}",
            &record[..record.len().min(200)]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fixture_record_is_delivered_once_to_each_trail_that_selects_it() {
    let config = config();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    let report = deliver(store.as_ref(), &config, T0).await;

    let expected = expected_deliveries(&config, &fixture_batches());
    assert!(
        expected.len() > 300,
        "only {} records selected",
        expected.len()
    );
    assert_exactly_once(&delivered(store.as_ref(), &config).await, &expected);
    assert_settled(store.as_ref(), &config).await;
    assert_eq!(report.duplicates, 0);
    // AWS's documentation examples reuse three eventIDs for different records: the first of
    // each is delivered, the others named.
    assert_eq!(
        report.conflicts,
        [
            "f8ef8fc5-e3e8-4ee1-9d52-2f412ddf17e3",
            "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
            "234f004b-EXAMPLE"
        ]
    );
    assert_eq!(report.batches, 1);
    assert!(report.history_objects > 0);
    // Every log file is named by the delivery time.
    assert!(
        report
            .log_files
            .iter()
            .all(|file| file.key.contains("_20261122T1000Z_")),
        "{:?}",
        report.log_files
    );
    // No hour has ended yet: the chains are started, no digest is due.
    assert!(report.digests.is_empty(), "{:?}", report.digests);

    // Two hours later: each chain gets the 11:00 digest listing its log files, then an empty
    // 12:00 one.
    let later = deliver(store.as_ref(), &config, T0 + Duration::hours(2)).await;
    let chains = assert_digest_chains(store.as_ref(), &config, T0 + Duration::hours(2)).await;
    assert_eq!(later.digests.len(), 2 * chains.digests.len());
    assert!(chains.digests.values().all(|keys| keys.len() == 2));
    let validating_files = report
        .log_files
        .iter()
        .filter(|file| {
            config
                .trails
                .iter()
                .any(|t| t.name() == file.trail && t.log_file_validation())
        })
        .count();
    assert_eq!(chains.listed.values().sum::<usize>(), validating_files);
    assert!(validating_files > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_of_the_same_events_within_a_day_is_not_delivered_again() {
    let config = config();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    let first = deliver(store.as_ref(), &config, T0).await;

    // The client retries everything an hour later, and again at once (two copies staged).
    stage_fixtures(store.as_ref(), &config).await;
    stage_fixtures(store.as_ref(), &config).await;
    let replay = deliver(store.as_ref(), &config, T0 + Duration::hours(1)).await;
    assert_eq!(replay.events, 0);
    assert_eq!(replay.duplicates, 2 * first.events);
    assert_eq!(replay.conflicts.len(), 2 * first.conflicts.len());
    assert!(replay.log_files.is_empty());
    assert_exactly_once(
        &delivered(store.as_ref(), &config).await,
        &expected_deliveries(&config, &fixture_batches()),
    );
    assert_settled(store.as_ref(), &config).await;
}

/// `body` as ingest staged it before it wrote each record's length: every line without its
/// `recordBytes` field.
fn without_record_lengths(body: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(body).expect("UTF-8");
    let mut older = String::with_capacity(text.len());
    for line in text.lines() {
        let (fields, rest) = line.split_once(",\"recordBytes\":").expect("a length");
        let (_, record) = rest.split_once(",\"record\":").expect("the record");
        older.push_str(&format!("{fields},\"record\":{record}\n"));
    }
    assert!(!older.contains("recordBytes"));
    older.into_bytes()
}

/// Objects staged before ingest carried each record's hash and length: deliver hashes the
/// records itself, and tells copies from different records reusing an eventID exactly as by the
/// carried hash.
#[tokio::test(flavor = "multi_thread")]
async fn events_staged_without_their_record_hash_are_told_apart_alike() {
    let config = config();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    let keys = store
        .list_keys(&config.state_bucket, "staging/")
        .await
        .expect("list");
    assert!(!keys.is_empty());
    for key in &keys {
        let body = store
            .get_body(&config.state_bucket, key)
            .await
            .expect("get");
        let mut events = staging::read_staged(key, &body).expect("staged");
        assert!(events.iter().all(|event| event.record_hash.is_some()));
        for event in &mut events {
            event.record_hash = None;
        }
        let older = without_record_lengths(&staging::encode(&events));
        store
            .put(
                &config.state_bucket,
                key,
                Bytes::from(older),
                &PutOptions::new("application/x-ndjson"),
            )
            .await
            .expect("put");
    }
    let first = deliver(store.as_ref(), &config, T0).await;
    assert_eq!(first.duplicates, 0);
    assert_eq!(
        first.conflicts,
        [
            "f8ef8fc5-e3e8-4ee1-9d52-2f412ddf17e3",
            "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
            "234f004b-EXAMPLE"
        ]
    );

    // A replay staged now carries the hashes: every event is a copy of one delivered above,
    // which it is only when both hashes agree.
    stage_fixtures(store.as_ref(), &config).await;
    let replay = deliver(store.as_ref(), &config, T0 + Duration::hours(1)).await;
    assert_eq!(replay.events, 0);
    assert_eq!(replay.duplicates, first.events);
    assert_eq!(replay.conflicts.len(), first.conflicts.len());
    assert_exactly_once(
        &delivered(store.as_ref(), &config).await,
        &expected_deliveries(&config, &fixture_batches()),
    );
    assert_settled(store.as_ref(), &config).await;
}

/// A crash at storage call N of two deliver runs (one delivering, one two hours later writing
/// the digests), for every N, in both ways a call can fail, followed by a run after the crashed
/// run's lease has expired: every record ends up delivered exactly once, nothing is left
/// staged, and every log file is in exactly one digest of an unbroken chain.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_at_any_storage_call_loses_nothing_and_duplicates_nothing() {
    crash_matrix(config()).await;
}

/// The same with deliver in two shards, each step running shard 0 then shard 1 on the same
/// faulty store: a crash in either shard's run, or in a digest cut either makes, loses and
/// duplicates nothing in either shard, and the chains the two share the ledger of stay whole.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_at_any_storage_call_of_either_shard_loses_nothing_and_duplicates_nothing() {
    crash_matrix(two_shards()).await;
}

async fn crash_matrix(config: Config) {
    // A sixth of the fixtures in several batches keeps the (calls × 2) runs quick while crashes
    // still land in every step of a batch and between batches.
    let batches: Vec<_> = fixture_batches().into_iter().step_by(6).collect();
    let expected = expected_deliveries(&config, &batches);
    let batch_bytes = 8 * 1024;
    let digests_due = T0 + Duration::hours(2);
    let (_dir, store) = fresh_store(&config).await;
    stage(store.as_ref(), &config, &batches).await;
    for shard in Shard::all(config.deliver_shards) {
        let staged = store
            .list_all(&config.state_bucket, &shard.staging_prefix())
            .await
            .expect("list");
        assert!(!staged.is_empty(), "{shard} has nothing to deliver");
    }
    let counting = FaultyStore::counting(store.clone());
    let (first, second) = two_runs(&config, &counting, batch_bytes, digests_due).await;
    let clean = first.expect("clean run");
    assert!(clean.batches >= 3, "only {} batches", clean.batches);
    assert!(!second.expect("clean digest run").digests.is_empty());
    let total = counting.calls();

    for fault in [Fault::Before, Fault::After] {
        for fail_at in 1..=total {
            let (_dir, store) = fresh_store(&config).await;
            stage(store.as_ref(), &config, &batches).await;
            let faulty = FaultyStore::new(store.clone(), fail_at, fault);
            let (first, second) = two_runs(&config, &faulty, batch_bytes, digests_due).await;
            assert!(
                first.is_err() || second.is_err(),
                "call {fail_at} ({fault:?}) did not fail a run"
            );

            let later = digests_due + delivery::LEASE + Duration::minutes(1);
            recover(
                store.as_ref(),
                &config,
                later,
                &expected,
                (fail_at, total, fault),
            )
            .await;
            assert_digest_chains(store.as_ref(), &config, later).await;
        }
    }
}

/// A batch of more than 16 staging objects (deliver's write concurrency) is cleaned with
/// `delete_many`, a DeleteObjects request on S3, rather than one wave of single deletes. A crash
/// at any call from its first delete to the end of the run, in both ways, then loses nothing and
/// duplicates nothing either. The matrix above stages too few objects per batch to take that
/// path, and the whole matrix over a batch this size takes far too long; every step before the
/// deletes is the same on both paths.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_while_cleaning_a_large_batch_loses_nothing_and_duplicates_nothing() {
    let config = config();
    let batches: Vec<_> = fixture_batches().into_iter().take(24).collect();
    let expected = expected_deliveries(&config, &batches);
    let one_batch = 64 * 1024 * 1024;
    let (_dir, store) = fresh_store(&config).await;
    stage(store.as_ref(), &config, &batches).await;
    let staged = store
        .list_all(&config.state_bucket, cairn_shared::layout::STAGING_PREFIX)
        .await
        .expect("list")
        .len();
    assert!(staged > 16, "only {staged} staging objects");
    let counting = FaultyStore::counting(store.clone());
    let clean = Deliverer::new(&config, &counting, Some(signer().await))
        .with_max_batch_bytes(one_batch)
        .handle(&CLAIM_FOR, T0)
        .await
        .expect("clean run");
    assert_eq!(clean.batches, 1);
    let deletes = counting.calls_of(Call::Delete);
    assert_eq!(deletes.len(), staged);
    let total = counting.calls();

    for fault in [Fault::Before, Fault::After] {
        for fail_at in deletes[0]..=total {
            let (_dir, store) = fresh_store(&config).await;
            stage(store.as_ref(), &config, &batches).await;
            let faulty = FaultyStore::new(store.clone(), fail_at, fault);
            let crashed = Deliverer::new(&config, &faulty, Some(signer().await))
                .with_max_batch_bytes(one_batch)
                .handle(&CLAIM_FOR, T0)
                .await;
            assert!(
                crashed.is_err(),
                "call {fail_at} ({fault:?}) did not fail the run"
            );

            let later = T0 + delivery::LEASE + Duration::minutes(1);
            recover(
                store.as_ref(),
                &config,
                later,
                &expected,
                (fail_at, total, fault),
            )
            .await;
        }
    }
}

/// The next scheduled run after a crash at call `fail_at` of `total`, at `later`, once the
/// crashed run's claim has lapsed (a minute's slack: the crashed run's lease counts its real
/// running time too): every record delivered once, nothing left staged or claimed.
async fn recover(
    store: &dyn ObjectStore,
    config: &Config,
    later: OffsetDateTime,
    expected: &BTreeMap<String, Vec<cairn_test_support::pipeline::Placement>>,
    (fail_at, total, fault): (usize, usize, Fault),
) {
    deliver(store, config, later).await;
    let found = delivered(store, config).await;
    if found != *expected {
        panic!("crash at call {fail_at} of {total} ({fault:?}): delivered set differs");
    }
    assert_settled(store, config).await;
}

/// A delivering run at T0, then a run at `digests_due` that writes the digests.
async fn two_runs(
    config: &Config,
    store: &dyn ObjectStore,
    batch_bytes: u64,
    digests_due: OffsetDateTime,
) -> (
    Result<DeliveryReport, delivery::DeliveryError>,
    Result<DeliveryReport, delivery::DeliveryError>,
) {
    // Every shard's run, one after the other; the first error ends the step, as a crash would.
    let deliverers: Vec<_> = Deliverer::every_shard(config, store, Some(signer().await))
        .into_iter()
        .map(|deliverer| deliverer.with_max_batch_bytes(batch_bytes))
        .collect();
    let every_shard = async |now| {
        let mut report = DeliveryReport::default();
        for deliverer in &deliverers {
            report.absorb(deliverer.handle(&CLAIM_FOR, now).await?);
        }
        Ok(report)
    };
    let first = every_shard(T0).await;
    let second = every_shard(digests_due).await;
    (first, second)
}

/// Two shards' runs at once: every fixture record delivered once to each trail that takes it;
/// each shard delivers its own (account, Region) destinations, so each digest chain gets its
/// log files from one shard; and the chains the two record in one ledger validate.
#[tokio::test(flavor = "multi_thread")]
async fn two_shards_at_once_deliver_everything_once_and_keep_each_chain_in_one_shard() {
    let config = two_shards();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    let shard_of = |prefix: &str| {
        let store = store.clone();
        let state = config.state_bucket.clone();
        let prefix = prefix.to_owned();
        async move { store.list_all(&state, &prefix).await.expect("list").len() }
    };
    let (first, second) = (
        shard_of("staging/shard-0/").await,
        shard_of("staging/shard-1/").await,
    );
    assert!(first > 0 && second > 0, "staged {first} and {second}");
    assert_eq!(shard_of("staging/2").await, 0, "nothing staged unsharded");

    let deliverers = Deliverer::every_shard(&config, store.as_ref(), Some(signer().await));
    let (a, b) = tokio::join!(
        deliverers[0].handle(&CLAIM_FOR, T0),
        deliverers[1].handle(&CLAIM_FOR, T0)
    );
    let (a, b) = (a.expect("shard 0"), b.expect("shard 1"));
    assert!(
        a.events > 0 && b.events > 0,
        "{} and {}",
        a.events,
        b.events
    );
    let destinations = |report: &DeliveryReport| -> std::collections::BTreeSet<(String, String)> {
        report
            .log_files
            .iter()
            .map(|file| {
                // …/{account}/CloudTrail/{region}/…
                let parts: Vec<&str> = file.key.split('/').collect();
                let kind = parts.iter().position(|p| *p == "CloudTrail").unwrap();
                (parts[kind - 1].to_owned(), parts[kind + 1].to_owned())
            })
            .collect()
    };
    let (in_a, in_b) = (destinations(&a), destinations(&b));
    assert!(in_a.is_disjoint(&in_b), "{in_a:?} and {in_b:?}");
    for (shard, places) in [(0, &in_a), (1, &in_b)] {
        for (account, region) in places {
            assert_eq!(
                cairn_shared::staging::shard_of(2, account, region).index(),
                shard
            );
        }
    }

    assert_exactly_once(
        &delivered(store.as_ref(), &config).await,
        &expected_deliveries(&config, &fixture_batches()),
    );
    assert_settled(store.as_ref(), &config).await;
    // Their journals and dedup records are their own.
    for shard in Shard::all(2) {
        assert_eq!(
            shard_of(&shard.seen_prefix()).await,
            1,
            "{shard}: one batch's dedup record"
        );
    }

    // A replay is dropped by each shard's own dedup records.
    stage_fixtures(store.as_ref(), &config).await;
    let replay = deliver(store.as_ref(), &config, T0 + Duration::minutes(5)).await;
    assert_eq!(replay.events, 0);
    assert!(replay.log_files.is_empty());

    let later = T0 + Duration::hours(2);
    deliver(store.as_ref(), &config, later).await;
    let chains = assert_digest_chains(store.as_ref(), &config, later).await;
    assert!(chains.digests.len() > 2, "{:?}", chains.digests.keys());
}

/// Events staged under one shard count and delivered under another: shard 0's run stages them
/// again in the current shards' folders, and every record is delivered once, both ways (one
/// shard to two, two to one); an hour later the count is settled and a run no longer looks.
#[tokio::test(flavor = "multi_thread")]
async fn events_staged_under_another_shard_count_are_moved_and_delivered_once() {
    for (staged_with, delivered_with) in [(config(), two_shards()), (two_shards(), config())] {
        let (_dir, store) = fresh_store(&delivered_with).await;
        stage_fixtures(store.as_ref(), &staged_with).await;
        let report = deliver(store.as_ref(), &delivered_with, T0).await;
        assert!(report.rehomed > 0, "nothing moved");
        assert_exactly_once(
            &delivered(store.as_ref(), &delivered_with).await,
            &expected_deliveries(&delivered_with, &fixture_batches()),
        );
        assert_settled(store.as_ref(), &delivered_with).await;

        // An hour on, the count is settled: the run no longer looks.
        let settled = deliver(
            store.as_ref(),
            &delivered_with,
            T0 + Duration::hours(1) + Duration::minutes(1),
        )
        .await;
        assert_eq!((settled.rehomed, settled.events), (0, 0));
    }
}

/// A crash at any call of the run that moves events staged under one shard, in both ways,
/// then the next run: every record delivered once, nothing left staged or claimed.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_while_moving_events_to_new_shards_loses_nothing_and_duplicates_nothing() {
    let (staged_with, config) = (config(), two_shards());
    let batches: Vec<_> = fixture_batches().into_iter().step_by(6).collect();
    let expected = expected_deliveries(&config, &batches);
    let (_dir, store) = fresh_store(&config).await;
    stage(store.as_ref(), &staged_with, &batches).await;
    let counting = FaultyStore::counting(store.clone());
    let moved = Deliverer::new(&config, &counting, Some(signer().await))
        .handle(&CLAIM_FOR, T0)
        .await
        .expect("clean run");
    assert!(moved.rehomed > 0);
    let total = counting.calls();

    for fault in [Fault::Before, Fault::After] {
        for fail_at in 1..=total {
            let (_dir, store) = fresh_store(&config).await;
            stage(store.as_ref(), &staged_with, &batches).await;
            let faulty = FaultyStore::new(store.clone(), fail_at, fault);
            let crashed = Deliverer::new(&config, &faulty, Some(signer().await))
                .handle(&CLAIM_FOR, T0)
                .await;
            assert!(
                crashed.is_err(),
                "call {fail_at} ({fault:?}) did not fail the run"
            );
            recover(
                store.as_ref(),
                &config,
                T0 + delivery::LEASE + Duration::minutes(1),
                &expected,
                (fail_at, total, fault),
            )
            .await;
        }
    }
}

/// A run that finds another run's unexpired claim leaves the batch alone.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_leaves_a_batch_another_run_holds() {
    let config = config();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    // The first run stops after claiming. Its calls: the digest ledger (read, start the home
    // chains, read again), the shard count (read, record, list what another count staged),
    // the journal, the dedup records (prune), the staging list, each staging object, the dedup
    // records (window), the claim; the next, the first log file put, never happens.
    let first_put = 3 + 3 + 3 + fixture_batches().len() + 3;
    let faulty = FaultyStore::new(store.clone(), first_put, Fault::Before);
    assert!(
        Deliverer::new(&config, &faulty, Some(signer().await))
            .handle(&CLAIM_FOR, T0)
            .await
            .is_err()
    );
    let (journal, _) = read_journal(store.as_ref(), &config.state_bucket, Shard::ONLY)
        .await
        .unwrap();
    let held = journal.batch.expect("the crashed run's claim");

    let early = deliver(store.as_ref(), &config, T0 + Duration::seconds(30)).await;
    assert_eq!(early.busy_until, Some(held.lease_until));
    assert_eq!(early.batches, 0);

    let late = deliver(
        store.as_ref(),
        &config,
        held.lease_until + Duration::seconds(1),
    )
    .await;
    assert_eq!(late.resumed, 1);
    assert_exactly_once(
        &delivered(store.as_ref(), &config).await,
        &expected_deliveries(&config, &fixture_batches()),
    );
    assert_settled(store.as_ref(), &config).await;
}

/// Two runs at once, each in many small batches: everything once, nothing left.
#[tokio::test(flavor = "multi_thread")]
async fn two_runs_at_once_deliver_everything_once() {
    let config = config();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    let a = Deliverer::new(&config, store.as_ref(), Some(signer().await))
        .with_max_batch_bytes(64 * 1024);
    let b = Deliverer::new(&config, store.as_ref(), Some(signer().await))
        .with_max_batch_bytes(64 * 1024);
    let (ra, rb) = tokio::join!(a.handle(&CLAIM_FOR, T0), b.handle(&CLAIM_FOR, T0));
    let (ra, rb) = (ra.expect("run a"), rb.expect("run b"));
    // Whichever run was left out stopped at the other's claim; finish what it left.
    deliver(store.as_ref(), &config, T0 + Duration::seconds(5)).await;
    assert!(ra.batches + rb.batches > 1);
    assert_exactly_once(
        &delivered(store.as_ref(), &config).await,
        &expected_deliveries(&config, &fixture_batches()),
    );
    assert_settled(store.as_ref(), &config).await;
}

/// A staging object that is not what ingest writes is moved to quarantine/ with its bytes, and
/// the good events around it are delivered.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_staging_object_is_quarantined_and_the_rest_delivered() {
    let config = config();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    let garbage = "staging/20261122T095959000Z-garbage000000000.jsonl";
    store
        .put(
            &config.state_bucket,
            garbage,
            bytes::Bytes::from_static(b"{\"dedupKey\": truncated"),
            &cairn_shared::ports::object_store::PutOptions::new("application/x-ndjson"),
        )
        .await
        .expect("put");
    let report = deliver(store.as_ref(), &config, T0).await;
    assert_eq!(report.quarantined, [garbage]);
    assert_exactly_once(
        &delivered(store.as_ref(), &config).await,
        &expected_deliveries(&config, &fixture_batches()),
    );
    assert_settled(store.as_ref(), &config).await;
    let kept = store
        .get(&config.state_bucket, &format!("quarantine/{garbage}"))
        .await
        .expect("quarantined copy");
    assert_eq!(&kept.body[..], b"{\"dedupKey\": truncated");
}

/// Two runs cutting the same hours' digests at once (three hours behind, several chains): one
/// digest per chain and hour, no fork, every log file listed once.
#[tokio::test(flavor = "multi_thread")]
async fn two_runs_cutting_digests_at_once_keep_one_chain() {
    let config = config();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    deliver(store.as_ref(), &config, T0).await;
    let later = T0 + Duration::hours(3);
    let a = Deliverer::new(&config, store.as_ref(), Some(signer().await));
    let b = Deliverer::new(&config, store.as_ref(), Some(signer().await));
    let (ra, rb) = tokio::join!(a.handle(&CLAIM_FOR, later), b.handle(&CLAIM_FOR, later));
    let written = ra.expect("run a").digests.len() + rb.expect("run b").digests.len();
    let chains = assert_digest_chains(store.as_ref(), &config, later).await;
    assert!(chains.digests.values().all(|keys| keys.len() == 3));
    // Both runs may report a digest (each read the other's back and made the same ledger
    // change), but the bucket holds it once: checked above.
    assert!(written >= 3 * chains.digests.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_reports_each_trails_events_and_delivery_lag_as_emf_lines() {
    use cairn_shared::emf::cairn::{CairnMetric, NAMESPACE, TRAIL_DIMENSION};

    let config = config();
    let (_dir, store) = fresh_store(&config).await;
    stage_fixtures(store.as_ref(), &config).await;
    // Staged from T0 on (a millisecond apart), delivered a minute and a half later: the lag is
    // in whole seconds, rounded down, so 90 s for a trail the first body reached, 89 s for one
    // whose oldest event came a millisecond or more later.
    let delivered_at = T0 + Duration::seconds(90);
    let lags = 89..=90;
    let report = deliver(store.as_ref(), &config, delivered_at).await;

    let mut expected: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for file in &report.log_files {
        expected.entry(&file.trail).or_default().0 += file.records;
    }
    for file in &report.insight_files {
        expected.entry(&file.trail).or_default().1 += file.records;
    }
    assert!(expected.len() > 1, "{expected:?}");
    for trail in expected.keys() {
        let lag = report.delivery_lag_seconds.get(*trail);
        assert!(
            lag.is_some_and(|lag| lags.contains(lag)),
            "{trail}: {lag:?}"
        );
    }

    let lines = report.metric_lines(delivered_at);
    assert_eq!(lines.len(), expected.len(), "{lines:?}");
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
        let directive = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE, "{line}");
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([[TRAIL_DIMENSION]]),
            "{line}"
        );
        assert_eq!(
            value["_aws"]["Timestamp"],
            delivered_at.unix_timestamp() * 1000,
            "{line}"
        );
        let trail = value[TRAIL_DIMENSION].as_str().expect("the trail");
        let (events, insights) = expected[trail];
        assert_eq!(value[CairnMetric::EventsDelivered.name()], events, "{line}");
        assert_eq!(
            value[CairnMetric::InsightsEventsDelivered.name()],
            insights,
            "{line}"
        );
        assert_eq!(
            value[CairnMetric::DeliveryLag.name()],
            report.delivery_lag_seconds[trail],
            "{line}"
        );
    }

    // A run with nothing to deliver measures nothing.
    let idle = deliver(store.as_ref(), &config, delivered_at + Duration::minutes(5)).await;
    assert!(idle.metric_lines(delivered_at).is_empty());
}

/// The pipeline's configuration with log file validation turned off.
fn validation_off() -> Config {
    let yaml = CONFIG.replace("    EnableLogFileValidation: true\n", "");
    Config::from_yaml(&yaml, "validation off").expect("configuration")
}

/// A crash at any storage call of the run that finds the trail no longer validating and
/// closes its chains, then the next run: each chain gets its hourly digests and exactly one
/// final digest (no fork), and every log file delivered while the trail validated is listed
/// in exactly one digest.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_at_any_call_while_closing_chains_leaves_one_final_digest_each() {
    let config = config();
    let off = validation_off();
    let batches: Vec<_> = fixture_batches().into_iter().step_by(6).collect();
    let stop = T0 + Duration::minutes(90);
    let setup = || async {
        let (dir, store) = fresh_store(&config).await;
        stage(store.as_ref(), &config, &batches).await;
        deliver(store.as_ref(), &config, T0).await;
        (dir, store)
    };

    let (_dir, store) = setup().await;
    let counting = FaultyStore::counting(store.clone());
    let closing = Deliverer::new(&off, &counting, Some(signer().await))
        .handle(&CLAIM_FOR, stop)
        .await
        .expect("closing run");
    let chains = assert_closed_digest_chains(store.as_ref(), &config, stop).await;
    // Per chain the 11:00 digest, then the final one ending when the run saw the stop.
    assert_eq!(closing.digests.len(), 2 * chains.digests.len());
    assert!(
        chains
            .digests
            .values()
            .all(|keys| keys.len() == 2 && keys[1].ends_with("_20261122T113000Z.json.gz"))
    );
    let total = counting.calls();

    for fault in [Fault::Before, Fault::After] {
        for fail_at in 1..=total {
            let (_dir, store) = setup().await;
            let faulty = FaultyStore::new(store.clone(), fail_at, fault);
            let crashed = Deliverer::new(&off, &faulty, Some(signer().await))
                .handle(&CLAIM_FOR, stop)
                .await;
            assert!(crashed.is_err(), "call {fail_at} ({fault:?}) did not fail");
            let later = stop + Duration::minutes(5);
            deliver(store.as_ref(), &off, later).await;
            assert_closed_digest_chains(store.as_ref(), &config, later).await;
        }
    }
}

/// A trail that stops validating (turned off, or removed from the configuration) gets a final
/// digest of the files still pending from the first deliver run that sees it. validate-logs
/// then finds the chain valid, every log file delivered while the trail validated listed and
/// verified, and those delivered while it did not excused by the chain's restart; validating
/// again starts a new chain whose first digest has null previous fields, as CloudTrail's
/// starting digest does.
#[tokio::test(flavor = "multi_thread")]
async fn a_trail_that_stops_validating_gets_a_final_digest_that_validates() {
    let on_yaml = validation::config_yaml("final");
    let stopped = [
        (
            "turned off",
            on_yaml.replace("    EnableLogFileValidation: true\n", ""),
        ),
        (
            "removed",
            on_yaml.replace(&format!("Name: {}", validation::TRAIL), "Name: another"),
        ),
    ];
    for (how, stopped_yaml) in stopped {
        let on = validation::config("final");
        let off = Config::from_yaml(&stopped_yaml, how).expect("configuration");
        let (_dir, store) = fresh_store(&on).await;
        let store = store.as_ref();
        let at = |minutes: i64| T0 + Duration::minutes(minutes);
        let runs = [
            (10, &on),
            (40, &on),
            (70, &on),
            (100, &off),
            (130, &off),
            (190, &on),
        ];
        let mut reports = Vec::new();
        for (run, (minutes, config)) in runs.iter().enumerate() {
            validation::stage_records(store, config, run * 40, 40, at(*minutes)).await;
            reports.push(deliver(store, config, at(*minutes)).await);
        }
        let finals: Vec<&str> = reports[3].digests.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(finals.len(), validation::REGIONS.len(), "{how}: {finals:?}");
        assert!(
            finals
                .iter()
                .all(|key| key.ends_with("_audited_us-east-1_20261122T114000Z.json.gz")),
            "{how}: {finals:?}"
        );
        assert!(reports[3].digests.iter().all(|d| d.log_files == 1), "{how}");
        let restarted = deliver(store, &on, at(245)).await;
        for written in &restarted.digests {
            let object = store
                .get(&written.bucket, &written.key)
                .await
                .expect("digest");
            let body = validation::digest_body(&object);
            assert_eq!(body.digest_start_time, "2026-11-22T13:10:00Z", "{how}");
            assert_eq!(body.previous(), None, "{how}");
            assert_eq!(body.previous_digest_signature, None, "{how}");
        }

        let report = validation::validate(store, &on, None).await;
        let invalid: Vec<_> = report.invalid().collect();
        assert!(invalid.is_empty(), "{how}: {invalid:?}");
        let valid_logs: Vec<&str> = report
            .lines
            .iter()
            .filter_map(|line| match line {
                Line::Valid {
                    kind: FileKind::Log,
                    file,
                } => Some(file.key.as_str()),
                _ => None,
            })
            .collect();
        let delivered_while_validating: Vec<String> = reports
            .iter()
            .enumerate()
            .filter(|(run, _)| !matches!(run, 3 | 4))
            .flat_map(|(_, report)| report.log_files.iter().map(|file| file.key.clone()))
            .collect();
        assert_eq!(
            delivered_while_validating.len(),
            4 * validation::REGIONS.len()
        );
        for key in &delivered_while_validating {
            assert!(
                valid_logs.contains(&key.as_str()),
                "{how}: {key} not validated"
            );
        }
        assert_eq!(valid_logs.len(), delivered_while_validating.len(), "{how}");
    }
}

/// Every history object of `store`, decoded: its folder (account, Region and hour), with its
/// lines sorted; and the copies of log files among them, by key.
async fn history(
    store: &dyn ObjectStore,
    config: &Config,
) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, Bytes>) {
    let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut copies = BTreeMap::new();
    for entry in store
        .list_all(&config.state_bucket, "history/")
        .await
        .expect("list")
    {
        let body = store
            .get_body(&config.state_bucket, &entry.key)
            .await
            .expect("history object");
        let text = cairn_shared::history::decode(&entry.key, &body).expect("decode");
        let (folder, _) = entry.key.rsplit_once('/').expect("a folder");
        lines
            .entry(folder.to_owned())
            .or_default()
            .extend(text.lines().map(str::to_owned));
        if cairn_shared::layout::is_history_log_file_key(&entry.key) {
            copies.insert(entry.key, body);
        }
    }
    lines.values_mut().for_each(|lines| lines.sort());
    (lines, copies)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_history_object_whose_events_a_log_file_holds_is_that_files_bytes() {
    // A trail taking every management event: each Region's events of the batch are one log
    // file, and the history copies it.
    let management = Config::from_yaml(
        r#"
accountId: "111122223333"
trails:
  - Name: management
    S3BucketName: cairn-test-management
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
"#,
        "management",
    )
    .expect("config");
    // A trail taking no management event: the history is all JSON lines.
    let data = Config::from_yaml(
        r#"
accountId: "111122223333"
trails:
  - Name: data
    S3BucketName: cairn-test-data
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    AdvancedEventSelectors:
      - FieldSelectors:
          - {Field: eventCategory, Equals: [Data]}
          - {Field: resources.type, Equals: ["AWS::S3::Object"]}
"#,
        "data",
    )
    .expect("config");
    // The fixtures span years; a batch's events of one account and Region fall in one hour
    // when it delivers as it goes, so the records are moved into one hour, a second apart.
    let mut second = 0;
    let one_hour: Vec<(String, String)> = fixture_batches()
        .into_iter()
        .map(|(name, body)| {
            let mut batch: serde_json::Value = serde_json::from_str(&body).expect("fixture");
            for record in batch["Records"].as_array_mut().expect("records") {
                record["eventTime"] =
                    format!("2026-11-22T09:{:02}:{:02}Z", second / 60 % 60, second % 60).into();
                second += 1;
            }
            (name, batch.to_string())
        })
        .collect();
    let mut histories = Vec::new();
    for config in [&management, &data] {
        let (_dir, store) = fresh_store(config).await;
        stage(store.as_ref(), config, &one_hour).await;
        deliver(store.as_ref(), config, T0).await;
        let (lines, copies) = history(store.as_ref(), config).await;
        let trail = &config.trails[0];
        let mut log_files = Vec::new();
        for entry in store.list_all(trail.bucket(), "").await.expect("list") {
            log_files.push(
                store
                    .get_body(trail.bucket(), &entry.key)
                    .await
                    .expect("log file"),
            );
        }
        for (key, body) in &copies {
            assert!(log_files.contains(body), "{key} is no log file's copy");
        }
        histories.push((lines, copies.len()));
    }
    let [(with_copies, copied), (all_lines, none)] = histories.try_into().expect("two runs");
    assert!(copied > 0, "no history object was a copy");
    assert_eq!(none, 0);
    // The same events in the same hours, line for line, whichever form holds them.
    assert_eq!(with_copies, all_lines);
}
