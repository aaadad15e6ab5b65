//! What the pipeline tests share: the fixtures as ingest requests, a configuration whose trails
//! take them all, and a reader of everything delivered.

use std::collections::BTreeMap;
use std::io::Read;

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivered::LogFileFacts;
use cairn_shared::delivery::Deliverer;
use cairn_shared::ingest::Ingestor;
use cairn_shared::layout::{INSIGHT_KIND, LOG_FILE_KIND};
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::ports::signer::Signer;
use cairn_shared::record::{EventTime, EventType, Record, compact, split_batch};
use cairn_shared::service::Service;
use cairn_shared::staging::{self, StagedEvent};
use flate2::read::GzDecoder;
use serde_json::value::RawValue;

use crate::fixtures_dir;

/// Trails that between them take every valid fixture record: an organization trail for every
/// account's and Region's management, data and Insights events, with a key prefix; and a
/// single-Region trail of the configured account's writes, with SSE-KMS.
pub const CONFIG: &str = r#"
accountId: "111122223333"
trails:
  - Name: everything
    S3BucketName: cairn-test-everything
    S3KeyPrefix: audit
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    IncludeGlobalServiceEvents: true
    EnableLogFileValidation: true
    IsOrganizationTrail: true
    OrganizationId: o-exampleorgid
    AdvancedEventSelectors:
      - FieldSelectors: [{Field: eventCategory, Equals: [Management]}]
      - FieldSelectors:
          - {Field: eventCategory, Equals: [Data]}
          - {Field: resources.type, Equals: ["AWS::S3::Object"]}
      - FieldSelectors:
          - {Field: eventCategory, Equals: [Data]}
          - {Field: resources.type, Equals: ["AWS::Lambda::Function"]}
    InsightSelectors:
      - InsightType: ApiCallRateInsight
      - InsightType: ApiErrorRateInsight
  - Name: home-writes
    S3BucketName: cairn-test-writes
    HomeRegion: us-east-1
    KmsKeyId: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    EventSelectors: [{ReadWriteType: WriteOnly}]
"#;

pub fn config() -> Config {
    Config::from_yaml(CONFIG, "pipeline test configuration").expect("the test configuration")
}

/// Every `{"Records":[…]}` fixture whose records are real (the Stratus detonations and AWS's
/// documentation examples), as (file name, body), in a fixed order.
pub fn fixture_batches() -> Vec<(String, String)> {
    let mut batches = Vec::new();
    for folder in [
        "stratus_red_team_detonation_logs",
        "awsdocs_user_guide_examples",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(fixtures_dir().join(folder))
            .expect("fixture folder")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| {
                path.extension().is_some_and(|ext| ext == "json")
                    && !path.to_string_lossy().contains("digest")
                    && !path.to_string_lossy().ends_with(".index.json")
            })
            .collect();
        paths.sort();
        for path in paths {
            let body = std::fs::read_to_string(&path).expect("fixture");
            batches.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                body,
            ));
        }
    }
    batches
}

/// One delivered record: where it went.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Placement {
    pub trail: String,
    pub account: String,
    pub region: String,
    /// The folder: `CloudTrail` for log files, `CloudTrail-Insight` for Insights events.
    pub kind: &'static str,
}

