//! The counters of one [`super::Place`], and the detection rule run on them.
//!
//! One document per place ([`crate::layout::insights_counters_key`]), changed by
//! compare-and-swap. Per API (eventSource and eventName) it keeps two series, the calls
//! ApiCallRateInsight rates (write management calls, every data call) and calls with an
//! errorCode (ApiErrorRateInsight), each with
//! - calls per hour of eventTime, for the baseline window and a little more;
//! - calls per minute of eventTime with their errorCodes, for the last [`MINUTE_HORIZON`]
//!   minutes, and with who made them (userIdentityArn, userAgent) while the rule may still
//!   need them: minutes a later window may start an anomaly in, and an open anomaly's;
//! - attributions per day, at most [`KEPT_VALUES`] values per attribute and day;
//! - the open anomaly, if any, with its baseline frozen at its Start.
//!
//! So the document's size per API is bounded whatever the traffic: see the README.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::record::{self, InsightKind, Ranked, State, Statistics, Subject, TOP_ATTRIBUTIONS};
use super::{Call, Found, MetricQuery, Place};
use crate::alert::{InsightStart, PerMinute, RuleFired};
use crate::clock::EventTime;

/// The baseline: the 7 days before the anomaly's window, in minutes, as AWS reports
/// `baselineDuration` (at least 10,080).
pub const BASELINE_MINUTES: i64 = 7 * 24 * 60;
const BASELINE_HOURS: i64 = BASELINE_MINUTES / 60;
/// The rule compares sums over this many consecutive minutes.
pub const WINDOW_MINUTES: i64 = 5;
/// A minute is judged once the batch's delivery time is this many minutes past its end, so
/// the usual delivery delay of its events has passed.
pub const SETTLE_MINUTES: i64 = 5;
/// Per-minute counts are kept this long (and an open anomaly's older minutes are folded into it).
pub const MINUTE_HORIZON: i64 = 60;
/// A Start needs the window to hold at least this many times the expected calls…
pub const START_FACTOR: f64 = 2.0;
/// …and this many Poisson standard deviations above them…
pub const START_DEVIATIONS: f64 = 6.0;
/// …and at least this many calls.
pub const START_MIN_CALLS: u64 = 25;
/// An End comes with the first window back within this many standard deviations of expected.
pub const END_DEVIATIONS: f64 = 3.0;
/// Values kept per attribute, per minute and per day.
const KEPT_VALUES: usize = 10;
/// Batches whose counting is remembered, so no batch is counted twice.
const APPLIED_KEPT: usize = 16;
/// A Start's alert charts the minutes from this many before it…
const CHART_BEFORE: i64 = 30;
/// …to this many after it, as far as they have closed.
const CHART_AFTER: i64 = 15;

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Counters {
    /// The first minute ever counted: the rule judges a minute only with a full baseline
    /// behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_minute: Option<i64>,
    /// The last minute judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    judged_through: Option<i64>,
    /// The last batches counted, with the Insights records each produced.
    #[serde(default)]
    pub applied: Vec<Applied>,
    /// Per API, `{eventSource} {eventName}`.
    #[serde(default)]
    apis: BTreeMap<String, Api>,
}

impl crate::document::Recovery for Counters {
    const IF_UNREADABLE: &'static str = "deliver stops until it reads. It remembers the batches \
        already counted and the anomalies open: restore it from a backup or a previous version, \
        or fix its JSON by hand. Emptying it would count batches twice and start every open \
        anomaly again";
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Applied {
    pub batch: String,
    #[serde(flatten)]
    pub found: Found,
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Api {
    #[serde(default, skip_serializing_if = "Series::is_empty")]
    calls: Series,
    #[serde(default, skip_serializing_if = "Series::is_empty")]
    errors: Series,
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Series {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    hours: BTreeMap<i64, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    minutes: BTreeMap<i64, Tally>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    days: BTreeMap<i64, Attributions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active: Option<Active>,
}

/// Calls of one minute (or of an anomaly's folded minutes), with who made them.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Tally {
    count: u64,
    by: Attributions,
}

/// Counts per value of userIdentityArn, userAgent and errorCode ([`record::ATTRIBUTES`]).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Attributions([BTreeMap<String, u64>; 3]);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Active {
    shared_event_id: String,
    start: i64,
    baseline_average: f64,
    /// Calls expected per window: the busiest baseline hour's rate, times the window.
    expected: f64,
    baseline: [Ranked; 3],
    /// The anomaly's minutes already past [`MINUTE_HORIZON`].
    folded: Tally,
}

impl Counters {
    pub(super) fn applied(&self, batch: &str) -> Option<&Applied> {
        self.applied.iter().find(|applied| applied.batch == batch)
    }

