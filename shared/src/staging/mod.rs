//! The staging area: accepted events waiting for deliver, in the state bucket under `staging/`.
//!
//! ingest writes one staging object per request, holding every event of that request that some
//! trail or the event history takes, with the routing decided on arrival. deliver reads them in
//! key order (the key starts with the staging time), and removes them only once their log files
//! are written (see `delivery`).
//!
//! When deliver is sharded (`deliverShards`), each (trail, account, Region) destination belongs
//! to one shard, that of its account and Region ([`shard_of`]), and a request's events are
//! staged in one object per shard they reach, each holding the part of every event its shard
//! delivers ([`by_shard`]).

use std::borrow::Cow;
use std::io::Write as _;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::config::Config;
use crate::ids::random_id;
use crate::layout::Shard;
use crate::ports::object_store::{Condition, ObjectStore, ObjectStoreError, PutOptions};
use crate::record::{EventCategory, EventType, Record};
use crate::selectors::InsightSourceCategory;
use crate::trail::Destination;

/// One staged event: the raw record and what deliver needs to file it without re-validating it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedEvent<'a> {
    /// What makes two submissions the same event: the eventID, or for a record without one
    /// (eventVersion 1.0) `sha256:` and the hash of its bytes.
    #[serde(borrow)]
    pub dedup_key: Cow<'a, str>,
    /// The record's eventTime, as written there; deliver sorts log files by it.
    #[serde(borrow)]
    pub event_time: Cow<'a, str>,
    /// Every trail that takes the event, with its log file's account and region.
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route<'a>>,
    /// The (account, region) of the event history that keeps it, for management events.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub history: Option<(Cow<'a, str>, Cow<'a, str>)>,
    /// An Insights event (eventType AwsCloudTrailInsight): its trails get it in
    /// `CloudTrail-Insight` files, never in `CloudTrail` ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insight: bool,
    /// What Insights counts of the event: of a management event when a trail that takes it
    /// watches management events for Insights, of a data event when such a trail watches data
    /// events (deliver then counts it for each of its routes' trails that does).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<Counted<'a>>,
    /// The hash of the record's bytes, by which deliver tells a copy from a different record
    /// reusing its dedup key. `None` only in objects staged before ingest computed it; deliver
    /// then hashes the record itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_hash: Option<RecordHash>,
    /// The record's exact bytes (compact JSON, as ingest stores every record). Written and read
    /// by [`encode`] and [`read_staged`] around the fields above, never by serde alone: see
    /// [`encode`] for why.
    #[serde(skip)]
    pub record: &'a str,
}

/// The first 128 bits of SHA-256: what the dedup records keep of a dedup key and of a record's
/// bytes. A day of a busy account's events fits in memory, and a collision (about 2^-64 at a
/// billion events) is far less likely than any storage fault.
pub fn hash128(bytes: &[u8]) -> u128 {
    first_128_bits(&Sha256::digest(bytes))
}

fn first_128_bits(digest: &[u8]) -> u128 {
    u128::from_be_bytes(digest[..16].try_into().expect("SHA-256 has 32 bytes"))
}

/// [`hash128`] of a record's exact bytes, computed once at ingest, where the record is read
/// anyway: deliver, which every event of a shard passes through in turn, then reads 32 hex
/// digits rather than hashing about 1.3 KB per event. Written as those digits, as the dedup
/// records write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHash(pub u128);

impl RecordHash {
    pub fn of(record: &str) -> Self {
        RecordHash(hash128(record.as_bytes()))
    }
}

impl std::fmt::Display for RecordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl Serialize for RecordHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecordHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Hex;
        impl serde::de::Visitor<'_> for Hex {
            type Value = RecordHash;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("32 lowercase hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RecordHash, E> {
                // from_str_radix alone would take a sign, fewer digits or uppercase ones.
                if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(E::invalid_value(serde::de::Unexpected::Str(text), &self));
                }
                Ok(RecordHash(
                    u128::from_str_radix(text, 16).expect("32 hex digits fit 128 bits"),
                ))
            }
        }
        deserializer.deserialize_str(Hex)
    }
}

/// A call as Insights counts it (`[eventSource, eventName, rated, errorCode,
/// userIdentity.arn, userAgent]`), read once at ingest; `rated` when ApiCallRateInsight counts
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted<'a>(
    #[serde(borrow)] pub Cow<'a, str>,
    #[serde(borrow)] pub Cow<'a, str>,
    pub bool,
    #[serde(borrow)] pub Option<Cow<'a, str>>,
    #[serde(borrow)] pub Option<Cow<'a, str>>,
    #[serde(borrow)] pub Option<Cow<'a, str>>,
);

