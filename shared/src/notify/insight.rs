//! Insights alerts: an Insights Start, explained ([`crate::alert::InsightAlert`], written by
//! deliver), as one message a person reads at a glance.
//!
//! - **Subject**: `Cairn Insights: unusual {eventName} {call|error} rate in {region}: {rate}/min
//!   vs baseline {rate}/min` (cut as the match alerts' subjects are).
//! - **Body**: which API and what kind of rate, since when; how far above its baseline (the
//!   Start's first minute against the baseline's average, both per minute); who, with what
//!   tool and which errors made most of the calls (the record's top attributions, each with its
//!   baseline average); a chart of the rate per minute around the Start against the baseline;
//!   the detection rule that fired, with its window and parameters; the Insights event's ids
//!   and files; and the Start record as delivered, in CloudTrail's `{"Records":[…]}` shape.
//! - **Message attributes**, for subscription filter policies: `insightType`, `eventName`,
//!   `eventSource`, `account` and `region`.
//!
//! Every number is one deliver wrote in the alert object: nothing is recomputed here.

use std::collections::BTreeMap;

use crate::alert::{AttributionSummary, InsightAlert, InsightStart, RuleFired};
use crate::clock::EventTime;
use crate::ports::notifier::{AttributeValue, Notification};

use super::alert::fit_subject;

/// The eight heights of the chart, lowest first.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// How many top values of each attribute the body lists (the record has up to five).
const LISTED_VALUES: usize = 3;

/// The words for what an Insights type counts.
struct Words {
    rate: &'static str,
    unit: &'static str,
    counted: String,
}

fn words(insight: &InsightStart) -> Words {
    let (rate, unit, calls) = if insight.insight_type == "ApiErrorRateInsight" {
        ("error rate", "errors", "calls that returned an error")
    } else if insight.data_trail.is_some() {
        ("call rate", "calls", "calls (read or write)")
    } else {
        ("call rate", "calls", "write calls")
    };
    let counted = match &insight.data_trail {
        Some(trail) => format!("data {calls} logged by trail {trail}"),
        None => calls.to_owned(),
    };
    Words {
        rate,
        unit,
        counted,
    }
}

/// The message announcing `alert` (see the module documentation).
pub(super) fn message(alert: &InsightAlert) -> Notification {
    let insight = &alert.insight;
    let words = words(insight);
    let mut body = format!(
        "CloudTrail Insights: an unusual {} of {} ({}),\n{} in account {}, {}, since {}.\n\n",
        words.rate,
        insight.event_name,
        insight.event_source,
        words.counted,
        insight.account,
        insight.region,
        insight.start
    );
    body.push_str(&format!(
        "How far:  {} {unit} a minute in its first minute, against a baseline of {} {unit} a\n          \
         minute over the 7 days before: {}.\n",
        number(insight.insight_average),
        number(insight.baseline_average),
        ratio(insight),
        unit = words.unit,
    ));
    for (label, attribution) in ["Who:", "Tool:", "Errors:"]
        .into_iter()
        .zip(&insight.attributions)
    {
        body.push_str(&attribution_lines(label, attribution, words.unit));
    }
    body.push('\n');
    body.push_str(&chart_text(insight, words.unit));
    body.push('\n');
    body.push_str(&rule_text(&insight.rule, words.unit));
    body.push_str(&format!(
        "\nInsights event: sharedEventID {}, Start eventID {}.\n",
        insight.shared_event_id, insight.event_id
    ));
    for file in &alert.files {
        body.push_str(&format!(
            "Delivered in: s3://{}/{} (trail {})\n",
            file.s3_bucket, file.s3_object_key, file.trail
        ));
    }
    body.push_str("\nThe Start record, as delivered:\n{\"Records\":[\n");
    body.push_str(alert.record.get());
    body.push_str("\n]}");
    Notification {
        subject: Some(fit_subject(&format!(
            "Cairn Insights: unusual {} {} in {}: {}/min vs baseline {}/min",
            insight.event_name,
            words.rate,
            insight.region,
            number(insight.insight_average),
            number(insight.baseline_average)
        ))),
        message: body,
        attributes: attributes(insight),
    }
}

/// A rate as people read it: whole numbers plain, others to two decimals (three significant
/// digits below one).
fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// `71 times the baseline` (one decimal under 10), or `none at all before`.
fn ratio(insight: &InsightStart) -> String {
    if insight.baseline_average <= 0.0 {
        return "none at all before".to_owned();
    }
    let times = insight.insight_average / insight.baseline_average;
    if times >= 10.0 {
        format!("{times:.0} times the baseline")
    } else {
        format!("{times:.1} times the baseline")
    }
}

