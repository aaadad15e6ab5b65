//! The 90-day event history: every management event Cairn delivers, kept where `LookupEvents`
//! (`cairn lookup-events`) can find it by account, Region and time, as CloudTrail's own event
//! history does.
//!
//! # Layout
//!
//! The deliver step writes, for each delivery batch, one object per (account, Region, hour of
//! eventTime) into the bucket Cairn owns for its state:
//!
//! ```text
//! history/{account}/{region}/{YYYY}/{MM}/{DD}/{HH}/{batch}.jsonl.lz4
//! ```
//!
//! - `account` is the record's recipientAccountId, or the deployment's own account when the
//!   record has none; `region` is where CloudTrail shows the event ([`Record::delivery_region`]:
//!   global service events under us-east-1). The date and hour are the eventTime's, in UTC.
//! - The body is one LZ4 frame (with its content checksum) holding JSON lines: one record per
//!   line, exactly the bytes the
//!   record arrived as. A record that arrived pretty-printed (and so spans several lines) is
//!   written with the whitespace between its tokens removed, which changes no value, no key order
//!   and no escape; every other record is written byte for byte.
//! - Only management events are kept, as in CloudTrail's event history: data and network
//!   activity events are left out. The Insights events Cairn finds are kept too
//!   (`eventCategory` `Insight`), in objects of their own (`{batch}-insights`), as CloudTrail's
//!   event history keeps Insights events for LookupEvents' `EventCategory` `insight`.
//! - When a batch's events of one account, Region and hour are exactly the records of one of its
//!   CloudTrail log files (a trail taking every management event, as most do), the object is a
//!   copy of that log file instead: `{batch}.json.gz`, `{"Records":[…]}` in one gzip member,
//!   records exactly as they arrived. deliver has then compressed those events once, not twice.
//! - Writing the same batch again writes the same keys with the same bytes (the frame carries
//!   no timestamp), so a retried delivery is harmless.
//! - Objects written while the history was gzip (`.jsonl.gz`, one gzip member) are read as well,
//!   for as long as they are kept.
//!
//! Objects expire [`RETENTION_DAYS`] after their hour ends. On S3 that is a lifecycle rule on
//! `history/`; the local store has [`prune`] instead. Lookups never show an event older than
//! that, whether or not its object is gone yet.
//!
//! Day folders are what a lookup lists: it walks them from the end of its time range backward and
//! reads an hour's objects only when it still needs events from that hour.

mod lookup;
mod resource_name;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::io::{Read, Write};

use flate2::read::MultiGzDecoder;
use lz4_flex::frame::{FrameDecoder, FrameEncoder, FrameInfo};
use time::OffsetDateTime;

use crate::layout::{
    HISTORY_PREFIX, HISTORY_RETENTION_DAYS, hour_of_history_key, is_history_log_file_key,
};
use crate::ports::object_store::{ObjectStore, ObjectStoreError, PutOptions};
use crate::record;

pub use lookup::{
    AttributeKey, Criteria, Extensions, LookupAttribute, LookupError, LookupEvent, LookupPage,
    LookupQuery, LookupResource, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_RESULTS, lookup, time_range,
    username,
};

/// How long the history keeps an event, as CloudTrail's event history does.
pub const RETENTION_DAYS: i64 = HISTORY_RETENTION_DAYS as i64;

/// How history objects are stored: JSON lines in an LZ4 frame. LZ4 is no HTTP content coding,
/// so the object says so by its type alone.
pub const CONTENT_TYPE: &str = "application/x-lz4";

/// The options to put a history object with: [`CONTENT_TYPE`], an unconditional put (a retried
/// batch rewrites its own objects with the same bytes).
pub fn put_options() -> PutOptions {
    PutOptions::new(CONTENT_TYPE)
}

/// The first bytes of an LZ4 frame (its magic number, little-endian) and of a gzip member.
const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

const SECONDS_PER_HOUR: i64 = 3600;

/// The first second of the hour `seconds` (since the epoch) falls in.
pub(crate) fn hour_start(seconds: i64) -> i64 {
    seconds.div_euclid(SECONDS_PER_HOUR) * SECONDS_PER_HOUR
}

