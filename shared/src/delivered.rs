//! What deliver knows about each log file and Insights file it writes, carried on the file as
//! S3 user metadata, so forward and notify read it instead of working it out again from the key
//! or the records.
//!
//! | metadata (`x-amz-meta-…`)  | value                                                  |
//! |----------------------------|--------------------------------------------------------|
//! | `cairn-trail`              | the trail's name                                       |
//! | `cairn-account`            | the account the records are for (12 digits)            |
//! | `cairn-region`             | their Region                                           |
//! | `cairn-record-count`       | how many records the file holds                        |
//! | `cairn-oldest-event-time`  | the oldest eventTime, `YYYY-MM-DDTHH:MM:SSZ`           |
//! | `cairn-newest-event-time`  | the newest eventTime, `YYYY-MM-DDTHH:MM:SSZ`           |
//!
//! Anyone who may write to a trail's bucket can write metadata too, so a reader trusts the facts
//! only as far as the configuration agrees: the trail must be configured, and the object must be
//! in that trail's bucket under its `[prefix/]AWSLogs/[o-org/]` folder ([`identify`]).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::layout::{self, DIGEST_KIND, RecordFileKind};
use crate::ports::object_store::PutOptions;
use crate::record::EventTime;
use crate::trail::Trail;

pub const TRAIL_METADATA: &str = "cairn-trail";
pub const ACCOUNT_METADATA: &str = "cairn-account";
pub const REGION_METADATA: &str = "cairn-region";
pub const RECORD_COUNT_METADATA: &str = "cairn-record-count";
pub const OLDEST_EVENT_TIME_METADATA: &str = "cairn-oldest-event-time";
pub const NEWEST_EVENT_TIME_METADATA: &str = "cairn-newest-event-time";

/// The facts of one delivered log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFileFacts {
    pub trail: String,
    pub account: String,
    pub region: String,
    pub records: usize,
    pub oldest_event_time: EventTime,
    pub newest_event_time: EventTime,
}

#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("it has no {name} metadata, which Cairn's deliver writes on every log file")]
    Missing { name: &'static str },
    #[error("its {name} metadata {value:?} is not {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// A log file's type and encoding, as deliver puts it; a history object that copies one is put
/// with them too.
pub fn log_file_put_options() -> PutOptions {
    PutOptions::new("application/json").content_encoding("gzip")
}

impl LogFileFacts {
    /// How deliver puts the log file: gzip-encoded JSON with these facts as its user metadata
    /// (the trail's encryption is deliver's to add).
    pub fn put_options(&self) -> PutOptions {
        let mut options = log_file_put_options();
        options.metadata = self.to_metadata();
        options
    }

    /// The user metadata deliver puts on the file.
    pub fn to_metadata(&self) -> BTreeMap<String, String> {
        [
            (TRAIL_METADATA, self.trail.clone()),
            (ACCOUNT_METADATA, self.account.clone()),
            (REGION_METADATA, self.region.clone()),
            (RECORD_COUNT_METADATA, self.records.to_string()),
            (
                OLDEST_EVENT_TIME_METADATA,
                self.oldest_event_time.to_string(),
            ),
            (
                NEWEST_EVENT_TIME_METADATA,
                self.newest_event_time.to_string(),
            ),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    /// The facts in a log file's user metadata (names lowercase, as stores return them).
    pub fn from_metadata(metadata: &BTreeMap<String, String>) -> Result<Self, FactsError> {
        let text = |name: &'static str| {
            metadata
                .get(name)
                .map(String::as_str)
                .ok_or(FactsError::Missing { name })
        };
        let invalid = |name: &'static str, expected: &'static str| FactsError::Invalid {
            name,
            value: metadata.get(name).cloned().unwrap_or_default(),
            expected,
        };
        let time = |name: &'static str| {
            EventTime::parse(text(name)?)
                .map_err(|_| invalid(name, "a time of the form YYYY-MM-DDTHH:MM:SSZ"))
        };
        Ok(Self {
            trail: text(TRAIL_METADATA)?.to_owned(),
            account: text(ACCOUNT_METADATA)?.to_owned(),
            region: text(REGION_METADATA)?.to_owned(),
            records: text(RECORD_COUNT_METADATA)?
                .parse()
                .map_err(|_| invalid(RECORD_COUNT_METADATA, "a count of records"))?,
            oldest_event_time: time(OLDEST_EVENT_TIME_METADATA)?,
            newest_event_time: time(NEWEST_EVENT_TIME_METADATA)?,
        })
    }
}

/// A log file or Insights file Cairn delivered, with the configured trail its facts name.
#[derive(Debug, Clone)]
pub struct LogFileOf<'c> {
    pub trail: &'c Trail,
    /// Which of the two its key says it is.
    pub kind: RecordFileKind,
    pub facts: LogFileFacts,
}

