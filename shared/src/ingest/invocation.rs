//! The ingest function's invocations: a body sent directly, or through a Function URL.

use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::config::Config;
use crate::ports::object_store::ObjectStore;
use crate::record::EventTime;

use super::{
    IngestError, LakeContext, function_url_body, function_url_error_response,
    function_url_response, ingest,
};

/// ingest as deployed: the configuration, the store and where PutAuditEvents events arrive.
pub struct Ingestor<'a> {
    pub config: &'a Config,
    pub store: &'a dyn ObjectStore,
    /// The function's Region: the awsRegion of PutAuditEvents events.
    pub region: &'a str,
    /// The channel PutAuditEvents events arrive through.
    pub channel_arn: &'a str,
}

impl Ingestor<'_> {
    /// Answers one invocation. A direct invocation gets the answer JSON, or an error for a body
    /// that cannot be read (the caller sees it as the function error). A Function URL request
    /// gets an HTTP response either way: 200 with the answer, 400/405/413 naming what is wrong
    /// with the body, 503 when staging failed and the whole body should be sent again.
    pub async fn invoke(
        &self,
        payload: &RawValue,
        now: OffsetDateTime,
    ) -> Result<Box<RawValue>, IngestError> {
        let lake = LakeContext {
            region: self.region,
            channel_arn: self.channel_arn,
            ingestion_time: EventTime::from_unix_seconds(now.unix_timestamp()),
        };
        let Some(request) = function_url_body(payload) else {
            let done = ingest(self.config, self.store, payload.get(), &lake, now).await?;
            return Ok(to_json(&done.answer));
        };
        let response = match request {
            Err(error) => function_url_error_response(&error),
            Ok(body) => match ingest(self.config, self.store, &body, &lake, now).await {
                Ok(done) => function_url_response(200, &done.answer),
                Err(IngestError::Body(error)) => function_url_error_response(&error),
                Err(error @ IngestError::Staging(_)) => {
                    tracing::error!(%error, "staging failed");
                    function_url_response(503, &serde_json::json!({"message": error.to_string()}))
                }
            },
        };
        Ok(response.expect("a response of strings and numbers always serializes"))
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("an answer of strings always serializes")
}
