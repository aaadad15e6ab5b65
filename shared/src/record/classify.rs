//! What kind of event a record is: its category, whether it only reads, and whether it comes
//! from a global service.

use super::{EventCategory, EventType, Record};

/// Where CloudTrail files global service events, whatever region the call named.
pub const GLOBAL_SERVICE_REGION: &str = "us-east-1";

/// Services with one global endpoint: CloudTrail records their events as global service events,
/// in us-east-1.
const GLOBAL_SERVICES: [&str; 7] = [
    "iam.amazonaws.com",
    "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
    "waf.amazonaws.com",
    "organizations.amazonaws.com",
    "globalaccelerator.amazonaws.com",
    "shield.amazonaws.com",
];

/// Services with both a global endpoint (whose events are global service events, recorded in
/// us-east-1) and regional endpoints (whose events belong to their region).
const GLOBAL_ENDPOINT_SERVICES: [&str; 2] = ["sts.amazonaws.com", "signin.amazonaws.com"];

/// Amazon S3's object-level API calls: data events. Needed to classify records that predate the
/// eventCategory field (eventVersion < 1.07); S3 object-level logging is the data event of that
/// era, together with Lambda's Invoke.
const S3_OBJECT_LEVEL_CALLS: [&str; 29] = [
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CopyObject",
    "CreateMultipartUpload",
    "DeleteObject",
    "DeleteObjects",
    "DeleteObjectTagging",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "HeadObject",
    "ListMultipartUploadParts",
    "ListParts",
    "PostObject",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectTagging",
    "RestoreObject",
    "SelectObjectContent",
    "UploadPart",
    "UploadPartCopy",
    "WriteGetObjectResponse",
    "InitiateMultipartUpload",
];

/// Name prefixes of calls that only read, for records without a readOnly field.
const READ_ONLY_PREFIXES: [&str; 8] = [
    "Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search", "Select",
];

impl Record<'_> {
    /// The event's category: the record's own eventCategory when it has one (eventVersion 1.07
    /// and later), otherwise derived the way CloudTrail assigned it.
    pub fn category(&self) -> EventCategory {
        if let Some(category) = self.event_category {
            return category;
        }
        match self.event_type {
            EventType::AwsCloudTrailInsight => EventCategory::Insight,
            EventType::AwsVpceEvent => EventCategory::NetworkActivity,
            _ if self.management_event == Some(false) || self.is_known_data_call() => {
                EventCategory::Data
            }
            _ => EventCategory::Management,
        }
    }

    fn is_known_data_call(&self) -> bool {
        match (self.event_source(), self.event_name()) {
            (Some("s3.amazonaws.com"), Some(name)) => S3_OBJECT_LEVEL_CALLS.contains(&name),
            (Some("lambda.amazonaws.com"), Some(name)) => name == "Invoke",
            _ => false,
        }
    }

    /// Whether the call only read: the readOnly field when present, else judged by the name,
    /// as CloudTrail's own read/write split does. CloudTrail Lake integration events have
    /// neither (their action is the caller's own vocabulary), so they never count as reads.
    pub fn is_read_only(&self) -> bool {
        self.read_only.unwrap_or_else(|| {
            self.event_name().is_some_and(|name| {
                READ_ONLY_PREFIXES.iter().any(|prefix| {
                    name.strip_prefix(prefix)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_uppercase))
                })
            })
        })
    }

    /// Whether CloudTrail treats the event as a global service event.
    pub fn is_global_service_event(&self) -> bool {
        let Some(source) = self.event_source() else {
            return false;
        };
        GLOBAL_SERVICES.contains(&source)
            || (GLOBAL_ENDPOINT_SERVICES.contains(&source)
                && self.aws_region() == GLOBAL_SERVICE_REGION)
    }

    /// The region whose log files the event belongs in.
    pub fn delivery_region(&self) -> &str {
        if self.is_global_service_event() {
            GLOBAL_SERVICE_REGION
        } else {
            self.aws_region()
        }
    }
}
