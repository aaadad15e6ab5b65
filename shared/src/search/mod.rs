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

use std::sync::Arc;

use futures::{Stream, StreamExt};

use crate::gzip::{GunzipError, read_one_member_text};
use crate::history::Criteria;
use crate::layout::{LOG_FILE_KIND, trail_root};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::record::{BatchError, Record, split_batch};

/// The folder of Insights files under an account, beside `CloudTrail/` (CloudTrail's layout:
/// `…/{account}/CloudTrail-Insight/{region}/YYYY/MM/DD/`).
pub const INSIGHT_KIND: &str = "CloudTrail-Insight";

/// How many log files a search has in flight: fetched, or being decompressed and matched on
/// the blocking pool (which spreads them over the cores).
pub const READ_CONCURRENCY: usize = 16;

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
    /// The folders under each account to read: `CloudTrail`, and for Insights events also
    /// [`INSIGHT_KIND`] (CloudTrail files them there; Cairn's deliver, with the others).
    pub kinds: &'static [&'static str],
}

/// The day folders a search reads, as `YYYY/MM/DD` (which order as the days do).
struct DayRange {
    first: String,
    last: String,
}

impl DayRange {
    /// From `start`'s day to the day after `end`'s: a file delivered after midnight can hold
    /// events of the day before.
    fn new(start: i64, end: i64) -> Self {
        let folder = |seconds: i64| {
            time::OffsetDateTime::from_unix_timestamp(seconds)
                .map(|time| {
                    let date = time.date();
                    format!(
                        "{:04}/{:02}/{:02}",
                        date.year(),
                        u8::from(date.month()),
                        date.day()
                    )
                })
                .unwrap_or_else(|_| "9999/99/99".to_owned())
        };
        DayRange {
            first: folder(start),
            last: folder(end.saturating_add(SECONDS_PER_DAY)),
        }
    }

    /// Whether a folder below the Region, `YYYY`, `YYYY/MM` or `YYYY/MM/DD`, can hold days of
    /// the range: compared with the range's ends cut to the same length.
    fn holds(&self, date: &str) -> bool {
        let length = date.len();
        length <= self.first.len() && date >= &self.first[..length] && date <= &self.last[..length]
    }
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
            kinds: if insight {
                &[LOG_FILE_KIND, INSIGHT_KIND]
            } else {
                &[LOG_FILE_KIND]
            },
        }
    }

    /// Every log file key of the day folders a search of `[start, end]` (epoch seconds) reads, for every account and Region under the
    /// trail's root, in key order. Walks the year, month and day folders that exist, so an
    /// open or long range costs a listing per existing folder, never one per calendar day.
    pub async fn keys(
        &self,
        store: &dyn ObjectStore,
        start: i64,
        end: i64,
    ) -> Result<Vec<String>, ObjectStoreError> {
        let range = DayRange::new(start, end);
        let mut keys = Vec::new();
        let accounts = store.list_folders(&self.bucket, &self.root).await?;
        let kind_folders = accounts.iter().flat_map(|account| {
            self.kinds
                .iter()
                .map(move |kind| format!("{account}{kind}/"))
        });
        for kind_folder in kind_folders {
            for region in store.list_folders(&self.bucket, &kind_folder).await? {
                let mut folders = vec![region.clone()];
                for _depth in 0..3 {
                    let mut inner = Vec::new();
                    for folder in &folders {
                        for child in store.list_folders(&self.bucket, folder).await? {
                            let date = child[region.len()..].trim_end_matches('/');
                            if range.holds(date) {
                                inner.push(child);
                            }
                        }
                    }
                    folders = inner;
                }
                for day in folders {
                    keys.extend(
                        store
                            .list_all(&self.bucket, &day)
                            .await?
                            .into_iter()
                            .map(|entry| entry.key)
                            .filter(|key| key.ends_with(".json.gz")),
                    );
                }
            }
        }
        Ok(keys)
    }

    /// Reads the log files `keys` names, [`READ_CONCURRENCY`] at a time, and yields what each
    /// holds of `[start, end]` (epoch seconds) that meets `criteria`, file by file in the order
    /// of `keys`. A file that cannot be read is yielded with the reason, and the search goes on.
    pub fn search<'s>(
        &'s self,
        store: &'s dyn ObjectStore,
        keys: Vec<String>,
        criteria: Arc<Criteria>,
        start: i64,
        end: i64,
    ) -> impl Stream<Item = FileMatches> + 's {
        futures::stream::iter(keys)
            .map(move |key| {
                let criteria = Arc::clone(&criteria);
                async move {
                    let records = match store.get(&self.bucket, &key).await {
                        Ok(object) => tokio::task::spawn_blocking(move || {
                            matching_records(&object.body, &criteria, start, end)
                        })
                        .await
                        .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic())),
                        Err(error) => Err(error.into()),
                    };
                    FileMatches { key, records }
                }
            })
            .buffered(READ_CONCURRENCY)
    }
}

/// What a search found in one log file.
#[derive(Debug)]
pub struct FileMatches {
    pub key: String,
    /// The matching records' JSON, in the file's order, or why the file could not be read.
    pub records: Result<Vec<String>, UnreadableLogFile>,
}

/// A log file a search could not read.
#[derive(Debug, thiserror::Error)]
pub enum UnreadableLogFile {
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error(transparent)]
    Gunzip(#[from] GunzipError),
    #[error("not a CloudTrail log file: {0}")]
    NotRecords(#[from] BatchError),
}

/// The records of one log file's body (gzip of `{"Records":[…]}`) that are in `[start, end]`
/// (epoch seconds) and meet `criteria`, each as its JSON text, in the file's order. A record
/// Cairn cannot read as CloudTrail's is not one to find. The filter pattern runs on the
/// record's JSON first, so a record it refuses is never parsed.
pub fn matching_records(
    body: &[u8],
    criteria: &Criteria,
    start: i64,
    end: i64,
) -> Result<Vec<String>, UnreadableLogFile> {
    let text = read_one_member_text(body, MAX_LOG_FILE_BYTES)?;
    let mut found = Vec::new();
    for raw in split_batch(&text)? {
        if !criteria.pattern_matches(raw.get()) {
            continue;
        }
        let Ok(record) = Record::parse(raw, None) else {
            continue;
        };
        let time = record.event_time().unix_seconds();
        if time >= start && time <= end && criteria.record_matches(&record) {
            found.push(raw.get().to_owned());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