    /// Counts `calls` (their minutes past the horizon only per hour and day). A batch's calls
    /// repeat themselves (one role, one tool, the same minute), so they are first tallied per
    /// API, minute and attribution values, and each API's series then take one addition per
    /// distinct tally rather than one per call; each API's entry is looked up once per batch,
    /// by a key built in one reused buffer.
    pub(super) fn count(&mut self, calls: &[Call<'_>], last_closed: i64) {
        let horizon_start = last_closed - MINUTE_HORIZON + 1;
        let mut per_api: HashMap<(&str, &str), HashMap<Tallied<'_>, u64>> = HashMap::new();
        for call in calls {
            let minute = call.time.unix_seconds().div_euclid(60);
            self.first_minute = Some(self.first_minute.map_or(minute, |m| m.min(minute)));
            let tallied = Tallied {
                minute,
                values: [
                    call.arn.unwrap_or("null"),
                    call.agent.unwrap_or("null"),
                    call.error.unwrap_or("null"),
                ],
                rated: call.rated,
                errored: call.error.is_some(),
            };
            *per_api
                .entry((call.source, call.name))
                .or_default()
                .entry(tallied)
                .or_default() += 1;
        }
        let mut key = String::new();
        for ((source, name), tallies) in per_api {
            key.clear();
            write!(key, "{source} {name}").expect("writing to a String");
            if !self.apis.contains_key(key.as_str()) {
                self.apis.insert(key.clone(), Api::default());
            }
            let api = self.apis.get_mut(key.as_str()).expect("inserted above");
            for (tallied, calls) in tallies {
                if tallied.rated {
                    api.calls
                        .add(tallied.minute, tallied.values, calls, horizon_start);
                }
                if tallied.errored {
                    api.errors
                        .add(tallied.minute, tallied.values, calls, horizon_start);
                }
            }
        }
    }

    /// Judges every minute up to `last_closed` not judged yet (within the horizon), returning
    /// the Insights records of the anomalies that started or ended, in eventTime order, with
    /// what explains each Start.
    pub(super) fn judge(&mut self, place: &Place<'_>, last_closed: i64) -> Found {
        let earliest = last_closed - MINUTE_HORIZON + WINDOW_MINUTES;
        let from = self
            .judged_through
            .map_or(earliest, |m| (m + 1).max(earliest));
        self.judged_through = Some(last_closed);
        let Some(first_minute) = self.first_minute else {
            return Found::default();
        };
        let mut found: Vec<Judged> = Vec::new();
        for (key, api) in &mut self.apis {
            let (source, name) = key.split_once(' ').unwrap_or((key, ""));
            for (kind, series) in [
                (InsightKind::ApiCallRateInsight, &mut api.calls),
                (InsightKind::ApiErrorRateInsight, &mut api.errors),
            ] {
                let subject = Subject {
                    account: place.account,
                    region: place.region,
                    data_trail_arn: place.data_trail.map(|trail| trail.arn),
                    source,
                    name,
                    kind,
                };
                for minute in from..=last_closed {
                    if let Some(found_one) =
                        series.judge(&subject, minute, first_minute, last_closed)
                    {
                        found.push(found_one);
                    }
                }
            }
        }
        found.sort_by_key(|judged| judged.minute);
        let mut all = Found::default();
        for judged in found {
            all.records.push(judged.record);
            all.starts.extend(judged.start);
        }
        all
    }

    /// The non-zero data points of `query` (see [`super::metric_data`]).
    pub(super) fn points(&self, query: &MetricQuery<'_>) -> Vec<(i64, u64)> {
        let Some(api) = self.apis.get(&format!("{} {}", query.source, query.name)) else {
            return Vec::new();
        };
        let series = match query.kind {
            InsightKind::ApiCallRateInsight => &api.calls,
            InsightKind::ApiErrorRateInsight => &api.errors,
        };
        let mut points: BTreeMap<i64, u64> = BTreeMap::new();
        let mut add = |at: i64, count: u64| {
            if (query.start..query.end).contains(&at) && count > 0 {
                *points.entry(at - at.rem_euclid(query.period)).or_default() += count;
            }
        };
        match (query.period, query.error_code) {
            (3600, None) => {
                for (hour, count) in &series.hours {
                    add(hour * 3600, *count);
                }
            }
            (_, error_code) => {
                for (minute, tally) in &series.minutes {
                    let count = match error_code {
                        Some(code) => tally.by.0[2].get(code).copied().unwrap_or(0),
                        None => tally.count,
                    };
                    add(minute * 60, count);
                }
            }
        }
        points.into_iter().collect()
    }

    /// Drops what the rule no longer needs, and remembers `batch` as counted.
    pub(super) fn prune(&mut self, last_closed: i64, batch: &str, found: Found) {
        let horizon_start = last_closed - MINUTE_HORIZON + 1;
        let first_hour = last_closed.div_euclid(60) - BASELINE_HOURS - 1;
        let first_day = last_closed.div_euclid(1440) - BASELINE_HOURS / 24 - 1;
        // The next minute judged is `last_closed + 1`, and an anomaly starts within the window
        // that ends at the minute judged: no later Start reads who called before this minute.
        let first_startable = last_closed + 2 - WINDOW_MINUTES;
        self.apis.retain(|_, api| {
            for series in [&mut api.calls, &mut api.errors] {
                series.prune(horizon_start, first_hour, first_day, first_startable);
            }
            !(api.calls.is_empty() && api.errors.is_empty())
        });
        self.applied.push(Applied {
            batch: batch.to_owned(),
            found,
        });
        let extra = self.applied.len().saturating_sub(APPLIED_KEPT);
        self.applied.drain(..extra);
    }
}

/// Calls of one API alike in what the counters keep of them: their minute, their attribution
/// values (userIdentityArn, userAgent, errorCode, "null" where absent) and which series count
/// them.
#[derive(PartialEq, Eq, Hash)]
struct Tallied<'a> {
    minute: i64,
    values: [&'a str; 3],
    rated: bool,
    errored: bool,
}

/// A record the rule produced for the window ending at `minute`, and for a Start its
/// explanation.
struct Judged {
    minute: i64,
    record: String,
    start: Option<InsightStart>,
}

impl Series {
    fn is_empty(&self) -> bool {
        self.hours.is_empty()
            && self.minutes.is_empty()
            && self.days.is_empty()
            && self.active.is_none()
    }

