//! CloudTrail Lake's PutAuditEvents: the request's limits, each audit event's checks (its id,
//! its checksum, the integration event schema its eventData must follow), and the record
//! CloudTrail Lake stores for an accepted event.
//!
//! Sources: the CloudTrail Data API reference (PutAuditEvents, AuditEvent, ResultErrorEntry)
//! and the CloudTrail User Guide ("CloudTrail Lake integrations event schema", "Create a custom
//! integration", whose checksum section names the `InvalidChecksum` error).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::error_codes::{
    DUPLICATED_AUDIT_EVENT_ID, FIELD_NOT_FOUND, FIELD_TOO_LONG, INTERNAL_FAILURE, INVALID_CHECKSUM,
    INVALID_DATA, INVALID_RECIPIENT,
};
use super::top_level::TopLevel;
use super::{BodyError, LakeContext, Refusal, Submitted, json_kind, json_text, quoted};
use crate::names::arn::is_account_id;
use crate::record::{EventCategory, EventTime, EventType, MAX_RECORD_BYTES, Slot, compact};

/// PutAuditEvents takes 1 to 100 events per request…
pub const MAX_AUDIT_EVENTS: usize = 100;
/// …and at most 1 MB in all.
pub const MAX_AUDIT_EVENTS_BODY_BYTES: usize = 1024 * 1024;

/// The `eventVersion` of the records Cairn stores for PutAuditEvents events. AWS documents
/// the field as one CloudTrail adds at ingestion but not its value for these events; Cairn
/// writes the newest CloudTrail record version, which every reader of its records knows.
pub const LAKE_EVENT_VERSION: &str = "1.11";

/// `AuditEvent.id`: 1 to 128 characters matching `[-_A-Za-z0-9]+`.
const MAX_ID_CHARS: usize = 128;
/// `ResultErrorEntry.errorMessage`: at most 1,024 characters.
const MAX_MESSAGE_CHARS: usize = 1024;
/// `externalId`: 2 to 1,224 characters matching `[\w+=,.@:\/-]*`.
const EXTERNAL_ID_CHARS: std::ops::RangeInclusive<usize> = 2..=1224;

/// The integration event schema's limits on eventData's JSON-object fields: "a maximum size of
/// 100 kB" for requestParameters and responseElements, 28 kB for additionalEventData.
const MAX_PARAMETERS_BYTES: usize = 100 * 1024;
const MAX_ADDITIONAL_DATA_BYTES: usize = 28 * 1024;
/// No length limit documented (eventTime, sourceIPAddress, recipientAccountId have a form).
const UNLIMITED: usize = usize::MAX;

/// The checksum AWS documents is base64 (`printf %s "$eventData" | openssl dgst -binary
/// -sha256 | base64`); padding is not insisted on.
const CHECKSUM_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The events of a PutAuditEvents request (`top` is known to hold `auditEvents`). What breaks
/// the request's own rules (channel, count, an event's id) refuses the request, as AWS's
/// request validation does; what is wrong with one event refuses that event alone.
pub(super) fn audit_events<'a>(
    top: &TopLevel<'a>,
    lake: &LakeContext,
) -> Result<Vec<Submitted<'a>>, BodyError> {
    check_channel(top.channel_arn, lake)?;
    check_external_id(top.external_id)?;
    let Some(list) = top.audit_events else {
        return Err(BodyError::Invalid(
            "a PutAuditEvents request needs auditEvents".to_owned(),
        ));
    };
    if !list.get().starts_with('[') {
        return Err(BodyError::Invalid(format!(
            "auditEvents must be an array of audit events, not {}",
            json_kind(list)
        )));
    }
    let entries: Vec<&'a RawValue> = serde_json::from_str(list.get())
        .map_err(|e| BodyError::Invalid(format!("auditEvents: {e}")))?;
    if entries.is_empty() || entries.len() > MAX_AUDIT_EVENTS {
        return Err(BodyError::Invalid(format!(
            "auditEvents holds {} events; PutAuditEvents takes 1 to {MAX_AUDIT_EVENTS}",
            entries.len()
        )));
    }

    let mut first_with_id: HashMap<Cow<'a, str>, usize> = HashMap::new();
    let mut events = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let fields = audit_event_fields(index, entry)?;
        let id = audit_event_id(index, &fields.id)?;
        let event = match first_with_id.get(id.as_ref()) {
            Some(first) => Err(refusal(
                DUPLICATED_AUDIT_EVENT_ID,
                format!(
                    "id {} is already the id of auditEvents[{first}]; ids must be unique within a request",
                    quoted(&id)
                ),
            )),
            None => {
                first_with_id.insert(id.clone(), index);
                lake_record(&fields, lake).map(Cow::Owned)
            }
        };
        events.push(Submitted { id, event });
    }
    Ok(events)
}

