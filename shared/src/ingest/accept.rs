//! ingest end to end: a body in, its events validated, routed and staged, and the answer out.

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::Config;
use crate::ports::object_store::ObjectStore;
use crate::record::Record;
use crate::staging::{self, StagedEvent, StagingError};

use super::{BodyError, BodyKind, LakeContext, error_codes, read_body};

/// ingest's answer, in PutAuditEvents' shape whatever the body: per event, its caller's id and
/// either its eventID or why it was refused.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct IngestAnswer {
    pub successful: Vec<Accepted>,
    pub failed: Vec<Failed>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Accepted {
    pub id: String,
    /// The record's eventID; for an eventVersion 1.0 record, which has none, the `sha256:` key
    /// Cairn knows it by.
    #[serde(rename = "eventID")]
    pub event_id: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Failed {
    pub id: String,
    pub error_code: &'static str,
    pub error_message: String,
}

/// What one call did.
#[derive(Debug)]
pub struct Ingested {
    pub answer: IngestAnswer,
    /// The staging object written, when any event needed delivering.
    pub staged: Option<String>,
    /// Accepted events that a trail or the event history takes (the others are valid but
    /// nobody asked for them, as CloudTrail drops events no trail selects).
    pub staged_events: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Body(#[from] BodyError),
    /// Nothing was staged, so nothing is accepted: the caller must retry the whole body.
    #[error("the events could not be staged: {0}")]
    Staging(#[from] StagingError),
}

/// Reads `body`, validates each event, routes the good ones and stages them in one object, and
/// answers only after that write: an answer of success means the events are durable.
///
/// Safe to repeat: a retried body is staged again under a new key, and deliver drops the
/// copies by eventID.
pub async fn ingest(
    config: &Config,
    store: &dyn ObjectStore,
    body: &str,
    lake: &LakeContext<'_>,
    now: OffsetDateTime,
) -> Result<Ingested, IngestError> {
    let body = read_body(body, lake)?;
    let mut answer = IngestAnswer::default();
    let mut records = Vec::with_capacity(body.events.len());
    for submitted in &body.events {
        let id = submitted.id.to_string();
        let raw = match &submitted.event {
            Ok(raw) => raw,
            Err(refusal) => {
                answer.failed.push(Failed {
                    id,
                    error_code: refusal.error_code,
                    error_message: refusal.error_message.clone(),
                });
                continue;
            }
        };
        // A batch's records are named by their position, as the answer's ids are.
        let index = match body.kind {
            BodyKind::Records => id.parse().ok(),
            BodyKind::EventBridge | BodyKind::AuditEvents => None,
        };
        match Record::parse(raw, index) {
            Ok(record) => records.push((id, record)),
            Err(error) => answer.failed.push(Failed {
                id,
                error_code: error_codes::INVALID_DATA,
                error_message: error.to_string(),
            }),
        }
    }
    let staged_events: Vec<StagedEvent> = records
        .iter()
        .filter_map(|(_, record)| StagedEvent::route(config, record))
        .collect();
    let staged = staging::stage(store, &config.state_bucket, &staged_events, now).await?;
    answer.successful = records
        .iter()
        .map(|(id, record)| Accepted {
            id: id.clone(),
            event_id: staging::dedup_key(record).into_owned(),
        })
        .collect();
    Ok(Ingested {
        answer,
        staged,
        staged_events: staged_events.len(),
    })
}
