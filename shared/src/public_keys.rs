//! The published digest-signing keys: `public-keys.json` in the state bucket, and CloudTrail's
//! `ListPublicKeys` answer built from it.
//!
//! The registry is the one place validators (`cairn validate-logs`, and `aws cloudtrail
//! validate-logs` through a `ListPublicKeys` endpoint) learn which key signed a digest. Every key
//! deliver signs with is published here first, and no entry is ever removed: a key that stops
//! signing only gets its validity window closed, so digests it signed stay verifiable.
//!
//! The object is `{"PublicKeyList":[{"Value","ValidityStartTime","ValidityEndTime","Fingerprint"}]}`
//! in publication order, `Value` being the base64 PKCS#1 DER of the key, `Fingerprint` the
//! lowercase hex MD5 of that DER, the times RFC 3339 (whole seconds, UTC), and
//! `ValidityEndTime` null for the current key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock::whole_utc_seconds;
use crate::document::{self, DocumentError, Style};
use crate::layout::PUBLIC_KEYS_KEY;
use crate::ports::key_directory::{DirectoryKey, KeyDirectory, KeyDirectoryError};
use crate::ports::object_store::{ETag, ObjectStore, ObjectStoreError};
use crate::ports::signer::{InvalidPublicKey, PublicKey};

/// How many times [`publish`] re-reads the registry after losing a compare-and-swap before it
/// gives up: each loss means another publisher's entry went in, so this bounds the number of
/// publishers racing at one moment, not the work of any one of them.
const MAX_PUBLISH_ATTEMPTS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum PublicKeysError {
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error("the public key registry s3://{bucket}/{key} is unreadable ({reason}). Cairn does not reset it: {remedy}", key = PUBLIC_KEYS_KEY, remedy = REGISTRY_REMEDY)]
    Corrupt {
        bucket: String,
        #[source]
        reason: RegistryProblem,
    },
    #[error(
        "publishing key {fingerprint} in s3://{bucket}/{key}: lost the compare-and-swap {attempts} times in a row to other publishers",
        key = PUBLIC_KEYS_KEY
    )]
    Contended {
        bucket: String,
        fingerprint: String,
        attempts: usize,
    },
}

