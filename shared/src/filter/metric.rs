//! Metric transformations: what a metric filter publishes for each event its pattern matches,
//! with PutMetricFilter's rules, so a transformation AWS would refuse is refused at load and
//! one it accepts publishes here what CloudWatch would.
//!
//! - `metricValue` is a number (`1`, `0.5`) or a field of the event: `$.a.b` under a JSON
//!   pattern (the pattern must test that selector), `$name` or `$N` under a space-delimited
//!   one. A field whose value is not a number publishes nothing for that event.
//! - `dimensions` map names to fields, so only JSON and space-delimited patterns can have them,
//!   and not together with a `defaultValue` (AWS rejects the combination: a default is
//!   published when nothing matched, when there are no field values to name it by).
//! - `defaultValue` is what CloudWatch publishes for a period in which no event matched;
//!   periods belong to whoever aggregates, so it is only exposed here.
//! - `unit` defaults to `None`, as in CloudWatch.

use std::collections::BTreeMap;

use super::{FieldError, FilterPattern, Match, Message, PatternField};
use serde::{Deserialize, Serialize};

/// A metric transformation as `cairn.yaml` writes it (PutMetricFilter's shape).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
    pub default_value: Option<f64>,
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    pub unit: Option<StandardUnit>,
}

/// CloudWatch's StandardUnit values, (de)serialized by their CloudWatch names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum StandardUnit {
    Seconds,
    Microseconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Bits,
    Kilobits,
    Megabits,
    Gigabits,
    Terabits,
    Percent,
    Count,
    #[serde(rename = "Bytes/Second")]
    BytesPerSecond,
    #[serde(rename = "Kilobytes/Second")]
    KilobytesPerSecond,
    #[serde(rename = "Megabytes/Second")]
    MegabytesPerSecond,
    #[serde(rename = "Gigabytes/Second")]
    GigabytesPerSecond,
    #[serde(rename = "Terabytes/Second")]
    TerabytesPerSecond,
    #[serde(rename = "Bits/Second")]
    BitsPerSecond,
    #[serde(rename = "Kilobits/Second")]
    KilobitsPerSecond,
    #[serde(rename = "Megabits/Second")]
    MegabitsPerSecond,
    #[serde(rename = "Gigabits/Second")]
    GigabitsPerSecond,
    #[serde(rename = "Terabits/Second")]
    TerabitsPerSecond,
    #[serde(rename = "Count/Second")]
    CountPerSecond,
    None,
}

/// A metric transformation compiled against its filter's pattern.
#[derive(Debug, Clone)]
pub struct Metric {
    transformation: MetricTransformation,
    value: MetricValue,
    dimensions: Vec<(String, PatternField)>,
}

#[derive(Debug, Clone)]
enum MetricValue {
    Number(f64),
    Field(PatternField),
}

/// One data point a matched event publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub value: f64,
    /// Dimension name to the value of its field in the event.
    pub dimensions: BTreeMap<String, String>,
}

/// A transformation PutMetricFilter would refuse for this pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    #[error("\"{value}\" is neither a number nor a field reference ($.field, $name or $N)")]
    NotANumber { value: String },
    #[error("{0}")]
    Value(FieldError),
    #[error("dimensions are supported only for JSON and space-delimited filter patterns")]
    DimensionsNeedFields,
    #[error("a metric with dimensions cannot have a defaultValue")]
    DimensionsWithDefault,
    #[error("{error}")]
    Dimension { name: String, error: FieldError },
}

impl MetricError {
    /// The transformation member at fault, spelled as in PutMetricFilter (`dimensions.Region`).
    pub fn member(&self) -> String {
        match self {
            MetricError::NotANumber { .. } | MetricError::Value(_) => "metricValue".to_owned(),
            MetricError::DimensionsNeedFields | MetricError::DimensionsWithDefault => {
                "dimensions".to_owned()
            }
            MetricError::Dimension { name, .. } => format!("dimensions.{name}"),
        }
    }
}

impl Metric {
    /// Checks `transformation` against `pattern` and resolves the fields it names.
    pub fn compile(
        pattern: &FilterPattern,
        transformation: &MetricTransformation,
    ) -> Result<Metric, MetricError> {
        let source = &transformation.metric_value;
        let value = if source.starts_with('$') {
            MetricValue::Field(pattern.field(source).map_err(MetricError::Value)?)
        } else {
            MetricValue::Number(number(source).ok_or_else(|| MetricError::NotANumber {
                value: source.clone(),
            })?)
        };
        if !transformation.dimensions.is_empty() {
            if !pattern.extracts_fields() {
                return Err(MetricError::DimensionsNeedFields);
            }
            if transformation.default_value.is_some() {
                return Err(MetricError::DimensionsWithDefault);
            }
        }
        let dimensions = transformation
            .dimensions
            .iter()
            .map(|(name, reference)| match pattern.field(reference) {
                Ok(field) => Ok((name.clone(), field)),
                Err(error) => Err(MetricError::Dimension {
                    name: name.clone(),
                    error,
                }),
            })
            .collect::<Result<_, _>>()?;
        Ok(Metric {
            transformation: transformation.clone(),
            value,
            dimensions,
        })
    }

    /// What one event that matched the pattern publishes: `None` when the value field is
    /// missing or not a number, or a dimension field is missing, as CloudWatch then has no
    /// data point to record.
    pub fn evaluate(&self, message: &str, matched: &Match) -> Option<Datum> {
        self.evaluate_message(&Message::new(message), matched)
    }

