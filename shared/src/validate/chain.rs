//! The walk along one chain of digests, newest to oldest, as aws-cli walks it: start at the
//! newest digest in the range, follow each digest's previous-digest pointer, and when the chain
//! breaks (a digest missing or invalid, or a chain start) go on from the next older digest in
//! the listing.
//!
//! Stricter than aws-cli: each link is checked both ways (the older digest's hash, signature and
//! end time must be what the newer one, which is signed, says of it), every period between the
//! digests the walk reaches must have its digest (a run of deleted digests is reported period
//! by period, not as one), and a digest in the range that no later digest links to is reported.
//!
//! Periods are worked out from the chain itself: CloudTrail's start and end at the second its
//! trail began (`…T15:01:31Z`), an hour apart, and Cairn's on the hour.

use std::collections::{HashMap, HashSet};

use crate::digest::format::LogFileEntry;
use crate::layout::{ChainId, DigestKey, parse_digest_key};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::record::EventTime;

use super::digests::{BACKFILL_SUFFIX, ChainPlace, Digest, Fetched, KeyRing, check, fetch};
use super::report::{FileKind, Line, Location, Report, ValidationProblem};

pub(crate) const HOUR: i64 = 3600;

/// One chain's digest keys as listed: (end time from the key, location), oldest first.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Keys dated within the range the walk covers.
    pub in_range: Vec<(EventTime, Location)>,
    /// The newest key dated before the range: where a run of missing digests at the start of
    /// the range ends.
    pub before_range: Option<EventTime>,
}

/// What the walk of one chain found, for the log checks that follow.
#[derive(Debug, Default)]
pub(crate) struct ChainWalk {
    /// Digest lines in walk order; a valid digest's line is followed by a `Logs` step.
    pub steps: Vec<ChainStep>,
    /// Every log file a readable digest of the chain lists (valid or not), and which.
    pub listed: HashMap<Location, Location>,
    /// The span the readable digests reached cover.
    pub covered: Option<(EventTime, EventTime)>,
    /// Periods without digests that a chain start explains (validation or logging was off).
    pub explained_gaps: Vec<(EventTime, EventTime)>,
}

#[derive(Debug)]
pub(crate) enum ChainStep {
    Line(Line),
    /// The log files of the valid digest whose line came just before.
    Logs {
        digest: Location,
        digest_end: EventTime,
        entries: Vec<LogFileEntry>,
    },
}

pub(crate) struct ChainWalker<'a> {
    pub store: &'a dyn ObjectStore,
    pub keys: &'a KeyRing<'a>,
    pub place: &'a ChainPlace<'a>,
    pub requested: (EventTime, EventTime),
    /// Digests read ahead, in parallel, by key.
    pub prefetched: HashMap<Location, Fetched>,
}

