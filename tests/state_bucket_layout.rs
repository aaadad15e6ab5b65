//! template.yaml's state bucket agrees with `cairn_shared::layout`: its lifecycle rules expire
//! exactly the prefixes the layout gives a retention in days, after those days, and every IAM
//! resource in the state bucket is a key or prefix the layout names. Changing either side alone
//! fails here.

use cairn_shared::layout::{DELIVER_FOLDER, INSIGHT_ALERTS_PREFIX, Retention, STATE_OBJECTS};
use cairn_test_support::repo_file;
use serde_yaml_ng::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_file("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

/// What a lifecycle rule's ExpirationInDays says: a number of days, or `!Ref Parameter`.
fn expiration(value: &Value) -> Retention {
    match value {
        Value::Number(days) => Retention::Days(
            days.as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .expect("whole days"),
        ),
        Value::Tagged(tagged) if tagged.tag == "!Ref" => {
            let name = tagged.value.as_str().expect("!Ref NAME");
            Retention::DaysParameter(
                STATE_OBJECTS
                    .iter()
                    .find_map(|object| match object.retention {
                        Retention::DaysParameter(parameter) if parameter == name => Some(parameter),
                        _ => None,
                    })
                    .unwrap_or_else(|| panic!("no layout prefix expires after parameter {name}")),
            )
        }
        other => panic!("unexpected ExpirationInDays {other:?}"),
    }
}

fn lifecycle_rules() -> Vec<(String, Retention)> {
    let template = template();
    let rules =
        template["Resources"]["StateBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
            .as_sequence()
            .expect("the state bucket has lifecycle rules");
    rules
        .iter()
        .map(|rule| {
            assert_eq!(rule["Status"].as_str(), Some("Enabled"), "{rule:?}");
            let prefix = rule["Prefix"].as_str().expect("a rule by prefix");
            (prefix.to_owned(), expiration(&rule["ExpirationInDays"]))
        })
        .collect()
}

#[test]
fn every_lifecycle_rule_expires_a_layout_prefix_after_its_retention() {
    let rules = lifecycle_rules();
    for (prefix, retention) in &rules {
        let object = STATE_OBJECTS
            .iter()
            .find(|object| object.path == prefix)
            .unwrap_or_else(|| panic!("the lifecycle rule on {prefix} is not a layout prefix"));
        assert!(
            object.path.ends_with('/'),
            "{prefix} is a key, not a prefix"
        );
        assert_eq!(
            object.retention, *retention,
            "{prefix}: the template and the layout disagree on how long it is kept"
        );
    }
    for object in STATE_OBJECTS {
        let expires = matches!(
            object.retention,
            Retention::Days(_) | Retention::DaysParameter(_)
        );
        let ruled = rules.iter().any(|(prefix, _)| prefix == object.path);
        assert_eq!(
            expires,
            ruled,
            "{} ({}) is kept {:?} but the template {} a lifecycle rule for it",
            object.path,
            object.holds,
            object.retention,
            if ruled { "has" } else { "has no" }
        );
    }
}

/// Every `${StateBucket.Arn}/…` in the template, with what follows the bucket.
fn state_bucket_paths(value: &Value, paths: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            if let Some(path) = text.strip_prefix("${StateBucket.Arn}/") {
                paths.push(path.to_owned());
            }
        }
        Value::Sequence(items) => items
            .iter()
            .for_each(|item| state_bucket_paths(item, paths)),
        Value::Mapping(map) => map
            .values()
            .for_each(|item| state_bucket_paths(item, paths)),
        Value::Tagged(tagged) => state_bucket_paths(&tagged.value, paths),
        _ => {}
    }
}

#[test]
fn every_state_bucket_resource_is_a_layout_key_or_prefix() {
    let mut paths = Vec::new();
    state_bucket_paths(&template()["Resources"], &mut paths);
    assert!(paths.len() > 5, "found only {paths:?}");
    for path in paths {
        // The bucket policy's deny of insecure transport covers every object.
        if path == "*" {
            continue;
        }
        let named = match path.strip_suffix('*') {
            Some(prefix) => {
                // Folders the layout names inside a listed prefix: deliver's bookkeeping, and
                // the Insights alerts only deliver writes among notify's alerts.
                prefix == DELIVER_FOLDER
                    || prefix == INSIGHT_ALERTS_PREFIX
                    || STATE_OBJECTS
                        .iter()
                        .any(|object| object.path == prefix && prefix.ends_with('/'))
            }
            None => STATE_OBJECTS
                .iter()
                .any(|object| object.path == path && !path.ends_with('/')),
        };
        assert!(
            named,
            "${{StateBucket.Arn}}/{path} is neither a key nor a prefix of the layout"
        );
    }
}
