//! Why an invocation failed, as a kind a Lambda error dashboard can count: each kind is the
//! `errorType` Lambda records for the invocation, read from the variant of the shared crate's
//! typed error (never from its message), so it stays the same when a message is reworded.

use std::error::Error;
use std::fmt;

use cairn_shared::config::ConfigError;
use cairn_shared::delivery::{DeliveryError, NoSuchShard};
use cairn_shared::digest::DigestError;
use cairn_shared::document::DocumentError;
use cairn_shared::forward::ForwardError;
use cairn_shared::forward::ProgressError;
use cairn_shared::ingest::IngestError;
use cairn_shared::ports::object_store::ObjectStoreError;
use cairn_shared::ports::signer::SignerError;
use cairn_shared::public_keys::PublicKeysError;
use cairn_shared::staging::StagingError;
use cairn_shared::trigger::TriggerError;
use lambda_runtime::Diagnostic;

/// A kind of failure; its name is the `errorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// cairn.yaml, or the function's environment, cannot be used.
    ConfigInvalid,
    /// The invocation's event is not one the function takes.
    BadEvent,
    /// The state bucket, where ingest stages events and the functions keep their journals,
    /// ledgers and markers, cannot be reached.
    StagingUnavailable,
    /// Another object-store call failed: network, permissions, a missing bucket.
    StoreUnavailable,
    /// An object the run needs is gone.
    ObjectMissing,
    /// A request no store can carry out (a key or metadata S3 refuses).
    StoreRequestInvalid,
    /// Another run changed the same object, or holds the same batch, at the same time.
    Contended,
    /// An object is not what Cairn writes there (a staging object, journal, ledger, progress
    /// marker, key registry, digest or log file).
    CorruptObject,
    /// A service kept throttling (or failing transiently) after the retries.
    Throttled,
    /// The signing key cannot sign a digest, or cannot be read.
    SigningFailed,
    /// CloudWatch Logs refused a batch of records.
    LogSinkFailed,
    /// An object was not notified (a publish or a state bucket read failed).
    NotifyFailed,
}

impl ErrorKind {
    pub fn error_type(self) -> &'static str {
        match self {
            Self::ConfigInvalid => "ConfigInvalid",
            Self::BadEvent => "BadEvent",
            Self::StagingUnavailable => "StagingUnavailable",
            Self::StoreUnavailable => "StoreUnavailable",
            Self::ObjectMissing => "ObjectMissing",
            Self::StoreRequestInvalid => "StoreRequestInvalid",
            Self::Contended => "Contended",
            Self::CorruptObject => "CorruptObject",
            Self::Throttled => "Throttled",
            Self::SigningFailed => "SigningFailed",
            Self::LogSinkFailed => "LogSinkFailed",
            Self::NotifyFailed => "NotifyFailed",
        }
    }
}

/// The error a function's invocation (or start-up) fails with: the cause, as it reads, and
/// its kind.
pub struct FunctionError {
    kind: ErrorKind,
    cause: Box<dyn Error + Send + Sync>,
}

impl FunctionError {
    pub fn new(kind: ErrorKind, cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            kind,
            cause: cause.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What Lambda records: the kind as `errorType`, the cause as `errorMessage`.
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic {
            error_type: self.kind.error_type().to_owned(),
            error_message: self.to_string(),
        }
    }
}

/// The shared crate's errors, each with the kind its variant means.
pub trait Classify: Error + Send + Sync + 'static {
    fn kind(&self) -> ErrorKind;
}

impl<E: Classify> From<E> for FunctionError {
    fn from(error: E) -> Self {
        Self::new(error.kind(), error)
    }
}

/// Reads as its cause: the kind travels apart, as the `errorType`.
impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cause.fmt(f)
    }
}

impl fmt::Debug for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.kind.error_type(), self.cause)
    }
}

impl Error for FunctionError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause.source()
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(error: FunctionError) -> Self {
        error.diagnostic()
    }
}

impl Classify for ConfigError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::ConfigInvalid
    }
}

impl Classify for crate::ShardsDisagree {
    fn kind(&self) -> ErrorKind {
        ErrorKind::ConfigInvalid
    }
}

/// The schedule names a shard cairn.yaml's `deliverShards` does not have: the template's
/// `DeliverShards` and the configuration disagree.
impl Classify for NoSuchShard {
    fn kind(&self) -> ErrorKind {
        ErrorKind::ConfigInvalid
    }
}

impl Classify for TriggerError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadEvent
    }
}

impl Classify for ObjectStoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } => ErrorKind::ObjectMissing,
            Self::PreconditionFailed { .. } => ErrorKind::Contended,
            Self::NoSuchBucket { .. } | Self::Backend { .. } => ErrorKind::StoreUnavailable,
            Self::InvalidRequest { .. } => ErrorKind::StoreRequestInvalid,
        }
    }
}

/// The kind of a failed call on the state bucket (the errors that wrap it say where it was).
fn in_state_bucket(error: &ObjectStoreError) -> ErrorKind {
    match error.kind() {
        ErrorKind::StoreUnavailable => ErrorKind::StagingUnavailable,
        other => other,
    }
}

impl Classify for StagingError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Corrupt { .. } => ErrorKind::CorruptObject,
            Self::Store(error) => in_state_bucket(error),
        }
    }
}

impl Classify for DocumentError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(error) => in_state_bucket(error),
            Self::Corrupt { .. } => ErrorKind::CorruptObject,
        }
    }
}

impl Classify for SignerError {
    fn kind(&self) -> ErrorKind {
        if self.is_retryable() {
            ErrorKind::Throttled
        } else {
            ErrorKind::SigningFailed
        }
    }
}

impl Classify for PublicKeysError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(error) => in_state_bucket(error),
            Self::Corrupt { .. } => ErrorKind::CorruptObject,
            Self::Contended { .. } => ErrorKind::Contended,
        }
    }
}

impl Classify for DigestError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Document(error) => error.kind(),
            Self::Store(error) => error.kind(),
            Self::Sign { source, .. } | Self::PublicKey(source) => source.kind(),
            Self::Publish(error) => error.kind(),
            // CAIRN_SIGNING_KEY is missing from the function's environment.
            Self::NoSigner { .. } | Self::NoSignerToClose { .. } => ErrorKind::ConfigInvalid,
            Self::ForeignDigest { .. } => ErrorKind::CorruptObject,
            Self::Contended => ErrorKind::Contended,
        }
    }
}

impl Classify for DeliveryError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(error) => error.kind(),
            Self::Staging(error) => error.kind(),
            Self::Document(error) => error.kind(),
            Self::Digest(error) => error.kind(),
            Self::CorruptSeen { .. } | Self::Irreproducible { .. } => ErrorKind::CorruptObject,
            Self::LeaseLost { .. } => ErrorKind::Contended,
        }
    }
}

impl Classify for IngestError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Body(_) => ErrorKind::BadEvent,
            Self::Staging(error) => error.kind(),
        }
    }
}

impl Classify for ProgressError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(error) => in_state_bucket(error),
            Self::Corrupt { .. } => ErrorKind::CorruptObject,
        }
    }
}

impl Classify for ForwardError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(error) => error.kind(),
            Self::Progress(error) => error.kind(),
            Self::Unreadable { .. } => ErrorKind::CorruptObject,
            Self::Sink { source, .. } if source.is_retryable() => ErrorKind::Throttled,
            Self::Sink { .. } => ErrorKind::LogSinkFailed,
        }
    }
}

#[cfg(test)]
mod tests;
