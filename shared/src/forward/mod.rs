//! forward: each delivered log file's and Insights file's records to its trail's CloudWatch Logs
//! group, the trail's metric filters evaluated on every record, and the matches left for notify.
//!
//! Insights files (`CloudTrail-Insight/`) are forwarded exactly as log files are, to the same
//! stream: the User Guide says CloudTrail sends a trail's Insights events to its log group
//! ("Working with CloudTrail Insights", "Sending events to Amazon CloudWatch Logs"), and names
//! no stream of their own ([`delivered::LogFileOf::log_stream`]). In the log group they meet the
//! group's metric filters like any other event.
//!
//! [`Forwarder`] does one file per Object Created event:
//! 1. It checks the object is a log file or Insights file Cairn delivered for a configured
//!    trail: in a trail's bucket and folder, with the metadata deliver writes naming that trail
//!    ([`crate::delivered`]). Anything else (digests, other prefixes, other buckets, files
//!    without Cairn's metadata or naming a trail that is not configured or not theirs) is
//!    ignored, with the reason in the report and the log. A trail without
//!    CloudWatchLogsLogGroupArn sends nothing anywhere (its file is not even read: a HEAD
//!    names the trail).
//! 2. It reads the file (one gzip member of `{"Records":[…]}`; trailing data is refused) and
//!    sorts the records by eventTime, stably ([`batch`]).
//! 3. It matches every record against the metric filters of the log group ([`metrics`]) and,
//!    when anything matched, writes the file's alert object ([`crate::alert`]).
//! 4. It puts the records to stream `{account}_CloudTrail_{region}` (from the metadata; an
//!    organization trail's with its ID in front, `o-…_{account}_CloudTrail_{region}`,
//!    [`delivered::LogFileOf::log_stream`]) of the group, in batches within PutLogEvents'
//!    limits, each record's exact JSON as the message and its eventTime as the timestamp. A
//!    throttled or transiently failed put is retried with exponential backoff
//!    ([`RetryPolicy`]). Records that cannot go (over 256 KB, older than 14
//!    days or more than 2 hours ahead of `now`, no eventTime) and records CloudWatch Logs leaves
//!    out of an accepted put are counted by reason and logged with their eventIDs.
//! 5. For each match of a record CloudWatch Logs stored, it writes the metric's data point as an
//!    embedded-metric-format record ([`metrics::emf_record`]): to the metric output (the Lambda
//!    function prints them, and the log group of the function turns them into metrics) and into
//!    the report.
//!
//! ## Re-delivery (EventBridge delivers at least once)
//!
//! After each batch a progress marker in the state bucket records how far the file is done
//! ([`progress`]); a re-delivery resumes after the last recorded batch, and a finished file is
//! skipped. What can be put twice is only a batch whose put was under way when the run stopped:
//! the put may have stored it (CloudWatch Logs stores a batch it answered, or timed out on,
//! without any way to ask afterwards, and no longer deduplicates) while the marker write that
//! follows did not happen, so the next run puts it again. One batch at most, because the marker
//! is written after every batch and before the next one starts. Its EMF records, written when
//! its put returned, repeat with it. The alert object is rewritten with identical bytes at most.
//!
//! Two runs on the same file at once (a duplicate delivery arriving while the first still runs)
//! both put the batch they start with, but their marker writes are compare-and-swaps, so only
//! one records it; the other sees the marker moved, stops (outcome `superseded`) and leaves the
//! file to the first. So a concurrent duplicate repeats at most one batch too.

mod batch;
mod metrics;
mod progress;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tracing::Instrument;

use crate::alert::{ALERT_VERSION, Alert, LogFileRef};
use crate::config::Config;
use crate::delivered;
use crate::emf::{self, cairn::CairnMetric};
use crate::gzip;
use crate::ids::random_id;
use crate::layout;
use crate::ports::log_sink::{LogEvent, LogSink, LogSinkError, RejectedEvents};
use crate::ports::object_store::{ETag, ObjectStore, ObjectStoreError, PutOptions};
use crate::record::split_batch;
use crate::retry::{self, Exhausted, RetryPolicy};
use crate::service::Service;
use crate::trail::Trail;
use crate::trigger::ObjectCreated;

