//! The state bucket's keys: everything Cairn keeps for itself, each key shape written once
//! here with how long it is kept. `template.yaml`'s lifecycle rules and IAM resources are
//! checked against [`STATE_OBJECTS`] by `tests/state_bucket_layout.rs`.

use std::borrow::Cow;

use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::clock::EventTime;

/// How long objects under a key or prefix are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// A lifecycle rule expires them this many days after they are written.
    Days(u32),
    /// A lifecycle rule expires them after the number of days the template parameter holds.
    DaysParameter(&'static str),
    /// Cairn deletes them itself when they are no longer needed; no lifecycle rule.
    DeletedByCairn,
    /// Kept until a person deletes them; no lifecycle rule.
    Kept,
}

/// One key or prefix of the state bucket (a prefix ends with `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateObject {
    pub path: &'static str,
    pub holds: &'static str,
    pub retention: Retention,
}

pub const STAGING_PREFIX: &str = "staging/";
/// deliver's bookkeeping: the journal, the dedup records and the digest ledger.
pub const DELIVER_FOLDER: &str = "deliver/";
pub const JOURNAL_KEY: &str = "deliver/journal.json";
pub const SEEN_PREFIX: &str = "deliver/seen/";
pub const DIGEST_LEDGER_KEY: &str = "deliver/digests.json";
pub const PUBLIC_KEYS_KEY: &str = "public-keys.json";
pub const HISTORY_PREFIX: &str = "history/";
pub const FORWARD_PROGRESS_PREFIX: &str = "forward/progress/";
pub const ALERTS_PREFIX: &str = "alerts/";
/// deliver's Insights alerts, among the alert objects: a capitalized folder, which no bucket's
/// name can be, so it never meets a log file's alert object.
pub const INSIGHT_ALERTS_PREFIX: &str = "alerts/CloudTrail-Insight/";
pub const NOTIFY_SENT_PREFIX: &str = "notify/sent/";
pub const QUARANTINE_PREFIX: &str = "quarantine/";
pub const INSIGHTS_PREFIX: &str = "insights/";
/// Each delivery shard's own journal and dedup records, when `deliverShards` is more than one.
pub const SHARDS_FOLDER: &str = "deliver/shards/";
/// The shard count deliver last ran with, and since when.
pub const SHARD_COUNT_KEY: &str = "deliver/shard-count.json";

/// How a history object's name ends: JSON lines in an LZ4 frame.
const HISTORY_SUFFIX: &str = ".jsonl.lz4";
/// How it ended while the history was gzip: such objects stay readable for their 90 days.
const HISTORY_SUFFIX_BEFORE_LZ4: &str = ".jsonl.gz";
/// How the name of a history object that is a copy of a log file ends: `{"Records":[…]}`,
/// gzip, the log file's own bytes.
const HISTORY_LOG_FILE_SUFFIX: &str = ".json.gz";

/// How long the history keeps an event, as CloudTrail's event history does.
pub const HISTORY_RETENTION_DAYS: u32 = 90;

/// Progress markers, alert objects and sent markers matter while their log file is being
/// forwarded and announced: minutes, hours after a long outage.
const FORWARDING_RETENTION: Retention = Retention::Days(14);

