use super::*;

const MAIN: &str = "Name: main\nS3BucketName: cairn-trail\nHomeRegion: us-east-1\n";
const AUDIT: &str = "Name: audit\nS3BucketName: cairn-audit\nHomeRegion: us-east-2\n";

/// A configuration of account 111122223333 with the trail "main" and a second trail given
/// as YAML lines.
fn with_trail(second: &str) -> String {
    let indent = |lines: &str| -> String {
        lines
            .lines()
            .enumerate()
            .map(|(i, line)| format!("{}{line}\n", if i == 0 { "  - " } else { "    " }))
            .collect()
    };
    format!(
        "accountId: \"111122223333\"\ntrails:\n{}{}",
        indent(MAIN),
        indent(second)
    )
}

/// The configuration with trails[1] "audit" given the extra lines.
fn with_audit(extra: &str) -> String {
    with_trail(&format!("{AUDIT}{extra}"))
}

fn error(yaml: &str) -> String {
    match Config::from_yaml(yaml, "cairn.yaml") {
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

/// Runs `(case, YAML, expected message after "cairn.yaml: ")` rows.
fn check(cases: &[(&str, String, &str)]) {
    for (case, yaml, expected) in cases {
        assert_eq!(error(yaml), format!("cairn.yaml: {expected}"), "{case}");
    }
}

#[test]
fn selector_errors_name_the_trail_the_path_and_the_rule() {
    let long = "x".repeat(2049);
    let many_values: Vec<String> = (0..251)
        .map(|i| format!("\"arn:aws:s3:::bucket-{i}/\""))
        .collect();
    let many_conditions: Vec<String> = (0..499).map(|i| format!("\"Op{i}\"")).collect();
    check(&[
        (
            "both kinds",
            with_audit(
                "EventSelectors: [{}]\nAdvancedEventSelectors: [{\"FieldSelectors\": [{\"Field\": \"eventCategory\", \"Equals\": [\"Management\"]}]}]",
            ),
            "trails[1] (audit): a trail has EventSelectors or AdvancedEventSelectors, not both",
        ),
        (
            "basic wrong type",
            with_audit(
                r#"EventSelectors: [{"DataResources": [{"Type": "AWS::S3::Bucket", "Values": ["arn:aws:s3"]}]}]"#,
            ),
            "trails[1] (audit): EventSelectors[0].DataResources[0].Type: \"AWS::S3::Bucket\" is not a resource type for basic event selectors (AWS::S3::Object, AWS::Lambda::Function or AWS::DynamoDB::Table); log other types with AdvancedEventSelectors",
        ),
        (
            "basic value of another service",
            with_audit(
                r#"EventSelectors: [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:lambda"]}]}]"#,
            ),
            "trails[1] (audit): EventSelectors[0].DataResources[0].Values[0]: \"arn:aws:lambda\" is not a value for AWS::S3::Object: use arn:aws:s3 (all objects), arn:aws:s3:::BUCKET/ (one bucket) or arn:aws:s3:::BUCKET/PREFIX",
        ),
        (
            "basic bucket without slash",
            with_audit(
                r#"EventSelectors: [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::cairn-data"]}]}]"#,
            ),
            "trails[1] (audit): EventSelectors[0].DataResources[0].Values[0]: \"arn:aws:s3:::cairn-data\" names a bucket, not objects: write arn:aws:s3:::cairn-data/ to log every object in it",
        ),
        (
            "basic bad bucket",
            with_audit(
                r#"EventSelectors: [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::Cairn_Data/"]}]}]"#,
            ),
            "trails[1] (audit): EventSelectors[0].DataResources[0].Values[0]: \"Cairn_Data\" is not a valid S3 bucket name: it may contain only lowercase letters, numbers, periods (.) and hyphens (-)",
        ),
        (
            "basic lambda prefix",
            with_audit(
                r#"EventSelectors: [{"DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda:us-east-1:111122223333:function:"]}]}]"#,
            ),
            "trails[1] (audit): EventSelectors[0].DataResources[0].Values[0]: \"arn:aws:lambda:us-east-1:111122223333:function:\" is not a value for AWS::Lambda::Function: use arn:aws:lambda (all functions) or a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)",
        ),
        (
            "basic dynamodb s3 value",
            with_audit(
                r#"EventSelectors: [{"DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": ["arn:aws:s3"]}]}]"#,
            ),
            "trails[1] (audit): EventSelectors[0].DataResources[0].Values[0]: \"arn:aws:s3\" is not a value for AWS::DynamoDB::Table: use arn:aws:dynamodb (all tables) or a table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)",
        ),
        (
            "basic exclude s3",
            with_audit(
                r#"EventSelectors: [{"ExcludeManagementEventSources": ["s3.amazonaws.com"]}]"#,
            ),
            "trails[1] (audit): EventSelectors[0].ExcludeManagementEventSources[0]: \"s3.amazonaws.com\" cannot be excluded: the only management event sources a trail can leave out are kms.amazonaws.com and rdsdata.amazonaws.com",
        ),
        (
            "basic six selectors",
            with_audit("EventSelectors: [{}, {}, {}, {}, {}, {}]"),
            "trails[1] (audit): EventSelectors: holds 6 event selectors; a trail has 1 to 5 (leave EventSelectors out for CloudTrail's default)",
        ),
        (
            "basic empty list",
            with_audit("EventSelectors: []"),
            "trails[1] (audit): EventSelectors: holds 0 event selectors; a trail has 1 to 5 (leave EventSelectors out for CloudTrail's default)",
        ),
        (
            "basic 251 values",
            with_audit(&format!(
                r#"EventSelectors: [{{"DataResources": [{{"Type": "AWS::S3::Object", "Values": [{}]}}]}}]"#,
                many_values.join(",")
            )),
            "trails[1] (audit): EventSelectors: 251 data resource values across the trail's event selectors; CloudTrail allows at most 250",
        ),
        (
            "basic unknown key",
            with_audit(
                r#"EventSelectors: [{"DataResources": [{"Type": "AWS::S3::Object", "Value": ["arn:aws:s3"]}]}]"#,
            ),
            "line 9, column 69: trails[1] (audit): EventSelectors[0].DataResources[0]: unknown field `Value`, expected `Type` or `Values`",
        ),
        (
            "basic bad read write type",
            with_audit(r#"EventSelectors: [{"ReadWriteType": "read-only"}]"#),
            "line 9, column 40: trails[1] (audit): EventSelectors[0].ReadWriteType: unknown variant `read-only`, expected one of `ReadOnly`, `WriteOnly`, `All`",
        ),
        (
            "adv missing category",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors: every advanced event selector needs an eventCategory field selector (Equals Management, Data, NetworkActivity or ActivityAuditLog)",
        ),
        (
            "adv insight category",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Insight"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[0].Equals[0]: trails select Insights events with InsightSelectors; eventCategory Insight is for CloudTrail Lake event data stores",
        ),
        (
            "adv lake category",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ConfigurationItem"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[0].Equals[0]: eventCategory ConfigurationItem is for CloudTrail Lake event data stores, not trails",
        ),
        (
            "adv activity audit log takes no other field",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}, {"Field": "eventSource", "Equals": ["eventSource"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1]: eventSource cannot be filtered for ActivityAuditLog events; their selector takes eventCategory alone",
        ),
        (
            "adv activity log is no data event type",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, {"Field": "eventType", "Equals": ["ActivityLog"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2].Equals[0]: \"ActivityLog\" is not a CloudTrail event type (AwsApiCall, AwsServiceEvent, AwsConsoleAction, AwsConsoleSignIn, AwsCloudTrailInsight, AwsVpceEvent)",
        ),
        (
            "adv unknown category",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["management"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[0].Equals[0]: \"management\" is not an event category for trails (Management, Data, NetworkActivity or ActivityAuditLog)",
        ),
        (
            "adv category StartsWith",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "StartsWith": ["Man"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[0].StartsWith: StartsWith is not allowed on eventCategory; use Equals",
        ),
        (
            "adv category two values",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management", "Data"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[0].Equals: eventCategory takes exactly one value; add another selector for another category",
        ),
        (
            "adv two categories",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventCategory", "Equals": ["Data"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1]: a selector can have only one eventCategory field selector; add another selector for another category",
        ),
        (
            "adv data without type",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors: a Data event selector needs a resources.type field selector (Equals one resource type, such as AWS::S3::Object)",
        ),
        (
            "adv two types",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2]: a selector can have only one resources.type field selector; add another selector for another resource type",
        ),
        (
            "adv type NotEquals",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "NotEquals": ["AWS::S3::Object"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].NotEquals: NotEquals is not allowed on resources.type for Data events; use Equals",
        ),
        (
            "adv two type values",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object", "AWS::Lambda::Function"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].Equals: resources.type takes exactly one value; add another selector for another resource type",
        ),
        (
            "adv type shape",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["S3Object"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].Equals[0]: \"S3Object\" is not a resource type (AWS::Service::Type, such as AWS::S3::Object)",
        ),
        (
            "adv readOnly yes",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["yes"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].Equals[0]: readOnly takes \"true\" or \"false\", not \"yes\"",
        ),
        (
            "adv readOnly NotEquals",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "NotEquals": ["true"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].NotEquals: NotEquals is not allowed on readOnly for Management events; use Equals",
        ),
        (
            "adv mgmt eventSource Equals",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventSource", "Equals": ["kms.amazonaws.com"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].Equals: Equals is not allowed on eventSource for Management events; use NotEquals",
        ),
        (
            "adv mgmt eventSource s3",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventSource", "NotEquals": ["s3.amazonaws.com"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].NotEquals[0]: trails can leave out only kms.amazonaws.com or rdsdata.amazonaws.com management events, not \"s3.amazonaws.com\"",
        ),
        (
            "adv mgmt eventName",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventName", "Equals": ["RunInstances"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1]: eventName is supported for management events only on CloudTrail Lake event data stores, not on trails",
        ),
        (
            "adv mgmt userIdentity",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "userIdentity.arn", "NotStartsWith": ["arn:aws:sts::111122223333:assumed-role/Ops"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1]: userIdentity.arn is supported for management events only on CloudTrail Lake event data stores, not on trails",
        ),
        (
            "adv mgmt resources.ARN",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1]: resources.ARN does not apply to management events",
        ),
        (
            "adv network without source",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["NetworkActivity"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors: a NetworkActivity event selector needs an eventSource field selector (Equals the service, such as ec2.amazonaws.com)",
        ),
        (
            "adv network source NotEquals",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["NetworkActivity"]}, {"Field": "eventSource", "NotEquals": ["ec2.amazonaws.com"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].NotEquals: NotEquals is not allowed on eventSource for NetworkActivity events; use Equals",
        ),
        (
            "adv network source shape",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["NetworkActivity"]}, {"Field": "eventSource", "Equals": ["ec2"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[1].Equals[0]: \"ec2\" is not an event source (SERVICE.amazonaws.com)",
        ),
        (
            "adv network errorCode",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["NetworkActivity"]}, {"Field": "eventSource", "Equals": ["ec2.amazonaws.com"]}, {"Field": "errorCode", "Equals": ["AccessDenied"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2].Equals[0]: errorCode can only be VpceAccessDenied, not \"AccessDenied\"",
        ),
        (
            "adv network readOnly",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["NetworkActivity"]}, {"Field": "eventSource", "Equals": ["ec2.amazonaws.com"]}, {"Field": "readOnly", "Equals": ["true"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2]: readOnly does not apply to network activity events",
        ),
        (
            "adv data errorCode",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, {"Field": "errorCode", "Equals": ["VpceAccessDenied"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2]: errorCode applies only to network activity events",
        ),
        (
            "adv data eventType value",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, {"Field": "eventType", "Equals": ["ApiCall"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2].Equals[0]: \"ApiCall\" is not a CloudTrail event type (AwsApiCall, AwsServiceEvent, AwsConsoleAction, AwsConsoleSignIn, AwsCloudTrailInsight, AwsVpceEvent)",
        ),
        (
            "adv data console StartsWith",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, {"Field": "sessionCredentialFromConsole", "StartsWith": ["t"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2].StartsWith: StartsWith is not allowed on sessionCredentialFromConsole for Data events; use Equals or NotEquals",
        ),
        (
            "adv data whole arn",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}, {"Field": "resources.ARN", "Equals": ["arn:aws:lambda:us-east-1:111122223333:function"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2].Equals[0]: Equals and NotEquals on resources.ARN need a whole AWS::Lambda::Function ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME), not \"arn:aws:lambda:us-east-1:111122223333:function\"; use StartsWith to match a prefix",
        ),
        (
            "adv field case",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventcategory", "Equals": ["Management"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[0].Field: \"eventcategory\" is not an advanced event selector field (field names are case-sensitive: eventCategory); the fields are eventCategory, eventSource, eventName, eventType, readOnly, resources.type, resources.ARN, userIdentity.arn, sessionCredentialFromConsole, errorCode, vpcEndpointId",
        ),
        (
            "adv field unknown",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, {"Field": "requestParameters.bucketName", "Equals": ["b"]}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2].Field: \"requestParameters.bucketName\" is not an advanced event selector field; the fields are eventCategory, eventSource, eventName, eventType, readOnly, resources.type, resources.ARN, userIdentity.arn, sessionCredentialFromConsole, errorCode, vpcEndpointId",
        ),
        (
            "adv no field selectors",
            with_audit(r#"AdvancedEventSelectors: [{"Name": "nothing", "FieldSelectors": []}]"#),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors: must hold at least one field selector",
        ),
        (
            "adv no operator",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory"}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[0]: has no operator: give Equals, StartsWith, EndsWith, NotEquals, NotStartsWith or NotEndsWith",
        ),
        (
            "adv empty list",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, {"Field": "eventName", "Equals": []}]}]"#,
            ),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2].Equals: must hold at least one value; leave the operator out instead",
        ),
        (
            "adv long value",
            with_audit(&format!(
                r#"AdvancedEventSelectors: [{{"FieldSelectors": [{{"Field": "eventCategory", "Equals": ["Data"]}}, {{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}}, {{"Field": "eventName", "Equals": ["{long}"]}}]}}]"#
            )),
            "trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[2].Equals[0]: must be 1 to 2048 characters",
        ),
        (
            "adv 501 values",
            with_audit(&format!(
                r#"AdvancedEventSelectors: [{{"FieldSelectors": [{{"Field": "eventCategory", "Equals": ["Data"]}}, {{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}}, {{"Field": "eventName", "Equals": [{}]}}]}}]"#,
                many_conditions.join(",")
            )),
            "trails[1] (audit): AdvancedEventSelectors: 501 values across all conditions; CloudTrail allows at most 500 per trail",
        ),
        (
            "adv empty selectors",
            with_audit("AdvancedEventSelectors: []"),
            "trails[1] (audit): AdvancedEventSelectors: must hold at least one selector; leave AdvancedEventSelectors out for CloudTrail's default (all management events)",
        ),
        (
            "adv unknown key",
            with_audit(
                r#"AdvancedEventSelectors: [{"FieldSelectors": [{"Field": "eventCategory", "Operator": "Equals"}]}]"#,
            ),
            "line 9, column 77: trails[1] (audit): AdvancedEventSelectors[0].FieldSelectors[0]: unknown field `Operator`, expected one of `Field`, `Equals`, `StartsWith`, `EndsWith`, `NotEquals`, `NotStartsWith`, `NotEndsWith`",
        ),
        (
            "insight type",
            with_audit(r#"InsightSelectors: [{"InsightType": "ApiCallVolumeInsight"}]"#),
            "line 9, column 40: trails[1] (audit): InsightSelectors[0].InsightType: unknown variant `ApiCallVolumeInsight`, expected `ApiCallRateInsight` or `ApiErrorRateInsight`",
        ),
        (
            "insight twice",
            with_audit(
                r#"InsightSelectors: [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiCallRateInsight"}]"#,
            ),
            "trails[1] (audit): InsightSelectors[1].InsightType: ApiCallRateInsight is already selected",
        ),
        (
            "insight call rate read only",
            with_audit(
                "EventSelectors: [{\"ReadWriteType\": \"ReadOnly\"}]\nInsightSelectors: [{\"InsightType\": \"ApiCallRateInsight\"}]",
            ),
            "trails[1] (audit): InsightSelectors[0]: ApiCallRateInsight on management events needs the trail to log write management events, and its event selectors do not",
        ),
        (
            "insight error rate no mgmt",
            with_audit(
                "EventSelectors: [{\"IncludeManagementEvents\": false, \"DataResources\": [{\"Type\": \"AWS::S3::Object\", \"Values\": [\"arn:aws:s3\"]}]}]\nInsightSelectors: [{\"InsightType\": \"ApiErrorRateInsight\"}]",
            ),
            "trails[1] (audit): InsightSelectors[0]: ApiErrorRateInsight on management events needs the trail to log management events, and its event selectors do not",
        ),
        (
            "insight data without data",
            with_audit(
                r#"InsightSelectors: [{"InsightType": "ApiErrorRateInsight", "EventCategories": ["Data"]}]"#,
            ),
            "trails[1] (audit): InsightSelectors[0]: ApiErrorRateInsight on data events needs the trail to log read or write data events, and its event selectors do not",
        ),
        (
            "insight empty categories",
            with_audit(
                r#"InsightSelectors: [{"InsightType": "ApiErrorRateInsight", "EventCategories": []}]"#,
            ),
            "trails[1] (audit): InsightSelectors[0].EventCategories: must hold Management, Data or both; leave it out for management events",
        ),
        (
            "insight adv read only",
            with_audit(
                "AdvancedEventSelectors: [{\"FieldSelectors\": [{\"Field\": \"eventCategory\", \"Equals\": [\"Management\"]}, {\"Field\": \"readOnly\", \"Equals\": [\"true\"]}]}]\nInsightSelectors: [{\"InsightType\": \"ApiCallRateInsight\"}]",
            ),
            "trails[1] (audit): InsightSelectors[0]: ApiCallRateInsight on management events needs the trail to log write management events, and its event selectors do not",
        ),
    ]);
}

fn trail_named(name: &str) -> String {
    with_trail(&format!(
        "Name: \"{name}\"\nS3BucketName: cairn-audit\nHomeRegion: us-east-2\n"
    ))
}

fn bucket(name: &str) -> String {
    with_trail(&format!(
        "Name: audit\nS3BucketName: \"{name}\"\nHomeRegion: us-east-2\n"
    ))
}

#[test]
fn trail_and_file_errors_match_cloudtrail_rules() {
    let long_prefix = "p".repeat(201);
    let six: String = (0..6)
        .map(|i| {
            format!(
                "  - Name: t{i}-trail\n    S3BucketName: cairn-trail\n    HomeRegion: eu-west-1\n"
            )
        })
        .collect();
    check(&[
        (
            "name short",
            trail_named("ab"),
            "trails[1] (ab): Name: \"ab\" is not a valid trail name: it must be between 3 and 128 characters",
        ),
        (
            "name long",
            trail_named(&"a".repeat(129)),
            "trails[1] (aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa): Name: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is not a valid trail name: it must be between 3 and 128 characters",
        ),
        (
            "name chars",
            trail_named("audit trail"),
            "trails[1] (audit trail): Name: \"audit trail\" is not a valid trail name: it may contain only ASCII letters, numbers, periods (.), underscores (_) and dashes (-)",
        ),
        (
            "name start",
            trail_named("-audit"),
            "trails[1] (-audit): Name: \"-audit\" is not a valid trail name: it must start and end with a letter or number",
        ),
        (
            "name adjacent",
            trail_named("my-_namespace"),
            "trails[1] (my-_namespace): Name: \"my-_namespace\" is not a valid trail name: it must not have adjacent periods, underscores or dashes",
        ),
        (
            "name ip",
            trail_named("192.168.5.4"),
            "trails[1] (192.168.5.4): Name: \"192.168.5.4\" is not a valid trail name: it must not be in IP address format",
        ),
        (
            "bucket upper",
            bucket("Cairn-Audit"),
            "trails[1] (audit): S3BucketName: \"Cairn-Audit\" is not a valid S3 bucket name: it may contain only lowercase letters, numbers, periods (.) and hyphens (-)",
        ),
        (
            "bucket short",
            bucket("ab"),
            "trails[1] (audit): S3BucketName: \"ab\" is not a valid S3 bucket name: it must be between 3 and 63 characters",
        ),
        (
            "bucket edge",
            bucket("cairn-audit-"),
            "trails[1] (audit): S3BucketName: \"cairn-audit-\" is not a valid S3 bucket name: it must begin and end with a letter or number",
        ),
        (
            "bucket dots",
            bucket("cairn..audit"),
            "trails[1] (audit): S3BucketName: \"cairn..audit\" is not a valid S3 bucket name: it must not contain two adjacent periods",
        ),
        (
            "bucket ip",
            bucket("192.168.5.4"),
            "trails[1] (audit): S3BucketName: \"192.168.5.4\" is not a valid S3 bucket name: it must not be formatted as an IP address",
        ),
        (
            "bucket prefix",
            bucket("amzn-s3-demo-bucket"),
            "trails[1] (audit): S3BucketName: \"amzn-s3-demo-bucket\" is not a valid S3 bucket name: the prefix amzn-s3-demo- is reserved",
        ),
        (
            "bucket suffix",
            bucket("cairn-audit--x-s3"),
            "trails[1] (audit): S3BucketName: \"cairn-audit--x-s3\" is not a valid S3 bucket name: the suffix --x-s3 is reserved",
        ),
        (
            "prefix long",
            with_audit(&format!("S3KeyPrefix: {long_prefix}")),
            "trails[1] (audit): S3KeyPrefix: must be at most 200 characters",
        ),
        (
            "region",
            with_audit("IsMultiRegionTrail: false").replace("us-east-2", "US-EAST-2"),
            "trails[1] (audit): HomeRegion: \"US-EAST-2\" is not a region name (such as us-east-1)",
        ),
        (
            "multi-region without global",
            with_audit("IsMultiRegionTrail: true\nIncludeGlobalServiceEvents: false"),
            "trails[1] (audit): IncludeGlobalServiceEvents: a multi-Region trail must include global service events",
        ),
        (
            "org without id",
            with_audit("IsOrganizationTrail: true"),
            "trails[1] (audit): OrganizationId: an organization trail needs the organization's ID (o-…), which names its AWSLogs/o-…/ folder",
        ),
        (
            "org bad id",
            with_audit("IsOrganizationTrail: true\nOrganizationId: o-abc"),
            "trails[1] (audit): OrganizationId: \"o-abc\" is not an Organizations ID (o- followed by 10 to 32 lowercase letters or digits)",
        ),
        (
            "org id without org",
            with_audit("OrganizationId: o-a1b2c3d4e5"),
            "trails[1] (audit): OrganizationId: is only for organization trails (IsOrganizationTrail: true)",
        ),
        (
            "kms",
            with_audit("KmsKeyId: my-key"),
            "trails[1] (audit): KmsKeyId: \"my-key\" is not a KMS key: use alias/NAME, an alias ARN, a key ARN or a key ID",
        ),
        (
            "kms arn",
            with_audit("KmsKeyId: arn:aws:kms:us-east-2:111122223333:secret/x"),
            "trails[1] (audit): KmsKeyId: \"arn:aws:kms:us-east-2:111122223333:secret/x\" is not a KMS key: use alias/NAME, an alias ARN, a key ARN or a key ID",
        ),
        (
            "sns name",
            with_audit("SnsTopicARN: cairn-notices"),
            "trails[1] (audit): SnsTopicARN: \"cairn-notices\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)",
        ),
        (
            "sns account",
            with_audit("SnsTopicARN: arn:aws:sns:us-east-2:1111:cairn-notices"),
            "trails[1] (audit): SnsTopicARN: \"arn:aws:sns:us-east-2:1111:cairn-notices\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)",
        ),
        (
            "sns name mismatch",
            with_audit(
                "SnsTopicARN: arn:aws:sns:us-east-2:111122223333:cairn-notices\nSnsTopicName: other",
            ),
            "trails[1] (audit): SnsTopicName: \"other\" does not match SnsTopicARN; give the topic as SnsTopicARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)",
        ),
        (
            "log group",
            with_audit("CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-2:111122223333:cairn"),
            "trails[1] (audit): CloudWatchLogsLogGroupArn: \"arn:aws:logs:us-east-2:111122223333:cairn\" is not a CloudWatch Logs log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*)",
        ),
        (
            "log group name",
            with_audit(
                "CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-2:111122223333:log-group:bad name:*",
            ),
            "trails[1] (audit): CloudWatchLogsLogGroupArn: \"arn:aws:logs:us-east-2:111122223333:log-group:bad name:*\" is not a CloudWatch Logs log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*)",
        ),
        (
            "role without group",
            with_audit("CloudWatchLogsRoleArn: arn:aws:iam::111122223333:role/CloudTrailToLogs"),
            "trails[1] (audit): CloudWatchLogsRoleArn: goes with CloudWatchLogsLogGroupArn, which is missing",
        ),
        (
            "role",
            with_audit(
                "CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-2:111122223333:log-group:cairn:*\nCloudWatchLogsRoleArn: arn:aws:iam::111122223333:user/x",
            ),
            "trails[1] (audit): CloudWatchLogsRoleArn: \"arn:aws:iam::111122223333:user/x\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
        ),
        (
            "trail arn",
            with_audit("TrailARN: arn:aws:cloudtrail:us-east-1:111122223333:trail/audit"),
            "trails[1] (audit): TrailARN: \"arn:aws:cloudtrail:us-east-1:111122223333:trail/audit\" is not this trail's ARN (arn:aws:cloudtrail:us-east-2:111122223333:trail/audit)",
        ),
        (
            "has insight selectors",
            with_audit("HasInsightSelectors: true"),
            "trails[1] (audit): HasInsightSelectors: is true but the trail has no InsightSelectors (get-insight-selectors prints them)",
        ),
        (
            "has custom selectors",
            with_audit("HasCustomEventSelectors: true"),
            "trails[1] (audit): HasCustomEventSelectors: is true but the trail has no EventSelectors or AdvancedEventSelectors (get-event-selectors prints them)",
        ),
        (
            "duplicate",
            with_trail(MAIN),
            "trails[1] (main): Name: the name is already used by trails[0]; trail names are unique",
        ),
        (
            "account short",
            with_audit("").replace("111122223333", "1111"),
            "accountId: \"1111\" is not an AWS account ID (12 digits)",
        ),
        (
            "account number",
            with_audit("").replace("\"111122223333\"", "111122223333"),
            "line 1, column 12: accountId: write the account ID in quotes (\"012345678901\"): as a number it loses leading zeros",
        ),
        (
            "six trails",
            format!("accountId: \"111122223333\"\ntrails:\n{six}"),
            "trails: 6 trails log eu-west-1 (multi-Region trails count in every Region); CloudTrail allows 5 per Region",
        ),
        (
            "missing name",
            with_trail("S3BucketName: cairn-audit\nHomeRegion: us-east-2\n"),
            "line 6, column 5: trails[1]: missing field `Name`",
        ),
        (
            "bad bool",
            with_audit("IsMultiRegionTrail: yes please"),
            "line 9, column 25: trails[1] (audit): IsMultiRegionTrail: invalid type: string \"yes please\", expected a boolean",
        ),
        (
            "syntax",
            with_audit("EventSelectors: [{\"ReadWriteType\": \"All\"}"),
            "line 10, column 1: did not find expected ',' or ']', while parsing a flow sequence at line 9 column 21",
        ),
        (
            "top-level key",
            format!("{}metricFilter: []\n", with_audit("")),
            "line 9, column 1: unknown field `metricFilter`, expected one of `accountId`, `stateBucket`, `alertTopicArn`, `trails`, `metricFilters`, `deliverShards`",
        ),
        (
            "missing account",
            "trails: []\n".to_owned(),
            "line 1, column 1: missing field `accountId`",
        ),
        (
            "empty",
            String::new(),
            "line 1, column 1: missing field `accountId`",
        ),
    ]);
}

fn filters(lines: &str) -> String {
    format!("accountId: \"111122223333\"\nmetricFilters:\n{lines}")
}

const FILTER: &str = "  - filterName: RootAccountUsage\n    filterPattern: '{ $.userIdentity.type = \"Root\" }'\n    metricTransformations:\n      - metricName: RootAccountUsage\n        metricNamespace: CloudTrailMetrics\n        metricValue: \"1\"\n";

#[test]
fn metric_filters_are_shape_checked_like_put_metric_filter() {
    check(&[
        (
            "filter name colon",
            filters(&FILTER.replace("filterName: RootAccountUsage", "filterName: \"Root:Usage\"")),
            "metricFilters[0] (Root:Usage): filterName: \"Root:Usage\" contains ':', which is not allowed",
        ),
        (
            "metric name dollar",
            filters(&FILTER.replace("metricName: RootAccountUsage", "metricName: \"Root$\"")),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].metricName: \"Root$\" contains '$', which is not allowed",
        ),
        (
            "namespace empty",
            filters(&FILTER.replace(
                "metricNamespace: CloudTrailMetrics",
                "metricNamespace: \"\"",
            )),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].metricNamespace: must be 1 to 255 characters",
        ),
        (
            "metric value long",
            filters(&FILTER.replace(
                "metricValue: \"1\"",
                &format!("metricValue: \"{}\"", "9".repeat(101)),
            )),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].metricValue: must be 1 to 100 characters (a number such as 1, or a field such as $.bytes)",
        ),
        (
            "two transformations",
            filters(&format!(
                "{FILTER}      - metricName: Other\n        metricNamespace: CloudTrailMetrics\n        metricValue: \"1\"\n"
            )),
            "metricFilters[0] (RootAccountUsage): metricTransformations: holds 2 transformations; a metric filter has exactly one",
        ),
        (
            "no transformations",
            filters(
                "  - filterName: Empty\n    filterPattern: ''\n    metricTransformations: []\n",
            ),
            "metricFilters[0] (Empty): metricTransformations: holds 0 transformations; a metric filter has exactly one",
        ),
        (
            "four dimensions",
            filters(&format!(
                "{FILTER}        dimensions: {{a: $.a, b: $.b, c: $.c, d: $.d}}\n"
            )),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].dimensions: holds 4 dimensions; a metric filter can have at most 3",
        ),
        (
            "dimension name",
            filters(&format!("{FILTER}        dimensions: {{':a': $.a}}\n")),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].dimensions: \":a\" is not a dimension name (1 to 255 ASCII characters, not all spaces, not starting with a colon)",
        ),
        (
            "unit",
            filters(&format!("{FILTER}        unit: Counts\n")),
            "line 9, column 15: metricFilters[0] (RootAccountUsage): metricTransformations[0].unit: unknown variant `Counts`, expected one of `Seconds`, `Microseconds`, `Milliseconds`, `Bytes`, `Kilobytes`, `Megabytes`, `Gigabytes`, `Terabytes`, `Bits`, `Kilobits`, `Megabits`, `Gigabits`, `Terabits`, `Percent`, `Count`, `Bytes/Second`, `Kilobytes/Second`, `Megabytes/Second`, `Gigabytes/Second`, `Terabytes/Second`, `Bits/Second`, `Kilobits/Second`, `Megabits/Second`, `Gigabits/Second`, `Terabits/Second`, `Count/Second`, `None`",
        ),
        (
            "unknown key",
            filters(&format!("{FILTER}    filterPatern: x\n")),
            "line 9, column 5: metricFilters[0] (RootAccountUsage): unknown field `filterPatern`, expected one of `logGroupName`, `filterName`, `filterPattern`, `metricTransformations`",
        ),
        (
            "duplicate",
            filters(&format!("{FILTER}{FILTER}")),
            "metricFilters[1] (RootAccountUsage): filterName: is already used by another metric filter of the same log group",
        ),
        (
            "log group",
            filters(&format!("{FILTER}    logGroupName: \"bad group\"\n")),
            "metricFilters[0] (RootAccountUsage): logGroupName: \"bad group\" is not a log group name (1 to 512 of letters, digits and . - _ / #)",
        ),
        (
            "pattern long",
            filters(&FILTER.replace("'{ $.userIdentity.type = \"Root\" }'", &"x".repeat(1025))),
            "metricFilters[0] (RootAccountUsage): filterPattern: 1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024 (it has 1025)",
        ),
    ]);
}