/// `channelArn` in the body (AWS takes it in the query string) must name the channel Cairn
/// serves, by ARN or by ID.
fn check_channel(raw: Option<&RawValue>, lake: &LakeContext) -> Result<(), BodyError> {
    let Some(raw) = raw.filter(|raw| raw.get() != "null") else {
        return Ok(());
    };
    let given = json_text(raw).ok_or_else(|| {
        BodyError::Invalid(format!(
            "channelArn must be a string, not {}",
            json_kind(raw)
        ))
    })?;
    if given == lake.channel_arn || given == lake.channel_id() {
        Ok(())
    } else {
        Err(BodyError::Invalid(format!(
            "channelArn {} is not the channel this ingest serves ({})",
            quoted(&given),
            lake.channel_arn
        )))
    }
}

/// `externalId` is checked for its documented form only: Cairn's channel has no resource
/// policy to demand one.
fn check_external_id(raw: Option<&RawValue>) -> Result<(), BodyError> {
    let Some(raw) = raw.filter(|raw| raw.get() != "null") else {
        return Ok(());
    };
    let given = json_text(raw).ok_or_else(|| {
        BodyError::Invalid(format!(
            "externalId must be a string, not {}",
            json_kind(raw)
        ))
    })?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c);
    if EXTERNAL_ID_CHARS.contains(&given.chars().count()) && given.chars().all(allowed) {
        Ok(())
    } else {
        Err(BodyError::Invalid(format!(
            "externalId {} must be 2 to 1224 characters of letters, digits and _+=,.@:/-",
            quoted(&given)
        )))
    }
}

/// One `auditEvents[]` entry: `{"id","eventData","eventDataChecksum"}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditEventFields<'a> {
    #[serde(borrow)]
    id: Slot<'a>,
    #[serde(borrow, rename = "eventData")]
    event_data: Slot<'a>,
    #[serde(borrow, rename = "eventDataChecksum")]
    event_data_checksum: Slot<'a>,
}

fn audit_event_fields(index: usize, entry: &RawValue) -> Result<AuditEventFields<'_>, BodyError> {
    if !entry.get().starts_with('{') {
        return Err(BodyError::Invalid(format!(
            "auditEvents[{index}] must be an object {{\"id\",\"eventData\",\"eventDataChecksum\"}}, not {}",
            json_kind(entry)
        )));
    }
    serde_json::from_str(entry.get())
        .map_err(|e| BodyError::Invalid(format!("auditEvents[{index}]: {e}")))
}

/// The event's id names it in the answer, so without a valid one it can't be answered for:
/// the request is refused, as AWS refuses a request whose id breaks the pattern.
fn audit_event_id<'a>(index: usize, slot: &Slot<'a>) -> Result<Cow<'a, str>, BodyError> {
    let raw = match slot.raw() {
        Some(raw) if raw.get() != "null" => raw,
        _ => {
            return Err(BodyError::Invalid(format!(
                "auditEvents[{index}] has no id"
            )));
        }
    };
    let id = json_text(raw).ok_or_else(|| {
        BodyError::Invalid(format!(
            "auditEvents[{index}].id must be a string, not {}",
            json_kind(raw)
        ))
    })?;
    let shape_ok = (1..=MAX_ID_CHARS).contains(&id.chars().count())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if shape_ok {
        Ok(id)
    } else {
        Err(BodyError::Invalid(format!(
            "auditEvents[{index}].id {} must be 1 to {MAX_ID_CHARS} letters, digits, hyphens and underscores",
            quoted(&id)
        )))
    }
}

fn refusal(error_code: &'static str, error_message: impl Into<String>) -> Refusal {
    Refusal {
        error_code,
        error_message: error_message.into(),
    }
}

