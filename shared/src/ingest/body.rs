//! Telling the three bodies apart by their top-level keys, and reading the first two kinds.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{
    Body, BodyError, BodyKind, LakeContext, Submitted, json_kind, json_text, lake, quoted,
};
use crate::record::split_batch;

/// The `detail-type` values CloudTrail sends to EventBridge (EventBridge User Guide, "AWS
/// service events delivered via AWS CloudTrail"). Console sign-ins are documented as
/// "AWS Console Signin via CloudTrail" but arrive as "AWS Console Sign In via CloudTrail", the
/// spelling rules match on; both are taken.
pub const CLOUDTRAIL_DETAIL_TYPES: [&str; 7] = [
    "AWS API Call via CloudTrail",
    "AWS Console Sign In via CloudTrail",
    "AWS Console Signin via CloudTrail",
    "AWS Console Action via CloudTrail",
    "AWS Service Event via CloudTrail",
    "AWS Insight via CloudTrail",
    "AWS Network Activity Event via CloudTrail",
];

/// Reads a body into the events it submits. `lake` supplies what CloudTrail Lake adds to
/// PutAuditEvents events; the other kinds don't use it.
pub fn read_body<'a>(text: &'a str, lake: &LakeContext) -> Result<Body<'a>, BodyError> {
    let top: TopLevel<'a> = serde_json::from_str(text).map_err(BodyError::Json)?;
    match top.kind()? {
        BodyKind::Records => Ok(Body {
            kind: BodyKind::Records,
            events: records(text)?,
        }),
        BodyKind::EventBridge => Ok(Body {
            kind: BodyKind::EventBridge,
            events: vec![eventbridge(&top)?],
        }),
        BodyKind::AuditEvents => {
            if text.len() > lake::MAX_AUDIT_EVENTS_BODY_BYTES {
                return Err(BodyError::TooLarge {
                    bytes: text.len(),
                    limit: lake::MAX_AUDIT_EVENTS_BODY_BYTES,
                });
            }
            Ok(Body {
                kind: BodyKind::AuditEvents,
                events: lake::audit_events(&top, lake)?,
            })
        }
    }
}

/// The top-level keys bodies are told apart by, each as raw JSON. Other keys are only named,
/// for the error when no kind fits.
#[derive(Default)]
pub(super) struct TopLevel<'a> {
    pub(super) records: Option<&'a RawValue>,
    pub(super) audit_events: Option<&'a RawValue>,
    pub(super) channel_arn: Option<&'a RawValue>,
    pub(super) external_id: Option<&'a RawValue>,
    version: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    detail_type: Option<&'a RawValue>,
    source: Option<&'a RawValue>,
    detail: Option<&'a RawValue>,
    /// The first unknown keys, and how many there are in all.
    other_keys: Vec<String>,
    other_key_count: usize,
}

/// How many of the unknown keys an error names.
const KEYS_NAMED: usize = 10;

impl TopLevel<'_> {
    fn kind(&self) -> Result<BodyKind, BodyError> {
        let found: Vec<(BodyKind, &str)> = [
            (self.records.is_some(), BodyKind::Records, "Records"),
            (
                self.audit_events.is_some(),
                BodyKind::AuditEvents,
                "auditEvents",
            ),
            (
                self.detail_type.is_some() || self.detail.is_some(),
                BodyKind::EventBridge,
                "an EventBridge detail",
            ),
        ]
        .into_iter()
        .filter(|(present, _, _)| *present)
        .map(|(_, kind, name)| (kind, name))
        .collect();
        match found.as_slice() {
            [(kind, _)] => Ok(*kind),
            [] => {
                let known: Vec<&str> = [
                    (self.channel_arn, "channelArn"),
                    (self.external_id, "externalId"),
                    (self.version, "version"),
                    (self.id, "id"),
                    (self.source, "source"),
                ]
                .into_iter()
                .filter(|(raw, _)| raw.is_some())
                .map(|(_, key)| key)
                .collect();
                let total = known.len() + self.other_key_count;
                let found = if total == 0 {
                    "it is an empty object".to_owned()
                } else {
                    let keys: Vec<String> = known
                        .into_iter()
                        .chain(self.other_keys.iter().map(String::as_str))
                        .take(KEYS_NAMED)
                        .map(quoted)
                        .collect();
                    let more = total - keys.len();
                    let more = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    format!("its keys are {}{more}", keys.join(", "))
                };
                Err(BodyError::Invalid(format!(
                    "the body is none of the kinds ingest takes (a {{\"Records\":[…]}} batch, an EventBridge event whose detail is a CloudTrail record, or a PutAuditEvents {{\"auditEvents\":[…]}} request): {found}"
                )))
            }
            several => {
                let names: Vec<&str> = several.iter().map(|(_, name)| *name).collect();
                Err(BodyError::Invalid(format!(
                    "the body mixes {}; send each kind in a body of its own",
                    names.join(" and ")
                )))
            }
        }
    }
}

