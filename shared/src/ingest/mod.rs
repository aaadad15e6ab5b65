//! The bodies ingest accepts, read into the events they submit:
//!
//! - `{"Records":[…]}` batches, as CloudTrail log files and producers write them;
//! - EventBridge events whose `detail` is a CloudTrail record ("AWS API Call via CloudTrail"
//!   and its siblings);
//! - CloudTrail Lake `PutAuditEvents` requests, whose events from outside AWS become the
//!   records CloudTrail Lake stores for them.
//!
//! Each body comes alone (a direct invocation, a Function URL request) or as one message of a
//! queue's batch ([`QueuedMessage`]), whose good messages are staged together.
//!
//! A body is told apart by its top-level keys, and only those are decoded: records stay raw
//! JSON. What is wrong with the body as a whole is a [`BodyError`]; what is wrong with one of
//! its events is that event's [`Refusal`], so one bad event never sinks its body. Records from
//! the first two kinds are validated afterwards by [`Record::parse`](crate::record::Record::parse),
//! like any other.

mod accept;
mod body;
mod function_url;
mod ingestor;
mod lake;
mod queue;
mod top_level;

use std::borrow::Cow;
use std::fmt;

use serde_json::error::Category;
use serde_json::value::RawValue;

use crate::names::arn::{Arn, is_account_id};
use crate::record::{BatchError, EventTime};

pub(crate) use accept::ingest;
pub use accept::{Accepted, Failed, IngestAnswer, IngestError, IngestReport};
pub use body::{CLOUDTRAIL_DETAIL_TYPES, read_body};
pub use function_url::{
    MAX_FUNCTION_URL_BODY_BYTES, function_url_body, function_url_error_response,
    function_url_response,
};
pub use ingestor::Ingestor;
pub use lake::{
    LAKE_EVENT_VERSION, MAX_AUDIT_EVENTS, MAX_AUDIT_EVENTS_BODY_BYTES, event_data_checksum,
    is_event_data_checksum, lake_event_id,
};
pub use queue::{QueueReport, QueuedMessage, RefusedMessage};

/// One event submitted in a body, before CloudTrail-record validation.
#[derive(Debug)]
pub struct Submitted<'a> {
    /// The caller's id for this event: its index (as a decimal string) in a `{"Records":[…]}`
    /// batch, the EventBridge event's `id`, or the PutAuditEvents `auditEvents[].id`.
    pub id: Cow<'a, str>,
    /// The CloudTrail record, compact ([`compact`](crate::record::compact): borrowed from the
    /// body where it is one already, built for PutAuditEvents events), or why this one event is
    /// refused.
    pub event: Result<Cow<'a, RawValue>, Refusal>,
}

/// Why one submitted event is refused, as PutAuditEvents reports it (`ResultErrorEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// One of [`error_codes`].
    pub error_code: &'static str,
    /// What is wrong, naming the field; at most 1,024 characters, as ResultErrorEntry allows.
    pub error_message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code, self.error_message)
    }
}

/// The `errorCode` values of a refused event. All but [`DUPLICATED_AUDIT_EVENT_ID`] are from
/// the list the CloudTrail Data API reference gives for `ResultErrorEntry.errorCode`
/// (FieldTooLong, FieldNotFound, InvalidChecksum, InvalidData, InvalidRecipient,
/// InvalidEventSource, AccountNotSubscribed, Throttling, InternalFailure); the user guide adds
/// that a checksum mismatch is `InvalidChecksum`.
pub mod error_codes {
    /// A value longer than the integration event schema allows.
    pub const FIELD_TOO_LONG: &str = "FieldTooLong";
    /// A field the integration event schema requires is missing (or null).
    pub const FIELD_NOT_FOUND: &str = "FieldNotFound";
    /// `eventDataChecksum` is not the SHA-256 of `eventData`.
    pub const INVALID_CHECKSUM: &str = "InvalidChecksum";
    /// `eventData` is not JSON, not an object, or a field has the wrong type or form.
    pub const INVALID_DATA: &str = "InvalidData";
    /// `eventData.recipientAccountId` is not the account that owns the channel.
    pub const INVALID_RECIPIENT: &str = "InvalidRecipient";
    /// The stored record could not be written (never expected).
    pub const INTERNAL_FAILURE: &str = "InternalFailure";
    /// A second event with an `id` already used in the same request. AWS names this error
    /// (`DuplicatedAuditEventId`) but refuses the whole request with it; Cairn refuses only the
    /// later events, so the first one is still taken.
    pub const DUPLICATED_AUDIT_EVENT_ID: &str = "DuplicatedAuditEventId";
}

