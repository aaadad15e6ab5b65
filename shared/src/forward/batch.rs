//! A log file's records as log events, and how they are cut into PutLogEvents batches.
//!
//! The records are sorted by eventTime (stably: records of the same millisecond keep their order
//! in the file), and that sorted order is the one everything else counts positions in: batches
//! are consecutive runs of it, and the progress marker records how far along it a file is. The
//! sort and the cut depend only on the file's bytes and `now`, and a resumed run starts cutting
//! at the recorded position, so a re-delivery never shifts work between batches already done and
//! batches still to do.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ports::log_sink::{
    EVENT_OVERHEAD_BYTES, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_BATCH_SPAN_MS, RejectedEvents,
};
use crate::record::EventTime;

/// CloudWatch Logs' limit on one event: 256 KiB, counting the same 26 bytes of overhead as the
/// batch limit ("Log event too large: N bytes exceeds limit of 262144"), so a message may have
/// at most [`MAX_MESSAGE_BYTES`] UTF-8 bytes.
pub(super) const MAX_EVENT_BYTES: usize = 256 * 1024;

/// The longest message CloudWatch Logs takes: 262,118 bytes.
pub(super) const MAX_MESSAGE_BYTES: usize = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES;

/// Events more than 14 days before `now` are refused by PutLogEvents.
pub(super) const MAX_AGE_MS: i64 = 14 * 24 * 60 * 60 * 1000;

/// Events more than 2 hours after `now` are refused by PutLogEvents.
pub(super) const MAX_AHEAD_MS: i64 = 2 * 60 * 60 * 1000;

/// Why a record did not reach CloudWatch Logs. Each is counted in the report and logged with
/// the record's eventID; none is dropped silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RejectReason {
    /// The record has no eventTime in CloudTrail's form, so it has no timestamp to go with.
    NoEventTime,
    /// The record plus 26 bytes is over CloudWatch Logs' 256 KiB event limit.
    TooLarge,
    /// More than 14 days before `now` (seen before sending, or reported by CloudWatch Logs).
    TooOld,
    /// More than 2 hours after `now` (seen before sending, or reported by CloudWatch Logs).
    TooNew,
    /// Older than the log group's retention period (reported by CloudWatch Logs).
    Expired,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoEventTime => "noEventTime",
            Self::TooLarge => "tooLarge",
            Self::TooOld => "tooOld",
            Self::TooNew => "tooNew",
            Self::Expired => "expired",
        }
    }

    /// What the reason means, for logs.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NoEventTime => "the record has no eventTime of the form YYYY-MM-DDTHH:MM:SSZ",
            Self::TooLarge => "the record is over CloudWatch Logs' 256 KB event limit",
            Self::TooOld => "the event is more than 14 days old",
            Self::TooNew => "the event is more than 2 hours in the future",
            Self::Expired => "the event is older than the log group's retention period",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One record of a log file: its exact JSON (the log event's message) and what batching needs.
#[derive(Debug, Clone)]
pub(super) struct Entry<'a> {
    pub raw: &'a RawValue,
    /// eventTime in milliseconds since the epoch; `None` when it cannot be read.
    pub timestamp_ms: Option<i64>,
    pub event_id: Option<Cow<'a, str>>,
}

impl<'a> Entry<'a> {
    /// Reads eventTime and eventID, leaving the rest of the record alone.
    pub(super) fn read(raw: &'a RawValue) -> Self {
        #[derive(Deserialize)]
        struct Fields<'a> {
            #[serde(rename = "eventTime", borrow, default)]
            event_time: Option<Cow<'a, str>>,
            #[serde(rename = "eventID", borrow, default)]
            event_id: Option<Cow<'a, str>>,
        }
        match serde_json::from_str::<Fields<'a>>(raw.get()) {
            Ok(fields) => Entry {
                raw,
                timestamp_ms: fields
                    .event_time
                    .and_then(|time| EventTime::parse(&time).ok())
                    .map(|time| time.unix_seconds().saturating_mul(1000)),
                event_id: fields.event_id,
            },
            Err(_) => Entry {
                raw,
                timestamp_ms: None,
                event_id: None,
            },
        }
    }

    pub(super) fn message(&self) -> &'a str {
        self.raw.get()
    }

    /// The eventID for logs and reports (`-` when the record has none).
    pub(super) fn event_id(&self) -> &str {
        self.event_id.as_deref().unwrap_or("-")
    }
}

