//! template.yaml schedules exactly the deliver shards cairn.yaml can ask for: its
//! `DeliverShards` parameter allows 1 to `MAX_DELIVER_SHARDS`; shard 0 runs on the function's
//! own schedule and each other shard on a target of `DeliverShardSchedule`, whose input names
//! it as deliver's handler reads it; deliver's reserved concurrency is one run per shard; and
//! ingest and deliver get the count, to check against cairn.yaml's at start-up.

use cairn_shared::config::MAX_DELIVER_SHARDS;
use cairn_test_support::repo_file;
use serde_yaml_ng::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_file("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

fn is_ref_to(value: &Value, name: &str) -> bool {
    matches!(value, Value::Tagged(tagged) if tagged.tag == "!Ref" && tagged.value.as_str() == Some(name))
}

/// A list item as the stack has it when every condition holds: `!If [condition, item, none]`
/// is its item.
fn when_true(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!If" => &tagged.value[1],
        other => other,
    }
}

#[test]
fn the_parameter_allows_every_shard_count_the_configuration_does() {
    let template = template();
    let parameter = &template["Parameters"]["DeliverShards"];
    let allowed: Vec<u64> = parameter["AllowedValues"]
        .as_sequence()
        .expect("AllowedValues")
        .iter()
        .map(|value| value.as_u64().expect("a number"))
        .collect();
    assert_eq!(
        allowed,
        (1..=u64::from(MAX_DELIVER_SHARDS)).collect::<Vec<_>>()
    );
    assert_eq!(parameter["Default"].as_u64(), Some(1));
}

#[test]
fn each_shard_after_the_first_has_a_tick_naming_it() {
    let template = template();
    let rule = &template["Resources"]["DeliverShardSchedule"];
    assert_eq!(rule["Type"].as_str(), Some("AWS::Events::Rule"));
    assert!(
        is_ref_to(&rule["Properties"]["ScheduleExpression"], "DeliveryRate"),
        "the shards tick at deliver's rate"
    );
    let targets = rule["Properties"]["Targets"]
        .as_sequence()
        .expect("Targets");
    let shards: Vec<u16> = targets
        .iter()
        .map(when_true)
        .map(|target| {
            let input = target["Input"].as_str().expect("a constant input");
            let event: serde_json::Value = serde_json::from_str(input).expect("JSON");
            assert_eq!(event["detail-type"], "Scheduled Event", "{input}");
            assert_eq!(event["source"], "aws.events", "{input}");
            let shard = event["detail"]["shard"].as_u64().expect("detail.shard");
            assert_eq!(
                target["Id"].as_str(),
                Some(format!("deliver-shard-{shard}").as_str())
            );
            u16::try_from(shard).expect("a shard")
        })
        .collect();
    assert_eq!(shards, (1..MAX_DELIVER_SHARDS).collect::<Vec<_>>());
    // The rule may invoke deliver.
    let permission = &template["Resources"]["DeliverShardSchedulePermission"];
    assert_eq!(
        permission["Properties"]["Principal"].as_str(),
        Some("events.amazonaws.com")
    );
    assert_eq!(rule["Condition"].as_str(), permission["Condition"].as_str());
}

#[test]
fn deliver_runs_once_per_shard_and_ingest_and_deliver_know_the_count() {
    let template = template();
    let resources = &template["Resources"];
    let deliver = &resources["DeliverFunction"]["Properties"];
    assert!(is_ref_to(
        &deliver["ReservedConcurrentExecutions"],
        "DeliverShards"
    ));
    for function in ["IngestFunction", "DeliverFunction"] {
        let variables = &resources[function]["Properties"]["Environment"]["Variables"];
        assert!(
            is_ref_to(&variables["CAIRN_DELIVER_SHARDS"], "DeliverShards"),
            "{function}"
        );
    }
}
