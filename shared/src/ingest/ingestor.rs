//! ingest as a service: the configuration, the store, and where PutAuditEvents events arrive.

use time::OffsetDateTime;

use crate::config::Config;
use crate::ports::object_store::ObjectStore;
use crate::record::EventTime;
use crate::service::Service;

use super::queue::{QueueReport, QueuedMessage, ingest_messages};
use super::{IngestError, IngestReport, LakeContext, ingest};
use crate::staging::StagingError;

/// ingest, built once per process.
pub struct Ingestor<'a> {
    config: &'a Config,
    store: &'a dyn ObjectStore,
    /// The function's Region: the awsRegion of PutAuditEvents events.
    region: &'a str,
    /// The channel PutAuditEvents events arrive through.
    channel_arn: &'a str,
}

impl<'a> Ingestor<'a> {
    pub fn new(
        config: &'a Config,
        store: &'a dyn ObjectStore,
        region: &'a str,
        channel_arn: &'a str,
    ) -> Self {
        Self {
            config,
            store,
            region,
            channel_arn,
        }
    }

    /// What CloudTrail Lake adds to PutAuditEvents events arriving at `now`.
    fn lake(&self, now: OffsetDateTime) -> LakeContext<'a> {
        LakeContext {
            region: self.region,
            channel_arn: self.channel_arn,
            ingestion_time: EventTime::from_unix_seconds(now.unix_timestamp()),
        }
    }

    /// Validates the messages of one queue batch, each a body, and stages the events of every
    /// message accepted whole in one object; `now` names it. Safe to repeat: see
    /// [`QueueReport`]'s producer, `ingest_messages`.
    pub async fn handle_messages(
        &self,
        messages: &[QueuedMessage<'_>],
        now: OffsetDateTime,
    ) -> Result<QueueReport, StagingError> {
        ingest_messages(self.config, self.store, messages, &self.lake(now), now).await
    }
}

impl Service for Ingestor<'_> {
    /// One body's text (see [`read_body`](super::read_body) for the shapes taken).
    type Input = str;
    type Report = IngestReport;
    type Error = IngestError;

    /// Validates, routes and stages the body's events; `now` is PutAuditEvents'
    /// `ingestionTime` and names the staging object. Safe to repeat: see [`ingest`].
    async fn handle(&self, body: &str, now: OffsetDateTime) -> Result<IngestReport, IngestError> {
        ingest(self.config, self.store, body, &self.lake(now), now).await
    }
}
