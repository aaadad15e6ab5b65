//! `cairn list-insights-metric-data`: `aws cloudtrail list-insights-metric-data` over the
//! Insights counters deliver keeps, with the AWS CLI's (v1) options and output.
//!
//! The parameters and their defaults are ListInsightsMetricData's (CloudTrail API Reference,
//! "ListInsightsMetricData"): Period 60, 300 or 3600 (default 3600); DataType FillWithZeros or
//! NonZeroData (default NonZeroData); EndTime exclusive (default now), StartTime default 90 days
//! before now; MaxResults 1 to 21600 (default 21600); ErrorCode required for
//! ApiErrorRateInsight. The response's members print in the model's order: EventSource,
//! EventName, InsightType, ErrorCode, Timestamps, Values, NextToken.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use cairn_shared::config::Config;
use cairn_shared::insights::{self, InsightKind, MetricQuery};
use cairn_shared::ports::object_store::ObjectStore;
use clap::{Args, ValueEnum};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::args::{parse_timestamp, region};
use crate::output::{AwsCliError, write_aws_cli_json};

const OPERATION: &str = "ListInsightsMetricData";
const MAX_RESULTS: i64 = 21_600;

/// Lists the per-period counts behind Insights events, as `aws cloudtrail
/// list-insights-metric-data` does: the graph the CloudTrail console draws for an Insights
/// event.
///
/// For one API (--event-source and --event-name) and Insights type, the number of write calls
/// (ApiCallRateInsight) or of calls that returned --error-code (ApiErrorRateInsight) per period
/// of eventTime, in the account of cairn.yaml and the Region of --region, read from the
/// counters deliver keeps for Insights (the state bucket's insights/{account}/{region}/).
///
/// With --trail-name, the series behind Insights on that trail's data events instead: its data
/// calls, read or write (ApiCallRateInsight), or those that returned --error-code, from the
/// trail's own counters (insights/trails/{trail}/{account}/{region}/), as ListInsightsMetricData
/// reads them with TrailName.
///
/// What Cairn keeps bounds what there is (CloudTrail keeps minutes for 15 days, hours for 90):
/// hourly counts for the 7-day baseline window and an hour, per-minute counts (with their
/// errorCodes) for the last 60 minutes. --period 3600 reads the hours; --period 60 or 300, or
/// any --error-code, reads the minutes.
///
/// Timestamps print as AWS CLI v1 prints them: epoch seconds (1722513600.0), each the start
/// of its period. Values are counts per period.
///
/// Examples:
///
///   cairn list-insights-metric-data --event-source iam.amazonaws.com \
///     --event-name CreateAccessKey --insight-type ApiCallRateInsight
///
///   cairn list-insights-metric-data --region eu-west-1 --event-source s3.amazonaws.com \
///     --event-name GetBucketPolicy --insight-type ApiErrorRateInsight \
///     --error-code AccessDenied --period 60 --data-type FillWithZeros
///
///   cairn list-insights-metric-data --trail-name objects --event-source s3.amazonaws.com \
///     --event-name GetObject --insight-type ApiCallRateInsight --period 60
#[derive(Debug, Clone, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ListInsightsMetricDataArgs {
    /// The service the API belongs to, as its records' eventSource (iam.amazonaws.com).
    #[arg(long, value_name = "SOURCE")]
    pub event_source: String,

    /// The API, as its records' eventName (CreateAccessKey).
    #[arg(long, value_name = "NAME")]
    pub event_name: String,

    /// ApiCallRateInsight (write calls) or ApiErrorRateInsight (calls that returned an error;
    /// needs --error-code).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub insight_type: InsightTypeArg,

    /// The errorCode to count (AccessDenied), for ApiErrorRateInsight.
    #[arg(long, value_name = "CODE")]
    pub error_code: Option<String>,

    /// The first period's time: ISO 8601 / RFC 3339 (2024-08-01T12:00:00Z; 2024-08-01 for
    /// midnight UTC) or epoch seconds. Default: 90 days ago.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub start_time: Option<OffsetDateTime>,

    /// The end, exclusive, in the forms --start-time takes. Default: now.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub end_time: Option<OffsetDateTime>,

    /// Seconds per data point: 60, 300 or 3600 (default 3600).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 3600,
        allow_negative_numbers = true
    )]
    pub period: i64,

    /// NonZeroData (default): only periods with a count. FillWithZeros: every period from
    /// --start-time to --end-time, 0.0 where nothing was counted.
    #[arg(long, value_name = "TYPE", value_enum, default_value_t = DataType::NonZeroData)]
    pub data_type: DataType,

    /// The most data points to print, 1 to 21600 (default 21600). When more remain, the
    /// output ends with a NextToken to pass to --next-token.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_results: Option<i64>,

    /// The NextToken a previous answer printed; pass the same other options with it.
    #[arg(long, value_name = "TOKEN")]
    pub next_token: Option<String>,

    /// For Insights on data events: the trail (its Name or TrailARN) whose data events were
    /// counted. Leave it out for management events.
    #[arg(long, value_name = "TRAIL")]
    pub trail_name: Option<String>,

    /// The Region whose counters are read. Default: AWS_REGION, else AWS_DEFAULT_REGION, else
    /// us-east-1.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
