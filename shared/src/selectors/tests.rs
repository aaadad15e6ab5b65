//! Selector semantics, case by case, built from the examples on AWS's pages (PutEventSelectors,
//! DataResource, "Filtering data events by using advanced event selectors", "Logging network
//! activity events") and a valid record changed where each case needs it.

use serde_json::{Value, json};

use super::spec::{AdvancedEventSelectorSpec, EventSelectorSpec};
use super::testing::{data_event, lake_record, parse, raw, s3_object_event};
use super::*;

fn basic(json: &str) -> EventSelection {
    let specs: Vec<EventSelectorSpec> = serde_yaml_ng::from_str(json).expect("selector JSON");
    EventSelection::compile(Some(&specs), None).unwrap_or_else(|e| panic!("{e}"))
}

fn advanced(json: &str) -> EventSelection {
    let specs: Vec<AdvancedEventSelectorSpec> =
        serde_yaml_ng::from_str(json).expect("selector JSON");
    EventSelection::compile(None, Some(&specs)).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `(case, record changes, selected?)` rows against one selection.
fn check(selection: &EventSelection, rows: &[(&str, Value, bool)]) {
    for (case, changes, expected) in rows {
        let raw = raw(changes.clone());
        let record = parse(&raw);
        assert_eq!(selection.admits(&record), *expected, "{case}");
    }
}

fn management(name: &str, read_only: bool) -> Value {
    json!({"eventName": name, "readOnly": read_only})
}

fn from_source(source: &str, name: &str, read_only: bool) -> Value {
    json!({"eventSource": source, "eventName": name, "readOnly": read_only})
}

fn network_event(source: &str, endpoint: &str, error: Option<&str>, principal: &str) -> Value {
    json!({
        "eventType": "AwsVpceEvent",
        "eventCategory": "NetworkActivity",
        "eventSource": source,
        "eventName": "DescribeInstances",
        "managementEvent": null,
        "readOnly": null,
        "requestID": null,
        "vpcEndpointId": endpoint,
        "errorCode": error,
        "userIdentity": {"type": "AWSAccount", "arn": principal, "accountId": "444455556666"}
    })
}

const LAMBDA_HELLO: &str = "arn:aws:lambda:us-west-2:111111111111:function:helloworld";
const LAMBDA_HELLO2: &str = "arn:aws:lambda:us-west-2:111111111111:function:helloworld2";
const TABLE: &str = "arn:aws:dynamodb:us-east-2:111122223333:table/Orders";
const OTHER_TABLE: &str = "arn:aws:dynamodb:us-east-2:111122223333:table/Audit";

#[test]
fn default_selection_is_all_management_events_read_and_write() {
    check(
        &EventSelection::Default,
        &[
            (
                "read management",
                management("DescribeInstances", true),
                true,
            ),
            ("write management", management("RunInstances", false), true),
            (
                "KMS management",
                from_source("kms.amazonaws.com", "Decrypt", true),
                true,
            ),
            (
                "S3 data",
                s3_object_event("GetObject", true, "b-1", "k"),
                false,
            ),
            (
                "network activity",
                network_event(
                    "ec2.amazonaws.com",
                    "vpce-1",
                    None,
                    "arn:aws:iam::444455556666:root",
                ),
                false,
            ),
        ],
    );
}

#[test]
fn basic_read_write_type_applies_to_management_events() {
    // PutEventSelectors' example: a write-only selector logs RunInstances, not GetConsoleOutput.
    let write_only = basic(r#"[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]"#);
    check(
        &write_only,
        &[
            (
                "RunInstances (write)",
                management("RunInstances", false),
                true,
            ),
            (
                "GetConsoleOutput (read)",
                management("GetConsoleOutput", true),
                false,
            ),
        ],
    );
    let read_only = basic(r#"[{"ReadWriteType": "ReadOnly"}]"#);
    check(
        &read_only,
        &[
            (
                "RunInstances (write)",
                management("RunInstances", false),
                false,
            ),
            (
                "GetConsoleOutput (read)",
                management("GetConsoleOutput", true),
                true,
            ),
        ],
    );
    let defaults = basic("[{}]");
    check(
        &defaults,
        &[
            ("defaults: read", management("GetConsoleOutput", true), true),
            ("defaults: write", management("RunInstances", false), true),
            (
                "defaults: no data",
                s3_object_event("GetObject", true, "b-1", "k"),
                false,
            ),
        ],
    );
}

#[test]
fn basic_selectors_exclude_kms_and_rds_data_management_events() {
    let selection = basic(
        r#"[{"ReadWriteType": "All", "IncludeManagementEvents": true,
             "ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}]"#,
    );
    check(
        &selection,
        &[
            (
                "KMS Decrypt",
                from_source("kms.amazonaws.com", "Decrypt", true),
                false,
            ),
            (
                "RDS Data",
                from_source("rdsdata.amazonaws.com", "ExecuteStatement", false),
                false,
            ),
            ("EC2", management("RunInstances", false), true),
        ],
    );
}

#[test]
fn basic_s3_data_resources_match_by_arn_prefix() {
    let all = basic(
        r#"[{"IncludeManagementEvents": false,
             "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]"#,
    );
    check(
        &all,
        &[
            (
                "any bucket",
                s3_object_event("PutObject", false, "b-1", "a.png"),
                true,
            ),
            (
                "another bucket",
                s3_object_event("GetObject", true, "b-2", "x"),
                true,
            ),
            (
                "management left out",
                management("RunInstances", false),
                false,
            ),
        ],
    );
    // DataResource's example: an empty prefix selects every object of the bucket, and only it.
    let bucket = basic(
        r#"[{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::amzn-s3-demo-bucket1/"]}]}]"#,
    );
    check(
        &bucket,
        &[
            (
                "object in the bucket",
                s3_object_event("PutObject", false, "amzn-s3-demo-bucket1", "image.png"),
                true,
            ),
            (
                "object in another bucket",
                s3_object_event("PutObject", false, "amzn-s3-demo-bucket2", "image.png"),
                false,
            ),
            (
                "bucket whose name only starts the same",
                s3_object_event("PutObject", false, "amzn-s3-demo-bucket10", "image.png"),
                false,
            ),
            (
                "management still logged",
                management("RunInstances", false),
                true,
            ),
        ],
    );
    let prefix = basic(
        r#"[{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket-1/example-images"]}]}]"#,
    );
    check(
        &prefix,
        &[
            (
                "under the prefix",
                s3_object_event("GetObject", true, "bucket-1", "example-images/a.png"),
                true,
            ),
            (
                "outside the prefix",
                s3_object_event("GetObject", true, "bucket-1", "docs/a.pdf"),
                false,
            ),
        ],
    );
    let all_with_colons =
        basic(r#"[{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::"]}]}]"#);
    check(
        &all_with_colons,
        &[(
            "arn:aws:s3::: is every object",
            s3_object_event("GetObject", true, "b-9", "k"),
            true,
        )],
    );
}

#[test]
fn basic_read_write_type_applies_to_data_events() {
    let write_only = basic(
        r#"[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": false,
             "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]"#,
    );
    check(
        &write_only,
        &[
            (
                "PutObject (write)",
                s3_object_event("PutObject", false, "b-1", "k"),
                true,
            ),
            (
                "GetObject (read)",
                s3_object_event("GetObject", true, "b-1", "k"),
                false,
            ),
        ],
    );
}

#[test]
fn basic_lambda_function_arns_are_exact() {
    // DataResource's example: helloworld is logged, helloworld2 is not.
    let selection = basic(&format!(
        r#"[{{"DataResources": [{{"Type": "AWS::Lambda::Function", "Values": ["{LAMBDA_HELLO}"]}}]}}]"#
    ));
    let invoke = |arn: &str| {
        data_event(
            "lambda.amazonaws.com",
            "Invoke",
            false,
            "AWS::Lambda::Function",
            arn,
        )
    };
    check(
        &selection,
        &[
            ("helloworld", invoke(LAMBDA_HELLO), true),
            ("helloworld2", invoke(LAMBDA_HELLO2), false),
        ],
    );
    let all = basic(
        r#"[{"DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}]"#,
    );
    check(&all, &[("any function", invoke(LAMBDA_HELLO2), true)]);
}

#[test]
fn basic_dynamodb_tables_by_arn_or_all() {
    let get_item = |arn: &str| {
        data_event(
            "dynamodb.amazonaws.com",
            "GetItem",
            true,
            "AWS::DynamoDB::Table",
            arn,
        )
    };
    let one = basic(&format!(
        r#"[{{"DataResources": [{{"Type": "AWS::DynamoDB::Table", "Values": ["{TABLE}"]}}]}}]"#
    ));
    check(
        &one,
        &[
            ("the table", get_item(TABLE), true),
            ("another table", get_item(OTHER_TABLE), false),
        ],
    );
    let all = basic(
        r#"[{"DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": ["arn:aws:dynamodb"]}]}]"#,
    );
    check(
        &all,
        &[
            ("any table", get_item(OTHER_TABLE), true),
            (
                "S3 objects are another type",
                s3_object_event("GetObject", true, "b-1", "k"),
                false,
            ),
        ],
    );
}

#[test]
fn basic_empty_values_select_no_data_events() {
    // The shape Stratus Red Team's "cloudtrail-event-selectors" technique puts on a trail to
    // blind it: data resources with no values, and management events off.
    let selection = basic(
        r#"[{"DataResources": [{"Type": "AWS::S3::Object", "Values": []},
                               {"Type": "AWS::Lambda::Function", "Values": []}],
             "ExcludeManagementEventSources": [], "IncludeManagementEvents": false,
             "ReadWriteType": "ReadOnly"}]"#,
    );
    check(
        &selection,
        &[
            (
                "S3 read",
                s3_object_event("GetObject", true, "b-1", "k"),
                false,
            ),
            (
                "management read",
                management("DescribeInstances", true),
                false,
            ),
        ],
    );
}

#[test]
fn any_selector_matching_selects_the_event() {
    let selection = basic(
        r#"[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true},
            {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": false,
             "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::logs-1/"]}]}]"#,
    );
    check(
        &selection,
        &[
            (
                "write management (selector 0)",
                management("RunInstances", false),
                true,
            ),
            (
                "S3 read in logs-1 (selector 1)",
                s3_object_event("GetObject", true, "logs-1", "k"),
                true,
            ),
            (
                "read management (neither)",
                management("DescribeInstances", true),
                false,
            ),
            (
                "S3 write in logs-1 (neither)",
                s3_object_event("PutObject", false, "logs-1", "k"),
                false,
            ),
        ],
    );
}

