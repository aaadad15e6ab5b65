//! deliver's invocations: a schedule tick, and the invocation's deadline, into the run's clock
//! and claim window, and the tick's `detail.shard` into the shard the run works (template.yaml's
//! schedule sends one tick per shard; a tick without one works shard 0); the run's report is the
//! answer, and its metrics (per trail: events and Insights events delivered, delivery lag) are
//! printed as EMF lines.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cairn_edge::FunctionError;
use cairn_edge::error::{Classify, ErrorKind};
use cairn_shared::delivery::{Deliverer, DeliveryReport, NoSuchShard};
use cairn_shared::service::Service;
use lambda_runtime::{LambdaEvent, tracing};
use time::error::ComponentRange;
use time::{Duration, OffsetDateTime};

/// Time left at the end of an invocation for the batch in hand: no new batch is claimed later.
const FINISH_MARGIN: Duration = Duration::seconds(60);

/// How long a run claims batches when the invocation carries no usable deadline.
const LOCAL_CLAIM_WINDOW: Duration = Duration::seconds(240);

/// A time in the invocation that no clock can show.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClockError {
    #[error(
        "the invocation's deadline ({deadline_ms} ms after the epoch) is out of range: {source}"
    )]
    Deadline {
        deadline_ms: u64,
        #[source]
        source: ComponentRange,
    },
    #[error("the schedule's time {time} is out of range: {source}")]
    Scheduled {
        time: String,
        #[source]
        source: ComponentRange,
    },
}

impl Classify for ClockError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadEvent
    }
}

/// A tick whose `detail.shard` is not a shard number.
#[derive(Debug, thiserror::Error)]
#[error("the schedule's detail.shard is {found}, not a shard number (0, 1, …)")]
pub(crate) struct ShardUnreadable {
    found: String,
}

impl Classify for ShardUnreadable {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadEvent
    }
}

/// Answers one invocation; `real_now` is this machine's clock.
pub(crate) async fn handle(
    deliverers: &[Deliverer<'_>],
    event: LambdaEvent<EventBridgeEvent>,
    real_now: OffsetDateTime,
) -> Result<DeliveryReport, FunctionError> {
    let index = shard(&event.payload)?;
    let deliverer = deliverers.get(usize::from(index)).ok_or(NoSuchShard {
        index,
        count: u16::try_from(deliverers.len()).expect("at most a few shards"),
    })?;
    let now = run_clock(scheduled_time(&event.payload)?, real_now);
    let claim_for = claim_window(deadline(event.context.deadline)?, real_now);
    let report = deliverer.handle(&claim_for, now).await?;
    for line in report.metric_lines(now) {
        cairn_edge::print_metric(&line);
    }
    tracing::info!(
        shard = index,
        events = report.events,
        log_files = report.log_files.len(),
        duplicates = report.duplicates,
        "delivered"
    );
    Ok(report)
}

/// The run's clock: the schedule's time when it is ahead of this machine's (a replay of later
/// hours in a test); a late retry of an old tick, or an event without a time, uses the real
/// clock.
fn run_clock(scheduled: Option<OffsetDateTime>, real_now: OffsetDateTime) -> OffsetDateTime {
    scheduled.map_or(real_now, |scheduled| scheduled.max(real_now))
}

/// How long the run may claim new batches: until `FINISH_MARGIN` before the deadline (none
/// when the deadline is nearer). `cargo lambda watch` sends a fixed duration, not an epoch
/// deadline, so a deadline not in the future gets `LOCAL_CLAIM_WINDOW`.
fn claim_window(deadline: OffsetDateTime, real_now: OffsetDateTime) -> Duration {
    if deadline > real_now {
        (deadline - real_now - FINISH_MARGIN).max(Duration::ZERO)
    } else {
        LOCAL_CLAIM_WINDOW
    }
}

/// The invocation's deadline, in milliseconds since the epoch as Lambda gives it.
fn deadline(deadline_ms: u64) -> Result<OffsetDateTime, ClockError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(deadline_ms) * 1_000_000).map_err(
        |source| ClockError::Deadline {
            deadline_ms,
            source,
        },
    )
}

/// The shard a tick names in `detail.shard`; 0 when it names none (a schedule's own tick has
/// `detail: {}`).
fn shard(event: &EventBridgeEvent) -> Result<u16, ShardUnreadable> {
    match event.detail.get("shard") {
        None => Ok(0),
        Some(value) => value
            .as_u64()
            .and_then(|index| u16::try_from(index).ok())
            .ok_or_else(|| ShardUnreadable {
                found: value.to_string(),
            }),
    }
}

/// The schedule's `time`, to the second, when the event has one.
fn scheduled_time(event: &EventBridgeEvent) -> Result<Option<OffsetDateTime>, ClockError> {
    event
        .time
        .map(|time| {
            OffsetDateTime::from_unix_timestamp(time.timestamp()).map_err(|source| {
                ClockError::Scheduled {
                    time: time.to_rfc3339(),
                    source,
                }
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests;
