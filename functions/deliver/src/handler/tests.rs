use std::path::Path;

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_test_support::repo_file;
use lambda_runtime::{Context, Diagnostic};
use serde_json::{Value, json};
use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-11-20 10:10:00 UTC);

fn schedule(time: Option<&str>) -> EventBridgeEvent {
    schedule_with_detail(time, json!({}))
}

/// A tick as template.yaml's DeliverShardSchedule sends it: its targets' constant input, the
/// shard in `detail`, and no time (tests/template_shards.rs checks the template's inputs).
fn shard_tick(shard: Value) -> EventBridgeEvent {
    let input = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {"shard": shard}});
    serde_json::from_value(input).expect("the template's shard tick")
}

fn schedule_with_detail(time: Option<&str>, detail: Value) -> EventBridgeEvent {
    let mut event = json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "region": "us-east-1", "detail": detail
    });
    if let Some(time) = time {
        event["time"] = Value::from(time);
    }
    serde_json::from_value(event).expect("a schedule event")
}

fn millis(time: OffsetDateTime) -> u64 {
    u64::try_from(time.unix_timestamp_nanos() / 1_000_000).expect("after the epoch")
}

#[test]
fn the_schedule_time_is_the_clock_when_it_is_ahead_of_the_real_one() {
    let ahead = NOW + Duration::hours(2);
    assert_eq!(run_clock(Some(ahead), NOW), ahead);
}

#[test]
fn a_late_retry_of_an_old_tick_runs_on_the_real_clock() {
    assert_eq!(run_clock(Some(NOW - Duration::hours(3)), NOW), NOW);
    assert_eq!(run_clock(Some(NOW), NOW), NOW);
}

#[test]
fn an_event_without_a_time_runs_on_the_real_clock() {
    let event = schedule(None);
    assert_eq!(scheduled_time(&event).expect("no time"), None);
    assert_eq!(run_clock(None, NOW), NOW);
}

#[test]
fn the_schedule_time_is_read_to_the_second() {
    let event = schedule(Some("2026-11-20T12:00:00Z"));
    assert_eq!(
        scheduled_time(&event).expect("a time"),
        Some(datetime!(2026-11-20 12:00:00 UTC))
    );
}

#[test]
fn the_claim_window_ends_a_margin_before_the_deadline() {
    let deadline = NOW + Duration::minutes(15);
    assert_eq!(
        claim_window(deadline, NOW),
        Duration::minutes(15) - FINISH_MARGIN
    );
}

#[test]
fn a_deadline_within_the_margin_claims_nothing_new() {
    assert_eq!(
        claim_window(NOW + Duration::seconds(30), NOW),
        Duration::ZERO
    );
    assert_eq!(claim_window(NOW + FINISH_MARGIN, NOW), Duration::ZERO);
}

#[test]
fn a_deadline_not_in_the_future_is_a_local_duration() {
    // `cargo lambda watch` sends a few minutes in milliseconds: a moment in 1970.
    let watch_deadline = deadline(300_000).expect("a time");
    assert_eq!(claim_window(watch_deadline, NOW), LOCAL_CLAIM_WINDOW);
    assert_eq!(claim_window(NOW, NOW), LOCAL_CLAIM_WINDOW);
}

#[test]
fn the_deadline_is_read_in_milliseconds() {
    let deadline_at = NOW + Duration::milliseconds(900_250);
    assert_eq!(deadline(millis(deadline_at)).expect("a time"), deadline_at);
}

#[test]
fn a_deadline_no_clock_can_show_is_a_bad_event() {
    let error = FunctionError::from(deadline(u64::MAX).expect_err("out of range"));
    assert_eq!(Diagnostic::from(error).error_type, "BadEvent");
}

fn invocation(
    event: EventBridgeEvent,
    deadline_at: OffsetDateTime,
) -> LambdaEvent<EventBridgeEvent> {
    let mut context = Context::default();
    context.deadline = millis(deadline_at);
    LambdaEvent::new(event, context)
}

fn sample_yaml() -> String {
    std::fs::read_to_string(repo_file("cairn.yaml")).expect("the sample cairn.yaml")
}

fn sample_config() -> Config {
    Config::from_yaml(&sample_yaml(), "cairn.yaml").expect("the sample cairn.yaml")
}

/// The sample configuration with no trail asking for digests, so a run needs no signing key.
fn config_without_digests() -> Config {
    let yaml = sample_yaml().replace(
        "EnableLogFileValidation: true",
        "EnableLogFileValidation: false",
    );
    Config::from_yaml(&yaml, "cairn.yaml").expect("the sample without digests")
}