/// Why the keys `aws cloudtrail list-public-keys` printed cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("the public keys listed are unusable: {0}")]
pub struct ListedKeysError(#[source] RegistryProblem);

/// What is wrong with the registry object or one of its entries.
#[derive(Debug, thiserror::Error)]
pub enum RegistryProblem {
    #[error("{0}")]
    Json(#[source] serde_json::Error),
    #[error("key {fingerprint}: Value is not base64: {source}")]
    NotBase64 {
        fingerprint: String,
        #[source]
        source: base64::DecodeError,
    },
    #[error("key {fingerprint}: {source}")]
    NotAKey {
        fingerprint: String,
        #[source]
        source: InvalidPublicKey,
    },
    #[error("key {fingerprint}: its Value has fingerprint {actual}")]
    OtherFingerprint { fingerprint: String, actual: String },
    #[error("key {fingerprint}: its validity ends before it starts")]
    EndsBeforeStart { fingerprint: String },
    #[error(transparent)]
    Directory(#[from] KeyDirectoryError),
}

impl From<DocumentError> for PublicKeysError {
    fn from(error: DocumentError) -> Self {
        match error {
            DocumentError::Store(error) => Self::Store(error),
            DocumentError::Corrupt { bucket, source, .. } => Self::Corrupt {
                bucket,
                reason: RegistryProblem::Json(source),
            },
        }
    }
}

/// One published key and the time it was (or is) the signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub key: PublicKey,
    pub validity_start: OffsetDateTime,
    /// `None` while the key is the current one.
    pub validity_end: Option<OffsetDateTime>,
}

impl PublishedKey {
    /// Whether the window `[validity_start, validity_end]` (open-ended while current) overlaps
    /// `[start, end]`.
    pub fn overlaps(&self, start: OffsetDateTime, end: OffsetDateTime) -> bool {
        self.validity_start <= end && self.validity_end.is_none_or(|until| until >= start)
    }
}

/// The registry object, as stored.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Registry {
    #[serde(rename = "PublicKeyList")]
    keys: Vec<StoredKey>,
}

impl document::Recovery for Registry {
    const IF_UNREADABLE: &'static str = REGISTRY_REMEDY;
}

/// What to do about an unreadable registry, whether its JSON or one of its keys.
const REGISTRY_REMEDY: &str = "deliver and validate-logs stop until it reads. Every signing key \
    ever used must stay in it, or the digests it signed no longer validate: restore it from a \
    backup or a previous version, or fix it by hand (each entry's Value is the base64 DER public \
    key its Fingerprint names)";

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct StoredKey {
    #[serde(rename = "Value")]
    value: String,
    #[serde(rename = "ValidityStartTime", with = "time::serde::rfc3339")]
    validity_start: OffsetDateTime,
    #[serde(rename = "ValidityEndTime", with = "time::serde::rfc3339::option")]
    validity_end: Option<OffsetDateTime>,
    #[serde(rename = "Fingerprint")]
    fingerprint: String,
}

impl StoredKey {
    fn new(key: &PublicKey, validity_start: OffsetDateTime) -> Self {
        Self {
            value: BASE64.encode(key.pkcs1_der()),
            validity_start,
            validity_end: None,
            fingerprint: key.fingerprint().to_owned(),
        }
    }

    /// The entry as a key (see [`checked`]).
    fn decode(&self) -> Result<PublishedKey, RegistryProblem> {
        let der = BASE64
            .decode(&self.value)
            .map_err(|source| RegistryProblem::NotBase64 {
                fingerprint: self.fingerprint.clone(),
                source,
            })?;
        checked(DirectoryKey {
            der,
            validity_start: self.validity_start,
            validity_end: self.validity_end,
            fingerprint: self.fingerprint.clone(),
        })
    }
}

/// A listed key as a key, refusing one whose bytes are not a key or not the fingerprint it
/// claims: a validator must never trust a fingerprint the bytes do not have.
fn checked(listed: DirectoryKey) -> Result<PublishedKey, RegistryProblem> {
    let fingerprint = || listed.fingerprint.clone();
    let key = PublicKey::from_pkcs1_der(listed.der).map_err(|source| RegistryProblem::NotAKey {
        fingerprint: fingerprint(),
        source,
    })?;
    if key.fingerprint() != listed.fingerprint {
        return Err(RegistryProblem::OtherFingerprint {
            fingerprint: fingerprint(),
            actual: key.fingerprint().to_owned(),
        });
    }
    if listed
        .validity_end
        .is_some_and(|end| end < listed.validity_start)
    {
        return Err(RegistryProblem::EndsBeforeStart {
            fingerprint: fingerprint(),
        });
    }
    Ok(PublishedKey {
        key,
        validity_start: listed.validity_start,
        validity_end: listed.validity_end,
    })
}

/// The keys CloudTrail publishes for `[start, end]` (`ListPublicKeys`, as aws-cli's
/// validate-logs asks it), each checked against its fingerprint.
pub async fn list_from(
    directory: &dyn KeyDirectory,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Vec<PublishedKey>, ListedKeysError> {
    directory
        .list_public_keys(start, end)
        .await
        .map_err(|error| ListedKeysError(RegistryProblem::Directory(error)))?
        .into_iter()
        .map(checked)
        .collect::<Result<_, _>>()
        .map_err(ListedKeysError)
}

/// The keys in a `ListPublicKeys` answer, as `aws cloudtrail list-public-keys` prints it:
/// `{"PublicKeyList":[{"Value","ValidityStartTime","ValidityEndTime","Fingerprint"}]}`, the
/// times epoch seconds (AWS CLI v1, e.g. `1453076702.0`) or ISO 8601 text (v2, e.g.
/// `2016-01-18T00:25:02+00:00`). Each key is checked against its fingerprint, as the registry's
/// are; the validity window is the one AWS gives (the current key's end is the end of the range
/// the list was asked for).
pub fn parse_listed_keys(json: &[u8]) -> Result<Vec<PublishedKey>, ListedKeysError> {
    #[derive(Deserialize)]
    struct Listed {
        #[serde(rename = "PublicKeyList")]
        keys: Vec<ListedEntry>,
    }
    #[derive(Deserialize)]
    struct ListedEntry {
        #[serde(rename = "Value")]
        value: String,
        #[serde(rename = "ValidityStartTime", with = "listed_time")]
        validity_start: OffsetDateTime,
        #[serde(rename = "ValidityEndTime", default, with = "listed_time::option")]
        validity_end: Option<OffsetDateTime>,
        #[serde(rename = "Fingerprint")]
        fingerprint: String,
    }
    let listed: Listed =
        serde_json::from_slice(json).map_err(|e| ListedKeysError(RegistryProblem::Json(e)))?;
    listed
        .keys
        .into_iter()
        .map(|entry| {
            StoredKey {
                value: entry.value,
                validity_start: entry.validity_start,
                validity_end: entry.validity_end,
                fingerprint: entry.fingerprint,
            }
            .decode()
        })
        .collect::<Result<_, _>>()
        .map_err(ListedKeysError)
}

/// A `ListPublicKeys` time as the AWS CLI prints it: epoch seconds (v1) or ISO 8601 (v2).
mod listed_time {
    use serde::{Deserialize, Deserializer, de::Error};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Listed {
        Epoch(f64),
        Iso(String),
    }

    fn read<E: Error>(listed: Listed) -> Result<OffsetDateTime, E> {
        match listed {
            Listed::Epoch(seconds) => {
                OffsetDateTime::from_unix_timestamp_nanos((seconds * 1e9).round() as i128)
                    .map_err(E::custom)
            }
            Listed::Iso(text) => OffsetDateTime::parse(&text, &Rfc3339).map_err(E::custom),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        read(Listed::deserialize(deserializer)?)
    }

    pub(super) mod option {
        use super::*;

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<Listed>::deserialize(deserializer)?
                .map(read)
                .transpose()
        }
    }
}

/// Every published key, oldest first; none when nothing was ever published.
pub async fn load(
    store: &dyn ObjectStore,
    state_bucket: &str,
) -> Result<Vec<PublishedKey>, PublicKeysError> {
    let (registry, _) = read(store, state_bucket).await?;
    registry
        .keys
        .iter()
        .map(StoredKey::decode)
        .collect::<Result<_, _>>()
        .map_err(|reason| PublicKeysError::Corrupt {
            bucket: state_bucket.to_owned(),
            reason,
        })
}

/// Makes `key` the current published key: closes the window of the key current until now at
/// `now` and appends `key`, valid from `valid_from`. Deliver calls it before signing anything
/// with `key`; `valid_from` is the earliest end time of a digest it may sign with it (a chain
/// catching up signs hours already past), so a validator can require every digest's end time to
/// fall in its key's window.
///
/// Safe to repeat and to run concurrently: it does nothing when the newest entry already has
/// `key`'s fingerprint (so a retry, or a repeat whose first answer was lost, changes nothing),
/// and every write is a compare-and-swap on the registry's ETag (create-only for the first
/// entry), so two publishers never overwrite each other's entry: the loser re-reads and appends
/// after the winner.
pub async fn publish(
    store: &dyn ObjectStore,
    state_bucket: &str,
    key: &PublicKey,
    valid_from: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), PublicKeysError> {
    let now = whole_utc_seconds(now);
    let valid_from = whole_utc_seconds(valid_from).min(now);
    for _ in 0..MAX_PUBLISH_ATTEMPTS {
        let (mut registry, etag) = read(store, state_bucket).await?;
        if let Some(current) = registry.keys.last_mut() {
            if current.fingerprint == key.fingerprint() {
                return Ok(());
            }
            // A clock behind the current key's start must not produce a window ending before
            // it begins.
            current.validity_end = Some(now.max(current.validity_start));
        }
        registry.keys.push(StoredKey::new(key, valid_from));
        let swapped = document::swap(
            store,
            state_bucket,
            PUBLIC_KEYS_KEY,
            (&registry, Style::Indented),
            etag.as_ref(),
        )
        .await?;
        if swapped.is_some() {
            return Ok(());
        }
    }
    Err(PublicKeysError::Contended {
        bucket: state_bucket.to_owned(),
        fingerprint: key.fingerprint().to_owned(),
        attempts: MAX_PUBLISH_ATTEMPTS,
    })
}

async fn read(
    store: &dyn ObjectStore,
    state_bucket: &str,
) -> Result<(Registry, Option<ETag>), PublicKeysError> {
    Ok(document::read(store, state_bucket, PUBLIC_KEYS_KEY).await?)
}

/// CloudTrail's `ListPublicKeys` response: the keys whose validity window overlaps
/// `[start, end]`. Both default to `now`, as the API's do (so with neither, the current key).
///
/// Serializes as the API's JSON 1.1 body, which is also what AWS CLI v1 prints for it: members
/// in the model's order, times as epoch seconds (`1453076702.0`).
///
/// Every key has a `ValidityEndTime`, as in AWS's own example (aws-cli's
/// `awscli/examples/cloudtrail/list-public-keys.rst`, and the API reference's `PublicKey`
/// shape): the current key's is the end of the requested range (`now` when none was given),
/// the latest time the answer vouches for. aws-cli's validate-logs
/// (`awscli/customizations/cloudtrail/validation.py`, `PublicKeyProvider.get_public_keys`)
/// asks for `[start, end + 2 hours]` and picks a digest's key by `Fingerprint` alone, reading
/// neither validity time, so a rotation inside the range verifies either way.
pub fn list_public_keys(
    keys: &[PublishedKey],
    start: Option<OffsetDateTime>,
    end: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> ListPublicKeysResponse {
    let (start, end) = (start.unwrap_or(now), end.unwrap_or(now));
    ListPublicKeysResponse {
        public_key_list: keys
            .iter()
            .filter(|key| key.overlaps(start, end))
            .map(|key| ListedKey {
                value: BASE64.encode(key.key.pkcs1_der()),
                validity_start_time: epoch_seconds(key.validity_start),
                validity_end_time: epoch_seconds(key.validity_end.unwrap_or(end)),
                fingerprint: key.key.fingerprint().to_owned(),
            })
            .collect(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListPublicKeysResponse {
    #[serde(rename = "PublicKeyList")]
    pub public_key_list: Vec<ListedKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListedKey {
    #[serde(rename = "Value")]
    pub value: String,
    #[serde(rename = "ValidityStartTime")]
    pub validity_start_time: f64,
    #[serde(rename = "ValidityEndTime")]
    pub validity_end_time: f64,
    #[serde(rename = "Fingerprint")]
    pub fingerprint: String,
}

fn epoch_seconds(time: OffsetDateTime) -> f64 {
    time.unix_timestamp() as f64 + f64::from(time.nanosecond()) / 1e9
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use rsa::{RsaPrivateKey, RsaPublicKey};
    use time::macros::datetime;

    use super::*;
    use crate::adapters::local::LocalObjectStore;
    use crate::ports::object_store::PutOptions;

    fn test_key() -> PublicKey {
        // 1024 bits keeps the unoptimised test build fast; the registry does not depend on size.
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("key");
        PublicKey::from_rsa(&RsaPublicKey::from(&private)).expect("public key")
    }

    async fn store() -> (tempfile::TempDir, LocalObjectStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket("state").await.expect("bucket");
        (dir, store)
    }

    const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

    #[tokio::test]
    async fn publishing_closes_the_previous_window_and_is_idempotent() {
        let (_dir, store) = store().await;
        assert!(load(&store, "state").await.expect("load").is_empty());
        let (a, b) = (test_key(), test_key());

        publish(&store, "state", &a, T0, T0)
            .await
            .expect("publish a");
        publish(&store, "state", &a, T0, T0 + time::Duration::hours(1))
            .await
            .expect("again");
        let rotation = datetime!(2026-11-22 12:30:15.75 UTC);
        // b signs from the hour that was open at the rotation.
        let b_from = datetime!(2026-11-22 12:00:00 UTC);
        publish(&store, "state", &b, b_from, rotation)
            .await
            .expect("publish b");
        let etag = store
            .head("state", PUBLIC_KEYS_KEY)
            .await
            .expect("head")
            .etag;
        publish(
            &store,
            "state",
            &b,
            b_from,
            rotation + time::Duration::hours(1),
        )
        .await
        .expect("b again");
        assert_eq!(
            store
                .head("state", PUBLIC_KEYS_KEY)
                .await
                .expect("head")
                .etag,
            etag,
            "a repeated publish rewrote the registry"
        );

        let keys = load(&store, "state").await.expect("load");
        let closed = datetime!(2026-11-22 12:30:15 UTC);
        assert_eq!(
            keys,
            [
                PublishedKey {
                    key: a,
                    validity_start: T0,
                    validity_end: Some(closed),
                },
                PublishedKey {
                    key: b,
                    validity_start: b_from,
                    validity_end: None,
                },
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_publishers_lose_no_entry() {
        let (_dir, store) = store().await;
        let store = Arc::new(store);
        let keys: Vec<PublicKey> = (0..6).map(|_| test_key()).collect();
        let tasks: Vec<_> = keys
            .iter()
            .cloned()
            .map(|key| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { publish(store.as_ref(), "state", &key, T0, T0).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("join").expect("publish");
        }
        let published = load(store.as_ref(), "state").await.expect("load");
        let mut fingerprints: Vec<&str> = published.iter().map(|k| k.key.fingerprint()).collect();
        fingerprints.sort_unstable();
        let mut expected: Vec<&str> = keys.iter().map(PublicKey::fingerprint).collect();
        expected.sort_unstable();
        assert_eq!(fingerprints, expected);
        assert_eq!(
            published
                .iter()
                .filter(|k| k.validity_end.is_none())
                .count(),
            1
        );
    }

    #[tokio::test]
    async fn a_registry_entry_whose_value_does_not_match_its_fingerprint_is_refused() {
        let (_dir, store) = store().await;
        let key = test_key();
        let mut entry = StoredKey::new(&key, T0);
        entry.fingerprint = "00112233445566778899aabbccddeeff".into();
        let body = serde_json::to_vec(&Registry { keys: vec![entry] }).expect("json");
        store
            .put(
                "state",
                PUBLIC_KEYS_KEY,
                Bytes::from(body),
                &PutOptions::new("application/json"),
            )
            .await
            .expect("put");
        let error = load(&store, "state").await.expect_err("corrupt");
        let message = error.to_string();
        assert!(message.contains("s3://state/public-keys.json"), "{message}");
        assert!(
            message.contains(&format!("has fingerprint {}", key.fingerprint())),
            "{message}"
        );
    }

    /// Two keys, the second taking over at the rotation time returned.
    fn rotated_keys() -> ([PublishedKey; 2], OffsetDateTime) {
        let rotation = datetime!(2026-11-22 12:00:00 UTC);
        let keys = [
            PublishedKey {
                key: test_key(),
                validity_start: T0,
                validity_end: Some(rotation),
            },
            PublishedKey {
                key: test_key(),
                validity_start: rotation,
                validity_end: None,
            },
        ];
        (keys, rotation)
    }

    #[test]
    fn keys_printed_by_aws_cli_v1_and_v2_are_read_and_checked() {
        let (keys, _) = rotated_keys();
        let (a, b) = (keys[0].key.clone(), keys[1].key.clone());
        let now = datetime!(2026-11-23 00:00:00 UTC);
        let v1 = serde_json::to_vec(&list_public_keys(&keys, Some(T0), None, now)).expect("json");
        let mut expected = keys.to_vec();
        expected[1].validity_end = Some(now);
        assert_eq!(parse_listed_keys(&v1).expect("v1"), expected);

        let v2 = format!(
            r#"{{
    "PublicKeyList": [
        {{
            "Value": "{}",
            "ValidityStartTime": "2026-11-22T10:00:00+00:00",
            "ValidityEndTime": "2026-11-22T12:00:00+00:00",
            "Fingerprint": "{}"
        }},
        {{
            "Value": "{}",
            "ValidityStartTime": "2026-11-22T12:00:00+00:00",
            "ValidityEndTime": "2026-11-23T00:00:00+00:00",
            "Fingerprint": "{}"
        }}
    ]
}}"#,
            BASE64.encode(a.pkcs1_der()),
            a.fingerprint(),
            BASE64.encode(b.pkcs1_der()),
            b.fingerprint()
        );
        assert_eq!(parse_listed_keys(v2.as_bytes()).expect("v2"), expected);

        let lying = v2.replacen(a.fingerprint(), b.fingerprint(), 1);
        let error = parse_listed_keys(lying.as_bytes()).expect_err("wrong fingerprint");
        assert!(error.to_string().contains("has fingerprint"), "{error}");
        assert!(parse_listed_keys(b"{}").is_err());
    }

    #[test]
    fn list_public_keys_answers_overlapping_windows_as_the_api_and_cli_v1_print_them() {
        let (keys, rotation) = rotated_keys();
        let (a, b) = (keys[0].key.clone(), keys[1].key.clone());
        let now = datetime!(2026-11-23 00:00:00 UTC);
        let fingerprints = |response: ListPublicKeysResponse| -> Vec<String> {
            response
                .public_key_list
                .into_iter()
                .map(|k| k.fingerprint)
                .collect()
        };
        // Neither bound: the key current now.
        assert_eq!(
            fingerprints(list_public_keys(&keys, None, None, now)),
            [b.fingerprint()]
        );
        // A range before the rotation, one that touches it, one spanning it.
        let early = datetime!(2026-11-22 11:00:00 UTC);
        assert_eq!(
            fingerprints(list_public_keys(&keys, Some(T0), Some(early), now)),
            [a.fingerprint()]
        );
        assert_eq!(
            fingerprints(list_public_keys(&keys, Some(rotation), Some(rotation), now)),
            [a.fingerprint(), b.fingerprint()]
        );
        assert!(
            list_public_keys(&keys, None, Some(T0 - time::Duration::hours(1)), now)
                .public_key_list
                .is_empty(),
            "a range ending before every key began"
        );

        // Every key has a ValidityEndTime, as in AWS's example output
        // (aws-cli's awscli/examples/cloudtrail/list-public-keys.rst): the current key's is the
        // end of the range, `now` when none was asked for.
        let json = |start, end| {
            serde_json::to_string(&list_public_keys(&keys, start, end, now)).expect("json")
        };
        let expected = |current_until: OffsetDateTime| {
            format!(
                "{{\"PublicKeyList\":[{{\"Value\":\"{}\",\"ValidityStartTime\":{}.0,\"ValidityEndTime\":{}.0,\"Fingerprint\":\"{}\"}},\
                 {{\"Value\":\"{}\",\"ValidityStartTime\":{}.0,\"ValidityEndTime\":{}.0,\"Fingerprint\":\"{}\"}}]}}",
                BASE64.encode(a.pkcs1_der()),
                T0.unix_timestamp(),
                rotation.unix_timestamp(),
                a.fingerprint(),
                BASE64.encode(b.pkcs1_der()),
                rotation.unix_timestamp(),
                current_until.unix_timestamp(),
                b.fingerprint(),
            )
        };
        assert_eq!(json(Some(T0), None), expected(now));
        // aws-cli's validate-logs asks up to two hours past its end time, which may be later
        // than now: the current key is vouched for through the range it was asked about.
        let ahead = now + time::Duration::hours(2);
        assert_eq!(json(Some(T0), Some(ahead)), expected(ahead));
        let inside = datetime!(2026-11-22 18:00:00 UTC);
        assert_eq!(json(Some(T0), Some(inside)), expected(inside));
    }
}