#[test]
fn advanced_management_events_all_write_only_and_excluding_kms() {
    let all = advanced(
        r#"[{"Name": "All management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]"#,
    );
    check(
        &all,
        &[
            ("read", management("DescribeInstances", true), true),
            ("write", management("RunInstances", false), true),
            (
                "data",
                s3_object_event("GetObject", true, "b-1", "k"),
                false,
            ),
        ],
    );
    let write_only = advanced(
        r#"[{"Name": "Write-only management events", "FieldSelectors": [
              {"Field": "eventCategory", "Equals": ["Management"]},
              {"Field": "readOnly", "Equals": ["false"]}]}]"#,
    );
    check(
        &write_only,
        &[
            ("write", management("RunInstances", false), true),
            ("read", management("DescribeInstances", true), false),
        ],
    );
    let read_only = advanced(
        r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                {"Field": "readOnly", "Equals": ["true"]}]}]"#,
    );
    check(
        &read_only,
        &[
            ("read", management("DescribeInstances", true), true),
            ("write", management("RunInstances", false), false),
        ],
    );
    let no_kms = advanced(
        r#"[{"Name": "Management events but not KMS or RDS Data API", "FieldSelectors": [
              {"Field": "eventCategory", "Equals": ["Management"]},
              {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}]}]"#,
    );
    check(
        &no_kms,
        &[
            (
                "KMS",
                from_source("kms.amazonaws.com", "GenerateDataKey", true),
                false,
            ),
            (
                "RDS Data",
                from_source("rdsdata.amazonaws.com", "ExecuteStatement", false),
                false,
            ),
            (
                "IAM",
                from_source("iam.amazonaws.com", "CreateUser", false),
                true,
            ),
        ],
    );
}

