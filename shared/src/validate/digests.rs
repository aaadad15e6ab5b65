//! One digest file: reading it, and every check that needs only the digest itself and the
//! published keys.
//!
//! The checks run in aws-cli's order (format, signature metadata, location, key, signature), so
//! a tampered digest gets aws-cli's verdict; Cairn's own checks of what the writer guarantees
//! run after the signature has verified, where a failure can only mean a writer that broke its
//! contract.

use std::collections::HashMap;

use crate::digest::format::{
    DigestFile, HASH_ALGORITHM, SIGNATURE_ALGORITHM_METADATA, SIGNATURE_METADATA, sha256_hex,
    signing_string,
};
use crate::gzip::{self, GunzipError};
use crate::layout::{ChainId, digest_key};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::ports::signer::{SIGNATURE_ALGORITHM, verify};
use crate::public_keys::PublishedKey;
use crate::record::EventTime;

use super::report::{Location, ValidationProblem};

/// The S3 metadata CloudTrail puts on a backfill digest, which aws-cli requires
/// (`validation.py` lines 419-425).
const BACKFILL_GENERATED_METADATA: &str = "backfill-generation-timestamp";

/// How a backfill digest's key ends (`validation.py` line 60); a regular one ends `.json.gz`.
pub(crate) const BACKFILL_SUFFIX: &str = "_backfill.json.gz";

/// A digest file read and parsed, not yet checked.
#[derive(Debug, Clone)]
pub(crate) struct Digest {
    pub location: Location,
    pub body: DigestFile,
    /// Lowercase hex SHA-256 of the uncompressed body.
    pub hash: String,
    /// The `signature` S3 metadata, if the store kept it.
    pub signature: Option<String>,
    pub signature_algorithm: Option<String>,
    /// The `backfill-generation-timestamp` S3 metadata of a backfill digest: when CloudTrail
    /// made it, which is when its key signed it.
    pub backfill_generated: Option<String>,
}

impl Digest {
    /// The digest's period; `None` when a time is not CloudTrail's form (the signed-content
    /// checks refuse such a digest).
    pub(super) fn period(&self) -> Option<(EventTime, EventTime)> {
        Some((
            EventTime::parse(&self.body.digest_start_time).ok()?,
            EventTime::parse(&self.body.digest_end_time).ok()?,
        ))
    }
}

/// What reading a digest key gave.
#[derive(Debug, Clone)]
pub(crate) enum Fetched {
    Found(Box<Digest>),
    Missing,
    Unreadable(ValidationProblem),
}

pub(crate) async fn fetch(
    store: &dyn ObjectStore,
    location: &Location,
) -> Result<Fetched, ObjectStoreError> {
    let object = match store.get(&location.bucket, &location.key).await {
        Ok(object) => object,
        Err(ObjectStoreError::NotFound { .. }) => return Ok(Fetched::Missing),
        Err(error) => return Err(error),
    };
    let mut json = Vec::new();
    if let Err(problem) = gunzip_one_member(&object.body, |chunk| json.extend_from_slice(chunk)) {
        return Ok(Fetched::Unreadable(problem));
    }
    let body: DigestFile = match serde_json::from_slice(&json) {
        Ok(body) => body,
        Err(error) => {
            return Ok(Fetched::Unreadable(ValidationProblem::InvalidFormat(
                format!("not a digest file: {error}"),
            )));
        }
    };
    let metadata = object.info.metadata;
    Ok(Fetched::Found(Box::new(Digest {
        location: location.clone(),
        hash: sha256_hex(&json),
        body,
        signature: metadata.get(SIGNATURE_METADATA).cloned(),
        signature_algorithm: metadata.get(SIGNATURE_ALGORITHM_METADATA).cloned(),
        backfill_generated: metadata.get(BACKFILL_GENERATED_METADATA).cloned(),
    })))
}

/// Decompresses exactly one gzip member, handing the bytes to `sink` as they come, and refuses
/// anything after it as aws-cli does. No bound on the size: validation hashes whatever is there.
pub(crate) fn gunzip_one_member(
    body: &[u8],
    sink: impl FnMut(&[u8]),
) -> Result<(), ValidationProblem> {
    gzip::read_one_member(body, usize::MAX, sink).map_err(|error| match error {
        GunzipError::TrailingData => ValidationProblem::TrailingData,
        GunzipError::NotGzip(error) => {
            ValidationProblem::InvalidFormat(format!("not a gzip stream: {error}"))
        }
        other => ValidationProblem::InvalidFormat(other.to_string()),
    })
}

/// The published keys by fingerprint (a key published twice has two windows).
pub(crate) struct KeyRing<'a> {
    by_fingerprint: HashMap<&'a str, Vec<&'a PublishedKey>>,
}

impl<'a> KeyRing<'a> {
    pub(super) fn new(keys: &'a [PublishedKey]) -> Self {
        let mut by_fingerprint: HashMap<&str, Vec<&PublishedKey>> = HashMap::new();
        for key in keys {
            by_fingerprint
                .entry(key.key.fingerprint())
                .or_default()
                .push(key);
        }
        Self { by_fingerprint }
    }
}