/// Checks one event and builds the record CloudTrail Lake stores for it:
/// `{"eventVersion","eventCategory":"ActivityAuditLog","eventType":"ActivityLog","eventID",
/// "eventTime","awsRegion","recipientAccountId","metadata":{"ingestionTime","channelARN"},
/// "eventData":{…}}`, with the caller's eventData compact, as every stored record is.
fn lake_record(
    fields: &AuditEventFields<'_>,
    lake: &LakeContext,
) -> Result<Box<RawValue>, Refusal> {
    let event_data = match fields.event_data.raw() {
        None => return Err(refusal(FIELD_NOT_FOUND, "eventData is missing")),
        Some(raw) if raw.get() == "null" => {
            return Err(refusal(FIELD_NOT_FOUND, "eventData is null"));
        }
        Some(raw) => json_text(raw).ok_or_else(|| {
            refusal(
                INVALID_DATA,
                format!(
                    "eventData must be a string holding the event as JSON text, not {}",
                    json_kind(raw)
                ),
            )
        })?,
    };
    if event_data.len() > MAX_RECORD_BYTES {
        return Err(refusal(
            FIELD_TOO_LONG,
            format!(
                "eventData is {} bytes, over the {MAX_RECORD_BYTES}-byte limit on one event",
                event_data.len()
            ),
        ));
    }
    if let Some(raw) = fields
        .event_data_checksum
        .raw()
        .filter(|raw| raw.get() != "null")
    {
        let given = json_text(raw).ok_or_else(|| {
            refusal(
                INVALID_CHECKSUM,
                format!("eventDataChecksum must be a string, not {}", json_kind(raw)),
            )
        })?;
        check_checksum(&given, &event_data)?;
    }

    let data: &RawValue = serde_json::from_str(&event_data)
        .map_err(|e| refusal(INVALID_DATA, format!("eventData is not valid JSON: {e}")))?;
    if !data.get().starts_with('{') {
        return Err(refusal(
            INVALID_DATA,
            format!("eventData must be a JSON object, not {}", json_kind(data)),
        ));
    }
    let schema: EventDataFields = serde_json::from_str(data.get())
        .map_err(|e| refusal(INVALID_DATA, format!("eventData: {e}")))?;
    let mut problems = LakeProblems::default();
    let checked = schema.check(lake, &mut problems);
    if let Some(refused) = problems.into_refusal() {
        return Err(refused);
    }
    let Some(Checked {
        event_time,
        uid,
        recipient_account_id,
    }) = checked
    else {
        return Err(refusal(INTERNAL_FAILURE, "eventData could not be read"));
    };

    let event_id = lake_event_id(lake.channel_arn, &uid);
    let record = StoredRecord {
        event_version: LAKE_EVENT_VERSION,
        event_category: EventCategory::ActivityAuditLog.as_str(),
        event_type: EventType::ActivityLog.as_str(),
        event_id: &event_id,
        event_time: event_time.to_string(),
        aws_region: lake.region,
        recipient_account_id: &recipient_account_id,
        metadata: StoredMetadata {
            ingestion_time: lake.ingestion_time.to_string(),
            channel_arn: lake.channel_arn,
        },
        event_data: &compact(data),
    };
    let record = serde_json::value::to_raw_value(&record).map_err(|e| {
        refusal(
            INTERNAL_FAILURE,
            format!("the record could not be written: {e}"),
        )
    })?;
    if record.get().len() > MAX_RECORD_BYTES {
        return Err(refusal(
            FIELD_TOO_LONG,
            format!(
                "eventData makes a stored record of {} bytes, over the {MAX_RECORD_BYTES}-byte limit on one event",
                record.get().len()
            ),
        ));
    }
    Ok(record)
}

/// The record as CloudTrail Lake stores it, fields in the order its schema lists them.
#[derive(Serialize)]
struct StoredRecord<'r> {
    #[serde(rename = "eventVersion")]
    event_version: &'r str,
    #[serde(rename = "eventCategory")]
    event_category: &'r str,
    #[serde(rename = "eventType")]
    event_type: &'r str,
    #[serde(rename = "eventID")]
    event_id: &'r str,
    #[serde(rename = "eventTime")]
    event_time: String,
    #[serde(rename = "awsRegion")]
    aws_region: &'r str,
    #[serde(rename = "recipientAccountId")]
    recipient_account_id: &'r str,
    metadata: StoredMetadata<'r>,
    #[serde(rename = "eventData")]
    event_data: &'r RawValue,
}

