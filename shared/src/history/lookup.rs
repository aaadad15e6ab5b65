//! `LookupEvents` over the history: AWS's request, response, validation and errors.
//!
//! Semantics, as CloudTrail documents them:
//! - At most one lookup attribute; the value must equal the event's exactly (case included),
//!   and may not be empty (the API model's `LookupAttributeValue` has `min: 1`, which the AWS CLI
//!   checks before sending). Insights events are looked up by EventId, EventName and EventSource
//!   only (LookupEvents, API reference).
//! - EventCategory `insight` selects Insights events (eventCategory `Insight`); without it, only
//!   other events are shown ("If you do not specify an event category, events of the category
//!   are not returned", LookupEvents' EventCategory).
//! - StartTime and EndTime bound eventTime inclusively; EndTime defaults to now, StartTime to
//!   [`RETENTION_DAYS`](super::RETENTION_DAYS) before now, and nothing older than that is shown.
//! - Newest first; events of the same second by eventID, descending. An event stored twice
//!   (same eventTime and eventID) is shown once.
//! - MaxResults 1 to 50, default 50. A NextToken is returned only when more events match; it
//!   must come back with the same lookup attribute, StartTime and EndTime (and account and
//!   Region), and continues exactly after the last event returned, over the time range of the
//!   first call, so events delivered meanwhile neither repeat nor shift the pages.
//!
//! Cairn's extensions ([`Extensions`], when a query carries them): several lookup attributes,
//! all of which must match, and a CloudWatch Logs filter pattern each record must match.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::resource_name::resource_name;
use super::{hour_start, retention_floor};
use crate::filter::{FilterPattern, PatternError};
use crate::layout::{history_day_prefix, hour_of_history_key};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::record::{EventCategory, EventTime, Record};

/// The most events one call returns, and the default.
pub const MAX_RESULTS: i64 = 50;

/// The longest AttributeValue CloudTrail accepts, counting `_`, space, `,` and newline twice.
pub const MAX_ATTRIBUTE_VALUE_LENGTH: usize = 2000;

/// How far past `now` a lookup looks for events (clock skew of producers); an EndTime later
/// than that finds nothing more.
const FUTURE_SLACK: Duration = Duration::days(1);

/// `LookupAttributeKey`: what a lookup attribute filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl AttributeKey {
    /// In the order of AWS's enum.
    pub const ALL: [AttributeKey; 8] = [
        AttributeKey::EventId,
        AttributeKey::EventName,
        AttributeKey::ReadOnly,
        AttributeKey::Username,
        AttributeKey::ResourceType,
        AttributeKey::ResourceName,
        AttributeKey::EventSource,
        AttributeKey::AccessKeyId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttributeKey::EventId => "EventId",
            AttributeKey::EventName => "EventName",
            AttributeKey::ReadOnly => "ReadOnly",
            AttributeKey::Username => "Username",
            AttributeKey::ResourceType => "ResourceType",
            AttributeKey::ResourceName => "ResourceName",
            AttributeKey::EventSource => "EventSource",
            AttributeKey::AccessKeyId => "AccessKeyId",
        }
    }

    /// AWS's spelling only (the API is case-sensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.as_str() == text)
    }
}

/// `LookupAttribute`, as the request carries it; the key is checked by [`lookup`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LookupAttribute {
    pub attribute_key: String,
    pub attribute_value: String,
}

/// A `LookupEvents` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupQuery {
    /// At most one, unless [`LookupQuery::extensions`] allows several.
    pub lookup_attributes: Vec<LookupAttribute>,
    /// `insight` (the API's one value) for Insights events; `None` for the others.
    pub event_category: Option<String>,
    /// Inclusive; default [`RETENTION_DAYS`](super::RETENTION_DAYS) before now.
    pub start_time: Option<OffsetDateTime>,
    /// Inclusive; default now.
    pub end_time: Option<OffsetDateTime>,
    /// 1 to 50; default 50. Wide so that any number a caller passes gets AWS's error.
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    /// Cairn's extensions to the API; `None` is LookupEvents exactly.
    pub extensions: Option<Extensions>,
}

