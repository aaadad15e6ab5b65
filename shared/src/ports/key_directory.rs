//! Where a trail's digest signing keys are published for validators: CloudTrail's
//! `ListPublicKeys`, for trails AWS CloudTrail writes (Cairn's own publish to their registry).

use async_trait::async_trait;
use time::OffsetDateTime;

/// One key as `ListPublicKeys` gives it, not yet checked against its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryKey {
    /// The PKCS#1 DER of the RSA public key (the API's `Value`, base64 on the wire).
    pub der: Vec<u8>,
    pub validity_start: OffsetDateTime,
    pub validity_end: Option<OffsetDateTime>,
    pub fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
#[error("ListPublicKeys {context}")]
pub struct KeyDirectoryError {
    pub context: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// The public keys whose validity overlaps a range.
#[async_trait]
pub trait KeyDirectory: Send + Sync {
    /// Every key valid at some time in `[start, end]`, all pages.
    async fn list_public_keys(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<DirectoryKey>, KeyDirectoryError>;
}
