//! The ResourceName LookupEvents shows for one entry of a record's `resources`.
//!
//! AWS describes ResourceName as the resource's own name or ID, never its ARN:
//! - the API reference's `Resource` shape: "user-created names … the resource name might be
//!   \"auto-scaling-test-group\" for an Auto Scaling Group or \"i-1234567\" for an EC2
//!   Instance" (docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Resource.html);
//! - the User Guide finds an IAM role by its name,
//!   `--lookup-attributes AttributeKey=ResourceName,AttributeValue=CloudTrail_CloudWatchLogs_Role`
//!   ("Viewing CloudTrail events with the AWS CLI", Attribute lookup examples), and its console
//!   page defines the column as "the name or ID of the resource referenced by the event"
//!   ("Viewing CloudTrail events in the CloudTrail console", Filtering CloudTrail events).
//!
//! A record names its resources by ARN (or ARNPrefix), so the name is read out of the ARN's
//! resource part, whose three forms the IAM User Guide gives ("IAM identifiers", ARN format:
//! `resource-id`, `resource-type/resource-id`, `resource-type:resource-id`), per type:
//! - IAM (`role/`, `user/`, `group/`, `policy/`, `instance-profile/`… with an optional path):
//!   the friendly name, the last segment of the path, as CloudTrail's example role shows;
//! - S3 (`arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/key`), whose ARNs have no resource type:
//!   the bucket name, or `bucket/key` for an object;
//! - `resource-type/resource-id` (EC2 `instance/i-1234567`, KMS `key/1234abcd-…`, CloudTrail
//!   `trail/main`): the ID, everything after the first `/`;
//! - `resource-type:resource-id` (Lambda `function:name`, Logs `log-group:name`): the ID, after
//!   the first `:` (a trailing `:*` of a log group ARN dropped);
//! - a bare `resource-id` (SNS topics, SQS queues): the resource part itself.
//!
//! Anything that is not an ARN is shown as it is.

use crate::names::arn::Arn;

/// The ResourceName for a resource the record names by `arn`.
pub(crate) fn resource_name(arn: &str) -> &str {
    let Some(parsed) = Arn::parse(arn) else {
        return arn;
    };
    let resource = parsed.resource;
    match parsed.service {
        "s3" => resource,
        "iam" => resource.rsplit('/').next().unwrap_or(resource),
        _ => match resource.find(['/', ':']) {
            Some(at) if resource.as_bytes()[at] == b'/' => &resource[at + 1..],
            Some(at) => {
                let id = &resource[at + 1..];
                id.strip_suffix(":*").unwrap_or(id)
            }
            None => resource,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_arn_form() {
        for (arn, name) in [
            // The User Guide's lookup example.
            (
                "arn:aws:iam::123456789012:role/CloudTrail_CloudWatchLogs_Role",
                "CloudTrail_CloudWatchLogs_Role",
            ),
            (
                "arn:aws:iam::123456789012:role/service-role/ops/deployer",
                "deployer",
            ),
            ("arn:aws:iam::123456789012:user/alice", "alice"),
            (
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "AdministratorAccess",
            ),
            ("arn:aws:s3:::amzn-s3-demo-bucket", "amzn-s3-demo-bucket"),
            (
                "arn:aws:s3:::amzn-s3-demo-bucket/logs/a.txt",
                "amzn-s3-demo-bucket/logs/a.txt",
            ),
            // The API reference's example: an EC2 instance's ID.
            (
                "arn:aws:ec2:us-east-1:123456789012:instance/i-1234567",
                "i-1234567",
            ),
            (
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            (
                "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events",
                "management-events",
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:my-fn",
                "my-fn",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:cairn/cloudtrail:*",
                "cairn/cloudtrail",
            ),
            (
                "arn:aws:sns:us-east-1:123456789012:cairn-alerts",
                "cairn-alerts",
            ),
            // Not an ARN: as it is.
            ("auto-scaling-test-group", "auto-scaling-test-group"),
            ("", ""),
        ] {
            assert_eq!(resource_name(arn), name, "{arn}");
        }
    }
}
