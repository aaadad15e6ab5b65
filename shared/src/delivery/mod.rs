//! deliver: staged events to CloudTrail log files, exactly once.
//!
//! A run takes staging objects in batches. For each batch it
//! 1. plans everything the batch writes from the staging objects alone ([`plan::build`]:
//!    deterministic, so a rerun rebuilds the same keys, and the same bytes once compressed);
//! 2. claims the batch by a compare-and-swap on the journal (phase `Writing`); a run that loses
//!    the swap leaves the batch to the winner;
//! 3. compresses the log files and event-history objects on every core, putting each as soon as
//!    it is compressed, and puts the dedup record: plain puts of fixed keys and bytes, harmless
//!    to repeat; then records the log files of validating trails in the digest ledger (once per
//!    batch, see [`crate::digest::writer`]);
//! 4. swaps the journal to `Cleaning`: from here the batch counts as delivered;
//! 5. deletes the staging objects (idempotent) and swaps the journal empty.
//!
//! A run's batches go back to back: while a batch goes through step 5, the run reads and parses
//! the next batch's staging objects (all but the batch's own). That claims and changes nothing,
//! and the next batch is claimed from the journal exactly as the batch before left it, so no
//! other run can have touched its objects in between.
//!
//! A crash anywhere leaves the journal naming the batch and its phase. The next run, once the
//! crashed run's lease has expired, takes the batch over and redoes the phase it was in: a
//! `Writing` batch is rebuilt from its staging objects (deleted only in `Cleaning`) and rewritten
//! to the recorded keys; a `Cleaning` batch only finishes its deletes. So nothing is lost,
//! nothing is written twice under two names, and the dedup record (written before the batch
//! counts as delivered) keeps later copies of its events out for 24 hours.
//!
//! Before and after its batches, a run writes the digest files of every hour that has ended.
//!
//! Sharded (`deliverShards` > 1), a run works one shard: that shard's staging objects, journal
//! and dedup records ([`Shard`]), while other runs work the others. Every (trail, account,
//! Region) destination belongs to one shard, so each digest chain's log files come from one
//! shard; the digest ledger they share changes only by compare-and-swap and remembers every
//! batch it recorded by its (random, unique) ID, so the shards' batches interleave safely, and
//! every shard's run may cut the digests due (see [`crate::digest::writer`]). For an hour after
//! the shard count changes, shard 0's runs first stage again, in the current shards' folders,
//! what was staged under the old count (`rehome`).

mod insights;
mod journal;
mod log_file;
mod plan;
mod rehome;
mod seen;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::clock::whole_seconds;
use crate::config::Config;
use crate::delivered;
use crate::digest::format::{HASH_ALGORITHM, LogFileEntry};
use crate::digest::ledger::DeliveredLogFile;
use crate::digest::writer::{DigestError, DigestWriter, WrittenDigest};
use crate::document::DocumentError;
use crate::emf::{self, cairn::CairnMetric};
use crate::history;
use crate::ids::random_id;
use crate::layout::{self, Shard};
use crate::ports::object_store::{
    ETag, Encryption, MAX_DELETE_KEYS, ObjectStore, ObjectStoreError, PutOptions, PutTarget,
};
use crate::ports::signer::Signer;
use crate::service::Service;
use crate::staging::StagingError;
use crate::trail::Trail;

pub use journal::{Journal, read as read_journal};
pub use log_file::{MAX_RECORDS, encode as encode_log_file, unique_part as log_file_unique_part};

use journal::{Batch, Phase, PlannedFile};
use log_file::LogFileBody;
use plan::{Compressed, ParsedBatch, Plan, StagedObject};
use rehome::Rehomed;
use seen::SeenCache;

/// How long a claim on a batch lasts unless renewed. A run renews it whenever less than half is
/// left, so only a run that stopped (crashed, timed out) loses it, and another run can take the
/// batch over this long after the last renewal at most.
pub const LEASE: Duration = Duration::minutes(2);

/// The staging bytes one batch reads at most (always at least one object): what bounds a run's
/// memory, whatever the backlog.
pub const MAX_BATCH_BYTES: u64 = 32 * 1024 * 1024;

/// Staging objects read at once.
const READ_CONCURRENCY: usize = 16;