/// The records in the order they go out: by eventTime, records of the same time in file order
/// (records without one first, as they are refused anyway).
pub(super) fn sorted(records: Vec<&RawValue>) -> Vec<Entry<'_>> {
    let mut entries: Vec<Entry<'_>> = records.into_iter().map(Entry::read).collect();
    entries.sort_by_key(|entry| entry.timestamp_ms);
    entries
}

/// Why `entry` cannot go to CloudWatch Logs at `now_ms`, if it cannot.
pub(super) fn refusal(entry: &Entry<'_>, now_ms: i64) -> Option<RejectReason> {
    let Some(timestamp) = entry.timestamp_ms else {
        return Some(RejectReason::NoEventTime);
    };
    if entry.message().len() > MAX_MESSAGE_BYTES {
        Some(RejectReason::TooLarge)
    } else if timestamp < now_ms.saturating_sub(MAX_AGE_MS) {
        Some(RejectReason::TooOld)
    } else if timestamp > now_ms.saturating_add(MAX_AHEAD_MS) {
        Some(RejectReason::TooNew)
    } else {
        None
    }
}

/// A run of consecutive sorted positions `start..end`: the events to put in one PutLogEvents
/// request, and the positions in the run that cannot go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PutStep {
    pub start: usize,
    pub end: usize,
    /// Positions to put, in order.
    pub send: Vec<usize>,
    /// Positions that cannot go, and why.
    pub refused: Vec<(usize, RejectReason)>,
}

