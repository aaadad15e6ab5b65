//! CloudTrail Insights: unusual rates of API calls (ApiCallRateInsight: write management calls,
//! read or write data calls) and of calls returning an error (ApiErrorRateInsight), found by
//! counting calls per minute of eventTime, per account, Region, eventSource and eventName.
//!
//! Management events are counted once per account and Region, as the event history keeps them,
//! whichever trails log them. Data events are chosen per trail (each trail's data event
//! selectors take different events), so a trail whose InsightSelectors watch `Data` has its
//! own counters per account and Region ([`Place`]), and its Insights events go to its own
//! files only, never to the event history: AWS lists them per trail (ListInsightsData), not
//! with LookupEvents.
//!
//! The User Guide ("Working with CloudTrail Insights") defines the two types and that Insights
//! events go to the trail bucket's `CloudTrail-Insight` folder; "CloudTrail record contents for
//! Insights events for trails" defines the record ([`record`]). The baseline is the average per
//! minute over the 7 days before the anomaly, as AWS reports it. The detection rule is
//! Cairn's own (AWS publishes none), written down in the README ("Insights") with its
//! parameters, the constants of [`counters`].
//!
//! deliver counts each batch's calls once: [`observe`] keeps, in the counters document, the
//! batches it counted with the records they produced, so a batch redone after a crash, or by
//! a second run, gets the same records back and counts nothing twice.

mod counters;
mod record;

use serde::{Deserialize, Serialize};

use crate::alert::InsightStart;
use crate::clock::EventTime;
use crate::document::{self, DocumentError, Style};
use crate::layout;
use crate::ports::object_store::ObjectStore;

pub use counters::{
    BASELINE_MINUTES, END_DEVIATIONS, MINUTE_HORIZON, SETTLE_MINUTES, START_DEVIATIONS,
    START_FACTOR, START_MIN_CALLS, WINDOW_MINUTES,
};
pub use record::InsightKind;

use counters::Counters;

/// A call as Insights counts it: the facts ingest read from the record, borrowed from the
/// staging object deliver read (counting copies none of them).
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub time: EventTime,
    pub source: &'a str,
    pub name: &'a str,
    /// ApiCallRateInsight counts it: a write management call, or any data call.
    pub rated: bool,
    /// Its errorCode: ApiErrorRateInsight counts it.
    pub error: Option<&'a str>,
    pub arn: Option<&'a str>,
    pub agent: Option<&'a str>,
}

/// Whose calls a counters document counts: an account and Region's management events, or
/// the data events one trail logs there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub data_trail: Option<DataTrail<'a>>,
}

/// The trail whose data events are counted: its name keys the counters, its ARN is the
/// records' `insightSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DataTrail<'a> {
    pub name: &'a str,
    pub arn: &'a str,
}

impl Place<'_> {
    fn counters_key(&self) -> String {
        layout::insights_counters_key(
            self.data_trail.map(|trail| trail.name),
            self.account,
            self.region,
        )
    }
}

/// What counting a batch found: the Insights records (compact JSON, eventTime order) and, for
/// each Start among them, the facts its alert explains.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub records: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts: Vec<InsightStart>,
}

/// The last minute a batch delivered at `delivered_at` (unix seconds) judges.
fn last_closed_minute(delivered_at: i64) -> i64 {
    delivered_at.div_euclid(60) - 1 - SETTLE_MINUTES
}

/// Counts one batch's calls of one [`Place`] and judges the minutes that closed, returning
/// what it found. Idempotent per `batch`: a batch counted already gets what it found then.
pub async fn observe(
    store: &dyn ObjectStore,
    state_bucket: &str,
    place: &Place<'_>,
    batch: &str,
    delivered_at: EventTime,
    calls: &[Call<'_>],
) -> Result<Found, DocumentError> {
    let key = place.counters_key();
    let last_closed = last_closed_minute(delivered_at.unix_seconds());
    loop {
        let (mut counters, etag) = document::read::<Counters>(store, state_bucket, &key).await?;
        if let Some(applied) = counters.applied(batch) {
            return Ok(applied.found.clone());
        }
        counters.count(calls, last_closed);
        let found = counters.judge(place, last_closed);
        counters.prune(last_closed, batch, found.clone());
        let swapped = document::swap(
            store,
            state_bucket,
            &key,
            (&counters, Style::Compact),
            etag.as_ref(),
        )
        .await?;
        if swapped.is_some() {
            return Ok(found);
        }
    }
}

/// A question of ListInsightsMetricData: one API's calls (or errors, of one errorCode) per
/// period, as the counters of its [`Place`] hold them.
#[derive(Debug, Clone, Copy)]
pub struct MetricQuery<'a> {
    pub source: &'a str,
    pub name: &'a str,
    pub kind: InsightKind,
    /// ApiErrorRateInsight: only errors with this errorCode.
    pub error_code: Option<&'a str>,
    /// Unix seconds, from `start` (inclusive) to `end` (exclusive).
    pub start: i64,
    pub end: i64,
    /// Seconds per data point: 60, 300 or 3600.
    pub period: i64,
}

/// The non-zero data points of `query`, oldest first: each period's start (unix seconds, a
/// multiple of the period) and its count. What the counters keep bounds what there is: per
/// hour, the baseline window (7 days and an hour); per minute, with each minute's errorCodes,
/// the last [`MINUTE_HORIZON`] minutes. A period of an hour without an errorCode reads the
/// hours; anything else, the minutes.
pub async fn metric_data(
    store: &dyn ObjectStore,
    state_bucket: &str,
    place: &Place<'_>,
    query: &MetricQuery<'_>,
) -> Result<Vec<(i64, u64)>, DocumentError> {
    let key = place.counters_key();
    let (counters, _) = document::read::<Counters>(store, state_bucket, &key).await?;
    Ok(counters.points(query))
}

#[cfg(test)]
mod tests;
