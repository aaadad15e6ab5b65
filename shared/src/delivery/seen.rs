//! What deliver has already delivered: one object per batch under `deliver/seen/` (a shard's
//! own folder when deliver is sharded: each shard stages and dedups its own part of an event), listing the
//! dedup keys (eventIDs) the batch delivered with a hash of each record's bytes. A batch skips
//! every event whose key a batch of the previous 24 hours delivered, which is what makes a
//! client's retry or replay harmless; the content hash tells a true copy from a different
//! record reusing an eventID, which is reported rather than passed over in silence.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use time::{Duration, OffsetDateTime};

use crate::layout::{Shard, parse_seen_key};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::staging;

use super::DeliveryError;

/// How long a delivered eventID keeps its copies out.
pub(super) const WINDOW: Duration = Duration::hours(24);

/// A dedup key reduced to 128 bits ([`staging::hash128`]).
pub(super) type KeyHash = u128;

pub(super) fn hash_key(key: &str) -> KeyHash {
    staging::hash128(key.as_bytes())
}

/// What a record's bytes hash to, to tell a copy from a different record with the same key.
pub(super) type ContentHash = staging::RecordHash;

/// One dedup record as read: each event's key and content hashes.
type Entries = Vec<(KeyHash, ContentHash)>;

/// The keys delivered in the window, each with its record's content hash.
pub(super) type SeenSet = HashMap<KeyHash, ContentHash>;

/// The body: a line per event, its dedup key, a tab and the hex content hash.
pub(super) fn encode<'a>(events: impl ExactSizeIterator<Item = (&'a str, ContentHash)>) -> Bytes {
    // An eventID, a tab, 32 hex digits and a newline.
    let mut body = Vec::with_capacity(events.len() * 72);
    let mut hex = [0; 32];
    for (key, content) in events {
        // Hex by hand: `format!`'s padded u128 cost six times as much, and this runs per event.
        hex::encode_to_slice(content.0.to_be_bytes(), &mut hex)
            .expect("16 bytes make 32 hex digits");
        body.extend_from_slice(key.as_bytes());
        body.push(b'\t');
        body.extend_from_slice(&hex);
        body.push(b'\n');
    }
    Bytes::from(body)
}

fn decode(key: &str, body: &[u8]) -> Result<Vec<(KeyHash, ContentHash)>, DeliveryError> {
    let corrupt = |line: usize| DeliveryError::CorruptSeen {
        key: key.to_owned(),
        line,
    };
    std::str::from_utf8(body)
        .map_err(|_| corrupt(0))?
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let (event, content) = line.rsplit_once('\t').ok_or_else(|| corrupt(i + 1))?;
            let content = u128::from_str_radix(content, 16).map_err(|_| corrupt(i + 1))?;
            Ok((hash_key(event), staging::RecordHash(content)))
        })
        .collect()
}

/// The dedup window of the last batch planned, kept across batches and across invocations of
/// a warm Lambda: from one batch to the next only the dedup records that entered or left the
/// window are added or removed, where merging a day's keys again for every batch made a
/// backlog's batches ever slower. Dedup records never change once written, so a record leaving
/// is read again for its keys rather than its keys kept twice in memory.
#[derive(Default)]
pub(super) struct SeenCache {
    /// `None` before the first window, and while a batch is planned with it.
    window: Mutex<Option<Window>>,
}

/// The keys of a set of dedup records, merged.
#[derive(Default)]
pub(super) struct Window {
    keys: SeenSet,
    /// The records merged.
    records: BTreeSet<String>,
    /// Each key more than one of the records holds, with every holder's content hash in the
    /// order they were merged; the first holder unnamed, as `keys` keeps no holder.
    shared: HashMap<KeyHash, Vec<(Option<String>, ContentHash)>>,
}

impl Window {
    /// Every key of the records in the window, with its record's content hash.
    pub(super) fn keys(&self) -> &SeenSet {
        &self.keys
    }

    /// Merges the record's entries in. Where two records hold a key, the later one's hash
    /// stands, as when the records are merged in key (time) order.
    fn add(
        &mut self,
        record: &str,
        entries: impl ExactSizeIterator<Item = (KeyHash, ContentHash)>,
    ) {
        if !self.records.insert(record.to_owned()) {
            return;
        }
        self.keys.reserve(entries.len());
        for (key, content) in entries {
            if let Some(earlier) = self.keys.insert(key, content) {
                self.shared
                    .entry(key)
                    .or_insert_with(|| vec![(None, earlier)])
                    .push((Some(record.to_owned()), content));
            }
        }
    }