#[test]
fn advanced_s3_bucket_excluding_a_prefix() {
    let selection = advanced(
        r#"[{"Name": "S3 objects of one bucket, not its logs/ prefix", "FieldSelectors": [
              {"Field": "eventCategory", "Equals": ["Data"]},
              {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
              {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::amzn-s3-demo-bucket/"]},
              {"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::amzn-s3-demo-bucket/logs/"]}]}]"#,
    );
    check(
        &selection,
        &[
            (
                "in the bucket",
                s3_object_event("PutObject", false, "amzn-s3-demo-bucket", "img/a.png"),
                true,
            ),
            (
                "under the excluded prefix",
                s3_object_event("PutObject", false, "amzn-s3-demo-bucket", "logs/x.gz"),
                false,
            ),
            (
                "another bucket",
                s3_object_event("PutObject", false, "amzn-s3-demo-bucket2", "img/a.png"),
                false,
            ),
            ("management", management("RunInstances", false), false),
        ],
    );
}

#[test]
fn advanced_s3_event_names_for_two_buckets() {
    // The user guide's "Log PutObject and DeleteObject events for two S3 buckets".
    let selection = advanced(
        r#"[{"Name": "Log PutObject and DeleteObject events for two S3 buckets", "FieldSelectors": [
              {"Field": "eventCategory", "Equals": ["Data"]},
              {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
              {"Field": "eventName", "Equals": ["PutObject", "DeleteObject"]},
              {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::amzn-s3-demo-bucket1/", "arn:aws:s3:::amzn-s3-demo-bucket2/"]}]}]"#,
    );
    check(
        &selection,
        &[
            (
                "PutObject, bucket1",
                s3_object_event("PutObject", false, "amzn-s3-demo-bucket1", "k"),
                true,
            ),
            (
                "DeleteObject, bucket2",
                s3_object_event("DeleteObject", false, "amzn-s3-demo-bucket2", "k"),
                true,
            ),
            (
                "GetObject, bucket1",
                s3_object_event("GetObject", true, "amzn-s3-demo-bucket1", "k"),
                false,
            ),
            (
                "PutObject, bucket3",
                s3_object_event("PutObject", false, "amzn-s3-demo-bucket3", "k"),
                false,
            ),
        ],
    );
}

#[test]
fn advanced_every_operator_on_event_name_and_arn() {
    let rows = |selection: &EventSelection, rows: &[(&str, &str, &str, bool)]| {
        for (case, name, key, expected) in rows {
            let raw = raw(s3_object_event(
                name,
                name.starts_with("Get"),
                "media-1",
                key,
            ));
            assert_eq!(selection.admits(&parse(&raw)), *expected, "{case}");
        }
    };
    let data = |condition: &str| {
        advanced(&format!(
            r#"[{{"FieldSelectors": [{{"Field": "eventCategory", "Equals": ["Data"]}},
                                     {{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}},
                                     {condition}]}}]"#
        ))
    };
    rows(
        &data(r#"{"Field": "eventName", "Equals": ["GetObject"]}"#),
        &[
            ("Equals: hit", "GetObject", "a", true),
            ("Equals: miss", "GetObjectAcl", "a", false),
        ],
    );
    rows(
        &data(r#"{"Field": "eventName", "StartsWith": ["Put", "Delete"]}"#),
        &[
            ("StartsWith: first", "PutObjectTagging", "a", true),
            ("StartsWith: second", "DeleteObject", "a", true),
            ("StartsWith: miss", "GetObject", "a", false),
        ],
    );
    rows(
        &data(r#"{"Field": "eventName", "EndsWith": ["Tagging"]}"#),
        &[
            ("EndsWith: hit", "PutObjectTagging", "a", true),
            ("EndsWith: miss", "PutObject", "a", false),
        ],
    );
    rows(
        &data(r#"{"Field": "eventName", "NotEquals": ["GetObject", "HeadObject"]}"#),
        &[
            ("NotEquals: first excluded", "GetObject", "a", false),
            ("NotEquals: second excluded", "HeadObject", "a", false),
            ("NotEquals: others pass", "PutObject", "a", true),
        ],
    );
    rows(
        &data(r#"{"Field": "eventName", "NotStartsWith": ["Get"]}"#),
        &[
            ("NotStartsWith: excluded", "GetObjectAcl", "a", false),
            ("NotStartsWith: passes", "PutObject", "a", true),
        ],
    );
    rows(
        &data(r#"{"Field": "eventName", "NotEndsWith": ["Acl"]}"#),
        &[
            ("NotEndsWith: excluded", "PutObjectAcl", "a", false),
            ("NotEndsWith: passes", "PutObject", "a", true),
        ],
    );
    rows(
        &data(r#"{"Field": "resources.ARN", "EndsWith": [".jpg", ".png"]}"#),
        &[
            ("ARN EndsWith: hit", "PutObject", "a.png", true),
            ("ARN EndsWith: miss", "PutObject", "a.txt", false),
        ],
    );
    rows(
        &data(r#"{"Field": "resources.ARN", "NotEndsWith": [".tmp"]}"#),
        &[
            ("ARN NotEndsWith: excluded", "PutObject", "a.tmp", false),
            ("ARN NotEndsWith: passes", "PutObject", "a.txt", true),
        ],
    );
    rows(
        &data(r#"{"Field": "resources.ARN", "Equals": ["arn:aws:s3:::media-1/exact.txt"]}"#),
        &[
            ("ARN Equals: hit", "PutObject", "exact.txt", true),
            ("ARN Equals: miss", "PutObject", "exact.txt2", false),
        ],
    );
    rows(
        &data(r#"{"Field": "resources.ARN", "NotEquals": ["arn:aws:s3:::media-1/exact.txt"]}"#),
        &[
            ("ARN NotEquals: excluded", "PutObject", "exact.txt", false),
            ("ARN NotEquals: passes", "PutObject", "b.txt", true),
        ],
    );
    // Several operators in one field selector must all hold.
    rows(
        &data(r#"{"Field": "eventName", "StartsWith": ["Put"], "NotEquals": ["PutObjectAcl"]}"#),
        &[
            (
                "StartsWith and NotEquals: both hold",
                "PutObject",
                "a",
                true,
            ),
            (
                "StartsWith and NotEquals: excluded",
                "PutObjectAcl",
                "a",
                false,
            ),
            ("StartsWith and NotEquals: not Put", "GetObject", "a", false),
        ],
    );
}

#[test]
fn advanced_read_only_on_data_events() {
    let selection = advanced(
        r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                {"Field": "readOnly", "Equals": ["false"]}]}]"#,
    );
    check(
        &selection,
        &[
            (
                "PutObject",
                s3_object_event("PutObject", false, "b-1", "k"),
                true,
            ),
            (
                "GetObject",
                s3_object_event("GetObject", true, "b-1", "k"),
                false,
            ),
        ],
    );
}

#[test]
fn advanced_lambda_functions_by_arn() {
    let selection = advanced(&format!(
        r#"[{{"Name": "One Lambda function", "FieldSelectors": [
              {{"Field": "eventCategory", "Equals": ["Data"]}},
              {{"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}},
              {{"Field": "resources.ARN", "Equals": ["{LAMBDA_HELLO}"]}}]}}]"#
    ));
    let invoke = |arn: &str| {
        data_event(
            "lambda.amazonaws.com",
            "Invoke",
            false,
            "AWS::Lambda::Function",
            arn,
        )
    };
    check(
        &selection,
        &[
            ("helloworld", invoke(LAMBDA_HELLO), true),
            ("helloworld2", invoke(LAMBDA_HELLO2), false),
            (
                "a DynamoDB table with that ARN text is another type",
                data_event(
                    "dynamodb.amazonaws.com",
                    "GetItem",
                    true,
                    "AWS::DynamoDB::Table",
                    LAMBDA_HELLO,
                ),
                false,
            ),
        ],
    );
}

#[test]
fn advanced_dynamodb_tables_except_some_calls() {
    let selection = advanced(&format!(
        r#"[{{"Name": "DynamoDB tables but not reads", "FieldSelectors": [
              {{"Field": "eventCategory", "Equals": ["Data"]}},
              {{"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]}},
              {{"Field": "eventName", "NotEquals": ["GetItem", "Query"]}},
              {{"Field": "resources.ARN", "StartsWith": ["{TABLE}"]}}]}}]"#
    ));
    let call = |name: &str, arn: &str| {
        data_event(
            "dynamodb.amazonaws.com",
            name,
            false,
            "AWS::DynamoDB::Table",
            arn,
        )
    };
    check(
        &selection,
        &[
            ("PutItem on Orders", call("PutItem", TABLE), true),
            ("GetItem on Orders", call("GetItem", TABLE), false),
            ("PutItem on Audit", call("PutItem", OTHER_TABLE), false),
        ],
    );
}

#[test]
fn advanced_console_sessions_user_identity_event_type_and_source() {
    let console = advanced(
        r#"[{"Name": "S3 data events from console sessions", "FieldSelectors": [
              {"Field": "eventCategory", "Equals": ["Data"]},
              {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
              {"Field": "sessionCredentialFromConsole", "Equals": ["true"]}]}]"#,
    );
    let with = |extra: Value| {
        let mut event = s3_object_event("GetObject", true, "b-1", "k");
        if let (Some(event), Value::Object(extra)) = (event.as_object_mut(), extra) {
            event.extend(extra);
        }
        event
    };
    check(
        &console,
        &[
            (
                "console session",
                with(json!({"sessionCredentialFromConsole": "true"})),
                true,
            ),
            ("API session", with(json!({})), false),
        ],
    );
    let not_console = advanced(
        r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                {"Field": "sessionCredentialFromConsole", "NotEquals": ["true"]}]}]"#,
    );
    check(
        &not_console,
        &[
            (
                "console session",
                with(json!({"sessionCredentialFromConsole": "true"})),
                false,
            ),
            ("API session", with(json!({})), true),
        ],
    );
    let role = "arn:aws:sts::111122223333:assumed-role/BackupRole";
    let no_backup_role = advanced(&format!(
        r#"[{{"Name": "S3 data events except the backup role's", "FieldSelectors": [
              {{"Field": "eventCategory", "Equals": ["Data"]}},
              {{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}},
              {{"Field": "userIdentity.arn", "NotStartsWith": ["{role}"]}}]}}]"#
    ));
    check(
        &no_backup_role,
        &[
            (
                "the role's session",
                with(
                    json!({"userIdentity": {"type": "AssumedRole", "arn": format!("{role}/nightly")}}),
                ),
                false,
            ),
            ("a user", with(json!({})), true),
            (
                "a service without an ARN",
                with(
                    json!({"userIdentity": {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}}),
                ),
                true,
            ),
        ],
    );
    let only_role = advanced(&format!(
        r#"[{{"FieldSelectors": [{{"Field": "eventCategory", "Equals": ["Data"]}},
                                 {{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}},
                                 {{"Field": "userIdentity.arn", "StartsWith": ["{role}"]}}]}}]"#
    ));
    check(
        &only_role,
        &[
            (
                "StartsWith: the role's session",
                with(
                    json!({"userIdentity": {"type": "AssumedRole", "arn": format!("{role}/nightly")}}),
                ),
                true,
            ),
            (
                "StartsWith: no ARN fails",
                with(
                    json!({"userIdentity": {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}}),
                ),
                false,
            ),
        ],
    );
    let no_service_events = advanced(
        r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                {"Field": "eventType", "NotEquals": ["AwsServiceEvent"]},
                                {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}]}]"#,
    );
    check(
        &no_service_events,
        &[
            ("API call", with(json!({})), true),
            (
                "service event",
                with(json!({"eventType": "AwsServiceEvent", "requestID": null})),
                false,
            ),
        ],
    );
    let api_calls = advanced(
        r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                {"Field": "eventType", "Equals": ["AwsApiCall"]},
                                {"Field": "eventSource", "NotEquals": ["s3-outposts.amazonaws.com"]}]}]"#,
    );
    check(
        &api_calls,
        &[
            ("eventType Equals: API call", with(json!({})), true),
            (
                "eventType Equals: service event",
                with(json!({"eventType": "AwsServiceEvent", "requestID": null})),
                false,
            ),
        ],
    );
}

