//! The shape the four services share: each is built once from its ports (a Lambda function
//! builds it at start-up, `cairn` once per command) and then handles one input at a time,
//! judged against the clock it is given, returning a report of what it did.
//!
//! | service | input | report |
//! |---|---|---|
//! | [`Ingestor`](crate::ingest::Ingestor) | one body's text | [`IngestReport`](crate::ingest::IngestReport) |
//! | [`Deliverer`](crate::delivery::Deliverer) | how long it may claim new batches | [`DeliveryReport`](crate::delivery::DeliveryReport) |
//! | [`Forwarder`](crate::forward::Forwarder) | an object S3 reports created | [`ForwardReport`](crate::forward::ForwardReport) |
//! | [`Notify`](crate::notify::Notify) | the objects of one invocation | [`NotifyReport`](crate::notify::NotifyReport) |
//!
//! The clock is an argument, never read inside, so replays (`cairn --now`) and tests fix it.

use std::future::Future;

use time::OffsetDateTime;

pub trait Service {
    type Input: ?Sized;
    type Report;
    type Error: std::error::Error + Send + Sync + 'static;

    /// Handles one input. Each service documents what makes a repeat of the same input safe.
    fn handle(
        &self,
        input: &Self::Input,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Self::Report, Self::Error>> + Send;
}
