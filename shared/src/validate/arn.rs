//! Trail ARNs: `arn:{partition}:cloudtrail:{homeRegion}:{account}:trail/{name}`.

/// What a trail ARN says: the parts a digest key is named by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    pub arn: String,
    pub home_region: String,
    pub account: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid trail ARN provided: {0} (expected arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME, ACCOUNT being 12 digits)"
)]
pub struct InvalidTrailArn(pub String);

impl TrailArn {
    /// Accepts what aws-cli accepts (`arn:.+:cloudtrail:.+:\d{12}:trail/.+`), with non-empty
    /// parts.
    pub fn parse(arn: &str) -> Result<Self, InvalidTrailArn> {
        let invalid = || InvalidTrailArn(arn.to_owned());
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("cloudtrail"), Some(region), Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid());
        };
        let name = parts
            .next()
            .and_then(|resource| resource.strip_prefix("trail/"))
            .ok_or_else(invalid)?;
        let is_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        if partition.is_empty() || region.is_empty() || name.is_empty() || !is_account {
            return Err(invalid());
        }
        Ok(Self {
            arn: arn.to_owned(),
            home_region: region.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_arns_parse_into_their_parts() {
        let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-2:111122223333:trail/my_trail-1")
            .expect("valid");
        assert_eq!(arn.home_region, "us-east-2");
        assert_eq!(arn.account, "111122223333");
        assert_eq!(arn.name, "my_trail-1");
        assert!(TrailArn::parse("arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/t").is_ok());
    }

    #[test]
    fn what_aws_cli_refuses_is_refused() {
        for bad in [
            "",
            "my-trail",
            "arn:aws:cloudtrail:us-east-1:11112222333:trail/t",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/",
            "arn:aws:cloudtrail::111122223333:trail/t",
            "arn:aws:s3:us-east-1:111122223333:trail/t",
            "arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/t",
        ] {
            let error = TrailArn::parse(bad).expect_err(bad);
            assert!(error.to_string().contains(bad), "{error}");
        }
    }
}
