use std::path::PathBuf;

use serde_json::Value;

use super::record::{self, InsightKind, State, Statistics, Subject};
use crate::clock::EventTime;

/// The keys of a JSON text in the order they appear, at every depth.
fn keys_in_order(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("\":") {
        let before = &rest[..at];
        let open = before.rfind('"').expect("a key's opening quote");
        keys.push(before[open + 1..].to_owned());
        rest = &rest[at + 2..];
    }
    keys
}

fn aws_example(event_name: &str, state: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/awsdocs_user_guide_examples/awsdocs_example_records.json");
    let body: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    body["Records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["eventType"] == "AwsCloudTrailInsight"
                && r["insightDetails"]["eventName"] == event_name
                && r["insightDetails"]["state"] == state
        })
        .expect("the User Guide's example")
        .clone()
}

#[test]
fn a_record_matches_the_user_guides_example_field_by_field_and_in_order() {
    // "CloudTrail log file examples", the Insights event with attributions: what Cairn writes
    // for the same anomaly has every member, in the same order, with the same values, but for
    // the two ids, which Cairn derives from the anomaly.
    let example = aws_example("CompleteLifecycleAction", "Start");
    let subject = Subject {
        account: "838185438692",
        region: "us-east-1",
        data_trail_arn: None,
        source: "autoscaling.amazonaws.com",
        name: "CompleteLifecycleAction",
        kind: InsightKind::ApiCallRateInsight,
    };
    let role = |n: u8| format!("arn:aws:sts::012345678901:assumed-role/CodeDeployRole{n}");
    let baseline = 8.82145e-05;
    let statistics = Statistics {
        baseline_average: baseline,
        insight_average: 0.6,
        insight_duration: 5,
        baseline_duration: 11336,
        attributions: [
            (
                (1..=3).map(|n| (role(n), 0.2)).collect(),
                vec![(role(1), baseline)],
            ),
            (
                vec![("codedeploy.amazonaws.com".into(), 0.6)],
                vec![("codedeploy.amazonaws.com".into(), baseline)],
            ),
            (vec![("null".into(), 0.6)], vec![("null".into(), baseline)]),
        ],
    };
    let start = EventTime::parse("2020-07-21T20:56:00Z").unwrap();
    let shared = record::shared_event_id(&subject, start);
    let text = record::encode(&subject, &shared, State::Start, start, &statistics);

    let mut ours: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ours["sharedEventID"], shared.as_str());
    assert_ne!(ours["eventID"], ours["sharedEventID"]);
    for id in ["eventID", "sharedEventID"] {
        ours[id] = example[id].clone();
    }
    assert_eq!(ours, example);
    // serde_json's maps sort their keys, so the order is checked on the texts: Cairn's
    // against the example's as the User Guide prints it.
    let raw = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/awsdocs_user_guide_examples/awsdocs_example_records.json"),
    )
    .unwrap();
    let from = raw.find("\"abcd00b0-ccfe").unwrap();
    let begin = raw[..from].rfind("{\n").unwrap();
    let printed = &raw[begin..];
    let printed_keys = keys_in_order(printed);
    let our_keys = keys_in_order(&text);
    assert_eq!(printed_keys[..our_keys.len()], our_keys[..]);
}

