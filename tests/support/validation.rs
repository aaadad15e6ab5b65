//! What the validation tests share: a trail whose digest chains the real pipeline builds hour
//! by hour (ingest, then deliver twice an hour), with a key rotation halfway, and tampering
//! that is undone after each case.

use std::io::{Read, Write};

use bytes::Bytes;
use cairn_shared::config::Config;
use cairn_shared::delivery::Deliverer;
use cairn_shared::digest::{DigestFile, SIGNATURE_METADATA, sha256_hex, signing_string};
use cairn_shared::layout::{ChainId, day_folder, digest_key, log_file_stamp};
use cairn_shared::ports::object_store::{ObjectStore, StoredObject};
use cairn_shared::ports::signer::Signer;
use cairn_shared::public_keys;
use cairn_shared::record::EventTime;
use cairn_shared::validate::{self, Location, NoProgress, Report, Request, TrailArn};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::pipeline::stage_batch;
use crate::synthetic;
use cairn_shared::service::Service;

pub const ACCOUNT: &str = "111122223333";
pub const HOME_REGION: &str = "us-east-1";
/// The trail delivers to these Regions; each has its own chain.
pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
pub const PREFIX: &str = "logs";
pub const TRAIL: &str = "audited";
/// The first hour of events.
pub const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);
/// Hours of events; the chains get one digest per hour, ending T0 + 1h to T0 + HOURS.
pub const HOURS: i64 = 4;
/// The hour from which the second key signs.
pub const ROTATION_HOUR: i64 = 2;
/// Deliver runs each hour, at :10 and :40, so each digest lists two log files per Region.
const RUNS_PER_HOUR: i64 = 2;
const RECORDS_PER_RUN: usize = 40;

/// One multi-Region trail with log file validation, under a key prefix.
pub fn config(suffix: &str) -> Config {
    Config::from_yaml(&config_yaml(suffix), "validation test configuration")
        .expect("the test configuration")
}

/// The YAML of [`config`].
pub fn config_yaml(suffix: &str) -> String {
    format!(
        r#"
accountId: "{ACCOUNT}"
stateBucket: cairn-validate-state-{suffix}
trails:
  - Name: {TRAIL}
    S3BucketName: cairn-validate-{suffix}
    S3KeyPrefix: {PREFIX}
    HomeRegion: {HOME_REGION}
    IsMultiRegionTrail: true
    EnableLogFileValidation: true
"#
    )
}

pub fn trail_arn(config: &Config) -> String {
    config.trails[0].arn().to_owned()
}

pub fn bucket(config: &Config) -> String {
    config.trails[0].bucket().to_owned()
}

/// Runs the pipeline for [`HOURS`] hours: each run's records are ingested a minute before it,
/// spread over every Region; `first` signs until [`ROTATION_HOUR`], `second` after; a last
/// run cuts the last hour's digests.
pub async fn build_chains(
    store: &dyn ObjectStore,
    config: &Config,
    first: &dyn Signer,
    second: &dyn Signer,
) {
    let runs = HOURS * RUNS_PER_HOUR;
    let run_start = |run: i64| T0 + Duration::minutes(run * 60 / RUNS_PER_HOUR);
    let records = synthetic::records(
        runs as usize * RECORDS_PER_RUN,
        |i| {
            let run = (i / RECORDS_PER_RUN) as i64;
            run_start(run).unix_timestamp() + (i % RECORDS_PER_RUN) as i64
        },
        |i| REGIONS[i % REGIONS.len()],
    );
    for (run, chunk) in (0..runs).zip(records.chunks(RECORDS_PER_RUN)) {
        let deliver_at = run_start(run) + Duration::minutes(10);
        let body = format!("{{\"Records\":[{}]}}", chunk.join(","));
        stage_batch(store, config, &body, deliver_at - Duration::minutes(1)).await;
        let signer = if run / RUNS_PER_HOUR < ROTATION_HOUR {
            first
        } else {
            second
        };
        deliver(store, config, signer, deliver_at).await;
    }
    deliver(
        store,
        config,
        second,
        T0 + Duration::hours(HOURS) + Duration::minutes(10),
    )
    .await;
}