#[derive(Serialize)]
struct StoredMetadata<'r> {
    #[serde(rename = "ingestionTime")]
    ingestion_time: String,
    #[serde(rename = "channelARN")]
    channel_arn: &'r str,
}

/// The stored record's eventID: a UUID-formatted name derived from SHA-256 of the channel ARN
/// and the event's UID. A client retrying a request whose answer it never got sends the same
/// events again; deriving the id (rather than drawing a random one) lets the retry be
/// recognised as the event already taken. The UID alone is the source's id for its request,
/// unique only within that source, so the channel, which stands for the source, is part of the
/// name. The 16 bytes are laid out as an RFC 9562 version 8 (custom) UUID.
pub fn lake_event_id(channel_arn: &str, uid: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(channel_arn.as_bytes());
    // A channel ARN holds no NUL, so the two parts can't run into each other.
    hasher.update([0u8]);
    hasher.update(uid.as_bytes());
    let digest = hasher.finalize();
    let bytes: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    crate::ids::uuid_text(bytes, 8)
}

/// The `eventDataChecksum` AWS documents for `eventData`: the SHA-256 of its UTF-8 bytes, in
/// base64.
pub fn event_data_checksum(event_data: &str) -> String {
    STANDARD.encode(Sha256::digest(event_data.as_bytes()))
}

/// Whether `given` is an `eventDataChecksum` ingest takes for `event_data`.
pub fn is_event_data_checksum(given: &str, event_data: &str) -> bool {
    check_checksum(given, event_data).is_ok()
}

/// `eventDataChecksum` must be the SHA-256 of the eventData string's UTF-8 bytes. AWS documents
/// it in base64; lowercase or uppercase hex (64 digits, which base64 of 32 bytes never is) is
/// taken as well.
fn check_checksum(given: &str, event_data: &str) -> Result<(), Refusal> {
    let digest = Sha256::digest(event_data.as_bytes());
    let decoded = if given.len() == 64 && given.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(given).ok()
    } else {
        CHECKSUM_BASE64.decode(given).ok()
    };
    match decoded {
        Some(bytes) if bytes.as_slice() == digest.as_slice() => Ok(()),
        Some(bytes) if bytes.len() == digest.len() => Err(refusal(
            INVALID_CHECKSUM,
            format!(
                "eventDataChecksum {} does not match eventData, whose SHA-256 is {} in base64",
                quoted(given),
                event_data_checksum(event_data)
            ),
        )),
        _ => Err(refusal(
            INVALID_CHECKSUM,
            format!(
                "eventDataChecksum {} is not a SHA-256 digest in base64 (printf %s \"$eventData\" | openssl dgst -binary -sha256 | base64)",
                quoted(given)
            ),
        )),
    }
}

/// eventData's fields, as the integration event schema lists them. Fields it doesn't list are
/// kept in the record untouched.
#[derive(Deserialize, Default)]
#[serde(default)]
struct EventDataFields<'a> {
    #[serde(borrow)]
    version: Slot<'a>,
    #[serde(borrow, rename = "userIdentity")]
    user_identity: Slot<'a>,
    #[serde(borrow, rename = "userAgent")]
    user_agent: Slot<'a>,
    #[serde(borrow, rename = "eventSource")]
    event_source: Slot<'a>,
    #[serde(borrow, rename = "eventName")]
    event_name: Slot<'a>,
    #[serde(borrow, rename = "eventTime")]
    event_time: Slot<'a>,
    #[serde(borrow, rename = "UID")]
    uid: Slot<'a>,
    #[serde(borrow, rename = "requestParameters")]
    request_parameters: Slot<'a>,
    #[serde(borrow, rename = "responseElements")]
    response_elements: Slot<'a>,
    #[serde(borrow, rename = "errorCode")]
    error_code: Slot<'a>,
    #[serde(borrow, rename = "errorMessage")]
    error_message: Slot<'a>,
    #[serde(borrow, rename = "sourceIPAddress")]
    source_ip_address: Slot<'a>,
    #[serde(borrow, rename = "recipientAccountId")]
    recipient_account_id: Slot<'a>,
    #[serde(borrow, rename = "additionalEventData")]
    additional_event_data: Slot<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditIdentityFields<'a> {
    #[serde(borrow, rename = "type")]
    identity_type: Slot<'a>,
    #[serde(borrow, rename = "principalId")]
    principal_id: Slot<'a>,
    #[serde(borrow)]
    details: Slot<'a>,
}