    /// Adds `calls` calls of `minute` with the attribution `values`.
    fn add(&mut self, minute: i64, values: [&str; 3], calls: u64, horizon_start: i64) {
        *self.hours.entry(minute.div_euclid(60)).or_default() += calls;
        self.days
            .entry(minute.div_euclid(1440))
            .or_default()
            .add(values, calls);
        if minute >= horizon_start {
            let tally = self.minutes.entry(minute).or_default();
            tally.count += calls;
            tally.by.add(values, calls);
        }
    }

    fn count_at(&self, minute: i64) -> u64 {
        self.minutes.get(&minute).map_or(0, |tally| tally.count)
    }

    fn window(&self, last: i64) -> u64 {
        self.minutes
            .range(last - WINDOW_MINUTES + 1..=last)
            .map(|(_, tally)| tally.count)
            .sum()
    }

    /// The rule, for the window ending at `minute`: see the README ("Insights").
    fn judge(
        &mut self,
        subject: &Subject<'_>,
        minute: i64,
        first_minute: i64,
        last_closed: i64,
    ) -> Option<Judged> {
        let window_start = minute - WINDOW_MINUTES + 1;
        let calls = self.window(minute);
        if let Some(active) = &self.active {
            let quiet = active.expected + END_DEVIATIONS * active.expected.sqrt();
            if (calls as f64) > quiet || window_start <= active.start {
                return None;
            }
            let active = self.active.take().expect("an open anomaly");
            let end = window_start;
            let duration = end - active.start;
            let mut total = active.folded.clone();
            for (_, tally) in self.minutes.range(active.start..end) {
                total.merge(tally);
            }
            let statistics = Statistics {
                baseline_average: active.baseline_average,
                insight_average: total.count as f64 / duration as f64,
                insight_duration: duration,
                baseline_duration: BASELINE_MINUTES,
                attributions: total.by.ranked(duration as f64, active.baseline),
            };
            let at = EventTime::from_unix_seconds(end * 60);
            let text = record::encode(
                subject,
                &active.shared_event_id,
                State::End,
                at,
                &statistics,
            );
            return Some(Judged {
                minute: end,
                record: text,
                start: None,
            });
        }
        if calls < START_MIN_CALLS || window_start - BASELINE_MINUTES < first_minute {
            return None;
        }
        let first_hour = window_start.div_euclid(60) - BASELINE_HOURS;
        let baseline_hours = self
            .hours
            .range(first_hour..window_start.div_euclid(60))
            .map(|(_, count)| *count);
        let (sum, busiest) = baseline_hours.fold((0u64, 0u64), |(sum, max), count| {
            (sum + count, max.max(count))
        });
        let expected = busiest as f64 / 60.0 * WINDOW_MINUTES as f64;
        let threshold =
            (START_FACTOR * expected).max(expected + START_DEVIATIONS * expected.sqrt());
        if (calls as f64) < threshold {
            return None;
        }
        let per_minute = expected / WINDOW_MINUTES as f64;
        let start = (window_start..=minute)
            .find(|m| self.count_at(*m) as f64 > per_minute)
            .expect("a window above twice its expectation has a minute above it");
        let baseline_average = sum as f64 / BASELINE_MINUTES as f64;
        let mut baseline = Attributions::default();
        for (_, day) in self
            .days
            .range(first_hour.div_euclid(24)..=window_start.div_euclid(1440))
        {
            baseline.merge(day);
        }
        let baseline = baseline.top(BASELINE_MINUTES as f64);
        let mut seen = Tally::default();
        for (_, tally) in self.minutes.range(start..=minute) {
            seen.merge(tally);
        }
        let observed = minute - start + 1;
        let at = EventTime::from_unix_seconds(start * 60);
        let shared_event_id = record::shared_event_id(subject, at);
        let statistics = Statistics {
            baseline_average,
            // The User Guide: a Start's insight average is the rate of the anomaly's first
            // minute ("CloudTrail insightDetails element", statistics.insight).
            insight_average: self.count_at(start) as f64,
            insight_duration: observed,
            baseline_duration: BASELINE_MINUTES,
            attributions: seen.by.ranked(observed as f64, baseline.clone()),
        };
        let text = record::encode(subject, &shared_event_id, State::Start, at, &statistics);
        let chart_first = (start - CHART_BEFORE).max(last_closed - MINUTE_HORIZON + 1);
        let explained = InsightStart {
            event_source: subject.source.to_owned(),
            event_name: subject.name.to_owned(),
            insight_type: subject.kind.as_str().to_owned(),
            account: subject.account.to_owned(),
            region: subject.region.to_owned(),
            data_trail: subject.data_trail_arn.map(str::to_owned),
            start: at.to_string(),
            event_id: record::event_id(&shared_event_id, State::Start),
            shared_event_id: shared_event_id.clone(),
            baseline_average: record::rounded(statistics.baseline_average),
            insight_average: record::rounded(statistics.insight_average),
            attributions: record::summaries(&statistics.attributions),
            rule: RuleFired {
                window_minutes: WINDOW_MINUTES,
                window_first: EventTime::from_unix_seconds(window_start * 60).to_string(),
                window_calls: calls,
                expected_calls: record::rounded(expected),
                threshold: record::rounded(threshold.max(START_MIN_CALLS as f64)),
                end_below: record::rounded(expected + END_DEVIATIONS * expected.sqrt()),
                start_factor: START_FACTOR,
                start_deviations: START_DEVIATIONS,
                start_min_calls: START_MIN_CALLS,
                end_deviations: END_DEVIATIONS,
                baseline_minutes: BASELINE_MINUTES,
            },
            per_minute: PerMinute {
                first: EventTime::from_unix_seconds(chart_first * 60).to_string(),
                counts: (chart_first..=(start + CHART_AFTER).min(last_closed))
                    .map(|m| self.count_at(m))
                    .collect(),
            },
        };
        self.active = Some(Active {
            shared_event_id,
            start,
            baseline_average,
            expected,
            baseline,
            folded: Tally::default(),
        });
        Some(Judged {
            minute: start,
            record: text,
            start: Some(explained),
        })
    }

