//! Metric-filter match alerts: the matches in forward's alert objects (see [`crate::alert`]),
//! as messages a person reads at a glance.
//!
//! ## One message per filter, not one per match
//!
//! The matches of one invocation (every alert object in the SQS batch, so up to 100 log files
//! gathered over about 10 seconds) are grouped by metric filter: by log group and filter name,
//! as filter names are unique only within a log group. Each group is one message, ordered by
//! eventTime, unless it is over SNS's 262,144 bytes: then it is cut into as few parts as fit,
//! each a run of consecutive matches, its subject saying `(2/3)`. A burst of a hundred root
//! logins is one message; a hundred matches of three filters are three.
//!
//! A message is:
//! - **Subject** (at most 100 printable ASCII characters; anything else becomes `?` and a
//!   longer subject is cut to 97 characters and `...`): `Cairn alert: {filter}: {eventName} by
//!   {who} in {region}` for one match; `{n} x {eventName} by {who} in {region}` when every match
//!   of the message is that, else `{n} matches incl. {first match}`.
//! - **Body**: the filter, its pattern, log group and trail; then each match numbered, with
//!   when, what (eventName and eventSource), who (the identity's short name, type and ARN),
//!   where (account, Region, source IP), whether it failed (errorCode), the eventID and the log
//!   file's `s3://` address; then the records as delivered, in CloudTrail's own
//!   `{"Records":[…]}` shape, one record a line. A record too large for any message is left out
//!   with a note (it is in the log file).
//! - **Message attributes**, for subscription filter policies: `filterName`, and `eventName`,
//!   `eventSource`, `account` and `region` of the message's matches. An attribute is a `String`
//!   when every match has the same value and a `String.Array` of the values when they differ,
//!   so a policy such as `{"eventName": ["StopLogging"]}` selects every message holding a
//!   StopLogging match, alone or grouped. One absent from every match is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::alert::{Alert, AlertMatch, EventSummary, IdentitySummary};
use crate::ports::notifier::{AttributeValue, MAX_SUBJECT_CHARS, Notification, message_bytes};

/// The account and Region of an alert's log stream (`[o-org_]{account}_CloudTrail_{region}`,
/// an organization trail's with its ID in front), which stand in for a record's own
/// recipientAccountId and awsRegion when it lacks them.
fn stream_account_region(alert: &Alert) -> (Option<&str>, Option<&str>) {
    match alert.log_stream.split_once("_CloudTrail_") {
        Some((owner, region)) => {
            let account = owner.rsplit_once('_').map_or(owner, |(_, account)| account);
            (Some(account), Some(region))
        }
        None => (None, None),
    }
}

/// A match to announce: match `index` of `alert`, which the caller numbers `source`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending<'a> {
    pub source: usize,
    pub index: usize,
    pub alert: &'a Alert,
}

impl<'a> Pending<'a> {
    fn found(&self) -> &'a AlertMatch {
        &self.alert.matches[self.index]
    }

    fn event(&self) -> &'a EventSummary {
        &self.found().event
    }

    fn account(&self) -> Option<&'a str> {
        self.event()
            .recipient_account_id
            .as_deref()
            .or(stream_account_region(self.alert).0)
    }

    fn region(&self) -> Option<&'a str> {
        self.event()
            .aws_region
            .as_deref()
            .or(stream_account_region(self.alert).1)
    }

    /// `ConsoleLogin by root in us-east-1`.
    fn summary(&self) -> String {
        let event = self.event();
        let mut text = format!(
            "{} by {}",
            event.event_name.as_deref().unwrap_or("an event"),
            who(&event.user_identity)
        );
        if let Some(region) = self.region() {
            text.push_str(" in ");
            text.push_str(region);
        }
        text
    }
}

/// One message of alerts.
#[derive(Debug, Clone)]
pub(super) struct AlertMessage {
    pub notification: Notification,
    pub log_group: String,
    pub filter_name: String,
    /// The matches announced, as `(source, index)` of their [`Pending`].
    pub members: Vec<(usize, usize)>,
}