/// FILTER with another pattern and extra transformation members (indented as FILTER's).
fn filter_with(pattern: &str, extra: &str) -> String {
    filters(&format!(
        "{}{extra}",
        FILTER.replace("'{ $.userIdentity.type = \"Root\" }'", pattern)
    ))
}

#[test]
fn metric_filters_are_compiled_and_refused_like_put_metric_filter() {
    check(&[
        (
            "invalid pattern",
            filter_with("'{ $.eventName = }'", ""),
            "metricFilters[0] (RootAccountUsage): filterPattern: Invalid metric filter pattern at character 16: found '}', expected a value",
        ),
        (
            "dimensions on a term pattern",
            filter_with(
                "ConsoleLogin",
                "        dimensions: {Source: $.eventSource}\n",
            ),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].dimensions: dimensions are supported only for JSON and space-delimited filter patterns",
        ),
        (
            "dimensions on a regex pattern",
            filter_with(
                "'%Denied%'",
                "        dimensions: {Source: $.eventSource}\n",
            ),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].dimensions: dimensions are supported only for JSON and space-delimited filter patterns",
        ),
        (
            "dimensions with a default value",
            filter_with(
                "'{ $.eventSource = * }'",
                "        defaultValue: 0\n        dimensions: {Source: $.eventSource}\n",
            ),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].dimensions: a metric with dimensions cannot have a defaultValue",
        ),
        (
            "dimension on a field the pattern does not test",
            filter_with(
                "'{ $.eventSource = * }'",
                "        dimensions: {Region: $.awsRegion}\n",
            ),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].dimensions.Region: \"$.awsRegion\" is not tested by the filter pattern; AWS publishes only fields the pattern matched on (add a condition such as $.awsRegion = *)",
        ),
        (
            "metric value neither number nor field",
            filters(&FILTER.replace("metricValue: \"1\"", "metricValue: one")),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].metricValue: \"one\" is neither a number nor a field reference ($.field, $name or $N)",
        ),
        (
            "metric value field on a term pattern",
            filter_with("ConsoleLogin", "").replace("metricValue: \"1\"", "metricValue: $.bytes"),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].metricValue: \"$.bytes\" names a field, but only JSON and space-delimited filter patterns extract fields",
        ),
        (
            "metric value field the JSON pattern does not test",
            filters(&FILTER.replace("metricValue: \"1\"", "metricValue: $.bytes")),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].metricValue: \"$.bytes\" is not tested by the filter pattern; AWS publishes only fields the pattern matched on (add a condition such as $.bytes = *)",
        ),
        (
            "metric value not a selector",
            filters(&FILTER.replace("metricValue: \"1\"", "metricValue: $.a..b")),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].metricValue: \"$.a..b\" is not a JSON property selector such as $.bytes or $.a[0].b",
        ),
        (
            "metric value not a delimited field",
            filter_with("'[ip, user, status]'", "")
                .replace("metricValue: \"1\"", "metricValue: $bytes"),
            "metricFilters[0] (RootAccountUsage): metricTransformations[0].metricValue: \"$bytes\" is not a field of the filter pattern (a named field is $name, a field taken by ... or an empty slot is $N)",
        ),
    ]);
}

