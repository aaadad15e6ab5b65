//! Telling the three bodies apart by their top-level keys, and reading the first two kinds.

use std::borrow::Cow;

use super::top_level::TopLevel;
use super::{
    Body, BodyError, BodyKind, LakeContext, Submitted, json_kind, json_text, lake, quoted,
};
use crate::record::{compact, split_batch};

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
    // RFC 8259 section 8.1: a reader may ignore a byte-order mark, which some clients send.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
                    limit_of: "PutAuditEvents'",
                });
            }
            Ok(Body {
                kind: BodyKind::AuditEvents,
                events: lake::audit_events(&top, lake)?,
            })
        }
    }
}

/// A `{"Records":[…]}` batch: each record is submitted compact, named by its index.
fn records(text: &str) -> Result<Vec<Submitted<'_>>, BodyError> {
    Ok(split_batch(text)?
        .into_iter()
        .enumerate()
        .map(|(index, raw)| Submitted {
            id: Cow::Owned(index.to_string()),
            event: Ok(compact(raw)),
        })
        .collect())
}

/// An EventBridge event from CloudTrail: `{"version":"0","id":…,"detail-type":…,
/// "source":"aws.…","account":…,"time":…,"region":…,"resources":[…],"detail":{…}}`. Its
/// detail is the CloudTrail record, submitted compact under the event's id.
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
        event: Ok(compact(detail)),
    })
}