/// What the stored record takes from eventData.
struct Checked<'a> {
    event_time: EventTime,
    uid: Cow<'a, str>,
    recipient_account_id: Cow<'a, str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Required,
    Optional,
}

impl<'a> EventDataFields<'a> {
    /// Applies the schema's rules, reporting every problem found.
    fn check(&self, lake: &LakeContext, problems: &mut LakeProblems) -> Option<Checked<'a>> {
        use Need::{Optional, Required};
        text(problems, &self.version, "eventData.version", Required, 256);
        if let Some(raw) = object(
            problems,
            &self.user_identity,
            "eventData.userIdentity",
            Required,
            UNLIMITED,
        ) {
            match serde_json::from_str::<AuditIdentityFields>(raw.get()) {
                Ok(identity) => {
                    let at = "eventData.userIdentity";
                    text(
                        problems,
                        &identity.identity_type,
                        &format!("{at}.type"),
                        Required,
                        128,
                    );
                    text(
                        problems,
                        &identity.principal_id,
                        &format!("{at}.principalId"),
                        Required,
                        1024,
                    );
                    object(
                        problems,
                        &identity.details,
                        &format!("{at}.details"),
                        Optional,
                        UNLIMITED,
                    );
                }
                Err(e) => problems.push(INVALID_DATA, format!("eventData.userIdentity: {e}")),
            }
        }
        text(
            problems,
            &self.user_agent,
            "eventData.userAgent",
            Optional,
            1024,
        );
        text(
            problems,
            &self.event_source,
            "eventData.eventSource",
            Required,
            1024,
        );
        text(
            problems,
            &self.event_name,
            "eventData.eventName",
            Required,
            1024,
        );
        let event_time = text(
            problems,
            &self.event_time,
            "eventData.eventTime",
            Required,
            UNLIMITED,
        )
        .and_then(|time| match lake_event_time(&time) {
            Ok(time) => Some(time),
            Err(why) => {
                problems.push(INVALID_DATA, format!("eventData.eventTime {why}"));
                None
            }
        });
        let uid = text(problems, &self.uid, "eventData.UID", Required, 1024);
        object(
            problems,
            &self.request_parameters,
            "eventData.requestParameters",
            Optional,
            MAX_PARAMETERS_BYTES,
        );
        object(
            problems,
            &self.response_elements,
            "eventData.responseElements",
            Optional,
            MAX_PARAMETERS_BYTES,
        );
        text(
            problems,
            &self.error_code,
            "eventData.errorCode",
            Optional,
            256,
        );
        text(
            problems,
            &self.error_message,
            "eventData.errorMessage",
            Optional,
            256,
        );
        if let Some(ip) = text(
            problems,
            &self.source_ip_address,
            "eventData.sourceIPAddress",
            Optional,
            UNLIMITED,
        ) && ip.parse::<IpAddr>().is_err()
        {
            problems.push(
                INVALID_DATA,
                format!(
                    "eventData.sourceIPAddress {} is not an IPv4 or IPv6 address",
                    quoted(&ip)
                ),
            );
        }
        let recipient_account_id = text(
            problems,
            &self.recipient_account_id,
            "eventData.recipientAccountId",
            Required,
            UNLIMITED,
        )
        .filter(|recipient| check_recipient(problems, recipient, lake));
        object(
            problems,
            &self.additional_event_data,
            "eventData.additionalEventData",
            Optional,
            MAX_ADDITIONAL_DATA_BYTES,
        );
        Some(Checked {
            event_time: event_time?,
            uid: uid?,
            recipient_account_id: recipient_account_id?,
        })
    }
}

/// "The account ID must be the same as the AWS account ID that owns the channel."
fn check_recipient(problems: &mut LakeProblems, recipient: &str, lake: &LakeContext) -> bool {
    match lake.channel_account() {
        Some(owner) if recipient != owner => {
            problems.push(
                INVALID_RECIPIENT,
                format!(
                    "eventData.recipientAccountId {} is not {owner}, the account that owns the channel",
                    quoted(recipient)
                ),
            );
            false
        }
        None if !is_account_id(recipient) => {
            problems.push(
                INVALID_RECIPIENT,
                format!(
                    "eventData.recipientAccountId {} is not an AWS account ID (12 digits)",
                    quoted(recipient)
                ),
            );
            false
        }
        _ => true,
    }
}

