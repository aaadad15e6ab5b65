//! ingest as a service: the configuration, the store, and where PutAuditEvents events arrive.

use time::OffsetDateTime;

use crate::config::Config;
use crate::ports::object_store::ObjectStore;
use crate::record::EventTime;
use crate::service::Service;

use super::{IngestError, IngestReport, LakeContext, ingest};

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
}

impl Service for Ingestor<'_> {
    /// One body's text (see [`read_body`](super::read_body) for the shapes taken).
    type Input = str;
    type Report = IngestReport;
    type Error = IngestError;

    /// Validates, routes and stages the body's events; `now` is PutAuditEvents'
    /// `ingestionTime` and names the staging object. Safe to repeat: see [`ingest`].
    async fn handle(&self, body: &str, now: OffsetDateTime) -> Result<IngestReport, IngestError> {
        let lake = LakeContext {
            region: self.region,
            channel_arn: self.channel_arn,
            ingestion_time: EventTime::from_unix_seconds(now.unix_timestamp()),
        };
        ingest(self.config, self.store, body, &lake, now).await
    }
}
