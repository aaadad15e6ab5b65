//! AWS's naming rules (CloudTrail, Amazon S3, KMS, SNS, CloudWatch Logs, IAM) and the shapes
//! of ARNs, account IDs and Region names, with errors that say which rule a name breaks. A
//! leaf: configuration, selectors, trails and ingest all check names, and none of them owns
//! the rules.

pub(crate) mod arn;

pub(crate) use arn::is_account_id;
use arn::{Arn, is_region, regional};

/// A name that breaks one of AWS's rules; the message quotes the name and says which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("\"{name}\" is not a valid trail name: {rule}")]
    TrailName { name: String, rule: &'static str },
    #[error("\"{name}\" is not a valid S3 bucket name: {rule}")]
    BucketName { name: String, rule: String },
    #[error(
        "\"{0}\" is not an Organizations ID (o- followed by 10 to 32 lowercase letters or digits)"
    )]
    OrganizationId(String),
    #[error("\"{0}\" is not a KMS key: use alias/NAME, an alias ARN, a key ARN or a key ID")]
    KmsKeyId(String),
    #[error("\"{0}\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)")]
    SnsTopicArn(String),
    #[error(
        "\"{0}\" is not a CloudWatch Logs log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*)"
    )]
    LogGroupArn(String),
    #[error("\"{0}\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")]
    RoleArn(String),
    #[error("\"{0}\" is not a region name (such as us-east-1)")]
    Region(String),
}

/// Trail names, as CreateTrail's InvalidTrailNameException states the rules.
pub(crate) fn check_trail_name(name: &str) -> Result<(), NameError> {
    let refuse = |rule: &'static str| {
        Err(NameError::TrailName {
            name: name.to_owned(),
            rule,
        })
    };
    if !(3..=128).contains(&name.len()) {
        return refuse("it must be between 3 and 128 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return refuse(
            "it may contain only ASCII letters, numbers, periods (.), underscores (_) and dashes (-)",
        );
    }
    let bytes = name.as_bytes();
    if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return refuse("it must start and end with a letter or number");
    }
    if bytes
        .windows(2)
        .any(|pair| !pair[0].is_ascii_alphanumeric() && !pair[1].is_ascii_alphanumeric())
    {
        return refuse("it must not have adjacent periods, underscores or dashes");
    }
    if is_ip_shaped(name) {
        return refuse("it must not be in IP address format");
    }
    Ok(())
}