#[test]
fn compiled_metric_filters_publish_fields_of_matched_events() {
    let yaml = filter_with(
        "'{ $.eventSource = * && $.bytes > 0 }'",
        "        dimensions: {Source: $.eventSource}\n",
    )
    .replace("metricValue: \"1\"", "metricValue: $.bytes");
    let config = Config::from_yaml(&yaml, "<test>").unwrap_or_else(|e| panic!("{e}"));
    let filter = &config.metric_filters[0];
    let message = r#"{"eventSource":"s3.amazonaws.com","bytes":42}"#;
    let matched = filter
        .pattern
        .matches(message)
        .unwrap_or_else(|| panic!("no match"));
    let datum = filter
        .metric
        .evaluate(message, &matched)
        .unwrap_or_else(|| panic!("no datum"));
    assert_eq!(datum.value, 42.0);
    assert_eq!(
        datum.dimensions.get("Source").map(String::as_str),
        Some("s3.amazonaws.com")
    );
}

#[test]
fn the_sample_configuration_loads() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../cairn.yaml"));
    let config = Config::load(path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.account_id, "123456789012");
    let names: Vec<&str> = config.trails.iter().map(Trail::name).collect();
    assert_eq!(names, ["main", "eu-writes"]);
    assert!(config.trails[0].log_file_validation());
    assert_eq!(
        config.trails[0].cloud_watch_logs_log_group_name(),
        Some("cairn/cloudtrail")
    );
    assert!(!config.trails[0].insight_selection().is_empty());
    assert_eq!(config.trails[1].kms_key_id(), Some("alias/cairn-logs"));
    assert_eq!(config.state_bucket, "cairn-state-123456789012");
    assert_eq!(
        config.alert_topic_arn.as_deref(),
        Some("arn:aws:sns:us-east-1:123456789012:cairn-alerts")
    );
    // The CIS pack: CloudWatch.1 (root usage) first, with its unit and default value.
    assert_eq!(config.metric_filters.len(), 15);
    assert_eq!(config.metric_filters[0].metric.unit(), StandardUnit::Count);
    assert_eq!(config.metric_filters[0].metric.default_value(), Some(0.0));
    assert_eq!(config.metric_filters[1].metric.unit(), StandardUnit::None);
}