/// The folder a record is delivered to.
fn kind_of(record: &Record<'_>) -> &'static str {
    if record.event_type() == EventType::AwsCloudTrailInsight {
        INSIGHT_KIND
    } else {
        LOG_FILE_KIND
    }
}

/// What the fixtures should become: per record text, compact as ingest stores it (the
/// Stratus records are pretty-printed), every (trail, account, region) that must hold it,
/// from the trails' selectors record by record. Each deliver shard drops a record whose
/// eventID an earlier record already had there (AWS's documentation examples reuse a few):
/// with one shard, the later record entirely.
pub fn expected_deliveries(
    config: &Config,
    batches: &[(String, String)],
) -> BTreeMap<String, Vec<Placement>> {
    let mut expected: BTreeMap<String, Vec<Placement>> = BTreeMap::new();
    let mut event_ids = std::collections::HashSet::new();
    for (_, body) in batches {
        for raw in split_batch(body).expect("fixture batch") {
            let record = Record::parse(raw, None).expect("real records are valid");
            let Some(staged) = StagedEvent::route(config, &record) else {
                continue;
            };
            for (shard, parts) in staging::by_shard(vec![staged], config.deliver_shards) {
                let [part] = &parts[..] else {
                    panic!("one part of one event per shard")
                };
                if !event_ids.insert((shard, part.dedup_key.to_string())) {
                    continue;
                }
                for route in &part.routes {
                    expected
                        .entry(compact(raw).get().to_owned())
                        .or_default()
                        .push(Placement {
                            trail: route.trail().to_owned(),
                            account: route.account().to_owned(),
                            region: route.region().to_owned(),
                            kind: kind_of(&record),
                        });
                }
            }
        }
    }
    for placements in expected.values_mut() {
        placements.sort();
    }
    expected
}

/// Every record in every log file of the trails' buckets, with where it was found; checks on
/// the way that each key has CloudTrail's layout for its trail, each body is one gzip member of
/// `{"Records":[…]}`, records are in eventTime order, and the file's metadata carries exactly
/// its trail, account, Region, record count and oldest and newest eventTime.
pub async fn delivered(
    store: &dyn ObjectStore,
    config: &Config,
) -> BTreeMap<String, Vec<Placement>> {
    let mut found: BTreeMap<String, Vec<Placement>> = BTreeMap::new();
    for trail in &config.trails {
        let mut root = trail.prefix().map(|p| format!("{p}/")).unwrap_or_default();
        root.push_str("AWSLogs/");
        if let Some(organization) = trail.organization_id() {
            root.push_str(organization);
            root.push('/');
        }
        for entry in store.list_all(trail.bucket(), &root).await.expect("list") {
            let key = entry.key;
            if key.contains("/CloudTrail-Digest/") {
                continue;
            }
            let (kind, account, region) = parse_log_file_key(&key, &root)
                .unwrap_or_else(|| panic!("{key} is not a CloudTrail log or Insights file key"));
            let object = store.get(trail.bucket(), &key).await.expect("get");
            assert_eq!(
                object.info.content_encoding.as_deref(),
                Some("gzip"),
                "{key}"
            );
            let mut decoder = GzDecoder::new(&object.body[..]);
            let mut text = String::new();
            decoder.read_to_string(&mut text).expect("gzip");
            assert!(
                decoder.into_inner().is_empty(),
                "{key}: data after the gzip member"
            );
            let records = split_batch(&text).expect("a Records batch");
            let times: Vec<String> = records.iter().map(|raw| event_time(raw)).collect();
            assert!(times.is_sorted(), "{key}: records out of eventTime order");
            let time = |text: Option<&String>| {
                EventTime::parse(text.unwrap_or_else(|| panic!("{key}: no records")))
                    .expect("eventTime")
            };
            let facts = LogFileFacts::from_metadata(&object.info.metadata)
                .unwrap_or_else(|why| panic!("{key}: {why}"));
            assert_eq!(
                facts,
                LogFileFacts {
                    trail: trail.name().to_owned(),
                    account: account.clone(),
                    region: region.clone(),
                    records: records.len(),
                    oldest_event_time: time(times.first()),
                    newest_event_time: time(times.last()),
                },
                "{key}: the metadata deliver wrote"
            );
            for raw in records {
                found
                    .entry(raw.get().to_owned())
                    .or_default()
                    .push(Placement {
                        trail: trail.name().to_owned(),
                        account: account.clone(),
                        region: region.clone(),
                        kind,
                    });
            }
        }
    }
    for placements in found.values_mut() {
        placements.sort();
    }
    found
}

fn event_time(raw: &RawValue) -> String {
    #[derive(serde::Deserialize)]
    struct Time {
        #[serde(rename = "eventTime")]
        event_time: String,
    }
    serde_json::from_str::<Time>(raw.get())
        .expect("eventTime")
        .event_time
}

/// (kind, account, region) of
/// `{root}{account}/{kind}/{region}/{YYYY}/{MM}/{DD}/{account}_{kind}_{region}_{YYYYMMDDTHHmmZ}_{16 alphanumerics}.json.gz`,
/// kind `CloudTrail` or `CloudTrail-Insight`.
fn parse_log_file_key(key: &str, root: &str) -> Option<(&'static str, String, String)> {
    let parts: Vec<&str> = key.strip_prefix(root)?.split('/').collect();
    let [account, folder, region, year, month, day, name] = parts[..] else {
        return None;
    };
    let kind = [LOG_FILE_KIND, INSIGHT_KIND]
        .into_iter()
        .find(|kind| *kind == folder)?;
    let rest = name
        .strip_prefix(&format!("{account}_{kind}_{region}_{year}{month}{day}T"))?
        .strip_suffix(".json.gz")?;
    let (time, unique) = rest.split_once("Z_")?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (digits(account, 12)
        && digits(year, 4)
        && digits(month, 2)
        && digits(day, 2)
        && digits(time, 4)
        && unique.len() == 16
        && unique.bytes().all(|b| b.is_ascii_alphanumeric()))
    .then(|| (kind, account.to_owned(), region.to_owned()))
}

/// Ingests one body through the ingest path, and checks that every event was accepted.
pub async fn stage_batch(
    store: &dyn ObjectStore,
    config: &Config,
    body: &str,
    now: time::OffsetDateTime,
) {
    let done = Ingestor::new(
        config,
        store,
        "us-east-1",
        "arn:aws:cloudtrail:us-east-1:111122223333:channel/test",
    )
    .handle(body, now)
    .await
    .expect("ingest");
    assert!(done.answer.failed.is_empty(), "{:?}", done.answer.failed);
}

/// The test configuration with every bucket name given `suffix`, so runs against one
/// LocalStack never share buckets.
pub fn config_with_suffix(suffix: &str) -> Config {
    let yaml = CONFIG
        .replace(
            "S3BucketName: cairn-test-everything",
            &format!("S3BucketName: cairn-test-everything-{suffix}"),
        )
        .replace(
            "S3BucketName: cairn-test-writes",
            &format!("S3BucketName: cairn-test-writes-{suffix}"),
        )
        + &format!("stateBucket: cairn-test-state-{suffix}\n");
    Config::from_yaml(&yaml, "pipeline test configuration").expect("the test configuration")
}

/// Nothing left behind by deliver: no staging objects, no batch in any shard's journal.
pub async fn assert_settled(store: &dyn ObjectStore, config: &Config) {
    let staged = store
        .list_all(&config.state_bucket, cairn_shared::layout::STAGING_PREFIX)
        .await
        .expect("list");
    assert!(staged.is_empty(), "staging objects left: {staged:?}");
    for shard in cairn_shared::layout::Shard::all(config.deliver_shards) {
        let (journal, _) = cairn_shared::delivery::read_journal(store, &config.state_bucket, shard)
            .await
            .expect("journal");
        assert_eq!(journal.batch, None, "{shard}");
    }
}

/// A suffix for bucket names that no earlier run against the same LocalStack has used.
pub fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    format!("{}", nanos % 1_000_000_000_000)
}