/// Cuts `entries[from..]` into steps whose events each make one valid PutLogEvents batch: at most
/// [`MAX_BATCH_EVENTS`] events, at most [`MAX_BATCH_BYTES`] counting 26 bytes per event, in
/// chronological order and spanning at most 24 hours. Records that cannot go at `now_ms` ride
/// along in the step they fall in, so every position belongs to exactly one step. A step may
/// have nothing to send (every record in it refused).
pub(super) fn steps(entries: &[Entry<'_>], from: usize, now_ms: i64) -> Vec<PutStep> {
    let mut steps = Vec::new();
    let mut current = PutStep {
        start: from,
        end: from,
        send: Vec::new(),
        refused: Vec::new(),
    };
    let mut bytes = 0;
    let mut first_timestamp = 0;
    for (position, entry) in entries.iter().enumerate().skip(from) {
        if let Some(reason) = refusal(entry, now_ms) {
            current.refused.push((position, reason));
            continue;
        }
        let size = entry.message().len() + EVENT_OVERHEAD_BYTES;
        let timestamp = entry.timestamp_ms.unwrap_or_default();
        let fits = current.send.len() < MAX_BATCH_EVENTS
            && bytes + size <= MAX_BATCH_BYTES
            && timestamp - first_timestamp <= MAX_BATCH_SPAN_MS;
        if !current.send.is_empty() && !fits {
            current.end = position;
            let next = PutStep {
                start: position,
                end: position,
                send: Vec::new(),
                refused: Vec::new(),
            };
            steps.push(std::mem::replace(&mut current, next));
            bytes = 0;
        }
        if current.send.is_empty() {
            first_timestamp = timestamp;
        }
        current.send.push(position);
        bytes += size;
    }
    current.end = entries.len();
    if current.end > current.start {
        steps.push(current);
    }
    steps
}

/// For each event of a batch of `len`, whether CloudWatch Logs left it out, from its
/// RejectedLogEventsInfo: events from `too_new_start_index` on (inclusive), before
/// `too_old_end_index` and before `expired_end_index` (both exclusive).
pub(super) fn sink_refusals(rejected: &RejectedEvents, len: usize) -> Vec<Option<RejectReason>> {
    (0..len)
        .map(|i| {
            if rejected.too_new_start_index.is_some_and(|start| i >= start) {
                Some(RejectReason::TooNew)
            } else if rejected.too_old_end_index.is_some_and(|end| i < end) {
                Some(RejectReason::TooOld)
            } else if rejected.expired_end_index.is_some_and(|end| i < end) {
                Some(RejectReason::Expired)
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::log_sink::{LogEvent, check_batch};

    const NOW: i64 = 1_795_000_000_000;

    /// A record at `timestamp_ms` (whole seconds) whose JSON is exactly `len` bytes.
    fn record(timestamp_ms: i64, id: usize, len: usize) -> Box<RawValue> {
        let time = EventTime::from_unix_seconds(timestamp_ms.div_euclid(1000));
        let head = format!(r#"{{"eventTime":"{time}","eventID":"e{id}","pad":""#);
        let tail = r#""}"#;
        assert!(len >= head.len() + tail.len(), "{len} is too short");
        let text = format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()));
        RawValue::from_string(text).expect("json")
    }

    fn entries(records: &[Box<RawValue>]) -> Vec<Entry<'_>> {
        sorted(records.iter().map(|raw| raw.as_ref()).collect())
    }

    /// The steps' batches, checked against the port's own limits on the way.
    fn batches(entries: &[Entry<'_>], now: i64) -> Vec<PutStep> {
        let steps = steps(entries, 0, now);
        let mut next = 0;
        for step in &steps {
            assert_eq!(step.start, next, "steps are consecutive");
            next = step.end;
            let events: Vec<LogEvent> = step
                .send
                .iter()
                .map(|&p| LogEvent {
                    timestamp_ms: entries[p].timestamp_ms.unwrap(),
                    message: entries[p].message().to_owned(),
                })
                .collect();
            assert_eq!(check_batch(&events), Ok(()), "{step:?}");
        }
        assert_eq!(next, entries.len(), "every position is in a step");
        steps
    }

    fn sizes(steps: &[PutStep]) -> Vec<usize> {
        steps.iter().map(|step| step.send.len()).collect()
    }

    #[test]
    fn at_most_10000_events_per_batch() {
        let exactly: Vec<_> = (0..MAX_BATCH_EVENTS).map(|i| record(NOW, i, 78)).collect();
        assert_eq!(sizes(&batches(&entries(&exactly), NOW)), [10_000]);
        let over: Vec<_> = (0..=MAX_BATCH_EVENTS).map(|i| record(NOW, i, 78)).collect();
        assert_eq!(sizes(&batches(&entries(&over), NOW)), [10_000, 1]);
    }

    #[test]
    fn at_most_1048576_bytes_counting_26_per_event() {
        // Five events of 200,000 bytes and one that fills the batch to the byte, overhead
        // included, make one batch.
        let last = MAX_BATCH_BYTES - 5 * (200_000 + EVENT_OVERHEAD_BYTES) - EVENT_OVERHEAD_BYTES;
        let mut full: Vec<_> = (0..5).map(|i| record(NOW, i, 200_000)).collect();
        full.push(record(NOW, 5, last));
        assert_eq!(sizes(&batches(&entries(&full), NOW)), [6]);
        // One byte more in the last one, and it needs a batch of its own.
        let mut over = full.clone();
        over[5] = record(NOW, 5, last + 1);
        assert_eq!(sizes(&batches(&entries(&over), NOW)), [5, 1]);
        // Without the per-event overhead all of these would fit in one.
        let small = 150 - EVENT_OVERHEAD_BYTES;
        let count = MAX_BATCH_BYTES / 150;
        let many: Vec<_> = (0..=count).map(|i| record(NOW, i, small)).collect();
        assert_eq!(sizes(&batches(&entries(&many), NOW)), [count, 1]);
    }

    #[test]
    fn a_batch_spans_at_most_24_hours() {
        let start = NOW - 3 * MAX_BATCH_SPAN_MS;
        let day = [
            record(start, 0, 80),
            record(start + MAX_BATCH_SPAN_MS, 1, 80),
        ];
        assert_eq!(sizes(&batches(&entries(&day), NOW)), [2]);
        // One second past the day (eventTime has whole seconds).
        let longer = [
            record(start, 0, 80),
            record(start + 1000, 1, 80),
            record(start + MAX_BATCH_SPAN_MS + 1000, 2, 80),
        ];
        let steps = batches(&entries(&longer), NOW);
        assert_eq!(sizes(&steps), [2, 1]);
        // The second batch's day starts at its own first event.
        let three_days: Vec<_> = (0..7)
            .map(|i| record(start + i * MAX_BATCH_SPAN_MS / 2, i as usize, 80))
            .collect();
        assert_eq!(sizes(&batches(&entries(&three_days), NOW)), [3, 3, 1]);
    }

    #[test]
    fn events_go_in_eventtime_order_and_ties_keep_file_order() {
        let records = [
            record(NOW - 3000, 0, 80),
            record(NOW - 1000, 1, 80),
            record(NOW - 3000, 2, 80),
            record(NOW - 2000, 3, 80),
            record(NOW - 1000, 4, 80),
        ];
        let entries = entries(&records);
        let ids: Vec<&str> = entries.iter().map(Entry::event_id).collect();
        assert_eq!(ids, ["e0", "e2", "e3", "e1", "e4"]);
        assert_eq!(sizes(&batches(&entries, NOW)), [5]);
    }

    #[test]
    fn records_that_cannot_go_are_counted_at_the_exact_limits() {
        let records = [
            // 14 days old exactly goes; a second more does not.
            record(NOW - MAX_AGE_MS - 1000, 0, 80),
            record(NOW - MAX_AGE_MS, 1, 80),
            // 262,118 bytes goes; one more does not.
            record(NOW, 2, MAX_MESSAGE_BYTES),
            record(NOW, 3, MAX_MESSAGE_BYTES + 1),
            // 2 hours ahead exactly goes; a second more does not.
            record(NOW + MAX_AHEAD_MS, 4, 80),
            record(NOW + MAX_AHEAD_MS + 1000, 5, 80),
        ];
        let entries = entries(&records);
        let steps = batches(&entries, NOW);
        let refused: Vec<(&str, RejectReason)> = steps
            .iter()
            .flat_map(|step| step.refused.iter())
            .map(|&(p, reason)| (entries[p].event_id(), reason))
            .collect();
        assert_eq!(
            refused,
            [
                ("e0", RejectReason::TooOld),
                ("e3", RejectReason::TooLarge),
                ("e5", RejectReason::TooNew)
            ]
        );
        let sent: Vec<&str> = steps
            .iter()
            .flat_map(|step| step.send.iter())
            .map(|&p| entries[p].event_id())
            .collect();
        assert_eq!(sent, ["e1", "e2", "e4"]);
    }

    #[test]
    fn a_record_without_an_eventtime_is_refused_not_dropped() {
        let records = [
            RawValue::from_string(r#"{"eventID":"no-time"}"#.to_owned()).unwrap(),
            RawValue::from_string(r#"{"eventTime":"yesterday","eventID":"bad"}"#.to_owned())
                .unwrap(),
            RawValue::from_string("[1,2]".to_owned()).unwrap(),
            record(NOW, 9, 80),
        ];
        let entries = entries(&records);
        let steps = batches(&entries, NOW);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].send.len(), 1);
        assert_eq!(
            steps[0].refused,
            [
                (0, RejectReason::NoEventTime),
                (1, RejectReason::NoEventTime),
                (2, RejectReason::NoEventTime)
            ]
        );
    }

    #[test]
    fn a_file_of_refused_records_is_one_step_with_nothing_to_send() {
        let records = [record(NOW - 2 * MAX_AGE_MS, 0, 80)];
        let steps = batches(&entries(&records), NOW);
        assert_eq!(
            steps,
            [PutStep {
                start: 0,
                end: 1,
                send: vec![],
                refused: vec![(0, RejectReason::TooOld)]
            }]
        );
        assert!(super::steps(&[], 0, NOW).is_empty());
    }

    #[test]
    fn cutting_resumes_at_a_position_with_the_same_boundaries() {
        let records: Vec<_> = (0..25)
            .map(|i| {
                record(
                    NOW - 11 * 24 * 3_600_000 + i * 10 * 3_600_000,
                    i as usize,
                    80,
                )
            })
            .collect();
        let entries = entries(&records);
        let all = steps(&entries, 0, NOW);
        assert_eq!(sizes(&all), [3, 3, 3, 3, 3, 3, 3, 3, 1]);
        let resumed = steps(&entries, all[4].start, NOW);
        assert_eq!(resumed, all[4..]);
    }

    #[test]
    fn cloudwatch_logs_rejections_map_to_reasons() {
        let none = sink_refusals(&RejectedEvents::none(), 3);
        assert_eq!(none, [None, None, None]);
        let rejected = RejectedEvents {
            too_old_end_index: Some(1),
            expired_end_index: Some(2),
            too_new_start_index: Some(4),
        };
        assert_eq!(
            sink_refusals(&rejected, 5),
            [
                Some(RejectReason::TooOld),
                Some(RejectReason::Expired),
                None,
                None,
                Some(RejectReason::TooNew)
            ]
        );
    }
}
