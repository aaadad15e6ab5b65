//! What one batch writes, computed from its staging objects alone: the log files per (trail,
//! account, region), the event-history objects and the dedup record.
//!
//! The plan is a pure function of the staging objects, the dedup set, the batch id and the
//! delivery time. A rerun of a batch therefore rebuilds the same keys with the same bytes, and
//! rewriting them is harmless: that is what lets deliver redo a half-written batch.

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use time::{Duration, OffsetDateTime};

use crate::config::Config;
use crate::history;
use crate::insights;
use crate::layout;
use crate::record::EventTime;
use crate::staging::{self, StagingError};
use crate::trail::Trail;

use super::log_file::{self, LogFileBody, MAX_RECORDS, MAX_UNCOMPRESSED_BYTES};
use super::seen::{self, SeenSet};

/// A staging object as read from the store.
pub(super) struct StagedObject {
    pub key: String,
    pub body: Bytes,
}

/// A log file to write: where it goes and what it holds. Its body is compressed after the
/// batch is claimed ([`Compression`]), and written as soon as it is.
pub(super) struct PlannedLogFile<'c> {
    pub trail: &'c Trail,
    /// An Insights file (`CloudTrail-Insight`), which no digest lists.
    pub insight: bool,
    pub account: String,
    pub region: String,
    pub bucket: String,
    pub key: String,
    pub records: usize,
    /// From the staging of the oldest event of the file's trail, account and Region in the
    /// batch to the delivery time; `None` when no staging key names a time.
    pub delivery_lag: Option<Duration>,
}

/// An event-history object to write.
pub(super) struct PlannedHistory {
    pub key: String,
    /// The log file (its index in [`Plan::log_files`]) whose bytes this object is, when it
    /// holds exactly that file's records; otherwise its body is compressed on its own.
    pub copy_of: Option<usize>,
}

/// A plan borrows the facts of its parsed staging objects ([`Parsed`]) for `'p`.
pub(super) struct Plan<'c, 'p> {
    pub log_files: Vec<PlannedLogFile<'c>>,
    pub history: Vec<PlannedHistory>,
    /// The bodies to compress, largest first: each log file's, and each history object's that
    /// is no copy of a log file.
    pub compressions: Vec<Compression>,
    /// The events this batch delivers, in staging order: the dedup record lists them. It is
    /// written out ([`seen_record`]) while the files compress, off the serial plan.
    pub seen: Vec<RecordRef>,
    /// What the dedup record holds, as a read of it gives it.
    pub delivered: SeenSet,
    /// Events delivered (to at least one trail or the history).
    pub events: usize,
    /// Events dropped as copies of ones already delivered.
    pub duplicates: usize,
    /// Dedup keys of events dropped because a different record already had the key.
    pub conflicts: Vec<String>,
    /// Events routed to trails cairn.yaml no longer has, per trail name: a deleted trail takes
    /// no more deliveries, as in CloudTrail.
    pub removed_trails: BTreeMap<String, usize>,
    /// The calls Insights counts, per place (the event history's account and Region for
    /// management events; a trail watching data events, with its account and Region, for
    /// those), borrowed from the staging objects as read: counting allocates nothing per call.
    pub insight_calls: BTreeMap<insights::Place<'p>, Vec<insights::Call<'p>>>,
}

/// Where a staged event is in its [`Parsed`] batch: its object's index and its own. Compression
/// runs on the blocking pool, where it cannot borrow the batch, so it takes these and reads the
/// records from the batch it shares ([`ParsedBatch`] in an `Arc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecordRef {
    object: u32,
    event: u32,
}

impl RecordRef {
    fn hashed<'a, 'p>(self, parsed: &'a Parsed<'p>) -> &'a Hashed<'p> {
        &parsed[self.object as usize].1[self.event as usize]
    }

    fn raw<'a>(self, parsed: &'a Parsed<'_>) -> &'a str {
        self.hashed(parsed).event.record
    }
}

/// The dedup record of a batch that delivers the events `seen` ([`Plan::seen`]).
pub(super) fn seen_record(parsed: &Parsed<'_>, seen: &[RecordRef]) -> Bytes {
    seen::encode(seen.iter().map(|record| {
        let hashed = record.hashed(parsed);
        (&*hashed.event.dedup_key, hashed.content)
    }))
}

/// One body to compress: the records, in the order written, and what they make.
pub(super) struct Compression {
    output: Output,
    records: Timed,
    /// Uncompressed bytes, which compression time follows.
    bytes: usize,
}

/// What a [`Compression`] makes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Output {
    /// The body of log file `index`; hashed when a digest is to list it.
    LogFile { index: usize, digested: bool },
    /// The body of history object `index`.
    History { index: usize },
}