/// Every key and prefix of the state bucket.
pub const STATE_OBJECTS: &[StateObject] = &[
    StateObject {
        path: STAGING_PREFIX,
        holds: "accepted events waiting for deliver (deliver removes what it delivered)",
        retention: Retention::DaysParameter("StagingExpiryDays"),
    },
    StateObject {
        path: JOURNAL_KEY,
        holds: "the delivery journal: the batch being delivered",
        retention: Retention::Kept,
    },
    StateObject {
        path: SEEN_PREFIX,
        holds: "dedup records: the eventIDs each batch delivered",
        retention: Retention::DeletedByCairn,
    },
    StateObject {
        path: SHARDS_FOLDER,
        holds: "per delivery shard (deliverShards > 1): its journal and its dedup records (deliver removes those)",
        retention: Retention::Kept,
    },
    StateObject {
        path: SHARD_COUNT_KEY,
        holds: "the shard count deliver last ran with, and when it changed (compare-and-swap)",
        retention: Retention::Kept,
    },
    StateObject {
        path: DIGEST_LEDGER_KEY,
        holds: "the digest ledger: each chain's next digest and its log files",
        retention: Retention::Kept,
    },
    StateObject {
        path: PUBLIC_KEYS_KEY,
        holds: "every digest signing key used, with its validity window",
        retention: Retention::Kept,
    },
    StateObject {
        path: HISTORY_PREFIX,
        holds: "the event history LookupEvents reads",
        retention: Retention::Days(HISTORY_RETENTION_DAYS),
    },
    StateObject {
        path: FORWARD_PROGRESS_PREFIX,
        holds: "forward's progress markers, one per log file",
        retention: FORWARDING_RETENTION,
    },
    StateObject {
        path: ALERTS_PREFIX,
        holds: "metric-filter matches waiting for notify, one object per log file, and deliver's Insights Starts, one object each",
        retention: FORWARDING_RETENTION,
    },
    StateObject {
        path: NOTIFY_SENT_PREFIX,
        holds: "notify's markers of the alerts it sent",
        retention: FORWARDING_RETENTION,
    },
    StateObject {
        path: INSIGHTS_PREFIX,
        holds: "Insights' per-minute counters and open anomalies, one document per account and Region, and per trail, account and Region for data events (deliver prunes them past the baseline window)",
        retention: Retention::Kept,
    },
    StateObject {
        path: QUARANTINE_PREFIX,
        holds: "staging objects deliver could not read, for a person to look at",
        retention: Retention::Kept,
    },
];

/// One of deliver's shards: the staged events of the (trail, account, Region) destinations it
/// owns, with its own journal and dedup records, so `count` deliver runs work side by side.
/// The only shard of an unsharded deployment keeps the original keys (`staging/`,
/// `deliver/journal.json`, `deliver/seen/`); shard `k` of more keeps them under `shard-{k}/` of
/// `staging/` and under `deliver/shards/{k}/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    index: u16,
    count: u16,
}

impl Shard {
    /// The only shard when deliver is not sharded.
    pub const ONLY: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; `None` when there is no such shard.
    pub fn new(index: u16, count: u16) -> Option<Shard> {
        (index < count).then_some(Shard { index, count })
    }

    /// Every shard of `count`, in order.
    pub fn all(count: u16) -> impl Iterator<Item = Shard> {
        (0..count).map(move |index| Shard { index, count })
    }

    pub fn index(self) -> u16 {
        self.index
    }

    pub fn count(self) -> u16 {
        self.count
    }

    fn sharded(self) -> bool {
        self.count > 1
    }

    /// Where this shard's staging objects are: listing it returns them oldest first.
    pub fn staging_prefix(self) -> Cow<'static, str> {
        if self.sharded() {
            Cow::Owned(format!("{STAGING_PREFIX}shard-{}/", self.index))
        } else {
            Cow::Borrowed(STAGING_PREFIX)
        }
    }

    /// `{staging prefix}{UTC time to the millisecond}-{16 random alphanumerics}.jsonl`: listing
    /// order is staging order, so deliver takes the oldest first.
    pub fn staging_key(self, now: OffsetDateTime, suffix: &str) -> String {
        let stamp = now
            .to_offset(time::UtcOffset::UTC)
            .format(format_description!(
                "[year][month][day]T[hour][minute][second][subsecond digits:3]Z"
            ))
            .expect("a UTC time always formats");
        format!("{}{stamp}-{suffix}.jsonl", self.staging_prefix())
    }

    /// The folders of staged events that none of `count` shards reads, for shard counts up to
    /// `most`: with one shard, every sharded folder (`staging/shard-`, one prefix); with more,
    /// `staging/` itself (its own objects, listed before any folder) and the folders of shards
    /// `count` and up.
    pub fn retired_staging_prefixes(count: u16, most: u16) -> Vec<String> {
        if count <= 1 {
            return vec![format!("{STAGING_PREFIX}shard-")];
        }
        std::iter::once(STAGING_PREFIX.to_owned())
            .chain((count..most).map(|index| format!("{STAGING_PREFIX}shard-{index}/")))
            .collect()
    }

    pub fn journal_key(self) -> Cow<'static, str> {
        if self.sharded() {
            Cow::Owned(format!("{SHARDS_FOLDER}{}/journal.json", self.index))
        } else {
            Cow::Borrowed(JOURNAL_KEY)
        }
    }

    pub fn seen_prefix(self) -> Cow<'static, str> {
        if self.sharded() {
            Cow::Owned(format!("{SHARDS_FOLDER}{}/seen/", self.index))
        } else {
            Cow::Borrowed(SEEN_PREFIX)
        }
    }

    /// `{seen prefix}{YYYYMMDDTHHMMSSZ}-{batch}.txt`, dated by the batch's delivery time.
    pub fn seen_key(self, delivered_at: OffsetDateTime, batch: &str) -> String {
        let stamp = delivered_at
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .expect("a UTC time always formats");
        format!("{}{stamp}-{batch}.txt", self.seen_prefix())
    }
}

