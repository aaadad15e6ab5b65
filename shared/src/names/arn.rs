//! Just enough ARN structure to check the ARNs a configuration names.

/// `arn:partition:service:region:account-id:resource`, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN into its six parts; the resource part may itself contain colons.
    pub(crate) fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (is_partition(arn.partition) && !arn.service.is_empty()).then_some(arn)
    }
}

/// AWS partitions are `aws` and its hyphenated variants (`aws-cn`, `aws-us-gov`, `aws-iso-b`…);
/// the shape is checked rather than a list, so partitions AWS opens later still pass.
pub(crate) fn is_partition(text: &str) -> bool {
    text.strip_prefix("aws").is_some_and(|rest| {
        rest.is_empty()
            || rest.strip_prefix('-').is_some_and(|rest| {
                rest.split('-')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase()))
            })
    })
}

/// Region names are lowercase words and digits joined by hyphens (`us-east-1`). Any name of
/// that shape passes, so regions AWS opens later work without a release of Cairn.
pub(crate) fn is_region(text: &str) -> bool {
    text.contains('-')
        && text.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// An AWS account ID: exactly twelve digits.
pub(crate) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:<partition>:<service>:<region>:<account>:<resource>` with a real region and account,
/// the shape of every regional resource ARN a configuration names.
pub(crate) fn regional<'a>(text: &'a str, service: &str) -> Option<Arn<'a>> {
    Arn::parse(text)
        .filter(|arn| arn.service == service && is_region(arn.region) && is_account_id(arn.account))
}
