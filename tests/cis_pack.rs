//! cairn.yaml's CIS pack: a metric filter for each CloudWatch control of the CIS AWS Foundations
//! Benchmark, named after it, with the pattern Security Hub checks character for character,
//! catching the real record it is meant for and no benign one.

use std::collections::BTreeMap;

use cairn_shared::config::Config;
use cairn_shared::record::split_batch;
use cairn_test_support::{fixtures_dir, repo_file};
use serde_json::Value;

/// Each control's filter name and pattern. CloudWatch.1 to 14 as the Security Hub User Guide
/// gives them ("Security Hub controls for Amazon CloudWatch", each control's Remediation,
/// https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html; Security
/// Hub fails a control whose filter adds anything to the pattern); the AWS Organizations filter
/// as the CIS AWS Foundations Benchmark v1.4.0 gives it (4.15), which no Security Hub control
/// checks.
const PACK: [(&str, &str); 15] = [
    (
        "CloudWatch.1-RootAccountUsage",
        r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#,
    ),
    (
        "CloudWatch.2-UnauthorizedAPICalls",
        r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#,
    ),
    (
        "CloudWatch.3-ConsoleSignInWithoutMFA",
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
    ),
    (
        "CloudWatch.4-IAMPolicyChanges",
        "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}",
    ),
    (
        "CloudWatch.5-CloudTrailChanges",
        "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}",
    ),
    (
        "CloudWatch.6-ConsoleAuthenticationFailures",
        r#"{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}"#,
    ),
    (
        "CloudWatch.7-DisableOrDeleteCMK",
        "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
    ),
    (
        "CloudWatch.8-S3BucketPolicyChanges",
        "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
    ),
    (
        "CloudWatch.9-AWSConfigChanges",
        "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}",
    ),
    (
        "CloudWatch.10-SecurityGroupChanges",
        "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
    ),
    (
        "CloudWatch.11-NACLChanges",
        "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}",
    ),
    (
        "CloudWatch.12-NetworkGatewayChanges",
        "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    ),
    (
        "CloudWatch.13-RouteTableChanges",
        "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}",
    ),
    (
        "CloudWatch.14-VPCChanges",
        "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
    ),
    (
        "CIS-4.15-OrganizationsChanges",
        r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
    ),
];

fn config() -> Config {
    Config::load(&repo_file("cairn.yaml")).expect("cairn.yaml")
}

#[test]
fn cairn_yaml_holds_the_pack_pattern_for_pattern() {
    let config = config();
    let pack: Vec<(&str, &str)> = config
        .metric_filters
        .iter()
        .map(|filter| (filter.filter_name.as_str(), filter.pattern.as_str()))
        .collect();
    assert_eq!(pack, PACK);
}

/// A fixture record: the file under tests/fixtures, its eventID and eventName (an eventID alone
/// is not unique among AWS's documented examples).
type RecordRef = (&'static str, &'static str, &'static str);

/// A record of the fixtures, as the compact JSON line forward puts to CloudWatch Logs.
fn record((file, event_id, event_name): RecordRef) -> Value {
    every_record()
        .into_iter()
        .find(|(path, record)| {
            path == file && record["eventID"] == event_id && record["eventName"] == event_name
        })
        .map(|(_, record)| record)
        .unwrap_or_else(|| panic!("no record {event_name} {event_id} in {file}"))
}

/// Every record of the fixtures, with its file's path under tests/fixtures.
fn every_record() -> Vec<(String, Value)> {
    let mut records = Vec::new();
    let mut dirs = vec![fixtures_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("fixture");
            let Ok(batch) = split_batch(&text) else {
                continue;
            };
            let name = path
                .strip_prefix(fixtures_dir())
                .expect("under fixtures")
                .to_string_lossy()
                .into_owned();
            for raw in batch {
                if let Ok(value) = serde_json::from_str::<Value>(raw.get())
                    && value.is_object()
                {
                    records.push((name.clone(), value));
                }
            }
        }
    }
    records
}

fn matches(config: &Config, filter_name: &str, record: &Value) -> bool {
    let filter = config
        .metric_filters
        .iter()
        .find(|filter| filter.filter_name == filter_name)
        .unwrap_or_else(|| panic!("no filter {filter_name}"));
    filter.pattern.matches(&record.to_string()).is_some()
}

const AWSDOCS: &str = "awsdocs_user_guide_examples/awsdocs_example_records.json";

/// A Stratus Red Team detonation log, by its technique.
macro_rules! stratus {
    ($technique:literal) => {
        concat!("stratus_red_team_detonation_logs/aws.", $technique, ".json")
    };
}

/// Each control with real records it must catch and real records it must not.
fn real_cases() -> Vec<(&'static str, Vec<RecordRef>, Vec<RecordRef>)> {
    let root_console_login = (
        AWSDOCS,
        "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
        "ConsoleLogin",
    );
    let root_enables_mfa = (
        AWSDOCS,
        "EXAMPLEb-7dae-48cb-895f-20e86EXAMPLE",
        "EnableMFADevice",
    );
    let iam_user_console_login = (
        AWSDOCS,
        "3fcfb182-98f8-4744-bd45-10a395ab61cb",
        "ConsoleLogin",
    );
    let login_without_mfa = (
        stratus!("initial-access.console-login-without-mfa"),
        "865d9377-9c6b-4fd7-8aad-725e95f6a140",
        "ConsoleLogin",
    );
    let login_with_mfa = (
        AWSDOCS,
        "fed06f42-cb12-4764-8c69-121063dc79b9",
        "ConsoleLogin",
    );
    let failed_login = (
        AWSDOCS,
        "d38ce1b3-4575-4cb8-a632-611b8243bfc3",
        "ConsoleLogin",
    );
    let failed_root_login = (
        AWSDOCS,
        "a4fbbe77-91a0-4238-804a-64314184edb6",
        "ConsoleLogin",
    );
    let unauthorized_get_password_data = (
        stratus!("credential-access.ec2-get-password-data"),
        "450230d4-b39e-4a18-a6a0-d07a6e2105cb",
        "GetPasswordData",
    );
    let denied_assume_role = (
        stratus!("discovery.ec2-download-user-data"),
        "4cf5dad6-648f-48eb-85a7-6181c5d79424",
        "AssumeRole",
    );
    let stop_logging = (
        stratus!("defense-evasion.cloudtrail-stop"),
        "10163ed2-2253-469d-a5ee-cbc6651f8934",
        "StopLogging",
    );
    let delete_trail = (
        stratus!("defense-evasion.cloudtrail-delete"),
        "ee73c230-44bc-4492-8542-cfb189eae287",
        "DeleteTrail",
    );
    let update_missing_trail = (
        AWSDOCS,
        "b7d4398e-b2f0-4faa-9c76-e2d316a8d67f",
        "UpdateTrail",
    );
    let put_event_selectors = (
        stratus!("defense-evasion.cloudtrail-event-selectors"),
        "c2a89408-340a-42f0-8ace-75d9f5769393",
        "PutEventSelectors",
    );
    let attach_role_policy = (
        stratus!("persistence.iam-create-backdoor-role"),
        "39480357-0a1d-4531-a3f2-71be4c041c25",
        "AttachRolePolicy",
    );
    let attach_user_policy = (
        stratus!("persistence.iam-create-admin-user"),
        "083dc4ad-e264-46bc-a407-d0dd31b58bdc",
        "AttachUserPolicy",
    );
    let update_assume_role_policy = (
        stratus!("persistence.iam-backdoor-role"),
        "62e290e2-ee95-4a7c-a9f8-db4ef462b12d",
        "UpdateAssumeRolePolicy",
    );
    let rotate_key = (AWSDOCS, "234f004b-EXAMPLE", "RotateKey");
    let open_port_22 = (
        stratus!("exfiltration.ec2-security-group-open-port-22-ingress"),
        "9fd68588-ecbf-4528-a345-199fa6bb0821",
        "AuthorizeSecurityGroupIngress",
    );
    let delete_flow_logs = (
        stratus!("defense-evasion.vpc-remove-flow-logs"),
        "ded2f5af-f3a5-46d2-a170-a23206a32c36",
        "DeleteFlowLogs",
    );
    let leave_organization = (
        stratus!("defense-evasion.organizations-leave"),
        "16903cbd-fdff-4818-82f2-d66ad09aaf57",
        "LeaveOrganization",
    );
    vec![
        (
            "CloudWatch.1-RootAccountUsage",
            vec![root_console_login, root_enables_mfa, failed_root_login],
            vec![iam_user_console_login, login_without_mfa],
        ),
        (
            "CloudWatch.2-UnauthorizedAPICalls",
            vec![
                unauthorized_get_password_data,
                denied_assume_role,
                leave_organization,
            ],
            vec![update_missing_trail, stop_logging],
        ),
        (
            "CloudWatch.3-ConsoleSignInWithoutMFA",
            vec![login_without_mfa, iam_user_console_login],
            vec![
                login_with_mfa,
                failed_login,
                root_console_login,
                failed_root_login,
            ],
        ),
        (
            "CloudWatch.4-IAMPolicyChanges",
            vec![attach_role_policy, attach_user_policy],
            vec![update_assume_role_policy],
        ),
        (
            "CloudWatch.5-CloudTrailChanges",
            vec![stop_logging, delete_trail, update_missing_trail],
            vec![put_event_selectors],
        ),
        (
            "CloudWatch.6-ConsoleAuthenticationFailures",
            vec![failed_login, failed_root_login],
            vec![login_without_mfa, login_with_mfa],
        ),
        ("CloudWatch.7-DisableOrDeleteCMK", vec![], vec![rotate_key]),
        (
            "CloudWatch.10-SecurityGroupChanges",
            vec![open_port_22],
            vec![delete_flow_logs],
        ),
        (
            "CloudWatch.14-VPCChanges",
            vec![],
            vec![delete_flow_logs, open_port_22],
        ),
        (
            "CIS-4.15-OrganizationsChanges",
            vec![leave_organization],
            vec![denied_assume_role],
        ),
    ]
}

#[test]
fn each_filter_catches_its_real_records_and_no_benign_one() {
    let config = config();
    for (filter, catches, passes) in real_cases() {
        for reference in catches {
            assert!(
                matches(&config, filter, &record(reference)),
                "{filter} misses {reference:?}"
            );
        }
        for reference in passes {
            assert!(
                !matches(&config, filter, &record(reference)),
                "{filter} matches {reference:?}"
            );
        }
    }
}

/// The event names a pattern lists (`$.eventName = X` or `$.eventName = "X"`).
fn listed_event_names(pattern: &str) -> Vec<String> {
    pattern
        .split("$.eventName")
        .skip(1)
        .filter_map(|rest| {
            let value = rest.trim_start().strip_prefix('=')?.trim_start();
            let value = value.strip_prefix('"').unwrap_or(value);
            let end = value.find(|c: char| !c.is_ascii_alphanumeric())?;
            Some(value[..end].to_owned())
        })
        .collect()
}

/// For the controls no real record of the fixtures exercises in full, a real record of the
/// right service with its event name (and, for S3 and AWS Config, which the fixtures have no
/// record of, its event source) replaced: every event name the control lists is caught, and
/// the same record under a read-only name of that service is not.
#[test]
fn every_listed_event_name_is_caught_on_a_real_record_of_its_service() {
    let config = config();
    let ec2_record = (
        stratus!("exfiltration.ec2-security-group-open-port-22-ingress"),
        "9fd68588-ecbf-4528-a345-199fa6bb0821",
        "AuthorizeSecurityGroupIngress",
    );
    let iam_record = (
        stratus!("persistence.iam-create-backdoor-role"),
        "39480357-0a1d-4531-a3f2-71be4c041c25",
        "AttachRolePolicy",
    );
    let cases: [(&str, RecordRef, Option<&str>, &str); 11] = [
        (
            "CloudWatch.4-IAMPolicyChanges",
            iam_record,
            None,
            "GetPolicy",
        ),
        (
            "CloudWatch.5-CloudTrailChanges",
            (
                stratus!("defense-evasion.cloudtrail-stop"),
                "10163ed2-2253-469d-a5ee-cbc6651f8934",
                "StopLogging",
            ),
            None,
            "GetTrailStatus",
        ),
        (
            "CloudWatch.7-DisableOrDeleteCMK",
            (AWSDOCS, "234f004b-EXAMPLE", "RotateKey"),
            None,
            "DescribeKey",
        ),
        (
            "CloudWatch.8-S3BucketPolicyChanges",
            ec2_record,
            Some("s3.amazonaws.com"),
            "GetBucketPolicy",
        ),
        (
            "CloudWatch.9-AWSConfigChanges",
            ec2_record,
            Some("config.amazonaws.com"),
            "DescribeConfigurationRecorders",
        ),
        (
            "CloudWatch.10-SecurityGroupChanges",
            ec2_record,
            None,
            "DescribeSecurityGroups",
        ),
        (
            "CloudWatch.11-NACLChanges",
            ec2_record,
            None,
            "DescribeNetworkAcls",
        ),
        (
            "CloudWatch.12-NetworkGatewayChanges",
            ec2_record,
            None,
            "DescribeInternetGateways",
        ),
        (
            "CloudWatch.13-RouteTableChanges",
            ec2_record,
            None,
            "DescribeRouteTables",
        ),
        ("CloudWatch.14-VPCChanges", ec2_record, None, "DescribeVpcs"),
        (
            "CIS-4.15-OrganizationsChanges",
            (
                stratus!("defense-evasion.organizations-leave"),
                "16903cbd-fdff-4818-82f2-d66ad09aaf57",
                "LeaveOrganization",
            ),
            None,
            "DescribeOrganization",
        ),
    ];
    for (filter, base, event_source, read_only_name) in cases {
        let pattern = PACK
            .iter()
            .find(|(name, _)| *name == filter)
            .map(|(_, pattern)| *pattern)
            .expect("in the pack");
        let names = listed_event_names(pattern);
        assert!(names.len() >= 2, "{filter}: {names:?}");
        let mut base = record(base);
        // The unauthorized-call filter is not under test here.
        base.as_object_mut().expect("object").remove("errorCode");
        if let Some(source) = event_source {
            base["eventSource"] = source.into();
        }
        for name in &names {
            let mut record = base.clone();
            record["eventName"] = name.as_str().into();
            assert!(matches(&config, filter, &record), "{filter} misses {name}");
        }
        let mut record = base.clone();
        record["eventName"] = read_only_name.into();
        assert!(
            !matches(&config, filter, &record),
            "{filter} matches {read_only_name}"
        );
        // A listed name from another service is not this control's, when the control names
        // its service.
        if pattern.contains("$.eventSource") {
            let mut record = base.clone();
            record["eventName"] = names[0].as_str().into();
            record["eventSource"] = "sts.amazonaws.com".into();
            assert!(
                !matches(&config, filter, &record),
                "{filter} matches {} from sts.amazonaws.com",
                names[0]
            );
        }
    }
}

/// Over every real record of the fixtures, what each filter counts: its metric's value once the
/// records reach CloudWatch Logs.
#[test]
fn over_every_real_record_each_filter_counts_only_its_events() {
    let config = config();
    let records = every_record();
    let mut counted: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for filter in &config.metric_filters {
        let events = counted.entry(filter.filter_name.as_str()).or_default();
        for (_, record) in &records {
            if filter.pattern.matches(&record.to_string()).is_some() {
                let name = record["eventName"].as_str().unwrap_or("(none)").to_owned();
                *events.entry(name).or_default() += 1;
            }
        }
    }
    let expected: BTreeMap<&str, BTreeMap<String, usize>> = EXPECTED_COUNTS
        .iter()
        .map(|(filter, events)| {
            (
                *filter,
                events
                    .iter()
                    .map(|(name, count)| ((*name).to_owned(), *count))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(counted, expected);
}

type Counts = &'static [(&'static str, usize)];

/// The fixtures hold no record of S3, AWS Config, KMS key deletion, network ACLs, gateways,
/// routes or VPCs; the test above covers those filters.
const EXPECTED_COUNTS: [(&str, Counts); 15] = [
    (
        "CloudWatch.1-RootAccountUsage",
        &[
            ("ConsoleLogin", 3),
            ("EnableMFADevice", 1),
            ("PasswordUpdated", 1),
        ],
    ),
    (
        "CloudWatch.2-UnauthorizedAPICalls",
        &[
            ("AssumeRole", 4),
            ("DescribeInstanceAttribute", 15),
            ("GetPasswordData", 30),
            ("LeaveOrganization", 1),
            ("RunInstances", 1),
        ],
    ),
    (
        "CloudWatch.3-ConsoleSignInWithoutMFA",
        &[("ConsoleLogin", 3)],
    ),
    (
        "CloudWatch.4-IAMPolicyChanges",
        &[("AttachRolePolicy", 1), ("AttachUserPolicy", 1)],
    ),
    (
        "CloudWatch.5-CloudTrailChanges",
        &[("DeleteTrail", 1), ("StopLogging", 1), ("UpdateTrail", 1)],
    ),
    (
        "CloudWatch.6-ConsoleAuthenticationFailures",
        &[("ConsoleLogin", 2)],
    ),
    ("CloudWatch.7-DisableOrDeleteCMK", &[]),
    ("CloudWatch.8-S3BucketPolicyChanges", &[]),
    ("CloudWatch.9-AWSConfigChanges", &[]),
    (
        "CloudWatch.10-SecurityGroupChanges",
        &[("AuthorizeSecurityGroupIngress", 1)],
    ),
    ("CloudWatch.11-NACLChanges", &[]),
    ("CloudWatch.12-NetworkGatewayChanges", &[]),
    ("CloudWatch.13-RouteTableChanges", &[]),
    ("CloudWatch.14-VPCChanges", &[]),
    ("CIS-4.15-OrganizationsChanges", &[("LeaveOrganization", 1)]),
];