pub use batch::RejectReason;
pub use progress::ProgressError;

use batch::Entry;
use metrics::{FilterMatch, GroupFilters};
use progress::Progress;

/// The most a log file may hold uncompressed. deliver writes at most 16 MiB per file; this
/// leaves room for files written by others while refusing a gzip bomb.
pub const MAX_UNCOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// What became of one log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// This run dealt with the file's remaining records: the file is finished.
    Forwarded,
    /// The file was finished before: nothing was done.
    AlreadyForwarded,
    /// The trail has no CloudWatch Logs group: nothing to forward.
    NoLogGroup,
    /// Another run recorded progress on this file first; that run carries on with it.
    Superseded,
    /// Not a log file of a configured trail (see `ignored_because`).
    Ignored,
}

/// A record that did not reach CloudWatch Logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusedEvent {
    /// `-` for a record without one.
    pub event_id: String,
    pub timestamp_ms: Option<i64>,
    pub reason: RejectReason,
}

/// What [`Forwarder`] did with one object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardReport {
    pub bucket: String,
    pub key: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_because: Option<String>,
    pub trail: Option<String>,
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    /// Records in the file (0 when it was not read).
    pub records: usize,
    /// Records (in eventTime order) earlier runs had dealt with; this run started after them.
    pub resumed_at: usize,
    /// PutLogEvents requests this run made.
    pub batches: usize,
    /// Events CloudWatch Logs stored in this run.
    pub forwarded: usize,
    /// Records that did not reach CloudWatch Logs in this run, counted by reason...
    pub refused: BTreeMap<RejectReason, usize>,
    /// ...and each of them.
    pub refused_events: Vec<RefusedEvent>,
    /// Metric-filter matches in the whole file.
    pub matches: usize,
    /// Metric-filter matches of the records CloudWatch Logs stored in this run (those of
    /// records an earlier run stored were counted by that run).
    pub matches_stored: usize,
    /// The alert object this run wrote (state bucket key).
    pub alert: Option<String>,
    /// EMF records for the data points of matched events stored in this run, one JSON each.
    pub metrics: Vec<String>,
}

impl ForwardReport {
    fn new(bucket: &str, key: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            outcome: Outcome::Forwarded,
            ignored_because: None,
            trail: None,
            log_group: None,
            log_stream: None,
            records: 0,
            resumed_at: 0,
            batches: 0,
            forwarded: 0,
            refused: BTreeMap::new(),
            refused_events: Vec::new(),
            matches: 0,
            matches_stored: 0,
            alert: None,
            metrics: Vec::new(),
        }
    }

    /// Records refused in this run, all reasons together.
    pub fn refused_total(&self) -> usize {
        self.refused.values().sum()
    }

    /// Cairn's metrics of this run ([`emf::cairn`]), as EMF lines dated `at`: for a log file
    /// of a trail with a log group, the events stored and their metric-filter matches.
    pub fn metric_lines(&self, at: OffsetDateTime) -> Vec<String> {
        let (Some(trail), Some(_)) = (&self.trail, &self.log_group) else {
            return Vec::new();
        };
        vec![emf::cairn::trail_line(
            trail,
            at,
            &[
                (CairnMetric::EventsForwarded, self.forwarded as f64),
                (CairnMetric::MetricFilterMatches, self.matches_stored as f64),
            ],
        )]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error(transparent)]
    Progress(#[from] ProgressError),
    #[error("s3://{bucket}/{key} cannot be read as a CloudTrail log file: {why}")]
    Unreadable {
        bucket: String,
        key: String,
        why: String,
    },
    #[error(
        "batch {batch} of s3://{bucket}/{key} was not put after {attempts} attempt(s): {source}"
    )]
    Sink {
        bucket: String,
        key: String,
        /// The step's number in the file, counting from 0.
        batch: usize,
        attempts: u32,
        #[source]
        source: LogSinkError,
    },
}