impl LogFileOf<'_> {
    /// The CloudWatch Logs stream CloudTrail writes the file's account and Region to:
    /// `{account}_CloudTrail_{region}`, with the organization's ID in front for an organization
    /// trail (`o-exampleorgid_{account}_CloudTrail_{region}`). Insights files too: the User
    /// Guide says CloudTrail sends Insights events to the trail's log group ("Working with
    /// CloudTrail Insights", section "Sending events to Amazon CloudWatch Logs"; "Sending events
    /// to CloudWatch Logs": "CloudTrail supports sending data, Insights, and management events")
    /// and names no other stream for them: the one format it gives is the one above (with
    /// `_{number}` appended when CloudTrail spreads a large volume over several streams), and
    /// the role policy it documents lets CloudTrail create and write only streams starting with
    /// `{account}_CloudTrail_{region}`, which a `{account}_CloudTrail-Insight_…` name would not.
    ///
    /// Sources: the CloudTrail User Guide, "CloudWatch log group and log stream naming for
    /// CloudTrail" (docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-log-group-log-stream-naming-for-cloudtrail.html:
    /// "it names the log stream according to the following format:
    /// account_ID_CloudTrail_trail_region"), and "Role policy document for CloudTrail to use
    /// CloudWatch Logs for monitoring" (…/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html),
    /// whose policy for "organization trails created in the 111111111111 account that are
    /// applied to the AWS Organizations organization with the ID of o-exampleorgid" grants
    /// `log-stream:111111111111_CloudTrail_us-east-2*` for the account's own trails and
    /// `log-stream:o-exampleorgid_*` for the organization trail's streams.
    pub fn log_stream(&self) -> String {
        let stream = format!("{}_CloudTrail_{}", self.facts.account, self.facts.region);
        match self.trail.organization_id() {
            Some(organization) => format!("{organization}_{stream}"),
            None => stream,
        }
    }
}

/// Why an object is not a log file forward or notify handles.
#[derive(Debug, thiserror::Error)]
pub enum NotALogFile {
    #[error("s3://{bucket} is not the bucket of a configured trail")]
    OtherBucket { bucket: String },
    #[error("s3://{bucket}/{key} is a digest file, not a log file")]
    Digest { bucket: String, key: String },
    #[error(
        "s3://{bucket}/{key} is not a CloudTrail log file of trail {trails}: it is not under \
         [prefix/]AWSLogs/[o-org/] of any of them"
    )]
    OutsideFolders {
        bucket: String,
        key: String,
        trails: String,
    },
    #[error("s3://{bucket}/{key} is not a log file Cairn delivered: {source}")]
    NoFacts {
        bucket: String,
        key: String,
        #[source]
        source: FactsError,
    },
    #[error("s3://{bucket}/{key} names trail {trail:?} in its metadata, which is not configured")]
    UnknownTrail {
        bucket: String,
        key: String,
        trail: String,
    },
    #[error(
        "s3://{bucket}/{key} is not a log file or Insights file key of account {account} and \
         Region {region}, which its metadata names"
    )]
    KeyDisagrees {
        bucket: String,
        key: String,
        account: String,
        region: String,
    },
    #[error(
        "s3://{bucket}/{key} names trail {trail} in its metadata, whose log files are under \
         s3://{trail_bucket}/{folder}, not here"
    )]
    Elsewhere {
        bucket: String,
        key: String,
        trail: String,
        trail_bucket: String,
        folder: String,
    },
}

