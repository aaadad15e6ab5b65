//! Log sink port: puts batches of events to a CloudWatch Logs group and stream.
//!
//! The forward function sends every event of a delivered log file to the trail's log group. It
//! cuts batches itself, within the PutLogEvents limits below; adapters check them again and
//! refuse a batch that breaks one ([`LogSinkError::BatchLimit`]) instead of sending it, so a
//! batching bug surfaces as a clear error rather than a half-accepted request.

use async_trait::async_trait;
use thiserror::Error;

/// At most this many events in one batch.
pub const MAX_BATCH_EVENTS: usize = 10_000;

/// At most this many bytes in one batch: the UTF-8 length of every message plus
/// [`EVENT_OVERHEAD_BYTES`] per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;

/// What CloudWatch Logs counts for each event on top of its message bytes.
pub const EVENT_OVERHEAD_BYTES: usize = 26;

/// The newest and the oldest event of a batch may be at most this far apart (24 hours), in
/// milliseconds. Events must also be in chronological (non-decreasing timestamp) order.
pub const MAX_BATCH_SPAN_MS: i64 = 24 * 60 * 60 * 1000;

/// Longest log group or log stream name.
pub const MAX_NAME_CHARS: usize = 512;

/// One log event: milliseconds since the Unix epoch, and a non-empty message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub message: String,
}

/// Puts batches of log events to log groups and streams.
///
/// Repeating a put is safe in that nothing breaks, but it is not idempotent: a batch that was
/// stored before an ambiguous failure (a timeout) is stored again, since CloudWatch Logs no
/// longer deduplicates with sequence tokens. Delivery is at least once.
#[async_trait]
pub trait LogSink: Send + Sync {
    /// Puts `events` (one batch within the limits above, oldest first) to `stream` in `group`,
    /// creating the group and the stream when they do not exist yet. An empty batch does nothing.
    ///
    /// Returns the events CloudWatch Logs left out although the request succeeded (too old,
    /// too far in the future, or past the group's retention); [`RejectedEvents::none`] when all
    /// were stored.
    async fn put_events(
        &self,
        group: &str,
        stream: &str,
        events: &[LogEvent],
    ) -> Result<RejectedEvents, LogSinkError>;
}

/// Events CloudWatch Logs accepted in the request but did not store, by index into the batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RejectedEvents {
    /// Events from this index on were more than 2 hours in the future.
    pub too_new_start_index: Option<usize>,
    /// Events up to this index were older than CloudWatch Logs accepts (14 days).
    pub too_old_end_index: Option<usize>,
    /// Events up to this index were older than the group's retention period.
    pub expired_end_index: Option<usize>,
}

impl RejectedEvents {
    /// Every event was stored.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether every event was stored.
    pub fn is_none(&self) -> bool {
        *self == Self::none()
    }
}

/// Which PutLogEvents limit a batch breaks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BatchViolation {
    #[error("{count} events, more than {max} per batch", max = MAX_BATCH_EVENTS)]
    TooManyEvents { count: usize },
    #[error(
        "{bytes} bytes (messages plus {overhead} per event), more than {max} per batch",
        overhead = EVENT_OVERHEAD_BYTES,
        max = MAX_BATCH_BYTES
    )]
    TooManyBytes { bytes: usize },
    #[error(
        "event {index} is older than the event before it; batches must be in chronological order"
    )]
    OutOfOrder { index: usize },
    #[error("events span {span_ms} ms, more than 24 hours")]
    SpanTooLong { span_ms: i64 },
    #[error("event {index} has an empty message")]
    EmptyMessage { index: usize },
}

/// Why a put failed. Every variant names the group and stream.
#[derive(Debug, Error)]
pub enum LogSinkError {
    /// The group or stream name is not one CloudWatch Logs (or the local store) accepts.
    #[error("invalid log group {group:?} or stream {stream:?}: {reason}")]
    InvalidName {
        group: String,
        stream: String,
        reason: &'static str,
    },
    /// The batch breaks a PutLogEvents limit; nothing was sent.
    #[error("batch for log group {group}, stream {stream} refused before sending: {violation}")]
    BatchLimit {
        group: String,
        stream: String,
        violation: BatchViolation,
    },
    /// Throttling or a transient service or network failure: repeat the put later.
    #[error(
        "{operation} on log group {group}, stream {stream} was throttled or hit a transient failure; retry later: {detail}"
    )]
    Retryable {
        group: String,
        stream: String,
        operation: &'static str,
        detail: String,
    },
    /// A failure that repeating the same put will not fix (access denied, invalid request).
    #[error("{operation} on log group {group}, stream {stream} failed: {detail}")]
    Failed {
        group: String,
        stream: String,
        operation: &'static str,
        detail: String,
    },
}

impl LogSinkError {
    /// Whether repeating the same put later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }
}

/// Checks a batch against the PutLogEvents limits.
pub fn check_batch(events: &[LogEvent]) -> Result<(), BatchViolation> {
    if events.len() > MAX_BATCH_EVENTS {
        return Err(BatchViolation::TooManyEvents {
            count: events.len(),
        });
    }
    let bytes: usize = events
        .iter()
        .map(|event| event.message.len() + EVENT_OVERHEAD_BYTES)
        .sum();
    if bytes > MAX_BATCH_BYTES {
        return Err(BatchViolation::TooManyBytes { bytes });
    }
    if let Some(index) = events.iter().position(|event| event.message.is_empty()) {
        return Err(BatchViolation::EmptyMessage { index });
    }
    if let Some(index) = events
        .windows(2)
        .position(|pair| pair[1].timestamp_ms < pair[0].timestamp_ms)
    {
        return Err(BatchViolation::OutOfOrder { index: index + 1 });
    }
    if let (Some(first), Some(last)) = (events.first(), events.last()) {
        let span_ms = last
            .timestamp_ms
            .checked_sub(first.timestamp_ms)
            .unwrap_or(i64::MAX);
        if span_ms > MAX_BATCH_SPAN_MS {
            return Err(BatchViolation::SpanTooLong { span_ms });
        }
    }
    Ok(())
}