pub(crate) enum InsightTypeArg {
    ApiCallRateInsight,
    ApiErrorRateInsight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
pub(crate) enum DataType {
    FillWithZeros,
    NonZeroData,
}

/// ListInsightsMetricData's response, members in the model's order.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Response {
    event_source: String,
    event_name: String,
    insight_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    timestamps: Vec<f64>,
    values: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn invalid(message: impl Into<String>) -> AwsCliError {
    AwsCliError {
        code: "InvalidParameterException",
        operation: OPERATION,
        message: message.into(),
    }
}

pub(crate) async fn run(
    args: &ListInsightsMetricDataArgs,
    config: &Config,
    store: &dyn ObjectStore,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    let region = region(args.region.as_deref());
    let answer = answer(args, config, store, &region, now).await?;
    write_aws_cli_json(&mut std::io::stdout().lock(), &answer)?;
    std::io::stdout().flush()?;
    Ok(ExitCode::SUCCESS)
}

async fn answer(
    args: &ListInsightsMetricDataArgs,
    config: &Config,
    store: &dyn ObjectStore,
    region: &str,
    now: OffsetDateTime,
) -> Result<Response> {
    if ![60, 300, 3600].contains(&args.period) {
        return Err(invalid("Period must be 60, 300 or 3600 seconds.").into());
    }
    let max_results = args.max_results.unwrap_or(MAX_RESULTS);
    if !(1..=MAX_RESULTS).contains(&max_results) {
        return Err(invalid(format!("MaxResults must be from 1 to {MAX_RESULTS}.")).into());
    }
    let kind = match args.insight_type {
        InsightTypeArg::ApiCallRateInsight => InsightKind::ApiCallRateInsight,
        InsightTypeArg::ApiErrorRateInsight => InsightKind::ApiErrorRateInsight,
    };
    if kind == InsightKind::ApiErrorRateInsight && args.error_code.is_none() {
        return Err(
            invalid("ErrorCode is required when InsightType is ApiErrorRateInsight.").into(),
        );
    }
    let end = args.end_time.unwrap_or(now).unix_timestamp();
    let start = args
        .start_time
        .unwrap_or(now - Duration::days(90))
        .unix_timestamp();
    if start >= end {
        return Err(invalid("StartTime must be before EndTime.").into());
    }
    let from = match &args.next_token {
        Some(token) => token
            .parse::<i64>()
            .ok()
            .filter(|at| (start..end).contains(at))
            .ok_or_else(|| invalid("The NextToken is not one this command printed."))?,
        None => start,
    };
    let query = MetricQuery {
        source: &args.event_source,
        name: &args.event_name,
        kind,
        error_code: args.error_code.as_deref(),
        start: from,
        end,
        period: args.period,
    };
    let data_trail = match &args.trail_name {
        None => None,
        Some(wanted) => Some(data_trail(config, wanted)?),
    };
    let place = insights::Place {
        account: &config.account_id,
        region,
        data_trail,
    };
    let points = insights::metric_data(store, &config.state_bucket, &place, &query).await?;
    let points = match args.data_type {
        DataType::NonZeroData => points,
        DataType::FillWithZeros => filled(&points, from, end, args.period),
    };
    let next_token = points
        .get(max_results as usize)
        .map(|(at, _)| at.to_string());
    let shown = &points[..points.len().min(max_results as usize)];
    Ok(Response {
        event_source: args.event_source.clone(),
        event_name: args.event_name.clone(),
        insight_type: kind.as_str(),
        error_code: args.error_code.clone(),
        timestamps: shown.iter().map(|(at, _)| *at as f64).collect(),
        values: shown.iter().map(|(_, count)| *count as f64).collect(),
        next_token,
    })
}

/// The trail of cairn.yaml named `wanted` (by Name or TrailARN), when it has Insights on data
/// events.
fn data_trail<'c>(
    config: &'c Config,
    wanted: &str,
) -> Result<insights::DataTrail<'c>, AwsCliError> {
    let trail = config.trail(wanted).ok_or_else(|| AwsCliError {
        code: "TrailNotFoundException",
        operation: OPERATION,
        message: format!(
            "Unknown trail: {wanted} for the user: {}",
            config.account_id
        ),
    })?;
    if !trail.insight_selection().watches_data() {
        return Err(invalid(format!(
            "Trail {} does not log Insights events on data events: no InsightSelectors entry has EventCategories Data.",
            trail.name()
        )));
    }
    Ok(insights::DataTrail {
        name: trail.name(),
        arn: trail.arn(),
    })
}