/// A compressed body, for the output it names.
pub(super) enum Compressed {
    LogFile(usize, LogFileBody),
    History(usize, Bytes),
}

impl Compression {
    fn of(output: Output, records: Timed) -> Self {
        let bytes = records.iter().map(|(_, _, size)| size).sum();
        Compression {
            output,
            records,
            bytes,
        }
    }

    /// Compresses the records of `parsed`, the batch the plan was built from.
    pub(super) fn run(&self, parsed: &Parsed<'_>) -> Compressed {
        match self.output {
            Output::LogFile { index, digested } => {
                let timed: Vec<(EventTime, &str)> = self
                    .records
                    .iter()
                    .map(|(time, record, _)| (*time, record.raw(parsed)))
                    .collect();
                Compressed::LogFile(index, log_file::encode(&timed, digested))
            }
            Output::History { index } => {
                let raws: Vec<&str> = self
                    .records
                    .iter()
                    .map(|(_, record, _)| record.raw(parsed))
                    .collect();
                Compressed::History(index, Bytes::from(history::encode(&raws)))
            }
        }
    }
}

/// A staged event with its eventTime and the hashes the dedup records compare.
pub(super) struct Hashed<'a> {
    event: staging::StagedEvent<'a>,
    time: EventTime,
    key: seen::KeyHash,
    content: seen::ContentHash,
}

/// A batch's staging objects parsed: each object's staging time (from its key, when it names
/// one) and its events in order.
pub(super) type Parsed<'a> = Vec<(Option<OffsetDateTime>, Vec<Hashed<'a>>)>;

self_cell::self_cell!(
    /// Staging objects with their events parsed, owned together: parsing then runs off the
    /// async task, while the batch before is cleaned, the result outlives the step that read
    /// it, and compression, on the blocking pool, reads the records from it (in an `Arc`).
    pub(super) struct ParsedBatch {
        owner: Vec<StagedObject>,
        #[covariant]
        dependent: Parsed,
    }
);

impl ParsedBatch {
    /// Parses `staged` on the blocking pool (see [`parse`]); a staging object that is not what
    /// ingest writes hands the objects back with the error, for the caller to quarantine it.
    pub(super) async fn parse_apart(
        staged: Vec<StagedObject>,
    ) -> Result<Self, (Vec<StagedObject>, StagingError)> {
        on_blocking_pool(move || Self::try_new_or_recover(staged, |staged| parse(staged))).await
    }

    pub(super) fn staged(&self) -> &[StagedObject] {
        self.borrow_owner()
    }

    pub(super) fn parsed(&self) -> &Parsed<'_> {
        self.borrow_dependent()
    }
}

/// Trail, account, Region, and whether the files are Insights files.
type LogFileGroup<'a> = (&'a str, &'a str, &'a str, bool);

/// Records with their times and uncompressed sizes, in the order they are to be written.
type Timed = Vec<(EventTime, RecordRef, usize)>;

/// One log file to build: its trail, destination, part number, records, and its destination's
/// delivery lag (see [`PlannedLogFile::delivery_lag`]).
type Job<'a, 'c> = (&'c Trail, LogFileGroup<'a>, usize, Timed, Option<Duration>);

/// One history object to build: its account, Region and hour, and its records.
type HistoryGroup<'a> = ((&'a str, &'a str, i64), Timed);

/// Parses and hashes the staging objects' events. Those are the costs besides compression:
/// both are done per staging object, on every core.
fn parse(staged: &[StagedObject]) -> Result<Parsed<'_>, StagingError> {
    parallel_map(
        staged,
        |object| object.body.len(),
        |object| {
            let events = staging::read_staged(&object.key, &object.body)?;
            let staged_at = layout::parse_staging_key(&object.key);
            let events = events
                .into_iter()
                .map(|event| {
                    let time = EventTime::parse(&event.event_time).map_err(|why| {
                        StagingError::Corrupt {
                            key: object.key.clone(),
                            source: serde::de::Error::custom(why),
                        }
                    })?;
                    Ok(Hashed {
                        key: seen::hash_key(&event.dedup_key),
                        content: event.hash_of_record(),
                        time,
                        event,
                    })
                })
                .collect::<Result<Vec<_>, StagingError>>()?;
            Ok((staged_at, events))
        },
    )
    .into_iter()
    .collect()
}

