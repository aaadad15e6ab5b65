//! Digest chains written the way AWS CloudTrail writes them, not the way Cairn's deliver does,
//! for the validators to accept: an organization trail over two accounts and two Regions, with
//! periods offset from the hour (`…T11:01:31Z`), an empty period, a field Cairn does not know
//! in every digest, a key rotation, and a backfill digest (`…_backfill.json.gz` with its
//! `backfill-generation-timestamp` metadata) listing a log file the regular chain missed.

use bytes::Bytes;
use cairn_shared::digest::{DigestFile, SIGNATURE_METADATA, sha256_hex, signing_string};
use cairn_shared::layout::{ChainId, digest_key, log_file_key};
use cairn_shared::ports::object_store::{ObjectStore, PutOptions};
use cairn_shared::ports::signer::Signer;
use cairn_shared::public_keys::{self, PublishedKey};
use cairn_shared::record::EventTime;
use cairn_shared::validate::{Location, Request, TrailArn};
use flate2::Compression;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::validation::gzip;

pub const ORGANIZATION: &str = "o-exampleorgid";
/// The management account (the trail's) and a member account.
pub const ACCOUNTS: [&str; 2] = ["111122223333", "444455556666"];
pub const HOME_REGION: &str = "us-east-1";
pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-2"];
pub const TRAIL: &str = "org-trail";
pub const PREFIX: &str = "audit";
/// The hour the chains start in; each period starts and ends [`OFFSET`] past an hour.
pub const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);
pub const OFFSET: Duration = Duration::seconds(91);
/// Digest periods per chain, numbered from 1.
pub const PERIODS: i64 = 4;
/// The period with no log files: its digest lists none, as CloudTrail's do.
pub const EMPTY_PERIOD: i64 = 2;
/// The period from which the second key signs.
pub const ROTATION_PERIOD: i64 = 3;
/// When CloudTrail made the backfill digest (its `backfill-generation-timestamp`).
pub const BACKFILL_GENERATED: &str = "2026-11-22T14:30:00Z";
/// The field every digest carries that Cairn does not know.
pub const UNKNOWN_FIELD: &str = "\"digestFormatRevision\":\"2\"";

const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

pub fn trail_arn() -> String {
    format!(
        "arn:aws:cloudtrail:{HOME_REGION}:{}:trail/{TRAIL}",
        ACCOUNTS[0]
    )
}

/// The end of period `k` (from 1).
pub fn period_end(k: i64) -> OffsetDateTime {
    T0 + Duration::hours(k) + OFFSET
}

fn chain(account: &str, region: &str) -> ChainId {
    ChainId {
        trail: TRAIL.to_owned(),
        home_region: HOME_REGION.to_owned(),
        account: account.to_owned(),
        region: region.to_owned(),
    }
}

/// The digest of period `k` of an account's chain in a Region.
pub fn digest(bucket: &str, account: &str, region: &str, k: i64) -> Location {
    Location::new(
        bucket,
        digest_key(
            Some(PREFIX),
            Some(ORGANIZATION),
            &chain(account, region),
            period_end(k),
        ),
    )
}

/// The backfill digest, of the first account's chain in the first Region, for period 1.
pub fn backfill_digest(bucket: &str) -> Location {
    let regular = digest(bucket, ACCOUNTS[0], REGIONS[0], 1);
    Location::new(bucket, regular.key.replace(".json.gz", "_backfill.json.gz"))
}

/// What was built.
pub struct Built {
    /// Log files per (account, Region, period), oldest first.
    pub logs: Vec<((String, String, i64), Vec<Location>)>,
    /// The log file only the backfill digest lists.
    pub backfill_log: Location,
}

impl Built {
    pub fn logs(&self, account: &str, region: &str, k: i64) -> &[Location] {
        self.logs
            .iter()
            .find(|((a, r, p), _)| a == account && r == region && *p == k)
            .map_or(&[], |(_, files)| files.as_slice())
    }
}

