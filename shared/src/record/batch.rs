//! The `{"Records":[…]}` body CloudTrail log files and producers' batches share.

use serde::Deserialize;
use serde_json::value::RawValue;

/// A body that is not a `{"Records":[…]}` object, with serde_json's line and column. The JSON
/// error is part of the message rather than a `source`, so the position shows however the error
/// is printed.
#[derive(Debug, thiserror::Error)]
#[error("not a {{\"Records\":[…]}} batch: {0}")]
pub struct BatchError(serde_json::Error);

impl BatchError {
    pub fn line(&self) -> usize {
        self.0.line()
    }

    pub fn column(&self) -> usize {
        self.0.column()
    }
}

#[derive(Deserialize)]
struct RecordsBody<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<&'a RawValue>,
}

/// Splits a batch into its records' raw JSON without decoding them, so one bad record can be
/// refused on its own while the rest go on.
pub fn split_batch(body: &str) -> Result<Vec<&RawValue>, BatchError> {
    serde_json::from_str::<RecordsBody>(body)
        .map(|batch| batch.records)
        .map_err(BatchError)
}
