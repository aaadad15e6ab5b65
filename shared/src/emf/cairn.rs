//! Cairn's own metrics: what a deliver or forward run measured, per trail, as one EMF line per
//! trail and run in namespace [`NAMESPACE`] with the one dimension [`TRAIL_DIMENSION`]. The
//! figures come from the run's report (deliver's `DeliveryReport::metric_lines`, forward's
//! `ForwardReport::metric_lines`); the function prints the lines, and template.yaml's dashboard
//! draws them (`tests/template_dashboard.rs` checks it draws nothing else from this namespace).

use time::OffsetDateTime;

use super::EmfRecord;
use crate::filter::StandardUnit;

/// The CloudWatch namespace of Cairn's own metrics.
pub const NAMESPACE: &str = "Cairn";

/// The dimension every metric of [`NAMESPACE`] has: the trail's name.
pub const TRAIL_DIMENSION: &str = "Trail";

/// A metric of [`NAMESPACE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CairnMetric {
    /// Records deliver wrote to the trail's CloudTrail log files in the run.
    EventsDelivered,
    /// Insights events deliver wrote to the trail's Insights files in the run (those it found
    /// and those producers sent).
    InsightsEventsDelivered,
    /// Seconds from the moment ingest staged the oldest event the trail got in a batch to that
    /// batch's delivery (the time its log files are named by); the run's longest.
    DeliveryLag,
    /// Records of the trail's log file that CloudWatch Logs stored in the forward run.
    EventsForwarded,
    /// Metric-filter matches of the records CloudWatch Logs stored in the forward run: what
    /// the log group's own metric filters count.
    MetricFilterMatches,
}

impl CairnMetric {
    pub const ALL: [Self; 5] = [
        Self::EventsDelivered,
        Self::InsightsEventsDelivered,
        Self::DeliveryLag,
        Self::EventsForwarded,
        Self::MetricFilterMatches,
    ];

    /// The metric's name in CloudWatch.
    pub fn name(self) -> &'static str {
        match self {
            Self::EventsDelivered => "EventsDelivered",
            Self::InsightsEventsDelivered => "InsightsEventsDelivered",
            Self::DeliveryLag => "DeliveryLag",
            Self::EventsForwarded => "EventsForwarded",
            Self::MetricFilterMatches => "MetricFilterMatches",
        }
    }

    pub fn unit(self) -> StandardUnit {
        match self {
            Self::DeliveryLag => StandardUnit::Seconds,
            _ => StandardUnit::Count,
        }
    }
}

/// The EMF line of `trail`'s `values`, measured by a run at `at`.
pub fn trail_line(trail: &str, at: OffsetDateTime, values: &[(CairnMetric, f64)]) -> String {
    let timestamp_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    values
        .iter()
        .fold(
            EmfRecord::new(NAMESPACE, timestamp_ms).dimension(TRAIL_DIMENSION, trail),
            |record, (metric, value)| record.metric(metric.name(), metric.unit(), *value),
        )
        .to_line()
        .expect("Cairn's metric names are distinct, and none is the dimension's or _aws")
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_trail_line_carries_each_metric_with_its_unit() {
        let line = trail_line(
            "main",
            datetime!(2026-11-20 10:08:00 UTC),
            &[
                (CairnMetric::EventsDelivered, 12.0),
                (CairnMetric::DeliveryLag, 3.0),
            ],
        );
        assert_eq!(
            line,
            r#"{"_aws":{"Timestamp":1795169280000,"CloudWatchMetrics":[{"Namespace":"Cairn","Dimensions":[["Trail"]],"Metrics":[{"Name":"EventsDelivered","Unit":"Count"},{"Name":"DeliveryLag","Unit":"Seconds"}]}]},"Trail":"main","EventsDelivered":12,"DeliveryLag":3}"#
        );
    }

    #[test]
    fn every_metric_fits_in_one_line() {
        let values: Vec<(CairnMetric, f64)> = CairnMetric::ALL.iter().map(|m| (*m, 1.0)).collect();
        let line = trail_line("main", datetime!(2026-11-20 10:08:00 UTC), &values);
        let value: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        for metric in CairnMetric::ALL {
            assert_eq!(value[metric.name()], 1, "{line}");
        }
    }
}
