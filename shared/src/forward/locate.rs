//! Which trail's log file an object is, from its bucket and key alone.
//!
//! A log file of trail T is in T's bucket under
//! `[prefix/]AWSLogs/[o-org/]{account}/CloudTrail/{region}/{YYYY}/{MM}/{DD}/{account}_CloudTrail_{region}_{YYYYMMDDTHHmmZ}_{16 alphanumerics}.json.gz`,
//! and only an organization trail's folder holds accounts other than the configured one.
//! Anything else (digests, objects under other prefixes, other buckets) is not forward's.
//!
//! Two trails may deliver to the same bucket and prefix, and then a key fits both; when that
//! matters to the caller (the trails send to different log groups or topics), [`choose`] tells
//! them apart by the file's records.

use serde_json::value::RawValue;

use crate::config::Config;
use crate::layout;
use crate::record::Record;
use crate::trail::Trail;

/// A trail whose log file an object's key can be, with the account and Region the key names.
#[derive(Debug, Clone)]
pub struct LogFileOf<'c> {
    pub trail: &'c Trail,
    pub account: String,
    pub region: String,
}

impl LogFileOf<'_> {
    /// The log stream CloudTrail writes this account's and Region's events to.
    pub fn stream(&self) -> String {
        format!("{}_CloudTrail_{}", self.account, self.region)
    }
}

/// Every configured trail whose log file `bucket`/`key` can be, or why it is none's.
pub fn locate<'c>(
    config: &'c Config,
    bucket: &str,
    key: &str,
) -> Result<Vec<LogFileOf<'c>>, String> {
    let in_bucket: Vec<&Trail> = config
        .trails
        .iter()
        .filter(|trail| trail.bucket() == bucket)
        .collect();
    if in_bucket.is_empty() {
        return Err(format!(
            "s3://{bucket} is not the bucket of a configured trail"
        ));
    }
    let found: Vec<LogFileOf<'c>> = in_bucket
        .iter()
        .filter_map(|trail| {
            let (account, region) = parse(trail, &config.account_id, key)?;
            Some(LogFileOf {
                trail,
                account: account.to_owned(),
                region: region.to_owned(),
            })
        })
        .collect();
    if !found.is_empty() {
        return Ok(found);
    }
    let names: Vec<&str> = in_bucket.iter().map(|trail| trail.name()).collect();
    if key.contains(&format!("/{}/", layout::DIGEST_KIND)) {
        Err(format!(
            "s3://{bucket}/{key} is a digest file, not a log file"
        ))
    } else {
        Err(format!(
            "s3://{bucket}/{key} is not a CloudTrail log file of trail {} \
             ([prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz)",
            names.join(", trail ")
        ))
    }
}

/// Of trails sharing the folder a log file is in, the one whose file it is: the only one that
/// takes every record in it for that account and Region. `differing` names what sets the
/// trails apart for the caller ("log groups", "SNS topics"), for the reason when none or
/// several fit.
pub fn choose<'c>(
    config: &Config,
    candidates: Vec<LogFileOf<'c>>,
    records: &[&RawValue],
    differing: &str,
) -> Result<LogFileOf<'c>, String> {
    // A record that does not parse is selected by no trail (deliver writes only valid ones).
    let records: Vec<Option<Record<'_>>> = records
        .iter()
        .map(|raw| Record::parse(raw, None).ok())
        .collect();
    let names: Vec<&str> = candidates.iter().map(|file| file.trail.name()).collect();
    let names = names.join(", ");
    let mut fitting: Vec<LogFileOf<'c>> = candidates
        .into_iter()
        .filter(|file| {
            records.iter().all(|record| {
                record.as_ref().is_some_and(|record| {
                    file.trail
                        .selects(record, &config.account_id)
                        .is_some_and(|to| to.account_id == file.account && to.region == file.region)
                })
            })
        })
        .collect();
    match fitting.len() {
        1 => Ok(fitting.remove(0)),
        0 => Err(format!(
            "trails {names} deliver to this folder and send to different {differing}, and none \
             of them selects every record in the file"
        )),
        _ => Err(format!(
            "trails {names} deliver to this folder and send to different {differing}, and more \
             than one of them selects every record in the file; give them different \
             S3KeyPrefix values"
        )),
    }
}

