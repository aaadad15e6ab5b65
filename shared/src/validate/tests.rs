//! The walk and the log checks on small hand-built chains in a local store: each test tampers
//! with one thing and expects exactly the lines that names it.

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use super::*;
use crate::adapters::local::LocalObjectStore;
use crate::digest::format::{
    DigestFile, HASH_ALGORITHM, LogFileEntry, SIGNATURE_ALGORITHM_METADATA, SIGNATURE_METADATA,
    sha256_hex, signing_string,
};
use crate::layout::digest_key;
use crate::layout::log_file_key;
use crate::ports::object_store::PutOptions;
use crate::ports::signer::{PublicKey, SIGNATURE_ALGORITHM};

const BUCKET: &str = "trail";
const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";
/// The chain's first digest ends here; digest `i` ends `i` hours later.
const FIRST_END: i64 = 1_795_824_000; // 2026-11-28T00:00:00Z

struct TestKey {
    signing: SigningKey<Sha256>,
    public: PublicKey,
}

fn test_key() -> TestKey {
    // 1024 bits keeps key generation fast; verification does not depend on the size.
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("key");
    TestKey {
        public: PublicKey::from_rsa(&RsaPublicKey::from(&private)).expect("public"),
        signing: SigningKey::new(private),
    }
}

fn hour(i: i64) -> EventTime {
    EventTime::from_unix_seconds(FIRST_END + i * HOUR)
}

fn chain_id() -> ChainId {
    ChainId {
        trail: "t".into(),
        home_region: REGION.into(),
        account: ACCOUNT.into(),
        region: REGION.into(),
    }
}

fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("gzip");
    Bytes::from(encoder.finish().expect("gzip"))
}

/// A chain of hourly digests, each listing two log files delivered in its hour.
struct Fixture {
    _dir: tempfile::TempDir,
    store: LocalObjectStore,
    keys: Vec<PublishedKey>,
    /// Per digest: its location and its log files.
    digests: Vec<(Location, Vec<Location>)>,
}