/// Stages records `first..first + count` (their eventIDs numbered so, unique across calls) for
/// a deliver run at `deliver_at`: ingested a minute before, each Region of [`REGIONS`] in turn.
pub async fn stage_records(
    store: &dyn ObjectStore,
    config: &Config,
    first: usize,
    count: usize,
    deliver_at: OffsetDateTime,
) {
    let ingested = deliver_at - Duration::minutes(1);
    let records = synthetic::records(
        first + count,
        |i| ingested.unix_timestamp() - (first + count - i) as i64,
        |i| REGIONS[i % REGIONS.len()],
    );
    let body = format!("{{\"Records\":[{}]}}", records[first..].join(","));
    stage_batch(store, config, &body, ingested).await;
}

async fn deliver(
    store: &dyn ObjectStore,
    config: &Config,
    signer: &dyn Signer,
    now: OffsetDateTime,
) {
    Deliverer::new(config, store, Some(signer))
        .handle(&Duration::minutes(10), now)
        .await
        .expect("deliver");
}

/// The whole built period: from T0 to the last digest's end.
pub fn request(config: &Config, regions: Option<&[&str]>) -> Request {
    let trail = &config.trails[0];
    let at = |time: OffsetDateTime| EventTime::from_unix_seconds(time.unix_timestamp());
    Request {
        trail: TrailArn::parse(trail.arn()).expect("arn"),
        bucket: trail.bucket().to_owned(),
        prefix: trail.prefix().map(str::to_owned),
        organization_id: None,
        account: ACCOUNT.to_owned(),
        regions: regions.map(|regions| regions.iter().map(|r| r.to_string()).collect()),
        copy_without_metadata: false,
        start: at(T0),
        end: at(T0 + Duration::hours(HOURS)),
    }
}

/// `cairn validate-logs` on the built period, with the published keys.
pub async fn validate(
    store: &dyn ObjectStore,
    config: &Config,
    regions: Option<&[&str]>,
) -> Report {
    let keys = public_keys::load(store, &config.state_bucket)
        .await
        .expect("published keys");
    validate::validate(store, &keys, &request(config, regions), &NoProgress)
        .await
        .expect("validate")
}

/// The digest of `region`'s chain ending `hours` after T0.
pub fn digest(config: &Config, region: &str, hours: i64) -> Location {
    let chain = ChainId {
        trail: TRAIL.to_owned(),
        home_region: HOME_REGION.to_owned(),
        account: ACCOUNT.to_owned(),
        region: region.to_owned(),
    };
    Location::new(
        bucket(config),
        digest_key(Some(PREFIX), None, &chain, T0 + Duration::hours(hours)),
    )
}

/// `region`'s log files delivered in the hour starting `hour` hours after T0, oldest first.
pub async fn log_files(
    store: &dyn ObjectStore,
    config: &Config,
    region: &str,
    hour: i64,
) -> Vec<Location> {
    let from = T0 + Duration::hours(hour);
    let folder = day_folder(Some(PREFIX), None, ACCOUNT, "CloudTrail", region, from);
    let mut files: Vec<(EventTime, Location)> = store
        .list_all(&bucket(config), &folder)
        .await
        .expect("list")
        .into_iter()
        .filter_map(|entry| {
            let stamp = log_file_stamp(&entry.key)?;
            let offset = stamp.unix_seconds() - from.unix_timestamp();
            (0..3600)
                .contains(&offset)
                .then(|| (stamp, Location::new(bucket(config), entry.key)))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, file)| file).collect()
}

/// Changes to the store that [`Tamper::undo`] reverts, so one built chain serves every case.
pub struct Tamper<'a> {
    store: &'a dyn ObjectStore,
    saved: Vec<(Location, Option<StoredObject>)>,
}