/// A string field: present when required, a string, not blank, and at most `max_chars` long.
fn text<'a>(
    problems: &mut LakeProblems,
    slot: &Slot<'a>,
    name: &str,
    need: Need,
    max_chars: usize,
) -> Option<Cow<'a, str>> {
    let raw = present(problems, slot, name, need)?;
    let Some(value) = json_text(raw) else {
        problems.push(
            INVALID_DATA,
            format!("{name} must be a string, not {}", json_kind(raw)),
        );
        return None;
    };
    if value.trim().is_empty() {
        if need == Need::Required {
            problems.push(INVALID_DATA, format!("{name} is empty"));
            return None;
        }
        return Some(value);
    }
    let chars = value.chars().count();
    if chars > max_chars {
        problems.push(
            FIELD_TOO_LONG,
            format!("{name} is {chars} characters, over the {max_chars}-character limit"),
        );
        return None;
    }
    Some(value)
}

/// A JSON-object field: present when required, an object, and at most `max_bytes` of JSON.
fn object<'a>(
    problems: &mut LakeProblems,
    slot: &Slot<'a>,
    name: &str,
    need: Need,
    max_bytes: usize,
) -> Option<&'a RawValue> {
    let raw = present(problems, slot, name, need)?;
    if !raw.get().starts_with('{') {
        problems.push(
            INVALID_DATA,
            format!("{name} must be a JSON object, not {}", json_kind(raw)),
        );
        return None;
    }
    let bytes = raw.get().len();
    if bytes > max_bytes {
        problems.push(
            FIELD_TOO_LONG,
            format!("{name} is {bytes} bytes, over the {max_bytes}-byte limit"),
        );
        return None;
    }
    Some(raw)
}

/// The field's JSON unless it is absent or null, which a required field may not be.
fn present<'a>(
    problems: &mut LakeProblems,
    slot: &Slot<'a>,
    name: &str,
    need: Need,
) -> Option<&'a RawValue> {
    match slot.raw() {
        Some(raw) if raw.get() != "null" => Some(raw),
        found => {
            if need == Need::Required {
                let what = if found.is_some() {
                    "is null"
                } else {
                    "is missing"
                };
                problems.push(FIELD_NOT_FOUND, format!("{name} {what}"));
            }
            None
        }
    }
}

/// eventData.eventTime, "in yyyy-MM-DDTHH:mm:ss format, in UTC". AWS's own example ends in
/// `Z`, and sources often add fractions of a second; both are taken, and the stored record's
/// eventTime is the whole second, written the one way CloudTrail writes it.
fn lake_event_time(text: &str) -> Result<EventTime, LakeTimeError> {
    let refuse = || LakeTimeError(quoted(text));
    let without_zone = text.strip_suffix('Z').unwrap_or(text);
    let (whole, fraction) = match without_zone.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (without_zone, None),
    };
    if fraction
        .is_some_and(|f| f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(refuse());
    }
    EventTime::parse(&format!("{whole}Z")).map_err(|_| refuse())
}

/// A PutAuditEvents eventTime of another form; holds the text, quoted.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} is not a UTC time of the form yyyy-MM-ddTHH:mm:ss (a fraction of a second and a closing Z may follow)"
)]
struct LakeTimeError(String);

/// The problems found in one event: the first one's code is the event's errorCode, and the
/// message lists them all, so a producer can fix the event in one go.
#[derive(Default)]
struct LakeProblems(Vec<(&'static str, String)>);

impl LakeProblems {
    fn push(&mut self, code: &'static str, message: String) {
        self.0.push((code, message));
    }

    fn into_refusal(self) -> Option<Refusal> {
        let code = self.0.first()?.0;
        let messages: Vec<String> = self.0.into_iter().map(|(_, message)| message).collect();
        let mut message = messages.join("; ");
        if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS - 1) {
            message.truncate(cut);
            message.push('…');
        }
        Some(refusal(code, message))
    }
}
