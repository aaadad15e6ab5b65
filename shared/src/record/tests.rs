use std::fs;
use std::path::PathBuf;

use serde_json::value::RawValue;

use super::*;

fn fixture(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(path);
    fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Every record of a batch file, parsed.
fn parse_all(body: &str) -> Vec<Result<Record<'_>, RecordError>> {
    split_batch(body)
        .expect("a Records batch")
        .into_iter()
        .enumerate()
        .map(|(i, raw)| Record::parse(raw, Some(i)))
        .collect()
}

fn raw(json: &str) -> &RawValue {
    serde_json::from_str(json).expect("test JSON")
}

/// A minimal valid API call of the newest version, with `extra` fields merged over it.
fn api_call(extra: &str) -> String {
    let base = r#""eventVersion":"1.11","eventTime":"2024-05-01T12:00:00Z","eventType":"AwsApiCall","eventID":"e-1","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.5","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice"},"requestID":"r-1""#;
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&format!("{{{base}}}")).expect("base");
    let overrides: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&format!("{{{extra}}}")).expect("extra");
    for (key, value) in overrides {
        if value == serde_json::Value::String("<absent>".into()) {
            object.remove(&key);
        } else {
            object.insert(key, value);
        }
    }
    serde_json::to_string(&object).expect("serialise")
}