/// What Cairn's lookups add to LookupEvents: with these, several lookup attributes are allowed
/// and all of them must match, and a CloudWatch Logs filter pattern, when given, must match the
/// record's JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    pub filter_pattern: Option<String>,
}

/// A `LookupEvents` response. Serializes as the AWS CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupPage {
    pub events: Vec<LookupEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `Event`: one event as LookupEvents returns it. Serializes with AWS's member names and order,
/// absent members left out, and EventTime as AWS CLI v1 prints it: the wire's epoch seconds
/// as a number (`1424476529.0`, the User Guide's example in "Viewing CloudTrail events with the
/// AWS CLI"), as `list-public-keys` prints its times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// `"true"` or `"false"`: a string, as in the API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(serialize_with = "epoch_seconds")]
    pub event_time: EventTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Always present, empty when the event names no resources.
    pub resources: Vec<LookupResource>,
    /// The record's JSON, as stored in the history.
    pub cloud_trail_event: String,
}

/// `Resource`: one entry of the record's `resources`. ResourceType is the entry's `type`
/// (`AWS::IAM::Role`); ResourceName the name or ID its `ARN` (or `ARNPrefix`) names, by the
/// rules of [`resource_name`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
}

/// A timestamp as CloudTrail's JSON 1.1 wire carries it and AWS CLI v1 prints it: epoch
/// seconds as a floating-point number.
fn epoch_seconds<S: Serializer>(time: &EventTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(time.unix_seconds() as f64)
}

/// Why a lookup failed. The first five are CloudTrail's own errors; [`LookupError::code`] names
/// them as AWS does.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{0}")]
    InvalidLookupAttributes(String),
    #[error("{0}")]
    InvalidMaxResults(String),
    #[error("{0}")]
    InvalidTimeRange(String),
    #[error("{0}")]
    InvalidNextToken(String),
    #[error("{0}")]
    InvalidEventCategory(String),
    /// What the AWS CLI refuses before sending, checking the request against the API model
    /// (botocore's parameter validation), worded as it prints it.
    #[error("Parameter validation failed:\n{0}")]
    ParameterValidation(String),
    /// Cairn's extension: a filter pattern CloudWatch Logs would refuse.
    #[error("invalid filter pattern: {0}")]
    InvalidFilterPattern(#[source] PatternError),
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    /// A history object that cannot be read back: Cairn wrote something else there, or the
    /// object was damaged.
    #[error("history object s3://{bucket}/{key} is unreadable: {reason}")]
    Corrupt {
        bucket: String,
        key: String,
        reason: String,
    },
}

impl LookupError {
    /// AWS's error code for CloudTrail's own errors (`InvalidMaxResultsException`, …); `None`
    /// for failures of Cairn's storage.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            LookupError::InvalidLookupAttributes(_) => Some("InvalidLookupAttributesException"),
            LookupError::InvalidMaxResults(_) => Some("InvalidMaxResultsException"),
            LookupError::InvalidTimeRange(_) => Some("InvalidTimeRangeException"),
            LookupError::InvalidNextToken(_) => Some("InvalidNextTokenException"),
            LookupError::InvalidEventCategory(_) => Some("InvalidEventCategoryException"),
            LookupError::ParameterValidation(_)
            | LookupError::InvalidFilterPattern(_)
            | LookupError::Store(_)
            | LookupError::Corrupt { .. } => None,
        }
    }
}

/// The Username LookupEvents shows for a record: `root` for the root user, else
/// `userIdentity.userName`, else the name the identity's ARN ends with (the session name of an
/// assumed role, as in `arn:aws:sts::…:assumed-role/Role/session`; the federated user's name).
pub fn username<'a>(record: &'a Record<'_>) -> Option<Cow<'a, str>> {
    let identity = record.user_identity()?;
    if identity.identity_type.as_deref() == Some("Root") {
        return Some(Cow::Borrowed("root"));
    }
    if let Some(name) = identity
        .user_name
        .as_deref()
        .filter(|name| !name.is_empty())
    {
        return Some(Cow::Borrowed(name));
    }
    // arn:partition:service:region:account:resource
    let resource = identity.arn.as_deref()?.splitn(6, ':').nth(5)?;
    if resource == "root" {
        return Some(Cow::Borrowed("root"));
    }
    let (_, name) = resource.rsplit_once('/')?;
    (!name.is_empty()).then_some(Cow::Borrowed(name))
}