/// A `{"Records":[…]}` batch: each record is submitted as it is, named by its index.
fn records(text: &str) -> Result<Vec<Submitted<'_>>, BodyError> {
    Ok(split_batch(text)?
        .into_iter()
        .enumerate()
        .map(|(index, raw)| Submitted {
            id: Cow::Owned(index.to_string()),
            event: Ok(Cow::Borrowed(raw)),
        })
        .collect())
}

/// An EventBridge event from CloudTrail: `{"version":"0","id":…,"detail-type":…,
/// "source":"aws.…","account":…,"time":…,"region":…,"resources":[…],"detail":{…}}`. Its
/// detail is the CloudTrail record, submitted verbatim under the event's id.
fn eventbridge<'a>(top: &TopLevel<'a>) -> Result<Submitted<'a>, BodyError> {
    let invalid = |why: String| Err(BodyError::Invalid(why));
    let known = || CLOUDTRAIL_DETAIL_TYPES.join(", ");
    let detail_type = match top.detail_type {
        None => {
            return invalid(format!(
                "an EventBridge event needs a detail-type, one CloudTrail sends ({})",
                known()
            ));
        }
        Some(raw) => match json_text(raw) {
            Some(text) => text,
            None => {
                return invalid(format!(
                    "the EventBridge detail-type must be a string, not {}",
                    json_kind(raw)
                ));
            }
        },
    };
    if !CLOUDTRAIL_DETAIL_TYPES.contains(&detail_type.as_ref()) {
        return invalid(format!(
            "EventBridge detail-type {} is not one CloudTrail sends ({})",
            quoted(&detail_type),
            known()
        ));
    }
    let detail = match top.detail {
        None => {
            return invalid(format!(
                "the EventBridge event ({detail_type}) has no detail, the CloudTrail record"
            ));
        }
        Some(raw) if raw.get().starts_with('{') => raw,
        Some(raw) => {
            return invalid(format!(
                "the EventBridge detail must be a JSON object, the CloudTrail record, not {}",
                json_kind(raw)
            ));
        }
    };
    if let Some(raw) = top.version
        && raw.get() != "\"0\""
    {
        return invalid(format!(
            "EventBridge event version {} is not \"0\"",
            raw.get().chars().take(64).collect::<String>()
        ));
    }
    let id = match top.id.map(|raw| (raw, json_text(raw))) {
        Some((_, Some(id))) if !id.trim().is_empty() => id,
        Some((raw, None)) => {
            return invalid(format!(
                "the EventBridge event id must be a string, not {}",
                json_kind(raw)
            ));
        }
        _ => return invalid("the EventBridge event has no id".to_owned()),
    };
    match top.source.map(json_text) {
        Some(Some(source)) if source.starts_with("aws.") => {}
        Some(Some(source)) => {
            return invalid(format!(
                "EventBridge source {} is not an AWS service's (aws.…), as CloudTrail's events are",
                quoted(&source)
            ));
        }
        Some(None) => return invalid("the EventBridge source must be a string".to_owned()),
        None => return invalid("the EventBridge event has no source".to_owned()),
    }
    Ok(Submitted {
        id,
        event: Ok(Cow::Borrowed(detail)),
    })
}

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a JSON object: a {\"Records\":[…]} batch, an EventBridge event or a PutAuditEvents request",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut top = TopLevel::default();
        while let Some(Key(key)) = map.next_key()? {
            let slot = match key.as_ref() {
                "Records" => &mut top.records,
                "auditEvents" => &mut top.audit_events,
                "channelArn" => &mut top.channel_arn,
                "externalId" => &mut top.external_id,
                "version" => &mut top.version,
                "id" => &mut top.id,
                "detail-type" => &mut top.detail_type,
                "source" => &mut top.source,
                "detail" => &mut top.detail,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    top.other_key_count += 1;
                    if top.other_keys.len() < KEYS_NAMED {
                        top.other_keys.push(key.into_owned());
                    }
                    continue;
                }
            };
            if slot.is_some() {
                return Err(de::Error::custom(format_args!(
                    "the key `{key}` appears twice"
                )));
            }
            *slot = Some(map.next_value()?);
        }
        Ok(top)
    }
}

/// An object key, borrowed from the body unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}
