//! The trail bucket's keys, exactly as CloudTrail lays them out: log files and digest files
//! under `[prefix/]AWSLogs/[o-org/]{account}/{kind}/{region}/{YYYY}/{MM}/{DD}/`.

use time::OffsetDateTime;

use crate::clock::EventTime;

/// The folder name of log files under an account.
pub const LOG_FILE_KIND: &str = "CloudTrail";

/// The folder name of digest files under an account, as log files have `CloudTrail`.
pub const DIGEST_KIND: &str = "CloudTrail-Digest";

/// The folder name of Insights files under an account.
pub const INSIGHT_KIND: &str = "CloudTrail-Insight";

/// Where all of a trail's files are in its bucket: `[prefix/]AWSLogs/[o-org/]`.
pub fn trail_root(prefix: Option<&str>, organization_id: Option<&str>) -> String {
    let mut root = String::with_capacity(64);
    if let Some(prefix) = prefix {
        root.push_str(prefix);
        root.push('/');
    }
    root.push_str("AWSLogs/");
    if let Some(organization_id) = organization_id {
        root.push_str(organization_id);
        root.push('/');
    }
    root
}

/// The folder of a trail's files for one account, kind, region and day:
/// `[prefix/]AWSLogs/[o-org/]{account}/{kind}/{region}/{YYYY}/{MM}/{DD}/`, where kind is
/// `CloudTrail` (log files) or `CloudTrail-Digest`.
pub fn day_folder(
    prefix: Option<&str>,
    organization_id: Option<&str>,
    account: &str,
    kind: &str,
    region: &str,
    day: OffsetDateTime,
) -> String {
    let mut folder = trail_root(prefix, organization_id);
    folder.push_str(&format!(
        "{account}/{kind}/{region}/{:04}/{:02}/{:02}/",
        day.year(),
        u8::from(day.month()),
        day.day()
    ));
    folder
}

/// A log file's key: its day folder and
/// `{account}_CloudTrail_{region}_{YYYYMMDDTHHmmZ}_{unique}.json.gz`, the time being the
/// delivery time, as CloudTrail names them. `unique` is 16 alphanumerics.
pub fn log_file_key(
    prefix: Option<&str>,
    organization_id: Option<&str>,
    account: &str,
    region: &str,
    delivered_at: OffsetDateTime,
    unique: &str,
) -> String {
    delivered_file_key(
        LOG_FILE_KIND,
        prefix,
        organization_id,
        account,
        region,
        delivered_at,
        unique,
    )
}

/// An Insights file's key: the log file's shape with `CloudTrail-Insight` for `CloudTrail`,
/// in folder and name, as CloudTrail delivers Insights events "to the /CloudTrail-Insight
/// folder" of the trail's bucket (User Guide, "Working with CloudTrail Insights").
pub fn insight_file_key(
    prefix: Option<&str>,
    organization_id: Option<&str>,
    account: &str,
    region: &str,
    delivered_at: OffsetDateTime,
    unique: &str,
) -> String {
    delivered_file_key(
        INSIGHT_KIND,
        prefix,
        organization_id,
        account,
        region,
        delivered_at,
        unique,
    )
}

fn delivered_file_key(
    kind: &str,
    prefix: Option<&str>,
    organization_id: Option<&str>,
    account: &str,
    region: &str,
    delivered_at: OffsetDateTime,
    unique: &str,
) -> String {
    let t = delivered_at;
    format!(
        "{}{account}_{kind}_{region}_{:04}{:02}{:02}T{:02}{:02}Z_{unique}.json.gz",
        day_folder(prefix, organization_id, account, kind, region, t),
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
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

/// The two kinds of file a trail's records are delivered in, each under a folder of its own
/// whose name its file names repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFileKind {
    /// `CloudTrail/`: management, data and network activity events.
    LogFile,
    /// `CloudTrail-Insight/`: Insights events.
    InsightFile,
}

impl RecordFileKind {
    /// The folder under an account, and the word after the account in the file name.
    pub fn folder(self) -> &'static str {
        match self {
            Self::LogFile => LOG_FILE_KIND,
            Self::InsightFile => INSIGHT_KIND,
        }
    }
}

