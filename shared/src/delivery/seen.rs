//! What deliver has already delivered: one object per batch under `deliver/seen/` (a shard's
//! own folder when deliver is sharded: each shard stages and dedups its own part of an event), listing the
//! dedup keys (eventIDs) the batch delivered with a hash of each record's bytes. A batch skips
//! every event whose key a batch of the previous 24 hours delivered, which is what makes a
//! client's retry or replay harmless; the content hash tells a true copy from a different
//! record reusing an eventID, which is reported rather than passed over in silence.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use time::{Duration, OffsetDateTime};

use crate::layout::{Shard, parse_seen_key};
use crate::ports::object_store::ObjectStore;
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
pub(super) fn encode(events: &[(&str, ContentHash)]) -> Bytes {
    // An eventID, a tab, 32 hex digits and a newline.
    let mut body = Vec::with_capacity(events.len() * 72);
    let mut hex = [0; 32];
    for &(key, content) in events {
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
/// a warm Lambda: dedup records never change once written, so each is read once, and from one
/// batch to the next only the records that entered or left the window are added or removed,
/// where merging a day's keys again for every batch made a backlog's batches ever slower.
#[derive(Default)]
pub(super) struct SeenCache {
    /// `None` before the first window, and while a batch is planned with it.
    window: Mutex<Option<Window>>,
}

/// The keys of a set of dedup records, merged.
#[derive(Default)]
pub(super) struct Window {
    keys: SeenSet,
    /// The records merged, by key, with their entries.
    records: BTreeMap<String, Entries>,
    /// Keys added while another record already held them. Removing a record must then not
    /// remove a key another one holds, so it merges the rest again instead.
    shared: usize,
}

impl Window {
    /// Every key of the records in the window, with its record's content hash.
    pub(super) fn keys(&self) -> &SeenSet {
        &self.keys
    }

    fn add(&mut self, record: String, entries: Entries) {
        self.merge(&entries);
        self.records.insert(record, entries);
    }

    /// Merges `entries` in. Where two records hold a key, the later one's hash stands, as when
    /// the records are merged in key (time) order.
    fn merge(&mut self, entries: &Entries) {
        self.keys.reserve(entries.len());
        for &(key, content) in entries {
            if self.keys.insert(key, content).is_some() {
                self.shared += 1;
            }
        }
    }

    fn remove(&mut self, record: &str) {
        let Some(entries) = self.records.remove(record) else {
            return;
        };
        if self.shared == 0 {
            for (key, _) in entries {
                self.keys.remove(&key);
            }
            return;
        }
        self.keys.clear();
        self.shared = 0;
        let records = std::mem::take(&mut self.records);
        for entries in records.values() {
            self.merge(entries);
        }
        self.records = records;
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
        let leaving: Vec<String> = window
            .records
            .keys()
            .filter(|record| !wanted.contains(*record))
            .cloned()
            .collect();
        for record in leaving {
            window.remove(&record);
        }
        for record in wanted {
            if !window.records.contains_key(&record) {
                let body = store.get(bucket, &record).await?.body;
                let entries = decode(&record, &body)?;
                window.add(record, entries);
            }
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
            let entries = delivered
                .iter()
                .map(|(&key, &content)| (key, content))
                .collect();
            window.remove(key);
            window.add(key.to_owned(), entries);
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
        let mut window = Window::default();
        window.add("r1".to_owned(), vec![(a, hash(1)), (b, hash(2))]);
        window.add("r2".to_owned(), vec![(c, hash(3))]);
        assert_eq!(window.keys().len(), 3);
        window.remove("r1");
        assert_eq!(window.keys(), &SeenSet::from([(c, hash(3))]));
        // The later record's hash stands while both hold the key, and the key stays until
        // neither does.
        window.add("r3".to_owned(), vec![(c, hash(4))]);
        assert_eq!(window.keys().get(&c), Some(&hash(4)));
        window.remove("r3");
        assert_eq!(window.keys(), &SeenSet::from([(c, hash(3))]));
        window.remove("r2");
        window.remove("r2");
        assert!(window.keys().is_empty() && window.records.is_empty());
    }

    #[test]
    fn bodies_round_trip_and_corruption_is_named() {
        let (seven, max) = (staging::RecordHash(7), staging::RecordHash(u128::MAX));
        let body = encode(&[("e-1", seven), ("sha256:ab", max)]);
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
