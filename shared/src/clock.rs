//! Time as Cairn records it: whole seconds in UTC, as CloudTrail's records, keys, digests and
//! key windows state it. A leaf: records, keys and digests all read and write these times.

use std::fmt;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Text that is not a time in CloudTrail's one form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ")]
pub struct EventTimeError(String);

/// An `eventTime`: whole seconds in UTC, written exactly `YYYY-MM-DDTHH:MM:SSZ` as CloudTrail
/// writes it (log file and digest layouts, and sorting, rely on that one form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(i64);

impl EventTime {
    pub fn parse(text: &str) -> Result<Self, EventTimeError> {
        let refuse = || EventTimeError(text.to_owned());
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

/// `t` without its fraction of a second.
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).expect("0 is a valid nanosecond")
}

/// `t` without its fraction of a second, in UTC.
pub(crate) fn whole_utc_seconds(t: OffsetDateTime) -> OffsetDateTime {
    whole_seconds(t).to_offset(UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