/// A log file's or Insights file's key as a trail with `prefix` and `organization_id` writes
/// it, read back: its kind, account and Region, when `key` is one. The day folder and the file
/// name must agree on kind, account, Region and day.
pub fn parse_record_file_key<'k>(
    prefix: Option<&str>,
    organization_id: Option<&str>,
    key: &'k str,
) -> Option<(RecordFileKind, &'k str, &'k str)> {
    let mut rest = key;
    if let Some(prefix) = prefix {
        rest = rest.strip_prefix(prefix)?.strip_prefix('/')?;
    }
    rest = rest.strip_prefix("AWSLogs/")?;
    if let Some(organization) = organization_id {
        rest = rest.strip_prefix(organization)?.strip_prefix('/')?;
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let [account, folder, region, year, month, day, name] = parts[..] else {
        return None;
    };
    let kind = match folder {
        LOG_FILE_KIND => RecordFileKind::LogFile,
        INSIGHT_KIND => RecordFileKind::InsightFile,
        _ => return None,
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !digits(account, 12) || !region_ok {
        return None;
    }
    let stamp = name
        .strip_prefix(account)?
        .strip_prefix('_')?
        .strip_prefix(folder)?
        .strip_prefix('_')?
        .strip_prefix(region)?
        .strip_prefix('_')?
        .strip_suffix(".json.gz")?;
    let (time, unique) = stamp.split_once("Z_")?;
    let (date, hour_minute) = time.split_once('T')?;
    let unique_ok = unique.len() == 16 && unique.bytes().all(|b| b.is_ascii_alphanumeric());
    (digits(year, 4)
        && digits(month, 2)
        && digits(day, 2)
        && date == format!("{year}{month}{day}")
        && digits(hour_minute, 4)
        && unique_ok)
        .then_some((kind, account, region))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use time::macros::datetime;

    fn aws_examples() -> Vec<Value> {
        let examples: Vec<Value> = serde_json::from_str(include_str!(
            "../../../tests/fixtures/awsdocs_user_guide_examples/awsdocs_digest_file_examples.json"
        ))
        .expect("fixture parses");
        examples.into_iter().map(|e| e["digest"].clone()).collect()
    }

    #[test]
    fn keys_follow_cloudtrails_layout() {
        let at = datetime!(2024-03-07 09:05:59 UTC);
        assert_eq!(
            log_file_key(
                None,
                None,
                "123456789012",
                "eu-west-1",
                at,
                "AbCdEfGh01234567"
            ),
            "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/03/07/123456789012_CloudTrail_eu-west-1_20240307T0905Z_AbCdEfGh01234567.json.gz"
        );
        assert_eq!(
            log_file_key(
                Some("audit/logs"),
                Some("o-exampleorgid"),
                "111122223333",
                "us-east-1",
                at,
                "AbCdEfGh01234567"
            ),
            "audit/logs/AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/2024/03/07/111122223333_CloudTrail_us-east-1_20240307T0905Z_AbCdEfGh01234567.json.gz"
        );
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
    fn log_file_and_insights_file_keys_parse_back_with_their_kind() {
        let at = datetime!(2024-03-07 09:05:59 UTC);
        let (prefix, organization) = (Some("audit/logs"), Some("o-exampleorgid"));
        for kind in [RecordFileKind::LogFile, RecordFileKind::InsightFile] {
            let key_of = match kind {
                RecordFileKind::LogFile => log_file_key,
                RecordFileKind::InsightFile => insight_file_key,
            };
            let key = key_of(
                prefix,
                organization,
                "111122223333",
                "eu-west-1",
                at,
                "AbCdEfGh01234567",
            );
            assert!(key.contains(&format!("/{}/", kind.folder())), "{key}");
            assert_eq!(
                parse_record_file_key(prefix, organization, &key),
                Some((kind, "111122223333", "eu-west-1"))
            );
            assert_eq!(parse_record_file_key(None, organization, &key), None);
        }
        // The folder and the file name must name the same kind, and a digest is neither.
        let mixed = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/07/111122223333_CloudTrail-Insight_eu-west-1_20240307T0905Z_AbCdEfGh01234567.json.gz";
        assert_eq!(parse_record_file_key(None, None, mixed), None);
        let digest = aws_examples()[0]["digestS3Object"]
            .as_str()
            .expect("key")
            .to_owned();
        assert_eq!(parse_record_file_key(None, None, &digest), None);
    }
}