impl ChainWalker<'_> {
    pub(super) async fn walk(
        mut self,
        listing: &Listing,
        report: &mut Report,
    ) -> Result<ChainWalk, ObjectStoreError> {
        let mut walk = ChainWalk::default();
        let mut pending = listing.in_range.clone();
        let mut visited = HashSet::new();
        let mut current = pending.pop();
        let mut last_start = current.as_ref().map(|(time, _)| *time);
        // The verified digest that named `current` as its previous digest: the link to check.
        let mut newer: Option<Box<Digest>> = None;
        // The previous digest and its signature as the last readable digest names them, verified
        // or not: a signature is as good wherever it was read, so this stands in for a digest
        // whose S3 metadata is gone.
        let mut named_signature: Option<(Location, String)> = None;

        while let Some((time, location)) = current.take() {
            if last_start.is_some_and(|start| start < self.requested.0) {
                break;
            }
            visited.insert(location.clone());
            let fetched = match self.prefetched.remove(&location) {
                Some(fetched) => fetched,
                None => fetch(self.store, &location).await?,
            };
            let signature_hint = named_signature
                .take()
                .filter(|(named, _)| *named == location)
                .map(|(_, signature)| signature);
            let verdict = match fetched {
                Fetched::Missing => Err(ValidationProblem::NotFound),
                Fetched::Unreadable(problem) => Err(problem),
                Fetched::Found(digest) => {
                    walk.note_readable(&digest, time);
                    named_signature = digest.body.previous().map(|previous| {
                        (
                            Location::new(previous.bucket, previous.key),
                            previous.signature,
                        )
                    });
                    match self.check_in_chain(&digest, newer.as_deref(), signature_hint.as_deref())
                    {
                        Ok(()) => Ok(digest),
                        Err(problem) => Err(problem),
                    }
                }
            };
            match verdict {
                Ok(digest) => {
                    let (start, end) = digest.period().expect("a checked digest has a period");
                    report.track_found((start, end), self.requested);
                    walk.steps.push(ChainStep::Line(Line::Valid {
                        kind: self.kind(),
                        file: location.clone(),
                    }));
                    walk.steps.push(ChainStep::Logs {
                        digest: location.clone(),
                        digest_end: end,
                        entries: digest.body.log_files.clone(),
                    });
                    last_start = Some(start);
                    match digest.body.previous() {
                        Some(previous) => {
                            let at =
                                parse_chain_key(&previous.key).map_or(start, |(key, _)| key.end);
                            current = Some((at, Location::new(previous.bucket, previous.key)));
                            newer = Some(digest);
                        }
                        None => {
                            current = pop_older(&mut pending, time);
                            if let Some((older, _)) = &current {
                                walk.steps.push(ChainStep::Line(Line::Gap {
                                    backfill: self.place.backfill,
                                    from: *older,
                                    to: start,
                                }));
                                // A log file key names its delivery minute only: one of
                                // the minute the older chain ended in may have come after.
                                let minute = older.unix_seconds() - older.unix_seconds() % 60;
                                walk.explained_gaps
                                    .push((EventTime::from_unix_seconds(minute), start));
                            }
                            newer = None;
                        }
                    }
                }
                Err(problem) => {
                    walk.steps.push(ChainStep::Line(Line::Invalid {
                        kind: self.kind(),
                        file: location,
                        problem,
                    }));
                    current = pop_older(&mut pending, time);
                    let older = current
                        .as_ref()
                        .map(|(older, _)| *older)
                        .or(listing.before_range);
                    if let Some(older) = older {
                        self.missing_periods_between(older, time, &mut walk);
                    }
                    newer = None;
                }
            }
        }

        // Whatever the listing holds in the range that the walk never reached. Its log files
        // count as listed: the digest's own problem is what gets reported.
        for (time, location) in &listing.in_range {
            if visited.contains(location) {
                continue;
            }
            let fetched = match self.prefetched.remove(location) {
                Some(fetched) => fetched,
                None => fetch(self.store, location).await?,
            };
            let problem = match fetched {
                // Listed a moment ago, deleted since.
                Fetched::Missing => ValidationProblem::NotFound,
                Fetched::Unreadable(problem) => problem,
                Fetched::Found(digest) => {
                    walk.note_readable(&digest, *time);
                    match self.check_in_chain(&digest, None, None) {
                        Ok(()) => ValidationProblem::NotInChain,
                        Err(problem) => problem,
                    }
                }
            };
            walk.steps.push(ChainStep::Line(Line::Invalid {
                kind: self.kind(),
                file: location.clone(),
                problem,
            }));
        }
        Ok(walk)
    }

    /// The digest's own checks, then the link from the verified newer digest that names it.
    fn check_in_chain(
        &self,
        digest: &Digest,
        newer: Option<&Digest>,
        signature_hint: Option<&str>,
    ) -> Result<(), ValidationProblem> {
        check(digest, self.keys, self.place, signature_hint)?;
        let named = newer.and_then(|newer| newer.body.previous());
        let (Some(newer), Some(named)) = (newer, named) else {
            return Ok(());
        };
        let mismatch = |detail: String| {
            Err(ValidationProblem::NotWhatTheNextDigestSays {
                next: newer.location.clone(),
                detail,
            })
        };
        if named.hash != digest.hash {
            return mismatch(format!(
                "its SHA-256 is {}, previousDigestHashValue is {}",
                digest.hash, named.hash
            ));
        }
        if digest
            .signature
            .as_ref()
            .is_some_and(|signature| *signature != named.signature)
        {
            return mismatch("its signature is not previousDigestSignature".to_owned());
        }
        let (_, end) = digest.period().expect("checked");
        let (next_start, _) = newer.period().expect("checked");
        // Backfill digests are made apart, each when CloudTrail makes it: their periods need
        // not meet.
        if end != next_start && !self.place.backfill {
            return mismatch(format!(
                "it ends at {end}, the next digest starts at {next_start}"
            ));
        }
        Ok(())
    }

    /// Reports the digest of every hourly period strictly between the digests ending at `older`
    /// and `newer` (key times), within the range: none of them is in the bucket. Each is named
    /// by the chain's hourly spacing back from `newer`; half an hour of slack on `older` allows
    /// for a period a few seconds off the hour apart, as CloudTrail's may be. Backfill digests
    /// have no periods to miss.
    fn missing_periods_between(&self, older: EventTime, newer: EventTime, walk: &mut ChainWalk) {
        if self.place.backfill {
            return;
        }
        let mut end = newer.unix_seconds() - HOUR;
        while end > older.unix_seconds() + HOUR / 2 && end >= self.requested.0.unix_seconds() {
            let key = self.place.digest_key(EventTime::from_unix_seconds(end));
            walk.steps.push(ChainStep::Line(Line::Missing {
                file: Location::new(self.place.bucket, key),
            }));
            end -= HOUR;
        }
    }

    fn kind(&self) -> FileKind {
        if self.place.backfill {
            FileKind::BackfillDigest
        } else {
            FileKind::Digest
        }
    }
}

