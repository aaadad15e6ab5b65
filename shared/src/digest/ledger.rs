//! The digest ledger: per chain (trail, account, region), where the next digest starts and
//! goes, the digest before it, and the log files delivered since, waiting for it.
//!
//! A chain whose trail stops validating (EnableLogFileValidation turned off, or the trail
//! removed from `cairn.yaml`, which is how a Cairn trail stops logging) is closed with a final
//! digest listing the files still pending, as CloudTrail's chain "is broken after one hour"
//! when validation is disabled, and "the same applies whenever you stop CloudTrail logging or
//! delete a trail" (CloudTrail API Reference, UpdateTrail, EnableLogFileValidation). Files
//! delivered after that are in no digest, as CloudTrail's are not; a trail that validates again
//! starts a new chain, its first digest's previous fields null.
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
    /// Where the chain's digests go, as its trail said when deliver last saw it validate: kept
    /// so that a chain whose trail was removed from `cairn.yaml` can still get its final
    /// digest. `None` only in a ledger written before Cairn kept it, until the next alignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<DigestPlace>,
    /// The end of the chain's final digest, fixed by the first deliver run that found its trail
    /// no longer validating and stored before that digest is written, so a run redoing it after
    /// a crash writes it under the same key. The chain's hourly digests up to it come first.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub final_end: Option<OffsetDateTime>,
}

/// Where a chain's digests go: its trail's bucket and folder, and the home Region its digest
/// keys name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestPlace {
    pub bucket: String,
    pub prefix: Option<String>,
    pub organization_id: Option<String>,
    pub home_region: String,
}

impl DigestPlace {
    fn of(trail: &Trail) -> Self {
        Self {
            bucket: trail.bucket().to_owned(),
            prefix: trail.prefix().map(str::to_owned),
            organization_id: trail.organization_id().map(str::to_owned),
            home_region: trail.home_region().to_owned(),
        }
    }
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

    /// Brings the chains in line with the configuration, returning whether anything changed:
    /// - a chain whose final digest is written ends: it leaves the ledger, or, if files recorded
    ///   after its end wait (a run that still saw the trail validate), they start a new chain
    ///   there, previous fields null;
    /// - a validating trail's chains take its current bucket and folder;
    /// - a chain whose trail is gone or no longer validates gets its final digest's end: now,
    ///   or at once its last digest's end if nothing is pending (its last digest was final).
    ///   One from a ledger that never stored where it goes cannot be closed and is dropped;
    /// - each validating trail's home chain (its own account and home Region) is started, so
    ///   that it gets hourly digests from now on even before it delivers anything (a trail
    ///   that validates again once its chain is closed starts a new one, as CloudTrail's does).
    ///
    /// Another Region's chain starts with the first log file delivered there ([`Self::record`])
    /// and then gets a digest every hour, empty or not. CloudTrail also writes empty digests
    /// in every enabled Region of a multi-Region trail from the start, but which Regions are
    /// enabled is a fact of the AWS account that neither a trail's fields nor `cairn.yaml`
    /// carry, so those chains wait for their Region's first event.
    pub fn align(&mut self, config: &Config, now: OffsetDateTime) -> bool {
        let now = whole_seconds(now);
        let before = self.chains.len();
        let mut changed = false;
        self.chains.retain_mut(|chain| {
            if !chain.is_closed() {
                return true;
            }
            if chain.pending.is_empty() {
                return false;
            }
            chain.previous = None;
            chain.final_end = None;
            changed = true;
            true
        });
        for chain in &mut self.chains {
            match trail(config, &chain.trail).filter(|trail| trail.log_file_validation()) {
                Some(trail) => {
                    let place = DigestPlace::of(trail);
                    if chain.place.as_ref() != Some(&place) {
                        chain.place = Some(place);
                        changed = true;
                    }
                }
                None if chain.final_end.is_none() => {
                    chain.final_end = Some(if now <= chain.start && chain.pending.is_empty() {
                        chain.start
                    } else {
                        now.max(chain.start + Duration::SECOND)
                    });
                    changed = true;
                }
                None => {}
            }
        }
        self.chains.retain(|chain| {
            let lost = chain.final_end.is_some() && chain.place.is_none();
            if lost {
                tracing::warn!(
                    trail = %chain.trail,
                    account = %chain.account,
                    region = %chain.region,
                    "the trail no longer validates and the ledger does not say where its digests go: its chain ends without a final digest"
                );
            }
            let ended = chain.is_closed() && chain.pending.is_empty();
            !(lost || ended)
        });
        changed |= self.chains.len() != before;
        for trail in config.trails.iter().filter(|t| t.log_file_validation()) {
            let account = trail_account(trail);
            if self
                .find(trail.name(), account, trail.home_region())
                .is_none()
            {
                let index = self.chain_index(trail.name(), account, trail.home_region(), now);
                self.chains[index].place = Some(DigestPlace::of(trail));
                changed = true;
            }
        }
        changed
    }