#[test]
fn advanced_network_activity_events() {
    let denied = advanced(
        r#"[{"Name": "Denied VPC endpoint calls to EC2", "FieldSelectors": [
              {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
              {"Field": "eventSource", "Equals": ["ec2.amazonaws.com"]},
              {"Field": "errorCode", "Equals": ["VpceAccessDenied"]}]}]"#,
    );
    let outsider = "arn:aws:iam::444455556666:root";
    check(
        &denied,
        &[
            (
                "denied EC2 call",
                network_event(
                    "ec2.amazonaws.com",
                    "vpce-0a1b",
                    Some("VpceAccessDenied"),
                    outsider,
                ),
                true,
            ),
            (
                "allowed EC2 call",
                network_event("ec2.amazonaws.com", "vpce-0a1b", None, outsider),
                false,
            ),
            (
                "denied KMS call",
                network_event(
                    "kms.amazonaws.com",
                    "vpce-0a1b",
                    Some("VpceAccessDenied"),
                    outsider,
                ),
                false,
            ),
            (
                "EC2 management event",
                from_source("ec2.amazonaws.com", "RunInstances", false),
                false,
            ),
        ],
    );
    let endpoint = advanced(
        r#"[{"FieldSelectors": [
              {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
              {"Field": "eventSource", "Equals": ["kms.amazonaws.com", "secretsmanager.amazonaws.com"]},
              {"Field": "vpcEndpointId", "Equals": ["vpce-0123456789abcdef0"]},
              {"Field": "userIdentity.arn", "NotStartsWith": ["arn:aws:iam::111122223333:"]},
              {"Field": "eventName", "NotEquals": ["Decrypt"]}]}]"#,
    );
    check(
        &endpoint,
        &[
            (
                "outsider through the endpoint",
                network_event(
                    "kms.amazonaws.com",
                    "vpce-0123456789abcdef0",
                    None,
                    outsider,
                ),
                true,
            ),
            (
                "another endpoint",
                network_event("kms.amazonaws.com", "vpce-1", None, outsider),
                false,
            ),
            (
                "an endpoint of another service",
                network_event(
                    "ec2.amazonaws.com",
                    "vpce-0123456789abcdef0",
                    None,
                    outsider,
                ),
                false,
            ),
            (
                "own account",
                network_event(
                    "secretsmanager.amazonaws.com",
                    "vpce-0123456789abcdef0",
                    None,
                    "arn:aws:iam::111122223333:user/bob",
                ),
                false,
            ),
        ],
    );
}

