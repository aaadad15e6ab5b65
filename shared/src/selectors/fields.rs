//! The fields an advanced event selector can test, and AWS's rules for each on trails: which
//! operators it takes for which event category, and which values.

use super::operators::{Operator, Operators};
use crate::invalid::Invalid;
use crate::names::arn::{Arn, is_account_id, is_region};
use crate::record::{EventCategory, EventType, Record};

/// The record fields an advanced selector can test, by their API names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SelectorField {
    EventCategory,
    ResourcesType,
    ResourcesArn,
    Record(RecordField),
}

/// Fields read from the record itself (as opposed to one of its resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordField {
    EventSource,
    EventName,
    EventType,
    ReadOnly,
    UserIdentityArn,
    SessionCredentialFromConsole,
    ErrorCode,
    VpcEndpointId,
}

const FIELDS: [(&str, SelectorField); 11] = [
    ("eventCategory", SelectorField::EventCategory),
    (
        "eventSource",
        SelectorField::Record(RecordField::EventSource),
    ),
    ("eventName", SelectorField::Record(RecordField::EventName)),
    ("eventType", SelectorField::Record(RecordField::EventType)),
    ("readOnly", SelectorField::Record(RecordField::ReadOnly)),
    ("resources.type", SelectorField::ResourcesType),
    ("resources.ARN", SelectorField::ResourcesArn),
    (
        "userIdentity.arn",
        SelectorField::Record(RecordField::UserIdentityArn),
    ),
    (
        "sessionCredentialFromConsole",
        SelectorField::Record(RecordField::SessionCredentialFromConsole),
    ),
    ("errorCode", SelectorField::Record(RecordField::ErrorCode)),
    (
        "vpcEndpointId",
        SelectorField::Record(RecordField::VpcEndpointId),
    ),
];

/// A field name advanced event selectors do not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{name}\" is not an advanced event selector field{}; the fields are {}",
    .differently_cased
        .map(|known| format!(" (field names are case-sensitive: {known})"))
        .unwrap_or_default(),
    FIELDS.map(|(known, _)| known).join(", ")
)]
pub(super) struct UnknownField {
    name: String,
    /// The field whose name differs from `name` only in letter case.
    differently_cased: Option<&'static str>,
}

impl SelectorField {
    pub(super) fn parse(name: &str) -> Result<Self, UnknownField> {
        if let Some((_, field)) = FIELDS.iter().find(|(known, _)| *known == name) {
            return Ok(*field);
        }
        Err(UnknownField {
            name: name.to_owned(),
            differently_cased: FIELDS
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(name))
                .map(|(known, _)| *known),
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            SelectorField::EventCategory => "eventCategory",
            SelectorField::ResourcesType => "resources.type",
            SelectorField::ResourcesArn => "resources.ARN",
            SelectorField::Record(RecordField::EventSource) => "eventSource",
            SelectorField::Record(RecordField::EventName) => "eventName",
            SelectorField::Record(RecordField::EventType) => "eventType",
            SelectorField::Record(RecordField::ReadOnly) => "readOnly",
            SelectorField::Record(RecordField::UserIdentityArn) => "userIdentity.arn",
            SelectorField::Record(RecordField::SessionCredentialFromConsole) => {
                "sessionCredentialFromConsole"
            }
            SelectorField::Record(RecordField::ErrorCode) => "errorCode",
            SelectorField::Record(RecordField::VpcEndpointId) => "vpcEndpointId",
        }
    }
}

impl RecordField {
    /// The record's value for this field, as the string the selector's operands compare to.
    pub(super) fn value<'r>(self, record: &'r Record<'_>) -> Option<&'r str> {
        let flag = |set: bool| Some(if set { "true" } else { "false" });
        match self {
            RecordField::EventSource => record.event_source(),
            RecordField::EventName => record.event_name(),
            RecordField::EventType => Some(record.event_type().as_str()),
            RecordField::ReadOnly => flag(record.is_read_only()),
            RecordField::UserIdentityArn => record.user_identity().and_then(|u| u.arn.as_deref()),
            RecordField::SessionCredentialFromConsole => {
                flag(record.session_credential_from_console())
            }
            RecordField::ErrorCode => record.error_code(),
            RecordField::VpcEndpointId => record.vpc_endpoint_id(),
        }
    }
}

