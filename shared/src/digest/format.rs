//! CloudTrail digest files: their keys, bodies, hashes and signing strings, exactly as
//! CloudTrail writes them and `aws cloudtrail validate-logs` reads them.
//!
//! A digest body is one compact JSON object with AWS's fields in AWS's order (the order of the
//! documented examples); it is stored as one gzip member. Its hash is the lowercase hex SHA-256
//! of the uncompressed JSON, and its signature (S3 user metadata `signature`) signs
//! [`signing_string`].

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::delivery::log_file::day_folder;
use crate::record::EventTime;

/// The folder name of digest files under an account, as log files have `CloudTrail`.
pub const DIGEST_KIND: &str = "CloudTrail-Digest";

/// Every hash in a digest file is SHA-256 (`hashAlgorithm`, `previousDigestHashAlgorithm`).
pub const HASH_ALGORITHM: &str = "SHA-256";

/// S3 user metadata names of the signature and its algorithm.
pub const SIGNATURE_METADATA: &str = "signature";
pub const SIGNATURE_ALGORITHM_METADATA: &str = "signature-algorithm";

/// A digest file's body. Times are `YYYY-MM-DDTHH:MM:SSZ` strings, as AWS writes them; a
/// validator parses them with [`EventTime::parse`] so that any other form is caught.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

/// One log file listed in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

/// Whose chain a digest belongs to, as its key spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainId {
    pub trail: String,
    pub home_region: String,
    pub account: String,
    pub region: String,
}

/// A digest file's key:
/// `[prefix/]AWSLogs/[o-org/]{account}/CloudTrail-Digest/{region}/YYYY/MM/DD/{account}_CloudTrail-Digest_{region}_{trail}_{homeRegion}_{YYYYMMDDTHHMMSSZ}.json.gz`,
/// dated by the digest's end time.
pub fn digest_key(
    prefix: Option<&str>,
    organization_id: Option<&str>,
    chain: &ChainId,
    end: OffsetDateTime,
) -> String {
    let ChainId {
        trail,
        home_region,
        account,
        region,
    } = chain;
    format!(
        "{}{account}_{DIGEST_KIND}_{region}_{trail}_{home_region}_{:04}{:02}{:02}T{:02}{:02}{:02}Z.json.gz",
        day_folder(prefix, organization_id, account, DIGEST_KIND, region, end),
        end.year(),
        u8::from(end.month()),
        end.day(),
        end.hour(),
        end.minute(),
        end.second(),
    )
}

/// What a digest key says about its digest: its chain and end time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestKey {
    pub chain: ChainId,
    pub end: EventTime,
}

/// Reads a digest key's file name (the part after the last `/`). Trail names may contain `_`
/// but accounts, regions and the stamp never do, so the name is split from both ends:
/// `{account}_CloudTrail-Digest_` first, then `_{homeRegion}_{stamp}.json.gz` from the end,
/// then `{region}_` from what is left; the rest is the trail name.
pub fn parse_digest_key(key: &str) -> Option<DigestKey> {
    let name = key.rsplit('/').next()?;
    let rest = name.strip_suffix(".json.gz")?;
    let (account, rest) = rest.split_once(&format!("_{DIGEST_KIND}_"))?;
    let (rest, stamp) = rest.rsplit_once('_')?;
    let (rest, home_region) = rest.rsplit_once('_')?;
    let (region, trail) = rest.split_once('_')?;
    let end = parse_stamp(stamp)?;
    if [account, region, trail, home_region]
        .iter()
        .any(|part| part.is_empty())
    {
        return None;
    }
    Some(DigestKey {
        chain: ChainId {
            trail: trail.to_owned(),
            home_region: home_region.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
        },
        end,
    })
}

/// `YYYYMMDDTHHMMSSZ` → the time it names.
fn parse_stamp(stamp: &str) -> Option<EventTime> {
    let b = stamp.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    EventTime::parse(&iso).ok()
}

/// A log file key's delivery stamp (`…_YYYYMMDDTHHmmZ_{unique}.json.gz`), the minute it names.
pub fn log_file_stamp(key: &str) -> Option<EventTime> {
    let name = key.rsplit('/').next()?;
    let rest = name.strip_suffix(".json.gz")?;
    let (rest, _unique) = rest.rsplit_once('_')?;
    let (_, stamp) = rest.rsplit_once('_')?;
    let b = stamp.as_bytes();
    if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
        return None;
    }
    parse_stamp(&format!("{}00Z", &stamp[..13]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use time::macros::datetime;

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
    fn unknown_fields_are_refused() {
        let mut example = aws_examples().remove(0);
        example["extra"] = Value::Bool(true);
        assert!(serde_json::from_value::<DigestFile>(example).is_err());
    }

    #[test]
    fn keys_match_the_aws_example_and_parse_back() {
        let chain = ChainId {
            trail: "your-trail-name".into(),
            home_region: "us-east-2".into(),
            account: "111122223333".into(),
            region: "us-east-2".into(),
        };
        let key = digest_key(None, None, &chain, datetime!(2015-08-17 15:01:31 UTC));
        assert_eq!(
            key,
            aws_examples()[0]["digestS3Object"].as_str().expect("key")
        );
        let parsed = parse_digest_key(&key).expect("parses");
        assert_eq!(parsed.chain, chain);
        assert_eq!(parsed.end.to_string(), "2015-08-17T15:01:31Z");

        let org = digest_key(
            Some("audit"),
            Some("o-abc123"),
            &ChainId {
                trail: "org_trail_with_underscores".into(),
                ..chain.clone()
            },
            datetime!(2026-11-22 10:00:00 UTC),
        );
        assert_eq!(
            org,
            "audit/AWSLogs/o-abc123/111122223333/CloudTrail-Digest/us-east-2/2026/11/22/111122223333_CloudTrail-Digest_us-east-2_org_trail_with_underscores_us-east-2_20261122T100000Z.json.gz"
        );
        let parsed = parse_digest_key(&org).expect("parses");
        assert_eq!(parsed.chain.trail, "org_trail_with_underscores");
        assert_eq!(parsed.chain.region, "us-east-2");
    }

    #[test]
    fn malformed_digest_keys_are_not_digest_keys() {
        for key in [
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/22/1_CloudTrail-Digest_us-east-1_t_us-east-1_20261122T1000Z.json.gz",
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/22/1_CloudTrail-Digest_us-east-1_t_us-east-1_20261322T100000Z.json.gz",
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/22/1_CloudTrail-Digest_us-east-1_t_us-east-1_20261122T100000Z.json",
            "AWSLogs/1/CloudTrail/us-east-1/2026/11/22/1_CloudTrail_us-east-1_20261122T1000Z_abcdefghijklmnop.json.gz",
        ] {
            assert_eq!(parse_digest_key(key), None, "{key}");
        }
    }

    #[test]
    fn log_file_stamps_are_read_to_the_minute() {
        let key = aws_examples()[0]["logFiles"][0]["s3Object"]
            .as_str()
            .expect("key")
            .to_owned();
        assert_eq!(
            log_file_stamp(&key).map(|t| t.to_string()).as_deref(),
            Some("2015-08-17T14:45:00Z")
        );
        assert_eq!(log_file_stamp("AWSLogs/x.json.gz"), None);
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
