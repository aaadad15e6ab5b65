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
use cairn_shared::validate::{FileKind, Location, Report, ValidationProblem};
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