impl Fixture {
    async fn new(hours: i64) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket(BUCKET).await.expect("bucket");
        let key = test_key();
        let keys = vec![PublishedKey {
            key: key.public.clone(),
            validity_start: hour(-2).to_offset_date_time(),
            validity_end: None,
        }];
        let mut fixture = Self {
            _dir: dir,
            store,
            keys,
            digests: Vec::new(),
        };
        let mut previous = None;
        for i in 0..hours {
            previous = Some(fixture.write_hour(i, &key, previous, true).await);
        }
        fixture
    }

    /// Writes hour `i`'s two log files and its digest; returns (location, hash, signature).
    async fn write_hour(
        &mut self,
        i: i64,
        key: &TestKey,
        previous: Option<(Location, String, String)>,
        with_logs: bool,
    ) -> (Location, String, String) {
        let end = hour(i);
        let mut entries = Vec::new();
        let mut files = Vec::new();
        for n in 0..if with_logs { 2 } else { 0 } {
            let delivered = EventTime::from_unix_seconds(end.unix_seconds() - HOUR + 600 * (n + 1));
            let log_key = log_file_key(
                None,
                None,
                ACCOUNT,
                REGION,
                delivered.to_offset_date_time(),
                &format!("{i:08}{n:08}"),
            );
            let json = format!(
                "{{\"Records\":[{{\"eventTime\":\"{delivered}\",\"eventID\":\"{i}-{n}\"}}]}}"
            );
            self.store
                .put(
                    BUCKET,
                    &log_key,
                    gzip(json.as_bytes()),
                    &PutOptions::new("application/json").content_encoding("gzip"),
                )
                .await
                .expect("put log");
            entries.push(LogFileEntry {
                s3_bucket: BUCKET.into(),
                s3_object: log_key.clone(),
                hash_value: sha256_hex(json.as_bytes()),
                hash_algorithm: HASH_ALGORITHM.into(),
                newest_event_time: delivered.to_string(),
                oldest_event_time: delivered.to_string(),
            });
            files.push(Location::new(BUCKET, log_key));
        }
        let digest_key = digest_key(None, None, &chain_id(), end.to_offset_date_time());
        let event_time = |pick: fn(&str, &str) -> bool| {
            entries
                .iter()
                .map(|e: &LogFileEntry| e.newest_event_time.clone())
                .reduce(|a, b| if pick(&a, &b) { a } else { b })
        };
        let body = DigestFile {
            aws_account_id: ACCOUNT.into(),
            digest_start_time: EventTime::from_unix_seconds(end.unix_seconds() - HOUR).to_string(),
            digest_end_time: end.to_string(),
            digest_s3_bucket: BUCKET.into(),
            digest_s3_object: digest_key.clone(),
            digest_public_key_fingerprint: key.public.fingerprint().into(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.into(),
            newest_event_time: event_time(|a, b| a >= b),
            oldest_event_time: event_time(|a, b| a <= b),
            previous_digest_s3_bucket: previous.as_ref().map(|p| p.0.bucket.clone()),
            previous_digest_s3_object: previous.as_ref().map(|p| p.0.key.clone()),
            previous_digest_hash_value: previous.as_ref().map(|p| p.1.clone()),
            previous_digest_hash_algorithm: previous.as_ref().map(|_| HASH_ALGORITHM.into()),
            previous_digest_signature: previous.as_ref().map(|p| p.2.clone()),
            log_files: entries,
        };
        let json = body.to_json();
        let hash = sha256_hex(&json);
        let message = signing_string(
            &body.digest_end_time,
            BUCKET,
            &digest_key,
            &hash,
            body.previous_digest_signature.as_deref(),
        );
        let signature = hex::encode(key.signing.sign(message.as_bytes()).to_vec());
        self.store
            .put(
                BUCKET,
                &digest_key,
                gzip(&json),
                &PutOptions::new("application/json")
                    .content_encoding("gzip")
                    .metadata(SIGNATURE_METADATA, signature.clone())
                    .metadata(SIGNATURE_ALGORITHM_METADATA, SIGNATURE_ALGORITHM),
            )
            .await
            .expect("put digest");
        let location = Location::new(BUCKET, digest_key);
        self.digests.push((location.clone(), files));
        (location, hash, signature)
    }

    fn request(&self, start: EventTime, end: EventTime) -> Request {
        Request {
            trail: TrailArn::parse(&format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t"))
                .expect("arn"),
            bucket: BUCKET.into(),
            prefix: None,
            organization_id: None,
            account: ACCOUNT.into(),
            regions: None,
            // A local folder, which may be a copy without S3 metadata.
            copy_without_metadata: true,
            start,
            end,
        }
    }

    /// Validates the whole chain: from its first hour to its last digest's end.
    async fn validate(&self) -> Report {
        let last = self.digests.len() as i64 - 1;
        validate(
            &self.store,
            &self.keys,
            &self.request(hour(-1), hour(last)),
            &NoProgress,
        )
        .await
        .expect("validate")
    }

    fn digest(&self, i: usize) -> &Location {
        &self.digests[i].0
    }

    fn log(&self, i: usize, n: usize) -> &Location {
        &self.digests[i].1[n]
    }

    async fn delete(&self, file: &Location) {
        self.store
            .delete(&file.bucket, &file.key)
            .await
            .expect("delete");
    }
}

fn invalid(report: &Report) -> Vec<(FileKind, Location, ValidationProblem)> {
    report
        .invalid()
        .map(|(kind, file, problem)| (kind, file.clone(), problem.clone()))
        .collect()
}

#[tokio::test]
async fn an_untouched_chain_is_valid_newest_first_with_each_digests_logs() {
    let fixture = Fixture::new(4).await;
    let report = fixture.validate().await;
    assert!(report.is_valid(), "{:?}", invalid(&report));
    let expected: Vec<Line> = (0..4)
        .rev()
        .flat_map(|i| {
            std::iter::once(Line::Valid {
                kind: FileKind::Digest,
                file: fixture.digest(i).clone(),
            })
            .chain((0..2).map(move |n| (i, n)).map(|(i, n)| Line::Valid {
                kind: FileKind::Log,
                file: fixture.log(i, n).clone(),
            }))
        })
        .collect();
    assert_eq!(report.lines, expected);
    assert_eq!(report.found, Some((hour(-1), hour(3))));
}

#[tokio::test]
async fn two_deleted_digests_in_a_row_are_both_reported() {
    let fixture = Fixture::new(5).await;
    fixture.delete(fixture.digest(2)).await;
    fixture.delete(fixture.digest(1)).await;
    let report = fixture.validate().await;
    let problems = invalid(&report);
    // The logs the deleted digests listed are vouched for by no digest any more.
    let mut expected = vec![
        (
            FileKind::Digest,
            fixture.digest(2).clone(),
            ValidationProblem::NotFound,
        ),
        (
            FileKind::Digest,
            fixture.digest(1).clone(),
            ValidationProblem::NotFound,
        ),
    ];
    for i in [1, 2] {
        for n in 0..2 {
            expected.push((
                FileKind::Log,
                fixture.log(i, n).clone(),
                ValidationProblem::Unlisted,
            ));
        }
    }
    let mut sorted = problems.clone();
    sorted[2..].sort_by(|a, b| a.1.cmp(&b.1));
    expected[2..].sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(sorted, expected);
    assert_eq!(report.count(FileKind::Digest, true), 3);
}

#[tokio::test]
async fn a_modified_log_file_fails_its_hash_and_a_deleted_one_is_not_found() {
    let fixture = Fixture::new(3).await;
    let modified = fixture.log(1, 0);
    fixture
        .store
        .put(
            &modified.bucket,
            &modified.key,
            gzip(b"{\"Records\":[]}"),
            &PutOptions::new("application/json"),
        )
        .await
        .expect("put");
    fixture.delete(fixture.log(0, 1)).await;
    let report = fixture.validate().await;
    assert_eq!(
        invalid(&report),
        [
            (
                FileKind::Log,
                modified.clone(),
                ValidationProblem::HashMismatch
            ),
            (
                FileKind::Log,
                fixture.log(0, 1).clone(),
                ValidationProblem::NotFound
            ),
        ]
    );
}

#[tokio::test]
async fn a_log_file_moved_to_another_key_is_named_with_where_it_went() {
    let fixture = Fixture::new(3).await;
    let original = fixture.log(1, 0).clone();
    let object = fixture.store.get(BUCKET, &original.key).await.expect("get");
    let moved_key = original.key.replace("00000001", "MOVEDTO1");
    fixture
        .store
        .put(
            BUCKET,
            &moved_key,
            object.body,
            &PutOptions::new("application/json"),
        )
        .await
        .expect("put");
    fixture.delete(&original).await;
    let report = fixture.validate().await;
    assert_eq!(
        invalid(&report),
        [(
            FileKind::Log,
            original,
            ValidationProblem::MovedTo {
                found: Location::new(BUCKET, moved_key)
            }
        )]
    );
}

#[tokio::test]
async fn an_inserted_log_file_is_reported_but_not_one_a_later_digest_may_still_list() {
    let fixture = Fixture::new(3).await;
    let insert = |stamp: EventTime, unique: &str| {
        log_file_key(
            None,
            None,
            ACCOUNT,
            REGION,
            stamp.to_offset_date_time(),
            unique,
        )
    };
    let inserted = insert(
        EventTime::from_unix_seconds(hour(1).unix_seconds() - 60),
        "INSERTED00000001",
    );
    // Delivered in the newest digest's hour: the next digest may list it.
    let recent = insert(
        EventTime::from_unix_seconds(hour(2).unix_seconds() - 60),
        "INSERTED00000002",
    );
    for key in [&inserted, &recent] {
        fixture
            .store
            .put(
                BUCKET,
                key,
                gzip(b"{\"Records\":[]}"),
                &PutOptions::new("application/json"),
            )
            .await
            .expect("put");
    }
    let report = fixture.validate().await;
    assert_eq!(
        invalid(&report),
        [(
            FileKind::Log,
            Location::new(BUCKET, inserted),
            ValidationProblem::Unlisted
        )]
    );
}

#[tokio::test]
async fn a_digest_that_is_not_what_its_successor_committed_to_is_reported() {
    // Digest 1 replaced by another validly signed digest for the same hour (as only the key
    // holder could): its signature verifies, but digest 2 committed to the original.
    let mut fixture = Fixture::new(3).await;
    let key = test_key();
    fixture.keys.push(PublishedKey {
        key: key.public.clone(),
        validity_start: hour(-2).to_offset_date_time(),
        validity_end: None,
    });
    let object = fixture
        .store
        .get(BUCKET, &fixture.digest(0).key)
        .await
        .expect("get");
    let previous = (
        fixture.digest(0).clone(),
        {
            let mut json = Vec::new();
            digests::gunzip_one_member(&object.body, |c| json.extend_from_slice(c)).expect("gz");
            sha256_hex(&json)
        },
        object.info.metadata[SIGNATURE_METADATA].clone(),
    );
    fixture.write_hour(1, &key, Some(previous), false).await;
    let report = fixture.validate().await;
    let problems = invalid(&report);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        matches!(
            &problems[0],
            (FileKind::Digest, file, ValidationProblem::NotWhatTheNextDigestSays { next, detail })
                if file == fixture.digest(1) && next == fixture.digest(2) && detail.contains("previousDigestHashValue")
        ),
        "{problems:?}"
    );
    // The replaced digest's log files: listed by no valid digest now.
    assert!(
        problems[1..]
            .iter()
            .all(|p| p.2 == ValidationProblem::Unlisted),
        "{problems:?}"
    );
}