/// Objects deleted, or bodies written (a log file's to its history copies too), at once.
const WRITE_CONCURRENCY: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error(transparent)]
    Staging(#[from] StagingError),
    /// The journal or the digest ledger.
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("the dedup record {key} is unreadable at line {line}")]
    CorruptSeen { key: String, line: usize },
    #[error(
        "batch {batch}: another deliver run took the batch over (this run's lease ran out); it finishes the batch"
    )]
    LeaseLost { batch: String },
    #[error("batch {batch} cannot be redone: {why}")]
    Irreproducible { batch: String, why: String },
    #[error(transparent)]
    Digest(#[from] DigestError),
}

/// One log file written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveredFile {
    pub trail: String,
    pub bucket: String,
    pub key: String,
    pub records: usize,
}

/// What a run did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryReport {
    pub batches: usize,
    /// Batches a stopped run had left unfinished, finished by this one.
    pub resumed: usize,
    pub events: usize,
    pub duplicates: usize,
    /// Dedup keys (eventIDs) that arrived again with different content: the first record
    /// delivered keeps the eventID, and the later ones are left out and named here.
    pub conflicts: Vec<String>,
    pub log_files: Vec<DeliveredFile>,
    /// Insights files written (`CloudTrail-Insight`): the Insights events Cairn found, and
    /// those producers sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub insight_files: Vec<DeliveredFile>,
    /// Per trail that got events, the longest wait of the run, in whole seconds: from the
    /// staging of the oldest event the trail got in a batch to that batch's delivery time.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub delivery_lag_seconds: BTreeMap<String, i64>,
    /// The Insights alert objects written (state bucket keys), one per Insights Start a trail
    /// takes, for notify.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub insight_alerts: Vec<String>,
    /// Digest files written: every chain's hours that had ended by the end of the run.
    pub digests: Vec<WrittenDigest>,
    pub history_objects: usize,
    pub removed_trails: BTreeMap<String, usize>,
    /// Staging objects that were not what ingest writes, moved under [`layout::QUARANTINE_PREFIX`].
    pub quarantined: Vec<String>,
    /// Staging objects of another shard count, staged again in the current shards' folders
    /// (see `rehome`).
    #[serde(skip_serializing_if = "is_zero")]
    pub rehomed: usize,
    /// Set when another run holds the journal: this run left its batch alone.
    #[serde(with = "time::serde::rfc3339::option")]
    pub busy_until: Option<OffsetDateTime>,
}

impl DeliveryReport {
    /// Adds another shard's run to this one, for a command that delivers every shard.
    pub fn absorb(&mut self, other: DeliveryReport) {
        self.batches += other.batches;
        self.resumed += other.resumed;
        self.events += other.events;
        self.duplicates += other.duplicates;
        self.conflicts.extend(other.conflicts);
        self.log_files.extend(other.log_files);
        self.insight_files.extend(other.insight_files);
        for (trail, lag) in other.delivery_lag_seconds {
            let longest = self.delivery_lag_seconds.entry(trail).or_default();
            *longest = (*longest).max(lag);
        }
        self.insight_alerts.extend(other.insight_alerts);
        self.digests.extend(other.digests);
        self.history_objects += other.history_objects;
        for (trail, count) in other.removed_trails {
            *self.removed_trails.entry(trail).or_default() += count;
        }
        self.quarantined.extend(other.quarantined);
        self.rehomed += other.rehomed;
        self.busy_until = self.busy_until.max(other.busy_until);
    }

    /// Cairn's metrics of this run ([`emf::cairn`]), one EMF line per trail that got events,
    /// dated `at`: the events and Insights events delivered, and the delivery lag.
    pub fn metric_lines(&self, at: OffsetDateTime) -> Vec<String> {
        let mut per_trail: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for file in &self.log_files {
            per_trail.entry(&file.trail).or_default().0 += file.records;
        }
        for file in &self.insight_files {
            per_trail.entry(&file.trail).or_default().1 += file.records;
        }
        per_trail
            .into_iter()
            .map(|(trail, (events, insights))| {
                let mut values = vec![
                    (CairnMetric::EventsDelivered, events as f64),
                    (CairnMetric::InsightsEventsDelivered, insights as f64),
                ];
                if let Some(&lag) = self.delivery_lag_seconds.get(trail) {
                    values.push((CairnMetric::DeliveryLag, lag as f64));
                }
                emf::cairn::trail_line(trail, at, &values)
            })
            .collect()
    }
}

