//! Decoding a record's core fields from its raw JSON, and the rules AWS documents for which of
//! them a record of a given eventVersion and eventType must carry.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{FieldProblem, Reason};
use super::fields::{EventCategory, EventType, EventVersion};
use super::{MAX_RECORD_BYTES, Record, Resource, UserIdentity};
use crate::clock::EventTime;
use crate::names::arn::is_region;

/// A field as it appears in the object: absent, or its raw JSON (which may be `null`). Serde's
/// `Option` would fold `null` into "absent", and a required field that is null deserves its own
/// message.
#[derive(Default)]
pub(crate) struct Slot<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Slot<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(deserializer).map(|raw| Slot(Some(raw)))
    }
}

impl<'a> Slot<'a> {
    /// The raw JSON as it appears, `null` included; `None` when the field is absent.
    pub(crate) fn raw(&self) -> Option<&'a RawValue> {
        self.0
    }

    /// The value, with `null` reported as such.
    fn value(&self, field: &'static str) -> Result<Option<&'a RawValue>, FieldProblem> {
        match self.0 {
            Some(raw) if raw.get() == "null" => Err(FieldProblem::new(field, Reason::Null)),
            other => Ok(other),
        }
    }

    /// The value, with `null` taken as absent: optional fields are often written as null.
    fn present(&self) -> Option<&'a RawValue> {
        self.0.filter(|raw| raw.get() != "null")
    }

    fn string(&self, field: &'static str) -> Result<Option<Cow<'a, str>>, FieldProblem> {
        self.value(field)?.map(|raw| string(raw, field)).transpose()
    }

    fn optional_string(&self, field: &'static str) -> Result<Option<Cow<'a, str>>, FieldProblem> {
        self.present().map(|raw| string(raw, field)).transpose()
    }

    /// A flag AWS writes as a JSON boolean (`readOnly`) or as the string "true"/"false"
    /// (`sessionCredentialFromConsole`); both spellings are accepted for either.
    fn optional_flag(&self, field: &'static str) -> Result<Option<bool>, FieldProblem> {
        let Some(raw) = self.present() else {
            return Ok(None);
        };
        match raw.get() {
            "true" | "\"true\"" => Ok(Some(true)),
            "false" | "\"false\"" => Ok(Some(false)),
            _ => Err(FieldProblem::new(
                field,
                Reason::WrongType {
                    expected: "true or false",
                },
            )),
        }
    }
}

fn string<'a>(raw: &'a RawValue, field: &'static str) -> Result<Cow<'a, str>, FieldProblem> {
    let wrong_type = || {
        FieldProblem::new(
            field,
            Reason::WrongType {
                expected: "a string",
            },
        )
    };
    if !raw.get().starts_with('"') {
        return Err(wrong_type());
    }
    // Borrow when the string has no escapes; only escaped strings are copied.
    if let Ok(text) = serde_json::from_str::<&'a str>(raw.get()) {
        return Ok(Cow::Borrowed(text));
    }
    serde_json::from_str::<String>(raw.get())
        .map(Cow::Owned)
        .map_err(|_| wrong_type())
}