#[test]
fn advanced_vpc_endpoint_prefixes_and_suffixes() {
    let selection = advanced(
        r#"[{"FieldSelectors": [
              {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
              {"Field": "eventSource", "Equals": ["cloudtrail.amazonaws.com"]},
              {"Field": "vpcEndpointId", "StartsWith": ["vpce-0a"], "NotEndsWith": ["ff"]},
              {"Field": "eventName", "EndsWith": ["Instances"]}]}]"#,
    );
    let principal = "arn:aws:iam::444455556666:root";
    let call =
        |endpoint: &str| network_event("cloudtrail.amazonaws.com", endpoint, None, principal);
    check(
        &selection,
        &[
            ("StartsWith holds", call("vpce-0a12"), true),
            ("NotEndsWith fails", call("vpce-0a12ff"), false),
            ("StartsWith fails", call("vpce-0b12"), false),
        ],
    );
}

#[test]
fn basic_and_advanced_never_select_insights_events() {
    let insight = json!({
        "eventType": "AwsCloudTrailInsight", "eventCategory": "Insight",
        "eventSource": null, "eventName": null, "sourceIPAddress": null, "userIdentity": null,
        "requestID": null, "readOnly": null, "managementEvent": null,
        "insightDetails": {"state": "Start", "insightType": "ApiCallRateInsight"}
    });
    check(
        &EventSelection::Default,
        &[("default", insight.clone(), false)],
    );
    check(&basic("[{}]"), &[("basic", insight.clone(), false)]);
    check(
        &advanced(
            r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]"#,
        ),
        &[("advanced", insight, false)],
    );
}