/// (account, region) when `key` is a log file key of `trail`; only an organization trail's
/// folder holds other accounts than the configured one.
fn parse<'k>(trail: &Trail, account_id: &str, key: &'k str) -> Option<(&'k str, &'k str)> {
    let (account, region) =
        layout::parse_log_file_key(trail.prefix(), trail.organization_id(), key)?;
    (trail.organization_id().is_some() || account == account_id).then_some((account, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
accountId: "111122223333"
trails:
  - Name: main
    S3BucketName: trail-bucket
    S3KeyPrefix: audit/logs
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:111122223333:log-group:main:*
  - Name: org
    S3BucketName: org-bucket
    HomeRegion: us-east-1
    IsOrganizationTrail: true
    OrganizationId: o-exampleorgid
  - Name: plain
    S3BucketName: trail-bucket
    HomeRegion: eu-west-1
"#;

    fn config() -> Config {
        Config::from_yaml(CONFIG, "test").expect("config")
    }

    const NAME: &str = "111122223333_CloudTrail_eu-west-1_20261122T1005Z_AbCdEfGh01234567.json.gz";

    fn found(config: &Config, bucket: &str, key: &str) -> Vec<(String, String, String)> {
        locate(config, bucket, key)
            .unwrap_or_else(|why| panic!("{why}"))
            .into_iter()
            .map(|f| (f.trail.name().to_owned(), f.account, f.region))
            .collect()
    }

    #[test]
    fn log_files_are_attributed_to_their_trail() {
        let config = config();
        let key = format!("audit/logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/{NAME}");
        assert_eq!(
            found(&config, "trail-bucket", &key),
            [("main".into(), "111122223333".into(), "eu-west-1".into())]
        );
        let plain = format!("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/{NAME}");
        assert_eq!(found(&config, "trail-bucket", &plain)[0].0, "plain");
        let org_name = NAME.replace("111122223333", "444455556666");
        let org = format!(
            "AWSLogs/o-exampleorgid/444455556666/CloudTrail/eu-west-1/2026/11/22/{org_name}"
        );
        assert_eq!(
            found(&config, "org-bucket", &org),
            [("org".into(), "444455556666".into(), "eu-west-1".into())]
        );
        let located = locate(&config, "org-bucket", &org).unwrap();
        assert_eq!(located[0].stream(), "444455556666_CloudTrail_eu-west-1");
    }

    #[test]
    fn what_is_not_a_log_file_of_a_trail_says_why() {
        let config = config();
        let why = |bucket: &str, key: &str| locate(&config, bucket, key).expect_err(key);
        assert!(why("other", "AWSLogs/x").contains("not the bucket of a configured trail"));
        let digest = "audit/logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/22/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20261122T100000Z.json.gz";
        assert!(why("trail-bucket", digest).contains("digest file"));
        let cases = [
            // Another account in a plain trail's folder.
            format!(
                "AWSLogs/444455556666/CloudTrail/eu-west-1/2026/11/22/{}",
                NAME.replace("111122223333", "444455556666")
            ),
            // Another prefix.
            format!("elsewhere/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/{NAME}"),
            // A name of another region or day than its folders, or a bad unique part.
            format!("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/{NAME}"),
            format!("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/21/{NAME}"),
            format!(
                "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/{}",
                NAME.replace("AbCdEfGh01234567", "AbCd")
            ),
            format!("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/{NAME}.tmp"),
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/".to_owned(),
        ];
        for key in cases {
            assert!(
                why("trail-bucket", &key).contains("is not a CloudTrail log file of trail"),
                "{key}"
            );
        }
    }

    #[test]
    fn a_shared_folder_fits_every_trail_that_writes_there() {
        let yaml = CONFIG.replace("    S3KeyPrefix: audit/logs\n", "");
        let config = Config::from_yaml(&yaml, "test").expect("config");
        let key = format!("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/{NAME}");
        let names: Vec<String> = found(&config, "trail-bucket", &key)
            .into_iter()
            .map(|(name, _, _)| name)
            .collect();
        assert_eq!(names, ["main", "plain"]);
    }
}