    /// Keeps the minutes of the horizon, the hours and days of the baseline window; of the
    /// minutes before `first_startable`, outside an open anomaly, only the counts and errorCodes
    /// (what ListInsightsMetricData reads): who made those calls no Start or End will read, and
    /// they are most of the document.
    fn prune(&mut self, horizon_start: i64, first_hour: i64, first_day: i64, first_startable: i64) {
        let kept = self.minutes.split_off(&horizon_start);
        let gone = std::mem::replace(&mut self.minutes, kept);
        if let Some(active) = &mut self.active {
            for (_, tally) in gone.range(active.start..) {
                active.folded.merge(tally);
            }
            active.folded.by.cap();
        }
        self.hours = self.hours.split_off(&first_hour);
        self.days = self.days.split_off(&first_day);
        for day in self.days.values_mut() {
            day.cap();
        }
        for tally in self.minutes.values_mut() {
            tally.by.cap();
        }
        if self.active.is_none() {
            for (_, tally) in self.minutes.range_mut(..first_startable) {
                tally.by.forget_callers();
            }
        }
    }
}

impl Tally {
    fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.by.merge(&other.by);
    }
}

impl Attributions {
    fn add(&mut self, values: [&str; 3], count: u64) {
        for (counts, value) in self.0.iter_mut().zip(values) {
            match counts.get_mut(value) {
                Some(n) => *n += count,
                None => {
                    counts.insert(value.to_owned(), count);
                }
            }
        }
    }