impl<'a> Tamper<'a> {
    pub fn new(store: &'a dyn ObjectStore) -> Self {
        Self {
            store,
            saved: Vec::new(),
        }
    }

    pub async fn get(&self, file: &Location) -> StoredObject {
        self.store.get(&file.bucket, &file.key).await.expect("get")
    }

    async fn save(&mut self, file: &Location) {
        if self.saved.iter().any(|(saved, _)| saved == file) {
            return;
        }
        let current = match self.store.get(&file.bucket, &file.key).await {
            Ok(object) => Some(object),
            Err(cairn_shared::ports::object_store::ObjectStoreError::NotFound { .. }) => None,
            Err(e) => panic!("reading {file}: {e}"),
        };
        self.saved.push((file.clone(), current));
    }

    /// Writes `body` at `file` with `like`'s content type, encoding and metadata.
    pub async fn put(&mut self, file: &Location, body: Bytes, like: &StoredObject) {
        self.save(file).await;
        self.store
            .put(&file.bucket, &file.key, body, &like.info.copy_options())
            .await
            .expect("put");
    }

    pub async fn delete(&mut self, file: &Location) {
        self.save(file).await;
        self.store
            .delete(&file.bucket, &file.key)
            .await
            .expect("delete");
    }

    pub async fn undo(self) {
        for (file, saved) in self.saved.into_iter().rev() {
            match saved {
                Some(object) => self
                    .store
                    .put(
                        &file.bucket,
                        &file.key,
                        object.body.clone(),
                        &object.info.copy_options(),
                    )
                    .await
                    .expect("restore"),
                None => {
                    self.store
                        .delete(&file.bucket, &file.key)
                        .await
                        .expect("remove");
                    continue;
                }
            };
        }
    }
}

pub fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(body).read_to_end(&mut out).expect("gzip");
    out
}

pub fn gzip(bytes: &[u8], level: Compression) -> Bytes {
    let mut encoder = GzEncoder::new(Vec::new(), level);
    encoder.write_all(bytes).expect("gzip");
    Bytes::from(encoder.finish().expect("gzip"))
}

pub fn digest_body(object: &StoredObject) -> DigestFile {
    serde_json::from_slice(&gunzip(&object.body)).expect("a digest file")
}

/// Changes the first hash a digest lists, keeping its signature: what covering up a modified
/// log file would take.
pub async fn alter_listed_hash(tamper: &mut Tamper<'_>, file: &Location) {
    let object = tamper.get(file).await;
    let mut body = digest_body(&object);
    body.log_files[0].hash_value = sha256_hex(b"{\"Records\":[]}");
    tamper
        .put(file, gzip(&body.to_json(), Compression::default()), &object)
        .await;
}

/// Re-signs a digest with `signer`'s key, naming that key, as someone holding a key that was
/// never published could; returns the key's fingerprint.
pub async fn resign(tamper: &mut Tamper<'_>, file: &Location, signer: &dyn Signer) -> String {
    let object = tamper.get(file).await;
    let mut body = digest_body(&object);
    let fingerprint = signer
        .public_key()
        .await
        .expect("public key")
        .fingerprint()
        .to_owned();
    body.digest_public_key_fingerprint = fingerprint.clone();
    let json = body.to_json();
    let message = signing_string(
        &body.digest_end_time,
        &file.bucket,
        &file.key,
        &sha256_hex(&json),
        body.previous_digest_signature.as_deref(),
    );
    let signature = hex::encode(signer.sign(message.as_bytes()).await.expect("sign"));
    let mut resigned = object.clone();
    resigned
        .info
        .metadata
        .insert(SIGNATURE_METADATA.to_owned(), signature);
    tamper
        .put(file, gzip(&json, Compression::default()), &resigned)
        .await;
    fingerprint
}