/// deliver, built once per process (the dedup cache carries over between Lambda invocations).
pub struct Deliverer<'a> {
    config: &'a Config,
    store: &'a dyn ObjectStore,
    digests: DigestWriter<'a>,
    seen: SeenCache,
    max_batch_bytes: u64,
    shard: Shard,
    /// Set once shard 0 finds the shard count settled: no events can be staged under another
    /// count any more, so this process stops looking (see `rehome`).
    settled: AtomicBool,
}

/// A shard the configuration does not have.
#[derive(Debug, thiserror::Error)]
#[error("deliver was asked for shard {index}, but cairn.yaml's deliverShards is {count} (shards 0 to {last})", last = count - 1)]
pub struct NoSuchShard {
    pub index: u16,
    pub count: u16,
}

/// The delivery clock: the run's start time moved on by real elapsed time, so `--now` fixes the
/// start without freezing leases.
struct Clock {
    start: OffsetDateTime,
    started: Instant,
}

impl Clock {
    fn now(&self) -> OffsetDateTime {
        self.start + self.started.elapsed()
    }
}

/// The journal's state as this run last saw or wrote it.
struct Held {
    batch: Batch,
    etag: ETag,
}

impl Service for Deliverer<'_> {
    /// How long the run may claim new batches: a Lambda's remaining time less a margin, or a
    /// day for a command that runs until the backlog is done.
    type Input = Duration;
    type Report = DeliveryReport;
    type Error = DeliveryError;

    /// `now` is the delivery clock at the start of the run: log files are named by it.
    async fn handle(
        &self,
        claim_for: &Duration,
        now: OffsetDateTime,
    ) -> Result<DeliveryReport, DeliveryError> {
        self.run(*claim_for, now).await
    }
}

impl<'a> Deliverer<'a> {
    /// `signer` signs the digest files of trails with EnableLogFileValidation; a run refuses to
    /// start without one when such a trail exists.
    pub fn new(
        config: &'a Config,
        store: &'a dyn ObjectStore,
        signer: Option<&'a dyn Signer>,
    ) -> Self {
        Self {
            config,
            store,
            digests: DigestWriter::new(config, store, signer),
            seen: SeenCache::default(),
            max_batch_bytes: MAX_BATCH_BYTES,
            shard: Shard::new(0, config.deliver_shards)
                .expect("a configuration has at least one shard"),
            settled: AtomicBool::new(false),
        }
    }

    /// One deliverer per shard of the configuration's `deliverShards`, in shard order.
    pub fn every_shard(
        config: &'a Config,
        store: &'a dyn ObjectStore,
        signer: Option<&'a dyn Signer>,
    ) -> Vec<Self> {
        (0..config.deliver_shards)
            .map(|index| {
                Self::new(config, store, signer)
                    .for_shard(index)
                    .expect("every index below the count is a shard")
            })
            .collect()
    }

    /// Works shard `index` of the configuration's `deliverShards` rather than the first.
    pub fn for_shard(mut self, index: u16) -> Result<Self, NoSuchShard> {
        let count = self.config.deliver_shards;
        self.shard = Shard::new(index, count).ok_or(NoSuchShard { index, count })?;
        Ok(self)
    }

    /// The shard this deliverer works.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// Smaller batches (tests use them to get many batches out of little data).
    pub fn with_max_batch_bytes(mut self, max_batch_bytes: u64) -> Self {
        self.max_batch_bytes = max_batch_bytes;
        self
    }

    fn bucket(&self) -> &str {
        &self.config.state_bucket
    }

    /// Where this shard's journal and dedup records are.
    fn place(&self) -> (&str, Shard) {
        (self.bucket(), self.shard)
    }

