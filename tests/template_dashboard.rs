//! template.yaml's CloudWatch dashboard: every metric it draws from Cairn's namespace is one the
//! functions emit (name, namespace and dimensions as `cairn_shared::emf::cairn` defines them),
//! and every function has a widget with its Errors and Throttles.

use std::collections::BTreeSet;

use cairn_shared::emf::cairn::{CairnMetric, NAMESPACE, TRAIL_DIMENSION};
use cairn_test_support::repo_file;
use serde_json::Value as Json;
use serde_yaml_ng::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_file("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

/// The dashboard body, its `${…}` references replaced by their names (`${IngestFunction}` by
/// `IngestFunction`), as JSON.
fn dashboard_body(template: &Value) -> Json {
    let body = &template["Resources"]["Dashboard"]["Properties"]["DashboardBody"];
    let Value::Tagged(tagged) = body else {
        panic!("DashboardBody is not a !Sub: {body:?}")
    };
    assert_eq!(tagged.tag, "!Sub");
    let text = tagged.value.as_str().expect("a !Sub of one string");
    let mut plain = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        plain.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${…}") + start;
        plain.push_str(&rest[start + 2..end]);
        rest = &rest[end + 1..];
    }
    plain.push_str(rest);
    serde_json::from_str(&plain).expect("the dashboard body is JSON")
}

/// A metric a widget draws: a SEARCH expression's schema and metric name, or a metric array's
/// namespace, name and dimensions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Drawn {
    namespace: String,
    name: String,
    dimensions: Vec<String>,
    /// Dimension values named in the widget (a metric array's; a SEARCH takes every value).
    values: Vec<String>,
}

/// `SEARCH('{Namespace,Dim1,…} MetricName="Name"', 'Stat', Period)`.
fn parse_search(expression: &str) -> Drawn {
    let query = expression
        .strip_prefix("SEARCH('")
        .and_then(|rest| rest.split_once("',"))
        .map(|(query, _)| query)
        .unwrap_or_else(|| panic!("not a SEARCH: {expression}"));
    let schema = query
        .strip_prefix('{')
        .and_then(|rest| rest.split_once('}'))
        .unwrap_or_else(|| panic!("no {{schema}}: {expression}"));
    let mut names = schema.0.split(',').map(str::to_owned);
    let namespace = names.next().expect("a namespace");
    let name = schema
        .1
        .trim()
        .strip_prefix("MetricName=\"")
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no MetricName=\"…\": {expression}"));
    Drawn {
        namespace,
        name: name.to_owned(),
        dimensions: names.collect(),
        values: Vec::new(),
    }
}

/// Every metric of one widget.
fn drawn(widget: &Json) -> Vec<Drawn> {
    let metrics = widget["properties"]["metrics"]
        .as_array()
        .unwrap_or_else(|| panic!("a metric widget without metrics: {widget}"));
    metrics
        .iter()
        .map(|metric| {
            let parts = metric.as_array().expect("a metric is an array");
            if let Some(expression) = parts[0]["expression"].as_str() {
                return parse_search(expression);
            }
            let text: Vec<&str> = parts
                .iter()
                .map(|part| part.as_str().expect("a metric array of strings"))
                .collect();
            let (dimensions, values) = text[2..]
                .chunks(2)
                .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
                .unzip();
            Drawn {
                namespace: text[0].to_owned(),
                name: text[1].to_owned(),
                dimensions,
                values,
            }
        })
        .collect()
}

#[test]
fn every_cairn_metric_drawn_is_one_the_functions_emit() {
    let body = dashboard_body(&template());
    let emitted: BTreeSet<&str> = CairnMetric::ALL.iter().map(|m| m.name()).collect();
    let widgets = body["widgets"].as_array().expect("widgets");
    let mut cairn = BTreeSet::new();
    for widget in widgets {
        assert_eq!(widget["type"], "metric", "{widget}");
        for metric in drawn(widget) {
            if metric.namespace != NAMESPACE {
                continue;
            }
            assert!(
                emitted.contains(metric.name.as_str()),
                "{} is not a metric the functions emit",
                metric.name
            );
            assert_eq!(metric.dimensions, [TRAIL_DIMENSION], "{metric:?}");
            cairn.insert(metric.name);
        }
    }
    // The dashboard shows every metric the functions emit, so each is looked at somewhere.
    assert_eq!(
        cairn.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        emitted
    );
}

#[test]
fn every_function_has_a_widget_with_its_errors_and_throttles() {
    let template = template();
    let body = dashboard_body(&template);
    let functions: Vec<&str> = template["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, _)| name.as_str().expect("a logical ID"))
        .collect();
    assert_eq!(functions.len(), 4, "{functions:?}");
    let widgets = body["widgets"].as_array().expect("widgets");
    for function in functions {
        let found = widgets.iter().any(|widget| {
            let lambda: BTreeSet<String> = drawn(widget)
                .into_iter()
                .filter(|m| {
                    m.namespace == "AWS/Lambda"
                        && m.dimensions == ["FunctionName"]
                        && m.values == [function]
                })
                .map(|m| m.name)
                .collect();
            lambda.contains("Errors") && lambda.contains("Throttles")
        });
        assert!(found, "no widget with {function}'s Errors and Throttles");
    }
}

#[test]
fn searches_are_read_as_the_dashboard_writes_them() {
    assert_eq!(
        parse_search(r#"SEARCH('{Cairn,Trail} MetricName="DeliveryLag"', 'Maximum', 300)"#),
        Drawn {
            namespace: "Cairn".to_owned(),
            name: "DeliveryLag".to_owned(),
            dimensions: vec!["Trail".to_owned()],
            values: Vec::new(),
        }
    );
}