impl<'a> Counted<'a> {
    /// The call's facts when either Insights type counts it ("Working with CloudTrail
    /// Insights"): the call rate counts write management calls and every data call, the error
    /// rate calls with an errorCode.
    fn of(record: &Record<'a>, category: InsightSourceCategory) -> Option<Self> {
        let rated = category == InsightSourceCategory::Data || !record.is_read_only();
        let error = record.error_code();
        if !rated && error.is_none() {
            return None;
        }
        let owned = |text: Option<&str>| text.map(|text| Cow::Owned(text.to_owned()));
        Some(Counted(
            Cow::Owned(record.event_source()?.to_owned()),
            Cow::Owned(record.event_name()?.to_owned()),
            rated,
            owned(error),
            owned(record.user_identity().and_then(|who| who.arn.as_deref())),
            owned(record.user_agent()),
        ))
    }
}

/// A trail's choice of an event, as `[trail, account, region]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route<'a>(
    #[serde(borrow)] pub Cow<'a, str>,
    #[serde(borrow)] pub Cow<'a, str>,
    #[serde(borrow)] pub Cow<'a, str>,
);

impl Route<'_> {
    pub fn new(trail: &str, destination: Destination<'_>) -> Self {
        Route(
            Cow::Owned(trail.to_owned()),
            Cow::Owned(destination.account_id.to_owned()),
            Cow::Owned(destination.region.to_owned()),
        )
    }

    pub fn trail(&self) -> &str {
        &self.0
    }

    pub fn account(&self) -> &str {
        &self.1
    }

    pub fn region(&self) -> &str {
        &self.2
    }
}

impl<'a> StagedEvent<'a> {
    /// The record's hash: as ingest carried it, or for an object staged before ingest did,
    /// computed now.
    pub fn hash_of_record(&self) -> RecordHash {
        self.record_hash
            .unwrap_or_else(|| RecordHash::of(self.record))
    }

    /// Routes a validated record: every trail that selects it, and the event history when it is
    /// a management event (CloudTrail keeps those with no trail at all). `None` when nothing
    /// takes it, so there is nothing to stage.
    pub fn route(config: &Config, record: &Record<'a>) -> Option<Self> {
        let category = match record.category() {
            EventCategory::Management => Some(InsightSourceCategory::Management),
            EventCategory::Data => Some(InsightSourceCategory::Data),
            _ => None,
        };
        let mut watched = false;
        let routes: Vec<Route<'a>> = config
            .trails
            .iter()
            .filter_map(|trail| {
                let destination = trail.selects(record, &config.account_id)?;
                watched |= category.is_some_and(|c| trail.insight_selection().watches(c));
                Some(Route::new(trail.name(), destination))
            })
            .collect();
        let history = (record.category() == EventCategory::Management).then(|| {
            (
                Cow::Owned(
                    record
                        .recipient_account_id()
                        .unwrap_or(&config.account_id)
                        .to_owned(),
                ),
                Cow::Owned(record.delivery_region().to_owned()),
            )
        });
        if routes.is_empty() && history.is_none() {
            return None;
        }
        let counted = category
            .filter(|_| watched)
            .and_then(|c| Counted::of(record, c));
        let digest: [u8; 32] = Sha256::digest(record.raw().get().as_bytes()).into();
        Some(StagedEvent {
            dedup_key: dedup_key_of(record, || digest),
            event_time: Cow::Owned(record.event_time().to_string()),
            routes,
            history,
            insight: record.event_type() == EventType::AwsCloudTrailInsight,
            counted,
            record_hash: Some(RecordHash(first_128_bits(&digest))),
            record: record.raw().get(),
        })
    }
}

/// The eventID, or a hash of the exact bytes when the record predates eventIDs.
pub fn dedup_key<'a>(record: &Record<'a>) -> Cow<'a, str> {
    dedup_key_of(record, || {
        Sha256::digest(record.raw().get().as_bytes()).into()
    })
}

/// [`dedup_key`], taking the SHA-256 of the record's bytes from `digest` when it needs it.
fn dedup_key_of<'a>(record: &Record<'a>, digest: impl FnOnce() -> [u8; 32]) -> Cow<'a, str> {
    match record.event_id() {
        Some(id) => Cow::Owned(id.to_owned()),
        None => Cow::Owned(format!("sha256:{}", hex::encode(digest()))),
    }
}

