//! Time as Cairn records it: whole seconds, as CloudTrail's keys, digests and key windows
//! state it.

use time::{OffsetDateTime, UtcOffset};

/// `t` without its fraction of a second.
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).expect("0 is a valid nanosecond")
}

/// `t` without its fraction of a second, in UTC.
pub(crate) fn whole_utc_seconds(t: OffsetDateTime) -> OffsetDateTime {
    whole_seconds(t).to_offset(UtcOffset::UTC)
}