impl LookupEvent {
    /// The event for `record`, whose JSON `line` is what CloudTrailEvent carries.
    pub fn from_record(record: &Record<'_>, line: &str) -> Self {
        let identity = record.user_identity();
        LookupEvent {
            event_id: record.event_id().map(str::to_owned),
            event_name: record.event_name().map(str::to_owned),
            read_only: Some(record.is_read_only().to_string()),
            access_key_id: identity
                .and_then(|identity| identity.access_key_id.as_deref())
                .filter(|key| !key.is_empty())
                .map(str::to_owned),
            event_time: record.event_time(),
            event_source: record.event_source().map(str::to_owned),
            username: username(record).map(Cow::into_owned),
            resources: record
                .resources()
                .iter()
                .filter_map(|resource| {
                    let resource_type = resource.resource_type.as_deref().map(str::to_owned);
                    let resource_name = resource
                        .arn
                        .as_deref()
                        .or(resource.arn_prefix.as_deref())
                        .map(|arn| resource_name(arn).to_owned());
                    (resource_type.is_some() || resource_name.is_some()).then_some(LookupResource {
                        resource_type,
                        resource_name,
                    })
                })
                .collect(),
            cloud_trail_event: line.to_owned(),
        }
    }
}

/// One validated lookup attribute.
struct Filter {
    key: AttributeKey,
    value: String,
}

impl Filter {
    fn matches(&self, record: &Record<'_>) -> bool {
        let value = self.value.as_str();
        let identity = record.user_identity();
        match self.key {
            AttributeKey::EventId => record.event_id() == Some(value),
            AttributeKey::EventName => record.event_name() == Some(value),
            AttributeKey::EventSource => record.event_source() == Some(value),
            AttributeKey::ReadOnly => {
                value
                    == if record.is_read_only() {
                        "true"
                    } else {
                        "false"
                    }
            }
            AttributeKey::Username => username(record).as_deref() == Some(value),
            AttributeKey::AccessKeyId => {
                identity
                    .and_then(|identity| identity.access_key_id.as_deref())
                    .filter(|key| !key.is_empty())
                    == Some(value)
            }
            AttributeKey::ResourceType => record
                .resources()
                .iter()
                .any(|resource| resource.resource_type.as_deref() == Some(value)),
            AttributeKey::ResourceName => record.resources().iter().any(|resource| {
                resource
                    .arn
                    .as_deref()
                    .or(resource.arn_prefix.as_deref())
                    .map(resource_name)
                    == Some(value)
            }),
        }
    }
}

/// What a record must be to be found: a validated query's lookup attributes (all of them),
/// event category and, with Cairn's extensions, filter pattern. Also what a search of a trail's
/// log files selects records by.
pub struct Criteria {
    filters: Vec<Filter>,
    insight: bool,
    pattern: Option<FilterPattern>,
}

impl Criteria {
    /// Checks the query's lookup attributes, EventCategory and extensions as LookupEvents
    /// (and, for the extensions, CloudWatch Logs) does.
    pub fn new(query: &LookupQuery) -> Result<Self, LookupError> {
        let several = query.extensions.is_some();
        let insight = validate_event_category(query.event_category.as_deref())?;
        let filters = validate_attributes(&query.lookup_attributes, several, insight)?;
        let pattern = query
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.filter_pattern.as_deref())
            .map(FilterPattern::parse)
            .transpose()
            .map_err(LookupError::InvalidFilterPattern)?;
        Ok(Criteria {
            filters,
            insight,
            pattern,
        })
    }

    /// Whether `record`, whose JSON is `line`, is one to find. The filter pattern, the costliest
    /// test, runs last.
    pub fn matches(&self, record: &Record<'_>, line: &str) -> bool {
        self.record_matches(record) && self.pattern_matches(line)
    }

    /// The event category and the lookup attributes, on a parsed record.
    pub fn record_matches(&self, record: &Record<'_>) -> bool {
        (record.category() == EventCategory::Insight) == self.insight
            && self.filters.iter().all(|filter| filter.matches(record))
    }

    /// The filter pattern (true without one), on the record's JSON alone: a search can run it
    /// before parsing the record, which most records then need not be.
    pub fn pattern_matches(&self, line: &str) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|pattern| pattern.matches(line).is_some())
    }
}