const EQUALS: &[Operator] = &[Operator::Equals];
const EQUALITY: &[Operator] = &[Operator::Equals, Operator::NotEquals];
const ANY: &[Operator] = &Operator::ALL;

/// Management event sources a trail's management selector may leave out.
const EXCLUDABLE_MANAGEMENT_SOURCES: [&str; 2] = ["kms.amazonaws.com", "rdsdata.amazonaws.com"];

/// What AWS lets a trail's selector of `category` do with `field`: the operators allowed, or
/// why the field has no place there.
pub(super) fn rule(
    category: EventCategory,
    field: SelectorField,
) -> Result<&'static [Operator], &'static str> {
    use EventCategory::{Data, Management, NetworkActivity};
    use RecordField as R;
    const LAKE_ONLY: &str = "is supported for management events only on CloudTrail Lake event data stores, not on trails";
    const NOT_MANAGEMENT: &str = "does not apply to management events";
    const NOT_DATA: &str = "applies only to network activity events";
    const NOT_NETWORK: &str = "does not apply to network activity events";
    match (category, field) {
        (_, SelectorField::EventCategory) => Ok(EQUALS),
        (Data, SelectorField::ResourcesType) => Ok(EQUALS),
        (Data, SelectorField::ResourcesArn) => Ok(ANY),
        (Management, SelectorField::ResourcesType | SelectorField::ResourcesArn) => {
            Err(NOT_MANAGEMENT)
        }
        (NetworkActivity, SelectorField::ResourcesType | SelectorField::ResourcesArn) => {
            Err(NOT_NETWORK)
        }
        (Management | Data, SelectorField::Record(R::ReadOnly)) => Ok(EQUALS),
        (NetworkActivity, SelectorField::Record(R::ReadOnly)) => Err(NOT_NETWORK),
        (Management, SelectorField::Record(R::EventSource)) => Ok(&[Operator::NotEquals]),
        (Data, SelectorField::Record(R::EventSource)) => Ok(ANY),
        (NetworkActivity, SelectorField::Record(R::EventSource)) => Ok(EQUALS),
        (Management, SelectorField::Record(R::EventName | R::EventType | R::UserIdentityArn))
        | (Management, SelectorField::Record(R::SessionCredentialFromConsole)) => Err(LAKE_ONLY),
        (Data | NetworkActivity, SelectorField::Record(R::EventName)) => Ok(ANY),
        (Data, SelectorField::Record(R::EventType | R::SessionCredentialFromConsole)) => {
            Ok(EQUALITY)
        }
        (
            NetworkActivity,
            SelectorField::Record(R::EventType | R::SessionCredentialFromConsole),
        ) => Err(NOT_NETWORK),
        (Data | NetworkActivity, SelectorField::Record(R::UserIdentityArn)) => Ok(ANY),
        (NetworkActivity, SelectorField::Record(R::ErrorCode)) => Ok(EQUALS),
        (NetworkActivity, SelectorField::Record(R::VpcEndpointId)) => Ok(ANY),
        (Management | Data, SelectorField::Record(R::ErrorCode | R::VpcEndpointId)) => {
            Err(NOT_DATA)
        }
        (EventCategory::Insight, _) => Err("cannot be filtered for Insights events"),
        (EventCategory::ActivityAuditLog, _) => Err(
            "cannot be filtered for ActivityAuditLog events; their selector takes eventCategory alone",
        ),
    }
}

/// Value rules that depend on the field (and, for eventSource, the category).
pub(super) fn check_values(
    category: EventCategory,
    field: SelectorField,
    operators: &Operators,
) -> Result<(), Invalid> {
    for (operator, values) in operators.iter() {
        for (j, value) in values.iter().enumerate() {
            let why = value_problem(category, field, value);
            if let Some(why) = why {
                return Err(Invalid::new(format!("{}[{j}]", operator.as_str()), why));
            }
        }
    }
    Ok(())
}