/// The messages announcing `pending`: one per metric filter, or several when one would exceed
/// `max_bytes` (see the module documentation). Filters in the order their first match comes.
pub(super) fn messages(pending: &[Pending<'_>], max_bytes: usize) -> Vec<AlertMessage> {
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut groups: BTreeMap<(&str, &str), Vec<Pending<'_>>> = BTreeMap::new();
    for item in pending {
        let found = item.found();
        let key = (found.log_group.as_str(), found.filter_name.as_str());
        groups
            .entry(key)
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(*item);
    }
    order
        .into_iter()
        .flat_map(|key| {
            let mut members = groups.remove(&key).expect("every key has its group");
            // Stable: matches of one time keep their order in the files.
            members.sort_by(|a, b| a.event().event_time.cmp(&b.event().event_time));
            Group::new(members).messages(max_bytes)
        })
        .collect()
}

/// The matches of one filter, in eventTime order, each with its numbered block of text.
struct Group<'a> {
    members: Vec<Pending<'a>>,
    blocks: Vec<String>,
}

const RECORDS_INTRO: &str = "\nThe records, as delivered:\n";

impl<'a> Group<'a> {
    fn new(members: Vec<Pending<'a>>) -> Self {
        let blocks = members
            .iter()
            .enumerate()
            .map(|(i, member)| block(i + 1, member))
            .collect();
        Self { members, blocks }
    }

    fn first(&self) -> &'a AlertMatch {
        self.members[0].found()
    }

    /// The group's messages, the fewest that keep each within `max_bytes`.
    ///
    /// Parts are packed against a reserve for what every part carries besides its matches
    /// (the header and the attributes, at most those of the whole group); should a rendered
    /// part still be over, the reserve grows by the excess and packing starts again.
    fn messages(&self, max_bytes: usize) -> Vec<AlertMessage> {
        let total = self.members.len();
        let whole = 0..total;
        let mut reserve = self.header(whole.clone(), Some((total, total))).len()
            + RECORDS_INTRO.len()
            + r#"{"Records":[]}"#.len()
            + attribute_bytes(&attributes(&self.members));
        loop {
            let capacity = max_bytes.saturating_sub(reserve);
            let with_record: Vec<bool> = (0..total)
                .map(|i| self.member_bytes(i, true) <= capacity)
                .collect();
            let ranges = self.pack(capacity, &with_record);
            let parts = ranges.len();
            let messages: Vec<AlertMessage> = ranges
                .into_iter()
                .enumerate()
                .map(|(i, range)| {
                    let part = (parts > 1).then_some((i + 1, parts));
                    self.message(range, part, &with_record)
                })
                .collect();
            let largest = messages
                .iter()
                .map(|m| message_bytes(&m.notification))
                .max()
                .unwrap_or(0);
            if largest <= max_bytes || capacity == 0 {
                return messages;
            }
            reserve += largest - max_bytes;
        }
    }

    /// What member `i` adds to a message: its block, and its record with the separator or the
    /// note that it was left out.
    fn member_bytes(&self, i: usize, with_record: bool) -> usize {
        let record = if with_record {
            self.members[i].found().record.get().len() + ",\n".len()
        } else {
            left_out_note(self.members[i].found()).len()
        };
        self.blocks[i].len() + record
    }

    /// Consecutive runs of members, each within `capacity` (a member alone may be over it only
    /// without its record).
    fn pack(&self, capacity: usize, with_record: &[bool]) -> Vec<Range<usize>> {
        let mut ranges = Vec::new();
        let mut start = 0;
        let mut used = 0;
        for (i, &record) in with_record.iter().enumerate() {
            let bytes = self.member_bytes(i, record);
            if i > start && used + bytes > capacity {
                ranges.push(start..i);
                start = i;
                used = 0;
            }
            used += bytes;
        }
        ranges.push(start..with_record.len());
        ranges
    }

    fn message(
        &self,
        range: Range<usize>,
        part: Option<(usize, usize)>,
        with_record: &[bool],
    ) -> AlertMessage {
        let members = &self.members[range.clone()];
        let mut body = self.header(range.clone(), part);
        let mut records = Vec::new();
        for i in range {
            body.push_str(&self.blocks[i]);
            if with_record[i] {
                records.push(self.members[i].found().record.get());
            } else {
                body.push_str(&left_out_note(self.members[i].found()));
            }
        }
        body.push_str(RECORDS_INTRO);
        if records.is_empty() {
            body.push_str(r#"{"Records":[]}"#);
        } else {
            body.push_str("{\"Records\":[\n");
            body.push_str(&records.join(",\n"));
            body.push_str("\n]}");
        }
        let first = self.first();
        AlertMessage {
            notification: Notification {
                subject: Some(subject(&first.filter_name, part, members)),
                message: body,
                attributes: attributes(members),
            },
            log_group: first.log_group.clone(),
            filter_name: first.filter_name.clone(),
            members: members.iter().map(|m| (m.source, m.index)).collect(),
        }
    }

    /// What the message is about, before its matches.
    fn header(&self, range: Range<usize>, part: Option<(usize, usize)>) -> String {
        let first = self.first();
        let members = &self.members[range.clone()];
        let count = members.len();
        let times: Vec<&str> = members
            .iter()
            .filter_map(|m| m.event().event_time.as_deref())
            .collect();
        let when = match (times.first(), times.last()) {
            (Some(first), Some(last)) if first == last => format!(" at {first}"),
            (Some(first), Some(last)) => format!(" from {first} to {last}"),
            _ => String::new(),
        };
        let mut text = format!(
            "Metric filter {} matched {count} {}{when}.\n",
            first.filter_name,
            if count == 1 { "event" } else { "events" }
        );
        if let Some((part, parts)) = part {
            text.push_str(&format!(
                "Part {part} of {parts}: matches {} to {} of {}.\n",
                range.start + 1,
                range.end,
                self.members.len()
            ));
        }
        let trails: BTreeSet<&str> = members.iter().map(|m| m.alert.trail.as_str()).collect();
        text.push_str(&format!(
            "\nFilter:    {}\nPattern:   {}\nLog group: {}\n{}{}\n\n",
            first.filter_name,
            first.filter_pattern,
            first.log_group,
            if trails.len() == 1 {
                "Trail:     "
            } else {
                "Trails:    "
            },
            trails.into_iter().collect::<Vec<_>>().join(", ")
        ));
        text
    }
}

