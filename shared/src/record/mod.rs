//! A CloudTrail record: validated on its way in, carried as the JSON it arrived as, compact.
//!
//! Only the fields Cairn routes and files by are decoded; everything else stays in the raw JSON,
//! so a record goes out as the same JSON it came in as, unknown fields included, with only the
//! whitespace between tokens removed ([`compact`]).

mod batch;
mod classify;
mod compact;
mod decode;
mod error;
mod fields;

use std::borrow::Cow;

use serde_json::value::RawValue;

pub use crate::clock::{EventTime, EventTimeError};
pub use batch::{BatchError, split_batch};
pub use classify::GLOBAL_SERVICE_REGION;
#[cfg(test)]
pub(crate) use compact::assert_compact_form_of;
pub use compact::{compact, compact_text};
pub use decode::IDENTITY_TYPES;
pub use error::{FieldProblem, Reason, RecordError, RecordRef};
pub use fields::{EventCategory, EventType, EventVersion, EventVersionError};

use decode::RecordFields;
pub(crate) use decode::Slot;

/// CloudTrail's limit on one event, as PutAuditEvents and log delivery apply it.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// The identity that made the request (`userIdentity`), as far as routing and lookups need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIdentity<'a> {
    /// Absent only on some AWS service events, whose identity names just the account and the
    /// invoking service.
    pub identity_type: Option<Cow<'a, str>>,
    pub arn: Option<Cow<'a, str>>,
    pub account_id: Option<Cow<'a, str>>,
    pub access_key_id: Option<Cow<'a, str>>,
    pub user_name: Option<Cow<'a, str>>,
}

/// One entry of `resources`. S3 object-level events may name a prefix (`ARNPrefix`) instead of
/// an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource<'a> {
    pub arn: Option<Cow<'a, str>>,
    pub arn_prefix: Option<Cow<'a, str>>,
    pub resource_type: Option<Cow<'a, str>>,
    pub account_id: Option<Cow<'a, str>>,
}

/// A validated record borrowing from the JSON it was parsed from.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    raw: &'a RawValue,
    version: EventVersion,
    event_time: EventTime,
    event_type: EventType,
    event_id: Option<Cow<'a, str>>,
    event_source: Option<Cow<'a, str>>,
    event_name: Option<Cow<'a, str>>,
    aws_region: Cow<'a, str>,
    recipient_account_id: Option<Cow<'a, str>>,
    user_identity: Option<UserIdentity<'a>>,
    read_only: Option<bool>,
    event_category: Option<EventCategory>,
    management_event: Option<bool>,
    resources: Vec<Resource<'a>>,
    session_credential_from_console: Option<bool>,
    error_code: Option<Cow<'a, str>>,
    vpc_endpoint_id: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
    insight_type: Option<Cow<'a, str>>,
    insight_data_trail: Option<Cow<'a, str>>,
}

impl<'a> Record<'a> {
    /// Validates one record. `index` is its position in the batch, used to name it in errors.
    pub fn parse(raw: &'a RawValue, index: Option<usize>) -> Result<Self, RecordError> {
        let fields = RecordFields::decode(raw).map_err(|problem| RecordError {
            record: RecordRef {
                index,
                event_id: None,
            },
            problems: vec![problem],
        })?;
        let event_id = fields.readable_event_id();
        fields.validate(raw).map_err(|problems| RecordError {
            record: RecordRef { index, event_id },
            problems,
        })
    }

    /// The record's JSON, exactly as it was parsed.
    pub fn raw(&self) -> &'a RawValue {
        self.raw
    }

    pub fn version(&self) -> EventVersion {
        self.version
    }

    pub fn event_time(&self) -> EventTime {
        self.event_time
    }

    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// Absent only on eventVersion 1.0 records, which predate the field.
    pub fn event_id(&self) -> Option<&str> {
        self.event_id.as_deref()
    }

    /// Absent only on Insights events and CloudTrail Lake integration events (whose caller,
    /// source and action are inside their `eventData`).
    pub fn event_source(&self) -> Option<&str> {
        self.event_source.as_deref()
    }

    /// Absent only on Insights events and CloudTrail Lake integration events.
    pub fn event_name(&self) -> Option<&str> {
        self.event_name.as_deref()
    }

    pub fn aws_region(&self) -> &str {
        &self.aws_region
    }

    pub fn recipient_account_id(&self) -> Option<&str> {
        self.recipient_account_id.as_deref()
    }

    /// Absent only on Insights events and CloudTrail Lake integration events.
    pub fn user_identity(&self) -> Option<&UserIdentity<'a>> {
        self.user_identity.as_ref()
    }

    pub fn resources(&self) -> &[Resource<'a>] {
        &self.resources
    }

    pub fn session_credential_from_console(&self) -> bool {
        self.session_credential_from_console.unwrap_or(false)
    }

    pub fn error_code(&self) -> Option<&str> {
        self.error_code.as_deref()
    }

    pub fn vpc_endpoint_id(&self) -> Option<&str> {
        self.vpc_endpoint_id.as_deref()
    }

    /// The tool that made the call; Insights attributes unusual rates to it.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// `insightDetails.insightType` of an Insights event: ApiCallRateInsight or
    /// ApiErrorRateInsight.
    pub fn insight_type(&self) -> Option<&str> {
        self.insight_type.as_deref()
    }

    /// For an Insights event on data events, the ARN of the trail whose data events it
    /// learned from (`insightDetails.insightSource`); `None` for one on management events.
    pub fn insight_data_trail(&self) -> Option<&str> {
        self.insight_data_trail.as_deref()
    }
}

#[cfg(test)]
mod tests;
