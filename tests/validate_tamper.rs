//! The tamper matrix: chains built by the real pipeline (with a key rotation halfway, which must
//! stay valid), then one change at a time, each case asserting exactly which files
//! `validate-logs` names and why; on the embedded store and on LocalStack's S3.

use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::adapters::local::PemSigner;
use cairn_shared::config::Config;
use cairn_shared::layout::log_file_key;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::ports::signer::Signer;
use cairn_shared::public_keys;
use cairn_shared::validate::{FileKind, Location, NoProgress, Report, ValidationProblem};
use cairn_test_support::aws_chains;
use cairn_test_support::pipeline::{create_buckets, unique_suffix};
use cairn_test_support::validation::{
    ACCOUNT, HOME_REGION, HOURS, PREFIX, REGIONS, ROTATION_HOUR, T0, Tamper, alter_listed_hash,
    build_chains, config, digest, digest_body, gunzip, gzip, log_files, resign, validate,
};
use flate2::Compression;
use time::Duration;

type Verdict = Vec<(FileKind, Location, ValidationProblem)>;

fn verdict(report: &Report) -> Verdict {
    report
        .invalid()
        .map(|(kind, file, problem)| (kind, file.clone(), problem.clone()))
        .collect()
}

struct Keys {
    _dir: tempfile::TempDir,
    first: PemSigner,
    second: PemSigner,
    attacker: PemSigner,
}

async fn keys() -> Keys {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = |name: &str| PemSigner::open_or_create(dir.path().join(name));
    let (first, second, attacker) =
        tokio::join!(key("first.pem"), key("second.pem"), key("attacker.pem"));
    Keys {
        first: first.expect("key"),
        second: second.expect("key"),
        attacker: attacker.expect("key"),
        _dir: dir,
    }
}

