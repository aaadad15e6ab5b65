//! The digest ledger: per chain (trail, account, region), where the next digest starts, the
//! digest before it, and the log files delivered since, waiting for it.
//!
//! One object in the state bucket ([`DIGEST_LEDGER_KEY`](crate::layout::DIGEST_LEDGER_KEY)), changed only by compare-and-swap. Everything here
//! is pure: [`super::writer`] reads the ledger, applies one of these changes and swaps it in.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::format::{DigestFile, HASH_ALGORITHM, LogFileEntry, PreviousDigest};
use crate::clock::whole_seconds;
use crate::config::Config;
use crate::layout::{ChainId, digest_key, log_file_stamp};
use crate::ports::signer::SIGNATURE_ALGORITHM;
use crate::record::EventTime;
use crate::trail::Trail;

/// How long a recorded batch is remembered. A batch can only be recorded again by a run that
/// held it (its lease is two minutes); a day covers any run stalled that long, as the dedup
/// window does for events.
pub(crate) const RECORDED_BATCHES_KEPT: Duration = Duration::DAY;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    /// The batches recorded in the last [`RECORDED_BATCHES_KEPT`], with when: recording a
    /// batch again (a redone batch, or a run that lost its lease and records late) is a no-op.
    /// Values are the delivery times in Unix seconds.
    pub recorded_batches: BTreeMap<String, i64>,
    /// Sorted by (trail, account, region).
    pub chains: Vec<Chain>,
}

impl crate::document::Recovery for Ledger {
    const IF_UNREADABLE: &'static str = "deliver stops until it reads. It holds each digest \
        chain's last digest and the log files of the next one: restore it from a backup or a \
        previous version, or fix its JSON by hand. Emptying it would fork every chain and leave \
        log files out of every digest";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chain {
    pub trail: String,
    pub account: String,
    pub region: String,
    /// Where the next digest's period starts: the previous digest's end, or the chain's start.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// The last digest written; `None` until the chain's first.
    pub previous: Option<PreviousDigest>,
    /// Log files delivered and not yet in a digest, in delivery order.
    pub pending: Vec<LogFileEntry>,
}

/// A delivered log file, as a batch records it.
#[derive(Debug, Clone)]
pub struct DeliveredLogFile<'a> {
    pub trail: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub entry: LogFileEntry,
}

/// A digest due for a chain, built and ready to sign.
#[derive(Debug, Clone)]
pub struct DueDigest {
    /// The chain's position in [`Ledger::chains`].
    pub chain: usize,
    pub bucket: String,
    pub key: String,
    pub body: DigestFile,
}