/// Writes every chain, publishes both keys in `state_bucket`'s registry (the first from T0,
/// the second from just after the period before [`ROTATION_PERIOD`] ended).
pub async fn build(
    store: &dyn ObjectStore,
    bucket: &str,
    state_bucket: &str,
    first: &dyn Signer,
    second: &dyn Signer,
) -> Built {
    let (first_key, second_key) = (
        first.public_key().await.expect("key"),
        second.public_key().await.expect("key"),
    );
    let rotation = period_end(ROTATION_PERIOD - 1) + Duration::minutes(1);
    public_keys::publish(store, state_bucket, &first_key, T0, T0)
        .await
        .expect("publish");
    public_keys::publish(store, state_bucket, &second_key, rotation, rotation)
        .await
        .expect("publish");

    let mut logs = Vec::new();
    for account in ACCOUNTS {
        for region in REGIONS {
            let mut previous: Option<(Location, String, String)> = None;
            for k in 1..=PERIODS {
                let files = if k == EMPTY_PERIOD {
                    Vec::new()
                } else {
                    let mut files = Vec::new();
                    for minutes in [10, 40] {
                        let at = period_end(k) - Duration::hours(1) + Duration::minutes(minutes);
                        files.push(put_log(store, bucket, account, region, at, "").await);
                    }
                    files
                };
                let signer = if k < ROTATION_PERIOD { first } else { second };
                let digest = digest(bucket, account, region, k);
                let written = put_digest(
                    store,
                    signer,
                    &digest,
                    account,
                    (period_end(k) - Duration::hours(1), period_end(k)),
                    &files,
                    previous.take(),
                    None,
                )
                .await;
                previous = Some((digest, written.0, written.1));
                logs.push((
                    (account.to_owned(), region.to_owned(), k),
                    files.into_iter().map(|(file, _)| file).collect(),
                ));
            }
        }
    }

    let (account, region) = (ACCOUNTS[0], REGIONS[0]);
    let missed = put_log(
        store,
        bucket,
        account,
        region,
        period_end(1) - Duration::minutes(5),
        "BACKFILL",
    )
    .await;
    put_digest(
        store,
        second,
        &backfill_digest(bucket),
        account,
        (period_end(1) - Duration::hours(1), period_end(1)),
        std::slice::from_ref(&missed),
        None,
        Some(BACKFILL_GENERATED),
    )
    .await;
    Built {
        logs,
        backfill_log: missed.0,
    }
}

/// A log file delivered at `at`, holding one record; returns it with its JSON.
async fn put_log(
    store: &dyn ObjectStore,
    bucket: &str,
    account: &str,
    region: &str,
    at: OffsetDateTime,
    tag: &str,
) -> (Location, String) {
    let unique = format!("{tag:A<8}{:08}", at.unix_timestamp() % 100_000_000);
    let key = log_file_key(
        Some(PREFIX),
        Some(ORGANIZATION),
        account,
        region,
        at,
        &unique,
    );
    let time = EventTime::from_unix_seconds(at.unix_timestamp() - 120);
    let json = format!(
        r#"{{"Records":[{{"eventVersion":"1.11","eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"{region}","recipientAccountId":"{account}","eventID":"{unique}"}}]}}"#
    );
    store
        .put(
            bucket,
            &key,
            gzip(json.as_bytes(), Compression::default()),
            &PutOptions::new("application/json").content_encoding("gzip"),
        )
        .await
        .expect("put log");
    (Location::new(bucket, key), json)
}

