//! A body's top-level keys, read once: the body kinds are told apart by them, and each kind's
//! reader ([`super::body`], [`super::lake`]) takes its members from them.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{BodyError, BodyKind, quoted};
use crate::json_key::JsonKey;

/// The top-level keys bodies are told apart by, each as raw JSON. Other keys are only named,
/// for the error when no kind fits.
#[derive(Default)]
pub(super) struct TopLevel<'a> {
    pub(super) records: Option<&'a RawValue>,
    pub(super) audit_events: Option<&'a RawValue>,
    pub(super) channel_arn: Option<&'a RawValue>,
    pub(super) external_id: Option<&'a RawValue>,
    pub(super) version: Option<&'a RawValue>,
    pub(super) id: Option<&'a RawValue>,
    pub(super) detail_type: Option<&'a RawValue>,
    pub(super) source: Option<&'a RawValue>,
    pub(super) detail: Option<&'a RawValue>,
    /// The first unknown keys, and how many there are in all.
    other_keys: Vec<String>,
    other_key_count: usize,
}

/// How many of the unknown keys an error names.
const KEYS_NAMED: usize = 10;

impl TopLevel<'_> {
    pub(super) fn kind(&self) -> Result<BodyKind, BodyError> {
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
        while let Some(JsonKey(key)) = map.next_key()? {
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