fn non_empty<'a>(
    value: Result<Option<Cow<'a, str>>, FieldProblem>,
    field: &'static str,
) -> Result<Option<Cow<'a, str>>, FieldProblem> {
    match value? {
        Some(text) if text.trim().is_empty() => Err(FieldProblem::invalid(field, "is empty")),
        other => Ok(other),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RecordFields<'a> {
    #[serde(borrow, rename = "eventVersion")]
    event_version: Slot<'a>,
    #[serde(borrow, rename = "eventTime")]
    event_time: Slot<'a>,
    #[serde(borrow, rename = "eventType")]
    event_type: Slot<'a>,
    #[serde(borrow, rename = "eventID")]
    event_id: Slot<'a>,
    #[serde(borrow, rename = "eventSource")]
    event_source: Slot<'a>,
    #[serde(borrow, rename = "eventName")]
    event_name: Slot<'a>,
    #[serde(borrow, rename = "awsRegion")]
    aws_region: Slot<'a>,
    #[serde(borrow, rename = "sourceIPAddress")]
    source_ip_address: Slot<'a>,
    #[serde(borrow, rename = "userIdentity")]
    user_identity: Slot<'a>,
    #[serde(borrow, rename = "requestID")]
    request_id: Slot<'a>,
    #[serde(borrow, rename = "recipientAccountId")]
    recipient_account_id: Slot<'a>,
    #[serde(borrow, rename = "readOnly")]
    read_only: Slot<'a>,
    #[serde(borrow, rename = "eventCategory")]
    event_category: Slot<'a>,
    #[serde(borrow, rename = "managementEvent")]
    management_event: Slot<'a>,
    #[serde(borrow)]
    resources: Slot<'a>,
    #[serde(borrow, rename = "sessionCredentialFromConsole")]
    session_credential_from_console: Slot<'a>,
    #[serde(borrow, rename = "errorCode")]
    error_code: Slot<'a>,
    #[serde(borrow, rename = "vpcEndpointId")]
    vpc_endpoint_id: Slot<'a>,
    #[serde(borrow, rename = "userAgent")]
    user_agent: Slot<'a>,
    #[serde(borrow, rename = "insightDetails")]
    insight_details: Slot<'a>,
    #[serde(borrow, rename = "eventData")]
    event_data: Slot<'a>,
    #[serde(borrow)]
    metadata: Slot<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdentityFields<'a> {
    #[serde(borrow, rename = "type")]
    identity_type: Slot<'a>,
    #[serde(borrow)]
    arn: Slot<'a>,
    #[serde(borrow, rename = "accountId")]
    account_id: Slot<'a>,
    #[serde(borrow, rename = "accessKeyId")]
    access_key_id: Slot<'a>,
    #[serde(borrow, rename = "userName")]
    user_name: Slot<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourceFields<'a> {
    #[serde(borrow, rename = "ARN")]
    arn: Slot<'a>,
    #[serde(borrow, rename = "ARNPrefix")]
    arn_prefix: Slot<'a>,
    #[serde(borrow, rename = "type")]
    resource_type: Slot<'a>,
    #[serde(borrow, rename = "accountId")]
    account_id: Slot<'a>,
}

/// The identity types AWS documents for `userIdentity.type`.
pub const IDENTITY_TYPES: [&str; 12] = [
    "Root",
    "IAMUser",
    "AssumedRole",
    "Role",
    "FederatedUser",
    "Directory",
    "AWSAccount",
    "AWSService",
    "IdentityCenterUser",
    "SAMLUser",
    "WebIdentityUser",
    "Unknown",
];

/// The minor eventVersion from which CloudTrail writes a field on every record that has it.
const EVENT_ID_SINCE: u8 = 1;
const REQUEST_ID_SINCE: u8 = 1;
const EVENT_TYPE_SINCE: u8 = 2;

fn since(minor: u8) -> Reason {
    Reason::Missing {
        required_since: match minor {
            0 => "1.0",
            1 => "1.01",
            _ => "1.02",
        },
    }
}

impl<'a> RecordFields<'a> {
    pub(super) fn decode(raw: &'a RawValue) -> Result<Self, FieldProblem> {
        let size = raw.get().len();
        if size > MAX_RECORD_BYTES {
            return Err(FieldProblem::new(
                "(record)",
                Reason::TooLarge {
                    bytes: size,
                    limit: MAX_RECORD_BYTES,
                },
            ));
        }
        if !raw.get().starts_with('{') {
            return Err(FieldProblem::new("(record)", Reason::NotAnObject));
        }
        serde_json::from_str(raw.get())
            .map_err(|e| FieldProblem::new("(record)", Reason::Malformed(e.to_string())))
    }

    /// The eventID if it is a usable string, to name the record in any later error.
    pub(super) fn readable_event_id(&self) -> Option<String> {
        self.event_id
            .optional_string("eventID")
            .ok()
            .flatten()
            .map(Cow::into_owned)
    }