#[test]
fn an_unreadable_file_is_named() {
    let error = Config::load(Path::new("/nonexistent/cairn.yaml"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.starts_with("/nonexistent/cairn.yaml: cannot read the file: "),
        "{error}"
    );
}

#[test]
fn a_configuration_without_trails_is_valid() {
    let config = Config::from_yaml("accountId: \"012345678901\"\n", "<stdin>")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.account_id, "012345678901");
    assert!(config.trails.is_empty() && config.metric_filters.is_empty());
}

#[test]
fn the_state_bucket_defaults_per_account_and_must_be_cairns_own() {
    let config = Config::from_yaml(&with_trail(AUDIT), "cairn.yaml").expect("valid");
    assert_eq!(config.state_bucket, "cairn-state-111122223333");
    check(&[
        (
            "not a bucket name",
            format!("stateBucket: Cairn_State\n{}", with_trail(AUDIT)),
            "stateBucket: \"Cairn_State\" is not a valid S3 bucket name: it may contain only lowercase letters, numbers, periods (.) and hyphens (-)",
        ),
        (
            "a trail's bucket",
            format!("stateBucket: cairn-audit\n{}", with_trail(AUDIT)),
            "stateBucket: \"cairn-audit\" is also trail audit's S3BucketName; Cairn's state needs a bucket of its own",
        ),
    ]);
}