pub(super) fn build<'c: 'p, 'p>(
    config: &'c Config,
    parsed: &'p Parsed<'_>,
    already_seen: &SeenSet,
    batch: &str,
    delivered_at: OffsetDateTime,
) -> Plan<'c, 'p> {
    let staged_events = parsed.iter().map(|(_, events)| events.len()).sum();
    // Sized once: the set is probed and filled for every event.
    let mut in_batch = SeenSet::with_capacity(staged_events);
    let mut seen_records: Vec<RecordRef> = Vec::with_capacity(staged_events);
    let mut duplicates = 0;
    let mut conflicts = Vec::new();
    // Each destination's records, and when the oldest of them was staged.
    let mut per_destination: BTreeMap<LogFileGroup<'_>, (Timed, Option<OffsetDateTime>)> =
        BTreeMap::new();
    let mut per_history_hour: BTreeMap<(&str, &str, i64), Timed> = BTreeMap::new();
    let mut insight_calls: BTreeMap<insights::Place<'_>, Vec<insights::Call<'_>>> = BTreeMap::new();
    // The trails whose InsightSelectors watch data events: each counts its own.
    let data_watchers: Vec<insights::DataTrail<'c>> = config
        .trails
        .iter()
        .filter(|trail| trail.insight_selection().watches_data())
        .map(|trail| insights::DataTrail {
            name: trail.name(),
            arn: trail.arn(),
        })
        .collect();
    for (object, (staged_at, events)) in (0u32..).zip(parsed) {
        for (
            event_index,
            Hashed {
                event,
                time,
                key: hash,
                content,
            },
        ) in (0u32..).zip(events)
        {
            let time = *time;
            let record = (
                time,
                RecordRef {
                    object,
                    event: event_index,
                },
                event.record.len(),
            );
            let content = *content;
            // One probe of each set: the day's, then (inserting when new) the batch's own.
            let earlier = match already_seen.get(hash) {
                Some(delivered) => Some(*delivered),
                None => match in_batch.entry(*hash) {
                    Entry::Occupied(delivered) => Some(*delivered.get()),
                    Entry::Vacant(new) => {
                        new.insert(content);
                        None
                    }
                },
            };
            match earlier {
                Some(delivered) if delivered == content => {
                    duplicates += 1;
                    continue;
                }
                Some(_) => {
                    conflicts.push(event.dedup_key.to_string());
                    continue;
                }
                None => {}
            }
            seen_records.push(record.1);
            if let Some(counted) = &event.counted {
                let call = insights::Call {
                    time,
                    source: &counted.0,
                    name: &counted.1,
                    rated: counted.2,
                    error: counted.3.as_deref(),
                    arn: counted.4.as_deref(),
                    agent: counted.5.as_deref(),
                };
                match &event.history {
                    Some((account, region)) => insight_calls
                        .entry(insights::Place {
                            account,
                            region,
                            data_trail: None,
                        })
                        .or_default()
                        .push(call),
                    None => {
                        for route in &event.routes {
                            let watcher = data_watchers
                                .iter()
                                .find(|watcher| watcher.name == route.trail());
                            if let Some(&watcher) = watcher {
                                insight_calls
                                    .entry(insights::Place {
                                        account: route.account(),
                                        region: route.region(),
                                        data_trail: Some(watcher),
                                    })
                                    .or_default()
                                    .push(call);
                            }
                        }
                    }
                }
            }
            for route in &event.routes {
                let group = (
                    route.trail(),
                    route.account(),
                    route.region(),
                    event.insight,
                );
                let (records, oldest_staged) = per_destination.entry(group).or_default();
                records.push(record);
                if let Some(at) = *staged_at {
                    *oldest_staged = Some(oldest_staged.map_or(at, |oldest| oldest.min(at)));
                }
            }
            if let Some((account, region)) = &event.history {
                let hour = time.unix_seconds().div_euclid(3600);
                per_history_hour
                    .entry((account, region, hour))
                    .or_default()
                    .push(record);
            }
        }
    }

    let mut removed_trails = BTreeMap::new();
    let mut jobs: Vec<Job<'_, 'c>> = Vec::new();
    for ((trail_name, account, region, insight), (mut records, oldest_staged)) in per_destination {
        let Some(trail) = config.trails.iter().find(|t| t.name() == trail_name) else {
            *removed_trails.entry(trail_name.to_owned()).or_default() += records.len();
            continue;
        };
        // A staging clock ahead of deliver's is no wait at all.
        let lag = oldest_staged.map(|at| (delivered_at - at).max(Duration::ZERO));
        // Stable: events of the same second keep their staging order.
        records.sort_by_key(|(time, _, _)| *time);
        for (part, chunk) in chunks(records).into_iter().enumerate() {
            jobs.push((
                trail,
                (trail_name, account, region, insight),
                part,
                chunk,
                lag,
            ));
        }
    }
    let mut history_groups: Vec<_> = per_history_hour.into_iter().collect();
    for (_, records) in &mut history_groups {
        records.sort_by_key(|(time, _, _)| *time);
    }
    // A history object holding exactly one log file's records is a copy of that file, so its
    // events are compressed once; the others compress the management events a second time.
    let copies: Vec<Option<usize>> = history_groups
        .iter()
        .map(|group| same_records_as(&jobs, group))
        .collect();
    let history: Vec<PlannedHistory> = history_groups
        .iter()
        .zip(&copies)
        .map(|(((account, region, hour), _), copy_of)| {
            let hour_start = EventTime::from_unix_seconds(hour * 3600).to_offset_date_time();
            let key = if copy_of.is_some() {
                layout::history_log_file_key
            } else {
                layout::history_key
            };
            PlannedHistory {
                key: key(account, region, hour_start, batch),
                copy_of: *copy_of,
            }
        })
        .collect();

    let mut log_files = Vec::with_capacity(jobs.len());
    let mut compressions = Vec::with_capacity(jobs.len() + history.len());
    for (index, (trail, (trail_name, account, region, insight), part, chunk, delivery_lag)) in
        jobs.into_iter().enumerate()
    {
        let seed = if insight {
            format!("{batch}/{trail_name}/{account}/{region}/insight/{part}")
        } else {
            format!("{batch}/{trail_name}/{account}/{region}/{part}")
        };
        let unique = log_file::unique_part(seed.as_bytes());
        let key_of = if insight {
            layout::insight_file_key
        } else {
            layout::log_file_key
        };
        log_files.push(PlannedLogFile {
            trail,
            insight,
            account: account.to_owned(),
            region: region.to_owned(),
            bucket: trail.bucket().to_owned(),
            key: key_of(
                trail.prefix(),
                trail.organization_id(),
                account,
                region,
                delivered_at,
                &unique,
            ),
            records: chunk.len(),
            delivery_lag,
        });
        // Digest files list the CloudTrail log files of a validating trail's hour; the User
        // Guide's digest pages describe no Insights files in them, so Cairn keeps them out.
        let digested = trail.log_file_validation() && !insight;
        compressions.push(Compression::of(Output::LogFile { index, digested }, chunk));
    }
    for (index, ((_, records), copy_of)) in history_groups.into_iter().zip(copies).enumerate() {
        if copy_of.is_none() {
            compressions.push(Compression::of(Output::History { index }, records));
        }
    }
    // Largest first: the workers then finish together, the last to finish a small one.
    compressions.sort_by_key(|compression| std::cmp::Reverse(compression.bytes));

    Plan {
        log_files,
        history,
        compressions,
        events: seen_records.len(),
        seen: seen_records,
        delivered: in_batch,
        duplicates,
        conflicts,
        removed_trails,
        insight_calls,
    }
}