    /// Whether any chain's next period has ended by `now`.
    pub fn any_due(&self, now: OffsetDateTime) -> bool {
        self.chains
            .iter()
            .any(|chain| chain.next_end().is_some_and(|end| end <= now))
    }

    /// The next digest of every chain whose next period has ended by `now`: one per chain (a
    /// chain several hours behind gets the next one after this is advanced).
    pub fn due(&self, now: OffsetDateTime, fingerprint: &str) -> Vec<DueDigest> {
        self.chains
            .iter()
            .enumerate()
            .filter_map(|(index, chain)| {
                let end = chain.next_end().filter(|end| *end <= now)?;
                let place = chain.place.as_ref()?;
                Some(chain.next_digest(index, place, end, fingerprint))
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
            place: None,
            final_end: None,
        };
        let index = self.chains.partition_point(|c| {
            (&c.trail, &c.account, &c.region) < (&chain.trail, &chain.account, &chain.region)
        });
        self.chains.insert(index, chain);
        index
    }
}

impl Chain {
    /// Whether the chain's final digest is written: its next period would start at its end.
    fn is_closed(&self) -> bool {
        self.final_end.is_some_and(|end| end <= self.start)
    }

    /// The end of the chain's next digest: the next whole hour, or the final digest's end when
    /// that comes first. `None` once the chain is closed.
    fn next_end(&self) -> Option<OffsetDateTime> {
        let hourly = period_end(self.start);
        match self.final_end {
            None => Some(hourly),
            Some(_) if self.is_closed() => None,
            Some(final_end) => Some(final_end.min(hourly)),
        }
    }

