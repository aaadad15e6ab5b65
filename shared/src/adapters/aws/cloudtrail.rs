//! The key directory over CloudTrail's `ListPublicKeys`, as aws-cli's validate-logs reads it.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::error::DisplayErrorContext;
use aws_sdk_cloudtrail::primitives::DateTime;
use time::OffsetDateTime;

use crate::ports::key_directory::{DirectoryKey, KeyDirectory, KeyDirectoryError};

/// CloudTrail's published digest keys, in the configured Region (a trail's keys are listed in
/// its home Region).
#[derive(Debug, Clone)]
pub struct CloudTrailKeys {
    client: Client,
}

impl CloudTrailKeys {
    pub fn new(config: &SdkConfig) -> Self {
        Self::from_client(Client::from_conf(logging_retries!(
            aws_sdk_cloudtrail::config::Builder::from(config)
        )))
    }

    /// The directory over an already configured client.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl KeyDirectory for CloudTrailKeys {
    async fn list_public_keys(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<DirectoryKey>, KeyDirectoryError> {
        let failure = |context: String, source: Box<dyn std::error::Error + Send + Sync>| {
            KeyDirectoryError { context, source }
        };
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let answer = self
                .client
                .list_public_keys()
                .start_time(DateTime::from_secs(start.unix_timestamp()))
                .end_time(DateTime::from_secs(end.unix_timestamp()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|error| {
                    failure(
                        format!(
                            "from {start} to {end} failed: {}",
                            DisplayErrorContext(&error)
                        ),
                        Box::new(error),
                    )
                })?;
            for key in answer.public_key_list() {
                let time = |at: Option<&DateTime>| {
                    at.and_then(|at| OffsetDateTime::from_unix_timestamp(at.secs()).ok())
                };
                let (Some(value), Some(validity_start), Some(fingerprint)) = (
                    key.value(),
                    time(key.validity_start_time()),
                    key.fingerprint(),
                ) else {
                    return Err(failure(
                        "answered a key without Value, ValidityStartTime or Fingerprint".into(),
                        format!("{key:?}").into(),
                    ));
                };
                keys.push(DirectoryKey {
                    der: value.as_ref().to_vec(),
                    validity_start,
                    validity_end: time(key.validity_end_time()),
                    fingerprint: fingerprint.to_owned(),
                });
            }
            match answer.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(keys),
            }
        }
    }
}
