//! The typed values of a record's core fields.

use std::fmt;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// A CloudTrail `eventVersion` of major version 1. AWS documents minor versions 0 to 11 and
/// says to compare the minor part as a number, so "1.05" and "1.5" are the same version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventVersion {
    minor: u8,
}

impl EventVersion {
    pub const NEWEST_MINOR: u8 = 11;

    pub const fn new(minor: u8) -> Self {
        Self { minor }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let refuse = || format!("\"{text}\" is not a CloudTrail eventVersion (1.0 to 1.11)");
        let minor = text.strip_prefix("1.").ok_or_else(refuse)?;
        if minor.is_empty() || minor.len() > 2 || !minor.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        let minor: u8 = minor.parse().map_err(|_| refuse())?;
        if minor > Self::NEWEST_MINOR {
            return Err(refuse());
        }
        Ok(Self { minor })
    }

    pub fn minor(self) -> u8 {
        self.minor
    }
}

impl fmt::Display for EventVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{:02}", self.minor)
    }
}

/// An `eventTime`: whole seconds in UTC, written exactly `YYYY-MM-DDTHH:MM:SSZ` as CloudTrail
/// writes it (log file and digest layouts, and sorting, rely on that one form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(i64);

impl EventTime {
    pub fn parse(text: &str) -> Result<Self, String> {
        let refuse = || format!("\"{text}\" is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ");
        let b = text.as_bytes();
        let shape_ok = b.len() == 20
            && [4, 7].iter().all(|&i| b[i] == b'-')
            && b[10] == b'T'
            && [13, 16].iter().all(|&i| b[i] == b':')
            && b[19] == b'Z'
            && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
                .iter()
                .all(|&i| b[i].is_ascii_digit());
        if !shape_ok {
            return Err(refuse());
        }
        let num = |range: std::ops::Range<usize>| {
            b[range]
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        };
        let month = Month::try_from(num(5..7) as u8).map_err(|_| refuse())?;
        let date = Date::from_calendar_date(num(0..4) as i32, month, num(8..10) as u8)
            .map_err(|_| refuse())?;
        let time = Time::from_hms(num(11..13) as u8, num(14..16) as u8, num(17..19) as u8)
            .map_err(|_| refuse())?;
        Ok(Self(
            PrimitiveDateTime::new(date, time)
                .assume_utc()
                .unix_timestamp(),
        ))
    }

    pub fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    pub fn to_offset_date_time(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_offset_date_time();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// CloudTrail's `eventType` values, and CloudTrail Lake's `ActivityLog` for events from
/// outside AWS (PutAuditEvents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    AwsApiCall,
    AwsServiceEvent,
    AwsConsoleAction,
    AwsConsoleSignIn,
    AwsCloudTrailInsight,
    AwsVpceEvent,
    ActivityLog,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::AwsApiCall,
        EventType::AwsServiceEvent,
        EventType::AwsConsoleAction,
        EventType::AwsConsoleSignIn,
        EventType::AwsCloudTrailInsight,
        EventType::AwsVpceEvent,
        EventType::ActivityLog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AwsApiCall => "AwsApiCall",
            EventType::AwsServiceEvent => "AwsServiceEvent",
            EventType::AwsConsoleAction => "AwsConsoleAction",
            EventType::AwsConsoleSignIn => "AwsConsoleSignIn",
            EventType::AwsCloudTrailInsight => "AwsCloudTrailInsight",
            EventType::AwsVpceEvent => "AwsVpceEvent",
            EventType::ActivityLog => "ActivityLog",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// CloudTrail's `eventCategory` values, and CloudTrail Lake's `ActivityAuditLog` for events
/// from outside AWS (PutAuditEvents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventCategory {
    Management,
    Data,
    Insight,
    NetworkActivity,
    ActivityAuditLog,
}

impl EventCategory {
    pub const ALL: [EventCategory; 5] = [
        EventCategory::Management,
        EventCategory::Data,
        EventCategory::Insight,
        EventCategory::NetworkActivity,
        EventCategory::ActivityAuditLog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventCategory::Management => "Management",
            EventCategory::Data => "Data",
            EventCategory::Insight => "Insight",
            EventCategory::NetworkActivity => "NetworkActivity",
            EventCategory::ActivityAuditLog => "ActivityAuditLog",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_minor_as_a_number() {
        assert_eq!(EventVersion::parse("1.05"), EventVersion::parse("1.5"));
        assert_eq!(EventVersion::parse("1.0").map(EventVersion::minor), Ok(0));
        assert_eq!(EventVersion::parse("1.11").map(EventVersion::minor), Ok(11));
        assert!(EventVersion::parse("1.10") > EventVersion::parse("1.09"));
        for bad in [
            "1.12", "2.0", "1.", "1", "", "1.001", "1.a", "01.05", " 1.05",
        ] {
            assert!(EventVersion::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn event_time_is_strict_and_round_trips() {
        let t = EventTime::parse("2024-02-29T23:59:59Z").expect("leap day");
        assert_eq!(t.to_string(), "2024-02-29T23:59:59Z");
        assert_eq!(
            EventTime::parse("1970-01-01T00:00:00Z").map(EventTime::unix_seconds),
            Ok(0)
        );
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00.123Z",
            "2024-01-01T00:00:00+00:00",
            "2024-01-01 00:00:00Z",
            "ThisIsAWrongEventTime",
            "",
        ] {
            assert!(EventTime::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn enums_parse_only_aws_spellings() {
        assert_eq!(
            EventType::parse("AwsVpceEvent"),
            Some(EventType::AwsVpceEvent)
        );
        assert_eq!(EventType::parse("awsapicall"), None);
        assert_eq!(
            EventCategory::parse("NetworkActivity"),
            Some(EventCategory::NetworkActivity)
        );
        assert_eq!(EventCategory::parse("Network"), None);
        assert_eq!(
            EventType::parse("ActivityLog"),
            Some(EventType::ActivityLog)
        );
        assert_eq!(
            EventCategory::parse("ActivityAuditLog"),
            Some(EventCategory::ActivityAuditLog)
        );
    }
}
