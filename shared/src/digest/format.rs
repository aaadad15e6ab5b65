//! CloudTrail digest files: their keys, bodies, hashes and signing strings, exactly as
//! CloudTrail writes them and `aws cloudtrail validate-logs` reads them.
//!
//! A digest body is one compact JSON object with AWS's fields in AWS's order (the order of the
//! documented examples); it is stored as one gzip member. Its hash is the lowercase hex SHA-256
//! of the uncompressed JSON, and its signature (S3 user metadata `signature`) signs
//! [`signing_string`].

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The gzip level of every file in the trail bucket, log files (deliver) and digests alike:
/// zlib's default, the usual balance of size and speed. Here rather than in deliver because
/// deliver builds on the digest module, not the other way round.
pub const GZIP_LEVEL: u32 = 6;

/// Every hash in a digest file is SHA-256 (`hashAlgorithm`, `previousDigestHashAlgorithm`).
pub(crate) const HASH_ALGORITHM: &str = "SHA-256";

/// S3 user metadata names of the signature and its algorithm.
pub const SIGNATURE_METADATA: &str = "signature";
pub(crate) const SIGNATURE_ALGORITHM_METADATA: &str = "signature-algorithm";

/// A digest file's body. Times are `YYYY-MM-DDTHH:MM:SSZ` strings, as AWS writes them; a
/// validator parses them with [`EventTime::parse`] so that any other form is caught.
///
/// Fields this type does not know are ignored when reading: AWS adds fields to digests over
/// time, and a digest's hash and signature cover its raw bytes, so nothing unread goes
/// unverified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestFile {
    pub aws_account_id: String,
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    pub digest_signature_algorithm: String,
    pub newest_event_time: Option<String>,
    pub oldest_event_time: Option<String>,
    pub previous_digest_s3_bucket: Option<String>,
    pub previous_digest_s3_object: Option<String>,
    pub previous_digest_hash_value: Option<String>,
    pub previous_digest_hash_algorithm: Option<String>,
    pub previous_digest_signature: Option<String>,
    pub log_files: Vec<LogFileEntry>,
}

/// One log file listed in a digest (unknown fields ignored, as in [`DigestFile`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    pub s3_bucket: String,
    pub s3_object: String,
    pub hash_value: String,
    pub hash_algorithm: String,
    pub newest_event_time: String,
    pub oldest_event_time: String,
}

/// Where the previous digest of a chain is and what it was: the five `previous*` fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviousDigest {
    pub bucket: String,
    pub key: String,
    /// Lowercase hex SHA-256 of its uncompressed body.
    pub hash: String,
    /// Its signature, lowercase hex.
    pub signature: String,
}

impl DigestFile {
    /// The JSON AWS writes: compact, fields in the documented order.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a digest body always serializes")
    }

    /// The chain pointer of this digest, or `None` for a chain's first digest.
    pub fn previous(&self) -> Option<PreviousDigest> {
        Some(PreviousDigest {
            bucket: self.previous_digest_s3_bucket.clone()?,
            key: self.previous_digest_s3_object.clone()?,
            hash: self.previous_digest_hash_value.clone()?,
            signature: self.previous_digest_signature.clone()?,
        })
    }
}

/// The string a digest's signature signs:
/// `{digestEndTime}\n{digestS3Bucket}/{digestS3Object}\n{hex sha256 of the uncompressed digest}\n{previousDigestSignature or null}`.
pub fn signing_string(
    digest_end_time: &str,
    bucket: &str,
    key: &str,
    digest_hash_hex: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{digest_end_time}\n{bucket}/{key}\n{digest_hash_hex}\n{}",
        previous_signature.unwrap_or("null")
    )
}

/// Lowercase hex SHA-256, the form of every hash in a digest file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const AWS_EXAMPLES: &str = include_str!(
        "../../../tests/fixtures/awsdocs_user_guide_examples/awsdocs_digest_file_examples.json"
    );

    fn aws_examples() -> Vec<Value> {
        let examples: Vec<Value> = serde_json::from_str(AWS_EXAMPLES).expect("fixture parses");
        examples.into_iter().map(|e| e["digest"].clone()).collect()
    }

    #[test]
    fn aws_documented_digests_round_trip_byte_for_byte_in_field_order() {
        for example in aws_examples() {
            let compact = serde_json::to_vec(&example).expect("compact");
            let digest: DigestFile = serde_json::from_slice(&compact).expect("parses");
            // serde_json keeps object order only with preserve_order; compare field order on the
            // text instead: every key of AWS's example appears in the same order in ours.
            let ours = String::from_utf8(digest.to_json()).expect("utf-8");
            let order = |text: &str| -> Vec<usize> {
                [
                    "awsAccountId",
                    "digestStartTime",
                    "digestEndTime",
                    "digestS3Bucket",
                    "digestS3Object",
                    "digestPublicKeyFingerprint",
                    "digestSignatureAlgorithm",
                    "newestEventTime",
                    "oldestEventTime",
                    "previousDigestS3Bucket",
                    "previousDigestS3Object",
                    "previousDigestHashValue",
                    "previousDigestHashAlgorithm",
                    "previousDigestSignature",
                    "logFiles",
                ]
                .iter()
                .map(|field| text.find(&format!("\"{field}\"")).expect("field present"))
                .collect()
            };
            let positions = order(&ours);
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{ours}");
            let reparsed: Value = serde_json::from_str(&ours).expect("json");
            assert_eq!(reparsed, example);
        }
    }

    #[test]
    fn the_first_digest_of_a_chain_has_no_previous() {
        let examples = aws_examples();
        let mut first: DigestFile = serde_json::from_value(examples[1].clone()).expect("parses");
        assert!(first.previous().is_some());
        first.previous_digest_s3_bucket = None;
        first.previous_digest_s3_object = None;
        first.previous_digest_hash_value = None;
        first.previous_digest_hash_algorithm = None;
        first.previous_digest_signature = None;
        assert_eq!(first.previous(), None);
        let json = String::from_utf8(first.to_json()).expect("utf-8");
        assert!(json.contains(r#""previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null"#), "{json}");
    }

    #[test]
    fn fields_aws_adds_later_are_read_past() {
        let mut example = aws_examples().remove(0);
        let known: DigestFile = serde_json::from_value(example.clone()).expect("parses");
        example["digestFormatVersion"] = Value::from("2.0");
        example["logFiles"][0]["logFileFormat"] = Value::from("json");
        assert_eq!(
            serde_json::from_value::<DigestFile>(example).expect("parses"),
            known
        );
    }

    #[test]
    fn the_signing_string_is_aws_s_four_lines() {
        assert_eq!(
            signing_string("2015-08-17T15:01:31Z", "b", "k.json.gz", "ab", None),
            "2015-08-17T15:01:31Z\nb/k.json.gz\nab\nnull"
        );
        assert_eq!(
            signing_string("2015-08-17T15:01:31Z", "b", "k", "ab", Some("cd")),
            "2015-08-17T15:01:31Z\nb/k\nab\ncd"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