    /// Takes the record's entries out; a key another record holds stays, with that one's hash.
    fn remove(&mut self, record: &str, entries: &[(KeyHash, ContentHash)]) {
        if !self.records.remove(record) {
            return;
        }
        for (key, _) in entries {
            let Some(holders) = self.shared.get_mut(key) else {
                self.keys.remove(key);
                continue;
            };
            // The record is a named holder, or else the unnamed first one.
            let position = holders
                .iter()
                .position(|(holder, _)| holder.as_deref() == Some(record))
                .or_else(|| holders.iter().position(|(holder, _)| holder.is_none()));
            if let Some(position) = position {
                holders.remove(position);
            }
            match holders.last() {
                Some(&(_, content)) => {
                    self.keys.insert(*key, content);
                }
                None => {
                    self.keys.remove(key);
                }
            }
            if holders.len() <= 1 {
                self.shared.remove(key);
            }
        }
    }
}

impl SeenCache {
    /// Every key delivered by batches in the window before `delivered_at`, except `batch`'s
    /// own (a resumed batch must not skip its own events). Hand it back with [`Self::keep`]
    /// once the batch is planned; if it is not, the next window is merged afresh.
    ///
    /// The set depends only on the objects in the store, and nothing is added or pruned while
    /// a batch is in the journal, so a resumed batch sees exactly the set its first attempt saw.
    pub(super) async fn window(
        &self,
        store: &dyn ObjectStore,
        (bucket, shard): (&str, Shard),
        delivered_at: OffsetDateTime,
        batch: &str,
    ) -> Result<Window, DeliveryError> {
        let mut window = self.lock().take().unwrap_or_default();
        let since = delivered_at - WINDOW;
        let mut wanted = BTreeSet::new();
        for entry in store.list_all(bucket, &shard.seen_prefix()).await? {
            let Some((at, owner)) = parse_seen_key(&entry.key) else {
                continue;
            };
            if at >= since && owner != batch {
                wanted.insert(entry.key);
            }
        }
        let leaving: Vec<String> = window.records.difference(&wanted).cloned().collect();
        for record in leaving {
            match read(store, bucket, &record).await {
                Ok(entries) => window.remove(&record, &entries),
                // Pruned since the last window (a run idle for over an hour): its keys can no
                // longer be told, so the window is merged afresh.
                Err(DeliveryError::Store(ObjectStoreError::NotFound { .. })) => {
                    window = Window::default();
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        let entering: Vec<String> = wanted
            .into_iter()
            .filter(|record| !window.records.contains(record))
            .collect();
        for record in entering {
            let entries = read(store, bucket, &record).await?;
            window.add(&record, entries.into_iter());
        }
        Ok(window)
    }

    /// Keeps `window` for the next batch's.
    pub(super) fn keep(&self, window: Window) {
        *self.lock() = Some(window);
    }

    /// Adds what this run just wrote to the dedup record `key` to the window kept: the same
    /// entries a read of it would give, without reading and hashing it back. The next window
    /// still decides whether the record is in it.
    pub(super) fn remember(&self, key: &str, delivered: &SeenSet) {
        if let Some(window) = self.lock().as_mut() {
            window.add(key, delivered.iter().map(|(&key, &content)| (key, content)));
        }
    }

    /// Removes the objects of batches delivered before the window that ends at `now` from the
    /// store; the next window drops them. Only called while no batch is in the journal (see
    /// [`Self::window`]). Safe to repeat: deletes are idempotent.
    pub(super) async fn prune(
        &self,
        store: &dyn ObjectStore,
        (bucket, shard): (&str, Shard),
        now: OffsetDateTime,
    ) -> Result<usize, DeliveryError> {
        let cutoff = now - WINDOW - Duration::hours(1);
        let mut pruned = 0;
        for entry in store.list_all(bucket, &shard.seen_prefix()).await? {
            if parse_seen_key(&entry.key).is_some_and(|(at, _)| at < cutoff) {
                store.delete(bucket, &entry.key).await?;
                pruned += 1;
            }
        }
        Ok(pruned)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Window>> {
        self.window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The dedup record `key`'s entries.
async fn read(store: &dyn ObjectStore, bucket: &str, key: &str) -> Result<Entries, DeliveryError> {
    let body = store.get_body(bucket, key).await?;
    decode(key, &body)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn keys_carry_the_delivery_time_and_batch() {
        let key = Shard::ONLY.seen_key(datetime!(2024-03-07 09:05:59 UTC), "b1");
        assert_eq!(key, "deliver/seen/20240307T090559Z-b1.txt");
        assert_eq!(
            parse_seen_key(&key),
            Some((datetime!(2024-03-07 09:05:59 UTC), "b1"))
        );
        assert_eq!(parse_seen_key("deliver/seen/garbage.txt"), None);
    }

    #[test]
    fn a_window_adds_and_removes_records_and_keeps_a_key_two_records_hold() {
        let (a, b, c) = (hash_key("a"), hash_key("b"), hash_key("c"));
        let hash = staging::RecordHash;
        let (r1, r2, r3) = (
            vec![(a, hash(1)), (b, hash(2))],
            vec![(c, hash(3))],
            vec![(c, hash(4))],
        );
        let mut window = Window::default();
        window.add("r1", r1.iter().copied());
        window.add("r2", r2.iter().copied());
        assert_eq!(window.keys().len(), 3);
        window.remove("r1", &r1);
        assert_eq!(window.keys(), &SeenSet::from([(c, hash(3))]));
        // The later record's hash stands while both hold the key, and the key stays until
        // neither does, whichever leaves first.
        window.add("r3", r3.iter().copied());
        assert_eq!(window.keys().get(&c), Some(&hash(4)));
        window.remove("r3", &r3);
        assert_eq!(window.keys(), &SeenSet::from([(c, hash(3))]));
        window.add("r3", r3.iter().copied());
        window.remove("r2", &r2);
        assert_eq!(window.keys(), &SeenSet::from([(c, hash(4))]));
        window.remove("r3", &r3);
        window.remove("r3", &r3);
        assert!(window.keys().is_empty() && window.records.is_empty() && window.shared.is_empty());
    }

    #[tokio::test]
    async fn the_kept_window_follows_records_in_and_out_and_a_pruned_one_starts_it_afresh() {
        use crate::adapters::local::LocalObjectStore;
        use crate::ports::object_store::PutOptions;

        let dir = tempfile::tempdir().unwrap();
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket("state").await.unwrap();
        let place = ("state", Shard::ONLY);
        let t0 = datetime!(2024-03-07 09:00:00 UTC);
        let hash = staging::RecordHash;
        let (first, second) = (
            Shard::ONLY.seen_key(t0, "b1"),
            Shard::ONLY.seen_key(t0 + Duration::hours(2), "b2"),
        );
        for (key, event) in [(&first, "e-1"), (&second, "e-2")] {
            store
                .put(
                    "state",
                    key,
                    encode([(event, hash(1))].into_iter()),
                    &PutOptions::new("text/plain"),
                )
                .await
                .unwrap();
        }
        let keys = |window: &Window| {
            let mut keys: Vec<KeyHash> = window.keys().keys().copied().collect();
            keys.sort_unstable();
            keys
        };
        let sorted = |mut keys: Vec<KeyHash>| {
            keys.sort_unstable();
            keys
        };
        let cache = SeenCache::default();

        let window = cache
            .window(&store, place, t0 + Duration::hours(3), "b3")
            .await
            .unwrap();
        assert_eq!(
            keys(&window),
            sorted(vec![hash_key("e-1"), hash_key("e-2")])
        );
        cache.keep(window);
        // The batch's own record, written and remembered, joins the window kept.
        let own = Shard::ONLY.seen_key(t0 + Duration::hours(3), "b3");
        store
            .put(
                "state",
                &own,
                encode([("e-3", hash(1))].into_iter()),
                &PutOptions::new("text/plain"),
            )
            .await
            .unwrap();
        cache.remember(&own, &SeenSet::from([(hash_key("e-3"), hash(1))]));
        // A day after the first record, it leaves; a batch's own record is never in its window.
        let window = cache
            .window(&store, place, t0 + Duration::hours(25), "b3")
            .await
            .unwrap();
        assert_eq!(keys(&window), vec![hash_key("e-2")]);
        cache.keep(window);
        // A record leaving after it was pruned can no longer be read: the window starts
        // afresh, with no record left in it.
        let later = t0 + Duration::hours(28);
        assert_eq!(cache.prune(&store, place, later).await.unwrap(), 2);
        let window = cache.window(&store, place, later, "b4").await.unwrap();
        assert!(window.keys().is_empty());
    }

    #[test]
    fn bodies_round_trip_and_corruption_is_named() {
        let (seven, max) = (staging::RecordHash(7), staging::RecordHash(u128::MAX));
        let body = encode([("e-1", seven), ("sha256:ab", max)].into_iter());
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            format!("e-1\t{:032x}\nsha256:ab\t{}\n", 7, "f".repeat(32))
        );
        assert_eq!(
            decode("k", &body).unwrap(),
            vec![(hash_key("e-1"), seven), (hash_key("sha256:ab"), max)]
        );
        let error = decode("deliver/seen/x.txt", b"e-1\t07\ne-2\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the dedup record deliver/seen/x.txt is unreadable at line 2"
        );
    }
}
