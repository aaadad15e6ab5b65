//! CloudWatch's embedded metric format (EMF): the one JSON log line that carries metrics, as
//! the CloudWatch User Guide's "Specification: Embedded metric format" defines it
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//! A Lambda function prints such lines to stdout and CloudWatch Logs, which receives its log
//! stream, extracts the metrics.
//!
//! Every line Cairn writes has one metric directive with one dimension set:
//!
//! ```json
//! {"_aws":{"Timestamp":1795169280000,"CloudWatchMetrics":[{"Namespace":"Cairn",
//!   "Dimensions":[["Trail"]],"Metrics":[{"Name":"EventsDelivered","Unit":"Count"}]}]},
//!  "Trail":"main","EventsDelivered":12}
//! ```
//!
//! - `_aws` comes first, then the dimensions, then the metrics: target members on the root
//!   node, as the specification asks, each named once.
//! - `Timestamp` is milliseconds after the epoch.
//! - `Dimensions` holds the one dimension set, its names in the order given; `[[]]` when there
//!   are none (the specification wants at least one set, and allows it empty).
//! - Each metric's `Unit` is a CloudWatch StandardUnit; its value a JSON number, written without
//!   a fraction when it is a whole number ([`number`]).
//!
//! [`cairn`] is Cairn's own metrics (namespace `Cairn`, dimension `Trail`), which deliver and
//! forward compute from their reports; forward's metric filters write theirs with the same
//! builder.

pub mod cairn;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::filter::StandardUnit;

/// Why a set of metrics has no EMF line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmfError {
    #[error(
        "{name:?} would name two members of the EMF record (a dimension, a metric or _aws): \
         one would take the place of the other"
    )]
    Clash { name: String },
}

/// One EMF record: a namespace, one dimension set and its values, the metrics and their values.
#[derive(Debug, Clone)]
pub struct EmfRecord<'a> {
    timestamp_ms: i64,
    namespace: &'a str,
    dimensions: Vec<(&'a str, &'a str)>,
    metrics: Vec<(&'a str, StandardUnit, serde_json::Number)>,
}

impl<'a> EmfRecord<'a> {
    /// An empty record in `namespace`, dated `timestamp_ms` (milliseconds after the epoch).
    pub fn new(namespace: &'a str, timestamp_ms: i64) -> Self {
        Self {
            timestamp_ms,
            namespace,
            dimensions: Vec::new(),
            metrics: Vec::new(),
        }
    }

    /// Adds the dimension `name` with `value` to the record's dimension set.
    pub fn dimension(mut self, name: &'a str, value: &'a str) -> Self {
        self.dimensions.push((name, value));
        self
    }

    /// Adds the metric `name`, in `unit`, with `value`.
    pub fn metric(mut self, name: &'a str, unit: StandardUnit, value: f64) -> Self {
        self.metrics.push((name, unit, number(value)));
        self
    }

    /// The record as one JSON line.
    pub fn to_line(&self) -> Result<String, EmfError> {
        let mut names: Vec<&str> = std::iter::once("_aws")
            .chain(self.dimensions.iter().map(|(name, _)| *name))
            .chain(self.metrics.iter().map(|(name, _, _)| *name))
            .collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(EmfError::Clash {
                name: pair[0].to_owned(),
            });
        }
        Ok(serde_json::to_string(self).expect("an EMF record serializes"))
    }
}

/// A metric value as JSON: whole numbers (exactly representable ones) without a fraction.
pub fn number(value: f64) -> serde_json::Number {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if value.fract() == 0.0 && value.abs() <= EXACT {
        serde_json::Number::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).unwrap_or_else(|| serde_json::Number::from(0))
    }
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(rename = "Timestamp")]
    timestamp: i64,
    #[serde(rename = "CloudWatchMetrics")]
    cloud_watch_metrics: [Directive<'a>; 1],
}

#[derive(Serialize)]
struct Directive<'a> {
    #[serde(rename = "Namespace")]
    namespace: &'a str,
    #[serde(rename = "Dimensions")]
    dimensions: [Vec<&'a str>; 1],
    #[serde(rename = "Metrics")]
    metrics: Vec<Definition<'a>>,
}

#[derive(Serialize)]
struct Definition<'a> {
    #[serde(rename = "Name")]
    name: &'a str,
    #[serde(rename = "Unit")]
    unit: StandardUnit,
}

impl Serialize for EmfRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let members = 1 + self.dimensions.len() + self.metrics.len();
        let mut map = serializer.serialize_map(Some(members))?;
        map.serialize_entry(
            "_aws",
            &Metadata {
                timestamp: self.timestamp_ms,
                cloud_watch_metrics: [Directive {
                    namespace: self.namespace,
                    dimensions: [self.dimensions.iter().map(|(name, _)| *name).collect()],
                    metrics: self
                        .metrics
                        .iter()
                        .map(|(name, unit, _)| Definition { name, unit: *unit })
                        .collect(),
                }],
            },
        )?;
        for (name, value) in &self.dimensions {
            map.serialize_entry(name, value)?;
        }
        for (name, _, value) in &self.metrics {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The specification's example document (its `requestId`, a member that is neither a
    /// dimension nor a metric, left out: Cairn writes none).
    #[test]
    fn the_specification_example_is_written_member_for_member() {
        let line = EmfRecord::new("lambda-function-metrics", 1_574_109_732_004)
            .dimension("functionVersion", "$LATEST")
            .metric("time", StandardUnit::Milliseconds, 100.0)
            .to_line()
            .expect("a record");
        let example = json!({
            "_aws": {
                "Timestamp": 1574109732004_i64,
                "CloudWatchMetrics": [{
                    "Namespace": "lambda-function-metrics",
                    "Dimensions": [["functionVersion"]],
                    "Metrics": [{"Name": "time", "Unit": "Milliseconds"}]
                }]
            },
            "functionVersion": "$LATEST",
            "time": 100
        });
        assert_eq!(serde_json::from_str::<Value>(&line).expect("JSON"), example);
        assert_eq!(
            line,
            r#"{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds"}]}]},"functionVersion":"$LATEST","time":100}"#
        );
    }

    #[test]
    fn several_metrics_share_the_directive_and_no_dimension_is_an_empty_set() {
        let line = EmfRecord::new("N", 0)
            .metric("A", StandardUnit::Count, 2.0)
            .metric("B", StandardUnit::Seconds, 0.5)
            .to_line()
            .expect("a record");
        assert_eq!(
            line,
            r#"{"_aws":{"Timestamp":0,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A","Unit":"Count"},{"Name":"B","Unit":"Seconds"}]}]},"A":2,"B":0.5}"#
        );
    }

    #[test]
    fn a_name_used_twice_is_refused() {
        for record in [
            EmfRecord::new("N", 0)
                .dimension("A", "x")
                .metric("A", StandardUnit::Count, 1.0),
            EmfRecord::new("N", 0).dimension("_aws", "x"),
            EmfRecord::new("N", 0)
                .metric("B", StandardUnit::Count, 1.0)
                .metric("B", StandardUnit::Count, 2.0),
        ] {
            let error = record.to_line().expect_err("a clash");
            assert!(matches!(error, EmfError::Clash { .. }), "{error}");
        }
    }

    #[test]
    fn values_are_json_numbers_whole_ones_without_a_fraction() {
        assert_eq!(number(1.0).to_string(), "1");
        assert_eq!(number(-3.0).to_string(), "-3");
        assert_eq!(number(1500.0).to_string(), "1500");
        assert_eq!(number(0.25).to_string(), "0.25");
        assert_eq!(number(1e300).to_string(), "1e+300");
    }
}
