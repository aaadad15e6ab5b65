//! Metric-filter evaluation: the CIS AWS Foundations Benchmark patterns (Security Hub
//! CloudWatch.1–14 and the Organizations one) against the 310 real Stratus Red Team records,
//! each record as the compact JSON line forward puts to CloudWatch Logs.
//!
//! Two figures, both in pattern × event evaluations per second:
//! - `one message, 15 patterns`: how a metric filter set runs, each event prepared once as a
//!   `Message` and every pattern tested on it, so the event's JSON is read once for all 15;
//! - `matches(&str), one pattern at a time`: each evaluation on its own, reading the event
//!   again every time (a single pattern, or a caller that does not prepare messages).

mod support;

use std::hint::black_box;

use cairn_shared::filter::{FilterPattern, Message};
use cairn_shared::record::split_batch;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use support::stratus_batches;

const CIS_PATTERNS: [&str; 15] = [
    r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
    r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
    "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    "{($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)||($.eventName=StartLogging)||($.eventName=StopLogging)}",
    r#"{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}"#,
    "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}",
    "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
    "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder))}",
    "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
    "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}",
    "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    "{($.eventSource=ec2.amazonaws.com) && (($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable))}",
    "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
    r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
];

/// Every Stratus record as one compact JSON line.
fn stratus_messages() -> Vec<String> {
    let mut messages = Vec::new();
    for body in stratus_batches() {
        for raw in split_batch(&body).expect("batch") {
            let value: serde_json::Value = serde_json::from_str(raw.get()).expect("record");
            messages.push(value.to_string());
        }
    }
    messages
}

fn cis_patterns_on_real_records(c: &mut Criterion) {
    let messages = stratus_messages();
    let patterns: Vec<FilterPattern> = CIS_PATTERNS
        .iter()
        .map(|p| FilterPattern::parse(p).expect("CIS pattern"))
        .collect();
    let matched: usize = patterns
        .iter()
        .map(|p| messages.iter().filter(|m| p.matches(m).is_some()).count())
        .sum();
    println!(
        "{} patterns x {} records, {matched} matches",
        patterns.len(),
        messages.len()
    );

    let mut group = c.benchmark_group("cis filters");
    group.throughput(Throughput::Elements(
        (patterns.len() * messages.len()) as u64,
    ));
    group.bench_function("one message, 15 patterns", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for text in &messages {
                let message = Message::new(black_box(text));
                for pattern in &patterns {
                    hits += usize::from(pattern.matches_message(&message).is_some());
                }
            }
            black_box(hits)
        })
    });
    group.bench_function("matches(&str), one pattern at a time", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for message in &messages {
                for pattern in &patterns {
                    hits += usize::from(pattern.matches(black_box(message)).is_some());
                }
            }
            black_box(hits)
        })
    });
    group.finish();
}

criterion_group!(benches, cis_patterns_on_real_records);
criterion_main!(benches);