/// AttributeValue's length as CloudTrail counts it.
fn attribute_value_length(value: &str) -> usize {
    value
        .chars()
        .map(|c| {
            if matches!(c, '_' | ' ' | ',' | '\n') {
                2
            } else {
                1
            }
        })
        .sum()
}

/// The attribute keys LookupEvents takes for Insights events (its API reference: "Lookup
/// supports the following attributes for Insights events: Event ID, Event name, Event source").
const INSIGHT_KEYS: [AttributeKey; 3] = [
    AttributeKey::EventId,
    AttributeKey::EventName,
    AttributeKey::EventSource,
];

fn validate_attributes(
    attributes: &[LookupAttribute],
    several: bool,
    insight: bool,
) -> Result<Vec<Filter>, LookupError> {
    let invalid = |message: String| Err(LookupError::InvalidLookupAttributes(message));
    if attributes.len() > 1 && !several {
        return invalid(format!(
            "LookupAttributes can contain only one item; {} were given.",
            attributes.len()
        ));
    }
    let mut filters = Vec::with_capacity(attributes.len());
    for (index, attribute) in attributes.iter().enumerate() {
        if attribute.attribute_value.is_empty() {
            // botocore's wording (ParamValidator, "Invalid length for parameter …").
            return Err(LookupError::ParameterValidation(format!(
                "Invalid length for parameter LookupAttributes[{index}].AttributeValue, value: \
                 0, valid min length: 1"
            )));
        }
        let Some(key) = AttributeKey::parse(&attribute.attribute_key) else {
            let keys: Vec<&str> = AttributeKey::ALL.iter().map(|k| k.as_str()).collect();
            return invalid(format!(
                "Value '{}' at 'lookupAttributes.{}.member.attributeKey' failed to satisfy \
                 constraint: Member must satisfy enum value set: [{}]",
                attribute.attribute_key,
                index + 1,
                keys.join(", ")
            ));
        };
        if insight && !INSIGHT_KEYS.contains(&key) {
            return invalid(format!(
                "Insights events cannot be looked up by {}: use EventId, EventName or \
                 EventSource.",
                key.as_str()
            ));
        }
        let length = attribute_value_length(&attribute.attribute_value);
        if length > MAX_ATTRIBUTE_VALUE_LENGTH {
            return invalid(format!(
                "The AttributeValue is {length} characters long (_, space, comma and newline \
                 count as two); the maximum is {MAX_ATTRIBUTE_VALUE_LENGTH}."
            ));
        }
        filters.push(Filter {
            key,
            value: attribute.attribute_value.clone(),
        });
    }
    Ok(filters)
}

/// Whether the EventCategory asks for Insights events; the API's enum has `insight` only.
fn validate_event_category(category: Option<&str>) -> Result<bool, LookupError> {
    match category {
        None => Ok(false),
        Some("insight") => Ok(true),
        Some(other) => Err(LookupError::InvalidEventCategory(format!(
            "Value '{other}' at 'eventCategory' failed to satisfy constraint: Member must \
             satisfy enum value set: [insight]"
        ))),
    }
}

fn validate_max_results(max_results: Option<i64>) -> Result<usize, LookupError> {
    let value = max_results.unwrap_or(MAX_RESULTS);
    let bound = if value < 1 {
        "greater than or equal to 1"
    } else if value > MAX_RESULTS {
        "less than or equal to 50"
    } else {
        return Ok(usize::try_from(value).unwrap_or(1));
    };
    Err(LookupError::InvalidMaxResults(format!(
        "Value '{value}' at 'maxResults' failed to satisfy constraint: Member must have value \
         {bound}"
    )))
}

/// Where a continuation starts and over which range: what a NextToken carries.
#[derive(Debug, Serialize, Deserialize)]
struct Token {
    /// Layout version.
    v: u8,
    /// Fingerprint of the request parameters the token belongs with.
    q: String,
    /// The range of the first call, in whole seconds, inclusive.
    s: i64,
    e: i64,
    /// The last event returned: its eventTime and sort id.
    t: i64,
    i: String,
}

