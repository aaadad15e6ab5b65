//! `--replay`: recorded events sent again as if they had just happened, so samples dated once
//! stay within what CloudWatch Logs accepts (PutLogEvents refuses events more than 14 days
//! old) on whatever day they are replayed.

use std::path::PathBuf;
use std::sync::LazyLock;

use anyhow::Result;
use cairn_shared::ingest::{event_data_checksum, is_event_data_checksum};
use regex::Regex;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::input::InputFile;

/// A UTC timestamp as CloudTrail writes `eventTime` and EventBridge its `time`
/// (`YYYY-MM-DDTHH:MM:SSZ`), with or without a fraction of a second. It is found anywhere in
/// the text, so the `eventTime` inside a PutAuditEvents `eventData` string moves too.
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z")
        .expect("a valid pattern")
});

/// Where the seconds of a matched timestamp end: what follows (a fraction, the `Z`) is kept.
const SECONDS_END: usize = 19;

/// One shift for every timestamp of a set of event files: the whole number of days that brings
/// the newest into the day before the clock. Whole days keep each event's time of day, so
/// replays on the same day give the same records (deliver then skips them as copies).
pub(crate) struct Replay {
    shift: Duration,
}

impl Replay {
    /// The shift for `paths` replayed at `now`, reading each file once to find its newest
    /// timestamp; none when the files hold no timestamp.
    pub(crate) fn at(now: OffsetDateTime, paths: &[PathBuf]) -> Result<Option<Self>> {
        let mut newest = None;
        for path in paths {
            let file = InputFile::read(path)?;
            newest = newest.max(timestamps(&file.text()).max());
        }
        Ok(newest.map(|newest| Self {
            shift: days_to_bring_within_a_day(newest, now),
        }))
    }

    /// `body` with every timestamp moved by the shift. A PutAuditEvents event's
    /// `eventDataChecksum` that was right for its `eventData` is made right for the moved one.
    pub(crate) fn apply(&self, body: &str) -> String {
        let moved = self.move_timestamps(body);
        let Ok(mut audit) = serde_json::from_str::<AuditBody>(body) else {
            return moved;
        };
        for event in &mut audit.audit_events {
            let Some(Value::String(data)) = event.get("eventData") else {
                continue;
            };
            let moved_data = self.move_timestamps(data);
            let checksum_was_right = matches!(
                event.get("eventDataChecksum"),
                Some(Value::String(checksum)) if is_event_data_checksum(checksum, data)
            );
            if checksum_was_right {
                let checksum = event_data_checksum(&moved_data);
                event.insert("eventDataChecksum".to_owned(), checksum.into());
            }
            event.insert("eventData".to_owned(), moved_data.into());
        }
        serde_json::to_string(&audit).expect("JSON values serialize")
    }

    fn move_timestamps(&self, text: &str) -> String {
        TIMESTAMP
            .replace_all(text, |found: &regex::Captures<'_>| {
                let text = &found[0];
                match OffsetDateTime::parse(text, &Rfc3339) {
                    Ok(time) => {
                        format!(
                            "{}{}",
                            to_the_second(time + self.shift),
                            &text[SECONDS_END..]
                        )
                    }
                    Err(_) => text.to_owned(),
                }
            })
            .into_owned()
    }
}

/// A PutAuditEvents body, its events' members as they came.
#[derive(serde::Deserialize, serde::Serialize)]
struct AuditBody {
    #[serde(rename = "auditEvents")]
    audit_events: Vec<Map<String, Value>>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

fn timestamps(text: &str) -> impl Iterator<Item = OffsetDateTime> + '_ {
    TIMESTAMP
        .find_iter(text)
        .filter_map(|found| OffsetDateTime::parse(found.as_str(), &Rfc3339).ok())
}

/// The whole days to add to `newest` so that it lands after `now` less a day and not after `now`.
fn days_to_bring_within_a_day(newest: OffsetDateTime, now: OffsetDateTime) -> Duration {
    let behind = (now - newest).whole_seconds();
    Duration::days(behind.div_euclid(Duration::DAY.whole_seconds()))
}

