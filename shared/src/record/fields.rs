//! The typed values of a record's core fields.

use std::fmt;

/// Text that is not an `eventVersion` Cairn knows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
#[error("\"{0}\" is not a CloudTrail eventVersion (1.0 to 1.11)")]
pub struct EventVersionError(String);

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

    pub fn parse(text: &str) -> Result<Self, EventVersionError> {
        let refuse = || EventVersionError(text.to_owned());
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