/// One match, numbered `number`:
///
/// ```text
/// 1. 2026-11-20T10:05:12Z: ConsoleLogin (signin.amazonaws.com) by root
///    account 123456789012, us-east-1, from 203.0.113.77: succeeded
///    identity: Root arn:aws:iam::123456789012:root
///    event ID: 0f8e6d4c-…
///    log file: s3://cairn-trail-123456789012/audit/AWSLogs/…json.gz
/// ```
fn block(number: usize, member: &Pending<'_>) -> String {
    let event = member.event();
    let mut text = format!(
        "{number}. {}: {}",
        event.event_time.as_deref().unwrap_or("(no eventTime)"),
        event.event_name.as_deref().unwrap_or("(no eventName)")
    );
    if let Some(source) = &event.event_source {
        text.push_str(&format!(" ({source})"));
    }
    text.push_str(&format!(" by {}\n   ", who(&event.user_identity)));
    let place: Vec<String> = [
        member.account().map(|account| format!("account {account}")),
        member.region().map(str::to_owned),
        event
            .source_ip_address
            .as_ref()
            .map(|ip| format!("from {ip}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !place.is_empty() {
        text.push_str(&place.join(", "));
        text.push_str(": ");
    }
    match &event.error_code {
        Some(code) => text.push_str(&format!("failed, {code}\n")),
        None => text.push_str("succeeded\n"),
    }
    let identity = &event.user_identity;
    let identity: Vec<&str> = [identity.identity_type.as_deref(), identity.arn.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !identity.is_empty() {
        text.push_str(&format!("   identity: {}\n", identity.join(" ")));
    }
    if let Some(id) = &event.event_id {
        text.push_str(&format!("   event ID: {id}\n"));
    }
    let file = &member.alert.log_file;
    text.push_str(&format!(
        "   log file: s3://{}/{}\n",
        file.s3_bucket, file.s3_object_key
    ));
    text
}

fn left_out_note(found: &AlertMatch) -> String {
    format!(
        "   record:   left out: its {} bytes do not fit in one SNS message; it is in the log file\n",
        found.record.get().len()
    )
}

/// A short name for who acted: `root`, a user's name, `Role/session` for an assumed role;
/// else the identity type.
fn who(identity: &IdentitySummary) -> String {
    if identity.identity_type.as_deref() == Some("Root") {
        return "root".to_owned();
    }
    if let Some(arn) = &identity.arn {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
        if let Some(role_session) = resource.strip_prefix("assumed-role/") {
            return role_session.to_owned();
        }
        return resource.rsplit('/').next().unwrap_or(resource).to_owned();
    }
    identity
        .identity_type
        .clone()
        .unwrap_or_else(|| "an unknown identity".to_owned())
}

fn subject(filter: &str, part: Option<(usize, usize)>, members: &[Pending<'_>]) -> String {
    let label = match part {
        Some((part, parts)) => format!("Cairn alert ({part}/{parts}): {filter}: "),
        None => format!("Cairn alert: {filter}: "),
    };
    let first = members[0].summary();
    let what = if members.len() == 1 {
        first
    } else if members.iter().all(|m| m.summary() == first) {
        format!("{} x {first}", members.len())
    } else {
        format!("{} matches incl. {first}", members.len())
    };
    fit_subject(&(label + &what))
}

/// `text` as an SNS subject: characters other than printable ASCII become `?` (SNS refuses
/// them), and past [`MAX_SUBJECT_CHARS`] it is cut, ending in `...`.
pub(super) fn fit_subject(text: &str) -> String {
    let printable: String = text
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    if printable.len() <= MAX_SUBJECT_CHARS {
        return printable;
    }
    // All ASCII now: every byte is a character boundary.
    format!("{}...", &printable[..MAX_SUBJECT_CHARS - 3])
}

/// What an attribute takes from a match.
type Field = for<'m, 'a> fn(&'m Pending<'a>) -> Option<&'a str>;

/// The message attributes of `members` (see the module documentation).
fn attributes(members: &[Pending<'_>]) -> BTreeMap<String, AttributeValue> {
    let mut attributes = BTreeMap::new();
    let filter = &members[0].found().filter_name;
    attributes.insert(
        "filterName".to_owned(),
        AttributeValue::from(filter.as_str()),
    );
    let fields: [(&str, Field); 4] = [
        ("eventName", |m| m.event().event_name.as_deref()),
        ("eventSource", |m| m.event().event_source.as_deref()),
        ("account", |m| m.account()),
        ("region", |m| m.region()),
    ];
    for (name, field) in fields {
        let values: BTreeSet<String> = members
            .iter()
            .filter_map(field)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .collect();
        let value = match values.len() {
            0 => continue,
            1 => AttributeValue::String(values.into_iter().next().expect("one value")),
            _ => AttributeValue::StringArray(values.into_iter().collect()),
        };
        attributes.insert(name.to_owned(), value);
    }
    attributes
}

fn attribute_bytes(attributes: &BTreeMap<String, AttributeValue>) -> usize {
    message_bytes(&Notification {
        attributes: attributes.clone(),
        ..Notification::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertError;
    use crate::notify::test_support::{KEY, alert_json, record, root};
    use crate::ports::notifier::{MAX_MESSAGE_BYTES, check_notification};
    use serde_json::{Value, json};

    fn alert_object(matches: &[(&str, Value)]) -> Alert {
        Alert::parse(alert_json(matches).as_bytes()).expect("alert object")
    }

    fn all(alert: &Alert) -> Vec<Pending<'_>> {
        (0..alert.matches.len())
            .map(|index| Pending {
                source: 0,
                index,
                alert,
            })
            .collect()
    }

    #[test]
    fn one_match_reads_at_a_glance_and_carries_its_record() {
        let root_login = record(
            "ConsoleLogin",
            "2026-11-20T10:05:12Z",
            root(),
            json!({"responseElements": {"ConsoleLogin": "Success"}}),
        );
        let alert = alert_object(&[("RootAccountUsage", root_login.clone())]);
        let sent = messages(&all(&alert), MAX_MESSAGE_BYTES);
        assert_eq!(sent.len(), 1);
        let message = &sent[0];
        assert_eq!(
            message.notification.subject.as_deref(),
            Some("Cairn alert: RootAccountUsage: ConsoleLogin by root in us-east-1")
        );
        let record_text = alert.matches[0].record.get();
        assert_eq!(
            message.notification.message,
            format!(
                "Metric filter RootAccountUsage matched 1 event at 2026-11-20T10:05:12Z.\n\
                 \n\
                 Filter:    RootAccountUsage\n\
                 Pattern:   {{ $.filter = \"RootAccountUsage\" }}\n\
                 Log group: cairn/cloudtrail\n\
                 Trail:     main\n\
                 \n\
                 1. 2026-11-20T10:05:12Z: ConsoleLogin (signin.amazonaws.com) by root\n   \
                 account 123456789012, us-east-1, from 203.0.113.77: succeeded\n   \
                 identity: Root arn:aws:iam::123456789012:root\n   \
                 event ID: ConsoleLogin-2026-11-20T10:05:12Z\n   \
                 log file: s3://cairn-trail-123456789012/{KEY}\n\
                 \n\
                 The records, as delivered:\n\
                 {{\"Records\":[\n{record_text}\n]}}"
            )
        );
        // The record is there byte for byte, in CloudTrail's batch shape.
        let records_at = message.notification.message.find("{\"Records\":[").unwrap();
        let batch: Value =
            serde_json::from_str(&message.notification.message[records_at..]).expect("json");
        assert_eq!(batch["Records"][0], root_login);
        assert_eq!(
            message.notification.attributes,
            BTreeMap::from([
                ("filterName".into(), "RootAccountUsage".into()),
                ("eventName".into(), "ConsoleLogin".into()),
                ("eventSource".into(), "signin.amazonaws.com".into()),
                ("account".into(), "123456789012".into()),
                ("region".into(), "us-east-1".into()),
            ])
        );
        assert_eq!(message.members, [(0, 0)]);
        let subject = message.notification.subject.as_deref().unwrap();
        assert!(subject.starts_with("Cairn alert: "), "{subject}");
        assert_eq!(check_notification(&message.notification), Ok(()));
    }

    #[test]
    fn a_burst_is_one_message_per_filter() {
        let mut matches = Vec::new();
        for i in 0..100 {
            let time = format!("2026-11-20T10:{:02}:{:02}Z", i / 60, i % 60);
            matches.push((
                "RootAccountUsage",
                record("ConsoleLogin", &time, root(), json!({})),
            ));
            if i % 10 == 0 {
                let user = json!({"type": "IAMUser", "arn": format!("arn:aws:iam::123456789012:user/ops/user{i}")});
                matches.push((
                    "UnauthorizedAPICalls",
                    record(
                        "DescribeInstances",
                        &time,
                        user,
                        json!({"errorCode": "AccessDenied", "awsRegion": "eu-west-1"}),
                    ),
                ));
            }
        }
        let alert = alert_object(&matches);
        let sent = messages(&all(&alert), MAX_MESSAGE_BYTES);
        assert_eq!(sent.len(), 2);
        assert_eq!(
            sent[0].notification.subject.as_deref(),
            Some("Cairn alert: RootAccountUsage: 100 x ConsoleLogin by root in us-east-1")
        );
        assert_eq!(sent[0].members.len(), 100);
        assert_eq!(
            sent[1].notification.subject.as_deref(),
            Some(
                "Cairn alert: UnauthorizedAPICalls: 10 matches incl. DescribeInstances by user0 in eu-west-1"
            )
        );
        let body = &sent[1].notification.message;
        assert!(
            body.starts_with("Metric filter UnauthorizedAPICalls matched 10 events from 2026-11-20T10:00:00Z to 2026-11-20T10:01:30Z.\n"),
            "{body}"
        );
        assert!(body.contains("\n10. 2026-11-20T10:01:30Z: DescribeInstances (signin.amazonaws.com) by user90\n   account 123456789012, eu-west-1, from 203.0.113.77: failed, AccessDenied\n"), "{body}");
        // Every member once, in eventTime order.
        let positions: Vec<usize> = sent[1].members.iter().map(|&(_, index)| index).collect();
        let mut sorted = positions.clone();
        sorted.sort_by_key(|&index| alert.matches[index].event.event_time.clone());
        assert_eq!(positions, sorted);
        assert_eq!(positions.len(), 10);
    }

    #[test]
    fn attributes_list_every_value_of_a_grouped_message() {
        let user = |name: &str| json!({"type": "IAMUser", "arn": format!("arn:aws:iam::123456789012:user/{name}")});
        let alert = alert_object(&[
            (
                "IamChanges",
                record(
                    "CreateUser",
                    "2026-11-20T10:00:00Z",
                    user("a"),
                    json!({"eventSource": "iam.amazonaws.com"}),
                ),
            ),
            (
                "IamChanges",
                record(
                    "AttachUserPolicy",
                    "2026-11-20T10:00:01Z",
                    user("a"),
                    json!({"eventSource": "iam.amazonaws.com", "awsRegion": "eu-west-1"}),
                ),
            ),
            (
                "IamChanges",
                record(
                    "CreateUser",
                    "2026-11-20T10:00:02Z",
                    user("b"),
                    json!({"eventSource": "iam.amazonaws.com"}),
                ),
            ),
        ]);
        let sent = messages(&all(&alert), MAX_MESSAGE_BYTES);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].notification.attributes,
            BTreeMap::from([
                ("filterName".into(), "IamChanges".into()),
                (
                    "eventName".into(),
                    AttributeValue::StringArray(vec![
                        "AttachUserPolicy".into(),
                        "CreateUser".into()
                    ])
                ),
                ("eventSource".into(), "iam.amazonaws.com".into()),
                ("account".into(), "123456789012".into()),
                (
                    "region".into(),
                    AttributeValue::StringArray(vec!["eu-west-1".into(), "us-east-1".into()])
                ),
            ])
        );
        // Fields a record lacks are taken from the log stream, or left out.
        let bare = alert_object(&[(
            "Odd",
            json!({"eventTime": "2026-11-20T10:00:00Z", "userIdentity": {}}),
        )]);
        let sent = messages(&all(&bare), MAX_MESSAGE_BYTES);
        assert_eq!(
            sent[0].notification.attributes,
            BTreeMap::from([
                ("filterName".into(), "Odd".into()),
                ("account".into(), "123456789012".into()),
                ("region".into(), "us-east-1".into()),
            ])
        );
        assert_eq!(
            sent[0].notification.subject.as_deref(),
            Some("Cairn alert: Odd: an event by an unknown identity in us-east-1")
        );
        // An organization trail's stream has the organization's ID in front.
        let mut org = alert_object(&[("Odd", json!({"eventTime": "2026-11-20T10:00:00Z"}))]);
        org.log_stream = "o-exampleorgid_444455556666_CloudTrail_eu-west-1".to_owned();
        assert_eq!(
            stream_account_region(&org),
            (Some("444455556666"), Some("eu-west-1"))
        );
    }

    #[test]
    fn subjects_are_cut_at_100_printable_ascii_characters() {
        assert_eq!(fit_subject("short"), "short");
        let exact = "s".repeat(100);
        assert_eq!(fit_subject(&exact), exact);
        let over = format!("{exact}t");
        assert_eq!(fit_subject(&over), format!("{}...", "s".repeat(97)));
        // Multi-byte and control characters count one each and become '?', so the cut never
        // falls inside a character.
        let wide = format!("Cairn alert: {}", "é€😀\n".repeat(30));
        let fitted = fit_subject(&wide);
        assert_eq!(fitted.len(), 100);
        assert!(fitted.starts_with("Cairn alert: ????????"), "{fitted}");
        assert!(fitted.ends_with("..."));
        assert_eq!(fit_subject("caf\u{e9} \t"), "caf? ?");

        let session = json!({"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/Admin/jos\u{e9}-ünïcödé-session-with-a-very-long-name-indeed"});
        let alert = alert_object(&[(
            "AFilterWithAVeryLongNameThatGoesOnAndOnForMostOfTheSubjectLine",
            record("StopLogging", "2026-11-20T10:00:00Z", session, json!({})),
        )]);
        let subject = messages(&all(&alert), MAX_MESSAGE_BYTES)[0]
            .notification
            .subject
            .clone()
            .unwrap();
        assert_eq!(
            subject,
            "Cairn alert: AFilterWithAVeryLongNameThatGoesOnAndOnForMostOfTheSubjectLine: StopLogging by Admin..."
        );
        assert_eq!(subject.len(), 100);
    }

    #[test]
    fn a_group_too_large_for_one_message_is_cut_into_parts() {
        let big = "x".repeat(40_000);
        let matches: Vec<(&str, Value)> = (0..20)
            .map(|i| {
                let time = format!("2026-11-20T10:00:{i:02}Z");
                (
                    "Writes",
                    record("PutObject", &time, root(), json!({"padding": big})),
                )
            })
            .collect();
        let alert = alert_object(&matches);
        let sent = messages(&all(&alert), MAX_MESSAGE_BYTES);
        assert_eq!(sent.len(), 4, "6 records of 40 KB fit in a message");
        let mut announced = Vec::new();
        for (i, message) in sent.iter().enumerate() {
            assert_eq!(check_notification(&message.notification), Ok(()));
            let subject = message.notification.subject.as_deref().unwrap();
            assert!(
                subject.starts_with(&format!("Cairn alert ({}/4): Writes: ", i + 1)),
                "{subject}"
            );
            let body = &message.notification.message;
            let first = announced.len() + 1;
            announced.extend(message.members.iter().map(|&(_, index)| index));
            assert!(
                body.contains(&format!(
                    "Part {} of 4: matches {first} to {} of 20.\n",
                    i + 1,
                    announced.len()
                )),
                "{}",
                &body[..300]
            );
            let records_at = body.find("{\"Records\":[").unwrap();
            let batch: Value = serde_json::from_str(&body[records_at..]).expect("json");
            assert_eq!(
                batch["Records"].as_array().unwrap().len(),
                message.members.len()
            );
        }
        assert_eq!(announced, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn a_record_too_large_for_any_message_is_left_out_with_a_note() {
        let huge = "x".repeat(MAX_MESSAGE_BYTES);
        let alert = alert_object(&[
            (
                "Writes",
                record(
                    "PutObject",
                    "2026-11-20T10:00:00Z",
                    root(),
                    json!({"padding": huge}),
                ),
            ),
            (
                "Writes",
                record("PutObject", "2026-11-20T10:00:01Z", root(), json!({})),
            ),
        ]);
        let sent = messages(&all(&alert), MAX_MESSAGE_BYTES);
        assert_eq!(sent.len(), 1);
        let body = &sent[0].notification.message;
        assert_eq!(check_notification(&sent[0].notification), Ok(()));
        let size = alert.matches[0].record.get().len();
        assert!(
            body.contains(&format!("   record:   left out: its {size} bytes do not fit in one SNS message; it is in the log file\n")),
            "{}",
            &body[..1000]
        );
        let records_at = body.find("{\"Records\":[").unwrap();
        let batch: Value = serde_json::from_str(&body[records_at..]).expect("json");
        assert_eq!(batch["Records"].as_array().unwrap().len(), 1);
        assert_eq!(batch["Records"][0]["eventTime"], "2026-11-20T10:00:01Z");
    }

    #[test]
    fn filters_of_different_log_groups_are_different_groups() {
        let mut alert = alert_object(&[
            (
                "Same",
                record("A", "2026-11-20T10:00:00Z", root(), json!({})),
            ),
            (
                "Same",
                record("B", "2026-11-20T10:00:01Z", root(), json!({})),
            ),
        ]);
        alert.matches[1].log_group = "other/group".into();
        let sent = messages(&all(&alert), MAX_MESSAGE_BYTES);
        assert_eq!(
            sent.iter()
                .map(|m| (m.log_group.as_str(), m.members.clone()))
                .collect::<Vec<_>>(),
            [
                ("cairn/cloudtrail", vec![(0, 0)]),
                ("other/group", vec![(0, 1)])
            ]
        );
    }

    #[test]
    fn other_versions_and_shapes_are_refused() {
        assert!(matches!(
            Alert::parse(br#"{"version":2,"logFile":{"s3Bucket":"b","s3ObjectKey":"k"},"trail":"t","logStream":"s","matches":[]}"#),
            Err(AlertError::Version { found: 2 })
        ));
        assert!(matches!(Alert::parse(b"[]"), Err(AlertError::Json(_))));
    }
}