/// The body of one staging object: one JSON object per event, each on its own line (ingest
/// stores records compact), with the record last and its length just before it:
/// `{"dedupKey":…,…,"recordHash":…,"recordBytes":1234,"record":{…}}`.
///
/// The length is what lets deliver, which reads every staged event, take the record's bytes
/// without scanning them: parsing a record as JSON cost most of reading a batch. Each event is
/// still one JSON object with the fields it always had, so a deliver of an earlier version,
/// which ignores `recordBytes`, reads these objects (during a deploy), and this one reads
/// theirs (see [`read_staged`]).
pub fn encode(events: &[StagedEvent<'_>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(events.iter().map(|event| event.record.len() + 200).sum());
    for event in events {
        serde_json::to_writer(&mut body, event).expect("a staged event always serializes");
        // The fields as serde wrote them, less the closing brace; dedupKey is always there, so
        // a comma follows.
        body.pop();
        write!(
            body,
            ",\"{RECORD_BYTES}\":{},\"{RECORD}\":",
            event.record.len()
        )
        .expect("writing into a Vec cannot fail");
        body.extend_from_slice(event.record.as_bytes());
        body.extend_from_slice(b"}\n");
    }
    body
}

/// What JSON allows between values.
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// The keys [`encode`] writes by hand.
const RECORD_BYTES: &str = "recordBytes";
const RECORD: &str = "record";

/// Parses a staging object's body; `key` names it in the error.
///
/// Every event is a compact JSON object whose keys are [`StagedEvent`]'s field names (serde
/// writes them so, and every ingest has). Each field but the record is read as a JSON value
/// and given to the derived deserializer; the record is taken as its `recordBytes` bytes when
/// those come first, and otherwise (objects staged before ingest wrote the length) parsed to
/// find its end.
pub fn read_staged<'a>(key: &str, body: &'a [u8]) -> Result<Vec<StagedEvent<'a>>, StagingError> {
    let corrupt = |why: String| StagingError::Corrupt {
        key: key.to_owned(),
        source: serde::de::Error::custom(why),
    };
    let text = std::str::from_utf8(body).map_err(|e| corrupt(format!("not UTF-8 text ({e})")))?;
    let mut events = Vec::new();
    let mut fields = Vec::new();
    let mut rest = text.trim_start_matches(JSON_WHITESPACE);
    while !rest.is_empty() {
        let at = text.len() - rest.len();
        let (event, after) = read_event(rest, &mut fields)
            .map_err(|why| corrupt(format!("event {} (byte {at}): {why}", events.len() + 1)))?;
        events.push(event);
        rest = after.trim_start_matches(JSON_WHITESPACE);
    }
    Ok(events)
}

/// Reads the event at the start of `text` and returns it with the text after it. `fields` is
/// scratch space, reused from event to event.
fn read_event<'a>(
    text: &'a str,
    fields: &mut Vec<(&'a str, &'a RawValue)>,
) -> Result<(StagedEvent<'a>, &'a str), String> {
    let mut rest = text.strip_prefix('{').ok_or("expected '{'")?;
    fields.clear();
    let mut record_bytes: Option<usize> = None;
    let mut record = None;
    loop {
        // Keys are field names: letters between quotes, then a colon.
        let (name, after) = rest
            .strip_prefix('"')
            .and_then(|quoted| quoted.split_once('"'))
            .filter(|(name, _)| name.bytes().all(|b| b.is_ascii_alphabetic()))
            .ok_or("expected a field name")?;
        rest = after
            .strip_prefix(':')
            .ok_or("expected ':' after a field name")?;
        if name == RECORD {
            let (raw, after) = match record_bytes {
                // As written, the record ends the event.
                Some(length) => rest
                    .get(..length)
                    .zip(rest.get(length..))
                    .filter(|(raw, after)| {
                        raw.starts_with('{') && raw.ends_with('}') && after.starts_with('}')
                    })
                    .ok_or_else(|| format!("recordBytes {length} do not span the record"))?,
                None => match value(rest)? {
                    (raw, after) if raw.get().starts_with('{') => (raw.get(), after),
                    _ => return Err("the record is not a JSON object".to_owned()),
                },
            };
            record = Some(raw);
            rest = after;
        } else {
            let (raw, after) = value(rest)?;
            if name == RECORD_BYTES {
                record_bytes = Some(
                    raw.get()
                        .parse()
                        .map_err(|_| "recordBytes is not a length")?,
                );
            } else {
                fields.push((name, raw));
            }
            rest = after;
        }
        match rest.as_bytes().first() {
            Some(b',') => rest = &rest[1..],
            Some(b'}') => break,
            _ => return Err("expected ',' or '}' after a field".to_owned()),
        }
    }
    let mut event = StagedEvent::deserialize(serde::de::value::MapDeserializer::<
        _,
        serde_json::Error,
    >::new(fields.drain(..)))
    .map_err(|e| e.to_string())?;
    event.record = record.ok_or("no record")?;
    Ok((event, &rest[1..]))
}