async fn store_with_buckets(config: &Config, dir: &Path) -> LocalObjectStore {
    let store = LocalObjectStore::new(dir.to_owned());
    store
        .create_bucket(&config.state_bucket)
        .await
        .expect("state bucket");
    for trail in &config.trails {
        store
            .create_bucket(trail.bucket())
            .await
            .expect("trail bucket");
    }
    store
}

#[tokio::test]
async fn a_tick_with_nothing_staged_delivers_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_without_digests();
    let store = store_with_buckets(&config, dir.path()).await;
    let deliverers = Deliverer::every_shard(&config, &store, None);
    let event = invocation(
        schedule(Some("2026-11-20T10:10:00Z")),
        NOW + Duration::minutes(5),
    );
    let report = handle(&deliverers, event, NOW).await.expect("a run");
    assert_eq!((report.events, report.log_files.len()), (0, 0));
}

#[tokio::test]
async fn a_validating_trail_without_a_signing_key_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = sample_config();
    let store = store_with_buckets(&config, dir.path()).await;
    let deliverers = Deliverer::every_shard(&config, &store, None);
    let event = invocation(schedule(None), NOW + Duration::minutes(5));
    let error = handle(&deliverers, event, NOW)
        .await
        .expect_err("no signer");
    assert_eq!(Diagnostic::from(error).error_type, "ConfigInvalid");
}

#[tokio::test]
async fn a_missing_state_bucket_is_reported_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_without_digests();
    let store = LocalObjectStore::new(dir.path().to_owned());
    let deliverers = Deliverer::every_shard(&config, &store, None);
    let event = invocation(schedule(None), NOW + Duration::minutes(5));
    let error = handle(&deliverers, event, NOW)
        .await
        .expect_err("no bucket");
    let diagnostic = Diagnostic::from(error);
    assert!(
        diagnostic.error_type == "StagingUnavailable",
        "{diagnostic:?}"
    );
}

#[test]
fn a_tick_names_its_shard_in_its_detail_and_the_schedules_own_tick_is_shard_0() {
    assert_eq!(shard(&schedule(None)).expect("shard 0"), 0);
    assert_eq!(shard(&shard_tick(json!(3))).expect("shard 3"), 3);
    for unreadable in [json!("1"), json!(-1), json!(1.5), json!(70000)] {
        let error = shard(&shard_tick(unreadable.clone())).expect_err("not a shard");
        assert_eq!(
            error.to_string(),
            format!("the schedule's detail.shard is {unreadable}, not a shard number (0, 1, …)")
        );
        assert_eq!(
            Diagnostic::from(FunctionError::from(error)).error_type,
            "BadEvent"
        );
    }
}

#[tokio::test]
async fn each_shards_tick_delivers_that_shards_events_and_a_shard_the_configuration_lacks_is_a_configuration_error()
 {
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "deliverShards: 2\n{}",
        sample_yaml().replace(
            "EnableLogFileValidation: true",
            "EnableLogFileValidation: false"
        )
    );
    let config = Config::from_yaml(&yaml, "cairn.yaml").expect("two shards");
    let store = store_with_buckets(&config, dir.path()).await;
    let body = std::fs::read_to_string(repo_file("events/ingest-records.json")).expect("sample");
    let staged = cairn_shared::ingest::Ingestor::new(&config, &store, "us-east-1", "channel")
        .handle(&body, NOW)
        .await
        .expect("ingest");
    assert_eq!(staged.staged.len(), 2, "{:?}", staged.staged);
    let deliverers = Deliverer::every_shard(&config, &store, None);

    let mut delivered = 0;
    for index in [0, 1] {
        let event = invocation(shard_tick(json!(index)), NOW + Duration::minutes(5));
        let report = handle(&deliverers, event, NOW).await.expect("a run");
        assert!(
            report.batches == 1 && report.events > 0,
            "shard {index}: {report:?}"
        );
        delivered += report.log_files.len();
    }
    assert!(delivered > 0);
    let left = store
        .list_all(&config.state_bucket, cairn_shared::layout::STAGING_PREFIX)
        .await
        .expect("list");
    assert!(left.is_empty(), "{left:?}");

    let event = invocation(shard_tick(json!(2)), NOW + Duration::minutes(5));
    let error = handle(&deliverers, event, NOW)
        .await
        .expect_err("no shard 2");
    assert_eq!(
        error.to_string(),
        "deliver was asked for shard 2, but cairn.yaml's deliverShards is 2 (shards 0 to 1)"
    );
    assert_eq!(Diagnostic::from(error).error_type, "ConfigInvalid");
}