/// Whether `key`, listed under a shard's `prefix` ([`Shard::staging_prefix`]), is one of that
/// shard's staging objects rather than an object of a folder inside it. The only shard's
/// prefix, `staging/`, also lists the sharded folders `staging/shard-{k}/`, which sort after
/// every dated key (a letter after every digit), so its listing can stop at the first. Takes
/// the prefix the listing used, so checking a listed key allocates nothing.
pub fn is_staging_object_in(prefix: &str, key: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|name| !name.contains('/'))
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shard {} of {}", self.index, self.count)
    }
}

/// When ingest staged the objects at `key`: the time [`Shard::staging_key`] names it by.
pub fn parse_staging_key(key: &str) -> Option<OffsetDateTime> {
    let name = key.strip_prefix(STAGING_PREFIX)?;
    let name = name.rsplit_once('/').map_or(name, |(_, name)| name);
    let (stamp, _) = name.split_once('-')?;
    PrimitiveDateTime::parse(
        stamp,
        format_description!("[year][month][day]T[hour][minute][second][subsecond digits:3]Z"),
    )
    .ok()
    .map(PrimitiveDateTime::assume_utc)
}

/// A dedup record's delivery time and batch, from a key [`Shard::seen_key`] made.
pub fn parse_seen_key(key: &str) -> Option<(OffsetDateTime, &str)> {
    let rest = key.rsplit_once('/')?.1.strip_suffix(".txt")?;
    let (stamp, batch) = rest.split_once('-')?;
    let at = PrimitiveDateTime::parse(
        stamp,
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .ok()?;
    Some((at.assume_utc(), batch))
}

/// The progress marker of log file `bucket`/`key`.
pub fn forward_progress_key(bucket: &str, key: &str) -> String {
    format!("{FORWARD_PROGRESS_PREFIX}{bucket}/{key}.json")
}

/// The alert object of log file `bucket`/`key`.
pub fn alert_key(bucket: &str, key: &str) -> String {
    format!("{ALERTS_PREFIX}{bucket}/{key}.json")
}

/// The alert object of the Insights Start `shared_event_id` of `account` and `region`:
/// `alerts/CloudTrail-Insight/{account}/{region}/{sharedEventID}.json`.
pub fn insight_alert_key(account: &str, region: &str, shared_event_id: &str) -> String {
    format!(
        "{INSIGHT_ALERTS_PREFIX}{}/{}/{}.json",
        segment(account),
        segment(region),
        segment(shared_event_id)
    )
}

/// The sent marker of the alert object at `alert_key`.
pub fn notify_sent_key(alert_key: &str) -> String {
    format!("{NOTIFY_SENT_PREFIX}{alert_key}")
}

/// Where deliver moves the staging object at `staging_key` that it could not read.
pub fn quarantine_key(staging_key: &str) -> String {
    format!("{QUARANTINE_PREFIX}{staging_key}")
}

/// The Insights counters document of one account and Region, changed by compare-and-swap:
/// `insights/{account}/{region}/counters.json` for its management events, and
/// `insights/trails/{trail}/{account}/{region}/counters.json` for the data events the trail
/// named `data_trail` logs there (an account is 12 digits, so never `trails`).
pub fn insights_counters_key(data_trail: Option<&str>, account: &str, region: &str) -> String {
    let place = format!("{}/{}/counters.json", segment(account), segment(region));
    match data_trail {
        None => format!("{INSIGHTS_PREFIX}{place}"),
        Some(trail) => format!("{INSIGHTS_PREFIX}trails/{}/{place}", segment(trail)),
    }
}

/// Key of one history object: `history/{account}/{region}/{YYYY}/{MM}/{DD}/{HH}/{batch}.jsonl.lz4`,
/// for the UTC hour `hour` falls in (minutes, seconds and any offset are ignored: `hour` may be
/// any time of that hour, e.g. `record.event_time().to_offset_date_time()`).
///
/// Account, Region and batch are single key segments: anything but ASCII letters, digits, `-`,
/// `_` and `.` is percent-encoded (as are a lone `.` or `..`, and an empty value), so no value
/// can add a folder or step out of its own. Real account IDs and Region names pass unchanged.
/// The batch name must be the same on every retry of a delivery, so a retry rewrites its own
/// objects instead of adding copies.
pub fn history_key(account: &str, region: &str, hour: OffsetDateTime, batch: &str) -> String {
    history_key_ending(account, region, hour, batch, HISTORY_SUFFIX)
}

/// The key of a history object that is a copy of one of the batch's log files (see
/// [`history_key`]).
pub fn history_log_file_key(
    account: &str,
    region: &str,
    hour: OffsetDateTime,
    batch: &str,
) -> String {
    history_key_ending(account, region, hour, batch, HISTORY_LOG_FILE_SUFFIX)
}

/// Whether the history object `key` is a copy of a log file, rather than JSON lines.
pub fn is_history_log_file_key(key: &str) -> bool {
    key.ends_with(HISTORY_LOG_FILE_SUFFIX)
}

fn history_key_ending(
    account: &str,
    region: &str,
    hour: OffsetDateTime,
    batch: &str,
    suffix: &str,
) -> String {
    let seconds = hour.unix_timestamp();
    format!(
        "{}{:02}/{}{suffix}",
        history_day_prefix(account, region, seconds),
        utc(seconds).hour(),
        segment(batch)
    )
}

fn utc(seconds: i64) -> OffsetDateTime {
    EventTime::from_unix_seconds(seconds).to_offset_date_time()
}

/// The folder of one account and Region's objects for one day (`seconds` may be any time in it).
pub fn history_day_prefix(account: &str, region: &str, seconds: i64) -> String {
    let t = utc(seconds);
    format!(
        "{HISTORY_PREFIX}{}/{}/{:04}/{:02}/{:02}/",
        segment(account),
        segment(region),
        t.year(),
        u8::from(t.month()),
        t.day()
    )
}

/// A value as one key segment; see [`history_key`].
fn segment(value: &str) -> Cow<'_, str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if value.is_empty() {
        return Cow::Borrowed("%00");
    }
    if value == "." || value == ".." {
        return Cow::Owned("%2E".repeat(value.len()));
    }
    if value.bytes().all(plain) {
        return Cow::Borrowed(value);
    }
    let mut encoded = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if plain(b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(encoded)
}