/// The JSON value at the start of `text`, and the text after it.
fn value(text: &str) -> Result<(&RawValue, &str), String> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    match values.next() {
        Some(Ok(raw)) => Ok((raw, &text[values.byte_offset()..])),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("expected a value".to_owned()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    #[error("staging object {key} is not what ingest writes: {source}")]
    Corrupt {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
}

/// The shard of `count` that delivers the log files of `account` and `region`, of every trail,
/// and keeps their event history and Insights counters.
///
/// Every (trail, account, Region) destination, hence every digest chain, belongs to one shard.
/// The trail is left out of the key because an event's routes and its event history almost
/// always share its (account, Region): the event is then staged whole in one shard, where a
/// key with the trail would stage an event most trails take once per trail's shard.
///
/// FNV-1a over the two names, so every ingest and deliver, of any version, agrees: a
/// destination that changed shards would have its dedup records in the old one's folder.
pub fn shard_of(count: u16, account: &str, region: &str) -> Shard {
    if count <= 1 {
        return Shard::ONLY;
    }
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut hash = OFFSET;
    for part in [account, region] {
        // 0xff occurs in no UTF-8 text, so ("ab", "c") and ("a", "bc") differ.
        for &byte in part.as_bytes().iter().chain(&[0xff]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
        }
    }
    // FNV's low bits are the parity of the bytes (its prime is odd), so the shard comes from
    // its well-mixed high 32 bits, scaled to the count (Lemire's multiply-shift reduction).
    let index = u16::try_from(((hash >> 32) * u64::from(count)) >> 32)
        .expect("a shard index is below the count");
    Shard::new(index, count).expect("the index is below the count")
}

/// Splits routed events among `count` shards, in order: each shard gets the part of an event
/// it delivers, the routes to its destinations and the event history of its (account,
/// Region), with the management-event Insights count. A data event's Insights count stays with
/// each part, since each trail that watches data events counts its own. An event whose routes
/// and history share one (account, Region), nearly all, goes whole to one shard.
pub fn by_shard<'a>(
    events: Vec<StagedEvent<'a>>,
    count: u16,
) -> Vec<(Shard, Vec<StagedEvent<'a>>)> {
    if count <= 1 {
        return if events.is_empty() {
            Vec::new()
        } else {
            vec![(Shard::ONLY, events)]
        };
    }
    let mut shards: std::collections::BTreeMap<Shard, Vec<StagedEvent<'a>>> = Default::default();
    for event in events {
        // Nearly every event's routes and history share one (account, Region): it goes whole
        // to that one's shard, found with one hash and no allocation.
        let mut places = event
            .routes
            .iter()
            .map(|route| (route.account(), route.region()))
            .chain(
                event
                    .history
                    .as_ref()
                    .map(|(account, region)| (account.as_ref(), region.as_ref())),
            );
        let first = places
            .next()
            .expect("a staged event has a route or the event history");
        if places.all(|place| place == first) {
            let shard = shard_of(count, first.0, first.1);
            shards.entry(shard).or_default().push(event);
            continue;
        }
        let history_shard = event
            .history
            .as_ref()
            .map(|(account, region)| shard_of(count, account, region));
        let route_shards: Vec<Shard> = event
            .routes
            .iter()
            .map(|route| shard_of(count, route.account(), route.region()))
            .collect();
        let mut targets: Vec<Shard> = route_shards.iter().copied().chain(history_shard).collect();
        targets.sort_unstable();
        targets.dedup();
        if let [only] = targets[..] {
            shards.entry(only).or_default().push(event);
            continue;
        }
        for &shard in &targets {
            let keeps_history = history_shard == Some(shard);
            let part = StagedEvent {
                dedup_key: event.dedup_key.clone(),
                event_time: event.event_time.clone(),
                routes: event
                    .routes
                    .iter()
                    .zip(&route_shards)
                    .filter(|&(_, &of)| of == shard)
                    .map(|(route, _)| route.clone())
                    .collect(),
                history: event.history.clone().filter(|_| keeps_history),
                insight: event.insight,
                counted: event
                    .counted
                    .clone()
                    .filter(|_| keeps_history || event.history.is_none()),
                record_hash: event.record_hash,
                record: event.record,
            };
            shards.entry(shard).or_default().push(part);
        }
    }
    shards.into_iter().collect()
}

/// Puts back together the parts of each event that [`by_shard`] split, in the order their
/// first parts come: the routes of all of them, and the history and Insights count of the one
/// that kept them. Parts are the same event when they have the same dedup key and the same
/// record hash, as deliver tells copies; a record reusing another's dedup key stays apart, for
/// deliver to name.
pub fn merge_parts(events: Vec<StagedEvent<'_>>) -> Vec<StagedEvent<'_>> {
    let mut merged: Vec<StagedEvent<'_>> = Vec::with_capacity(events.len());
    let mut first_part: std::collections::HashMap<(Cow<'_, str>, u128), usize> =
        std::collections::HashMap::new();
    for event in events {
        let identity = (event.dedup_key.clone(), event.hash_of_record().0);
        match first_part.get(&identity) {
            Some(&at) => {
                let whole = &mut merged[at];
                for route in event.routes {
                    if !whole.routes.contains(&route) {
                        whole.routes.push(route);
                    }
                }
                whole.history = whole.history.take().or(event.history);
                whole.counted = whole.counted.take().or(event.counted);
            }
            None => {
                first_part.insert(identity, merged.len());
                merged.push(event);
            }
        }
    }
    merged
}

/// Writes `events` as new staging objects, one per shard of `config` they reach, and returns
/// their keys; writes nothing for no events.
///
/// Safe to repeat: a retried request stages new objects under new keys, and each shard's deliver
/// drops the copies by dedup key. Create-only, so a key can never replace events staged earlier.
/// A failure after some shards' objects are written fails the request, whose retry stages them
/// again: copies, dropped the same way.
pub async fn stage(
    store: &dyn ObjectStore,
    config: &Config,
    events: Vec<StagedEvent<'_>>,
    now: OffsetDateTime,
) -> Result<Vec<String>, StagingError> {
    let options = PutOptions::new("application/x-ndjson").condition(Condition::IfNoneMatch);
    let writes = by_shard(events, config.deliver_shards)
        .into_iter()
        .map(|(shard, events)| {
            let key = shard.staging_key(now, &random_id());
            let body = Bytes::from(encode(&events));
            let options = &options;
            async move {
                store.put(&config.state_bucket, &key, body, options).await?;
                Ok::<_, StagingError>(key)
            }
        });
    futures::future::try_join_all(writes).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    const RECORD: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","accountId":"123456789012"},"eventTime":"2024-03-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","userAgent":"cli","requestID":"r","eventID":"e-1","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}"#;

    const CONFIG: &str = r#"
accountId: "123456789012"
trails:
  - Name: main
    S3BucketName: trail-bucket
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
  - Name: writes
    S3BucketName: writes-bucket
    HomeRegion: us-east-1
    EventSelectors: [{ReadWriteType: WriteOnly}]
"#;

    fn config() -> Config {
        Config::from_yaml(CONFIG, "test").unwrap()
    }

    #[test]
    fn staged_events_round_trip_with_their_record_bytes() {
        let config = config();
        let raw = record(RECORD);
        let pretty = record(&RECORD.replace(",\"", ",\n  \""));
        let parsed = Record::parse(&raw, None).unwrap();
        let parsed_pretty = Record::parse(&pretty, None).unwrap();
        let events = vec![
            StagedEvent::route(&config, &parsed).unwrap(),
            StagedEvent::route(&config, &parsed_pretty).unwrap(),
        ];
        let body = encode(&events);
        let back = read_staged("k", &body).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].record, RECORD);
        assert_eq!(back[1].record, pretty.get());
        assert_eq!(back[0].dedup_key, "e-1");
        assert_eq!(back[0].event_time, "2024-03-01T10:00:00Z");
        // A read-only call: the all-events trail takes it, the write-only trail does not.
        assert_eq!(
            back[0].routes,
            vec![Route(
                "main".into(),
                "123456789012".into(),
                "us-east-1".into()
            )]
        );
        assert_eq!(
            back[0].history,
            Some(("123456789012".into(), "us-east-1".into()))
        );
        // Each record's hash is of its own bytes, written as the dedup records write it.
        let hash = |text: &str| format!("{:032x}", hash128(text.as_bytes()));
        assert_eq!(back[0].record_hash, Some(RecordHash::of(raw.get())));
        assert_eq!(back[1].record_hash, Some(RecordHash::of(pretty.get())));
        assert_ne!(back[0].record_hash, back[1].record_hash);
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains(&format!("\"recordHash\":\"{}\"", hash(RECORD))),
            "{text}"
        );
    }

    #[test]
    fn objects_staged_before_record_hashes_read_without_them_and_a_bad_one_is_named() {
        let config = config();
        let raw = record(RECORD);
        let parsed = Record::parse(&raw, None).unwrap();
        let mut event = StagedEvent::route(&config, &parsed).unwrap();
        event.record_hash = None;
        let old = encode(&[event]);
        assert!(!String::from_utf8_lossy(&old).contains("recordHash"));
        assert_eq!(read_staged("k", &old).unwrap()[0].record_hash, None);

        let good =
            String::from_utf8(encode(&[StagedEvent::route(&config, &parsed).unwrap()])).unwrap();
        let digits = format!("{:032x}", hash128(RECORD.as_bytes()));
        for bad in [
            digits.to_uppercase(),
            digits[1..].to_owned(),
            format!("+{}", &digits[1..]),
            format!("{digits}0"),
        ] {
            let body = good.replace(&digits, &bad);
            let error = read_staged("staging/x.jsonl", body.as_bytes()).unwrap_err();
            assert!(
                error.to_string().contains("32 lowercase hex digits"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn nothing_is_staged_for_an_event_nobody_takes() {
        let config = config();
        // A data event: no trail here selects data events, and the history keeps only
        // management events.
        let raw = record(
            &RECORD
                .replace(
                    "\"eventCategory\":\"Management\"",
                    "\"eventCategory\":\"Data\"",
                )
                .replace("\"managementEvent\":true", "\"managementEvent\":false"),
        );
        let parsed = Record::parse(&raw, None).unwrap();
        assert!(StagedEvent::route(&config, &parsed).is_none());
    }

    #[test]
    fn records_without_an_event_id_are_known_by_their_hash() {
        let raw = record(
            r#"{"eventVersion":"1.0","userIdentity":{"type":"Root"},"eventTime":"2014-03-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","userAgent":"cli"}"#,
        );
        let parsed = Record::parse(&raw, None).unwrap();
        let key = dedup_key(&parsed);
        assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
        // Staged, its key and its record hash come from the one digest.
        let staged = StagedEvent::route(&config(), &parsed).expect("the all-events trail takes it");
        assert_eq!(staged.dedup_key, key);
        let hash = staged.record_hash.expect("ingest hashes every record");
        assert_eq!(format!("{:032x}", hash.0), key[7..7 + 32]);
    }

    #[test]
    fn a_corrupt_staging_object_is_named() {
        let error = read_staged("staging/x.jsonl", b"{\"dedupKey\":").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("staging object staging/x.jsonl")
        );
    }

    /// One event as this ingest stages it: the fields, then the record's length and the
    /// record.
    fn staged_line() -> (String, Box<RawValue>) {
        let raw = record(RECORD);
        let parsed = Record::parse(&raw, None).unwrap();
        let event = StagedEvent::route(&config(), &parsed).unwrap();
        (String::from_utf8(encode(&[event])).unwrap(), raw)
    }

    #[test]
    fn each_event_is_one_line_ending_in_the_record_and_its_length() {
        let (line, _) = staged_line();
        let hash = format!("{:032x}", hash128(RECORD.as_bytes()));
        assert_eq!(
            line,
            format!(
                "{{\"dedupKey\":\"e-1\",\"eventTime\":\"2024-03-01T10:00:00Z\",\
                 \"routes\":[[\"main\",\"123456789012\",\"us-east-1\"]],\
                 \"history\":[\"123456789012\",\"us-east-1\"],\"recordHash\":\"{hash}\",\
                 \"recordBytes\":{},\"record\":{RECORD}}}\n",
                RECORD.len()
            )
        );
    }

    /// The staged event as a deliver that knew no `recordBytes` declared it.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct EarlierStagedEvent<'a> {
        dedup_key: &'a str,
        record_hash: Option<&'a str>,
        record: &'a RawValue,
    }

    #[test]
    fn an_earlier_deliver_reads_these_objects_and_this_one_reads_its() {
        let (line, raw) = staged_line();
        // What ingest wrote before the length: the same object without `recordBytes`.
        let earlier_line = line.replace(&format!(",\"recordBytes\":{}", RECORD.len()), "");
        assert_ne!(earlier_line, line);
        for body in [&line, &earlier_line] {
            // An earlier deliver (serde alone, unknown fields ignored) reads either.
            let earlier: Vec<EarlierStagedEvent> = serde_json::Deserializer::from_str(body)
                .into_iter()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(earlier.len(), 1);
            assert_eq!(earlier[0].dedup_key, "e-1");
            assert_eq!(earlier[0].record.get(), RECORD);
            assert_eq!(
                earlier[0].record_hash,
                Some(RecordHash::of(raw.get()).to_string().as_str())
            );
            // And this one reads both to the same event, written back the same.
            let events = read_staged("k", body.as_bytes()).unwrap();
            assert_eq!(events.len(), 1);
            assert_eq!(events[0].record, RECORD);
            assert_eq!(events[0].dedup_key, "e-1");
            assert_eq!(encode(&events), line.as_bytes());
        }
        // A record of an earlier object is parsed to find its end: one spanning lines, with
        // more fields after it, reads whole.
        let pretty = RECORD.replace(",\"", ",\n  \"");
        let earlier = format!(
            "{{\"record\":{pretty},\"dedupKey\":\"e-1\",\"eventTime\":\"2024-03-01T10:00:00Z\"}}\n"
        );
        let events = read_staged("k", earlier.as_bytes()).unwrap();
        assert_eq!(events[0].record, pretty);
        assert_eq!(events[0].dedup_key, "e-1");
        assert!(events[0].routes.is_empty() && events[0].record_hash.is_none());
    }

    #[test]
    fn a_record_its_length_does_not_span_is_named_with_its_event() {
        let (line, _) = staged_line();
        let length = format!("\"recordBytes\":{}", RECORD.len());
        let body = format!("{line}{line}");
        for bad in [
            RECORD.len() - 1,
            RECORD.len() + 1,
            RECORD.len() + 5,
            1 << 40,
        ] {
            let corrupt = format!(
                "{line}{}",
                line.replace(&length, &format!("\"recordBytes\":{bad}"))
            );
            let error = read_staged("staging/x.jsonl", corrupt.as_bytes())
                .unwrap_err()
                .to_string();
            let named = format!(
                "event 2 (byte {}): recordBytes {bad} do not span the record",
                line.len()
            );
            assert!(error.contains(&named), "{bad}: {error}");
        }
        for (corrupt, why) in [
            (
                line.replace(&length, "\"recordBytes\":-3"),
                "recordBytes is not a length",
            ),
            (
                line.replace("\"routes\"", "\"rou tes\""),
                "expected a field name",
            ),
            (
                line.replace(",\"record\":", ",\"record\" :"),
                "expected ':' after a field name",
            ),
            (
                line.replace(&format!("{RECORD}}}"), RECORD),
                "do not span the record",
            ),
            (
                line.replace(&format!(",{length},\"record\":{RECORD}"), ""),
                "no record",
            ),
        ] {
            let error = read_staged("staging/x.jsonl", corrupt.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("event 1 (byte 0): ") && error.contains(why),
                "{corrupt}: {error}"
            );
        }
        assert_eq!(read_staged("k", body.as_bytes()).unwrap().len(), 2);
    }

    #[test]
    fn a_destination_keeps_its_shard_across_versions() {
        // Pinned: changing the hash would move destinations between shards, and with them the
        // dedup records that keep a retried event out.
        let shards: Vec<u16> = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]
            .iter()
            .map(|region| shard_of(4, "123456789012", region).index())
            .collect();
        assert_eq!(shards, PINNED_SHARDS);
        assert_eq!(shard_of(1, "123456789012", "us-east-1"), Shard::ONLY);
        assert_ne!(
            shard_of(1 << 15, "12345678901", "2us-east-1"),
            shard_of(1 << 15, "123456789012", "us-east-1"),
            "the names are kept apart"
        );
    }

    /// What ingest computed of each of four Regions with 4 shards.
    const PINNED_SHARDS: [u16; 4] = [1, 2, 1, 1];

    fn counted() -> Counted<'static> {
        Counted(
            "iam.amazonaws.com".into(),
            "CreateUser".into(),
            true,
            None,
            None,
            None,
        )
    }

    /// Two accounts whose (account, us-east-1) fall in different shards of 2.
    fn accounts_in_two_shards() -> (&'static str, &'static str) {
        let first = "111111111111";
        let other = [
            "222222222222",
            "333333333333",
            "444444444444",
            "555555555555",
        ]
        .into_iter()
        .find(|account| shard_of(2, account, "us-east-1") != shard_of(2, first, "us-east-1"))
        .expect("an account in the other shard");
        (first, other)
    }

    #[test]
    fn an_event_goes_whole_to_its_shard_or_split_by_destination() {
        let raw = record(RECORD);
        let (first, other) = accounts_in_two_shards();
        let route = |trail: &'static str, account: &'static str| {
            Route(trail.into(), account.into(), "us-east-1".into())
        };
        let event = |id: &'static str, routes, history: Option<&'static str>| StagedEvent {
            dedup_key: id.into(),
            event_time: "2024-03-01T10:00:00Z".into(),
            routes,
            history: history.map(|account| (account.into(), "us-east-1".into())),
            insight: false,
            counted: Some(counted()),
            record_hash: Some(RecordHash::of(raw.get())),
            record: raw.get(),
        };
        let events = vec![
            // Routes and history in one (account, Region): whole, to one shard.
            event(
                "e-1",
                vec![route("a", first), route("b", first)],
                Some(first),
            ),
            // A management event whose second trail files it under another account.
            event(
                "e-2",
                vec![route("a", first), route("b", other)],
                Some(first),
            ),
            // A data event (no history) taken under two accounts.
            event("e-3", vec![route("a", first), route("b", other)], None),
        ];
        let shards = by_shard(events, 2);
        assert_eq!(shards.len(), 2);
        let part = |account: &str| {
            &shards
                .iter()
                .find(|(shard, _)| *shard == shard_of(2, account, "us-east-1"))
                .expect("the account's shard")
                .1
        };
        let (home, away) = (part(first), part(other));
        assert_eq!(home.len(), 3);
        assert_eq!(home[0].routes, [route("a", first), route("b", first)]);
        assert_eq!(home[1].routes, [route("a", first)]);
        assert!(home[1].history.is_some() && home[1].counted.is_some());
        assert_eq!(away.len(), 2);
        assert_eq!(away[0].routes, [route("b", other)]);
        // The history and the management count stay with the history's shard; a data event's
        // count goes with every part, each trail counting its own.
        assert!(away[0].history.is_none() && away[0].counted.is_none());
        assert_eq!(away[1].counted, Some(counted()));
        // Every part carries its record's hash.
        assert!(
            away.iter()
                .all(|part| part.record_hash == Some(RecordHash::of(raw.get())))
        );
        assert_eq!(home[2].counted, Some(counted()));
        let ids = |parts: &[StagedEvent]| -> Vec<String> {
            parts
                .iter()
                .map(|part| part.dedup_key.to_string())
                .collect()
        };
        assert_eq!(
            (ids(home), ids(away)),
            (
                vec!["e-1".into(), "e-2".into(), "e-3".into()],
                vec!["e-2".into(), "e-3".into()]
            )
        );

        // Put back together, the parts are the events as routed.
        let parts: Vec<StagedEvent> = shards.into_iter().flat_map(|(_, part)| part).collect();
        let mut merged = merge_parts(parts);
        merged.sort_by(|x, y| x.dedup_key.cmp(&y.dedup_key));
        assert_eq!(merged.len(), 3);
        for (whole, routes) in merged.iter().zip([
            vec![route("a", first), route("b", first)],
            vec![route("a", first), route("b", other)],
            vec![route("a", first), route("b", other)],
        ]) {
            let mut found = whole.routes.clone();
            found.sort_by(|x, y| x.trail().cmp(y.trail()));
            assert_eq!(found, routes);
        }
        assert!(merged[1].history.is_some() && merged[1].counted.is_some());
        assert!(merged[2].history.is_none() && merged[2].counted.is_some());

        // Unsharded, everything stays as it was, in one object.
        let one = by_shard(vec![event("e-4", vec![route("a", other)], Some(first))], 1);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].0, Shard::ONLY);
        assert!(by_shard(Vec::new(), 2).is_empty());
    }

    #[test]
    fn staging_keys_sort_by_staging_time() {
        let early =
            Shard::ONLY.staging_key(time::macros::datetime!(2024-03-01 10:00:00.5 UTC), "a");
        let late = Shard::ONLY.staging_key(time::macros::datetime!(2024-03-01 10:00:01 UTC), "a");
        assert!(early.starts_with("staging/20240301T100000500Z-"), "{early}");
        assert!(early < late);
    }
}
