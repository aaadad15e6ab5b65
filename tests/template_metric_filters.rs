//! template.yaml's AWS::Logs::MetricFilter resources are cairn.yaml's metric filters, field for
//! field, each with an alarm on its metric: AWS-side alarms and forward's matcher count the same.

use cairn_shared::config::Config;
use cairn_test_support::repo_file;
use serde_yaml_ng::Value;

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[test]
fn the_templates_metric_filters_are_cairn_yamls() {
    let config = Config::load(&repo_file("cairn.yaml")).expect("cairn.yaml");
    let template: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(repo_file("template.yaml")).expect("template.yaml"),
    )
    .expect("template.yaml is YAML");
    let resources = template["Resources"].as_mapping().expect("Resources");
    let of_type = |kind: &str| -> Vec<&Value> {
        resources
            .values()
            .filter(|resource| resource["Type"].as_str() == Some(kind))
            .map(|resource| &resource["Properties"])
            .collect()
    };
    let filters = of_type("AWS::Logs::MetricFilter");
    let alarms = of_type("AWS::CloudWatch::Alarm");
    assert_eq!(filters.len(), config.metric_filters.len());
    for filter in &config.metric_filters {
        let name = &filter.filter_name;
        let resource = filters
            .iter()
            .find(|p| p["FilterName"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no AWS::Logs::MetricFilter named {name}"));
        assert_eq!(
            resource["FilterPattern"].as_str(),
            Some(filter.pattern.as_str()),
            "{name}"
        );
        let transformations = resource["MetricTransformations"]
            .as_sequence()
            .expect("list");
        assert_eq!(transformations.len(), 1, "{name}");
        let t = &transformations[0];
        let expected = filter.metric.transformation();
        assert_eq!(
            t["MetricName"].as_str(),
            Some(expected.metric_name.as_str()),
            "{name}"
        );
        assert_eq!(
            t["MetricNamespace"].as_str(),
            Some(expected.metric_namespace.as_str()),
            "{name}"
        );
        assert_eq!(
            text(&t["MetricValue"]),
            Some(expected.metric_value.clone()),
            "{name}"
        );
        assert_eq!(t["DefaultValue"].as_f64(), expected.default_value, "{name}");
        assert_eq!(
            t["Unit"].as_str().map(str::to_owned),
            expected.unit.map(|unit| serde_json::to_value(unit)
                .expect("unit")
                .as_str()
                .expect("a name")
                .to_owned()),
            "{name}"
        );
        assert!(
            t["Dimensions"].is_null() && expected.dimensions.is_empty(),
            "{name}: dimensions are not in the template yet"
        );
        assert!(
            alarms.iter().any(|alarm| alarm["MetricName"].as_str()
                == Some(expected.metric_name.as_str())
                && alarm["Namespace"].as_str() == Some(expected.metric_namespace.as_str())
                && alarm_name(alarm) == Some(format!("${{AWS::StackName}}-{name}"))),
            "{name}: no alarm named {name} after the stack on {}",
            expected.metric_name
        );
    }
}

/// An alarm's `AlarmName: !Sub …` text: the filter's name (its control) after the stack's.
fn alarm_name(alarm: &Value) -> Option<String> {
    match &alarm["AlarmName"] {
        Value::Tagged(tagged) if tagged.tag == "!Sub" => tagged.value.as_str().map(str::to_owned),
        _ => None,
    }
}