/// Four dot-separated groups of digits, such as 192.168.5.4.
fn is_ip_shaped(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|part| (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
}

/// Amazon S3's general purpose bucket naming rules, which CloudTrail applies to S3BucketName.
pub(crate) fn check_bucket_name(name: &str) -> Result<(), NameError> {
    check_bucket_name_shape(name)?;
    let refuse = |rule: &str| {
        Err(NameError::BucketName {
            name: name.to_owned(),
            rule: rule.to_owned(),
        })
    };
    if let Some(prefix) = ["xn--", "sthree-", "amzn-s3-demo-"]
        .into_iter()
        .find(|prefix| name.starts_with(prefix))
    {
        return refuse(&format!("the prefix {prefix} is reserved"));
    }
    if let Some(suffix) = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
        .into_iter()
        .find(|suffix| name.ends_with(suffix))
    {
        return refuse(&format!("the suffix {suffix} is reserved"));
    }
    Ok(())
}

/// The length and character rules alone. Selector values name buckets that may belong to
/// others, and AWS's own examples use the reserved `amzn-s3-demo-` names, so reserved
/// prefixes and suffixes are not held against them.
pub(crate) fn check_bucket_name_shape(name: &str) -> Result<(), NameError> {
    let refuse = |rule: &str| {
        Err(NameError::BucketName {
            name: name.to_owned(),
            rule: rule.to_owned(),
        })
    };
    if !(3..=63).contains(&name.len()) {
        return refuse("it must be between 3 and 63 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'))
    {
        return refuse(
            "it may contain only lowercase letters, numbers, periods (.) and hyphens (-)",
        );
    }
    let bytes = name.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return refuse("it must begin and end with a letter or number");
    }
    if name.contains("..") {
        return refuse("it must not contain two adjacent periods");
    }
    if is_ip_shaped(name) {
        return refuse("it must not be formatted as an IP address");
    }
    Ok(())
}

/// Organizations IDs: `o-` and 10 to 32 lowercase letters or digits.
pub(crate) fn check_organization_id(id: &str) -> Result<(), NameError> {
    let body = id.strip_prefix("o-").unwrap_or("");
    if (10..=32).contains(&body.len())
        && body
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(NameError::OrganizationId(id.to_owned()))
    }
}

/// The four forms CreateTrail documents for KmsKeyId: `alias/…`, an alias ARN, a key ARN, or
/// a key ID (a UUID, or `mrk-` and 32 hex digits for a multi-Region key).
pub(crate) fn check_kms_key_id(id: &str) -> Result<(), NameError> {
    let refuse = || Err(NameError::KmsKeyId(id.to_owned()));
    let resource = if id.starts_with("arn:") {
        match regional(id, "kms") {
            Some(arn) => arn.resource,
            None => return refuse(),
        }
    } else {
        id
    };
    let valid = if let Some(alias) = resource.strip_prefix("alias/") {
        !alias.is_empty()
            && alias.len() <= 250
            && alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-'))
    } else {
        let key = if id.starts_with("arn:") {
            resource.strip_prefix("key/").unwrap_or("")
        } else {
            resource
        };
        is_key_id(key)
    };
    if valid { Ok(()) } else { refuse() }
}

fn is_key_id(key: &str) -> bool {
    if let Some(hex) = key.strip_prefix("mrk-") {
        return hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `arn:<partition>:sns:<region>:<account>:<topic>`; topic names are 1 to 256 letters,
/// digits, hyphens and underscores (with `.fifo` for FIFO topics).
pub(crate) fn check_sns_topic_arn(text: &str) -> Result<(), NameError> {
    let valid = regional(text, "sns").is_some_and(|arn| {
        let name = arn.resource.strip_suffix(".fifo").unwrap_or(arn.resource);
        (1..=256).contains(&arn.resource.len())
            && !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    });
    if valid {
        Ok(())
    } else {
        Err(NameError::SnsTopicArn(text.to_owned()))
    }
}

/// `arn:<partition>:logs:<region>:<account>:log-group:<name>`, with or without the `:*` that
/// describe-trails prints. Returns the log group name.
pub(crate) fn log_group_name(text: &str) -> Result<&str, NameError> {
    regional(text, "logs")
        .and_then(|arn| arn.resource.strip_prefix("log-group:"))
        .map(|name| name.strip_suffix(":*").unwrap_or(name))
        .filter(|name| is_log_group_name(name))
        .ok_or_else(|| NameError::LogGroupArn(text.to_owned()))
}

/// CloudWatch Logs' rule for log group names: 1 to 512 of `[.-_/#A-Za-z0-9]`.
pub(crate) fn is_log_group_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'))
}

/// `arn:<partition>:iam::<account>:role/[path/]name`.
pub(crate) fn check_role_arn(text: &str) -> Result<(), NameError> {
    let valid = Arn::parse(text).is_some_and(|arn| {
        arn.service == "iam"
            && arn.region.is_empty()
            && is_account_id(arn.account)
            && arn
                .resource
                .strip_prefix("role/")
                .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
    });
    if valid {
        Ok(())
    } else {
        Err(NameError::RoleArn(text.to_owned()))
    }
}

/// A region name of the usual shape (see [`is_region`]).
pub(crate) fn check_region(region: &str) -> Result<(), NameError> {
    if is_region(region) {
        Ok(())
    } else {
        Err(NameError::Region(region.to_owned()))
    }
}
