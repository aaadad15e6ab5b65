//! The optional route of AWS's own CloudTrail events into ingest (RouteCloudTrailEvents): the
//! EventBridge rule takes exactly the detail-types ingest reads and targets ingest, which takes
//! the event an EventBridge target receives as it is, on the path a direct invocation takes.

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::ingest::{CLOUDTRAIL_DETAIL_TYPES, Ingestor};
use cairn_shared::service::Service;
use cairn_test_support::{repo_file, sample_event};
use serde_yaml_ng::Value;
use time::macros::datetime;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_file("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

/// `!GetAtt X.Arn` as `X.Arn`, `!Ref X` as `X`.
fn reference(value: &Value) -> String {
    match value {
        Value::Tagged(tagged) => tagged.value.as_str().expect("a name").to_owned(),
        other => panic!("not a reference: {other:?}"),
    }
}

#[test]
fn the_rule_takes_every_detail_type_ingest_reads_and_invokes_ingest() {
    let template = template();
    let rule = &template["Resources"]["CloudTrailEventsRule"];
    assert_eq!(rule["Condition"].as_str(), Some("RoutesCloudTrailEvents"));
    let properties = &rule["Properties"];
    assert_eq!(
        properties["State"].as_str(),
        Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    );
    let pattern = properties["EventPattern"].as_mapping().expect("a pattern");
    assert_eq!(pattern.len(), 1, "detail-type alone, from every source");
    let detail_types: Vec<&str> = properties["EventPattern"]["detail-type"]
        .as_sequence()
        .expect("detail-types")
        .iter()
        .map(|value| value.as_str().expect("a detail-type"))
        .collect();
    assert_eq!(detail_types, CLOUDTRAIL_DETAIL_TYPES);
    let targets = properties["Targets"].as_sequence().expect("targets");
    assert_eq!(targets.len(), 1);
    assert_eq!(reference(&targets[0]["Arn"]), "IngestFunction.Arn");

    let permission = &template["Resources"]["CloudTrailEventsPermission"];
    assert_eq!(
        permission["Condition"].as_str(),
        Some("RoutesCloudTrailEvents")
    );
    let properties = &permission["Properties"];
    assert_eq!(reference(&properties["FunctionName"]), "IngestFunction.Arn");
    assert_eq!(properties["Action"].as_str(), Some("lambda:InvokeFunction"));
    assert_eq!(
        properties["Principal"].as_str(),
        Some("events.amazonaws.com")
    );
    assert_eq!(
        reference(&properties["SourceArn"]),
        "CloudTrailEventsRule.Arn"
    );
}

/// What the rule delivers, one event of each detail-type, goes through ingest's direct path
/// (the handler passes a payload that is no Function URL request to `Ingestor::handle`) and is
/// accepted and staged for the sample trails.
#[tokio::test]
async fn ingest_takes_each_detail_type_the_rule_delivers() {
    let config = Config::load(&repo_file("cairn.yaml")).expect("cairn.yaml");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path().to_path_buf());
    store
        .create_bucket(&config.state_bucket)
        .await
        .expect("the state bucket");
    let channel = "arn:aws:cloudtrail:us-east-1:123456789012:channel/cairn";
    let ingestor = Ingestor::new(&config, &store, "us-east-1", channel);
    let now = datetime!(2026-11-20 10:06:00 UTC);
    for (n, detail_type) in CLOUDTRAIL_DETAIL_TYPES.iter().enumerate() {
        let mut event = sample_event("ingest-eventbridge.json");
        event["detail-type"] = (*detail_type).into();
        event["detail"]["eventID"] = format!("7d2e9a41-0000-4000-9000-00000000020{n}").into();
        let report = ingestor
            .handle(&event.to_string(), now)
            .await
            .unwrap_or_else(|error| panic!("{detail_type}: {error}"));
        assert!(
            report.answer.failed.is_empty(),
            "{detail_type}: {:?}",
            report.answer.failed
        );
        assert_eq!(report.answer.successful.len(), 1, "{detail_type}");
        assert_eq!(report.staged_events, 1, "{detail_type}");
    }
}