    fn merge(&mut self, other: &Attributions) {
        for (counts, more) in self.0.iter_mut().zip(&other.0) {
            for (value, count) in more {
                *counts.entry(value.clone()).or_default() += count;
            }
        }
    }

    /// Forgets who made the calls (userIdentityArn and userAgent), keeping their errorCodes.
    fn forget_callers(&mut self) {
        self.0[0].clear();
        self.0[1].clear();
    }

    /// Keeps the [`KEPT_VALUES`] most frequent values of each attribute.
    fn cap(&mut self) {
        for counts in &mut self.0 {
            if counts.len() > KEPT_VALUES {
                let kept = ranked_counts(counts, KEPT_VALUES);
                *counts = kept.into_iter().collect();
            }
        }
    }

    /// The top values of each attribute as averages over `minutes`.
    fn top(&self, minutes: f64) -> [Ranked; 3] {
        self.0.clone().map(|counts| {
            ranked_counts(&counts, TOP_ATTRIBUTIONS)
                .into_iter()
                .map(|(value, count)| (value, count as f64 / minutes))
                .collect()
        })
    }

    fn ranked(&self, minutes: f64, baseline: [Ranked; 3]) -> [(Ranked, Ranked); 3] {
        let [a, b, c] = self.top(minutes);
        let [x, y, z] = baseline;
        [(a, x), (b, y), (c, z)]
    }
}

/// The `n` highest counts, highest first; equal counts by value, so the order is deterministic.
fn ranked_counts(counts: &BTreeMap<String, u64>, n: usize) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = counts.iter().map(|(v, c)| (v.clone(), *c)).collect();
    all.sort_by(|(va, ca), (vb, cb)| cb.cmp(ca).then_with(|| va.cmp(vb)));
    all.truncate(n);
    all
}