/// Where a chain's files live, to check a digest's key and body against.
pub(crate) struct ChainPlace<'a> {
    /// The trail's bucket, where digests and log files are.
    pub bucket: &'a str,
    pub prefix: Option<&'a str>,
    pub organization_id: Option<&'a str>,
    pub chain: &'a ChainId,
    pub home_region: &'a str,
    /// The chain of backfill digests rather than the regular one.
    pub backfill: bool,
    /// The files are a copy that may have lost its S3 metadata (`aws s3 sync`), rather than
    /// S3 or the embedded store, which keep it.
    pub copy_without_metadata: bool,
}

impl ChainPlace<'_> {
    /// The key of this chain's digest ending at `end`.
    pub(super) fn digest_key(&self, end: EventTime) -> String {
        let key = digest_key(
            self.prefix,
            self.organization_id,
            self.chain,
            end.to_offset_date_time(),
        );
        match key.strip_suffix(".json.gz") {
            Some(stem) if self.backfill => format!("{stem}{BACKFILL_SUFFIX}"),
            _ => key,
        }
    }
}

/// Every check of one digest on its own, in aws-cli's order (`validation.py` lines 409-425,
/// 766-800). `signature_from_next` is the `previousDigestSignature` a later digest gives for
/// this one: it stands in for missing S3 metadata (a synced copy), which is sound wherever it
/// was read, as only the key holder can make a signature that verifies. Without either, the
/// digest of a copy is unverifiable, and one in S3 fails as in aws-cli (line 413).
pub(crate) fn check(
    digest: &Digest,
    keys: &KeyRing<'_>,
    place: &ChainPlace<'_>,
    signature_from_next: Option<&str>,
) -> Result<(), ValidationProblem> {
    let body = &digest.body;
    let signature = match (&digest.signature, &digest.signature_algorithm) {
        (Some(signature), Some(algorithm)) if algorithm == SIGNATURE_ALGORITHM => signature,
        (Some(_), Some(algorithm)) => {
            return Err(ValidationProblem::InvalidFormat(format!(
                "signature-algorithm metadata is {algorithm:?}, not {SIGNATURE_ALGORITHM}"
            )));
        }
        _ => signature_from_next.ok_or(if place.copy_without_metadata {
            ValidationProblem::NoSignature
        } else {
            ValidationProblem::SignatureFailed
        })?,
    };
    if place.backfill && digest.backfill_generated.is_none() && !place.copy_without_metadata {
        return Err(ValidationProblem::InvalidFormat(format!(
            "a backfill digest without {BACKFILL_GENERATED_METADATA} S3 metadata"
        )));
    }

    if body.digest_s3_bucket != digest.location.bucket
        || body.digest_s3_object != digest.location.key
    {
        return Err(ValidationProblem::Moved {
            original: Location::new(&body.digest_s3_bucket, &body.digest_s3_object),
        });
    }

    let fingerprint = &body.digest_public_key_fingerprint;
    let windows = keys
        .by_fingerprint
        .get(fingerprint.as_str())
        .ok_or_else(|| ValidationProblem::KeyNotFound {
            home_region: place.home_region.to_owned(),
            fingerprint: fingerprint.clone(),
        })?;
    let message = signing_string(
        &body.digest_end_time,
        &body.digest_s3_bucket,
        &body.digest_s3_object,
        &digest.hash,
        body.previous_digest_signature.as_deref(),
    );
    let signature_bytes = hex::decode(signature).map_err(|_| ValidationProblem::SignatureFailed)?;
    // Every window of one fingerprint holds the same key bytes.
    let verified = verify(
        windows[0].key.pkcs1_der(),
        message.as_bytes(),
        &signature_bytes,
    )
    .map_err(|error| ValidationProblem::KeyUnloadable {
        fingerprint: fingerprint.clone(),
        detail: error.to_string(),
    })?;
    if !verified {
        return Err(ValidationProblem::SignatureFailed);
    }

    check_signed_content(digest, place)?;

    // A backfill digest is signed when CloudTrail makes it, long after its period.
    let (_, end) = digest.period().expect("checked with the signed content");
    let signed_at = match digest.backfill_generated.as_deref() {
        Some(generated) if place.backfill => EventTime::parse(generated).map_err(|_| {
            ValidationProblem::Inconsistent(format!(
                "{BACKFILL_GENERATED_METADATA} {generated:?} is not a UTC time"
            ))
        })?,
        _ => end,
    };
    let at = signed_at.to_offset_date_time();
    if !windows.iter().any(|window| {
        window.validity_start <= at && window.validity_end.is_none_or(|until| until >= at)
    }) {
        return Err(ValidationProblem::KeyNotValid {
            fingerprint: fingerprint.clone(),
            digest_end: signed_at,
        });
    }
    Ok(())
}

