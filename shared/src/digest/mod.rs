//! Digest files: CloudTrail's signed, hourly, chained record of the log files delivered.

pub(crate) mod format;
pub(crate) mod ledger;
pub(crate) mod writer;

pub use format::{
    DigestFile, GZIP_LEVEL, LogFileEntry, SIGNATURE_METADATA, sha256_hex, signing_string,
};
pub use ledger::{Ledger, period_end};
pub use writer::DigestError;