/// What CloudTrail Lake adds to an event from outside AWS when it takes it in.
#[derive(Debug, Clone, Copy)]
pub struct LakeContext<'c> {
    /// The Region the PutAuditEvents call was made in: the record's `awsRegion`.
    pub region: &'c str,
    /// The channel the events arrive through: `metadata.channelARN`, and the account that
    /// owns it is the only `recipientAccountId` the events may name.
    pub channel_arn: &'c str,
    /// `metadata.ingestionTime`.
    pub ingestion_time: EventTime,
}

impl<'c> LakeContext<'c> {
    /// The account that owns the channel, when the channel ARN is a CloudTrail ARN
    /// (`arn:aws:cloudtrail:us-east-1:111122223333:channel/…`).
    pub fn channel_account(&self) -> Option<&'c str> {
        Arn::parse(self.channel_arn)
            .filter(|arn| arn.service == "cloudtrail" && is_account_id(arn.account))
            .map(|arn| arn.account)
    }

    /// The channel's ID, the ARN's suffix, which PutAuditEvents also takes as `channelArn`.
    fn channel_id(&self) -> &'c str {
        self.channel_arn
            .rsplit_once('/')
            .map_or(self.channel_arn, |(_, id)| id)
    }
}

/// The kind of a body, which decides the shape of the answer (PutAuditEvents answers
/// `{"successful":[{"id","eventID"}],"failed":[{"id","errorCode","errorMessage"}]}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `{"Records":[…]}`.
    Records,
    /// An EventBridge event carrying a CloudTrail record in `detail`.
    EventBridge,
    /// A CloudTrail Lake PutAuditEvents request, `{"auditEvents":[…]}`.
    AuditEvents,
}

/// A body read into its events, in the order it holds them.
#[derive(Debug)]
pub struct Body<'a> {
    pub kind: BodyKind,
    pub events: Vec<Submitted<'a>>,
}

/// A body refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Not JSON, or not a JSON object. serde_json's message carries the line and column.
    #[error("{}", json_message(.0))]
    Json(serde_json::Error),
    /// A `{"Records":…}` body whose Records is not an array of values.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// JSON that is not a body ingest takes, or breaks a rule of its kind.
    #[error("{0}")]
    Invalid(String),
    /// A body over the limit of how it came: PutAuditEvents' 1 MB, a Function URL's 6 MB.
    #[error("the body is {bytes} bytes, over {limit_of} limit of {limit} bytes per request")]
    TooLarge {
        bytes: usize,
        limit: usize,
        /// Whose limit, with the possessive: "PutAuditEvents'".
        limit_of: &'static str,
    },
    /// A Function URL request of another method than POST.
    #[error("{method} is not allowed here: send the body with POST")]
    MethodNotAllowed { method: String },
}

fn json_message(error: &serde_json::Error) -> String {
    match error.classify() {
        Category::Data => format!("the body is not a JSON object ingest can read: {error}"),
        Category::Syntax | Category::Eof | Category::Io => {
            format!("the body is not valid JSON: {error}")
        }
    }
}

impl BodyError {
    /// The line of a JSON error, counted from 1.
    pub fn line(&self) -> Option<usize> {
        match self {
            BodyError::Json(e) => Some(e.line()),
            BodyError::Batch(e) => Some(e.line()),
            _ => None,
        }
    }

    /// The column of a JSON error, counted from 1.
    pub fn column(&self) -> Option<usize> {
        match self {
            BodyError::Json(e) => Some(e.column()),
            BodyError::Batch(e) => Some(e.column()),
            _ => None,
        }
    }

    /// The HTTP status to answer a Function URL request with.
    pub fn http_status(&self) -> u16 {
        match self {
            BodyError::MethodNotAllowed { .. } => 405,
            BodyError::TooLarge { .. } => 413,
            _ => 400,
        }
    }
}

/// A JSON string's text, borrowed unless it has escapes; `None` when the JSON is no string.
fn json_text(raw: &RawValue) -> Option<Cow<'_, str>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<&str>(raw.get())
        .map(Cow::Borrowed)
        .or_else(|_| serde_json::from_str::<String>(raw.get()).map(Cow::Owned))
        .ok()
}

/// What kind of JSON value `raw` is, for messages.
fn json_kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// `text` in quotes for a message, cut short when long (callers' values are unbounded).
fn quoted(text: &str) -> String {
    const SHOWN: usize = 64;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("\"{}…\"", &text[..cut]),
        None => format!("\"{text}\""),
    }
}

#[cfg(test)]
mod tests;