#[test]
fn deliver_is_unsharded_unless_asked_and_takes_one_to_four_shards() {
    let config = Config::from_yaml(&with_trail(AUDIT), "cairn.yaml").expect("valid");
    assert_eq!(config.deliver_shards, 1);
    let config = Config::from_yaml(
        &format!("deliverShards: 4\n{}", with_trail(AUDIT)),
        "cairn.yaml",
    )
    .expect("valid");
    assert_eq!(config.deliver_shards, 4);
    check(&[
        (
            "no shard",
            format!("deliverShards: 0\n{}", with_trail(AUDIT)),
            "deliverShards: 0 is not a number of deliver shards: 1 to 4",
        ),
        (
            "more than the template schedules",
            format!("deliverShards: 5\n{}", with_trail(AUDIT)),
            "deliverShards: 5 is not a number of deliver shards: 1 to 4",
        ),
    ]);
}

#[test]
fn the_alert_topic_is_optional_and_must_be_an_sns_topic_arn() {
    let config = Config::from_yaml(&with_trail(AUDIT), "cairn.yaml").expect("valid");
    assert_eq!(config.alert_topic_arn, None);
    let yaml = format!(
        "alertTopicArn: arn:aws:sns:us-east-2:111122223333:cairn-alerts\n{}",
        with_trail(AUDIT)
    );
    let config = Config::from_yaml(&yaml, "cairn.yaml").expect("valid");
    assert_eq!(
        config.alert_topic_arn.as_deref(),
        Some("arn:aws:sns:us-east-2:111122223333:cairn-alerts")
    );
    check(&[
        (
            "a topic name",
            format!("alertTopicArn: cairn-alerts\n{}", with_trail(AUDIT)),
            "alertTopicArn: \"cairn-alerts\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)",
        ),
        (
            "another service",
            format!(
                "alertTopicArn: arn:aws:sqs:us-east-2:111122223333:cairn-alerts\n{}",
                with_trail(AUDIT)
            ),
            "alertTopicArn: \"arn:aws:sqs:us-east-2:111122223333:cairn-alerts\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)",
        ),
    ]);
}

