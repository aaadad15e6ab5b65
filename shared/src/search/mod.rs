//! Searching a trail's delivered log files: what `cairn lookup-events --trail` reads instead of
//! the 90-day history, so any time range, every account and Region the trail delivers, and
//! data, network-activity and Insights events can be searched.
//!
//! Log files sit in day folders named by their delivery time
//! (`[prefix/]AWSLogs/[o-org/]{account}/CloudTrail/{region}/YYYY/MM/DD/`, Insights files under
//! `CloudTrail-Insight/`), and a file holds events from shortly before its delivery. So a search
//! of `[start, end]` lists the day folders from start's day to the day after end's (a file
//! delivered after midnight can hold events of the day before), and no other; each record is
//! then checked against the range itself.

use crate::gzip::{GunzipError, read_one_member_text};
use crate::history::Criteria;
use crate::layout::{LOG_FILE_KIND, trail_root};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::record::{BatchError, Record, split_batch};

/// The folder of Insights files under an account, beside `CloudTrail/` (CloudTrail's layout:
/// `…/{account}/CloudTrail-Insight/{region}/YYYY/MM/DD/`).
pub const INSIGHT_KIND: &str = "CloudTrail-Insight";

/// The largest log file body a search decompresses (CloudTrail's files hold at most a few MB).
const MAX_LOG_FILE_BYTES: usize = 1 << 30;

const SECONDS_PER_DAY: i64 = 86_400;

/// Where a trail's files are, and which of them a search reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailFiles {
    /// The trail's bucket.
    pub bucket: String,
    /// `[prefix/]AWSLogs/[o-org/]`.
    pub root: String,
    /// `CloudTrail` for log files, [`INSIGHT_KIND`] for Insights files.
    pub kind: &'static str,
}

impl TrailFiles {
    pub fn new(
        bucket: &str,
        prefix: Option<&str>,
        organization_id: Option<&str>,
        insight: bool,
    ) -> Self {
        TrailFiles {
            bucket: bucket.to_owned(),
            root: trail_root(prefix, organization_id),
            kind: if insight { INSIGHT_KIND } else { LOG_FILE_KIND },
        }
    }

    /// Every log file key of the day folders a search of `[start, end]` (epoch seconds) reads,
    /// for every account and Region under the trail's root, in key order.
    pub async fn keys(
        &self,
        store: &dyn ObjectStore,
        start: i64,
        end: i64,
    ) -> Result<Vec<String>, ObjectStoreError> {
        let mut keys = Vec::new();
        for account in store.list_folders(&self.bucket, &self.root).await? {
            let kind_folder = format!("{account}{}/", self.kind);
            for region in store.list_folders(&self.bucket, &kind_folder).await? {
                let mut day = start.div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY;
                while day <= end + SECONDS_PER_DAY {
                    let date = time::OffsetDateTime::from_unix_timestamp(day)
                        .map_err(|error| ObjectStoreError::InvalidRequest {
                            bucket: self.bucket.clone(),
                            key: region.clone(),
                            reason: error.to_string(),
                        })?
                        .date();
                    let folder = format!(
                        "{region}{:04}/{:02}/{:02}/",
                        date.year(),
                        u8::from(date.month()),
                        date.day()
                    );
                    keys.extend(
                        store
                            .list_all(&self.bucket, &folder)
                            .await?
                            .into_iter()
                            .map(|entry| entry.key)
                            .filter(|key| key.ends_with(".json.gz")),
                    );
                    day += SECONDS_PER_DAY;
                }
            }
        }
        Ok(keys)
    }
}

/// A log file a search could not read.
#[derive(Debug, thiserror::Error)]
pub enum UnreadableLogFile {
    #[error(transparent)]
    Gunzip(#[from] GunzipError),
    #[error("not a CloudTrail log file: {0}")]
    NotRecords(#[from] BatchError),
}

/// The records of one log file's body (gzip of `{"Records":[…]}`) that are in `[start, end]`
/// (epoch seconds) and meet `criteria`, each as its JSON text, in the file's order. A record
/// Cairn cannot read as CloudTrail's is not one to find.
pub fn matching_records(
    body: &[u8],
    criteria: &Criteria,
    start: i64,
    end: i64,
) -> Result<Vec<String>, UnreadableLogFile> {
    let text = read_one_member_text(body, MAX_LOG_FILE_BYTES)?;
    let mut found = Vec::new();
    for raw in split_batch(&text)? {
        let Ok(record) = Record::parse(raw, None) else {
            continue;
        };
        let time = record.event_time().unix_seconds();
        if time >= start && time <= end && criteria.matches(&record, raw.get()) {
            found.push(raw.get().to_owned());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