    /// Checks every rule and reports all that fail. A version that can't be read is held to the
    /// newest version's rules, which require the most.
    pub(super) fn validate(self, raw: &'a RawValue) -> Result<Record<'a>, Vec<FieldProblem>> {
        if self.is_lake_event() {
            return self.validate_lake(raw);
        }
        let mut problems = Problems::default();

        let version = problems.take(
            require(self.event_version.string("eventVersion"), "eventVersion", 0).and_then(
                |text| {
                    EventVersion::parse(&text)
                        .map_err(|why| FieldProblem::invalid("eventVersion", why.to_string()))
                },
            ),
        );
        let minor = version.map_or(EventVersion::NEWEST_MINOR, EventVersion::minor);

        let event_time = problems.take(
            require(self.event_time.string("eventTime"), "eventTime", 0).and_then(|text| {
                EventTime::parse(&text)
                    .map_err(|why| FieldProblem::invalid("eventTime", why.to_string()))
            }),
        );

        let event_type = problems.take(match self.event_type.string("eventType") {
            Ok(Some(text)) => EventType::parse(&text).ok_or_else(|| {
                FieldProblem::invalid(
                    "eventType",
                    format!("\"{text}\" is not a CloudTrail event type"),
                )
            }),
            Ok(None) if minor < EVENT_TYPE_SINCE => Ok(EventType::AwsApiCall),
            Ok(None) => Err(FieldProblem::new("eventType", since(EVENT_TYPE_SINCE))),
            Err(problem) => Err(problem),
        });
        let is_insight = event_type == Some(EventType::AwsCloudTrailInsight);

        let event_id = problems
            .take(
                non_empty(self.event_id.string("eventID"), "eventID").and_then(|id| match id {
                    None if minor >= EVENT_ID_SINCE => {
                        Err(FieldProblem::new("eventID", since(EVENT_ID_SINCE)))
                    }
                    id => Ok(id),
                }),
            )
            .flatten();

        // Insights events describe unusual activity, not a call: no source, name, caller, IP or
        // request id.
        let required_unless_insight = |value: Result<Option<Cow<'a, str>>, FieldProblem>,
                                       field: &'static str| {
            non_empty(value, field).and_then(|value| match value {
                None if !is_insight => Err(FieldProblem::new(field, since(0))),
                value => Ok(value),
            })
        };
        let event_source = problems
            .take(required_unless_insight(
                self.event_source.string("eventSource"),
                "eventSource",
            ))
            .flatten();
        let event_name = problems
            .take(required_unless_insight(
                self.event_name.string("eventName"),
                "eventName",
            ))
            .flatten();

        let aws_region = problems
            .take(require(self.aws_region.string("awsRegion"), "awsRegion", 0).and_then(region));

        problems.take(required_unless_insight(
            self.source_ip_address.string("sourceIPAddress"),
            "sourceIPAddress",
        ));

        let user_identity = problems
            .take(match self.user_identity.value("userIdentity") {
                // AWS's own service events may name only the account and the invoking service.
                Ok(Some(raw)) => {
                    decode_identity(raw, event_type != Some(EventType::AwsServiceEvent)).map(Some)
                }
                Ok(None) if is_insight => Ok(None),
                Ok(None) => Err(FieldProblem::new("userIdentity", since(0))),
                Err(problem) => Err(problem),
            })
            .flatten();

        // Console sign-ins and service events carry no request id; API calls always do.
        problems.take(
            non_empty(self.request_id.string("requestID"), "requestID").and_then(|id| {
                let api_call = event_type == Some(EventType::AwsApiCall);
                if id.is_none() && api_call && minor >= REQUEST_ID_SINCE {
                    Err(FieldProblem::new("requestID", since(REQUEST_ID_SINCE)))
                } else {
                    Ok(id)
                }
            }),
        );

        let event_category = problems
            .take(
                match self.event_category.optional_string("eventCategory") {
                    Ok(Some(text)) => EventCategory::parse(&text).map(Some).ok_or_else(|| {
                        FieldProblem::invalid(
                            "eventCategory",
                            format!("\"{text}\" is not a CloudTrail event category"),
                        )
                    }),
                    other => other.map(|_| None),
                }
                .and_then(|category| {
                    let says_insight = category.map(|c| c == EventCategory::Insight);
                    if event_type.is_some() && says_insight.is_some_and(|says| says != is_insight) {
                        Err(FieldProblem::invalid(
                            "eventCategory",
                            "Insight goes with eventType AwsCloudTrailInsight and only with it",
                        ))
                    } else {
                        Ok(category)
                    }
                }),
            )
            .flatten();

        let (insight_type, insight_data_trail) = problems
            .take(match self.insight_details.value("insightDetails") {
                Ok(Some(raw)) => decode_insight(raw),
                Ok(None) if is_insight => Err(FieldProblem::new("insightDetails", since(0))),
                Ok(None) => Ok((None, None)),
                Err(problem) => Err(problem),
            })
            .unwrap_or_default();

        let recipient_account_id = problems
            .take(
                self.recipient_account_id
                    .optional_string("recipientAccountId"),
            )
            .flatten();
        let read_only = problems
            .take(self.read_only.optional_flag("readOnly"))
            .flatten();
        let management_event = problems
            .take(self.management_event.optional_flag("managementEvent"))
            .flatten();
        let resources = problems
            .take(decode_resources(self.resources.present()))
            .unwrap_or_default();
        let session_credential_from_console = problems
            .take(
                self.session_credential_from_console
                    .optional_flag("sessionCredentialFromConsole"),
            )
            .flatten();
        let error_code = problems
            .take(self.error_code.optional_string("errorCode"))
            .flatten();
        let vpc_endpoint_id = problems
            .take(self.vpc_endpoint_id.optional_string("vpcEndpointId"))
            .flatten();
        // Read for Insights' attributions only, so a userAgent that is not a string is left
        // unread rather than refused: records were accepted without looking at it before.
        let user_agent = self.user_agent.optional_string("userAgent").ok().flatten();

        match (version, event_time, event_type, aws_region) {
            (Some(version), Some(event_time), Some(event_type), Some(aws_region))
                if problems.0.is_empty() =>
            {
                Ok(Record {
                    raw,
                    version,
                    event_time,
                    event_type,
                    event_id,
                    event_source,
                    event_name,
                    aws_region,
                    recipient_account_id,
                    user_identity,
                    read_only,
                    event_category,
                    management_event,
                    resources,
                    session_credential_from_console,
                    error_code,
                    vpc_endpoint_id,
                    user_agent,
                    insight_type,
                    insight_data_trail,
                })
            }
            _ => Err(problems.0),
        }
    }
}