/// A metric filter named `name` with `pattern`, on `group` when given.
fn named_filter(name: &str, pattern: &str, group: Option<&str>) -> String {
    let group = group.map_or(String::new(), |g| format!("    logGroupName: {g}\n"));
    format!(
        "  - filterName: {name}\n    filterPattern: '{pattern}'\n{group}    metricTransformations:\n      - metricName: {name}\n        metricNamespace: CloudTrailMetrics\n        metricValue: \"1\"\n"
    )
}

/// "There is a maximum of 5 filter patterns containing regex for each log group when creating
/// metric filters or subscription filters." (CloudWatch Logs User Guide, "Filter pattern syntax
/// for metric filters, subscription filters, filter log events, and Live Tail", Quotas), as
/// PutMetricFilter's API reference says: "a quota of five regular expression patterns per log
/// group". A standalone `%regex%` and a regex in a JSON or space-delimited condition count;
/// other patterns do not, and neither do other log groups' filters.
#[test]
fn at_most_five_metric_filters_of_a_log_group_use_regex() {
    let regexes = [
        "%Root%",
        "{ $.eventName = %^Stop% }",
        "[ip, user = %adm.n%, ...]",
        "%Delete%",
        "{ $.errorCode = %Denied$% }",
        "%Console%",
    ];
    let lines = |group: Option<&str>, count: usize| -> String {
        regexes[..count]
            .iter()
            .enumerate()
            .map(|(i, pattern)| named_filter(&format!("Regex{i}"), pattern, group))
            .collect()
    };
    let five = format!(
        "{}{}{}",
        lines(Some("cairn/cloudtrail"), 5),
        named_filter("Terms", "ERROR", Some("cairn/cloudtrail")),
        named_filter(
            "Json",
            "{ $.eventName = StopLogging }",
            Some("cairn/cloudtrail")
        ),
    );
    let other_group: String = regexes
        .iter()
        .enumerate()
        .map(|(i, pattern)| named_filter(&format!("Other{i}"), pattern, Some("other/group")))
        .take(5)
        .collect();
    Config::from_yaml(&filters(&format!("{five}{other_group}")), "cairn.yaml")
        .expect("five regex filters per group, and filters without regex besides");

    check(&[
        (
            "a sixth in a named group",
            filters(&lines(Some("cairn/cloudtrail"), 6)),
            "metricFilters[5] (Regex5): filterPattern: makes 6 filter patterns containing regex in log group cairn/cloudtrail; there is a maximum of 5 filter patterns containing regex for each log group (PutMetricFilter's LimitExceededException)",
        ),
        (
            "a sixth among filters for every trail's group",
            filters(&lines(None, 6)),
            "metricFilters[5] (Regex5): filterPattern: makes 6 filter patterns containing regex in every trail's log group; there is a maximum of 5 filter patterns containing regex for each log group (PutMetricFilter's LimitExceededException)",
        ),
        (
            "one for every group counts in a named group",
            filters(&format!(
                "{}{}",
                lines(Some("cairn/cloudtrail"), 5),
                named_filter("Everywhere", "%Everywhere%", None)
            )),
            "metricFilters[5] (Everywhere): filterPattern: makes 6 filter patterns containing regex in log group cairn/cloudtrail; there is a maximum of 5 filter patterns containing regex for each log group (PutMetricFilter's LimitExceededException)",
        ),
    ]);
}