#[tokio::test]
async fn digests_signed_by_an_unknown_or_retired_key_are_reported() {
    let mut fixture = Fixture::new(3).await;
    let fingerprint = fixture.keys[0].key.fingerprint().to_owned();
    let locations: Vec<Location> = (0..3).map(|i| fixture.digest(i).clone()).collect();
    let not_valid = |i: usize| {
        (
            FileKind::Digest,
            locations[i].clone(),
            ValidationProblem::KeyNotValid {
                fingerprint: fingerprint.clone(),
                digest_end: hour(i as i64),
            },
        )
    };
    // Retired before the newest digest's end; then published for later digests only.
    fixture.keys[0].validity_end = Some(hour(1).to_offset_date_time());
    assert_eq!(invalid(&fixture.validate().await), [not_valid(2)]);
    fixture.keys[0].validity_end = None;
    fixture.keys[0].validity_start = hour(1).to_offset_date_time();
    assert_eq!(invalid(&fixture.validate().await), [not_valid(0)]);

    fixture.keys.clear();
    let report = fixture.validate().await;
    let not_found = ValidationProblem::KeyNotFound {
        home_region: REGION.into(),
        fingerprint: fingerprint.clone(),
    };
    assert!(
        invalid(&report)
            .iter()
            .all(|(kind, _, problem)| *kind == FileKind::Digest && *problem == not_found),
        "{:?}",
        invalid(&report)
    );
    assert_eq!(report.count(FileKind::Digest, false), 3);
}