impl Ledger {
    /// Adds a batch's log files to their chains' pending lists, starting a chain at
    /// `delivered_at` for a destination that has none. Returns false, changing nothing, when the
    /// batch is already recorded.
    pub fn record(
        &mut self,
        batch: &str,
        delivered_at: OffsetDateTime,
        files: &[DeliveredLogFile<'_>],
    ) -> bool {
        if self.recorded_batches.contains_key(batch) {
            return false;
        }
        let kept_since = (delivered_at - RECORDED_BATCHES_KEPT).unix_timestamp();
        self.recorded_batches.retain(|_, at| *at > kept_since);
        self.recorded_batches
            .insert(batch.to_owned(), delivered_at.unix_timestamp());
        for file in files {
            let index = self.chain_index(file.trail, file.account, file.region, delivered_at);
            self.chains[index].pending.push(file.entry.clone());
        }
        true
    }

    /// Brings the chains in line with the configuration: drops those of trails that are gone or
    /// no longer validate (their next digest would have nowhere to go or was switched off; a
    /// trail that validates again starts a new chain, previous fields null, as CloudTrail's
    /// does), and starts each validating trail's home chain (its own account and home Region)
    /// so that it gets hourly digests from now on even before it delivers anything. Returns
    /// whether anything changed.
    ///
    /// Another Region's chain starts with the first log file delivered there ([`Self::record`])
    /// and then gets a digest every hour, empty or not. CloudTrail also writes empty digests
    /// in every enabled Region of a multi-Region trail from the start, but which Regions are
    /// enabled is a fact of the AWS account that neither a trail's fields nor `cairn.yaml`
    /// carry, so those chains wait for their Region's first event.
    pub fn align(&mut self, config: &Config, now: OffsetDateTime) -> bool {
        let before = self.chains.len();
        self.chains.retain(|chain| {
            trail(config, &chain.trail).is_some_and(|trail| trail.log_file_validation())
        });
        let mut changed = self.chains.len() != before;
        for trail in config.trails.iter().filter(|t| t.log_file_validation()) {
            let account = trail_account(trail);
            if self
                .find(trail.name(), account, trail.home_region())
                .is_none()
            {
                self.chain_index(trail.name(), account, trail.home_region(), now);
                changed = true;
            }
        }
        changed
    }

    /// Whether any chain's next period has ended by `now`.
    pub fn any_due(&self, now: OffsetDateTime) -> bool {
        self.chains
            .iter()
            .any(|chain| period_end(chain.start) <= now)
    }

    /// The next digest of every chain whose next period has ended by `now`: one per chain (a
    /// chain several hours behind gets the next one after this is advanced).
    pub fn due(&self, config: &Config, now: OffsetDateTime, fingerprint: &str) -> Vec<DueDigest> {
        self.chains
            .iter()
            .enumerate()
            .filter_map(|(index, chain)| {
                let end = period_end(chain.start);
                if end > now {
                    return None;
                }
                let trail = trail(config, &chain.trail)?;
                Some(chain.next_digest(index, trail, end, fingerprint))
            })
            .collect()
    }

    /// Advances a chain past a digest written for it (ours, or another run's found in its
    /// place): the files it lists leave the pending list, and it becomes the previous digest.
    pub fn advance(&mut self, chain: usize, written: &DigestFile, previous: PreviousDigest) {
        let chain = &mut self.chains[chain];
        let listed: BTreeSet<&str> = written
            .log_files
            .iter()
            .map(|file| file.s3_object.as_str())
            .collect();
        chain
            .pending
            .retain(|file| !listed.contains(file.s3_object.as_str()));
        chain.start = EventTime::parse(&written.digest_end_time)
            .map(EventTime::to_offset_date_time)
            .unwrap_or_else(|_| period_end(chain.start));
        chain.previous = Some(previous);
    }

    /// The earliest moment a digest signed from now on can start: a key published now must be
    /// valid from here, since a chain catching up signs digests whose periods ended earlier.
    pub fn earliest_start(&self) -> Option<OffsetDateTime> {
        self.chains.iter().map(|chain| chain.start).min()
    }

    fn find(&self, trail: &str, account: &str, region: &str) -> Option<usize> {
        self.chains
            .binary_search_by(|chain| {
                (
                    chain.trail.as_str(),
                    chain.account.as_str(),
                    chain.region.as_str(),
                )
                    .cmp(&(trail, account, region))
            })
            .ok()
    }

    fn chain_index(
        &mut self,
        trail: &str,
        account: &str,
        region: &str,
        start: OffsetDateTime,
    ) -> usize {
        if let Some(index) = self.find(trail, account, region) {
            return index;
        }
        let chain = Chain {
            trail: trail.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            start: whole_seconds(start),
            previous: None,
            pending: Vec::new(),
        };
        let index = self.chains.partition_point(|c| {
            (&c.trail, &c.account, &c.region) < (&chain.trail, &chain.account, &chain.region)
        });
        self.chains.insert(index, chain);
        index
    }
}

impl Chain {
    fn next_digest(
        &self,
        index: usize,
        trail: &Trail,
        end: OffsetDateTime,
        fingerprint: &str,
    ) -> DueDigest {
        let id = ChainId {
            trail: self.trail.clone(),
            home_region: trail.home_region().to_owned(),
            account: self.account.clone(),
            region: self.region.clone(),
        };
        let bucket = trail.bucket().to_owned();
        let key = digest_key(trail.prefix(), trail.organization_id(), &id, end);
        let end_time = EventTime::from_unix_seconds(end.unix_timestamp());
        // A file belongs to the first digest whose period ends after its delivery stamp: one
        // delivered at 10:59 but recorded after the 11:00 digest was cut waits for 12:00, never
        // the other way round.
        let log_files: Vec<LogFileEntry> = self
            .pending
            .iter()
            .filter(|file| log_file_stamp(&file.s3_object).is_none_or(|stamp| stamp < end_time))
            .cloned()
            .collect();
        let previous = self.previous.as_ref();
        let body = DigestFile {
            aws_account_id: self.account.clone(),
            digest_start_time: EventTime::from_unix_seconds(self.start.unix_timestamp())
                .to_string(),
            digest_end_time: end_time.to_string(),
            digest_s3_bucket: bucket.clone(),
            digest_s3_object: key.clone(),
            digest_public_key_fingerprint: fingerprint.to_owned(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.to_owned(),
            // Event times are all `YYYY-MM-DDTHH:MM:SSZ`, so text order is time order.
            newest_event_time: log_files.iter().map(|f| f.newest_event_time.clone()).max(),
            oldest_event_time: log_files.iter().map(|f| f.oldest_event_time.clone()).min(),
            previous_digest_s3_bucket: previous.map(|p| p.bucket.clone()),
            previous_digest_s3_object: previous.map(|p| p.key.clone()),
            previous_digest_hash_value: previous.map(|p| p.hash.clone()),
            previous_digest_hash_algorithm: previous.map(|_| HASH_ALGORITHM.to_owned()),
            previous_digest_signature: previous.map(|p| p.signature.clone()),
            log_files,
        };
        DueDigest {
            chain: index,
            bucket,
            key,
            body,
        }
    }
}

/// The end of the digest period starting at `start`: the next whole UTC hour after it.
pub fn period_end(start: OffsetDateTime) -> OffsetDateTime {
    let seconds = start.unix_timestamp();
    let end = (seconds.div_euclid(3600) + 1) * 3600;
    OffsetDateTime::from_unix_timestamp(end).unwrap_or(start + Duration::HOUR)
}

/// The account a trail belongs to, from its ARN (`arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME`).
fn trail_account(trail: &Trail) -> &str {
    trail.arn().split(':').nth(4).unwrap_or_default()
}

fn trail<'c>(config: &'c Config, name: &str) -> Option<&'c Trail> {
    config.trails.iter().find(|trail| trail.name() == name)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const CONFIG: &str = r#"
accountId: "111122223333"
trails:
  - Name: main
    S3BucketName: trail-bucket
    S3KeyPrefix: audit
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    EnableLogFileValidation: true
  - Name: plain
    S3BucketName: plain-bucket
    HomeRegion: us-east-1
"#;