/// Receives each EMF record as soon as the batch of its event is stored.
pub type MetricOutput<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// forward, built once per process.
pub struct Forwarder<'a> {
    config: &'a Config,
    store: &'a dyn ObjectStore,
    sink: &'a dyn LogSink,
    retry: RetryPolicy,
    metric_output: Option<MetricOutput<'a>>,
}

/// What a run knows of the progress marker.
struct ProgressMarker {
    key: String,
    progress: Progress,
    /// The version last read or written by this run; `None` while there is none.
    version: Option<ETag>,
    /// Whether this run has written the marker.
    written: bool,
}

impl Service for Forwarder<'_> {
    /// An object S3 reports created; anything but a log file of a configured trail is ignored
    /// with the reason in the report.
    type Input = ObjectCreated;
    type Report = ForwardReport;
    type Error = ForwardError;

    async fn handle(
        &self,
        object: &ObjectCreated,
        now: OffsetDateTime,
    ) -> Result<ForwardReport, ForwardError> {
        self.forward(&object.bucket, &object.key, now).await
    }
}

impl<'a> Forwarder<'a> {
    pub fn new(config: &'a Config, store: &'a dyn ObjectStore, sink: &'a dyn LogSink) -> Self {
        Self {
            config,
            store,
            sink,
            retry: RetryPolicy::default(),
            metric_output: None,
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Hands each EMF record to `output` as soon as its event is stored (the Lambda function
    /// prints them), besides returning them in the report.
    pub fn with_metric_output(mut self, output: MetricOutput<'a>) -> Self {
        self.metric_output = Some(output);
        self
    }

    /// Forwards the log file `bucket`/`key` (the key as stored, not URL-encoded), judging the
    /// age of events against `now`. Safe to repeat: see the module documentation.
    async fn forward(
        &self,
        bucket: &str,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<ForwardReport, ForwardError> {
        let mut report = ForwardReport::new(bucket, key);
        let candidates = match delivered::candidates(self.config, bucket, key) {
            Ok(candidates) => candidates,
            Err(why) => return Ok(ignored(report, why.to_string())),
        };
        // When no trail that can have written the file sends to a log group, its metadata
        // names the trail and the file itself is not read.
        if candidates.iter().all(|trail| group_of(trail).is_none()) {
            let info = self.store.head(bucket, key).await?;
            return Ok(
                match delivered::identify(self.config, bucket, key, &info.metadata) {
                    Ok(file) => no_log_group(report, file.trail),
                    Err(why) => ignored(report, why.to_string()),
                },
            );
        }

        let object = self.store.get(bucket, key).await?;
        let file = match delivered::identify(self.config, bucket, key, &object.info.metadata) {
            Ok(file) => file,
            Err(why) => return Ok(ignored(report, why.to_string())),
        };
        let Some(group) = group_of(file.trail) else {
            return Ok(no_log_group(report, file.trail));
        };
        let sha256 = hex::encode(Sha256::digest(&object.body));
        let unreadable = |why: String| ForwardError::Unreadable {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            why,
        };
        let text = gzip::read_one_member_text(&object.body, MAX_UNCOMPRESSED_BYTES)
            .map_err(|e| unreadable(e.to_string()))?;
        let records = split_batch(&text).map_err(|e| unreadable(e.to_string()))?;
        let entries = batch::sorted(records);
        report.records = entries.len();
        let stream = file.log_stream();
        report.trail = Some(file.trail.name().to_owned());
        report.log_group = Some(group.to_owned());
        report.log_stream = Some(stream.clone());

        let writer = random_id();
        let marker_key = layout::forward_progress_key(bucket, key);
        let state = self.config.state_bucket.as_str();
        let mut marker = match progress::read(self.store, state, &marker_key).await? {
            Some((progress, version))
                if progress.sha256 == sha256 && progress.records == entries.len() =>
            {
                if progress.is_finished() {
                    report.outcome = Outcome::AlreadyForwarded;
                    report.resumed_at = progress.done;
                    tracing::info!(
                        bucket,
                        key,
                        batches = progress.batches,
                        "this log file was forwarded already; nothing to do"
                    );
                    return Ok(report);
                }
                ProgressMarker {
                    key: marker_key,
                    progress: Progress { writer, ..progress },
                    version: Some(version),
                    written: false,
                }
            }
            Some((other, version)) => {
                tracing::warn!(
                    bucket,
                    key,
                    marker_sha256 = %other.sha256,
                    sha256 = %sha256,
                    "the progress marker is for other bytes under this key; forwarding the file from the start"
                );
                ProgressMarker {
                    key: marker_key,
                    progress: Progress::start(sha256, entries.len(), &writer),
                    version: Some(version),
                    written: false,
                }
            }
            None => ProgressMarker {
                key: marker_key,
                progress: Progress::start(sha256, entries.len(), &writer),
                version: None,
                written: false,
            },
        };
        report.resumed_at = marker.progress.done;

        let filters = GroupFilters::for_group(self.config, group);
        let matches: Vec<Vec<FilterMatch<'_>>> = if filters.is_empty() {
            vec![Vec::new(); entries.len()]
        } else {
            entries
                .iter()
                .map(|entry| filters.evaluate(entry.message()))
                .collect()
        };
        report.matches = matches.iter().map(Vec::len).sum();
        if report.matches > 0 && !marker.progress.alert_written {
            let alert = Alert {
                version: ALERT_VERSION,
                log_file: LogFileRef {
                    s3_bucket: bucket.to_owned(),
                    s3_object_key: key.to_owned(),
                },
                trail: file.trail.name().to_owned(),
                trail_arn: file.trail.arn().to_owned(),
                log_group: group.to_owned(),
                log_stream: stream.clone(),
                matches: entries
                    .iter()
                    .zip(&matches)
                    .flat_map(|(entry, found)| {
                        found.iter().map(|m| m.to_alert_match(group, entry.raw))
                    })
                    .collect(),
            };
            let alert_key = layout::alert_key(bucket, key);
            self.store
                .put(
                    state,
                    &alert_key,
                    alert.to_bytes(),
                    &PutOptions::new("application/json"),
                )
                .await?;
            tracing::info!(bucket, key, alert = %alert_key, matches = report.matches, "metric filters matched; alert written");
            report.alert = Some(alert_key);
            marker.progress.alert_written = true;
            if !self.save(&mut marker).await? {
                return Ok(superseded(report));
            }
        }

        let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        for step in batch::steps(&entries, marker.progress.done, now_ms) {
            if !step.send.is_empty() {
                let events: Vec<LogEvent> = step
                    .send
                    .iter()
                    .map(|&position| LogEvent {
                        timestamp_ms: entries[position].timestamp_ms.unwrap_or_default(),
                        message: entries[position].message().to_owned(),
                    })
                    .collect();
                let batch_number = marker.progress.batches;
                let rejected = self
                    .put(group, &stream, &events, (bucket, key, batch_number))
                    .await?;
                report.batches += 1;
                let refusals = batch::sink_refusals(&rejected, events.len());
                for (&position, refusal) in step.send.iter().zip(refusals) {
                    match refusal {
                        Some(reason) => refuse(&mut report, &entries[position], reason, group),
                        None => {
                            report.forwarded += 1;
                            self.publish(&mut report, &entries[position], &matches[position]);
                        }
                    }
                }
            }
            for &(position, reason) in &step.refused {
                refuse(&mut report, &entries[position], reason, group);
            }
            marker.progress.done = step.end;
            marker.progress.batches += 1;
            if !self.save(&mut marker).await? {
                return Ok(superseded(report));
            }
        }
        // A file without records: record it as finished all the same.
        if !marker.written && !self.save(&mut marker).await? {
            return Ok(superseded(report));
        }

        report.outcome = Outcome::Forwarded;
        tracing::info!(
            bucket,
            key,
            log_group = group,
            log_stream = %stream,
            records = report.records,
            resumed_at = report.resumed_at,
            forwarded = report.forwarded,
            refused = report.refused_total(),
            batches = report.batches,
            matches = report.matches,
            "log file forwarded"
        );
        Ok(report)
    }

    /// One PutLogEvents batch, repeated while the sink says a repeat may succeed.
    async fn put(
        &self,
        group: &str,
        stream: &str,
        events: &[LogEvent],
        (bucket, key, batch): (&str, &str, usize),
    ) -> Result<RejectedEvents, ForwardError> {
        let put = || self.sink.put_events(group, stream, events);
        retry::retry(&self.retry, put, LogSinkError::is_retryable)
            .instrument(tracing::info_span!("put", bucket, key, batch))
            .await
            .map(|(rejected, _)| rejected)
            .map_err(|Exhausted { attempts, error }| ForwardError::Sink {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                batch,
                attempts,
                source: error,
            })
    }

    /// Writes the marker; `false` when another run's write came first.
    async fn save(&self, marker: &mut ProgressMarker) -> Result<bool, ForwardError> {
        let written = progress::write(
            self.store,
            &self.config.state_bucket,
            &marker.key,
            &marker.progress,
            marker.version.as_ref(),
        )
        .await?;
        match written {
            Some(version) => {
                marker.version = Some(version);
                marker.written = true;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The EMF records of a stored event's matches.
    fn publish(&self, report: &mut ForwardReport, entry: &Entry<'_>, found: &[FilterMatch<'_>]) {
        report.matches_stored += found.len();
        for m in found {
            let Some(datum) = &m.datum else { continue };
            match metrics::emf_record(m.filter, datum, entry.timestamp_ms.unwrap_or_default()) {
                Ok(line) => {
                    if let Some(output) = self.metric_output {
                        output(&line);
                    }
                    report.metrics.push(line);
                }
                Err(error) => tracing::warn!(
                    event_id = entry.event_id(),
                    filter = %m.filter.filter_name,
                    %error,
                    "no EMF record for this data point"
                ),
            }
        }
    }
}

fn refuse(report: &mut ForwardReport, entry: &Entry<'_>, reason: RejectReason, group: &str) {
    tracing::warn!(
        event_id = entry.event_id(),
        timestamp_ms = entry.timestamp_ms,
        reason = reason.as_str(),
        log_group = group,
        "record not forwarded to CloudWatch Logs: {}",
        reason.describe()
    );
    *report.refused.entry(reason).or_default() += 1;
    report.refused_events.push(RefusedEvent {
        event_id: entry.event_id().to_owned(),
        timestamp_ms: entry.timestamp_ms,
        reason,
    });
}

fn ignored(mut report: ForwardReport, why: String) -> ForwardReport {
    tracing::info!(bucket = %report.bucket, key = %report.key, reason = %why, "ignored: not a log file forward handles");
    report.outcome = Outcome::Ignored;
    report.ignored_because = Some(why);
    report
}

fn no_log_group(mut report: ForwardReport, trail: &Trail) -> ForwardReport {
    tracing::info!(
        bucket = %report.bucket,
        key = %report.key,
        trail = trail.name(),
        "the trail has no CloudWatchLogsLogGroupArn; nothing to forward"
    );
    report.outcome = Outcome::NoLogGroup;
    report.trail = Some(trail.name().to_owned());
    report
}

fn superseded(mut report: ForwardReport) -> ForwardReport {
    tracing::info!(
        bucket = %report.bucket,
        key = %report.key,
        "another forward run recorded progress on this log file first; leaving the file to it"
    );
    report.outcome = Outcome::Superseded;
    report
}

fn group_of(trail: &Trail) -> Option<&str> {
    trail.cloud_watch_logs_log_group_name()
}