/// Writes a signed digest of `files`; returns its hash and signature.
#[allow(clippy::too_many_arguments)]
async fn put_digest(
    store: &dyn ObjectStore,
    signer: &dyn Signer,
    at: &Location,
    account: &str,
    (start, end): (OffsetDateTime, OffsetDateTime),
    files: &[(Location, String)],
    previous: Option<(Location, String, String)>,
    backfill_generated: Option<&str>,
) -> (String, String) {
    let time = |t: OffsetDateTime| EventTime::from_unix_seconds(t.unix_timestamp()).to_string();
    let record_time = |json: &str| {
        let from = json.find("\"eventTime\":\"").expect("eventTime") + 13;
        json[from..from + 20].to_owned()
    };
    let entries: Vec<_> = files
        .iter()
        .map(|(file, json)| cairn_shared::digest::LogFileEntry {
            s3_bucket: file.bucket.clone(),
            s3_object: file.key.clone(),
            hash_value: sha256_hex(json.as_bytes()),
            hash_algorithm: "SHA-256".to_owned(),
            newest_event_time: record_time(json),
            oldest_event_time: record_time(json),
        })
        .collect();
    let newest = entries.iter().map(|e| e.newest_event_time.clone()).max();
    let oldest = entries.iter().map(|e| e.oldest_event_time.clone()).min();
    let body = DigestFile {
        aws_account_id: account.to_owned(),
        digest_start_time: time(start),
        digest_end_time: time(end),
        digest_s3_bucket: at.bucket.clone(),
        digest_s3_object: at.key.clone(),
        digest_public_key_fingerprint: signer
            .public_key()
            .await
            .expect("key")
            .fingerprint()
            .to_owned(),
        digest_signature_algorithm: SIGNATURE_ALGORITHM.to_owned(),
        newest_event_time: newest,
        oldest_event_time: oldest,
        previous_digest_s3_bucket: previous.as_ref().map(|p| p.0.bucket.clone()),
        previous_digest_s3_object: previous.as_ref().map(|p| p.0.key.clone()),
        previous_digest_hash_value: previous.as_ref().map(|p| p.1.clone()),
        previous_digest_hash_algorithm: previous.as_ref().map(|_| "SHA-256".to_owned()),
        previous_digest_signature: previous.as_ref().map(|p| p.2.clone()),
        log_files: entries,
    };
    let known = String::from_utf8(body.to_json()).expect("utf-8");
    let json = format!("{{{UNKNOWN_FIELD},{}", &known[1..]);
    let hash = sha256_hex(json.as_bytes());
    let message = signing_string(
        &body.digest_end_time,
        &at.bucket,
        &at.key,
        &hash,
        body.previous_digest_signature.as_deref(),
    );
    let signature = hex::encode(signer.sign(message.as_bytes()).await.expect("sign"));
    let mut options = PutOptions::new("application/json")
        .content_encoding("gzip")
        .metadata(SIGNATURE_METADATA, signature.clone())
        .metadata("signature-algorithm", SIGNATURE_ALGORITHM);
    if let Some(generated) = backfill_generated {
        options = options.metadata("backfill-generation-timestamp", generated);
    }
    store
        .put(
            &at.bucket,
            &at.key,
            gzip(json.as_bytes(), Compression::default()),
            &options,
        )
        .await
        .expect("put digest");
    (hash, signature)
}

/// The range every chain is in: from T0 to just past the last period's end.
pub fn range() -> (EventTime, EventTime) {
    let at = |t: OffsetDateTime| EventTime::from_unix_seconds(t.unix_timestamp());
    (at(T0), at(period_end(PERIODS) + Duration::minutes(5)))
}

/// Validation of one account's chains in `regions` (every Region with `None`).
pub fn request(bucket: &str, account: &str, regions: Option<&[&str]>) -> Request {
    let (start, end) = range();
    Request {
        trail: TrailArn::parse(&trail_arn()).expect("arn"),
        bucket: bucket.to_owned(),
        prefix: Some(PREFIX.to_owned()),
        organization_id: Some(ORGANIZATION.to_owned()),
        account: account.to_owned(),
        regions: regions.map(|regions| regions.iter().map(|r| r.to_string()).collect()),
        copy_without_metadata: false,
        start,
        end,
    }
}

/// The keys as `aws cloudtrail list-public-keys --start-time … --end-time …` (AWS CLI v1)
/// prints them for the range aws-cli's validate-logs asks (two hours past the end), read back
/// as `--public-keys FILE` reads them.
pub async fn listed_keys(
    store: &dyn ObjectStore,
    state_bucket: &str,
) -> (Bytes, Vec<PublishedKey>) {
    let registry = public_keys::load(store, state_bucket).await.expect("keys");
    let (start, end) = range();
    let listed = public_keys::list_public_keys(
        &registry,
        Some(start.to_offset_date_time()),
        Some(end.to_offset_date_time() + Duration::hours(2)),
        end.to_offset_date_time() + Duration::days(1),
    );
    let json = Bytes::from(serde_json::to_vec(&listed).expect("json"));
    let keys = public_keys::parse_listed_keys(&json).expect("listed keys");
    (json, keys)
}