const TOKEN_VERSION: u8 = 1;

impl Token {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a token serializes"))
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        let token: Token = serde_json::from_slice(&bytes).ok()?;
        (token.v == TOKEN_VERSION && token.s <= token.t && token.t <= token.e).then_some(token)
    }
}

/// Identifies the parameters a NextToken must come back with.
fn fingerprint(account: &str, region: &str, query: &LookupQuery) -> String {
    let nanos = |time: Option<OffsetDateTime>| time.map(|t| t.unix_timestamp_nanos().to_string());
    let attributes: Vec<(&str, &str)> = query
        .lookup_attributes
        .iter()
        .map(|a| (a.attribute_key.as_str(), a.attribute_value.as_str()))
        .collect();
    let pattern = query
        .extensions
        .as_ref()
        .map(|extensions| extensions.filter_pattern.as_deref());
    let canonical = serde_json::to_vec(&(
        account,
        region,
        attributes,
        nanos(query.start_time),
        nanos(query.end_time),
        query.event_category.as_deref(),
        pattern,
    ))
    .expect("parameters serialize");
    hex::encode(&Sha256::digest(&canonical)[..16])
}

/// The id that orders events of the same second: the eventID, or for the rare record without
/// one (eventVersion 1.0) a digest of its JSON, which no eventID looks like.
fn sort_id(record: &Record<'_>, line: &str) -> String {
    match record.event_id() {
        Some(id) => id.to_owned(),
        None => format!("~sha256:{}", hex::encode(Sha256::digest(line.as_bytes()))),
    }
}

/// An event's place in the order: newest first means the largest first.
type Position = (i64, String);

fn ceil_seconds(time: OffsetDateTime) -> i64 {
    let seconds = time.unix_timestamp();
    if time.nanosecond() > 0 {
        seconds + 1
    } else {
        seconds
    }
}

/// StartTime and EndTime as the inclusive bounds, in whole seconds, of an eventTime (which has
/// whole seconds); a range backwards is refused as LookupEvents refuses it.
pub fn time_range(start: OffsetDateTime, end: OffsetDateTime) -> Result<(i64, i64), LookupError> {
    if start > end {
        return Err(LookupError::InvalidTimeRange(format!(
            "The StartTime ({}) is after the EndTime ({}).",
            EventTime::from_unix_seconds(start.unix_timestamp()),
            EventTime::from_unix_seconds(end.unix_timestamp())
        )));
    }
    Ok((ceil_seconds(start), end.unix_timestamp()))
}

/// Looks up one page of `account`'s management events in `region`, as `LookupEvents` does.
///
/// `now` is the time of the request: it sets the default EndTime and StartTime and the 90-day
/// horizon. Reads only the days and hours the page needs: walking back from EndTime (or the
/// position the NextToken names), it stops as soon as it holds one event more than MaxResults,
/// which is how it knows a NextToken is due. Memory holds one object and one page at a time.
pub async fn lookup(
    store: &dyn ObjectStore,
    bucket: &str,
    account: &str,
    region: &str,
    query: &LookupQuery,
    now: OffsetDateTime,
) -> Result<LookupPage, LookupError> {
    let criteria = Criteria::new(query)?;
    let max_results = validate_max_results(query.max_results)?;
    let horizon = retention_floor(now);
    let (first, last) = time_range(
        query.start_time.unwrap_or(horizon),
        query.end_time.unwrap_or(now),
    )?;
    let fingerprint = fingerprint(account, region, query);
    let (low, high, cursor) = match &query.next_token {
        None => (first.max(ceil_seconds(horizon)), last, None),
        Some(text) => {
            let token = Token::decode(text).ok_or_else(|| {
                LookupError::InvalidNextToken(
                    "The NextToken is not one LookupEvents returned.".to_owned(),
                )
            })?;
            if token.q != fingerprint {
                return Err(LookupError::InvalidNextToken(
                    "The NextToken belongs to a lookup with other parameters: pass it with the \
                     same LookupAttributes, StartTime and EndTime, in the same account and \
                     Region."
                        .to_owned(),
                ));
            }
            (token.s, token.e, Some((token.t, token.i)))
        }
    };

    let mut page = HistoryWalk {
        store,
        bucket,
        account,
        region,
        criteria: &criteria,
        low,
        high,
        cursor: cursor.as_ref(),
        want: max_results + 1,
    }
    .run((now + FUTURE_SLACK).unix_timestamp())
    .await?;

    let more = page.len() > max_results;
    page.truncate(max_results);
    let next_token = page.last().filter(|_| more).map(|((t, i), _)| {
        Token {
            v: TOKEN_VERSION,
            q: fingerprint,
            s: low,
            e: high,
            t: *t,
            i: i.clone(),
        }
        .encode()
    });
    Ok(LookupPage {
        events: page.into_iter().map(|(_, event)| event).collect(),
        next_token,
    })
}

