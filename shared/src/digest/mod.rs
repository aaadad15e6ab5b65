//! Digest files: CloudTrail's signed, hourly, chained record of the log files delivered.

pub mod format;
pub mod ledger;
pub mod writer;