/// How the Lake-only rules name the records they apply to.
const LAKE_EVENTS: &str = "CloudTrail Lake integration events";

#[derive(Deserialize, Default)]
#[serde(default)]
struct LakeMetadataFields<'a> {
    #[serde(borrow, rename = "ingestionTime")]
    ingestion_time: Slot<'a>,
    #[serde(borrow, rename = "channelARN")]
    channel_arn: Slot<'a>,
}

impl<'a> RecordFields<'a> {
    /// A CloudTrail Lake integration event (PutAuditEvents) says so with either its eventType
    /// or its eventCategory; the Lake rules then require both.
    fn is_lake_event(&self) -> bool {
        let says = |slot: &Slot<'a>, field: &'static str, value: &str| {
            slot.optional_string(field)
                .ok()
                .flatten()
                .is_some_and(|text| text == value)
        };
        says(
            &self.event_type,
            "eventType",
            EventType::ActivityLog.as_str(),
        ) || says(
            &self.event_category,
            "eventCategory",
            EventCategory::ActivityAuditLog.as_str(),
        )
    }

    /// The record CloudTrail Lake stores for an event from outside AWS: the caller's event in
    /// `eventData`, wrapped in the fields CloudTrail adds at ingestion (see "CloudTrail Lake
    /// integrations event schema"). Who called, what and from where live inside eventData, so
    /// the record has no eventSource, eventName, userIdentity or requestID of its own.
    fn validate_lake(self, raw: &'a RawValue) -> Result<Record<'a>, Vec<FieldProblem>> {
        let mut problems = Problems::default();
        let required = |value: Result<Option<Cow<'a, str>>, FieldProblem>, field: &'static str| {
            non_empty(value, field)?
                .ok_or_else(|| FieldProblem::new(field, Reason::Required { by: LAKE_EVENTS }))
        };
        let version = problems.take(
            required(self.event_version.string("eventVersion"), "eventVersion").and_then(|text| {
                EventVersion::parse(&text)
                    .map_err(|why| FieldProblem::invalid("eventVersion", why.to_string()))
            }),
        );
        let event_time = problems.take(
            required(self.event_time.string("eventTime"), "eventTime").and_then(|text| {
                EventTime::parse(&text)
                    .map_err(|why| FieldProblem::invalid("eventTime", why.to_string()))
            }),
        );
        problems.take(
            required(self.event_type.string("eventType"), "eventType").and_then(|text| {
                if text == EventType::ActivityLog.as_str() {
                    Ok(())
                } else {
                    Err(FieldProblem::invalid(
                        "eventType",
                        format!(
                            "\"{text}\" does not go with eventCategory ActivityAuditLog, whose events are of eventType ActivityLog"
                        ),
                    ))
                }
            }),
        );
        problems.take(
            required(self.event_category.string("eventCategory"), "eventCategory").and_then(
                |text| {
                    if text == EventCategory::ActivityAuditLog.as_str() {
                        Ok(())
                    } else {
                        Err(FieldProblem::invalid(
                            "eventCategory",
                            format!(
                                "\"{text}\" does not go with eventType ActivityLog, whose events are of eventCategory ActivityAuditLog"
                            ),
                        ))
                    }
                },
            ),
        );
        let event_id = problems.take(required(self.event_id.string("eventID"), "eventID"));
        let aws_region = problems
            .take(required(self.aws_region.string("awsRegion"), "awsRegion").and_then(region));
        let recipient_account_id = problems.take(required(
            self.recipient_account_id.string("recipientAccountId"),
            "recipientAccountId",
        ));
        problems.take(match self.event_data.value("eventData") {
            Ok(Some(raw)) if raw.get().starts_with('{') => Ok(()),
            Ok(Some(_)) => Err(FieldProblem::new("eventData", Reason::NotAnObject)),
            Ok(None) => Err(FieldProblem::new(
                "eventData",
                Reason::Required { by: LAKE_EVENTS },
            )),
            Err(problem) => Err(problem),
        });
        problems.take(match self.metadata.value("metadata") {
            Ok(Some(raw)) => decode_lake_metadata(raw),
            Ok(None) => Err(FieldProblem::new(
                "metadata",
                Reason::Required { by: LAKE_EVENTS },
            )),
            Err(problem) => Err(problem),
        });

        match (version, event_time, aws_region) {
            (Some(version), Some(event_time), Some(aws_region)) if problems.0.is_empty() => {
                Ok(Record {
                    raw,
                    version,
                    event_time,
                    event_type: EventType::ActivityLog,
                    event_id,
                    event_source: None,
                    event_name: None,
                    aws_region,
                    recipient_account_id,
                    user_identity: None,
                    read_only: None,
                    event_category: Some(EventCategory::ActivityAuditLog),
                    management_event: None,
                    resources: Vec::new(),
                    session_credential_from_console: None,
                    error_code: None,
                    vpc_endpoint_id: None,
                    user_agent: None,
                    insight_type: None,
                    insight_data_trail: None,
                })
            }
            _ => Err(problems.0),
        }
    }
}

/// `metadata` of a Lake record: when CloudTrail took the event in, and through which channel.
fn decode_lake_metadata(raw: &RawValue) -> Result<(), FieldProblem> {
    if !raw.get().starts_with('{') {
        return Err(FieldProblem::new("metadata", Reason::NotAnObject));
    }
    let fields: LakeMetadataFields = serde_json::from_str(raw.get())
        .map_err(|e| FieldProblem::new("metadata", Reason::Malformed(e.to_string())))?;
    let ingestion_time = non_empty(
        fields.ingestion_time.string("metadata.ingestionTime"),
        "metadata.ingestionTime",
    )?
    .ok_or_else(|| {
        FieldProblem::new(
            "metadata.ingestionTime",
            Reason::Required { by: LAKE_EVENTS },
        )
    })?;
    EventTime::parse(&ingestion_time)
        .map_err(|why| FieldProblem::invalid("metadata.ingestionTime", why.to_string()))?;
    non_empty(
        fields.channel_arn.string("metadata.channelARN"),
        "metadata.channelARN",
    )?
    .ok_or_else(|| {
        FieldProblem::new("metadata.channelARN", Reason::Required { by: LAKE_EVENTS })
    })?;
    Ok(())
}

/// Collects every problem found while the checks go on.
#[derive(Default)]
struct Problems(Vec<FieldProblem>);

impl Problems {
    fn take<T>(&mut self, checked: Result<T, FieldProblem>) -> Option<T> {
        checked.map_err(|problem| self.0.push(problem)).ok()
    }
}

fn require<'a>(
    value: Result<Option<Cow<'a, str>>, FieldProblem>,
    field: &'static str,
    minor_since: u8,
) -> Result<Cow<'a, str>, FieldProblem> {
    non_empty(value, field)?.ok_or_else(|| FieldProblem::new(field, since(minor_since)))
}