#[test]
fn a_record_on_data_events_matches_the_user_guides_data_example_in_order() {
    // "Viewing Insights events for trails with the AWS CLI", the Insights event on data events:
    // eventVersion 1.09, `sourceEventCategory` after `insightType` and `insightSource` (the
    // trail's ARN) after `insightContext`. One difference is Cairn's by design: its error rate
    // is per API, so it writes no `errorCode` member and lists the errorCodes among the
    // attributions instead (README, "Insights").
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "../tests/fixtures/awsdocs_insights_data_events/awsdocs_insights_data_event_examples.json",
    );
    let printed = std::fs::read_to_string(path).unwrap();
    let mut example: Value = serde_json::from_str::<Value>(&printed).unwrap()["Records"][0].clone();
    let subject = Subject {
        account: "123456789012",
        region: "us-east-2",
        data_trail_arn: Some("arn:aws:cloudtrail:us-east-2:123456789012:trail/TrailName"),
        source: "s3.amazonaws.com",
        name: "PutObject",
        kind: InsightKind::ApiErrorRateInsight,
    };
    let admin = "arn:aws:sts::123456789012:assumed-role/Admin";
    let browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let statistics = Statistics {
        baseline_average: 0.0,
        insight_average: 1.2,
        insight_duration: 5,
        baseline_duration: 11092,
        attributions: [
            (vec![(admin.into(), 1.2)], vec![]),
            (vec![(browser.into(), 1.2)], vec![]),
            (vec![("InvalidRequest".into(), 1.2)], vec![]),
        ],
    };
    let start = EventTime::parse("2024-12-11T16:52:00Z").unwrap();
    let shared = record::shared_event_id(&subject, start);
    let text = record::encode(&subject, &shared, State::Start, start, &statistics);

    let mut ours: Value = serde_json::from_str(&text).unwrap();
    for id in ["eventID", "sharedEventID"] {
        ours[id] = example[id].clone();
    }
    let error_attribution = ours["insightDetails"]["insightContext"]["attributions"]
        .as_array_mut()
        .unwrap()
        .remove(2);
    assert_eq!(error_attribution["attribute"], "errorCode");
    let error_code = example["insightDetails"]
        .as_object_mut()
        .unwrap()
        .remove("errorCode");
    assert_eq!(error_code, Some(Value::from("InvalidRequest")));
    assert_eq!(ours, example);
    // The order, on the texts (serde_json's maps sort their keys): the example's as printed,
    // without its errorCode, against Cairn's, without its last attribution (errorCode, the
    // members up to `insightSource`).
    let mut printed_keys = keys_in_order(&printed);
    printed_keys.retain(|key| key != "Records" && key != "errorCode");
    let mut our_keys = keys_in_order(&text);
    let last_attribution = our_keys.iter().rposition(|key| key == "attribute").unwrap();
    let source = our_keys
        .iter()
        .position(|key| key == "insightSource")
        .unwrap();
    our_keys.drain(last_attribution..source);
    assert_eq!(printed_keys, our_keys);
}

#[test]
fn start_and_end_share_an_id_that_names_the_anomaly() {
    let subject = Subject {
        account: "123456789012",
        region: "us-east-1",
        data_trail_arn: None,
        source: "ssm.amazonaws.com",
        name: "UpdateInstanceInformation",
        kind: InsightKind::ApiCallRateInsight,
    };
    let start = EventTime::parse("2019-11-14T00:51:00Z").unwrap();
    let again = record::shared_event_id(&subject, start);
    assert_eq!(record::shared_event_id(&subject, start), again);
    let other = Subject {
        kind: InsightKind::ApiErrorRateInsight,
        ..subject
    };
    assert_ne!(record::shared_event_id(&other, start), again);
    let on_data = Subject {
        data_trail_arn: Some("arn:aws:cloudtrail:us-east-1:123456789012:trail/data"),
        ..subject
    };
    assert_ne!(record::shared_event_id(&on_data, start), again);
}

/// The management events of one account and Region.
const MANAGEMENT: super::Place<'static> = super::Place {
    account: "123456789012",
    region: "us-east-1",
    data_trail: None,
};

/// A deterministic uniform stream (a 64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn poisson(&mut self, mean: f64) -> u64 {
        // Knuth's method in steps of at most 30, so e^-mean stays representable.
        let mut count = 0;
        let mut left = mean;
        while left > 0.0 {
            let step = left.min(30.0);
            left -= step;
            let limit = (-step).exp();
            let mut product = self.uniform();
            while product > limit {
                count += 1;
                product *= self.uniform();
            }
        }
        count
    }
}