/// Builds the chains, checks they are valid, then runs every case against them.
async fn matrix(store: &dyn ObjectStore, config: &Config) {
    let keys = keys().await;
    build_chains(store, config, &keys.first, &keys.second).await;

    // The untouched chains, signed by two keys in turn: valid, every hour of every Region.
    let report = validate(store, config, None).await;
    assert_eq!(verdict(&report), Verdict::new());
    let regions = REGIONS.len();
    assert_eq!(
        report.count(FileKind::Digest, true),
        regions * HOURS as usize
    );
    assert_eq!(
        report.count(FileKind::Log, true),
        regions * HOURS as usize * 2
    );
    let published = public_keys::load(store, &config.state_bucket)
        .await
        .expect("keys");
    let (first, second) = (
        fingerprint_of(&keys.first).await,
        fingerprint_of(&keys.second).await,
    );
    assert_eq!(
        published
            .iter()
            .map(|k| k.key.fingerprint().to_owned())
            .collect::<Vec<_>>(),
        [first.clone(), second.clone()]
    );
    let tamper = Tamper::new(store);
    let region = REGIONS[0];
    for (hours, signer) in [(ROTATION_HOUR - 1, &first), (ROTATION_HOUR, &second)] {
        let object = tamper.get(&digest(config, region, hours)).await;
        assert_eq!(&digest_body(&object).digest_public_key_fingerprint, signer);
    }

    // The cases, each on the chain of the first Region, each undone before the next.
    let logs = |hour| log_files(store, config, region, hour);
    let (hour1, hour2) = (logs(1).await, logs(2).await);
    assert_eq!((hour1.len(), hour2.len()), (2, 2));
    let unlisted = |files: &[&Vec<Location>]| -> Verdict {
        let mut files: Vec<Location> = files.iter().flat_map(|f| f.iter().cloned()).collect();
        files.sort();
        files
            .into_iter()
            .map(|file| (FileKind::Log, file, ValidationProblem::Unlisted))
            .collect()
    };
    let d2 = digest(config, region, 2);
    let d3 = digest(config, region, 3);

    // A log file modified.
    let mut t = Tamper::new(store);
    let like = t.get(&hour1[0]).await;
    t.put(
        &hour1[0],
        gzip(b"{\"Records\":[]}", Compression::default()),
        &like,
    )
    .await;
    assert_eq!(
        verdict(&validate(store, config, None).await),
        [(
            FileKind::Log,
            hour1[0].clone(),
            ValidationProblem::HashMismatch
        )]
    );
    t.undo().await;

    // A log file deleted.
    let mut t = Tamper::new(store);
    t.delete(&hour1[1]).await;
    assert_eq!(
        verdict(&validate(store, config, None).await),
        [(FileKind::Log, hour1[1].clone(), ValidationProblem::NotFound)]
    );
    t.undo().await;

    // A log file added, in the middle of the period.
    let mut t = Tamper::new(store);
    let added = Location::new(
        hour1[0].bucket.clone(),
        log_file_key(
            Some(PREFIX),
            None,
            ACCOUNT,
            region,
            T0 + Duration::minutes(80),
            "INSERTED00000000",
        ),
    );
    t.put(&added, like.body.clone(), &like).await;
    assert_eq!(
        verdict(&validate(store, config, None).await),
        [(FileKind::Log, added, ValidationProblem::Unlisted)]
    );
    t.undo().await;

    // A log file's bytes unchanged but recompressed: still valid, the hash is of the bytes.
    let mut t = Tamper::new(store);
    let original = t.get(&hour2[0]).await;
    let recompressed = gzip(&gunzip(&original.body), Compression::fast());
    assert_ne!(recompressed, original.body);
    t.put(&hour2[0], recompressed, &original).await;
    assert_eq!(
        verdict(&validate(store, config, None).await),
        Verdict::new()
    );
    t.undo().await;

    // A digest modified: a listed hash changed, as if to cover a modified log file.
    let mut t = Tamper::new(store);
    alter_listed_hash(&mut t, &d2).await;
    assert_eq!(
        verdict(&validate(store, config, None).await),
        [(
            FileKind::Digest,
            d2.clone(),
            ValidationProblem::SignatureFailed
        )]
    );
    t.undo().await;

    // A digest deleted: reported, and the log files only it listed are no longer vouched for.
    let mut t = Tamper::new(store);
    t.delete(&d2).await;
    let mut expected = vec![(FileKind::Digest, d2.clone(), ValidationProblem::NotFound)];
    expected.extend(unlisted(&[&hour1]));
    assert_eq!(verdict(&validate(store, config, None).await), expected);
    t.undo().await;

    // Two digests deleted in a row: both reported (aws-cli reports only the first).
    let mut t = Tamper::new(store);
    t.delete(&d2).await;
    t.delete(&d3).await;
    let mut expected = vec![
        (FileKind::Digest, d3.clone(), ValidationProblem::NotFound),
        (FileKind::Digest, d2.clone(), ValidationProblem::NotFound),
    ];
    expected.extend(unlisted(&[&hour1, &hour2]));
    assert_eq!(verdict(&validate(store, config, None).await), expected);
    t.undo().await;

    // A digest re-signed with another key, naming that key.
    let mut t = Tamper::new(store);
    let attacker = resign(&mut t, &d2, &keys.attacker).await;
    assert_eq!(
        verdict(&validate(store, config, None).await),
        [(
            FileKind::Digest,
            d2.clone(),
            ValidationProblem::KeyNotFound {
                home_region: HOME_REGION.to_owned(),
                fingerprint: attacker,
            }
        )]
    );
    t.undo().await;

    // A digest moved: its own key no longer holds it, and the copy names where it belongs.
    let mut t = Tamper::new(store);
    let object = t.get(&d2).await;
    let moved = Location::new(
        d2.bucket.clone(),
        d2.key.replace("/2026/11/22/", "/2026/11/21/"),
    );
    assert_ne!(moved, d2);
    t.put(&moved, object.body.clone(), &object).await;
    t.delete(&d2).await;
    assert_eq!(
        verdict(&validate(store, config, None).await),
        [
            (FileKind::Digest, d2.clone(), ValidationProblem::NotFound),
            (
                FileKind::Digest,
                moved,
                ValidationProblem::Moved {
                    original: d2.clone()
                }
            ),
        ]
    );
    t.undo().await;

    // Every change undone: valid again.
    assert_eq!(
        verdict(&validate(store, config, None).await),
        Verdict::new()
    );
}

