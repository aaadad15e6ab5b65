//! Metric filters in PutMetricFilter's shape (camelCase, as `aws logs put-metric-filter
//! --cli-input-json` takes them). At load each is shape-checked, then its pattern and its
//! transformation are compiled once, so a filter AWS would refuse never loads and evaluating
//! one per event never parses.

use serde::Deserialize;

use super::Invalid;
use crate::filter::{FilterPattern, Metric, MetricTransformation};
use crate::names::is_log_group_name;

/// A metric filter as written in the configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct MetricFilterSpec {
    pub(crate) log_group_name: Option<String>,
    pub(crate) filter_name: String,
    filter_pattern: String,
    metric_transformations: Vec<MetricTransformation>,
}

/// A loaded metric filter, ready to evaluate events.
#[derive(Debug, Clone)]
pub struct MetricFilter {
    /// The log group the filter belongs to; when absent, every trail's log group.
    pub log_group_name: Option<String>,
    pub filter_name: String,
    /// The compiled `filterPattern` ([`FilterPattern::as_str`] gives it back as written).
    pub pattern: FilterPattern,
    /// The compiled (single) metric transformation.
    pub metric: Metric,
}

/// CloudWatch Logs' limits: one transformation per filter, three dimensions per metric.
const MAX_DIMENSIONS: usize = 3;

impl MetricFilterSpec {
    /// PutMetricFilter's constraints on each field, then the pattern and the transformation
    /// compiled against it.
    pub(crate) fn compile(self) -> Result<MetricFilter, Invalid> {
        if let Some(group) = &self.log_group_name
            && !is_log_group_name(group)
        {
            return Err(Invalid::new(
                "logGroupName",
                format!(
                    "\"{group}\" is not a log group name (1 to 512 of letters, digits and . - _ / #)"
                ),
            ));
        }
        check_name("filterName", &self.filter_name, 512, ":*")?;
        let pattern = FilterPattern::parse(&self.filter_pattern)
            .map_err(|e| Invalid::new("filterPattern", e.to_string()))?;
        let [transformation] = self.metric_transformations.as_slice() else {
            return Err(Invalid::new(
                "metricTransformations",
                format!(
                    "holds {} transformations; a metric filter has exactly one",
                    self.metric_transformations.len()
                ),
            ));
        };
        let within = |e: Invalid| e.within("metricTransformations[0]");
        check_transformation(transformation).map_err(within)?;
        let metric = Metric::compile(&pattern, transformation)
            .map_err(|e| within(Invalid::new(e.member(), e.to_string())))?;
        Ok(MetricFilter {
            log_group_name: self.log_group_name,
            filter_name: self.filter_name,
            pattern,
            metric,
        })
    }
}

/// PutMetricFilter's constraints on a transformation's own fields.
fn check_transformation(transformation: &MetricTransformation) -> Result<(), Invalid> {
    check_name("metricName", &transformation.metric_name, 255, ":*$")?;
    check_name(
        "metricNamespace",
        &transformation.metric_namespace,
        255,
        ":*$",
    )?;
    if !(1..=100).contains(&transformation.metric_value.chars().count()) {
        return Err(Invalid::new(
            "metricValue",
            "must be 1 to 100 characters (a number such as 1, or a field such as $.bytes)",
        ));
    }
    if transformation.dimensions.len() > MAX_DIMENSIONS {
        return Err(Invalid::new(
            "dimensions",
            format!(
                "holds {} dimensions; a metric filter can have at most {MAX_DIMENSIONS}",
                transformation.dimensions.len()
            ),
        ));
    }
    for (key, value) in &transformation.dimensions {
        let key_ok = (1..=255).contains(&key.chars().count())
            && key.is_ascii()
            && !key.trim().is_empty()
            && !key.starts_with(':');
        if !key_ok {
            return Err(Invalid::new(
                "dimensions",
                format!(
                    "\"{key}\" is not a dimension name (1 to 255 ASCII characters, not all spaces, not starting with a colon)"
                ),
            ));
        }
        if !(1..=255).contains(&value.chars().count()) {
            return Err(Invalid::new(
                format!("dimensions.{key}"),
                "must be 1 to 255 characters",
            ));
        }
    }
    Ok(())
}

fn check_name(field: &str, value: &str, max: usize, forbidden: &str) -> Result<(), Invalid> {
    if !(1..=max).contains(&value.chars().count()) {
        return Err(Invalid::new(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    if let Some(c) = value.chars().find(|c| forbidden.contains(*c)) {
        return Err(Invalid::new(
            field,
            format!("\"{value}\" contains '{c}', which is not allowed"),
        ));
    }
    Ok(())
}