/// One lookup's walk over the history, newest hour first.
struct HistoryWalk<'q> {
    store: &'q dyn ObjectStore,
    bucket: &'q str,
    account: &'q str,
    region: &'q str,
    criteria: &'q Criteria,
    /// Inclusive bounds on eventTime, in seconds.
    low: i64,
    high: i64,
    /// Only events strictly after this position (older, or same second and smaller id).
    cursor: Option<&'q Position>,
    /// How many events to find before stopping.
    want: usize,
}

impl HistoryWalk<'_> {
    /// Up to `want` matching events in order, newest first. `latest` caps how far into the future
    /// the walk starts, whatever EndTime says.
    async fn run(&self, latest: i64) -> Result<Vec<(Position, LookupEvent)>, LookupError> {
        let mut found: Vec<(Position, LookupEvent)> = Vec::new();
        let mut top = self.high.min(latest);
        if let Some((t, _)) = self.cursor {
            top = top.min(*t);
        }
        if top < self.low {
            return Ok(found);
        }
        let low_hour = hour_start(self.low);
        let mut day = top.div_euclid(86_400) * 86_400;
        while day + 86_400 > low_hour && found.len() < self.want {
            let prefix = history_day_prefix(self.account, self.region, day);
            let mut hours: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            for entry in self.store.list_all(self.bucket, &prefix).await? {
                if let Some(hour) = hour_of_history_key(&entry.key).map(EventTime::unix_seconds)
                    && hour >= low_hour
                    && hour <= top
                {
                    hours.entry(hour).or_default().push(entry.key);
                }
            }
            for (_, keys) in hours.into_iter().rev() {
                let need = self.want - found.len();
                let mut best = self.read_hour(&keys, need).await?;
                while let Some(entry) = best.pop_last() {
                    found.push(entry);
                }
                if found.len() >= self.want {
                    break;
                }
            }
            day -= 86_400;
        }
        Ok(found)
    }

    /// The `need` newest matching events of one hour's objects.
    async fn read_hour(
        &self,
        keys: &[String],
        need: usize,
    ) -> Result<BTreeMap<Position, LookupEvent>, LookupError> {
        let mut best: BTreeMap<Position, LookupEvent> = BTreeMap::new();
        for key in keys {
            let object = self.store.get(self.bucket, key).await?;
            let corrupt = |reason: String| LookupError::Corrupt {
                bucket: self.bucket.to_owned(),
                key: key.clone(),
                reason,
            };
            let text = super::decode(key, &object.body).map_err(|e| corrupt(e.to_string()))?;
            for (number, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let raw: &RawValue = serde_json::from_str(line)
                    .map_err(|e| corrupt(format!("line {}: {e}", number + 1)))?;
                let record = Record::parse(raw, Some(number))
                    .map_err(|e| corrupt(format!("line {}: {e}", number + 1)))?;
                let time = record.event_time().unix_seconds();
                if time < self.low || time > self.high {
                    continue;
                }
                if !self.criteria.matches(&record, line) {
                    continue;
                }
                let position = (time, sort_id(&record, line));
                if self.cursor.is_some_and(|cursor| &position >= cursor) {
                    continue;
                }
                if best.len() == need
                    && best
                        .first_key_value()
                        .is_some_and(|(smallest, _)| &position < smallest)
                {
                    continue;
                }
                best.insert(position, LookupEvent::from_record(&record, line));
                if best.len() > need {
                    best.pop_first();
                }
            }
        }
        Ok(best)
    }
}