/// The trails whose log file `bucket`/`key` may be, judged before reading the object: those
/// whose bucket it is and under whose folder the key is. Digest files are none's.
pub fn candidates<'c>(
    config: &'c Config,
    bucket: &str,
    key: &str,
) -> Result<Vec<&'c Trail>, NotALogFile> {
    let in_bucket: Vec<&Trail> = config
        .trails
        .iter()
        .filter(|trail| trail.bucket() == bucket)
        .collect();
    if in_bucket.is_empty() {
        return Err(NotALogFile::OtherBucket {
            bucket: bucket.to_owned(),
        });
    }
    if key.contains(&format!("/{DIGEST_KIND}/")) {
        return Err(NotALogFile::Digest {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        });
    }
    let under: Vec<&Trail> = in_bucket
        .iter()
        .copied()
        .filter(|trail| key.starts_with(&folder(trail)))
        .collect();
    if under.is_empty() {
        let names: Vec<&str> = in_bucket.iter().map(|trail| trail.name()).collect();
        return Err(NotALogFile::OutsideFolders {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            trails: names.join(", trail "),
        });
    }
    Ok(under)
}

/// The log file or Insights file `bucket`/`key` whose user metadata is `metadata`: its kind, its
/// facts and the configured trail they name, provided the object is in that trail's bucket and
/// folder.
pub fn identify<'c>(
    config: &'c Config,
    bucket: &str,
    key: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<LogFileOf<'c>, NotALogFile> {
    let facts = LogFileFacts::from_metadata(metadata).map_err(|source| NotALogFile::NoFacts {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        source,
    })?;
    let Some(trail) = config.trails.iter().find(|t| t.name() == facts.trail) else {
        return Err(NotALogFile::UnknownTrail {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            trail: facts.trail,
        });
    };
    let folder = folder(trail);
    if trail.bucket() != bucket || !key.starts_with(&folder) {
        return Err(NotALogFile::Elsewhere {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            trail: facts.trail,
            trail_bucket: trail.bucket().to_owned(),
            folder,
        });
    }
    // The key spells the account and Region too; metadata that contradicts it was not written
    // by deliver with this key, so neither is trusted (a copied or edited object).
    let from_key = layout::parse_record_file_key(trail.prefix(), trail.organization_id(), key);
    match from_key {
        Some((kind, account, region)) if account == facts.account && region == facts.region => {
            Ok(LogFileOf { trail, kind, facts })
        }
        _ => Err(NotALogFile::KeyDisagrees {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            account: facts.account,
            region: facts.region,
        }),
    }
}

/// `[prefix/]AWSLogs/[o-org/]`: where a trail's files are in its bucket.
fn folder(trail: &Trail) -> String {
    layout::trail_root(trail.prefix(), trail.organization_id())
}

/// Puts log files as deliver does, metadata included, for the tests of its readers.
#[cfg(test)]
pub(crate) mod test_support {
    use bytes::Bytes;

    use super::LogFileFacts;
    use crate::ports::object_store::ObjectStore;
    use crate::record::EventTime;

    /// Facts of a file of `records` records of `trail` for `account` and `region`, their times
    /// one fixed second.
    pub(crate) fn facts(trail: &str, account: &str, region: &str, records: usize) -> LogFileFacts {
        let time = EventTime::parse("2026-11-20T10:00:00Z").expect("a time");
        LogFileFacts {
            trail: trail.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            records,
            oldest_event_time: time,
            newest_event_time: time,
        }
    }

