//! Metric filters on forwarded events, and the embedded-metric-format (EMF) records that stand in
//! for the metrics CloudWatch Logs would publish.
//!
//! [`GroupFilters::evaluate`] is the one place forward calls the filter engine, so a faster
//! matching API can replace it there alone.
//!
//! One matched event with a data point becomes one EMF record, written by [`crate::emf`]:
//!
//! ```json
//! {"_aws":{"Timestamp":1795169280000,"CloudWatchMetrics":[{"Namespace":"CloudTrailMetrics",
//!   "Dimensions":[["EventSource"]],"Metrics":[{"Name":"Calls","Unit":"Count"}]}]},
//!  "EventSource":"iam.amazonaws.com","Calls":1}
//! ```
//!
//! - `Timestamp` is the event's time (eventTime) in milliseconds, as a metric filter dates the
//!   data points it publishes by the log event's timestamp.
//! - `Dimensions` holds one dimension set: the transformation's dimension names, sorted; `[[]]`
//!   when it has none.
//! - `Unit` is the transformation's unit, `None` when it names none.
//!
//! A transformation's `defaultValue` is what CloudWatch publishes for a period in which nothing
//! matched; periods belong to whoever reads the metrics, so no EMF record is written for it.

use serde_json::value::RawValue;

use crate::alert::{AlertMatch, EventSummary, MetricOut};
use crate::config::{Config, MetricFilter};
use crate::emf::{EmfError, EmfRecord, number};
use crate::filter::{Datum, Message};

/// The metric filters that apply to one log group: those naming it, and those naming none (which
/// apply to every trail's log group).
#[derive(Debug, Clone)]
pub(super) struct GroupFilters<'c> {
    filters: Vec<&'c MetricFilter>,
}

/// One filter matching one event: what its metric publishes for it (`None` when the value or a
/// dimension field is missing or not a number in this event; the match still counts).
#[derive(Debug, Clone)]
pub(super) struct FilterMatch<'c> {
    pub filter: &'c MetricFilter,
    pub datum: Option<Datum>,
}

impl FilterMatch<'_> {
    /// This match of `record` as the alert object lists it.
    pub(super) fn to_alert_match(&self, log_group: &str, record: &RawValue) -> AlertMatch {
        let filter = self.filter;
        let transformation = filter.metric.transformation();
        AlertMatch {
            filter_name: filter.filter_name.clone(),
            filter_pattern: filter.pattern.as_str().to_owned(),
            log_group: log_group.to_owned(),
            metric: MetricOut {
                namespace: transformation.metric_namespace.clone(),
                name: transformation.metric_name.clone(),
                unit: filter.metric.unit(),
                value: self.datum.as_ref().map(|datum| number(datum.value)),
                dimensions: self
                    .datum
                    .as_ref()
                    .map(|datum| datum.dimensions.clone())
                    .unwrap_or_default(),
            },
            event: EventSummary::of(record),
            record: record.to_owned(),
        }
    }
}