impl ChainWalk {
    fn note_readable(&mut self, digest: &Digest, key_time: EventTime) {
        for entry in &digest.body.log_files {
            self.listed
                .entry(Location::new(&entry.s3_bucket, &entry.s3_object))
                .or_insert_with(|| digest.location.clone());
        }
        let (start, end) = digest.period().unwrap_or((
            EventTime::from_unix_seconds(key_time.unix_seconds() - HOUR),
            key_time,
        ));
        self.covered = Some(match self.covered {
            None => (start, end),
            Some((s, e)) => (s.min(start), e.max(end)),
        });
    }
}

/// Removes and returns the newest listed key dated strictly before `before`, dropping the newer
/// ones on the way, as aws-cli's search for the next digest does.
fn pop_older(
    pending: &mut Vec<(EventTime, Location)>,
    before: EventTime,
) -> Option<(EventTime, Location)> {
    while let Some((time, location)) = pending.pop() {
        if time < before {
            return Some((time, location));
        }
    }
    None
}

/// One chain of a trail's digests in one account: a Region's regular or backfill chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ChainKey {
    pub region: String,
    /// Sorts after the regular chain, as aws-cli walks it after (`validation.py` line 1085).
    pub backfill: bool,
}

/// Reads a regular or backfill digest key (`…_{stamp}_backfill.json.gz`, `validation.py`
/// lines 58-79): its chain and end time, and whether it is a backfill digest.
pub(crate) fn parse_chain_key(key: &str) -> Option<(DigestKey, bool)> {
    match key.strip_suffix(BACKFILL_SUFFIX) {
        Some(stem) => Some((parse_digest_key(&format!("{stem}.json.gz"))?, true)),
        None => Some((parse_digest_key(key)?, false)),
    }
}

/// Sorts a trail's listed digest keys into chains, keeping the keys of `trail` (its name, home
/// region and account) and, when `regions` is given, only those regions.
pub(crate) fn chains(
    keys: impl IntoIterator<Item = String>,
    trail: &ChainId,
    regions: Option<&[String]>,
) -> HashMap<ChainKey, Vec<(EventTime, String)>> {
    let mut chains: HashMap<ChainKey, Vec<(EventTime, String)>> = HashMap::new();
    for key in keys {
        let Some((parsed, backfill)) = parse_chain_key(&key) else {
            continue;
        };
        let chain = parsed.chain;
        if chain.trail != trail.trail
            || chain.home_region != trail.home_region
            || chain.account != trail.account
            || regions.is_some_and(|regions| !regions.contains(&chain.region))
        {
            continue;
        }
        chains
            .entry(ChainKey {
                region: chain.region,
                backfill,
            })
            .or_default()
            .push((parsed.end, key));
    }
    for keys in chains.values_mut() {
        keys.sort();
    }
    chains
}