    fn next_digest(
        &self,
        index: usize,
        place: &DigestPlace,
        end: OffsetDateTime,
        fingerprint: &str,
    ) -> DueDigest {
        let id = ChainId {
            trail: self.trail.clone(),
            home_region: place.home_region.clone(),
            account: self.account.clone(),
            region: self.region.clone(),
        };
        let bucket = place.bucket.clone();
        let key = digest_key(
            place.prefix.as_deref(),
            place.organization_id.as_deref(),
            &id,
            end,
        );
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
        let due = ledger.due(now, "fp");
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
        let second = ledger.due(later, "fp").remove(0);
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
        let third = ledger.due(later, "fp").remove(0);
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
            // A deliver run aligns before it cuts: the new Region's chain learns where it goes.
            ledger.align(&config, now);
            let due = ledger.due(now, "fp");
            let regions: Vec<&str> = due
                .iter()
                .map(|digest| ledger.chains[digest.chain].region.as_str())
                .collect();
            assert_eq!(regions, ["eu-west-1", "us-east-1"], "hour {hour}");
            for digest in &due {
                let listed = digest.body.log_files.len();
                let expected = usize::from(hour == 0 && digest.key.contains("/eu-west-1/"));
                assert_eq!(listed, expected, "{}", digest.key);
                ledger.advance(digest.chain, &digest.body, previous_of(digest));
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

    fn previous_of(digest: &DueDigest) -> PreviousDigest {
        PreviousDigest {
            bucket: digest.bucket.clone(),
            key: digest.key.clone(),
            hash: "h".into(),
            signature: "s".into(),
        }
    }

    /// Writes every due digest as a deliver run does, aligning first: what they were.
    fn cut(ledger: &mut Ledger, config: &Config, now: OffsetDateTime) -> Vec<DueDigest> {
        let mut written = Vec::new();
        loop {
            if ledger.align(config, now) {
                continue;
            }
            let due = ledger.due(now, "fp");
            if due.is_empty() {
                return written;
            }
            for digest in &due {
                ledger.advance(digest.chain, &digest.body, previous_of(digest));
            }
            written.extend(due);
        }
    }

    /// [`CONFIG`] with the main trail's validation turned off.
    fn off() -> Config {
        config(&CONFIG.replace("    EnableLogFileValidation: true\n", ""))
    }

    const REMOVED: &str = r#"
accountId: "111122223333"
trails:
  - Name: plain
    S3BucketName: plain-bucket
    HomeRegion: us-east-1
"#;

    /// A trail that stops validating, or is removed, gets a final digest at once for the files
    /// still pending, after the hours that ended; then its chain is gone, and validating again
    /// starts a new one whose first digest has no previous.
    #[test]
    fn a_trail_that_stops_validating_gets_a_final_digest_of_what_is_pending() {
        for (stopped, stopped_config) in [("off", off()), ("removed", config(REMOVED))] {
            let mut ledger = Ledger::default();
            cut(&mut ledger, &config(CONFIG), T0);
            let files = [
                file("us-east-1", "20261122T1030Z", 1),
                file("us-east-1", "20261122T1150Z", 2),
            ];
            ledger.record("b1", datetime!(2026-11-22 11:50:10 UTC), &files);
            let stop = datetime!(2026-11-22 12:20:15 UTC);
            let written = cut(&mut ledger, &stopped_config, stop);
            let ends: Vec<&str> = written
                .iter()
                .map(|d| d.body.digest_end_time.as_str())
                .collect();
            assert_eq!(
                ends,
                [
                    "2026-11-22T11:00:00Z",
                    "2026-11-22T12:00:00Z",
                    "2026-11-22T12:20:15Z"
                ],
                "{stopped}"
            );
            let last = written.last().expect("final digest");
            assert_eq!(last.body.digest_start_time, "2026-11-22T12:00:00Z");
            assert!(last.body.log_files.is_empty(), "{stopped}");
            assert_eq!(written[1].body.log_files, [files[1].entry.clone()]);
            // The trail's bucket and folder, as the ledger kept them.
            assert_eq!(
                last.key,
                "audit/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/22/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20261122T122015Z.json.gz",
                "{stopped}"
            );
            assert!(ledger.chains.is_empty(), "{stopped}: {:?}", ledger.chains);
            assert!(cut(&mut ledger, &stopped_config, stop + Duration::HOUR).is_empty());

            let again = datetime!(2026-11-22 15:05:00 UTC);
            assert!(cut(&mut ledger, &config(CONFIG), again).is_empty());
            let first = cut(&mut ledger, &config(CONFIG), again + Duration::HOUR);
            assert_eq!(first[0].body.digest_start_time, "2026-11-22T15:05:00Z");
            assert_eq!(first[0].body.previous(), None, "{stopped}");
            assert_eq!(first[0].body.previous_digest_signature, None);
        }
    }

    /// The final digest's end is stored before it is written: a run aligning again (after a
    /// crash, or a concurrent one) keeps it, so the digest's key cannot change.
    #[test]
    fn the_final_digests_end_is_fixed_by_the_first_run_that_sees_the_stop() {
        let mut ledger = Ledger::default();
        cut(&mut ledger, &config(CONFIG), T0);
        let stop = datetime!(2026-11-22 10:40:00 UTC);
        assert!(ledger.align(&off(), stop));
        assert_eq!(ledger.chains[0].final_end, Some(stop));
        assert!(!ledger.align(&off(), stop + Duration::minutes(5)));
        assert!(!ledger.align(&config(CONFIG), stop + Duration::minutes(5)));
        let due = ledger.due(stop + Duration::minutes(5), "fp");
        assert_eq!(due[0].body.digest_end_time, "2026-11-22T10:40:00Z");
        assert_eq!(due[0].body.digest_start_time, "2026-11-22T10:20:30Z");
    }

    /// Files recorded after the final digest's end (by a run that still saw the trail
    /// validate) are not lost: they start a new chain, previous fields null, which is closed in
    /// turn if the trail still does not validate.
    #[test]
    fn files_recorded_after_the_final_digest_start_a_new_chain() {
        let mut ledger = Ledger::default();
        cut(&mut ledger, &config(CONFIG), T0);
        let stop = datetime!(2026-11-22 10:40:00 UTC);
        ledger.align(&off(), stop);
        let late = file("us-east-1", "20261122T1041Z", 3);
        ledger.record(
            "late",
            datetime!(2026-11-22 10:41:00 UTC),
            std::slice::from_ref(&late),
        );
        let at = datetime!(2026-11-22 10:45:00 UTC);
        let written = cut(&mut ledger, &off(), at);
        assert_eq!(written.len(), 2);
        assert!(written[0].body.log_files.is_empty());
        assert_eq!(written[0].body.digest_end_time, "2026-11-22T10:40:00Z");
        assert_eq!(written[1].body.previous(), None);
        assert_eq!(written[1].body.digest_start_time, "2026-11-22T10:40:00Z");
        assert_eq!(written[1].body.digest_end_time, "2026-11-22T10:45:00Z");
        assert_eq!(written[1].body.log_files, [late.entry]);
        assert!(ledger.chains.is_empty());
    }

    /// A chain from a ledger written before Cairn stored where digests go, whose trail is
    /// gone: nothing says where its final digest would go, so it ends as before.
    #[test]
    fn a_chain_with_no_stored_place_whose_trail_is_gone_is_dropped() {
        let mut ledger = Ledger::default();
        cut(&mut ledger, &config(CONFIG), T0);
        ledger.chains[0].place = None;
        assert!(ledger.align(&config(REMOVED), T0 + Duration::minutes(30)));
        assert!(ledger.chains.is_empty());
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