/// The hour (its first second) a history key files its events under, if `key` is one.
pub fn hour_of_history_key(key: &str) -> Option<EventTime> {
    let rest = key.strip_prefix(HISTORY_PREFIX)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [account, region, year, month, day, hour, file] = parts.as_slice() else {
        return None;
    };
    let digits = |text: &str, len: usize| {
        (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u32>().ok())
            .flatten()
    };
    let named = [
        HISTORY_SUFFIX,
        HISTORY_SUFFIX_BEFORE_LZ4,
        HISTORY_LOG_FILE_SUFFIX,
    ]
    .iter()
    .any(|suffix| file.ends_with(suffix));
    if account.is_empty() || region.is_empty() || !named {
        return None;
    }
    let month = Month::try_from(u8::try_from(digits(month, 2)?).ok()?).ok()?;
    let date = Date::from_calendar_date(
        i32::try_from(digits(year, 4)?).ok()?,
        month,
        u8::try_from(digits(day, 2)?).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(u8::try_from(digits(hour, 2)?).ok()?, 0, 0).ok()?;
    Some(EventTime::from_unix_seconds(
        date.with_time(time).assume_utc().unix_timestamp(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliver_keeps_its_bookkeeping_in_its_folder() {
        for path in [
            JOURNAL_KEY,
            SEEN_PREFIX,
            DIGEST_LEDGER_KEY,
            SHARDS_FOLDER,
            SHARD_COUNT_KEY,
        ] {
            assert!(path.starts_with(DELIVER_FOLDER), "{path}");
        }
    }

    #[test]
    fn alert_keys_mirror_the_log_file() {
        assert_eq!(
            alert_key("b", "AWSLogs/1/CloudTrail/x.json.gz"),
            "alerts/b/AWSLogs/1/CloudTrail/x.json.gz.json"
        );
    }

    #[test]
    fn staging_keys_parse_back_to_their_time() {
        let at = time::macros::datetime!(2026-11-20 10:05:12.345 UTC);
        let key = Shard::ONLY.staging_key(at, "abcdefghijklmnop");
        assert_eq!(parse_staging_key(&key), Some(at));
        let sharded = Shard::new(1, 2)
            .unwrap()
            .staging_key(at, "abcdefghijklmnop");
        assert_eq!(
            sharded,
            "staging/shard-1/20261120T100512345Z-abcdefghijklmnop.jsonl"
        );
        assert_eq!(parse_staging_key(&sharded), Some(at));
        assert_eq!(parse_staging_key("staging/nonsense.jsonl"), None);
        assert_eq!(
            parse_staging_key("quarantine/20261120T100512345Z-a.jsonl"),
            None
        );
    }

    #[test]
    fn each_shard_keeps_its_own_keys_and_the_only_shard_the_original_ones() {
        let at = time::macros::datetime!(2026-11-20 10:05:12 UTC);
        assert_eq!(Shard::ONLY.journal_key(), JOURNAL_KEY);
        assert_eq!(Shard::ONLY.seen_prefix(), SEEN_PREFIX);
        assert_eq!(
            Shard::ONLY.seen_key(at, "b1"),
            "deliver/seen/20261120T100512Z-b1.txt"
        );
        let second = Shard::new(1, 2).unwrap();
        assert_eq!(second.journal_key(), "deliver/shards/1/journal.json");
        assert_eq!(
            second.seen_key(at, "b1"),
            "deliver/shards/1/seen/20261120T100512Z-b1.txt"
        );
        assert_eq!(parse_seen_key(&second.seen_key(at, "b1")), Some((at, "b1")));
        assert_eq!(Shard::new(2, 2), None);
        assert_eq!(
            Shard::all(3).map(Shard::index).collect::<Vec<_>>(),
            [0, 1, 2]
        );

        // The only shard's listing of staging/ meets the sharded folders last, and takes
        // none of their objects.
        let top = Shard::ONLY.staging_key(at, "a");
        let in_shard = second.staging_key(at, "a");
        assert!(top < in_shard);
        let owns = |shard: Shard, key: &str| is_staging_object_in(&shard.staging_prefix(), key);
        assert!(owns(Shard::ONLY, &top));
        assert!(!owns(Shard::ONLY, &in_shard));
        assert!(owns(second, &in_shard));
        assert!(!owns(second, &top));

        assert_eq!(Shard::retired_staging_prefixes(1, 4), ["staging/shard-"]);
        assert_eq!(
            Shard::retired_staging_prefixes(2, 4),
            ["staging/", "staging/shard-2/", "staging/shard-3/"]
        );
        assert_eq!(Shard::retired_staging_prefixes(4, 4), ["staging/"]);
    }
}
