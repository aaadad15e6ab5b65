//! CloudTrail log files: their keys and their bodies.

use std::io::{BufWriter, Write};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use crate::delivered::LogFileFacts;
use crate::digest::format::GZIP_LEVEL;
use crate::record::EventTime;

/// At most this many records in one log file, and at most [`MAX_UNCOMPRESSED_BYTES`] of them:
/// CloudTrail bounds its files too, and a bounded file keeps deliver's and forward's memory
/// bounded (forward holds one file at a time).
pub const MAX_RECORDS: usize = 10_000;
pub(super) const MAX_UNCOMPRESSED_BYTES: usize = 16 * 1024 * 1024;

/// The records go to deflate in runs of this size rather than one by one: each call into
/// deflate costs, and a record is only about a kilobyte.
const COMPRESS_RUN: usize = 128 * 1024;

/// 16 alphanumerics derived from `seed`, so a rerun of the same delivery names its files the
/// same and overwrites rather than adds.
pub fn unique_part(seed: &[u8]) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    Sha256::digest(seed)
        .iter()
        .take(16)
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect()
}

/// A log file's body, with what a digest file records about it.
#[derive(Debug, Clone)]
pub struct LogFileBody {
    /// One gzip member holding `{"Records":[…]}`.
    pub gzip: Bytes,
    /// SHA-256 of the uncompressed bytes, as digest files list it; computed only for a file a
    /// digest lists, since nothing else reads it.
    pub sha256: Option<[u8; 32]>,
    pub oldest_event_time: EventTime,
    pub newest_event_time: EventTime,
    pub records: usize,
}

impl LogFileBody {
    /// What the file's S3 metadata carries to forward and notify.
    pub(super) fn facts(&self, trail: &str, account: &str, region: &str) -> LogFileFacts {
        LogFileFacts {
            trail: trail.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            records: self.records,
            oldest_event_time: self.oldest_event_time,
            newest_event_time: self.newest_event_time,
        }
    }
}

/// Writes `{"Records":[…]}` with each record exactly as it arrived, in the order given,
/// compressing (and hashing, when a digest is to list the file: `digested`) as it goes so the
/// uncompressed file is never held whole.
///
/// `records` must not be empty and must be in eventTime order.
pub fn encode(records: &[(EventTime, &str)], digested: bool) -> LogFileBody {
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        panic!("a log file holds at least one record");
    };
    let estimate: usize = records.iter().map(|(_, raw)| raw.len()).sum();
    let mut out = HashingWriter {
        hasher: digested.then(Sha256::new),
        gzip: BufWriter::with_capacity(
            COMPRESS_RUN,
            GzEncoder::new(
                Vec::with_capacity(estimate / 6 + 64),
                Compression::new(GZIP_LEVEL),
            ),
        ),
    };
    out.write(b"{\"Records\":[");
    for (i, (_, raw)) in records.iter().enumerate() {
        if i > 0 {
            out.write(b",");
        }
        out.write(raw.as_bytes());
    }
    out.write(b"]}");
    let gzip = out
        .gzip
        .into_inner()
        .map_err(|error| error.into_error())
        .and_then(GzEncoder::finish)
        .expect("compressing into memory cannot fail");
    LogFileBody {
        gzip: Bytes::from(gzip),
        sha256: out.hasher.map(|hasher| hasher.finalize().into()),
        oldest_event_time: first.0,
        newest_event_time: last.0,
        records: records.len(),
    }
}

struct HashingWriter {
    hasher: Option<Sha256>,
    /// Records reach deflate in runs of [`COMPRESS_RUN`] bytes.
    gzip: BufWriter<GzEncoder<Vec<u8>>>,
}

impl HashingWriter {
    fn write(&mut self, bytes: &[u8]) {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(bytes);
        }
        self.gzip
            .write_all(bytes)
            .expect("compressing into memory cannot fail");
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    #[test]
    fn unique_parts_are_16_alphanumerics_and_repeatable() {
        let part = unique_part(b"batch-1/main/0");
        assert_eq!(part.len(), 16);
        assert!(part.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(part, unique_part(b"batch-1/main/0"));
        assert_ne!(part, unique_part(b"batch-1/main/1"));
    }

    #[test]
    fn the_body_is_one_gzip_member_of_the_records_as_given() {
        let a = r#"{"eventID":"a", "x" : 1}"#;
        let b = r#"{"eventID":"b"}"#;
        let t1 = EventTime::parse("2024-03-07T09:00:00Z").unwrap();
        let t2 = EventTime::parse("2024-03-07T09:01:00Z").unwrap();
        let body = encode(&[(t1, a), (t2, b)], true);
        let mut text = String::new();
        let mut decoder = GzDecoder::new(&body.gzip[..]);
        decoder.read_to_string(&mut text).unwrap();
        assert_eq!(
            text,
            r#"{"Records":[{"eventID":"a", "x" : 1},{"eventID":"b"}]}"#
        );
        // Nothing after the one member: aws cloudtrail validate-logs rejects trailing data.
        assert!(decoder.into_inner().is_empty());
        assert_eq!(
            body.sha256,
            Some(<[u8; 32]>::from(Sha256::digest(text.as_bytes())))
        );
        assert_eq!((body.oldest_event_time, body.newest_event_time), (t1, t2));
        assert_eq!(body.records, 2);
        // A file no digest lists is the same bytes, unhashed.
        let unlisted = encode(&[(t1, a), (t2, b)], false);
        assert_eq!((unlisted.gzip, unlisted.sha256), (body.gzip, None));
    }

    #[test]
    fn records_past_a_run_of_the_compressor_and_one_larger_than_a_run_come_out_as_given() {
        let time = EventTime::parse("2024-03-07T09:00:00Z").unwrap();
        let small: Vec<String> = (0..1000)
            .map(|i| {
                format!(
                    r#"{{"eventID":"e-{i}","pad":"{}"}}"#,
                    "x".repeat(200 + i % 900)
                )
            })
            .collect();
        // Larger than a run: it goes to deflate past the buffer, after what the buffer held.
        let large = format!(
            r#"{{"eventID":"large","pad":"{}"}}"#,
            "y".repeat(3 * COMPRESS_RUN)
        );
        let mut raws: Vec<&str> = small.iter().map(String::as_str).collect();
        raws.insert(500, &large);
        assert!(small.iter().map(String::len).sum::<usize>() > 2 * COMPRESS_RUN);
        let records: Vec<(EventTime, &str)> = raws.iter().map(|raw| (time, *raw)).collect();
        let body = encode(&records, true);
        let mut text = String::new();
        let mut decoder = GzDecoder::new(&body.gzip[..]);
        decoder.read_to_string(&mut text).unwrap();
        assert_eq!(text, format!(r#"{{"Records":[{}]}}"#, raws.join(",")));
        assert!(decoder.into_inner().is_empty());
        assert_eq!(
            body.sha256,
            Some(<[u8; 32]>::from(Sha256::digest(text.as_bytes())))
        );
        assert_eq!(body.records, 1001);
    }
}