#[tokio::test]
async fn a_chain_that_starts_again_reports_the_gap_as_aws_cli_does() {
    let mut fixture = Fixture::new(2).await;
    let key = test_key();
    fixture.keys.push(PublishedKey {
        key: key.public.clone(),
        validity_start: hour(-2).to_offset_date_time(),
        validity_end: None,
    });
    // Validation off for hours 2 and 3; a new chain from hour 4.
    let restart = fixture.write_hour(4, &key, None, true).await;
    fixture.write_hour(5, &key, Some(restart), true).await;
    let report = fixture.validate().await;
    assert!(report.is_valid(), "{:?}", invalid(&report));
    assert!(report.lines.contains(&Line::Gap {
        backfill: false,
        from: hour(1),
        to: hour(3),
    }));
}

#[tokio::test]
async fn a_digest_copied_elsewhere_is_reported_moved_and_its_original_missing() {
    let fixture = Fixture::new(3).await;
    let original = fixture.digest(1).clone();
    let object = fixture.store.get(BUCKET, &original.key).await.expect("get");
    let elsewhere = original.key.replace("/2026/11/28/", "/2026/11/27/");
    let mut options = PutOptions::new("application/json");
    options.metadata = object.info.metadata.clone();
    fixture
        .store
        .put(BUCKET, &elsewhere, object.body, &options)
        .await
        .expect("put");
    fixture.delete(&original).await;
    let report = fixture.validate().await;
    let problems = invalid(&report);
    assert_eq!(
        problems[0],
        (
            FileKind::Digest,
            original.clone(),
            ValidationProblem::NotFound
        )
    );
    assert!(
        problems.contains(&(
            FileKind::Digest,
            Location::new(BUCKET, elsewhere),
            ValidationProblem::Moved { original }
        )),
        "{problems:?}"
    );
}

#[tokio::test]
async fn without_signature_metadata_a_digest_is_verified_with_the_signature_its_successor_names() {
    let fixture = Fixture::new(3).await;
    // A copy that lost the S3 metadata, as `aws s3 sync` makes.
    for (digest, _) in &fixture.digests {
        let object = fixture.store.get(BUCKET, &digest.key).await.expect("get");
        fixture
            .store
            .put(
                BUCKET,
                &digest.key,
                object.body,
                &PutOptions::new("application/json"),
            )
            .await
            .expect("put");
    }
    let report = fixture.validate().await;
    assert_eq!(
        invalid(&report),
        [(
            FileKind::Digest,
            fixture.digest(2).clone(),
            ValidationProblem::NoSignature
        )]
    );
    assert_eq!(report.count(FileKind::Digest, true), 2);
}

#[tokio::test]
async fn a_range_with_no_digests_finds_none() {
    let fixture = Fixture::new(2).await;
    let later = |i: i64| hour(i + 48);
    let report = validate(
        &fixture.store,
        &fixture.keys,
        &fixture.request(later(0), later(3)),
        &NoProgress,
    )
    .await
    .expect("validate");
    assert_eq!(report, Report::default());
    let error = validate(
        &fixture.store,
        &fixture.keys,
        &fixture.request(later(3), later(0)),
        &NoProgress,
    )
    .await
    .expect_err("inverted");
    assert!(matches!(error, ValidateError::InvertedRange { .. }));
}