    pub(crate) async fn put_log_file(
        store: &dyn ObjectStore,
        bucket: &str,
        key: &str,
        body: Bytes,
        facts: &LogFileFacts,
    ) {
        store
            .put(bucket, key, body, &facts.put_options())
            .await
            .expect("put log file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::object_store::{PutOptions, validate_put};

    const CONFIG: &str = r#"
accountId: "111122223333"
trails:
  - Name: main
    S3BucketName: trail-bucket
    S3KeyPrefix: audit/logs
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
  - Name: org
    S3BucketName: org-bucket
    HomeRegion: us-east-1
    IsOrganizationTrail: true
    OrganizationId: o-exampleorgid
"#;

    fn config() -> Config {
        Config::from_yaml(CONFIG, "test").expect("config")
    }

    fn facts(trail: &str) -> LogFileFacts {
        LogFileFacts {
            trail: trail.to_owned(),
            account: "444455556666".to_owned(),
            region: "eu-west-1".to_owned(),
            records: 3,
            oldest_event_time: EventTime::parse("2026-11-22T09:59:58Z").unwrap(),
            newest_event_time: EventTime::parse("2026-11-22T10:00:01Z").unwrap(),
        }
    }

    #[test]
    fn the_facts_round_trip_through_metadata_of_the_documented_names() {
        let facts = facts("org");
        let metadata = facts.to_metadata();
        assert_eq!(
            metadata
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
            [
                ("cairn-account", "444455556666"),
                ("cairn-newest-event-time", "2026-11-22T10:00:01Z"),
                ("cairn-oldest-event-time", "2026-11-22T09:59:58Z"),
                ("cairn-record-count", "3"),
                ("cairn-region", "eu-west-1"),
                ("cairn-trail", "org"),
            ]
        );
        assert_eq!(LogFileFacts::from_metadata(&metadata).unwrap(), facts);
    }

    /// CloudTrail's stream names: `account_ID_CloudTrail_trail_region` (the User Guide's
    /// "CloudWatch log group and log stream naming for CloudTrail"), with the organization's ID
    /// in front for an organization trail, the streams AWS's documented role policy grants as
    /// `log-stream:o-exampleorgid_*` ("Role policy document for CloudTrail to use CloudWatch
    /// Logs for monitoring").
    /// Insights files go to the same stream as log files ([`LogFileOf::log_stream`]).
    #[test]
    fn the_log_stream_is_the_accounts_and_regions_with_the_organization_in_front() {
        let config = config();
        for kind in [RecordFileKind::LogFile, RecordFileKind::InsightFile] {
            let folder = kind.folder();
            let stream = |trail: &str, bucket: &str, root: &str| {
                let key = format!(
                    "{root}444455556666/{folder}/eu-west-1/2026/11/22/444455556666_{folder}_eu-west-1_20261122T1000Z_AAAAAAAAAAAAAAAA.json.gz"
                );
                let file = identify(&config, bucket, &key, &facts(trail).to_metadata()).unwrap();
                assert_eq!(file.kind, kind);
                file.log_stream()
            };
            assert_eq!(
                stream("main", "trail-bucket", "audit/logs/AWSLogs/"),
                "444455556666_CloudTrail_eu-west-1"
            );
            assert_eq!(
                stream("org", "org-bucket", "AWSLogs/o-exampleorgid/"),
                "o-exampleorgid_444455556666_CloudTrail_eu-west-1"
            );
        }
    }

    #[test]
    fn the_longest_facts_fit_s3s_metadata_limit() {
        let mut facts = facts(&"t".repeat(128));
        facts.region = "ap-southeast-5".repeat(4);
        facts.records = usize::MAX;
        let mut options = PutOptions::new("application/json");
        options.metadata = facts.to_metadata();
        validate_put("bucket", "key", &options).expect("within 2 KB of metadata");
    }

    #[test]
    fn missing_or_malformed_facts_are_named() {
        let mut metadata = facts("main").to_metadata();
        metadata.remove(RECORD_COUNT_METADATA);
        assert_eq!(
            LogFileFacts::from_metadata(&metadata)
                .unwrap_err()
                .to_string(),
            "it has no cairn-record-count metadata, which Cairn's deliver writes on every log file"
        );
        metadata.insert(RECORD_COUNT_METADATA.to_owned(), "3".to_owned());
        metadata.insert(
            NEWEST_EVENT_TIME_METADATA.to_owned(),
            "yesterday".to_owned(),
        );
        assert!(
            LogFileFacts::from_metadata(&metadata)
                .unwrap_err()
                .to_string()
                .contains("cairn-newest-event-time metadata \"yesterday\" is not a time")
        );
    }

    #[test]
    fn the_trail_a_file_names_must_be_configured_and_hold_the_object() {
        let config = config();
        let key = "AWSLogs/o-exampleorgid/444455556666/CloudTrail/eu-west-1/2026/11/22/444455556666_CloudTrail_eu-west-1_20261122T1000Z_AAAAAAAAAAAAAAAA.json.gz";
        let found = identify(&config, "org-bucket", key, &facts("org").to_metadata()).unwrap();
        assert_eq!((found.trail.name(), found.facts), ("org", facts("org")));

        let why = |bucket: &str, key: &str, metadata: &BTreeMap<String, String>| {
            identify(&config, bucket, key, metadata).unwrap_err()
        };
        assert!(matches!(
            why("org-bucket", key, &BTreeMap::new()),
            NotALogFile::NoFacts {
                source: FactsError::Missing {
                    name: "cairn-trail"
                },
                ..
            }
        ));
        assert!(matches!(
            why("org-bucket", key, &facts("gone").to_metadata()),
            NotALogFile::UnknownTrail { .. }
        ));
        // A spoof in another trail's bucket, or outside the named trail's folder.
        let spoof = why(
            "trail-bucket",
            &format!("audit/logs/{key}"),
            &facts("org").to_metadata(),
        );
        assert!(matches!(spoof, NotALogFile::Elsewhere { .. }));
        assert!(
            spoof
                .to_string()
                .contains("s3://org-bucket/AWSLogs/o-exampleorgid/"),
            "{spoof}"
        );
        assert!(matches!(
            why(
                "org-bucket",
                "AWSLogs/444455556666/x.json.gz",
                &facts("org").to_metadata()
            ),
            NotALogFile::Elsewhere { .. }
        ));
        // In the right folder, but metadata naming another account or Region than the key's,
        // or a key that is no log file's: a copied or edited object is not trusted.
        let mut other_region = facts("org");
        other_region.region = "us-east-1".to_owned();
        let disagrees = why("org-bucket", key, &other_region.to_metadata());
        assert!(matches!(disagrees, NotALogFile::KeyDisagrees { .. }));
        assert_eq!(
            disagrees.to_string(),
            format!(
                "s3://org-bucket/{key} is not a log file or Insights file key of account \
                 444455556666 and Region us-east-1, which its metadata names"
            )
        );
        assert!(matches!(
            why(
                "org-bucket",
                "AWSLogs/o-exampleorgid/444455556666/CloudTrail/eu-west-1/2026/11/22/x.json.gz",
                &facts("org").to_metadata()
            ),
            NotALogFile::KeyDisagrees { .. }
        ));
    }

    #[test]
    fn candidates_are_judged_by_bucket_and_folder_before_reading() {
        let config = config();
        let names = |bucket: &str, key: &str| -> Result<Vec<String>, String> {
            candidates(&config, bucket, key)
                .map(|trails| trails.iter().map(|t| t.name().to_owned()).collect())
                .map_err(|why| why.to_string())
        };
        assert_eq!(
            names("trail-bucket", "audit/logs/AWSLogs/1/x").unwrap(),
            ["main"]
        );
        assert!(
            names("other", "AWSLogs/x")
                .unwrap_err()
                .contains("not the bucket of a configured trail")
        );
        let digest =
            "audit/logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/22/d.json.gz";
        assert!(
            names("trail-bucket", digest)
                .unwrap_err()
                .contains("is a digest file, not a log file")
        );
        assert!(
            names("trail-bucket", "elsewhere/AWSLogs/1/x")
                .unwrap_err()
                .contains("is not a CloudTrail log file of trail main")
        );
        assert!(names("org-bucket", "AWSLogs/444455556666/x").is_err());
    }
}