/// `Who:      arn:…:user/ci, 28.60 calls a minute (baseline 0.400)`, one line per top value.
fn attribution_lines(label: &str, attribution: &AttributionSummary, unit: &str) -> String {
    let mut text = String::new();
    for (i, value) in attribution.insight.iter().take(LISTED_VALUES).enumerate() {
        let baseline = attribution
            .baseline
            .iter()
            .find(|b| b.value == value.value)
            .map_or("not among the baseline's top values".to_owned(), |b| {
                format!("baseline {}", number(b.average))
            });
        let shown = match (attribution.attribute.as_str(), value.value.as_str()) {
            ("errorCode", "null") => "none (succeeded)",
            (_, "null") => "(none given)",
            (_, other) => other,
        };
        let head = if i == 0 { label } else { "" };
        text.push_str(&format!(
            "{head:<10}{shown}, {} {unit} a minute ({baseline})\n",
            number(value.average)
        ));
    }
    text
}

/// The chart of the rate per minute around the Start against the baseline: two rows of blocks
/// on one scale (one block a minute, the tallest the busiest minute), the Start marked below.
fn chart_text(insight: &InsightStart, unit: &str) -> String {
    let counts = &insight.per_minute.counts;
    let Ok(first) = EventTime::parse(&insight.per_minute.first) else {
        return String::new();
    };
    let Ok(start) = EventTime::parse(&insight.start) else {
        return String::new();
    };
    if counts.is_empty() {
        return String::new();
    }
    let last = EventTime::from_unix_seconds(first.unix_seconds() + 60 * (counts.len() as i64 - 1));
    let column = (start.unix_seconds() - first.unix_seconds()).div_euclid(60);
    let [rate, baseline] = chart(counts, insight.baseline_average);
    let top = counts
        .iter()
        .copied()
        .map(|c| c as f64)
        .fold(insight.baseline_average, f64::max);
    let mut text = format!(
        "{} a minute around the Start, {} to {} UTC, one block a minute (█ = {}):\n",
        capitalized(unit),
        clock(first),
        clock(last),
        number(top)
    );
    text.push_str(&format!("{rate}  {unit}\n"));
    text.push_str(&format!(
        "{baseline}  baseline, {}\n",
        number(insight.baseline_average)
    ));
    if (0..counts.len() as i64).contains(&column) {
        text.push_str(&format!(
            "{}↑ the Start, {} (block {})\n",
            " ".repeat(column as usize),
            clock(start),
            column + 1
        ));
    }
    text
}

/// The two rows of the chart: `counts` and the `baseline` rate, each minute a block of eight
/// heights on a scale whose top is the largest of them all. A value up to an eighth of the top
/// (zero included) is the lowest block, so every minute has its block.
pub(super) fn chart(counts: &[u64], baseline: f64) -> [String; 2] {
    let top = counts
        .iter()
        .map(|&count| count as f64)
        .fold(baseline, f64::max);
    let block = |value: f64| {
        let level = if top > 0.0 {
            (value / top * BLOCKS.len() as f64).ceil() as usize
        } else {
            0
        };
        BLOCKS[level.clamp(1, BLOCKS.len()) - 1]
    };
    [
        counts.iter().map(|&count| block(count as f64)).collect(),
        counts.iter().map(|_| block(baseline)).collect(),
    ]
}

fn rule_text(rule: &RuleFired, unit: &str) -> String {
    let (from, to) = match EventTime::parse(&rule.window_first) {
        Ok(first) => {
            let last = first.unix_seconds() + 60 * (rule.window_minutes - 1);
            (clock(first), clock(EventTime::from_unix_seconds(last)))
        }
        Err(_) => (rule.window_first.clone(), "?".to_owned()),
    };
    format!(
        "Rule:     Cairn's detection rule (README, \"Insights\") fired on the {minutes} minutes from {from} to\n          \
         {to} UTC: {calls} {unit}, where the busiest hour of the baseline gives {expected}.\n          \
         A Start needs at least {threshold}: the larger of {factor} x {expected} and {expected} + {deviations}\n          \
         standard deviations, and at least {min_calls} {unit}. The anomaly ends with the first\n          \
         {minutes} minutes back to at most {end_below} {unit} ({end_deviations} standard deviations).\n          \
         The baseline is the {baseline_minutes} minutes before the window.\n",
        minutes = rule.window_minutes,
        calls = rule.window_calls,
        expected = number(rule.expected_calls),
        threshold = number(rule.threshold),
        factor = number(rule.start_factor),
        deviations = number(rule.start_deviations),
        min_calls = rule.start_min_calls,
        end_below = number(rule.end_below),
        end_deviations = number(rule.end_deviations),
        baseline_minutes = rule.baseline_minutes,
    )
}