fn value_problem(category: EventCategory, field: SelectorField, value: &str) -> Option<String> {
    let flag = |name: &str| {
        (value != "true" && value != "false")
            .then(|| format!("{name} takes \"true\" or \"false\", not \"{value}\""))
    };
    match field {
        SelectorField::EventCategory => None,
        SelectorField::ResourcesType => (!is_resource_type(value)).then(|| {
            format!("\"{value}\" is not a resource type (AWS::Service::Type, such as AWS::S3::Object)")
        }),
        SelectorField::ResourcesArn => None,
        SelectorField::Record(RecordField::ReadOnly) => flag("readOnly"),
        SelectorField::Record(RecordField::SessionCredentialFromConsole) => {
            flag("sessionCredentialFromConsole")
        }
        // ActivityLog is CloudTrail Lake's type for events from outside AWS, never a data or
        // network activity event, which are the selectors that take eventType.
        SelectorField::Record(RecordField::EventType) => EventType::parse(value)
            .is_none_or(|t| t == EventType::ActivityLog)
            .then(|| {
                let types: Vec<&str> = EventType::ALL
                    .iter()
                    .filter(|t| **t != EventType::ActivityLog)
                    .map(|t| t.as_str())
                    .collect();
                format!(
                    "\"{value}\" is not a CloudTrail event type ({})",
                    types.join(", ")
                )
            }),
        SelectorField::Record(RecordField::ErrorCode) => (value != "VpceAccessDenied").then(|| {
            format!("errorCode can only be VpceAccessDenied, not \"{value}\"")
        }),
        SelectorField::Record(RecordField::EventSource) => match category {
            EventCategory::Management => (!EXCLUDABLE_MANAGEMENT_SOURCES.contains(&value)).then(|| {
                format!(
                    "trails can leave out only kms.amazonaws.com or rdsdata.amazonaws.com management events, not \"{value}\""
                )
            }),
            EventCategory::NetworkActivity => (!is_service_endpoint(value)).then(|| {
                format!("\"{value}\" is not an event source (SERVICE.amazonaws.com)")
            }),
            _ => None,
        },
        SelectorField::Record(RecordField::EventName)
        | SelectorField::Record(RecordField::UserIdentityArn)
        | SelectorField::Record(RecordField::VpcEndpointId) => None,
    }
}

/// `AWS::Service::Type`. The list of data event resource types grows every few weeks, so the
/// shape is checked rather than a list that would refuse new types.
fn is_resource_type(value: &str) -> bool {
    let parts: Vec<&str> = value.split("::").collect();
    parts.len() == 3
        && parts[0] == "AWS"
        && parts[1..].iter().all(|part| {
            part.starts_with(|c: char| c.is_ascii_uppercase())
                && part.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

fn is_service_endpoint(value: &str) -> bool {
    value.strip_suffix(".amazonaws.com").is_some_and(|service| {
        !service.is_empty()
            && service
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    })
}

/// An Equals or NotEquals value on resources.ARN that is not a whole ARN of the selected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Equals and NotEquals on resources.ARN need a whole {resource_type} ARN ({form}), not \"{value}\"; use StartsWith to match a prefix"
)]
pub(super) struct NotWholeArn {
    resource_type: String,
    /// The documented ARN form for the type.
    form: &'static str,
    value: String,
}

/// The whole-ARN forms the API documents for Equals/NotEquals on resources.ARN, for the basic
/// types; other types need only be an ARN.
pub(super) fn check_whole_arn(resource_type: &str, value: &str) -> Result<(), NotWholeArn> {
    let arn = Arn::parse(value);
    let regional = |service: &str, prefix: &str| {
        arn.is_some_and(|a| {
            a.service == service
                && is_region(a.region)
                && is_account_id(a.account)
                && a.resource
                    .strip_prefix(prefix)
                    .is_some_and(|rest| !rest.is_empty())
        })
    };
    let (valid, form) = match resource_type {
        "AWS::S3::Object" => (
            arn.is_some_and(|a| {
                a.service == "s3"
                    && a.region.is_empty()
                    && a.account.is_empty()
                    && a.resource
                        .split_once('/')
                        .is_some_and(|(bucket, _)| !bucket.is_empty())
            }),
            "arn:PARTITION:s3:::BUCKET/OBJECT_PATH",
        ),
        "AWS::Lambda::Function" => (
            regional("lambda", "function:"),
            "arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME",
        ),
        "AWS::DynamoDB::Table" => (
            regional("dynamodb", "table/"),
            "arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME",
        ),
        _ => (
            arn.is_some(),
            "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE",
        ),
    };
    if valid {
        Ok(())
    } else {
        Err(NotWholeArn {
            resource_type: resource_type.to_owned(),
            form,
            value: value.to_owned(),
        })
    }
}
