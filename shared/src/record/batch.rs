//! The `{"Records":[…]}` body CloudTrail log files and producers' batches share.

use serde::Deserialize;
use serde_json::value::RawValue;

/// A body that is not a `{"Records":[…]}` object, with serde_json's line and column.
#[derive(Debug, thiserror::Error)]
#[error("not a {{\"Records\":[…]}} batch: {source}")]
pub struct BatchError {
    #[from]
    source: serde_json::Error,
}

impl BatchError {
    pub fn line(&self) -> usize {
        self.source.line()
    }

    pub fn column(&self) -> usize {
        self.source.column()
    }
}

#[derive(Deserialize)]
struct Batch<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<&'a RawValue>,
}

/// Splits a batch into its records' raw JSON without decoding them, so one bad record can be
/// refused on its own while the rest go on.
pub fn split_batch(body: &str) -> Result<Vec<&RawValue>, BatchError> {
    Ok(serde_json::from_str::<Batch>(body)?.records)
}
