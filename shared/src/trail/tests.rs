//! Routing: accounts, Regions, global service events, organization trails, Insights and
//! defaults, then every Stratus Red Team record through two test configurations.

use serde_json::{Value, json};

use super::*;
use crate::config::Config;
use crate::record::{Record, split_batch};
use crate::selectors::testing::{lake_record, parse, raw, s3_object_event};

const ACCOUNT: &str = "111122223333";

fn config(trails: &str) -> Config {
    let yaml = format!("accountId: \"{ACCOUNT}\"\ntrails:\n{trails}");
    Config::from_yaml(&yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"))
}

/// One trail from YAML lines (the first line starts the list item).
fn trail(lines: &str) -> Trail {
    let yaml: String = lines
        .trim()
        .lines()
        .enumerate()
        .map(|(i, line)| format!("{}{}\n", if i == 0 { "  - " } else { "    " }, line.trim()))
        .collect();
    config(&yaml).trails.remove(0)
}

/// A routing case: its name, the record's changes, and the expected (account, region).
type Row<'a> = (&'a str, Value, Option<(&'a str, &'a str)>);

/// Runs routing rows against one trail.
fn route(trail: &Trail, rows: &[Row<'_>]) {
    for (case, changes, expected) in rows {
        let raw = raw(changes.clone());
        let record = parse(&raw);
        let got = trail.selects(&record, ACCOUNT);
        let expected = expected.map(|(account_id, region)| Destination { account_id, region });
        assert_eq!(got, expected, "{}: {case}", trail.name());
    }
}

fn in_region(region: &str) -> Value {
    json!({"awsRegion": region})
}

fn iam(region: &str) -> Value {
    json!({"eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "readOnly": false, "awsRegion": region})
}

fn sts(region: &str) -> Value {
    json!({"eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "readOnly": false, "awsRegion": region})
}

fn insight(kind: &str, region: &str) -> Value {
    json!({
        "eventType": "AwsCloudTrailInsight", "eventCategory": "Insight", "awsRegion": region,
        "eventSource": null, "eventName": null, "sourceIPAddress": null, "userIdentity": null,
        "requestID": null, "readOnly": null, "managementEvent": null,
        "insightDetails": {"state": "Start", "eventSource": "ec2.amazonaws.com",
                           "eventName": "RunInstances", "insightType": kind}
    })
}

#[test]
fn create_trail_defaults_apply() {
    let t = trail("Name: plain\nS3BucketName: cairn-trail\nHomeRegion: us-east-2");
    assert!(!t.is_multi_region());
    assert!(t.include_global_service_events());
    assert!(!t.log_file_validation());
    assert!(!t.is_organization_trail());
    assert_eq!(t.organization_id(), None);
    assert_eq!(t.prefix(), None);
    assert_eq!(
        t.arn(),
        "arn:aws:cloudtrail:us-east-2:111122223333:trail/plain"
    );
    assert!(matches!(t.event_selection(), EventSelection::Default));
    assert!(t.insight_selection().is_empty());
}

#[test]
fn describe_trails_output_pastes_in() {
    let t = trail(
        r#"
        Name: Default
        S3BucketName: cairn-trail
        S3KeyPrefix: audit
        SnsTopicName: arn:aws:sns:us-east-2:111122223333:cairn-notices
        SnsTopicARN: arn:aws:sns:us-east-2:111122223333:cairn-notices
        IncludeGlobalServiceEvents: true
        IsMultiRegionTrail: true
        HomeRegion: us-east-2
        TrailARN: arn:aws:cloudtrail:us-east-2:111122223333:trail/Default
        LogFileValidationEnabled: true
        CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-2:111122223333:log-group:cairn/trail:*
        CloudWatchLogsRoleArn: arn:aws:iam::111122223333:role/CloudTrail_CloudWatchLogs_Role
        KmsKeyId: arn:aws:kms:us-east-2:111122223333:key/12345678-1234-1234-1234-123456789012
        HasCustomEventSelectors: false
        HasInsightSelectors: false
        IsOrganizationTrail: false
        "#,
    );
    assert!(t.log_file_validation());
    assert!(t.is_multi_region());
    assert_eq!(t.prefix(), Some("audit"));
    assert_eq!(t.bucket(), "cairn-trail");
    assert_eq!(t.home_region(), "us-east-2");
    assert_eq!(
        t.arn(),
        "arn:aws:cloudtrail:us-east-2:111122223333:trail/Default"
    );
    assert_eq!(t.cloud_watch_logs_log_group_name(), Some("cairn/trail"));
    assert_eq!(
        t.cloud_watch_logs_log_group_arn(),
        Some("arn:aws:logs:us-east-2:111122223333:log-group:cairn/trail:*")
    );
    assert_eq!(
        t.cloud_watch_logs_role_arn(),
        Some("arn:aws:iam::111122223333:role/CloudTrail_CloudWatchLogs_Role")
    );
    assert_eq!(
        t.sns_topic_arn(),
        Some("arn:aws:sns:us-east-2:111122223333:cairn-notices")
    );
    assert_eq!(
        t.kms_key_id(),
        Some("arn:aws:kms:us-east-2:111122223333:key/12345678-1234-1234-1234-123456789012")
    );
    for key in [
        "alias/cairn-logs",
        "arn:aws:kms:us-east-2:111122223333:alias/cairn-logs",
        "12345678-1234-1234-1234-123456789012",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws:kms:us-east-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    ] {
        let t = trail(&format!(
            "Name: keyed\nS3BucketName: cairn-trail\nHomeRegion: us-east-2\nKmsKeyId: {key}"
        ));
        assert_eq!(t.kms_key_id(), Some(key));
    }
}

#[test]
fn a_single_region_trail_takes_its_home_region() {
    let t = trail("Name: ohio\nS3BucketName: cairn-trail\nHomeRegion: us-east-2");
    route(
        &t,
        &[
            (
                "home Region",
                in_region("us-east-2"),
                Some((ACCOUNT, "us-east-2")),
            ),
            ("another Region", in_region("us-west-2"), None),
            ("IAM is filed under us-east-1", iam("us-east-1"), None),
            (
                "STS through a regional endpoint stays regional",
                sts("us-east-2"),
                Some((ACCOUNT, "us-east-2")),
            ),
        ],
    );
}

#[test]
fn a_multi_region_trail_takes_every_region_even_new_ones() {
    let t = trail(
        "Name: everywhere\nS3BucketName: cairn-trail\nHomeRegion: us-east-2\nIsMultiRegionTrail: true",
    );
    route(
        &t,
        &[
            (
                "home Region",
                in_region("us-east-2"),
                Some((ACCOUNT, "us-east-2")),
            ),
            (
                "another Region",
                in_region("ap-southeast-7"),
                Some((ACCOUNT, "ap-southeast-7")),
            ),
            (
                "a Region never seen before",
                in_region("ap-isob-east-1r"),
                Some((ACCOUNT, "ap-isob-east-1r")),
            ),
            (
                "IAM called from eu-west-1 is filed under us-east-1",
                iam("eu-west-1"),
                Some((ACCOUNT, "us-east-1")),
            ),
            (
                "STS global endpoint",
                sts("us-east-1"),
                Some((ACCOUNT, "us-east-1")),
            ),
        ],
    );
}

#[test]
fn global_service_events_need_include_global_service_events_and_us_east_1() {
    // Since November 2021 CloudTrail files global service events under us-east-1 only, so a
    // single-Region trail sees them only when its home Region is us-east-1.
    let virginia = trail("Name: virginia\nS3BucketName: cairn-trail\nHomeRegion: us-east-1");
    let virginia_without = trail(
        "Name: virginia-regional\nS3BucketName: cairn-trail\nHomeRegion: us-east-1\nIncludeGlobalServiceEvents: false",
    );
    let ohio = trail("Name: ohio\nS3BucketName: cairn-trail\nHomeRegion: us-east-2");
    route(
        &virginia,
        &[
            ("IAM", iam("us-east-1"), Some((ACCOUNT, "us-east-1"))),
            (
                "STS global endpoint",
                sts("us-east-1"),
                Some((ACCOUNT, "us-east-1")),
            ),
            (
                "EC2 in us-east-1",
                in_region("us-east-1"),
                Some((ACCOUNT, "us-east-1")),
            ),
        ],
    );
    route(
        &virginia_without,
        &[
            ("IAM", iam("us-east-1"), None),
            ("STS global endpoint", sts("us-east-1"), None),
            (
                "EC2 in us-east-1",
                in_region("us-east-1"),
                Some((ACCOUNT, "us-east-1")),
            ),
        ],
    );
    route(&ohio, &[("IAM", iam("us-east-1"), None)]);
}

#[test]
fn organization_trails_take_member_accounts() {
    let org = trail(
        "Name: org\nS3BucketName: cairn-trail\nHomeRegion: us-east-2\nIsMultiRegionTrail: true\nIsOrganizationTrail: true\nOrganizationId: o-a1b2c3d4e5",
    );
    assert!(org.is_organization_trail());
    assert_eq!(org.organization_id(), Some("o-a1b2c3d4e5"));
    let plain = trail(
        "Name: own\nS3BucketName: cairn-trail\nHomeRegion: us-east-2\nIsMultiRegionTrail: true",
    );
    let member = json!({"recipientAccountId": "444455556666"});
    let without = json!({"recipientAccountId": null});
    route(
        &org,
        &[
            (
                "member account",
                member.clone(),
                Some(("444455556666", "us-east-2")),
            ),
            ("own account", json!({}), Some((ACCOUNT, "us-east-2"))),
            (
                "no recipientAccountId",
                without.clone(),
                Some((ACCOUNT, "us-east-2")),
            ),
        ],
    );
    route(
        &plain,
        &[
            ("member account", member, None),
            ("own account", json!({}), Some((ACCOUNT, "us-east-2"))),
            (
                "no recipientAccountId",
                without,
                Some((ACCOUNT, "us-east-2")),
            ),
        ],
    );
}

#[test]
fn insights_events_go_only_to_trails_with_insight_selectors() {
    let with = trail(
        "Name: insights\nS3BucketName: cairn-trail\nHomeRegion: us-east-2\nInsightSelectors: [{InsightType: ApiCallRateInsight}]",
    );
    let without = trail("Name: plain\nS3BucketName: cairn-trail\nHomeRegion: us-east-2");
    route(
        &with,
        &[
            (
                "call rate",
                insight("ApiCallRateInsight", "us-east-2"),
                Some((ACCOUNT, "us-east-2")),
            ),
            (
                "error rate",
                insight("ApiErrorRateInsight", "us-east-2"),
                None,
            ),
            (
                "call rate, another Region",
                insight("ApiCallRateInsight", "us-west-2"),
                None,
            ),
            (
                "management events still logged",
                json!({}),
                Some((ACCOUNT, "us-east-2")),
            ),
        ],
    );
    route(
        &without,
        &[(
            "call rate",
            insight("ApiCallRateInsight", "us-east-2"),
            None,
        )],
    );
    let both = trail(
        "Name: both\nS3BucketName: cairn-trail\nHomeRegion: us-east-2\nInsightSelectors: [{InsightType: ApiCallRateInsight}, {InsightType: ApiErrorRateInsight, EventCategories: [Management]}]",
    );
    route(
        &both,
        &[(
            "error rate",
            insight("ApiErrorRateInsight", "us-east-2"),
            Some((ACCOUNT, "us-east-2")),
        )],
    );
}

#[test]
fn insights_events_on_data_events_go_only_to_their_own_trail_watching_data() {
    let data = |kind: &str, trail: &str| {
        let mut event = insight(kind, "us-east-2");
        event["insightDetails"]["sourceEventCategory"] = json!("Data");
        event["insightDetails"]["insightSource"] = json!(format!(
            "arn:aws:cloudtrail:us-east-2:{ACCOUNT}:trail/{trail}"
        ));
        event
    };
    let selectors = "AdvancedEventSelectors: [{FieldSelectors: [{Field: eventCategory, Equals: [Data]}, {Field: resources.type, Equals: [AWS::S3::Object]}]}]";
    let watching = trail(&format!(
        "Name: watching\nS3BucketName: cairn-trail\nHomeRegion: us-east-2\n{selectors}\nInsightSelectors: [{{InsightType: ApiCallRateInsight, EventCategories: [Data]}}]"
    ));
    route(
        &watching,
        &[
            (
                "its own data events' call rate",
                data("ApiCallRateInsight", "watching"),
                Some((ACCOUNT, "us-east-2")),
            ),
            (
                "another trail's data events",
                data("ApiCallRateInsight", "other"),
                None,
            ),
            (
                "its own data events' error rate, not selected",
                data("ApiErrorRateInsight", "watching"),
                None,
            ),
            (
                "management events' call rate, not watched",
                insight("ApiCallRateInsight", "us-east-2"),
                None,
            ),
        ],
    );
    let mut explicit = data("ApiCallRateInsight", "watching");
    explicit["insightDetails"]["sourceEventCategory"] = json!("Management");
    explicit["insightDetails"]
        .as_object_mut()
        .unwrap()
        .remove("insightSource");
    route(
        &watching,
        &[(
            "sourceEventCategory Management, not watched",
            explicit,
            None,
        )],
    );
}

#[test]
fn documented_insights_example_routes() {
    let text = include_str!(
        "../../../tests/fixtures/awsdocs_user_guide_examples/awsdocs_example_records.json"
    );
    let t = trail(
        "Name: insights\nS3BucketName: cairn-trail\nHomeRegion: us-east-1\nIsMultiRegionTrail: true\nIsOrganizationTrail: true\nOrganizationId: o-a1b2c3d4e5\nInsightSelectors: [{InsightType: ApiCallRateInsight}, {InsightType: ApiErrorRateInsight}]",
    );
    let insights = split_batch(text)
        .expect("a Records batch")
        .into_iter()
        .filter_map(|raw| Record::parse(raw, None).ok())
        .filter(|record| record.event_type() == crate::record::EventType::AwsCloudTrailInsight)
        .map(|record| t.selects(&record, ACCOUNT).is_some())
        .collect::<Vec<_>>();
    assert!(!insights.is_empty());
    assert!(insights.iter().all(|&selected| selected));
}

#[test]
fn default_selection_takes_management_events_only() {
    let t = trail("Name: plain\nS3BucketName: cairn-trail\nHomeRegion: us-east-2");
    route(
        &t,
        &[
            (
                "read",
                json!({"readOnly": true}),
                Some((ACCOUNT, "us-east-2")),
            ),
            (
                "write",
                json!({"eventName": "RunInstances", "readOnly": false}),
                Some((ACCOUNT, "us-east-2")),
            ),
            (
                "S3 data event",
                s3_object_event("GetObject", true, "b-1", "k"),
                None,
            ),
        ],
    );
}

/// The Stratus Red Team detonations: 310 management events of 35 accounts in made-up
/// Regions. The configuration's account, 070411556318, has one regional event (ap-central-2r)
/// and two IAM events; the other 11 global service events of the set belong to other accounts.
#[test]
fn stratus_red_team_records_reach_the_expected_trails() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/stratus_red_team_detonation_logs"
    );
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir).expect("fixtures folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            texts.push(std::fs::read_to_string(&path).expect("fixture"));
        }
    }
    let records: Vec<Record> = texts
        .iter()
        .flat_map(|text| split_batch(text).expect("a Records batch"))
        .map(|raw| Record::parse(raw, None).expect("Stratus records are valid"))
        .collect();
    assert_eq!(records.len(), 310);

    let common = "S3BucketName: cairn-trail";
    let configs = [
        format!(
            "accountId: \"070411556318\"\ntrails:\n\
  - {{Name: org-everything, {common}, HomeRegion: us-east-1, IsMultiRegionTrail: true, IsOrganizationTrail: true, OrganizationId: o-a1b2c3d4e5}}\n\
  - {{Name: account-everywhere, {common}, HomeRegion: us-east-1, IsMultiRegionTrail: true}}\n\
  - {{Name: account-home, {common}, HomeRegion: ap-central-2r}}\n\
  - {{Name: org-writes, {common}, HomeRegion: us-east-1, IsMultiRegionTrail: true, IsOrganizationTrail: true, OrganizationId: o-a1b2c3d4e5,\n\
      AdvancedEventSelectors: [{{Name: writes, FieldSelectors: [{{Field: eventCategory, Equals: [Management]}}, {{Field: readOnly, Equals: [\"false\"]}}]}}]}}\n\
  - {{Name: org-reads, {common}, HomeRegion: us-east-1, IsMultiRegionTrail: true, IsOrganizationTrail: true, OrganizationId: o-a1b2c3d4e5,\n\
      EventSelectors: [{{ReadWriteType: ReadOnly}}]}}\n"
        ),
        format!(
            "accountId: \"070411556318\"\ntrails:\n\
  - {{Name: account-virginia, {common}, HomeRegion: us-east-1}}\n\
  - {{Name: org-virginia-regional, {common}, HomeRegion: us-east-1, IncludeGlobalServiceEvents: false, IsOrganizationTrail: true, OrganizationId: o-a1b2c3d4e5}}\n\
  - {{Name: org-virginia, {common}, HomeRegion: us-east-1, IsOrganizationTrail: true, OrganizationId: o-a1b2c3d4e5}}\n\
  - {{Name: org-s3-data, {common}, HomeRegion: us-east-1, IsMultiRegionTrail: true, IsOrganizationTrail: true, OrganizationId: o-a1b2c3d4e5,\n\
      AdvancedEventSelectors: [{{FieldSelectors: [{{Field: eventCategory, Equals: [Data]}}, {{Field: resources.type, Equals: [\"AWS::S3::Object\"]}}]}}]}}\n"
        ),
    ];
    // (trail, events selected, of which filed under us-east-1)
    let expected = [
        ("org-everything", 310, 11),
        ("account-everywhere", 3, 2),
        ("account-home", 1, 0),
        ("org-writes", 49, 11),
        ("org-reads", 261, 0),
        ("account-virginia", 2, 2),
        ("org-virginia-regional", 0, 0),
        ("org-virginia", 11, 11),
        ("org-s3-data", 0, 0),
    ];
    let mut counted = Vec::new();
    for yaml in &configs {
        let config = Config::from_yaml(yaml, "stratus.yaml").unwrap_or_else(|e| panic!("{e}"));
        for t in &config.trails {
            let destinations: Vec<Destination> = records
                .iter()
                .filter_map(|record| t.selects(record, &config.account_id))
                .collect();
            let virginia = destinations
                .iter()
                .filter(|d| d.region == "us-east-1")
                .count();
            counted.push((t.name().to_owned(), destinations.len(), virginia));
        }
    }
    let counted: Vec<(&str, usize, usize)> = counted
        .iter()
        .map(|(name, all, virginia)| (name.as_str(), *all, *virginia))
        .collect();
    assert_eq!(counted, expected);
}

#[test]
fn lake_integration_events_go_only_to_trails_that_select_them() {
    let everything = trail(
        "Name: everything\nS3BucketName: cairn-all\nHomeRegion: us-east-1\nIsMultiRegionTrail: true",
    );
    let integrations = trail(
        r#"Name: integrations
        S3BucketName: cairn-integrations
        HomeRegion: us-east-1
        IsMultiRegionTrail: true
        AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]"#,
    );
    let local = trail(
        r#"Name: local
        S3BucketName: cairn-local
        HomeRegion: us-east-2
        AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]"#,
    );
    let ours = lake_record(ACCOUNT, "eu-west-1");
    let ours = parse(&ours);
    let theirs = lake_record("444455556666", "eu-west-1");
    let theirs = parse(&theirs);
    assert_eq!(everything.selects(&ours, ACCOUNT), None);
    assert_eq!(
        integrations.selects(&ours, ACCOUNT),
        Some(Destination {
            account_id: ACCOUNT,
            region: "eu-west-1"
        })
    );
    assert_eq!(integrations.selects(&theirs, ACCOUNT), None);
    assert_eq!(local.selects(&ours, ACCOUNT), None);
}