fn region(region: Cow<'_, str>) -> Result<Cow<'_, str>, FieldProblem> {
    if is_region(&region) {
        Ok(region)
    } else {
        Err(FieldProblem::invalid(
            "awsRegion",
            format!("\"{region}\" is not a region name"),
        ))
    }
}

fn decode_identity(raw: &RawValue, type_required: bool) -> Result<UserIdentity<'_>, FieldProblem> {
    if !raw.get().starts_with('{') {
        return Err(FieldProblem::new("userIdentity", Reason::NotAnObject));
    }
    let fields: IdentityFields = serde_json::from_str(raw.get())
        .map_err(|e| FieldProblem::new("userIdentity", Reason::Malformed(e.to_string())))?;
    let identity_type = non_empty(
        fields.identity_type.string("userIdentity.type"),
        "userIdentity.type",
    )?;
    match &identity_type {
        None if type_required => return Err(FieldProblem::new("userIdentity.type", since(0))),
        Some(name) if !IDENTITY_TYPES.contains(&name.as_ref()) => {
            return Err(FieldProblem::invalid(
                "userIdentity.type",
                format!(
                    "\"{name}\" is not a CloudTrail identity type (one of {})",
                    IDENTITY_TYPES.join(", ")
                ),
            ));
        }
        _ => {}
    }
    Ok(UserIdentity {
        identity_type,
        arn: fields.arn.optional_string("userIdentity.arn")?,
        account_id: fields
            .account_id
            .optional_string("userIdentity.accountId")?,
        access_key_id: fields
            .access_key_id
            .optional_string("userIdentity.accessKeyId")?,
        user_name: fields.user_name.optional_string("userIdentity.userName")?,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InsightFields<'a> {
    #[serde(borrow, rename = "insightType")]
    insight_type: Slot<'a>,
    #[serde(borrow, rename = "sourceEventCategory")]
    source_event_category: Slot<'a>,
    #[serde(borrow, rename = "insightSource")]
    insight_source: Slot<'a>,
}

/// An Insights event's `insightType`, and for one on data events (`sourceEventCategory`
/// `Data`) the ARN of the trail whose data events it learned from (`insightSource`): the User
/// Guide's Insights events for data events ("Viewing Insights events for trails with the AWS
/// CLI") carry both; those on management events carry `Management` or, before data-event
/// Insights, no category at all.
type InsightFacts<'a> = (Option<Cow<'a, str>>, Option<Cow<'a, str>>);

fn decode_insight(raw: &RawValue) -> Result<InsightFacts<'_>, FieldProblem> {
    let fields: InsightFields = serde_json::from_str(raw.get()).map_err(|_| {
        FieldProblem::new(
            "insightDetails",
            Reason::WrongType {
                expected: "an object",
            },
        )
    })?;
    let insight_type = fields
        .insight_type
        .optional_string("insightDetails.insightType")?;
    let category = fields
        .source_event_category
        .optional_string("insightDetails.sourceEventCategory")?;
    let data_trail = match category.as_deref() {
        None | Some("Management") => None,
        Some("Data") => Some(
            fields
                .insight_source
                .optional_string("insightDetails.insightSource")?
                .ok_or_else(|| {
                    FieldProblem::new(
                        "insightDetails.insightSource",
                        Reason::Required {
                            by: "Insights events on data events",
                        },
                    )
                })?,
        ),
        Some(other) => {
            return Err(FieldProblem::new(
                "insightDetails.sourceEventCategory",
                Reason::Invalid(format!("{other:?} is neither Management nor Data")),
            ));
        }
    };
    Ok((insight_type, data_trail))
}

fn decode_resources(raw: Option<&RawValue>) -> Result<Vec<Resource<'_>>, FieldProblem> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let entries: Vec<ResourceFields> = serde_json::from_str(raw.get()).map_err(|_| {
        FieldProblem::new(
            "resources",
            Reason::WrongType {
                expected: "an array of objects",
            },
        )
    })?;
    entries
        .into_iter()
        .map(|entry| {
            Ok(Resource {
                arn: entry.arn.optional_string("resources.ARN")?,
                arn_prefix: entry.arn_prefix.optional_string("resources.ARNPrefix")?,
                resource_type: entry.resource_type.optional_string("resources.type")?,
                account_id: entry.account_id.optional_string("resources.accountId")?,
            })
        })
        .collect()
}
