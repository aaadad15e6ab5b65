//! A prepared message answers as the previous engine did, for every pattern and event the
//! example tests write and every real CloudTrail record, whichever patterns shared it before.

use std::collections::BTreeSet;

use super::Message;
use crate::filter::json::{self, reference};
use crate::filter::test_support::{example_literals, stratus_messages};
use crate::filter::{FilterPattern, Match, PatternKind};

/// Events that probe how JSON is read: escapes, duplicates, undecodable strings, odd shapes.
const PROBES: &[&str] = &[
    r#"{"eventName": "Consol\u0065Login", "k\u0065y": "a\"b"}"#,
    r#"{"eventName": "A", "eventName": "ConsoleLogin"}"#,
    r#"{"eventName": "\ud800", "errorCode": "AccessDenied"}"#,
    r#"{"\ud800": 1, "errorCode": "AccessDenied", "a": 1}"#,
    r#"{"a": {"\udc00x": 1, "b": 2}, "users": [{"\ud800": 1}, {"id": 2}]}"#,
    r#"[{"a": 1}, 2]"#,
    r#"{"a": [1, [2, [3]]], "latency": 1e400, "bytes": -0.0}"#,
    r#"{"a": "x", "user": {"id": 1, "id": "1"}, "actions": []}"#,
    "  {\"a\" : 1 }\n",
    "{\"a\": 1} x",
];

fn patterns() -> Vec<FilterPattern> {
    let mut seen = BTreeSet::new();
    example_literals()
        .into_iter()
        .filter(|text| seen.insert(text.clone()))
        .filter_map(|text| FilterPattern::parse(&text).ok())
        .collect()
}

fn events() -> Vec<String> {
    let mut events = example_literals();
    events.extend(PROBES.iter().map(|p| (*p).to_owned()));
    events.extend(stratus_messages());
    events
}

/// What the engine answered before the prepared message existed.
fn previous_answer(pattern: &FilterPattern, event: &str) -> Option<Match> {
    match &pattern.kind {
        PatternKind::Json(json) => reference::matches(json, event).then(Match::default),
        _ => pattern.matches(event),
    }
}

#[test]
fn a_shared_message_answers_as_the_previous_engine() {
    let patterns = patterns();
    let json_patterns = patterns
        .iter()
        .filter(|p| matches!(p.kind, PatternKind::Json(_)))
        .count();
    assert!(json_patterns > 80, "{json_patterns} JSON patterns");
    let events = events();
    let mut matched = 0;
    for event in &events {
        // One message for all patterns, as a metric filter set uses it; its index is built by
        // whichever JSON pattern comes first and reused by the rest.
        let message = Message::new(event);
        for pattern in &patterns {
            let got = pattern.matches_message(&message);
            assert_eq!(
                got,
                previous_answer(pattern, event),
                "{} on {event:?}",
                pattern.as_str()
            );
            assert_eq!(pattern.matches(event), got, "{}", pattern.as_str());
            matched += usize::from(got.is_some());
        }
    }
    assert!(
        matched > 1_000,
        "only {matched} matches: the check is too weak"
    );
}

#[test]
fn json_fields_read_from_a_shared_message_as_before() {
    let patterns = patterns();
    let selectors: Vec<_> = patterns
        .iter()
        .filter_map(|p| match &p.kind {
            PatternKind::Json(json) => Some(reference::selectors(json)),
            _ => None,
        })
        .flatten()
        .collect();
    let mut found = 0;
    for event in events() {
        let message = Message::new(&event);
        for steps in &selectors {
            let got = message.json().and_then(|d| json::extract(steps, d));
            assert_eq!(
                got.as_deref(),
                reference::extract(steps, &event).as_deref(),
                "{steps:?} in {event:?}"
            );
            found += usize::from(got.is_some());
        }
    }
    assert!(found > 1_000, "only {found} values found");
}

#[test]
fn only_json_patterns_read_the_event_as_json() {
    let event = r#"{"level": "ERROR", "bytes": 12}"#;
    let message = Message::new(event);
    let terms = FilterPattern::parse("ERROR").unwrap_or_else(|e| panic!("{e}"));
    let delimited = FilterPattern::parse("[a, ...]").unwrap_or_else(|e| panic!("{e}"));
    assert!(terms.matches_message(&message).is_some());
    assert!(delimited.matches_message(&message).is_some());
    assert!(message.json.get().is_none(), "indexed without need");
    let json = FilterPattern::parse("{ $.bytes > 10 }").unwrap_or_else(|e| panic!("{e}"));
    assert!(json.matches_message(&message).is_some());
    assert!(message.json.get().is_some_and(Option::is_some));
    assert_eq!(message.as_str(), event);
    assert_eq!(format!("{message:?}"), format!("Message({event:?})"));
}

#[test]
fn metric_fields_come_from_the_shared_message() {
    use crate::filter::Metric;
    use crate::filter::MetricTransformation;

    let pattern = FilterPattern::parse(r#"{ $.bytes = * && $.src = * && $.n IS NULL }"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let transformation = MetricTransformation {
        metric_name: "M".to_owned(),
        metric_namespace: "N".to_owned(),
        metric_value: "$.bytes".to_owned(),
        default_value: None,
        dimensions: [("Source".to_owned(), "$.src".to_owned())]
            .into_iter()
            .collect(),
        unit: None,
    };
    let metric = Metric::compile(&pattern, &transformation).unwrap_or_else(|e| panic!("{e}"));
    let source = pattern.field("$.src").unwrap_or_else(|e| panic!("{e}"));
    for event in [
        r#"{"bytes": 1500, "src": "s3", "n": null}"#,
        r#"{"bytes": "2.5", "src": "s\u0033", "n": null}"#,
        r#"{"bytes": "many", "src": "s3", "n": null}"#,
    ] {
        let message = Message::new(event);
        let matched = pattern
            .matches_message(&message)
            .unwrap_or_else(|| panic!("{event}"));
        assert_eq!(
            metric.evaluate_message(&message, &matched),
            metric.evaluate(event, &matched),
            "{event}"
        );
        assert_eq!(
            source.value_in_message(&message, &matched).as_deref(),
            Some("s3")
        );
        assert_eq!(source.value(event, &matched).as_deref(), Some("s3"));
    }
    // An unescaped value is borrowed from the event, not copied.
    let event = r#"{"bytes": 1, "src": "s3", "n": null}"#;
    let message = Message::from(event);
    let matched = pattern.matches_message(&message).unwrap_or_default();
    assert!(matches!(
        source.value_in_message(&message, &matched),
        Some(std::borrow::Cow::Borrowed("s3"))
    ));
}