/// The log-file job whose records are exactly the history group's, the same records in the
/// same order, if any. Insights files never count: the history keeps Insights events apart.
fn same_records_as(
    jobs: &[Job<'_, '_>],
    ((account, region, _), records): &HistoryGroup<'_>,
) -> Option<usize> {
    jobs.iter()
        .position(|(_, (_, file_account, file_region, insight), _, file, _)| {
            !insight
                && file_account == account
                && file_region == region
                && file.len() == records.len()
                && file.iter().zip(records).all(|(a, b)| a.1 == b.1)
        })
}

/// Splits one destination's records into log files of at most [`MAX_RECORDS`] records and
/// [`MAX_UNCOMPRESSED_BYTES`] (a single larger record still gets its own file).
fn chunks(records: Timed) -> Vec<Timed> {
    let overhead = br#"{"Records":[]}"#.len();
    let mut files = Vec::new();
    let mut current: Timed = Vec::new();
    let mut bytes = overhead;
    for record in records {
        let size = record.2 + 1;
        if !current.is_empty()
            && (current.len() == MAX_RECORDS || bytes + size > MAX_UNCOMPRESSED_BYTES)
        {
            files.push(std::mem::take(&mut current));
            bytes = overhead;
        }
        bytes += size;
        current.push(record);
    }
    if !current.is_empty() {
        files.push(current);
    }
    files
}

/// Starts `work` on the blocking pool, off the async workers; a panic in it resumes in the
/// awaiting task.
pub(super) fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = T> {
    let running = tokio::task::spawn_blocking(work);
    async move {
        running
            .await
            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
    }
}

/// The cores deliver compresses and parses on: every one (compression dominates delivery).
pub(super) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Maps `items` on every core (compression dominates delivery), keeping their order. The
/// workers take the items by descending `cost` (longest processing time first), so the last
/// item to finish is a small one and the cores finish together.
fn parallel_map<'i, T: Sync, R: Send>(
    items: &'i [T],
    cost: impl Fn(&'i T) -> usize,
    f: impl Fn(&'i T) -> R + Sync,
) -> Vec<R> {
    let threads = cores().min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Cached: a cost may sum a whole log file's records.
    order.sort_by_cached_key(|&i| std::cmp::Reverse(cost(&items[i])));
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            break done;
                        };
                        done.push((i, f(&items[i])));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a delivery worker panicked"))
            .collect()
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