    fn config(yaml: &str) -> Config {
        Config::from_yaml(yaml, "test").expect("config")
    }

    fn file(region: &str, stamp: &str, n: u8) -> DeliveredLogFile<'static> {
        let region: &'static str = Box::leak(region.to_owned().into_boxed_str());
        DeliveredLogFile {
            trail: "main",
            account: "111122223333",
            region,
            entry: LogFileEntry {
                s3_bucket: "trail-bucket".into(),
                s3_object: format!(
                    "audit/AWSLogs/111122223333/CloudTrail/{region}/2026/11/22/111122223333_CloudTrail_{region}_{stamp}_file{n:012}.json.gz"
                ),
                hash_value: format!("{n:064x}"),
                hash_algorithm: HASH_ALGORITHM.into(),
                newest_event_time: format!("2026-11-22T09:{n:02}:00Z"),
                oldest_event_time: format!("2026-11-22T08:{n:02}:00Z"),
            },
        }
    }

    const T0: OffsetDateTime = datetime!(2026-11-22 10:20:30 UTC);

    #[test]
    fn a_batch_is_recorded_once_and_starts_its_chains() {
        let mut ledger = Ledger::default();
        let files = [
            file("eu-west-1", "20261122T1020Z", 1),
            file("us-east-1", "20261122T1020Z", 2),
        ];
        assert!(ledger.record("b1", T0, &files));
        assert!(!ledger.record("b1", T0 + Duration::minutes(5), &files));
        assert_eq!(ledger.chains.len(), 2);
        assert!(
            ledger
                .chains
                .iter()
                .all(|c| c.pending.len() == 1 && c.start == T0)
        );
        // Sorted by (trail, account, region).
        assert_eq!(ledger.chains[0].region, "eu-west-1");
        // A day later the batch is forgotten, but a new batch still records.
        assert!(ledger.record("b2", T0 + Duration::DAY + Duration::SECOND, &[]));
        assert_eq!(ledger.recorded_batches.keys().collect::<Vec<_>>(), ["b2"]);
    }

    #[test]
    fn digests_fall_due_on_the_hour_and_list_only_files_stamped_before_it() {
        let config = config(CONFIG);
        let mut ledger = Ledger::default();
        assert!(ledger.align(&config, T0));
        assert!(!ledger.align(&config, T0), "aligning twice changes nothing");
        assert_eq!(
            ledger.chains.len(),
            1,
            "only the validating trail's home chain"
        );
        let late = file("us-east-1", "20261122T1059Z", 1);
        let next_hour = file("us-east-1", "20261122T1100Z", 2);
        ledger.record("b1", T0, &[late.clone(), next_hour.clone()]);

        assert!(!ledger.any_due(datetime!(2026-11-22 10:59:59 UTC)));
        let now = datetime!(2026-11-22 11:00:00 UTC);
        let due = ledger.due(&config, now, "fp");
        assert_eq!(due.len(), 1);
        let digest = &due[0].body;
        assert_eq!(digest.digest_start_time, "2026-11-22T10:20:30Z");
        assert_eq!(digest.digest_end_time, "2026-11-22T11:00:00Z");
        assert_eq!(
            due[0].key,
            "audit/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/22/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20261122T110000Z.json.gz"
        );
        assert_eq!(digest.log_files, std::slice::from_ref(&late.entry));
        assert_eq!(digest.previous(), None);
        assert_eq!(
            digest.newest_event_time.as_deref(),
            Some("2026-11-22T09:01:00Z")
        );

        let previous = PreviousDigest {
            bucket: due[0].bucket.clone(),
            key: due[0].key.clone(),
            hash: "h".into(),
            signature: "s".into(),
        };
        ledger.advance(0, digest, previous.clone());
        assert_eq!(
            ledger.chains[0].pending,
            std::slice::from_ref(&next_hour.entry)
        );
        assert!(!ledger.any_due(now));

        // Three hours on, the chain catches up one hour at a time.
        let later = datetime!(2026-11-22 14:10:00 UTC);
        let second = ledger.due(&config, later, "fp").remove(0);
        assert_eq!(second.body.digest_start_time, "2026-11-22T11:00:00Z");
        assert_eq!(second.body.digest_end_time, "2026-11-22T12:00:00Z");
        assert_eq!(second.body.previous(), Some(previous));
        assert_eq!(second.body.log_files, [next_hour.entry]);
        ledger.advance(
            0,
            &second.body,
            PreviousDigest {
                key: second.key.clone(),
                ..ledger.chains[0].previous.clone().unwrap()
            },
        );
        let third = ledger.due(&config, later, "fp").remove(0);
        assert_eq!(third.body.digest_end_time, "2026-11-22T13:00:00Z");
        assert!(third.body.log_files.is_empty());
        assert_eq!(third.body.newest_event_time, None);
        assert_eq!(third.body.oldest_event_time, None);
    }

    /// The User Guide ("CloudTrail digest file structure", 'Empty' digest files): "CloudTrail
    /// will deliver a digest file even when there has been no API activity in your account
    /// during the one hour period that the digest file represents". A Region a multi-Region
    /// trail has delivered to is one whose chain Cairn knows: it gets its digest every hour
    /// after, empty ones included, as the home Region does.
    #[test]
    fn a_region_once_delivered_to_gets_a_digest_every_hour_after_empty_ones_included() {
        let config = config(CONFIG);
        let mut ledger = Ledger::default();
        ledger.align(&config, T0);
        ledger.record("b1", T0, &[file("eu-west-1", "20261122T1020Z", 1)]);
        let mut now = datetime!(2026-11-22 11:00:00 UTC);
        for hour in 0..3 {
            let due = ledger.due(&config, now, "fp");
            let regions: Vec<&str> = due
                .iter()
                .map(|digest| ledger.chains[digest.chain].region.as_str())
                .collect();
            assert_eq!(regions, ["eu-west-1", "us-east-1"], "hour {hour}");
            for digest in &due {
                let listed = digest.body.log_files.len();
                let expected = usize::from(hour == 0 && digest.key.contains("/eu-west-1/"));
                assert_eq!(listed, expected, "{}", digest.key);
                let previous = PreviousDigest {
                    bucket: digest.bucket.clone(),
                    key: digest.key.clone(),
                    hash: "h".into(),
                    signature: "s".into(),
                };
                ledger.advance(digest.chain, &digest.body, previous);
            }
            now += Duration::HOUR;
        }
    }

    #[test]
    fn chains_of_trails_no_longer_validating_are_dropped_and_restart_fresh() {
        let mut ledger = Ledger::default();
        ledger.align(&config(CONFIG), T0);
        ledger.chains[0].previous = Some(PreviousDigest {
            bucket: "b".into(),
            key: "k".into(),
            hash: "h".into(),
            signature: "s".into(),
        });
        let off = CONFIG.replace("    EnableLogFileValidation: true\n", "");
        assert!(ledger.align(&config(&off), T0));
        assert!(ledger.chains.is_empty());
        let later = T0 + Duration::hours(5);
        assert!(ledger.align(&config(CONFIG), later));
        assert_eq!(ledger.chains[0].previous, None);
        assert_eq!(ledger.chains[0].start, later);
    }

    #[test]
    fn periods_end_on_the_next_whole_hour() {
        assert_eq!(
            period_end(datetime!(2026-11-22 10:00:00 UTC)),
            datetime!(2026-11-22 11:00:00 UTC)
        );
        assert_eq!(
            period_end(datetime!(2026-11-22 10:59:59 UTC)),
            datetime!(2026-11-22 11:00:00 UTC)
        );
        assert_eq!(
            period_end(datetime!(2026-12-31 23:30:00 UTC)),
            datetime!(2027-01-01 00:00:00 UTC)
        );
    }
}