fn clock(time: EventTime) -> String {
    let at = time.to_offset_date_time();
    format!("{:02}:{:02}", at.hour(), at.minute())
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn attributes(insight: &InsightStart) -> BTreeMap<String, AttributeValue> {
    [
        ("insightType", &insight.insight_type),
        ("eventName", &insight.event_name),
        ("eventSource", &insight.event_source),
        ("account", &insight.account),
        ("region", &insight.region),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), AttributeValue::from(value.as_str())))
    .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use super::*;
    use crate::alert::{ALERT_VERSION, InsightFile, PerMinute, ValueAverage};
    use crate::ports::notifier::check_notification;

    fn valued(pairs: &[(&str, f64)]) -> Vec<ValueAverage> {
        pairs
            .iter()
            .map(|(value, average)| ValueAverage {
                value: (*value).to_owned(),
                average: *average,
            })
            .collect()
    }

    /// A burst of RunInstances by one CI user: 30 calls in its first minute against a
    /// baseline of 0.42 a minute.
    fn burst() -> InsightAlert {
        let mut counts = vec![0, 1, 0, 0, 1, 0, 0, 0, 2, 0];
        counts.extend([30, 34, 33, 29, 31, 12, 1]);
        InsightAlert {
            version: ALERT_VERSION,
            insight: InsightStart {
                event_source: "ec2.amazonaws.com".into(),
                event_name: "RunInstances".into(),
                insight_type: "ApiCallRateInsight".into(),
                account: "123456789012".into(),
                region: "us-east-1".into(),
                data_trail: None,
                start: "2026-11-22T10:00:00Z".into(),
                shared_event_id: "5a1c7f0e-0000-4000-8000-000000000001".into(),
                event_id: "5a1c7f0e-0000-4000-8000-000000000002".into(),
                baseline_average: 0.42,
                insight_average: 30.0,
                attributions: vec![
                    AttributionSummary {
                        attribute: "userIdentityArn".into(),
                        insight: valued(&[("arn:aws:iam::123456789012:user/ci", 31.4)]),
                        baseline: valued(&[("arn:aws:iam::123456789012:role/app", 0.42)]),
                    },
                    AttributionSummary {
                        attribute: "userAgent".into(),
                        insight: valued(&[("aws-cli/2.15.0", 31.0), ("Boto3/1.34.0", 0.4)]),
                        baseline: valued(&[("Boto3/1.34.0", 0.42)]),
                    },
                    AttributionSummary {
                        attribute: "errorCode".into(),
                        insight: valued(&[("null", 31.4)]),
                        baseline: valued(&[("null", 0.42)]),
                    },
                ],
                rule: RuleFired {
                    window_minutes: 5,
                    window_first: "2026-11-22T09:56:00Z".into(),
                    window_calls: 30,
                    expected_calls: 2.5,
                    threshold: 25.0,
                    end_below: 7.2434164903,
                    start_factor: 2.0,
                    start_deviations: 6.0,
                    start_min_calls: 25,
                    end_deviations: 3.0,
                    baseline_minutes: 10080,
                },
                per_minute: PerMinute {
                    first: "2026-11-22T09:50:00Z".into(),
                    counts,
                },
            },
            files: vec![InsightFile {
                trail: "main".into(),
                s3_bucket: "cairn-trail-123456789012".into(),
                s3_object_key: "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/11/22/123456789012_CloudTrail-Insight_us-east-1_20261122T1012Z_AbCdEfGhIjKlMnOp.json.gz".into(),
            }],
            record: RawValue::from_string(r#"{"eventVersion":"1.07"}"#.to_owned()).unwrap(),
        }
    }

    #[test]
    fn the_chart_draws_each_minute_on_one_scale_with_the_baseline() {
        assert_eq!(
            chart(&[0, 1, 2, 4, 8], 1.0),
            ["▁▁▂▄█".to_owned(), "▁▁▁▁▁".to_owned()]
        );
        // A baseline above every minute is the top of the scale.
        assert_eq!(chart(&[0, 1], 2.0), ["▁▄".to_owned(), "██".to_owned()]);
        // Nothing at all: every block the lowest.
        assert_eq!(chart(&[0, 0], 0.0), ["▁▁".to_owned(), "▁▁".to_owned()]);
        // Every eighth of the scale has its own height.
        let eighths: Vec<u64> = (1..=8).collect();
        assert_eq!(chart(&eighths, 0.0)[0], "▁▂▃▄▅▆▇█");
    }

    #[test]
    fn a_start_is_explained_in_plain_words() {
        let message = message(&burst());
        assert_eq!(
            message.message,
            "CloudTrail Insights: an unusual call rate of RunInstances (ec2.amazonaws.com),\n\
             write calls in account 123456789012, us-east-1, since 2026-11-22T10:00:00Z.\n\
             \n\
             How far:  30 calls a minute in its first minute, against a baseline of 0.420 calls a\n          \
             minute over the 7 days before: 71 times the baseline.\n\
             Who:      arn:aws:iam::123456789012:user/ci, 31.40 calls a minute (not among the baseline's top values)\n\
             Tool:     aws-cli/2.15.0, 31 calls a minute (not among the baseline's top values)\n          \
             Boto3/1.34.0, 0.400 calls a minute (baseline 0.420)\n\
             Errors:   none (succeeded), 31.40 calls a minute (baseline 0.420)\n\
             \n\
             Calls a minute around the Start, 09:50 to 10:06 UTC, one block a minute (█ = 34):\n\
             ▁▁▁▁▁▁▁▁▁▁███▇█▃▁  calls\n\
             ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁  baseline, 0.420\n          \
             ↑ the Start, 10:00 (block 11)\n\
             \n\
             Rule:     Cairn's detection rule (README, \"Insights\") fired on the 5 minutes from 09:56 to\n          \
             10:00 UTC: 30 calls, where the busiest hour of the baseline gives 2.50.\n          \
             A Start needs at least 25: the larger of 2 x 2.50 and 2.50 + 6\n          \
             standard deviations, and at least 25 calls. The anomaly ends with the first\n          \
             5 minutes back to at most 7.24 calls (3 standard deviations).\n          \
             The baseline is the 10080 minutes before the window.\n\
             \n\
             Insights event: sharedEventID 5a1c7f0e-0000-4000-8000-000000000001, Start eventID 5a1c7f0e-0000-4000-8000-000000000002.\n\
             Delivered in: s3://cairn-trail-123456789012/AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/11/22/123456789012_CloudTrail-Insight_us-east-1_20261122T1012Z_AbCdEfGhIjKlMnOp.json.gz (trail main)\n\
             \n\
             The Start record, as delivered:\n\
             {\"Records\":[\n{\"eventVersion\":\"1.07\"}\n]}"
        );
        assert_eq!(
            message.attributes,
            BTreeMap::from([
                ("insightType".into(), "ApiCallRateInsight".into()),
                ("eventName".into(), "RunInstances".into()),
                ("eventSource".into(), "ec2.amazonaws.com".into()),
                ("account".into(), "123456789012".into()),
                ("region".into(), "us-east-1".into()),
            ])
        );
        assert_eq!(check_notification(&message), Ok(()));
        assert_eq!(
            message.subject.as_deref(),
            Some(
                "Cairn Insights: unusual RunInstances call rate in us-east-1: 30/min vs baseline 0.420/min"
            )
        );
    }

    #[test]
    fn a_start_on_data_events_names_the_trail_that_logs_them() {
        let mut alert = burst();
        alert.insight.event_source = "s3.amazonaws.com".into();
        alert.insight.event_name = "GetObject".into();
        alert.insight.data_trail =
            Some("arn:aws:cloudtrail:us-east-1:123456789012:trail/data".into());
        let calls = message(&alert).message;
        assert!(
            calls.starts_with(
                "CloudTrail Insights: an unusual call rate of GetObject (s3.amazonaws.com),\n\
                 data calls (read or write) logged by trail arn:aws:cloudtrail:us-east-1:123456789012:trail/data in account"
            ),
            "{calls}"
        );
        alert.insight.insight_type = "ApiErrorRateInsight".into();
        let errors = message(&alert).message;
        assert!(
            errors.contains(
                "data calls that returned an error logged by trail arn:aws:cloudtrail:us-east-1:123456789012:trail/data in account 123456789012"
            ),
            "{errors}"
        );
    }

    #[test]
    fn an_error_rate_start_speaks_of_errors_and_a_baseline_of_none() {
        let mut alert = burst();
        alert.insight.insight_type = "ApiErrorRateInsight".into();
        alert.insight.baseline_average = 0.0;
        let message = message(&alert);
        assert_eq!(
            message.subject.as_deref(),
            Some(
                "Cairn Insights: unusual RunInstances error rate in us-east-1: 30/min vs baseline 0/min"
            )
        );
        let body = &message.message;
        assert!(
            body.starts_with(
                "CloudTrail Insights: an unusual error rate of RunInstances (ec2.amazonaws.com),\n\
                 calls that returned an error in account"
            ),
            "{body}"
        );
        assert!(body.contains("30 errors a minute in its first minute, against a baseline of 0 errors a\n          minute over the 7 days before: none at all before.\n"), "{body}");
        assert!(body.contains("Errors a minute around the Start"), "{body}");
    }
}