    /// [`Metric::evaluate`] on a prepared event, reusing the JSON index its pattern built.
    pub fn evaluate_message(&self, message: &Message<'_>, matched: &Match) -> Option<Datum> {
        let value = match &self.value {
            MetricValue::Number(value) => *value,
            MetricValue::Field(field) => number(&field.value_in_message(message, matched)?)?,
        };
        let dimensions = self
            .dimensions
            .iter()
            .map(|(name, field)| {
                let value = field.value_in_message(message, matched)?;
                Some((name.clone(), value.into_owned()))
            })
            .collect::<Option<_>>()?;
        Some(Datum { value, dimensions })
    }

    /// What CloudWatch publishes for a period in which no event matched; `None` publishes
    /// nothing, leaving the period without data.
    pub fn default_value(&self) -> Option<f64> {
        self.transformation.default_value
    }

    /// The metric's unit; CloudWatch's `None` when the transformation names none.
    pub fn unit(&self) -> StandardUnit {
        self.transformation.unit.unwrap_or(StandardUnit::None)
    }

    /// The transformation as configured (metric name, namespace…).
    pub fn transformation(&self) -> &MetricTransformation {
        &self.transformation
    }
}

/// A metric value as CloudWatch accepts one: a finite decimal number. `NaN` and `inf`, which
/// Rust would parse, are text like any other.
fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transformation(value: &str, dimensions: &[(&str, &str)]) -> MetricTransformation {
        MetricTransformation {
            metric_name: "M".to_owned(),
            metric_namespace: "N".to_owned(),
            metric_value: value.to_owned(),
            default_value: None,
            dimensions: dimensions
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            unit: None,
        }
    }

    fn compile(pattern: &str, value: &str, dimensions: &[(&str, &str)]) -> Metric {
        let pattern = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{e}"));
        Metric::compile(&pattern, &transformation(value, dimensions))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Matches `message` with `pattern` and evaluates the metric, `None` for no match.
    fn publish(pattern: &str, metric: &Metric, message: &str) -> Option<Datum> {
        let pattern = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{e}"));
        metric.evaluate(message, &pattern.matches(message)?)
    }

    fn datum(value: f64, dimensions: &[(&str, &str)]) -> Option<Datum> {
        Some(Datum {
            value,
            dimensions: dimensions
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })
    }

    #[test]
    fn a_number_is_published_for_every_match() {
        let metric = compile("ERROR", "1", &[]);
        assert_eq!(
            publish("ERROR", &metric, "ERROR disk full"),
            datum(1.0, &[])
        );
        assert_eq!(metric.unit(), StandardUnit::None);
        assert_eq!(metric.default_value(), None);
    }

    #[test]
    fn a_json_field_is_published_when_it_is_a_number() {
        let pattern = "{ $.bytes = * && $.source = * }";
        let metric = compile(pattern, "$.bytes", &[("Source", "$.source")]);
        let cases = [
            (
                r#"{"bytes":1500,"source":"s3"}"#,
                datum(1500.0, &[("Source", "s3")]),
            ),
            (
                r#"{"bytes":"2.5","source":"s3"}"#,
                datum(2.5, &[("Source", "s3")]),
            ),
            (r#"{"bytes":"many","source":"s3"}"#, None),
            (r#"{"bytes":true,"source":"s3"}"#, None),
            (r#"{"bytes":"NaN","source":"s3"}"#, None),
        ];
        for (message, expected) in cases {
            assert_eq!(publish(pattern, &metric, message), expected, "{message}");
        }
    }

    #[test]
    fn space_delimited_fields_are_published_by_name_and_position() {
        let pattern = "[ip, user, ..., status, bytes]";
        let by_name = compile(pattern, "$bytes", &[("Status", "$status")]);
        let message = "10.0.0.1 frank GET /index.html 404 1534";
        assert_eq!(
            publish(pattern, &by_name, message),
            datum(1534.0, &[("Status", "404")])
        );
        let by_position = compile(pattern, "$3", &[]);
        assert_eq!(publish(pattern, &by_position, message), None);
        assert_eq!(
            publish(pattern, &by_position, "10.0.0.1 frank 7 404 1534"),
            datum(7.0, &[])
        );
    }

    #[test]
    fn what_aws_refuses_is_refused() {
        let refused = |pattern: &str, value: &str, dimensions: &[(&str, &str)]| {
            let pattern = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{e}"));
            Metric::compile(&pattern, &transformation(value, dimensions))
                .err()
                .map(|e| format!("{}: {e}", e.member()))
        };
        let cases = [
            (
                "ERROR",
                "inf",
                &[][..],
                "metricValue: \"inf\" is neither a number nor a field reference ($.field, $name or $N)",
            ),
            (
                "%ERR%",
                "1",
                &[("L", "$.level")][..],
                "dimensions: dimensions are supported only for JSON and space-delimited filter patterns",
            ),
            (
                "[a, b]",
                "1",
                &[("C", "$c")][..],
                "dimensions.C: \"$c\" is not a field of the filter pattern (a named field is $name, a field taken by ... or an empty slot is $N)",
            ),
            (
                "[a, b]",
                "$1",
                &[][..],
                "metricValue: \"$1\" is not a field of the filter pattern (a named field is $name, a field taken by ... or an empty slot is $N)",
            ),
        ];
        for (pattern, value, dimensions, expected) in cases {
            assert_eq!(
                refused(pattern, value, dimensions).as_deref(),
                Some(expected),
                "{pattern}"
            );
        }
    }
}