/// The false-positive rate of the rule: a week of baseline, then a week judged minute by minute,
/// of steady Poisson traffic with a daily cycle (half again the mean at the peak, half of it at
/// the trough) on APIs from one call in 20 minutes to 30 calls a minute, delivered every 5
/// minutes. `cargo test -p cairn-shared --lib steady -- --nocapture` prints the rate.
#[test]
fn a_steady_week_with_a_daily_cycle_raises_nothing() {
    use super::Call;
    use super::counters::Counters;

    const RATES: [f64; 6] = [0.05, 0.2, 1.0, 3.0, 10.0, 30.0];
    let first = 29_000_000i64; // a minute since the epoch, at midnight UTC
    let first = first - first.rem_euclid(1440);
    let names: Vec<String> = (0..RATES.len()).map(|i| format!("Api{i}")).collect();
    let mut random = Lcg(11);
    let mut counters = Counters::default();
    let mut records = Vec::new();
    let mut judged = 0u64;
    let days = 14;
    for step in 0..days * 1440 / 5 {
        let from = first + step * 5;
        let mut calls = Vec::new();
        for minute in from..from + 5 {
            let phase = ((minute - first) % 1440 - 15 * 60) as f64 / 1440.0 * std::f64::consts::TAU;
            let cycle = 1.0 + 0.5 * phase.cos();
            for (i, rate) in RATES.iter().enumerate() {
                for _ in 0..random.poisson(rate * cycle) {
                    calls.push(Call {
                        time: EventTime::from_unix_seconds(minute * 60),
                        source: "ec2.amazonaws.com",
                        name: &names[i],
                        rated: true,
                        error: None,
                        arn: Some("arn:aws:iam::123456789012:role/app"),
                        agent: None,
                    });
                }
            }
        }
        let delivered_at = (from + 5) * 60 + 30;
        let last_closed = super::last_closed_minute(delivered_at);
        counters.count(&calls, last_closed);
        let found = counters.judge(&MANAGEMENT, last_closed);
        if step >= 7 * 1440 / 5 {
            judged += 5 * RATES.len() as u64;
        }
        counters.prune(last_closed, &format!("b{step}"), found.clone());
        records.extend(found.records);
    }
    // What the counters keep per API after two weeks: the storage per API per week.
    let bytes = serde_json::to_vec(&counters).unwrap().len();
    println!(
        "counters: {bytes} bytes for {} APIs after {days} days ({} bytes per API)",
        RATES.len(),
        bytes / RATES.len()
    );
    let rate = records.len() as f64 / judged as f64;
    println!(
        "false positives: {} Insights records over {judged} API-minutes judged ({rate:.2e} per API-minute)",
        records.len()
    );
    assert!(records.is_empty(), "{records:#?}");
}

/// The counters forget who called in a minute once no window the rule has still to judge can
/// start an anomaly there (outside an open anomaly), and keep every minute's count and
/// errorCodes for ListInsightsMetricData.
#[test]
fn callers_are_kept_only_for_the_minutes_a_start_may_still_need() {
    use super::counters::Counters;
    use super::{Call, InsightKind, MetricQuery, WINDOW_MINUTES};

    let first = 29_000_000i64;
    let calls: Vec<Call<'_>> = (first..first + 20)
        .map(|minute| Call {
            time: EventTime::from_unix_seconds(minute * 60),
            source: "iam.amazonaws.com",
            name: "CreateUser",
            rated: true,
            error: Some("AccessDenied"),
            arn: Some("arn:aws:iam::123456789012:user/mallory"),
            agent: Some("aws-cli/2.15.0"),
        })
        .collect();
    let last_closed = first + 19;
    let mut counters = Counters::default();
    counters.count(&calls, last_closed);
    let found = counters.judge(&MANAGEMENT, last_closed);
    assert!(found.records.is_empty(), "no baseline yet");
    counters.prune(last_closed, "b0", found);

    let document = serde_json::to_value(&counters).unwrap();
    let series = &document["apis"]["iam.amazonaws.com CreateUser"];
    let first_startable = last_closed + 2 - WINDOW_MINUTES;
    for name in ["calls", "errors"] {
        let minutes = series[name]["minutes"].as_object().unwrap();
        assert_eq!(minutes.len(), 20);
        for (minute, tally) in minutes {
            let minute: i64 = minute.parse().unwrap();
            let callers_kept = minute >= first_startable;
            assert_eq!(tally["count"], 1);
            assert_eq!(tally["by"][2], serde_json::json!({"AccessDenied": 1}));
            for attribute in [0, 1] {
                assert_eq!(
                    tally["by"][attribute].as_object().unwrap().len(),
                    usize::from(callers_kept),
                    "{name} minute {minute}"
                );
            }
        }
    }
    let errors = MetricQuery {
        source: "iam.amazonaws.com",
        name: "CreateUser",
        kind: InsightKind::ApiErrorRateInsight,
        error_code: Some("AccessDenied"),
        start: first * 60,
        end: (first + 20) * 60,
        period: 60,
    };
    assert_eq!(counters.points(&errors).len(), 20);
}