/// Checks names against CloudWatch Logs' rules: a group is 1–512 of `A–Z a–z 0–9 _ - / . #`; a
/// stream is 1–512 characters without `:` or `*`.
pub fn check_names(group: &str, stream: &str) -> Result<(), &'static str> {
    let group_char = |c: char| c.is_ascii_alphanumeric() || "_-/.#".contains(c);
    if group.is_empty() || group.chars().count() > MAX_NAME_CHARS {
        return Err("a log group name has 1 to 512 characters");
    }
    if !group.chars().all(group_char) {
        return Err("a log group name has only letters, digits and _ - / . #");
    }
    if stream.is_empty() || stream.chars().count() > MAX_NAME_CHARS {
        return Err("a log stream name has 1 to 512 characters");
    }
    if stream.contains([':', '*']) {
        return Err("a log stream name has no ':' or '*'");
    }
    Ok(())
}

/// Both checks, as the adapters run them before touching anything.
pub fn check_put(group: &str, stream: &str, events: &[LogEvent]) -> Result<(), LogSinkError> {
    check_names(group, stream).map_err(|reason| LogSinkError::InvalidName {
        group: group.to_owned(),
        stream: stream.to_owned(),
        reason,
    })?;
    check_batch(events).map_err(|violation| LogSinkError::BatchLimit {
        group: group.to_owned(),
        stream: stream.to_owned(),
        violation,
    })
}

/// An event, for the tests of this port and its adapters.
#[cfg(test)]
pub(crate) fn event(timestamp_ms: i64, message: &str) -> LogEvent {
    LogEvent {
        timestamp_ms,
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_at_the_limits_pass() {
        assert_eq!(check_batch(&[]), Ok(()));
        let full_count = vec![event(1, "x"); MAX_BATCH_EVENTS];
        assert_eq!(check_batch(&full_count), Ok(()));
        let full_bytes = vec![event(
            1,
            &"y".repeat(MAX_BATCH_BYTES - EVENT_OVERHEAD_BYTES),
        )];
        assert_eq!(check_batch(&full_bytes), Ok(()));
        let full_day = [
            event(0, "a"),
            event(5, "b"),
            event(5, "c"),
            event(MAX_BATCH_SPAN_MS, "d"),
        ];
        assert_eq!(check_batch(&full_day), Ok(()));
    }

    #[test]
    fn each_limit_has_its_own_violation() {
        assert_eq!(
            check_batch(&vec![event(1, "x"); MAX_BATCH_EVENTS + 1]),
            Err(BatchViolation::TooManyEvents { count: 10_001 })
        );
        // Bytes are UTF-8 bytes: "é" is two.
        let message = "é".repeat((MAX_BATCH_BYTES - 2 * EVENT_OVERHEAD_BYTES) / 4);
        let two = [event(1, &message), event(2, &message)];
        assert_eq!(check_batch(&two), Ok(()));
        let three = [event(1, &message), event(2, &message), event(3, "z")];
        assert_eq!(
            check_batch(&three),
            Err(BatchViolation::TooManyBytes {
                bytes: MAX_BATCH_BYTES + 1 + EVENT_OVERHEAD_BYTES
            })
        );
        assert_eq!(
            check_batch(&[event(2, "a"), event(3, "b"), event(1, "c")]),
            Err(BatchViolation::OutOfOrder { index: 2 })
        );
        assert_eq!(
            check_batch(&[event(0, "a"), event(MAX_BATCH_SPAN_MS + 1, "b")]),
            Err(BatchViolation::SpanTooLong {
                span_ms: MAX_BATCH_SPAN_MS + 1
            })
        );
        assert_eq!(
            check_batch(&[event(i64::MIN, "a"), event(i64::MAX, "b")]),
            Err(BatchViolation::SpanTooLong { span_ms: i64::MAX })
        );
        assert_eq!(
            check_batch(&[event(1, "a"), event(2, "")]),
            Err(BatchViolation::EmptyMessage { index: 1 })
        );
    }

    #[test]
    fn names_follow_cloudwatch_logs_rules() {
        assert_eq!(
            check_names("/aws/cloudtrail/org#1", "123456789012_CloudTrail_us-east-1"),
            Ok(())
        );
        assert_eq!(check_names("g", "2024/01/01/[$LATEST]abc"), Ok(()));
        assert!(check_names("", "s").is_err());
        assert!(check_names("with space", "s").is_err());
        assert!(check_names(&"g".repeat(513), "s").is_err());
        assert!(check_names("g", "").is_err());
        assert!(check_names("g", "a:b").is_err());
        assert!(check_names("g", "a*").is_err());

        let err = check_put("g", "s", &[event(2, "a"), event(1, "b")]).expect_err("order");
        assert_eq!(
            err.to_string(),
            "batch for log group g, stream s refused before sending: event 1 is older than the \
             event before it; batches must be in chronological order"
        );
        assert!(!err.is_retryable());
    }
}