/// The body of one history object: an LZ4 frame of JSON lines, one record per line (see the
/// module docs for the one case in which a record's bytes change).
pub fn encode(records: &[&str]) -> Vec<u8> {
    // LZ4, not gzip: deliver compresses every management event a second time here, and gzip's
    // fastest level cost about half of what the log files' own compression does; LZ4 a small
    // fraction of it, for objects about a third larger (benches/deliver.rs measures both).
    let estimate: usize = records.iter().map(|record| record.len() + 1).sum();
    let info = FrameInfo::new().content_checksum(true);
    let mut frame = FrameEncoder::with_frame_info(info, Vec::with_capacity(estimate / 3));
    for record in records {
        let line = single_line(record);
        // Writing into a Vec cannot fail.
        frame
            .write_all(line.as_bytes())
            .and_then(|()| frame.write_all(b"\n"))
            .expect("LZ4 into memory");
    }
    frame.finish().expect("LZ4 into memory")
}

/// The lines of the history object `key`: its body as [`encode`] wrote it, or as a gzip member
/// when written before the history was LZ4, or, for a copy of a log file, that file's records,
/// each made a line as [`encode`] makes it. A body not compressed (one an HTTP layer unpacked on
/// the way, honouring a gzip object's Content-Encoding) is taken as it is.
pub fn decode(key: &str, body: &[u8]) -> std::io::Result<String> {
    let invalid = |e| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let mut text = String::new();
    if body.starts_with(&LZ4_MAGIC) {
        FrameDecoder::new(body).read_to_string(&mut text)?;
    } else if body.starts_with(&GZIP_MAGIC) {
        MultiGzDecoder::new(body).read_to_string(&mut text)?;
    } else {
        text = String::from_utf8(body.to_vec()).map_err(|e| invalid(e.to_string()))?;
    }
    if !is_history_log_file_key(key) {
        return Ok(text);
    }
    let records = record::split_batch(&text).map_err(|e| invalid(e.to_string()))?;
    let mut lines = String::with_capacity(text.len());
    for record in records {
        lines.push_str(&single_line(record.get()));
        lines.push('\n');
    }
    Ok(lines)
}

/// A record on one line. Ingest stores records compact, but a record staged by an earlier
/// version may be pretty-printed, and a raw line break (inside strings JSON escapes it) would
/// split it across lines: such a record is compacted ([`record::compact_text`]), any other kept
/// as is.
fn single_line(record: &str) -> Cow<'_, str> {
    // memchr: a search for either char scans byte by byte, and this runs over every record.
    if memchr::memchr2(b'\n', b'\r', record.as_bytes()).is_some() {
        record::compact_text(record)
    } else {
        Cow::Borrowed(record)
    }
}

/// The earliest eventTime the history still shows at `now`.
pub(crate) fn retention_floor(now: OffsetDateTime) -> OffsetDateTime {
    now - time::Duration::days(RETENTION_DAYS)
}

/// Deletes the history objects whose hour ended [`RETENTION_DAYS`] or more before `now`, so
/// every event in them is older than the history keeps: the local store's stand-in for the S3
/// lifecycle rule. Keys under `history/` that are not history objects are left alone.
/// Idempotent; returns how many objects it deleted.
///
/// Pages through the listing one page at a time, so memory stays bounded however long the
/// history.
pub async fn prune(
    store: &dyn ObjectStore,
    bucket: &str,
    now: OffsetDateTime,
) -> Result<usize, ObjectStoreError> {
    let cutoff = retention_floor(now).unix_timestamp();
    let mut deleted = 0;
    let mut token: Option<String> = None;
    loop {
        let page = store
            .list_page(bucket, HISTORY_PREFIX, token.as_deref())
            .await?;
        for entry in &page.entries {
            let expired = hour_of_history_key(&entry.key)
                .is_some_and(|hour| hour.unix_seconds() + SECONDS_PER_HOUR <= cutoff);
            if expired {
                store.delete(bucket, &entry.key).await?;
                deleted += 1;
            }
        }
        match page.next_token {
            None => return Ok(deleted),
            Some(next) if token.as_deref() == Some(next.as_str()) => {
                return Err(ObjectStoreError::Backend {
                    context: format!("listing s3://{bucket}/{HISTORY_PREFIX}"),
                    source: format!("the store repeated continuation token {next:?}").into(),
                });
            }
            Some(next) => token = Some(next),
        }
    }
}