fn problems_of(json: &str) -> String {
    match Record::parse(raw(json), Some(7)) {
        Ok(_) => "accepted".to_owned(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_real_record_parses_and_round_trips_byte_for_byte() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let stratus = fixtures.join("stratus_red_team_detonation_logs");
    let mut files: Vec<PathBuf> = fs::read_dir(&stratus)
        .expect("fixture dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.push(fixtures.join("awsdocs_user_guide_examples/awsdocs_example_records.json"));
    let mut parsed = 0;
    for path in &files {
        let body = fs::read_to_string(path).expect("read");
        for (i, raw) in split_batch(&body).expect("batch").into_iter().enumerate() {
            let record =
                Record::parse(raw, Some(i)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(record.raw().get(), raw.get());
            // The raw JSON is a slice of the file itself: nothing was re-serialised.
            assert!(body.contains(record.raw().get()));
            parsed += 1;
        }
    }
    assert_eq!(files.len(), 36);
    assert_eq!(parsed, 310 + 22);
}

#[test]
fn unknown_fields_anywhere_are_kept_untouched() {
    let json = api_call(
        r#""someFutureField":{"nested":[1,2,{"x":null}]},"userIdentity":{"type":"AssumedRole","brandNew":true},"additionalEventData":{"é":"\u00e9"}"#,
    );
    let record = Record::parse(raw(&json), None).expect("valid");
    assert_eq!(record.raw().get(), json);
    assert_eq!(
        record
            .user_identity()
            .and_then(|u| u.identity_type.as_deref()),
        Some("AssumedRole")
    );
}

#[test]
fn escaped_strings_are_decoded() {
    let json = api_call(r#""eventName":"Run\u0049nstances""#);
    let record = Record::parse(raw(&json), None).expect("valid");
    assert_eq!(record.event_name(), Some("RunInstances"));
}

#[test]
fn processing_library_fixtures_fail_with_specific_messages() {
    let expectations: &[(&str, &[&str])] = &[
        (
            "SerializerAllFieldsNull.json",
            &[
                "record 0: eventTime is null; eventType is null; eventID missing (required since eventVersion 1.01); eventSource is null; eventName is null; awsRegion is null; sourceIPAddress is null; userIdentity is null",
                "record 1: eventID missing (required since eventVersion 1.01); awsRegion \"awsRegion2\" is not a region name; userIdentity.type \"userIdentityType2\" is not a CloudTrail identity type (one of Root, IAMUser, AssumedRole, Role, FederatedUser, Directory, AWSAccount, AWSService, IdentityCenterUser, SAMLUser, WebIdentityUser, Unknown); requestID missing (required since eventVersion 1.01)",
            ],
        ),
        (
            "SerializerTestFileBadFieldName.json",
            &[
                "record 0: eventVersion missing (required since eventVersion 1.0); eventTime missing (required since eventVersion 1.0); eventType missing (required since eventVersion 1.02); eventID missing (required since eventVersion 1.01); eventSource missing (required since eventVersion 1.0); eventName missing (required since eventVersion 1.0); awsRegion missing (required since eventVersion 1.0); sourceIPAddress missing (required since eventVersion 1.0); userIdentity missing (required since eventVersion 1.0)",
            ],
        ),
    ];
    for (file, expected) in expectations {
        let body = fixture(&format!(
            "aws_cloudtrail_processing_library_fixtures/{file}"
        ));
        let results = parse_all(&body);
        for (i, message) in expected.iter().enumerate() {
            match &results[i] {
                Ok(_) => panic!("{file} record {i} accepted"),
                Err(e) => assert_eq!(&e.to_string(), message, "{file} record {i}"),
            }
        }
    }
}

#[test]
fn missing_field_fixture_names_each_gap() {
    let body =
        fixture("aws_cloudtrail_processing_library_fixtures/SerializerTestFileMissField.json");
    let results = parse_all(&body);
    let fields = |i: usize| -> Vec<&'static str> {
        match &results[i] {
            Ok(_) => panic!("record {i} accepted"),
            Err(e) => e.problems.iter().map(|p| p.field).collect(),
        }
    };
    assert!(fields(2).contains(&"userIdentity.type"));
    assert!(fields(3).contains(&"eventTime"));
    match &results[3] {
        Err(e) => assert!(e.to_string().contains(
            "eventTime \"ThisIsAWrongEventTime\" is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"
        )),
        Ok(_) => panic!("bad eventTime accepted"),
    }
}

#[test]
fn every_processing_library_fixture_is_refused_by_eventid_or_worse() {
    // They use made-up versions 1.1–1.6 (= 1.01–1.06) without the eventID those versions carry,
    // and placeholder identity types: none of them is a record CloudTrail could have written.
    for file in [
        "SerializerTestFile.json",
        "SerializerTestFileCompact.json",
        "SerializerTestFileLocation.json",
        "SerializerTestFileNewFieldAtRandomPlaces.json",
        "SerializerTestFileNewFieldName.json",
        "SerializerTestFileNewFieldsInRoot.json",
        "SerializerTestFileNewFieldsInUserIdentity.json",
        "SerializerVariousUserIdentityTestFile.json",
    ] {
        let body = fixture(&format!(
            "aws_cloudtrail_processing_library_fixtures/{file}"
        ));
        for (i, result) in parse_all(&body).into_iter().enumerate() {
            let error = result
                .err()
                .unwrap_or_else(|| panic!("{file} {i} accepted"));
            assert_eq!(error.record.index, Some(i));
            assert!(
                error.problems.iter().any(|p| p.field == "eventID"
                    && p.reason
                        == (Reason::Missing {
                            required_since: "1.01"
                        })),
                "{file} {i}: {error}"
            );
        }
    }
}

#[test]
fn malformed_batch_reports_line_and_column() {
    let body =
        fixture("aws_cloudtrail_processing_library_fixtures/SerializerTestFileBadJsonFormat.json");
    let error = split_batch(&body).expect_err("broken JSON");
    assert_eq!((error.line(), error.column()), (37, 9));
    assert!(error.to_string().contains("line 37 column 9"), "{error}");
}

#[test]
fn rejections_name_the_record_by_index_and_event_id() {
    let message = problems_of(&api_call(r#""eventTime":"2024-05-01 12:00:00""#));
    assert_eq!(
        message,
        "record 7 (eventID e-1): eventTime \"2024-05-01 12:00:00\" is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"
    );
}

#[test]
fn field_rules_by_type_and_version() {
    let cases: &[(&str, &str)] = &[
        (
            r#""eventVersion":"1.12""#,
            "eventVersion \"1.12\" is not a CloudTrail eventVersion (1.0 to 1.11)",
        ),
        (
            r#""eventType":"AwsSomethingElse""#,
            "eventType \"AwsSomethingElse\" is not a CloudTrail event type",
        ),
        (
            r#""eventType":"<absent>""#,
            "eventType missing (required since eventVersion 1.02)",
        ),
        (
            r#""eventID":"<absent>""#,
            "eventID missing (required since eventVersion 1.01)",
        ),
        (r#""eventID":"  ""#, "eventID is empty"),
        (
            r#""requestID":"<absent>""#,
            "requestID missing (required since eventVersion 1.01)",
        ),
        (r#""eventSource":42"#, "eventSource must be a string"),
        (
            r#""userIdentity":"alice""#,
            "userIdentity must be a JSON object",
        ),
        (
            r#""userIdentity":{"arn":"x"}"#,
            "userIdentity.type missing (required since eventVersion 1.0)",
        ),
        (r#""readOnly":"maybe""#, "readOnly must be true or false"),
        (
            r#""eventCategory":"Insight""#,
            "eventCategory Insight goes with eventType AwsCloudTrailInsight and only with it",
        ),
        (
            r#""eventCategory":"Other""#,
            "eventCategory \"Other\" is not a CloudTrail event category",
        ),
        (
            r#""resources":{"ARN":"x"}"#,
            "resources must be an array of objects",
        ),
        (
            r#""awsRegion":"EU West""#,
            "awsRegion \"EU West\" is not a region name",
        ),
    ];
    for (extra, expected) in cases {
        let message = problems_of(&api_call(extra));
        let detail = message
            .split_once(": ")
            .map_or(message.as_str(), |(_, d)| d);
        assert_eq!(detail, *expected, "{extra}");
    }
    // Console sign-ins and service events carry no requestID.
    for event_type in ["AwsConsoleSignIn", "AwsServiceEvent"] {
        let json = api_call(&format!(
            r#""eventType":"{event_type}","requestID":"<absent>""#
        ));
        assert_eq!(problems_of(&json), "accepted", "{event_type}");
    }
    // Version 1.0 predates eventID, requestID and eventType.
    let old = api_call(
        r#""eventVersion":"1.0","eventType":"<absent>","eventID":"<absent>","requestID":"<absent>""#,
    );
    let record = Record::parse(raw(&old), None).expect("1.0 record");
    assert_eq!(record.event_type(), EventType::AwsApiCall);
    assert_eq!(record.event_id(), None);
}

#[test]
fn insights_events_lack_call_fields_but_need_details() {
    let insight = r#"{"eventVersion":"1.07","eventTime":"2024-05-01T12:00:00Z","awsRegion":"us-east-1","eventID":"i-1","eventType":"AwsCloudTrailInsight","recipientAccountId":"123456789012","sharedEventID":"s-1","insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","insightType":"ApiCallRateInsight"},"eventCategory":"Insight"}"#;
    let record = Record::parse(raw(insight), None).expect("insight");
    assert_eq!(record.category(), EventCategory::Insight);
    assert_eq!(record.insight_type(), Some("ApiCallRateInsight"));
    assert_eq!(record.user_identity(), None);
    let without_details = insight.replace(r#""insightDetails""#, r#""otherDetails""#);
    assert_eq!(
        problems_of(&without_details),
        "record 7 (eventID i-1): insightDetails missing (required since eventVersion 1.0)"
    );
    assert_eq!(record.insight_data_trail(), None);

    // On data events: the trail it learned from is its insightSource.
    let trail = "arn:aws:cloudtrail:us-east-1:123456789012:trail/data";
    let on_data = insight.replace(
        r#""insightType":"ApiCallRateInsight""#,
        &format!(r#""insightType":"ApiCallRateInsight","sourceEventCategory":"Data","insightSource":"{trail}""#),
    );
    let record = Record::parse(raw(&on_data), None).expect("insight on data events");
    assert_eq!(record.insight_data_trail(), Some(trail));
    let management = insight.replace(
        r#""insightType":"ApiCallRateInsight""#,
        r#""insightType":"ApiCallRateInsight","sourceEventCategory":"Management""#,
    );
    let record = Record::parse(raw(&management), None).expect("insight on management events");
    assert_eq!(record.insight_data_trail(), None);
    assert_eq!(
        problems_of(&on_data.replace(&format!(r#","insightSource":"{trail}""#), "")),
        "record 7 (eventID i-1): insightDetails.insightSource missing (required on Insights events on data events)"
    );
    assert_eq!(
        problems_of(&on_data.replace(r#""Data""#, r#""Network""#)),
        "record 7 (eventID i-1): insightDetails.sourceEventCategory \"Network\" is neither Management nor Data"
    );
}

#[test]
fn records_over_256_kb_are_refused() {
    let padding = "x".repeat(MAX_RECORD_BYTES);
    let json = api_call(&format!(r#""requestParameters":{{"blob":"{padding}"}}"#));
    let message = problems_of(&json);
    assert!(
        message.starts_with("record 7: (record) is ")
            && message.ends_with("over the 262144-byte limit"),
        "{message}"
    );
}

#[test]
fn duplicate_fields_are_refused_as_ambiguous() {
    let json = api_call("").replacen('{', r#"{"eventTime":"2020-01-01T00:00:00Z","#, 1);
    assert!(problems_of(&json).contains("duplicate field `eventTime`"));
}

#[test]
fn category_comes_from_the_record_or_is_derived() {
    let category = |extra: &str| {
        Record::parse(raw(&api_call(extra)), None)
            .expect("valid")
            .category()
    };
    assert_eq!(category(r#""eventCategory":"Data""#), EventCategory::Data);
    assert_eq!(
        category(r#""eventVersion":"1.05""#),
        EventCategory::Management
    );
    assert_eq!(
        category(
            r#""eventVersion":"1.05","eventSource":"s3.amazonaws.com","eventName":"GetObject""#
        ),
        EventCategory::Data
    );
    assert_eq!(
        category(
            r#""eventVersion":"1.05","eventSource":"lambda.amazonaws.com","eventName":"Invoke""#
        ),
        EventCategory::Data
    );
    assert_eq!(
        category(r#""eventVersion":"1.06","managementEvent":false"#),
        EventCategory::Data
    );
    assert_eq!(
        category(r#""eventType":"AwsVpceEvent""#),
        EventCategory::NetworkActivity
    );
}

#[test]
fn read_only_comes_from_the_record_or_the_call_name() {
    let read_only = |extra: &str| {
        Record::parse(raw(&api_call(extra)), None)
            .expect("valid")
            .is_read_only()
    };
    assert!(read_only(r#""readOnly":true"#));
    assert!(!read_only(r#""readOnly":false,"eventName":"GetObject""#));
    assert!(read_only(r#""eventName":"DescribeInstances""#));
    assert!(read_only(r#""eventName":"ListBuckets""#));
    assert!(read_only(r#""eventName":"Get""#));
    assert!(!read_only(r#""eventName":"Getaway""#));
    assert!(!read_only(r#""eventName":"RunInstances""#));
    assert!(!read_only(
        r#""eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn""#
    ));
}

#[test]
fn global_service_events_belong_to_us_east_1() {
    let record = |extra: &str| api_call(extra);
    let cases = [
        (
            r#""eventSource":"iam.amazonaws.com","awsRegion":"us-east-2""#,
            true,
            "us-east-1",
        ),
        (
            r#""eventSource":"cloudfront.amazonaws.com""#,
            true,
            "us-east-1",
        ),
        (
            r#""eventSource":"sts.amazonaws.com","awsRegion":"us-east-1""#,
            true,
            "us-east-1",
        ),
        (
            r#""eventSource":"sts.amazonaws.com","awsRegion":"eu-west-1""#,
            false,
            "eu-west-1",
        ),
        (
            r#""eventSource":"ec2.amazonaws.com","awsRegion":"ap-isob-east-1r""#,
            false,
            "ap-isob-east-1r",
        ),
    ];
    for (extra, global, region) in cases {
        let json = record(extra);
        let parsed = Record::parse(raw(&json), None).expect("valid");
        assert_eq!(parsed.is_global_service_event(), global, "{extra}");
        assert_eq!(parsed.delivery_region(), region, "{extra}");
    }
}

#[test]
fn aws_documentation_examples_classify_as_documented() {
    let body = fixture("awsdocs_user_guide_examples/awsdocs_example_records.json");
    let records: Vec<Record> = parse_all(&body)
        .into_iter()
        .map(|r| r.expect("docs example"))
        .collect();
    let insights = records
        .iter()
        .filter(|r| r.category() == EventCategory::Insight)
        .count();
    assert_eq!(insights, 3);
    // The 1.0 IAM examples were recorded in us-east-2 but are global service events.
    let create_user = records
        .iter()
        .find(|r| r.event_name() == Some("CreateUser"))
        .expect("CreateUser example");
    assert_eq!(create_user.version(), EventVersion::new(0));
    assert_eq!(create_user.delivery_region(), "us-east-1");
    assert_eq!(create_user.category(), EventCategory::Management);
    assert!(!create_user.is_read_only());
}

/// The record CloudTrail Lake stores for AWS's PutAuditEvents example ("Create a custom
/// integration with the AWS CLI"), as ingest builds it.
const LAKE_RECORD: &str = r#"{"eventVersion":"1.11","eventCategory":"ActivityAuditLog","eventType":"ActivityLog","eventID":"c7ca724d-9aa4-81f2-9a90-3e290df75b0d","eventTime":"2021-10-27T12:13:14Z","awsRegion":"us-east-1","recipientAccountId":"152089810396","metadata":{"ingestionTime":"2021-10-27T12:13:20Z","channelARN":"arn:aws:cloudtrail:us-east-1:152089810396:channel/EXAMPLE8-0558-4f7e-a06a-43969EXAMPLE"},"eventData":{"version":"eventData.version","UID":"UID","userIdentity":{"type":"CustomUserIdentity","principalId":"principalId","details":{"key":"value"}},"eventTime":"2021-10-27T12:13:14Z","eventName":"eventName","userAgent":"userAgent","eventSource":"eventSource","requestParameters":{"key":"value"},"responseElements":{"key":"value"},"additionalEventData":{"key":"value"},"sourceIPAddress":"12.34.56.78","recipientAccountId":"152089810396"}}"#;

/// The Lake record with top-level fields changed; `"<absent>"` removes one.
fn lake_record(extra: &str) -> String {
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(LAKE_RECORD).expect("base");
    let overrides: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&format!("{{{extra}}}")).expect("extra");
    for (key, value) in overrides {
        if value == serde_json::Value::String("<absent>".into()) {
            object.remove(&key);
        } else {
            object.insert(key, value);
        }
    }
    serde_json::to_string(&object).expect("serialise")
}

#[test]
fn lake_integration_records_parse_without_call_fields() {
    let record = Record::parse(raw(LAKE_RECORD), Some(0)).expect("Lake record");
    assert_eq!(record.raw().get(), LAKE_RECORD);
    assert_eq!(record.version(), EventVersion::new(11));
    assert_eq!(record.event_type(), EventType::ActivityLog);
    assert_eq!(record.category(), EventCategory::ActivityAuditLog);
    assert_eq!(
        record.event_id(),
        Some("c7ca724d-9aa4-81f2-9a90-3e290df75b0d")
    );
    assert_eq!(record.event_time().to_string(), "2021-10-27T12:13:14Z");
    assert_eq!(record.recipient_account_id(), Some("152089810396"));
    // Who called, what and from where are the caller's own, inside eventData.
    assert_eq!(record.event_source(), None);
    assert_eq!(record.event_name(), None);
    assert_eq!(record.user_identity(), None);
    assert!(record.resources().is_empty());
    // Not a management event, no read/write judgement, filed in the Region it arrived in.
    assert!(!record.is_read_only());
    assert!(!record.is_global_service_event());
    assert_eq!(record.delivery_region(), "us-east-1");
    let elsewhere = lake_record(r#""awsRegion":"ap-southeast-2""#);
    let elsewhere = Record::parse(raw(&elsewhere), None).expect("valid");
    assert_eq!(elsewhere.delivery_region(), "ap-southeast-2");
}

#[test]
fn lake_integration_records_need_their_own_fields() {
    let cases: &[(&str, &str)] = &[
        (
            r#""eventData":"<absent>""#,
            "eventData missing (required on CloudTrail Lake integration events)",
        ),
        (
            r#""eventData":"{\"UID\":\"UID\"}""#,
            "eventData must be a JSON object",
        ),
        (
            r#""metadata":"<absent>""#,
            "metadata missing (required on CloudTrail Lake integration events)",
        ),
        (r#""metadata":null"#, "metadata is null"),
        (
            r#""metadata":{"channelARN":"arn:aws:cloudtrail:us-east-1:152089810396:channel/x"}"#,
            "metadata.ingestionTime missing (required on CloudTrail Lake integration events)",
        ),
        (
            r#""metadata":{"ingestionTime":"yesterday","channelARN":"arn:aws:cloudtrail:us-east-1:152089810396:channel/x"}"#,
            "metadata.ingestionTime \"yesterday\" is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            r#""metadata":{"ingestionTime":"2021-10-27T12:13:20Z"}"#,
            "metadata.channelARN missing (required on CloudTrail Lake integration events)",
        ),
        (
            r#""recipientAccountId":"<absent>""#,
            "recipientAccountId missing (required on CloudTrail Lake integration events)",
        ),
        (
            r#""eventTime":"2021-10-27T12:13:14""#,
            "eventTime \"2021-10-27T12:13:14\" is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            r#""awsRegion":"<absent>""#,
            "awsRegion missing (required on CloudTrail Lake integration events)",
        ),
        (
            r#""eventType":"<absent>""#,
            "eventType missing (required on CloudTrail Lake integration events)",
        ),
        (
            r#""eventType":"AwsApiCall""#,
            "eventType \"AwsApiCall\" does not go with eventCategory ActivityAuditLog, whose events are of eventType ActivityLog",
        ),
        (
            r#""eventCategory":"Management""#,
            "eventCategory \"Management\" does not go with eventType ActivityLog, whose events are of eventCategory ActivityAuditLog",
        ),
        (
            r#""eventVersion":"2.0""#,
            "eventVersion \"2.0\" is not a CloudTrail eventVersion (1.0 to 1.11)",
        ),
    ];
    for (extra, expected) in cases {
        let message = problems_of(&lake_record(extra));
        let detail = message
            .split_once(": ")
            .map_or(message.as_str(), |(_, d)| d);
        assert_eq!(detail, *expected, "{extra}");
    }
    // eventID is required whatever the eventVersion, and every problem is reported.
    assert_eq!(
        problems_of(&lake_record(
            r#""eventID":"<absent>","metadata":"<absent>""#
        )),
        "record 7: eventID missing (required on CloudTrail Lake integration events); metadata missing (required on CloudTrail Lake integration events)"
    );
}

#[test]
fn records_of_other_kinds_ignore_lake_fields() {
    let json = api_call(r#""metadata":{"note":1},"eventData":"anything""#);
    let record = Record::parse(raw(&json), None).expect("an API call");
    assert_eq!(record.event_type(), EventType::AwsApiCall);
    assert_eq!(record.category(), EventCategory::Management);
}