async fn fingerprint_of(signer: &PemSigner) -> String {
    signer
        .public_key()
        .await
        .expect("public key")
        .fingerprint()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn tampering_is_found_and_named_on_the_embedded_store() {
    let config = config("embedded");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    store
        .create_bucket(&config.state_bucket)
        .await
        .expect("bucket");
    store
        .create_bucket(config.trails[0].bucket())
        .await
        .expect("bucket");
    matrix(&store, &config).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tampering_is_found_and_named_on_localstack() {
    let Some(sdk) =
        cairn_test_support::localstack_sdk_config("tampering_is_found_and_named_on_localstack")
            .await
    else {
        return;
    };
    let config = config(&unique_suffix());
    create_buckets(&sdk, &config).await;
    matrix(&S3ObjectStore::from_sdk_config(&sdk), &config).await;
}

/// Chains written as AWS CloudTrail writes them (offset periods, an empty period, unknown
/// fields, a backfill digest, an organization trail over two accounts and two Regions, a key
/// rotation): valid with `keys`, then one change at a time, each named.
async fn aws_matrix(store: &dyn ObjectStore, bucket: &str, state_bucket: &str, from_file: bool) {
    let keys = keys().await;
    let built = aws_chains::build(store, bucket, state_bucket, &keys.first, &keys.second).await;
    let published = if from_file {
        aws_chains::listed_keys(store, state_bucket).await.1
    } else {
        public_keys::load(store, state_bucket).await.expect("keys")
    };
    let run = |account: &'static str| {
        let request = aws_chains::request(bucket, account, None);
        let published = published.clone();
        async move {
            cairn_shared::validate::validate(store, &published, &request, &NoProgress)
                .await
                .expect("validate")
        }
    };

    // Every account's chains, in every Region: valid, the backfill digest counted apart.
    let per_chain_logs = (aws_chains::PERIODS - 1) as usize * 2;
    for (i, account) in aws_chains::ACCOUNTS.into_iter().enumerate() {
        let report = run(account).await;
        assert_eq!(verdict(&report), Verdict::new(), "{account}");
        let counts = report.counts();
        let regions = aws_chains::REGIONS.len();
        assert_eq!(counts.valid_digests, regions * aws_chains::PERIODS as usize);
        assert_eq!(counts.valid_backfill_digests, usize::from(i == 0));
        assert_eq!(
            counts.valid_logs,
            regions * per_chain_logs + usize::from(i == 0)
        );
        assert_eq!(counts.cairn_findings + counts.unverifiable_digests, 0);
    }

    let (account, region) = (aws_chains::ACCOUNTS[0], aws_chains::REGIONS[0]);
    let digest = |k| aws_chains::digest(bucket, account, region, k);
    let (d2, d3) = (digest(2), digest(3));
    let period3 = built.logs(account, region, 3).to_vec();
    let period1 = built.logs(account, region, 1).to_vec();
    assert!(
        built
            .logs(account, region, aws_chains::EMPTY_PERIOD)
            .is_empty()
    );

    // A log file modified.
    let mut t = Tamper::new(store);
    let like = t.get(&period1[0]).await;
    t.put(
        &period1[0],
        gzip(b"{\"Records\":[]}", Compression::default()),
        &like,
    )
    .await;
    assert_eq!(
        verdict(&run(account).await),
        [(
            FileKind::Log,
            period1[0].clone(),
            ValidationProblem::HashMismatch
        )]
    );
    t.undo().await;

    // Two digests of offset periods deleted in a row: both named, at their offset keys; the
    // log files only they listed are no longer vouched for.
    let mut t = Tamper::new(store);
    t.delete(&d2).await;
    t.delete(&d3).await;
    let mut expected = vec![
        (FileKind::Digest, d3.clone(), ValidationProblem::NotFound),
        (FileKind::Digest, d2.clone(), ValidationProblem::NotFound),
    ];
    let mut unlisted = period3.clone();
    unlisted.sort();
    expected.extend(
        unlisted
            .into_iter()
            .map(|file| (FileKind::Log, file, ValidationProblem::Unlisted)),
    );
    assert_eq!(verdict(&run(account).await), expected);
    t.undo().await;

    // A log file inserted into an offset period.
    let mut t = Tamper::new(store);
    let inserted = Location::new(
        bucket,
        log_file_key(
            Some(aws_chains::PREFIX),
            Some(aws_chains::ORGANIZATION),
            account,
            region,
            aws_chains::period_end(3) - Duration::minutes(30),
            "INSERTED00000000",
        ),
    );
    t.put(&inserted, like.body.clone(), &like).await;
    assert_eq!(
        verdict(&run(account).await),
        [(FileKind::Log, inserted, ValidationProblem::Unlisted)]
    );
    t.undo().await;

    // The backfill digest: modified, stripped of its generation time, deleted.
    let backfill = aws_chains::backfill_digest(bucket);
    let mut t = Tamper::new(store);
    alter_listed_hash(&mut t, &backfill).await;
    assert_eq!(
        verdict(&run(account).await),
        [(
            FileKind::BackfillDigest,
            backfill.clone(),
            ValidationProblem::SignatureFailed
        )]
    );
    t.undo().await;

    let mut t = Tamper::new(store);
    let mut object = t.get(&backfill).await;
    object.info.metadata.remove("backfill-generation-timestamp");
    t.put(&backfill, object.body.clone(), &object).await;
    assert!(matches!(
        &verdict(&run(account).await)[..],
        [(FileKind::BackfillDigest, file, ValidationProblem::InvalidFormat(_))] if *file == backfill
    ));
    t.undo().await;

    let mut t = Tamper::new(store);
    t.delete(&backfill).await;
    assert_eq!(
        verdict(&run(account).await),
        [(
            FileKind::Log,
            built.backfill_log.clone(),
            ValidationProblem::Unlisted
        )]
    );
    t.undo().await;

    // A digest re-signed with a key never published.
    let mut t = Tamper::new(store);
    let attacker = resign(&mut t, &d3, &keys.attacker).await;
    assert_eq!(
        verdict(&run(account).await),
        [(
            FileKind::Digest,
            d3.clone(),
            ValidationProblem::KeyNotFound {
                home_region: aws_chains::HOME_REGION.to_owned(),
                fingerprint: attacker,
            }
        )]
    );
    t.undo().await;

    // The member account's chains are their own: tampering there is named there only.
    let member = aws_chains::ACCOUNTS[1];
    let mut t = Tamper::new(store);
    let member_digest = aws_chains::digest(bucket, member, aws_chains::REGIONS[1], 4);
    alter_listed_hash(&mut t, &member_digest).await;
    assert_eq!(verdict(&run(account).await), Verdict::new());
    assert_eq!(
        verdict(&run(member).await),
        [(
            FileKind::Digest,
            member_digest,
            ValidationProblem::SignatureFailed
        )]
    );
    t.undo().await;

    assert_eq!(verdict(&run(account).await), Verdict::new());
}

/// An `aws s3 sync` copy of the chains: no S3 metadata, so each chain's newest digest and the
/// backfill digest are unverifiable, counted apart, and the copy is otherwise valid.
async fn synced_copy_is_valid_but_for_its_unverifiable_newest_digests(
    store: &dyn ObjectStore,
    bucket: &str,
    state_bucket: &str,
) {
    let copy_dir = tempfile::tempdir().expect("tempdir");
    let copy = LocalObjectStore::new(copy_dir.path().to_path_buf());
    copy.create_bucket(bucket).await.expect("bucket");
    for entry in store.list_all(bucket, "").await.expect("list") {
        let object = store.get(bucket, &entry.key).await.expect("get");
        // What `aws s3 sync` keeps: the bytes.
        copy.put(
            bucket,
            &entry.key,
            object.body,
            &cairn_shared::ports::object_store::PutOptions::new("application/octet-stream"),
        )
        .await
        .expect("put");
    }
    let keys = aws_chains::listed_keys(store, state_bucket).await.1;
    for (i, account) in aws_chains::ACCOUNTS.into_iter().enumerate() {
        let mut request = aws_chains::request(bucket, account, None);
        request.copy_without_metadata = true;
        let report = cairn_shared::validate::validate(&copy, &keys, &request, &NoProgress)
            .await
            .expect("validate");
        assert!(report.is_valid(), "{:?}", verdict(&report));
        let counts = report.counts();
        let regions = aws_chains::REGIONS.len();
        let backfill = usize::from(i == 0);
        assert_eq!(counts.unverifiable_digests, regions + backfill);
        assert_eq!(
            counts.valid_digests,
            regions * (aws_chains::PERIODS as usize - 1)
        );
        let unverifiable: Vec<_> = verdict(&report)
            .into_iter()
            .map(|(_, file, problem)| (file, problem))
            .collect();
        assert!(
            unverifiable
                .iter()
                .all(|(_, problem)| *problem == ValidationProblem::NoSignature),
            "{unverifiable:?}"
        );
        let newest =
            aws_chains::digest(bucket, account, aws_chains::REGIONS[0], aws_chains::PERIODS);
        assert!(unverifiable.iter().any(|(file, _)| *file == newest));
    }
}

/// A `cairn sync` bundle of the chains: the digests keep their signatures, so everything
/// verifies offline, the newest digests and the backfill digest included.
async fn bundle_is_valid_with_every_signature_verified(
    store: &dyn ObjectStore,
    bucket: &str,
    state_bucket: &str,
) {
    let bundle_dir = tempfile::tempdir().expect("tempdir");
    let bundle = LocalObjectStore::new(bundle_dir.path().to_path_buf());
    bundle.create_bucket(bucket).await.expect("bucket");
    let keys = aws_chains::listed_keys(store, state_bucket).await.1;
    for (i, account) in aws_chains::ACCOUNTS.into_iter().enumerate() {
        let mut request = aws_chains::request(bucket, account, None);
        let copied = cairn_shared::validate::copy_evidence(store, &bundle, &request, &NoProgress)
            .await
            .expect("copy");
        let regions = aws_chains::REGIONS.len();
        let backfill = usize::from(i == 0);
        assert_eq!(
            copied.digests,
            regions * aws_chains::PERIODS as usize + backfill
        );
        request.copy_without_metadata = true;
        let report = cairn_shared::validate::validate(&bundle, &keys, &request, &NoProgress)
            .await
            .expect("validate");
        assert_eq!(verdict(&report), Verdict::new());
        let counts = report.counts();
        assert_eq!(
            (counts.valid_digests, counts.valid_backfill_digests),
            (regions * aws_chains::PERIODS as usize, backfill)
        );
        assert_eq!(copied.log_files, counts.valid_logs);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chains_as_cloudtrail_writes_them_are_valid_and_tampering_is_named_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    let (bucket, state) = ("aws-chains", "aws-chains-state");
    for name in [bucket, state] {
        store.create_bucket(name).await.expect("bucket");
    }
    aws_matrix(&store, bucket, state, false).await;
    synced_copy_is_valid_but_for_its_unverifiable_newest_digests(&store, bucket, state).await;
    bundle_is_valid_with_every_signature_verified(&store, bucket, state).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chains_as_cloudtrail_writes_them_are_valid_with_listed_keys_on_localstack() {
    let Some(sdk) = cairn_test_support::localstack_sdk_config(
        "chains_as_cloudtrail_writes_them_are_valid_with_listed_keys_on_localstack",
    )
    .await
    else {
        return;
    };
    let config = config(&unique_suffix());
    create_buckets(&sdk, &config).await;
    let store = S3ObjectStore::from_sdk_config(&sdk);
    let (bucket, state) = (config.trails[0].bucket(), config.state_bucket.as_str());
    aws_matrix(&store, bucket, state, true).await;
    synced_copy_is_valid_but_for_its_unverifiable_newest_digests(&store, bucket, state).await;
    bundle_is_valid_with_every_signature_verified(&store, bucket, state).await;
}

/// With --aws, a trail that is not Cairn's gets its keys from CloudTrail's ListPublicKeys, as
/// aws-cli does: here the loopback stub's answer, checked key by key, verifies the chains.
#[tokio::test(flavor = "multi_thread")]
async fn keys_from_list_public_keys_verify_chains_as_cloudtrail_writes_them() {
    use aws_sdk_s3::config::{Credentials, Region, SharedCredentialsProvider};
    use cairn_shared::adapters::aws::{CloudTrailKeys, load_sdk_config};
    use cairn_test_support::cloudtrail_stub::CloudTrailStub;

    let dir = tempfile::tempdir().expect("tempdir");
    let store = std::sync::Arc::new(LocalObjectStore::new(dir.path().to_path_buf()));
    let (bucket, state) = ("aws-chains", "aws-chains-state");
    for name in [bucket, state] {
        store.create_bucket(name).await.expect("bucket");
    }
    let keys = keys().await;
    aws_chains::build(store.as_ref(), bucket, state, &keys.first, &keys.second).await;
    let stub = CloudTrailStub::start(store.clone(), state.to_owned());
    let sdk = load_sdk_config()
        .await
        .into_builder()
        .region(Region::new(aws_chains::HOME_REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )))
        .build();
    // On the client itself: the environment's AWS_ENDPOINT_URL would win over the SDK config's.
    let client = aws_sdk_cloudtrail::Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(&sdk)
            .endpoint_url(&stub.endpoint)
            .build(),
    );
    let (start, end) = aws_chains::range();
    let listed = public_keys::list_from(
        &CloudTrailKeys::from_client(client),
        start.to_offset_date_time(),
        end.to_offset_date_time() + Duration::hours(2),
    )
    .await
    .expect("ListPublicKeys");
    assert_eq!(
        listed
            .iter()
            .map(|key| key.key.fingerprint().to_owned())
            .collect::<Vec<_>>(),
        [
            fingerprint_of(&keys.first).await,
            fingerprint_of(&keys.second).await
        ]
    );
    for account in aws_chains::ACCOUNTS {
        let request = aws_chains::request(bucket, account, None);
        let report =
            cairn_shared::validate::validate(store.as_ref(), &listed, &request, &NoProgress)
                .await
                .expect("validate");
        assert_eq!(verdict(&report), Verdict::new());
    }
}

/// Organization scale: the accounts of an organization trail are found by listing its
/// `AWSLogs/o-…/` folder and each account's Regions by its digest folders, so one run reaches
/// every chain of the two accounts and two Regions: each valid on its own, with its periods,
/// and the backfill digest in the one chain that has it.
#[tokio::test(flavor = "multi_thread")]
async fn every_account_and_region_of_an_organization_trail_is_found_by_listing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    let (bucket, state) = ("aws-chains", "aws-chains-state");
    for name in [bucket, state] {
        store.create_bucket(name).await.expect("bucket");
    }
    let keys = keys().await;
    aws_chains::build(&store, bucket, state, &keys.first, &keys.second).await;
    let published = public_keys::load(&store, state).await.expect("keys");

    let accounts = cairn_shared::validate::organization_accounts(
        &store,
        bucket,
        Some(aws_chains::PREFIX),
        aws_chains::ORGANIZATION,
    )
    .await
    .expect("accounts");
    assert_eq!(accounts, aws_chains::ACCOUNTS);
    let mut chains = 0;
    for account in &accounts {
        let every_region = aws_chains::request(bucket, account, None);
        let mut regions = cairn_shared::validate::digest_regions(&store, &every_region)
            .await
            .expect("regions");
        regions.sort();
        let mut expected = aws_chains::REGIONS.map(str::to_owned);
        expected.sort();
        assert_eq!(regions, expected, "{account}");
        for region in &regions {
            let request = aws_chains::request(bucket, account, Some(&[region.as_str()]));
            let report =
                cairn_shared::validate::validate(&store, &published, &request, &NoProgress)
                    .await
                    .expect("validate");
            assert_eq!(verdict(&report), Verdict::new(), "{account} {region}");
            let counts = report.counts();
            assert_eq!(counts.valid_digests, aws_chains::PERIODS as usize);
            let backfill = account == aws_chains::ACCOUNTS[0] && region == aws_chains::REGIONS[0];
            assert_eq!(counts.valid_backfill_digests, usize::from(backfill));
            chains += 1;
        }
    }
    assert_eq!(chains, 4);
}