/// Every period from the one holding `start` to the last before `end`, `points`' counts
/// where they have one, else 0.
fn filled(points: &[(i64, u64)], start: i64, end: i64, period: i64) -> Vec<(i64, u64)> {
    let mut counts = points.iter().copied().peekable();
    let mut all = Vec::new();
    let mut at = start - start.rem_euclid(period);
    while at < end {
        let count = match counts.peek() {
            Some((point, count)) if *point == at => {
                let count = *count;
                counts.next();
                count
            }
            _ => 0,
        };
        all.push((at, count));
        at += period;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_fill_every_period_between_the_counts() {
        assert_eq!(
            filled(&[(120, 3), (300, 1)], 90, 360, 60),
            [(60, 0), (120, 3), (180, 0), (240, 0), (300, 1)]
        );
        assert!(filled(&[], 60, 60, 60).is_empty());
    }

    #[test]
    fn a_trail_name_is_a_trail_with_insights_on_data_events() {
        let config = Config::from_yaml(
            r#"
accountId: "123456789012"
stateBucket: state
trails:
  - Name: objects
    S3BucketName: trail
    HomeRegion: us-east-1
    AdvancedEventSelectors:
      - FieldSelectors:
          - {Field: eventCategory, Equals: [Data]}
          - {Field: resources.type, Equals: ["AWS::S3::Object"]}
    InsightSelectors:
      - {InsightType: ApiCallRateInsight, EventCategories: [Data]}
  - Name: management
    S3BucketName: trail
    HomeRegion: us-east-1
    InsightSelectors:
      - {InsightType: ApiCallRateInsight}
"#,
            "test",
        )
        .unwrap();
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/objects";
        for wanted in ["objects", arn] {
            let trail = data_trail(&config, wanted).unwrap();
            assert_eq!((trail.name, trail.arn), ("objects", arn));
        }
        let unknown = data_trail(&config, "nope").unwrap_err();
        assert_eq!(
            (unknown.code, unknown.message.as_str()),
            (
                "TrailNotFoundException",
                "Unknown trail: nope for the user: 123456789012"
            )
        );
        let management = data_trail(&config, "management").unwrap_err();
        assert_eq!(management.code, "InvalidParameterException");
        assert!(
            management
                .message
                .contains("no InsightSelectors entry has EventCategories Data"),
            "{}",
            management.message
        );
    }

    #[test]
    fn the_answer_prints_as_the_aws_cli_prints_it() {
        let response = Response {
            event_source: "iam.amazonaws.com".into(),
            event_name: "CreateAccessKey".into(),
            insight_type: "ApiCallRateInsight",
            error_code: None,
            timestamps: vec![1_785_585_600.0],
            values: vec![20.0],
            next_token: None,
        };
        assert_eq!(
            crate::output::to_aws_cli_json(&response).unwrap(),
            "{\n    \"EventSource\": \"iam.amazonaws.com\",\n    \"EventName\": \"CreateAccessKey\",\n    \"InsightType\": \"ApiCallRateInsight\",\n    \"Timestamps\": [\n        1785585600.0\n    ],\n    \"Values\": [\n        20.0\n    ]\n}"
        );
    }
}