impl<'c> GroupFilters<'c> {
    pub(super) fn for_group(config: &'c Config, log_group: &str) -> Self {
        Self {
            filters: config
                .metric_filters
                .iter()
                .filter(|filter| {
                    filter
                        .log_group_name
                        .as_deref()
                        .is_none_or(|name| name == log_group)
                })
                .collect(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Every filter that matches the log event `message`, in configuration order. The message
    /// is prepared once (its JSON indexed at most once) for all the filters.
    pub(super) fn evaluate(&self, message: &str) -> Vec<FilterMatch<'c>> {
        let message = Message::new(message);
        self.filters
            .iter()
            .filter_map(|filter| {
                let matched = filter.pattern.matches_message(&message)?;
                Some(FilterMatch {
                    filter,
                    datum: filter.metric.evaluate_message(&message, &matched),
                })
            })
            .collect()
    }
}

/// The EMF record (one JSON line) for `datum`, published by `filter` for an event at
/// `timestamp_ms`: the transformation's dimensions, by name, then its metric.
pub(super) fn emf_record(
    filter: &MetricFilter,
    datum: &Datum,
    timestamp_ms: i64,
) -> Result<String, EmfError> {
    let transformation = filter.metric.transformation();
    datum
        .dimensions
        .iter()
        .fold(
            EmfRecord::new(&transformation.metric_namespace, timestamp_ms),
            |record, (name, value)| record.dimension(name, value),
        )
        .metric(
            &transformation.metric_name,
            filter.metric.unit(),
            datum.value,
        )
        .to_line()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
accountId: "123456789012"
trails:
  - Name: main
    S3BucketName: cairn-trail-123456789012
    HomeRegion: us-east-1
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:123456789012:log-group:cairn/cloudtrail:*
metricFilters:
  - filterName: Unauthorized
    filterPattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    metricTransformations:
      - metricName: UnauthorizedAPICalls
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
  - filterName: RootUsage
    logGroupName: cairn/cloudtrail
    filterPattern: '{ $.userIdentity.type = "Root" }'
    metricTransformations:
      - metricName: RootAccountUsage
        metricNamespace: CloudTrailMetrics
        metricValue: "1"
        defaultValue: 0
        unit: Count
  - filterName: BytesBySource
    logGroupName: other/group
    filterPattern: '{ $.bytes = * && $.eventSource = * && $.awsRegion = * }'
    metricTransformations:
      - metricName: Bytes
        metricNamespace: Cairn/Test
        metricValue: $.bytes
        unit: Kilobytes/Second
        dimensions:
          Source: $.eventSource
          Region: $.awsRegion
"#;

    fn config() -> Config {
        Config::from_yaml(CONFIG, "test").expect("config")
    }

    fn names<'a>(filters: &'a GroupFilters<'a>) -> Vec<&'a str> {
        filters
            .filters
            .iter()
            .map(|f| f.filter_name.as_str())
            .collect()
    }

    #[test]
    fn a_filter_without_a_log_group_applies_to_every_group() {
        let config = config();
        let main = GroupFilters::for_group(&config, "cairn/cloudtrail");
        assert_eq!(names(&main), ["Unauthorized", "RootUsage"]);
        let other = GroupFilters::for_group(&config, "other/group");
        assert_eq!(names(&other), ["Unauthorized", "BytesBySource"]);
        let none = GroupFilters::for_group(&config, "cairn/else");
        assert_eq!(names(&none), ["Unauthorized"]);
    }

    #[test]
    fn evaluate_names_each_matching_filter_with_its_data_point() {
        let config = config();
        let main = GroupFilters::for_group(&config, "cairn/cloudtrail");
        let message = r#"{"errorCode":"AccessDenied","userIdentity":{"type":"Root"}}"#;
        let matches = main.evaluate(message);
        assert_eq!(matches.len(), 2);
        assert_eq!(matches[0].filter.filter_name, "Unauthorized");
        assert_eq!(matches[1].filter.filter_name, "RootUsage");
        assert_eq!(matches[1].datum.as_ref().map(|d| d.value), Some(1.0));
        assert!(main.evaluate(r#"{"errorCode":"Throttling"}"#).is_empty());

        // The pattern matches but the value is not a number: a match with no data point.
        let other = GroupFilters::for_group(&config, "other/group");
        let matches = other.evaluate(
            r#"{"bytes":"many","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1"}"#,
        );
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].datum, None);
    }

    #[test]
    fn emf_records_follow_the_specification_exactly() {
        let config = config();
        let main = GroupFilters::for_group(&config, "cairn/cloudtrail");
        let matches =
            main.evaluate(r#"{"errorCode":"AccessDenied","userIdentity":{"type":"Root"}}"#);
        let emf = |m: &FilterMatch<'_>| {
            emf_record(m.filter, m.datum.as_ref().unwrap(), 1_795_169_280_000).unwrap()
        };
        assert_eq!(
            emf(&matches[0]),
            r#"{"_aws":{"Timestamp":1795169280000,"CloudWatchMetrics":[{"Namespace":"CloudTrailMetrics","Dimensions":[[]],"Metrics":[{"Name":"UnauthorizedAPICalls","Unit":"None"}]}]},"UnauthorizedAPICalls":1}"#
        );
        assert_eq!(
            emf(&matches[1]),
            r#"{"_aws":{"Timestamp":1795169280000,"CloudWatchMetrics":[{"Namespace":"CloudTrailMetrics","Dimensions":[[]],"Metrics":[{"Name":"RootAccountUsage","Unit":"Count"}]}]},"RootAccountUsage":1}"#
        );

        let other = GroupFilters::for_group(&config, "other/group");
        let matches = other
            .evaluate(r#"{"bytes":2.5,"eventSource":"s3.amazonaws.com","awsRegion":"eu-west-1"}"#);
        assert_eq!(
            emf(&matches[0]),
            r#"{"_aws":{"Timestamp":1795169280000,"CloudWatchMetrics":[{"Namespace":"Cairn/Test","Dimensions":[["Region","Source"]],"Metrics":[{"Name":"Bytes","Unit":"Kilobytes/Second"}]}]},"Region":"eu-west-1","Source":"s3.amazonaws.com","Bytes":2.5}"#
        );
        // Every record is valid JSON with the targets on the root node.
        let value: serde_json::Value = serde_json::from_str(&emf(&matches[0])).unwrap();
        assert_eq!(value["Bytes"], 2.5);
        assert_eq!(value["Source"], "s3.amazonaws.com");
    }

    #[test]
    fn a_dimension_that_would_overwrite_a_member_is_refused() {
        let config = Config::from_yaml(
            r#"
accountId: "123456789012"
metricFilters:
  - filterName: Clash
    filterPattern: '{ $.a = * }'
    metricTransformations:
      - metricName: A
        metricNamespace: N
        metricValue: "1"
        dimensions:
          A: $.a
"#,
            "test",
        )
        .expect("config");
        let filters = GroupFilters::for_group(&config, "g");
        let matches = filters.evaluate(r#"{"a":"x"}"#);
        let err = emf_record(matches[0].filter, matches[0].datum.as_ref().unwrap(), 0)
            .expect_err("clash");
        assert!(matches!(err, EmfError::Clash { .. }), "{err}");
    }
}
