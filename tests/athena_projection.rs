//! The Athena table's partition projection (template.yaml, CloudTrailLogsTable) finds exactly
//! the folders deliver writes: for a plain trail, a prefixed one and an organization trail,
//! every log file a real delivery on the embedded store writes is directly in the folder the
//! projection's storage.location.template expands to for the file's account, Region and
//! delivery day, under the table's Location.

use std::collections::{BTreeMap, BTreeSet};

use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::config::Config;
use cairn_shared::delivered::LogFileFacts;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_test_support::glue_table::Stack;
use cairn_test_support::pipeline::{embedded_store, fixture_batches, stage_and_deliver};
use time::OffsetDateTime;
use time::macros::datetime;

/// The account most of the fixture records are for.
const ACCOUNT: &str = "056392974792";

/// One trail of each kind the template takes: no prefix, a prefix of two folders, and an
/// organization trail with a prefix.
const CONFIG: &str = r#"
accountId: "056392974792"
trails:
  - Name: plain
    S3BucketName: athena-plain
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
  - Name: prefixed
    S3BucketName: athena-prefixed
    S3KeyPrefix: audit/cairn
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
  - Name: organization
    S3BucketName: athena-organization
    S3KeyPrefix: org
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    IsOrganizationTrail: true
    OrganizationId: o-exampleorgid
"#;

/// Delivers the fixtures on two days, half each, and returns every log file key of each
/// trail's bucket with the day deliver wrote it.
async fn delivered_keys(
    store: &LocalObjectStore,
    config: &Config,
) -> BTreeMap<String, Vec<(String, OffsetDateTime)>> {
    let batches = fixture_batches();
    let half = batches.len() / 2;
    let days = [
        (datetime!(2026-03-31 23:58:00 UTC), &batches[..half]),
        (datetime!(2026-04-01 00:07:00 UTC), &batches[half..]),
    ];
    let mut keys: BTreeMap<String, Vec<(String, OffsetDateTime)>> = BTreeMap::new();
    for (now, batches) in days {
        stage_and_deliver(store, config, batches, None, now).await;
        for trail in &config.trails {
            let known = keys.entry(trail.bucket().to_owned()).or_default();
            let seen: BTreeSet<String> = known.iter().map(|(key, _)| key.clone()).collect();
            for entry in store.list_all(trail.bucket(), "").await.expect("list") {
                if !seen.contains(&entry.key) {
                    known.push((entry.key, now));
                }
            }
        }
    }
    keys
}

#[tokio::test]
async fn the_projection_expands_to_the_folders_deliver_writes() {
    let config = Config::from_yaml(CONFIG, "athena projection test").expect("config");
    let (_dir, store) = embedded_store(&config).await;
    let keys = delivered_keys(&store, &config).await;
    // The fixtures' Regions are made up (Stratus Red Team's logs mask them), so the deployment
    // lists them as it would list its real ones.
    let mut regions = BTreeSet::new();
    for (bucket, files) in &keys {
        for (key, _) in files {
            let object = store.get(bucket, key).await.expect("get");
            let facts = LogFileFacts::from_metadata(&object.info.metadata).expect("facts");
            regions.insert(facts.region);
        }
    }
    let regions = regions.into_iter().collect::<Vec<_>>().join(",");

    // Each trail's parameters as a deployment for it passes them: a trail of the account lists
    // it; the organization's leaves the accounts to each query (injected).
    let cases = [
        ("plain", "", "", ACCOUNT),
        ("prefixed", "audit/cairn", "", ACCOUNT),
        ("organization", "org", "o-exampleorgid", ""),
    ];
    for (name, prefix, organization, accounts) in cases {
        let trail = config
            .trails
            .iter()
            .find(|trail| trail.name() == name)
            .expect("trail");
        let table = Stack::new(&[
            ("TrailBucketName", trail.bucket()),
            ("TrailKeyPrefix", prefix),
            ("TrailOrganizationId", organization),
            ("TrailAccountIds", accounts),
            ("TrailRegions", &regions),
        ])
        .table();
        let expected_type = if accounts.is_empty() {
            "injected"
        } else {
            "enum"
        };
        assert_eq!(
            table.parameter("projection.account.type"),
            Some(expected_type)
        );

        let files = &keys[trail.bucket()];
        assert!(!files.is_empty(), "{name}: no log files");
        let mut partitions = BTreeSet::new();
        for (key, delivered_at) in files {
            let object = store.get(trail.bucket(), key).await.expect("get");
            let facts = LogFileFacts::from_metadata(&object.info.metadata)
                .unwrap_or_else(|why| panic!("{key}: {why}"));
            let values = BTreeMap::from([
                ("account", facts.account.as_str()),
                ("region", facts.region.as_str()),
            ]);
            let folder = table.partition_location(&values, delivered_at.date());
            let url = format!("s3://{}/{key}", trail.bucket());
            let file_name = url
                .strip_prefix(&format!("{folder}/"))
                .unwrap_or_else(|| panic!("{name}: {url} is not in the projected {folder}/"));
            assert!(!file_name.contains('/'), "{url} is below {folder}/");
            assert!(folder.starts_with(table.location()), "{folder}");
            partitions.insert((facts.account, facts.region, delivered_at.date()));
        }
        // The organization's files: both days, several Regions, several accounts.
        if !organization.is_empty() {
            let count = |pick: fn(&(String, String, time::Date)) -> String| {
                partitions.iter().map(pick).collect::<BTreeSet<_>>().len()
            };
            assert_eq!(count(|p| p.2.to_string()), 2, "{partitions:?}");
            assert!(count(|p| p.1.clone()) > 1, "{partitions:?}");
            assert!(count(|p| p.0.clone()) > 1, "{partitions:?}");
        }
    }
}

/// The table is AWS's for CloudTrail: its SerDe and input format, and its partition keys.
#[test]
fn the_table_reads_cloudtrail_log_files() {
    let stack = Stack::new(&[]);
    let table = stack.table();
    assert_eq!(
        table.serde_and_input_format(),
        (
            "com.amazon.emr.hive.serde.CloudTrailSerde",
            "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
        )
    );
    assert_eq!(table.partition_keys(), ["account", "region", "timestamp"]);
    assert_eq!(
        table.location(),
        "s3://cairn-trail-123456789012/audit/AWSLogs/"
    );
    assert_eq!(
        table.parameter("storage.location.template"),
        Some(
            "s3://cairn-trail-123456789012/audit/AWSLogs/${account}/CloudTrail/${region}/${timestamp}"
        )
    );
    let columns = table.columns();
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    for name in [
        "eventversion",
        "useridentity",
        "eventtime",
        "eventsource",
        "eventname",
        "awsregion",
        "sourceipaddress",
        "useragent",
        "errorcode",
        "errormessage",
        "requestparameters",
        "responseelements",
        "eventid",
        "readonly",
        "resources",
        "recipientaccountid",
        "eventcategory",
        "tlsdetails",
    ] {
        assert!(names.contains(&name), "no column {name}");
    }
}
