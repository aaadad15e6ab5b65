//! Parsers for the values several commands take: timestamps, the `--now` clock and the Region.

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// A timestamp option's value that is no timestamp.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a timestamp: use ISO 8601 (2024-08-01T12:00:00Z, \
     2024-08-01T14:00:00+02:00, 2024-08-01) or epoch seconds (1722513600)"
)]
pub(crate) struct TimestampError {
    text: String,
}

/// A `--now` value that is no RFC 3339 time. clap prints only this message, not its source,
/// so the message names the cause too.
#[derive(Debug, thiserror::Error)]
#[error("{text:?} is not an RFC 3339 time (2026-11-22T10:00:00Z): {source}")]
pub(crate) struct ClockError {
    text: String,
    source: time::error::Parse,
}

/// `--now`: the clock a command runs on instead of the real time.
pub(crate) fn parse_now(text: &str) -> Result<OffsetDateTime, ClockError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|source| ClockError {
        text: text.to_owned(),
        source,
    })
}

/// A timestamp as the AWS CLI takes one: epoch seconds (fractions allowed) or ISO 8601, UTC
/// when no offset is given.
pub(crate) fn parse_timestamp(text: &str) -> Result<OffsetDateTime, TimestampError> {
    let text = text.trim();
    if let Some(time) = parse_epoch_seconds(text) {
        return Ok(time);
    }
    // A space between date and time, as in "2024-08-01 12:00:00", reads like the T.
    let normalized = match text.as_bytes().get(10) {
        Some(b' ') => format!("{}T{}", &text[..10], &text[11..]),
        _ => text.to_owned(),
    };
    if let Ok(time) = OffsetDateTime::parse(&normalized, &Rfc3339) {
        return Ok(time);
    }
    if let Ok(time) = OffsetDateTime::parse(&normalized, &Iso8601::DEFAULT) {
        return Ok(time);
    }
    if let Ok(time) = PrimitiveDateTime::parse(&normalized, &Iso8601::DEFAULT) {
        return Ok(time.assume_offset(UtcOffset::UTC));
    }
    if let Ok(date) = Date::parse(&normalized, &Iso8601::DEFAULT) {
        return Ok(date.midnight().assume_utc());
    }
    Err(TimestampError {
        text: text.to_owned(),
    })
}

/// `1722513600` or `1722513600.25` (or negative), exactly: no float rounding.
fn parse_epoch_seconds(text: &str) -> Option<OffsetDateTime> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || whole.len() > 15 {
        return None;
    }
    let fraction: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(9)
        .collect();
    let nanos = whole.parse::<i128>().ok()? * 1_000_000_000 + fraction.parse::<i128>().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(if negative { -nanos } else { nanos }).ok()
}

/// The Region a command works in: `--region`, else the process environment's.
pub(crate) fn region(flag: Option<&str>) -> String {
    resolve_region(flag, |name| std::env::var(name).ok())
}

/// `--region`, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1 (empty values skipped).
pub(crate) fn resolve_region(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> String {
    [
        flag.map(str::to_owned),
        env("AWS_REGION"),
        env("AWS_DEFAULT_REGION"),
    ]
    .into_iter()
    .flatten()
    .find(|region| !region.is_empty())
    .unwrap_or_else(|| "us-east-1".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).expect("time")
    }

    #[test]
    fn timestamps_take_what_the_aws_cli_takes() {
        let noon = utc("2024-08-01T12:00:00Z");
        for text in [
            "2024-08-01T12:00:00Z",
            "2024-08-01T12:00:00+00:00",
            "2024-08-01T14:00:00+02:00",
            "2024-08-01T12:00:00",
            "2024-08-01 12:00:00",
            "2024-08-01T12:00:00.000Z",
            "2024-08-01T12:00Z",
            "20240801T120000Z",
            "1722513600",
            "1722513600.0",
        ] {
            assert_eq!(parse_timestamp(text), Ok(noon), "{text}");
        }
        assert_eq!(
            parse_timestamp("2024-08-01"),
            Ok(utc("2024-08-01T00:00:00Z"))
        );
        assert_eq!(
            parse_timestamp("1722513600.25"),
            Ok(noon + time::Duration::milliseconds(250))
        );
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-08-01T25:00:00Z",
            "1.2.3",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_refused_timestamp_shows_the_forms_taken() {
        assert_eq!(
            parse_timestamp(" yesterday ").map_err(|e| e.to_string()),
            Err(
                "\"yesterday\" is not a timestamp: use ISO 8601 (2024-08-01T12:00:00Z, \
                 2024-08-01T14:00:00+02:00, 2024-08-01) or epoch seconds (1722513600)"
                    .to_owned()
            )
        );
    }

    #[test]
    fn the_clock_is_rfc_3339() {
        assert_eq!(
            parse_now("2026-11-22T10:00:00Z").ok(),
            Some(utc("2026-11-22T10:00:00Z"))
        );
        let error = parse_now("2026-11-22").expect_err("a date alone");
        assert!(
            error
                .to_string()
                .starts_with("\"2026-11-22\" is not an RFC 3339 time (2026-11-22T10:00:00Z): "),
            "{error}"
        );
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn region_comes_from_the_flag_then_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        let both = env(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-2"),
        ]);
        assert_eq!(resolve_region(Some("ap-south-1"), both), "ap-south-1");
        assert_eq!(resolve_region(None, both), "eu-west-1");
        let default_only = env(&[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "eu-west-2")]);
        assert_eq!(resolve_region(None, default_only), "eu-west-2");
        assert_eq!(resolve_region(None, env(&[])), "us-east-1");
    }
}