/// What every writer guarantees of a digest's own content. Periods may start and end at any
/// second (AWS's are offset from the hour) and the last one of a chain may be short (a trail
/// that stops), so only their order is checked here, and their contiguity along the chain.
fn check_signed_content(digest: &Digest, place: &ChainPlace<'_>) -> Result<(), ValidationProblem> {
    let body = &digest.body;
    let invalid = |detail: String| Err(ValidationProblem::Inconsistent(detail));
    let (Ok(start), Ok(end)) = (
        EventTime::parse(&body.digest_start_time),
        EventTime::parse(&body.digest_end_time),
    ) else {
        return invalid(format!(
            "digestStartTime {:?} or digestEndTime {:?} is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ",
            body.digest_start_time, body.digest_end_time
        ));
    };
    if start >= end {
        return invalid(format!(
            "digestStartTime {start} is not before digestEndTime {end}"
        ));
    }
    let expected_key = place.digest_key(end);
    if digest.location.key != expected_key {
        return invalid(format!(
            "a digest of this chain ending at {end} is named {expected_key}"
        ));
    }
    if body.aws_account_id != place.chain.account {
        return invalid(format!(
            "awsAccountId {} is not the account {} of its key",
            body.aws_account_id, place.chain.account
        ));
    }
    if body.digest_signature_algorithm != SIGNATURE_ALGORITHM {
        return invalid(format!(
            "digestSignatureAlgorithm is {:?}, not {SIGNATURE_ALGORITHM}",
            body.digest_signature_algorithm
        ));
    }

    let previous = [
        &body.previous_digest_s3_bucket,
        &body.previous_digest_s3_object,
        &body.previous_digest_hash_value,
        &body.previous_digest_hash_algorithm,
        &body.previous_digest_signature,
    ];
    let set = previous.iter().filter(|field| field.is_some()).count();
    if set != 0 && set != previous.len() {
        return invalid(
            "the five previousDigest* fields are neither all set nor all null".to_owned(),
        );
    }
    if set != 0 && body.previous_digest_hash_algorithm.as_deref() != Some(HASH_ALGORITHM) {
        return invalid(format!(
            "previousDigestHashAlgorithm is {:?}, not {HASH_ALGORITHM}",
            body.previous_digest_hash_algorithm
        ));
    }

    let event_times = [&body.newest_event_time, &body.oldest_event_time];
    let times_set = event_times.iter().filter(|time| time.is_some()).count();
    match (body.log_files.is_empty(), times_set) {
        (true, 0) => {}
        (false, 2) => {
            let parse = |time: &Option<String>| time.as_deref().map(EventTime::parse);
            let (Some(Ok(newest)), Some(Ok(oldest))) = (
                parse(&body.newest_event_time),
                parse(&body.oldest_event_time),
            ) else {
                return invalid("newestEventTime or oldestEventTime is not a UTC time".to_owned());
            };
            let mut listed = (None, None);
            for log in &body.log_files {
                let (Ok(log_newest), Ok(log_oldest)) = (
                    EventTime::parse(&log.newest_event_time),
                    EventTime::parse(&log.oldest_event_time),
                ) else {
                    return invalid(format!(
                        "log file {} has malformed event times",
                        log.s3_object
                    ));
                };
                listed.0 = listed.0.max(Some(log_newest));
                listed.1 = Some(
                    listed
                        .1
                        .map_or(log_oldest, |o: EventTime| o.min(log_oldest)),
                );
            }
            if listed != (Some(newest), Some(oldest)) {
                return invalid(format!(
                    "newestEventTime {newest} and oldestEventTime {oldest} are not the bounds of its log files' event times"
                ));
            }
        }
        _ => {
            return invalid(
                "newestEventTime and oldestEventTime must be null exactly when no log file is listed"
                    .to_owned(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).expect("gzip");
        encoder.finish().expect("gzip")
    }

    #[test]
    fn exactly_one_gzip_member_is_accepted() {
        let mut out = Vec::new();
        gunzip_one_member(&gzip(b"hello"), |chunk| out.extend_from_slice(chunk)).expect("valid");
        assert_eq!(out, b"hello");

        let mut two = gzip(b"hello");
        two.extend(gzip(b"again"));
        assert_eq!(
            gunzip_one_member(&two, |_| {}),
            Err(ValidationProblem::TrailingData)
        );
        let mut padded = gzip(b"hello");
        padded.push(0);
        assert_eq!(
            gunzip_one_member(&padded, |_| {}),
            Err(ValidationProblem::TrailingData)
        );

        assert!(matches!(
            gunzip_one_member(b"{\"Records\":[]}", |_| {}),
            Err(ValidationProblem::InvalidFormat(_))
        ));
        let truncated = gzip(b"hello world, a longer body");
        assert!(matches!(
            gunzip_one_member(&truncated[..truncated.len() - 6], |_| {}),
            Err(ValidationProblem::InvalidFormat(_))
        ));
    }
}