/// `YYYY-MM-DDTHH:MM:SS`, the part of a timestamp a shift rewrites.
fn to_the_second(time: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn replayed(now: OffsetDateTime, texts: &[&str]) -> Vec<String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths: Vec<PathBuf> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let path = dir.path().join(format!("{i}.json"));
                std::fs::write(&path, text).expect("write");
                path
            })
            .collect();
        match Replay::at(now, &paths).expect("read") {
            Some(replay) => texts.iter().map(|text| replay.apply(text)).collect(),
            None => texts.iter().map(|text| (*text).to_owned()).collect(),
        }
    }

    #[test]
    fn the_newest_lands_in_the_day_before_now_and_the_rest_keep_their_distance() {
        let texts = [
            r#"{"Records":[{"eventTime":"2026-11-20T10:00:05Z"},{"eventTime":"2026-11-20T10:07:30.250Z"}]}"#,
            r#"{"time":"2026-11-19T23:59:59Z","detail":{"eventTime":"2026-11-19T23:59:59Z"}}"#,
        ];
        let now = datetime!(2027-12-06 06:00:00 UTC);
        assert_eq!(
            replayed(now, &texts),
            [
                r#"{"Records":[{"eventTime":"2027-12-05T10:00:05Z"},{"eventTime":"2027-12-05T10:07:30.250Z"}]}"#,
                r#"{"time":"2027-12-04T23:59:59Z","detail":{"eventTime":"2027-12-04T23:59:59Z"}}"#,
            ]
        );
    }

    #[test]
    fn a_newest_at_the_time_of_day_of_now_lands_on_now() {
        let now = datetime!(2027-01-02 10:07:30 UTC);
        assert_eq!(
            replayed(now, &[r#"{"eventTime":"2026-11-20T10:07:30Z"}"#]),
            [r#"{"eventTime":"2027-01-02T10:07:30Z"}"#]
        );
        let a_second_earlier = now - Duration::SECOND;
        assert_eq!(
            replayed(
                a_second_earlier,
                &[r#"{"eventTime":"2026-11-20T10:07:30Z"}"#]
            ),
            [r#"{"eventTime":"2027-01-01T10:07:30Z"}"#]
        );
    }

    #[test]
    fn timestamps_inside_json_strings_move_and_other_text_stays() {
        let text = r#"{"auditEvents":[{"eventData":"{\"eventTime\":\"2026-11-20T10:06:00Z\",\"month\":\"2026-10\",\"createDate\":\"Nov 20, 2026 10:05:12 AM\"}"}]}"#;
        let now = datetime!(2026-12-06 12:00:00 UTC);
        assert_eq!(
            replayed(now, &[text]),
            [text.replace("2026-11-20T10:06:00Z", "2026-12-06T10:06:00Z")]
        );
    }

    #[test]
    fn a_right_checksum_stays_right_and_a_wrong_one_stays_wrong() {
        let data = r#"{"eventTime":"2026-11-20T10:06:00Z"}"#;
        let body = serde_json::json!({"auditEvents": [
            {"id": "1", "eventData": data, "eventDataChecksum": event_data_checksum(data)},
            {"id": "2", "eventData": data, "eventDataChecksum": event_data_checksum("other")},
            {"id": "3", "eventData": data},
        ]})
        .to_string();
        let now = datetime!(2026-12-06 12:00:00 UTC);
        let moved = r#"{"eventTime":"2026-12-06T10:06:00Z"}"#;
        let replayed: Value =
            serde_json::from_str(&replayed(now, &[&body])[0]).expect("a JSON body");
        assert_eq!(
            replayed,
            serde_json::json!({"auditEvents": [
                {"id": "1", "eventData": moved, "eventDataChecksum": event_data_checksum(moved)},
                {"id": "2", "eventData": moved, "eventDataChecksum": event_data_checksum("other")},
                {"id": "3", "eventData": moved},
            ]})
        );
    }

    #[test]
    fn samples_from_the_future_move_back() {
        let now = datetime!(2026-11-01 00:00:00 UTC);
        assert_eq!(
            replayed(now, &[r#"{"eventTime":"2026-11-20T10:00:00Z"}"#]),
            [r#"{"eventTime":"2026-10-31T10:00:00Z"}"#]
        );
    }

    #[test]
    fn text_without_timestamps_is_left_alone() {
        let now = datetime!(2026-12-06 12:00:00 UTC);
        assert_eq!(replayed(now, &[r#"{"Records":[]}"#]), [r#"{"Records":[]}"#]);
    }
}
