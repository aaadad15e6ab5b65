//! The optional route of AWS's own CloudTrail events into ingest (RouteCloudTrailEvents): the
//! EventBridge rule takes exactly the detail-types ingest reads and sends each event to ingest's
//! queue, whose batches ingest takes, each message the event as an EventBridge target receives it.

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::ingest::{CLOUDTRAIL_DETAIL_TYPES, Ingestor, QueuedMessage};
use cairn_shared::ports::object_store::ObjectStore;
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
fn the_rule_takes_every_detail_type_ingest_reads_and_queues_them_for_ingest() {
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
    assert_eq!(reference(&targets[0]["Arn"]), "IngestQueue.Arn");

    // Only this rule may send to the queue as EventBridge, and only with the rule.
    let policy = &template["Resources"]["CloudTrailEventsQueuePolicy"];
    assert_eq!(policy["Condition"].as_str(), Some("RoutesCloudTrailEvents"));
    let properties = &policy["Properties"];
    let queues = properties["Queues"].as_sequence().expect("queues");
    assert_eq!(queues.len(), 1);
    assert_eq!(reference(&queues[0]), "IngestQueue");
    let statements = properties["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("statements");
    assert_eq!(statements.len(), 1);
    let statement = &statements[0];
    assert_eq!(statement["Effect"].as_str(), Some("Allow"));
    assert_eq!(
        statement["Principal"]["Service"].as_str(),
        Some("events.amazonaws.com")
    );
    assert_eq!(statement["Action"].as_str(), Some("sqs:SendMessage"));
    assert_eq!(reference(&statement["Resource"]), "IngestQueue.Arn");
    assert_eq!(
        reference(&statement["Condition"]["ArnEquals"]["aws:SourceArn"]),
        "CloudTrailEventsRule.Arn"
    );
    // EventBridge no longer invokes ingest itself: every event goes through the queue.
    assert!(template["Resources"]["CloudTrailEventsPermission"].is_null());
}

/// What the rule delivers, one event of each detail-type, each the body of one message of
/// ingest's queue, is accepted and staged for the sample trails in one staging object, as a
/// batch of the queue's event source reaches `Ingestor::handle_messages`.
#[tokio::test]
async fn ingest_takes_each_detail_type_the_rule_queues() {
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
    let bodies: Vec<(String, String)> = CLOUDTRAIL_DETAIL_TYPES
        .iter()
        .enumerate()
        .map(|(n, detail_type)| {
            let mut event = sample_event("ingest-eventbridge.json");
            event["detail-type"] = (*detail_type).into();
            event["detail"]["eventID"] = format!("7d2e9a41-0000-4000-9000-00000000020{n}").into();
            (detail_type.to_string(), event.to_string())
        })
        .collect();
    let messages: Vec<QueuedMessage> = bodies
        .iter()
        .map(|(id, body)| QueuedMessage { id, body })
        .collect();
    let report = ingestor
        .handle_messages(&messages, now)
        .await
        .expect("staged");
    assert_eq!(report.refused, []);
    let accepted: Vec<&str> = report.accepted.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(accepted, CLOUDTRAIL_DETAIL_TYPES);
    assert_eq!(report.staged_events, CLOUDTRAIL_DETAIL_TYPES.len());
    let objects = store
        .list_all(&config.state_bucket, "staging/")
        .await
        .expect("list");
    assert_eq!(objects.len(), 1, "one staging object for the batch");
}