#[test]
fn only_activity_audit_log_selectors_take_lake_integration_events() {
    let lake = lake_record("111122223333", "us-east-2");
    let lake = parse(&lake);
    let management_call = raw(management("RunInstances", false));
    let management_call = parse(&management_call);
    // CloudTrail's defaults and every basic or management/data selector leave them out.
    for (case, selection) in [
        ("default", EventSelection::Default),
        ("basic all", basic("[{}]")),
        (
            "basic write-only with S3 data",
            basic(
                r#"[{"ReadWriteType": "WriteOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]"#,
            ),
        ),
        (
            "advanced management",
            advanced(
                r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]"#,
            ),
        ),
        (
            "advanced S3 data",
            advanced(
                r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]"#,
            ),
        ),
    ] {
        assert!(!selection.admits(&lake), "{case}");
    }
    // A Cairn trail may take them with an ActivityAuditLog selector, which takes nothing else.
    let integrations = advanced(
        r#"[{"Name": "Integration events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]"#,
    );
    assert!(integrations.admits(&lake));
    assert!(!integrations.admits(&management_call));
    assert!(!integrations.logs_management(false));
    assert!(!integrations.logs_data());
    let both = advanced(
        r#"[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]"#,
    );
    assert!(both.admits(&lake));
    assert!(both.admits(&management_call));
}