    /// Delivers everything staged before `now` (and what arrives while it runs, time allowing),
    /// batch by batch; no new batch is claimed after `claim_for`. Safe to run twice, or twice
    /// at once: see the module documentation.
    async fn run(
        &self,
        claim_for: Duration,
        now: OffsetDateTime,
    ) -> Result<DeliveryReport, DeliveryError> {
        let clock = Clock {
            start: now,
            started: Instant::now(),
        };
        let claim_until = now + claim_for;
        let owner = random_id();
        let mut report = DeliveryReport::default();
        self.digests.check()?;
        // Hours that ended before this run get their digests first, so a long backlog does not
        // hold them up.
        report.digests = self.digests.cut_due(clock.now()).await?;
        if self.shard.index() == 0 && !self.settled.load(Ordering::Relaxed) {
            match rehome::rehome(self.config, self.store, &clock, claim_until).await? {
                Rehomed::Settled => self.settled.store(true, Ordering::Relaxed),
                Rehomed::Moved {
                    objects,
                    quarantined,
                } => {
                    report.rehomed += objects;
                    report.quarantined.extend(quarantined);
                }
            }
        }
        'runs: loop {
            let (journal, etag) = journal::read(self.store, self.bucket(), self.shard).await?;
            if let Some(batch) = journal.batch {
                if batch.owner != owner && batch.lease_until > clock.now() {
                    report.busy_until = Some(batch.lease_until);
                    break;
                }
                let etag = etag.expect("a journal naming a batch was read from the store");
                self.resume(batch, etag, &clock, &owner, &mut report)
                    .await?;
                continue;
            }
            if clock.now() >= claim_until {
                break;
            }
            // Pruning here, with no batch in the journal, keeps a resumed batch's dedup set
            // identical to its first attempt's.
            self.seen
                .prune(self.store, self.place(), clock.now())
                .await?;
            // From here the run's batches go back to back: while a batch is cleaned (step 5),
            // the next one is read and parsed. Only one batch's staging objects are in memory
            // at a time (a run's memory stays bounded by the batch size, whatever the backlog).
            // The next batch is claimed from the journal exactly as the one before left it, so
            // until the claim this run held the journal throughout: no other run can have
            // claimed, delivered or cleaned the objects it read (an emptied journal names its
            // batch, so its ETag is this run's alone).
            let mut expected = etag;
            let mut cleaning: Option<Held> = None;
            loop {
                if clock.now() >= claim_until {
                    if let Some(held) = cleaning.take() {
                        self.clean(held, &clock, &mut report).await?;
                    }
                    break 'runs;
                }
                // The batch in hand's objects are still listed until its deletes end.
                let in_batch: HashSet<String> = cleaning
                    .iter()
                    .flat_map(|held| held.batch.staged.iter().cloned())
                    .collect();
                // Listed before the deletes start: on the embedded store a listing waits for a
                // delete's hold on the bucket, and the reads would wait for the listing. The
                // reads and the parse then run beside the deletes (on S3 too, where the
                // deletes end well before the reads).
                let next = self.list_next(&in_batch).await?;
                let (cleaned, next) = futures::future::join(
                    async {
                        match cleaning.take() {
                            Some(held) => self.clean(held, &clock, &mut report).await.map(Some),
                            None => Ok(None),
                        }
                    },
                    self.read_next(next),
                )
                .await;
                if let Some(emptied) = cleaned? {
                    expected = Some(emptied);
                }
                let parsed = match next? {
                    NextBatch::Parsed(parsed) => parsed,
                    NextBatch::Empty => break 'runs,
                    NextBatch::Corrupt { staged, key, why } => {
                        tracing::error!(%key, %why, "staging object unreadable; moved to quarantine");
                        self.quarantine(&staged, &key).await?;
                        report.quarantined.push(key);
                        continue 'runs;
                    }
                };
                let delivered_at = whole_seconds(clock.now());
                let id = random_id();
                // The batch before wrote its dedup record (step 3), so this batch's dedup set is
                // complete; and nothing is pruned until the journal is empty, so a resumed
                // attempt at this batch sees the same set.
                let parsed = Arc::new(parsed);
                let plan = self.plan(&parsed, &id, delivered_at).await?;
                let batch = Batch {
                    id,
                    owner: owner.clone(),
                    lease_until: clock.now() + LEASE,
                    delivered_at,
                    phase: Phase::Writing,
                    staged: parsed
                        .staged()
                        .iter()
                        .map(|object| object.key.clone())
                        .collect(),
                    log_files: plan.log_files.iter().map(planned_file).collect(),
                };
                let claim = Journal::holding(batch.clone());
                let Some(etag) = self.swap_journal(&claim, expected.as_ref()).await? else {
                    // Another run claimed first; the next read of the journal shows its batch.
                    continue 'runs;
                };
                let held = self
                    .write(plan, &parsed, Held { batch, etag }, &clock, &mut report)
                    .await?;
                cleaning = Some(held);
            }
        }
        report
            .digests
            .extend(self.digests.cut_due(clock.now()).await?);
        Ok(report)
    }

    /// Quarantines the batch's staging object `key`.
    async fn quarantine(&self, staged: &[StagedObject], key: &str) -> Result<(), DeliveryError> {
        let object = staged
            .iter()
            .find(|object| object.key == key)
            .expect("a corrupt staging object is one of the batch's");
        quarantine(self.store, self.bucket(), key, object.body.clone()).await
    }

    /// The keys of the shard's oldest staging objects but those `in_batch`, up to the batch
    /// size (at least one, when any is staged).
    async fn list_next(&self, in_batch: &HashSet<String>) -> Result<Vec<String>, DeliveryError> {
        let prefix = self.shard.staging_prefix();
        let mut chosen = Vec::new();
        let mut bytes = 0;
        let mut token: Option<String> = None;
        'pages: loop {
            let page = self
                .store
                .list_page(self.bucket(), &prefix, token.as_deref())
                .await?;
            for entry in page.entries {
                // The only shard's listing ends in the sharded folders: none of its objects.
                if !layout::is_staging_object_in(&prefix, &entry.key) {
                    break 'pages;
                }
                if in_batch.contains(entry.key.as_str()) {
                    continue;
                }
                if !chosen.is_empty() && bytes + entry.size > self.max_batch_bytes {
                    break 'pages;
                }
                bytes += entry.size;
                chosen.push(entry.key);
            }
            match page.next_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(chosen)
    }

    /// The staging objects `chosen` ([`Self::list_next`]), read in full and parsed.
    async fn read_next(&self, chosen: Vec<String>) -> Result<NextBatch, DeliveryError> {
        if chosen.is_empty() {
            return Ok(NextBatch::Empty);
        }
        let staged = self.read_staged(chosen).await?;
        Ok(match ParsedBatch::parse_apart(staged).await {
            Ok(parsed) => NextBatch::Parsed(parsed),
            Err((staged, StagingError::Corrupt { key, source })) => NextBatch::Corrupt {
                staged,
                key,
                why: source,
            },
            Err((_, other)) => return Err(other.into()),
        })
    }

    async fn read_staged(&self, keys: Vec<String>) -> Result<Vec<StagedObject>, DeliveryError> {
        let bucket = self.bucket();
        futures::stream::iter(keys)
            .map(|key| async move {
                let body = self.store.get_body(bucket, &key).await?;
                Ok::<_, DeliveryError>(StagedObject { key, body })
            })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Takes over a batch a stopped run left in the journal, and finishes it.
    async fn resume(
        &self,
        mut batch: Batch,
        etag: ETag,
        clock: &Clock,
        owner: &str,
        report: &mut DeliveryReport,
    ) -> Result<(), DeliveryError> {
        batch.owner = owner.to_owned();
        batch.lease_until = clock.now() + LEASE;
        let takeover = Journal::holding(batch.clone());
        let Some(etag) = self.swap_journal(&takeover, Some(&etag)).await? else {
            // Another run took it over first.
            return Ok(());
        };
        report.resumed += 1;
        let held = Held { batch, etag };
        match held.batch.phase {
            Phase::Cleaning => self.clean(held, clock, report).await.map(drop),
            Phase::Writing => {
                let staged = self.read_staged(held.batch.staged.clone()).await.map_err(
                    |error| match error {
                        DeliveryError::Store(ObjectStoreError::NotFound { key, .. }) => {
                            DeliveryError::Irreproducible {
                                batch: held.batch.id.clone(),
                                why: format!("its staging object {key} is gone"),
                            }
                        }
                        other => other,
                    },
                )?;
                let parsed = Arc::new(
                    ParsedBatch::parse_apart(staged)
                        .await
                        .map_err(|(_, error)| error)?,
                );
                let mut plan = self
                    .plan(&parsed, &held.batch.id, held.batch.delivered_at)
                    .await?;
                adopt_recorded_files(&mut plan, &held.batch)?;
                let held = self.write(plan, &parsed, held, clock, report).await?;
                self.clean(held, clock, report).await.map(drop)
            }
        }
    }

    /// Step 1: plans `parsed` as batch `id` against the dedup window before `delivered_at`,
    /// which is kept for the next batch's (see [`SeenCache::window`]).
    async fn plan<'p>(
        &self,
        parsed: &'p ParsedBatch,
        id: &str,
        delivered_at: OffsetDateTime,
    ) -> Result<Plan<'a, 'p>, DeliveryError>
    where
        'a: 'p,
    {
        let window = self
            .seen
            .window(self.store, self.place(), delivered_at, id)
            .await?;
        let plan = plan::build(
            self.config,
            parsed.parsed(),
            window.keys(),
            id,
            delivered_at,
        );
        self.seen.keep(window);
        Ok(plan)
    }

    /// Steps 3 and 4 for a claimed batch; returns it held in `Cleaning`, for [`Self::clean`].
    async fn write(
        &self,
        mut plan: Plan<'_, '_>,
        parsed: &Arc<ParsedBatch>,
        held: Held,
        clock: &Clock,
        report: &mut DeliveryReport,
    ) -> Result<Held, DeliveryError> {
        // Every put below writes a key fixed by the journal with bytes fixed by the staging
        // objects, so repeating any of them (after a crash, or by a run taking the batch over)
        // rewrites the same object.
        let seen_key = self.shard.seen_key(held.batch.delivered_at, &held.batch.id);
        let (batch, delivered_at) = (held.batch.id.clone(), held.batch.delivered_at);
        let held = futures::lock::Mutex::new(held);
        let bodies = Mutex::new(vec![None; plan.log_files.len()]);
        // Each body is put as soon as it is compressed: the puts wait on the store while the
        // cores compress the next bodies.
        let compressed = futures::stream::iter(std::mem::take(&mut plan.compressions))
            .map(|compression| {
                let parsed = Arc::clone(parsed);
                plan::on_blocking_pool(move || compression.run(parsed.parsed()))
            })
            .buffer_unordered(plan::cores());
        // The dedup record is written out beside the compressions too: it is a few
        // milliseconds a batch, which the serial plan would otherwise add to every batch.
        let seen_record = {
            let parsed = Arc::clone(parsed);
            let seen = std::mem::take(&mut plan.seen);
            plan::on_blocking_pool(move || plan::seen_record(parsed.parsed(), &seen))
        };
        let seen_put = futures::stream::once(seen_record).map(|body| {
            Put::one(
                self.bucket(),
                &seen_key,
                body,
                PutOptions::new("text/plain"),
            )
        });
        let plan = &plan;
        let puts = futures::stream::select(
            seen_put,
            compressed.map(|compressed| {
                self.put_of(plan, compressed, &mut bodies.lock().expect("no put panics"))
            }),
        )
        .map(|put: Put| {
            let held = &held;
            async move {
                self.keep_lease(&mut *held.lock().await, clock).await?;
                self.store.put_each(put.body, &put.targets).await?;
                Ok::<_, DeliveryError>(())
            }
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .try_collect::<()>();
        // Insights counts and judges the batch while its files are written: the two touch
        // different objects and are both part of the Writing phase, so a crash in either
        // redoes both, and each is harmless to redo (see `insights`).
        let (written, found) = futures::future::join(
            puts,
            insights::plan_writes(self.config, self.store, plan, &batch, delivered_at),
        )
        .await;
        written?;
        let mut held = held.into_inner();
        let bodies: Vec<LogFileBody> = bodies
            .into_inner()
            .expect("no put panics")
            .into_iter()
            .map(|body| body.expect("every log file was compressed and put"))
            .collect();
        self.seen.remember(&seen_key, &plan.delivered);
        let found = found?;
        self.in_waves(
            &mut held,
            clock,
            &found.puts,
            |(bucket, key, body, options)| async move {
                self.store
                    .put(bucket, key, body.clone(), options)
                    .await
                    .map(drop)
            },
        )
        .await?;
        self.keep_lease(&mut held, clock).await?;
        self.digests
            .record(
                &held.batch.id,
                held.batch.delivered_at,
                &delivered_log_files(plan, &bodies),
            )
            .await?;

        held.batch.phase = Phase::Cleaning;
        self.swap(&mut held).await?;

        report.events += plan.events;
        report.duplicates += plan.duplicates;
        for key in &plan.conflicts {
            tracing::warn!(
                event_id = %key,
                batch = %held.batch.id,
                "a record reused an eventID already delivered with different content; the first one was kept"
            );
        }
        report.conflicts.extend(plan.conflicts.iter().cloned());
        report.history_objects += plan.history.len();
        for (trail, count) in &plan.removed_trails {
            *report.removed_trails.entry(trail.clone()).or_default() += count;
        }
        for file in &plan.log_files {
            if let Some(lag) = file.delivery_lag {
                let longest = report
                    .delivery_lag_seconds
                    .entry(file.trail.name().to_owned())
                    .or_default();
                *longest = (*longest).max(lag.whole_seconds());
            }
            let delivered = DeliveredFile {
                trail: file.trail.name().to_owned(),
                bucket: file.bucket.clone(),
                key: file.key.clone(),
                records: file.records,
            };
            if file.insight {
                report.insight_files.push(delivered);
            } else {
                report.log_files.push(delivered);
            }
        }
        report.insight_files.extend(found.files);
        report.insight_alerts.extend(found.alerts);
        Ok(held)
    }

    /// The put a compressed body makes: a log file's, to its own key and those of the history
    /// objects that copy it, or a history object's. Keeps a log file's body in `bodies` for the
    /// digest ledger.
    fn put_of(
        &self,
        plan: &Plan<'_, '_>,
        compressed: Compressed,
        bodies: &mut [Option<LogFileBody>],
    ) -> Put {
        match compressed {
            Compressed::LogFile(index, body) => {
                let file = &plan.log_files[index];
                let options = body
                    .facts(file.trail.name(), &file.account, &file.region)
                    .put_options()
                    .encryption(encryption(file.trail));
                let mut targets = vec![PutTarget {
                    bucket: file.bucket.clone(),
                    key: file.key.clone(),
                    options,
                }];
                targets.extend(
                    plan.history
                        .iter()
                        .filter(|object| object.copy_of == Some(index))
                        .map(|object| PutTarget {
                            bucket: self.bucket().to_owned(),
                            key: object.key.clone(),
                            options: delivered::log_file_put_options(),
                        }),
                );
                let put = Put {
                    body: body.gzip.clone(),
                    targets,
                };
                bodies[index] = Some(body);
                put
            }
            Compressed::History(index, body) => Put::one(
                self.bucket(),
                &plan.history[index].key,
                body,
                history::put_options(),
            ),
        }
    }

    /// Deletes the batch's staging objects, then empties the journal, whose new ETag it
    /// returns. Deletes are idempotent, so a rerun of this step is harmless.
    async fn clean(
        &self,
        mut held: Held,
        clock: &Clock,
        report: &mut DeliveryReport,
    ) -> Result<ETag, DeliveryError> {
        let staged = held.batch.staged.clone();
        // S3 bills no DELETE but bills DeleteObjects as a POST: a batch whose keys fit in one
        // wave of single deletes takes that one round trip for free; a bigger one takes one
        // DeleteObjects per 1,000 keys rather than a round trip per wave.
        if staged.len() <= WRITE_CONCURRENCY {
            self.in_waves(&mut held, clock, &staged, |key| {
                self.store.delete(self.bucket(), key)
            })
            .await?;
        } else {
            for keys in staged.chunks(MAX_DELETE_KEYS) {
                self.keep_lease(&mut held, clock).await?;
                self.store.delete_many(self.bucket(), keys).await?;
            }
        }
        let done = Journal::finished(&held.batch);
        let Some(emptied) = self.swap_journal(&done, Some(&held.etag)).await? else {
            return Err(DeliveryError::LeaseLost {
                batch: held.batch.id,
            });
        };
        report.batches += 1;
        Ok(emptied)
    }

    /// Runs `call` on every item, [`WRITE_CONCURRENCY`] at a time, renewing the claim before
    /// each wave so that every call starts with at least half a lease in hand.
    async fn in_waves<'i, T, F, Fut>(
        &self,
        held: &mut Held,
        clock: &Clock,
        items: &'i [T],
        call: F,
    ) -> Result<(), DeliveryError>
    where
        F: Fn(&'i T) -> Fut,
        Fut: Future<Output = Result<(), ObjectStoreError>>,
    {
        for wave in items.chunks(WRITE_CONCURRENCY) {
            self.keep_lease(held, clock).await?;
            futures::future::try_join_all(wave.iter().map(&call)).await?;
        }
        Ok(())
    }

    /// Renews the claim when less than half of it is left. A failed swap means another run took
    /// the batch over, and this run must stop writing.
    async fn keep_lease(&self, held: &mut Held, clock: &Clock) -> Result<(), DeliveryError> {
        if held.batch.lease_until - clock.now() < LEASE / 2 {
            held.batch.lease_until = clock.now() + LEASE;
            self.swap(held).await?;
        }
        Ok(())
    }

    /// Swaps this shard's journal (see [`journal::swap`]).
    async fn swap_journal(
        &self,
        journal: &Journal,
        expected: Option<&ETag>,
    ) -> Result<Option<ETag>, DeliveryError> {
        journal::swap(self.store, self.bucket(), self.shard, journal, expected).await
    }

    async fn swap(&self, held: &mut Held) -> Result<(), DeliveryError> {
        let journal = Journal::holding(held.batch.clone());
        match self.swap_journal(&journal, Some(&held.etag)).await? {
            Some(etag) => {
                held.etag = etag;
                Ok(())
            }
            None => Err(DeliveryError::LeaseLost {
                batch: held.batch.id.clone(),
            }),
        }
    }
}

/// Moves a staging object deliver cannot read out of the way, to `quarantine/{key}`, so the
/// events behind it keep flowing and the object stays for a person to look at. Safe to repeat:
/// the copy is a plain put of the same bytes, the delete idempotent.
async fn quarantine(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    body: Bytes,
) -> Result<(), DeliveryError> {
    store
        .put(
            bucket,
            &layout::quarantine_key(key),
            body,
            &PutOptions::new("application/x-ndjson"),
        )
        .await?;
    store.delete(bucket, key).await?;
    Ok(())
}

/// A body a batch writes and the objects that hold it: a log file's goes to the trail's
/// bucket and to the history objects that copy it, so the store may keep its bytes once (see
/// [`ObjectStore::put_each`]). Owned: a few per batch, and the puts run while compression goes
/// on.
struct Put {
    body: Bytes,
    targets: Vec<PutTarget>,
}

impl Put {
    fn one(bucket: &str, key: &str, body: Bytes, options: PutOptions) -> Self {
        Put {
            body,
            targets: vec![PutTarget {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                options,
            }],
        }
    }
}

/// The shard's next batch, read and parsed.
enum NextBatch {
    /// Nothing is staged.
    Empty,
    Parsed(ParsedBatch),
    /// The staging object `key` is not what ingest writes; it goes to quarantine, and the
    /// others wait for the next batch.
    Corrupt {
        staged: Vec<StagedObject>,
        key: String,
        why: serde_json::Error,
    },
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// A rebuilt plan must match what the journal recorded, file for file; its files then take the
/// recorded buckets and keys, so a configuration changed in between (a new bucket or prefix)
/// cannot scatter one batch over two sets of keys.
fn adopt_recorded_files(plan: &mut Plan<'_, '_>, batch: &Batch) -> Result<(), DeliveryError> {
    let rebuilt: Vec<PlannedFile> = plan.log_files.iter().map(planned_file).collect();
    let same_shape = rebuilt.len() == batch.log_files.len()
        && rebuilt
            .iter()
            .zip(&batch.log_files)
            .all(|(new, old)| new.trail == old.trail && new.records == old.records);
    if !same_shape {
        return Err(DeliveryError::Irreproducible {
            batch: batch.id.clone(),
            why: format!(
                "its staging objects now give {} log files where the journal recorded {}",
                rebuilt.len(),
                batch.log_files.len()
            ),
        });
    }
    for (file, recorded) in plan.log_files.iter_mut().zip(&batch.log_files) {
        file.bucket.clone_from(&recorded.bucket);
        file.key.clone_from(&recorded.key);
    }
    Ok(())
}

/// What the digest ledger keeps of a batch's log files, given their bodies.
fn delivered_log_files<'p>(
    plan: &'p Plan<'_, '_>,
    bodies: &[LogFileBody],
) -> Vec<DeliveredLogFile<'p>> {
    plan.log_files
        .iter()
        .zip(bodies)
        // The plan hashed exactly the files a digest lists (see `plan::build`).
        .filter_map(|(file, body)| Some((file, body, body.sha256?)))
        .map(|(file, body, sha256)| DeliveredLogFile {
            trail: file.trail.name(),
            account: &file.account,
            region: &file.region,
            entry: LogFileEntry {
                s3_bucket: file.bucket.clone(),
                s3_object: file.key.clone(),
                hash_value: hex::encode(sha256),
                hash_algorithm: HASH_ALGORITHM.to_owned(),
                newest_event_time: body.newest_event_time.to_string(),
                oldest_event_time: body.oldest_event_time.to_string(),
            },
        })
        .collect()
}

fn planned_file(file: &plan::PlannedLogFile<'_>) -> PlannedFile {
    PlannedFile {
        trail: file.trail.name().to_owned(),
        bucket: file.bucket.clone(),
        key: file.key.clone(),
        records: file.records,
    }
}

/// SSE-KMS under the trail's key when it names one, SSE-S3 otherwise, as CloudTrail does.
fn encryption(trail: &Trail) -> Encryption {
    match trail.kms_key_id() {
        Some(key_id) => Encryption::Kms {
            key_id: key_id.to_owned(),
        },
        None => Encryption::S3Managed,
    }
}