/// Creates `config`'s state bucket and every trail bucket in the S3 that `sdk` points at.
pub async fn create_buckets(sdk: &aws_config::SdkConfig, config: &Config) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    let buckets = std::iter::once(config.state_bucket.clone())
        .chain(config.trails.iter().map(|t| t.bucket().to_owned()));
    for bucket in buckets {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("create bucket");
    }
}

/// A fresh embedded store in a temporary folder, with `config`'s state bucket and every trail
/// bucket.
pub async fn embedded_store(config: &Config) -> (tempfile::TempDir, LocalObjectStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    let trail_buckets = config.trails.iter().map(|trail| trail.bucket());
    for bucket in std::iter::once(config.state_bucket.as_str()).chain(trail_buckets) {
        store.create_bucket(bucket).await.expect("bucket");
    }
    (dir, store)
}

/// Stages each body as one ingest request, a millisecond apart and all before `now`, then
/// delivers them in one run at `now`.
pub async fn stage_and_deliver(
    store: &dyn ObjectStore,
    config: &Config,
    batches: &[(String, String)],
    signer: Option<&dyn Signer>,
    now: time::OffsetDateTime,
) {
    for (i, (_, body)) in batches.iter().enumerate() {
        let at = now - time::Duration::milliseconds(i as i64 + 1);
        stage_batch(store, config, body, at).await;
    }
    Deliverer::new(config, store, signer)
        .handle(&time::Duration::minutes(10), now)
        .await
        .expect("deliver");
}
