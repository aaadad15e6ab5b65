//! Sent markers: which matches of an alert object notify has announced.
//!
//! One marker per alert object, in the state bucket at `notify/sent/{alert object key}`:
//!
//! ```json
//! {"version":1,"alertSha256":"…","matches":42,"announced":[[0,17],[30,41]]}
//! ```
//!
//! `announced` lists the positions (in the object's `matches`) of matches whose message SNS
//! accepted, as inclusive ranges. A marker is for the alert object whose bytes hash to
//! `alertSha256`; one for other bytes, or one that cannot be read, counts as none (the worst
//! that can come of it is a match announced twice, never one left out).

use std::collections::BTreeSet;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::layout::notify_sent_key;
use crate::ports::object_store::{ObjectStore, ObjectStoreError, PutOptions};

const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentMarker {
    version: u32,
    alert_sha256: String,
    matches: usize,
    announced: Vec<[usize; 2]>,
}

/// The positions announced already of the alert object `alert_key`, whose bytes hash to
/// `sha256` and which lists `matches` matches; empty when there is no marker for those bytes.
pub(super) async fn read(
    store: &dyn ObjectStore,
    state_bucket: &str,
    alert_key: &str,
    sha256: &str,
    matches: usize,
) -> Result<BTreeSet<usize>, ObjectStoreError> {
    let marker_key = notify_sent_key(alert_key);
    let object = match store.get(state_bucket, &marker_key).await {
        Ok(object) => object,
        Err(ObjectStoreError::NotFound { .. }) => return Ok(BTreeSet::new()),
        Err(error) => return Err(error),
    };
    match serde_json::from_slice::<SentMarker>(&object.body) {
        Ok(marker)
            if marker.version == VERSION
                && marker.alert_sha256 == sha256
                && marker.matches == matches =>
        {
            Ok(expand(&marker.announced, matches))
        }
        Ok(_) => {
            tracing::warn!(marker = %marker_key, "the sent marker is for other bytes of the alert object; announcing every match");
            Ok(BTreeSet::new())
        }
        Err(error) => {
            tracing::warn!(marker = %marker_key, %error, "the sent marker cannot be read; announcing every match");
            Ok(BTreeSet::new())
        }
    }
}

/// Records `announced` (every position announced so far, earlier runs' included) for the alert
/// object `alert_key`.
///
/// Safe to repeat, and to race: the marker only ever spares matches a resend, so a lost or
/// stale write can make a match go twice (SNS is at least once anyway) but never keeps one
/// from going.
pub(super) async fn write(
    store: &dyn ObjectStore,
    state_bucket: &str,
    alert_key: &str,
    sha256: &str,
    matches: usize,
    announced: &BTreeSet<usize>,
) -> Result<(), ObjectStoreError> {
    let marker = SentMarker {
        version: VERSION,
        alert_sha256: sha256.to_owned(),
        matches,
        announced: ranges(announced),
    };
    let body = serde_json::to_vec(&marker).expect("a marker always serializes");
    store
        .put(
            state_bucket,
            &notify_sent_key(alert_key),
            Bytes::from(body),
            &PutOptions::new("application/json"),
        )
        .await
        .map(|_| ())
}

/// Sorted positions as inclusive ranges: {0, 1, 2, 5} is [[0, 2], [5, 5]].
fn ranges(positions: &BTreeSet<usize>) -> Vec<[usize; 2]> {
    let mut ranges: Vec<[usize; 2]> = Vec::new();
    for &position in positions {
        match ranges.last_mut() {
            Some(last) if last[1] + 1 == position => last[1] = position,
            _ => ranges.push([position, position]),
        }
    }
    ranges
}

/// The positions of `ranges` below `matches` (a range past the end is a marker gone wrong).
fn expand(ranges: &[[usize; 2]], matches: usize) -> BTreeSet<usize> {
    ranges
        .iter()
        .flat_map(|&[first, last]| first..=last.min(matches.saturating_sub(1)))
        .filter(|&position| position < matches)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::LocalObjectStore;

    #[test]
    fn positions_round_trip_through_ranges() {
        let positions = BTreeSet::from([0, 1, 2, 5, 7, 8]);
        assert_eq!(ranges(&positions), [[0, 2], [5, 5], [7, 8]]);
        assert_eq!(expand(&ranges(&positions), 9), positions);
        assert_eq!(expand(&[[3, 100]], 5), BTreeSet::from([3, 4]));
        assert!(ranges(&BTreeSet::new()).is_empty());
    }

    #[tokio::test]
    async fn a_marker_counts_only_for_the_bytes_it_was_written_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket("state").await.expect("bucket");
        let alert = "alerts/trail/AWSLogs/x.json.gz.json";
        assert!(
            read(&store, "state", alert, "abc", 4)
                .await
                .expect("read")
                .is_empty()
        );
        let announced = BTreeSet::from([0, 1, 3]);
        write(&store, "state", alert, "abc", 4, &announced)
            .await
            .expect("write");
        let object = store
            .get("state", "notify/sent/alerts/trail/AWSLogs/x.json.gz.json")
            .await
            .expect("marker");
        assert_eq!(
            std::str::from_utf8(&object.body).unwrap(),
            r#"{"version":1,"alertSha256":"abc","matches":4,"announced":[[0,1],[3,3]]}"#
        );
        assert_eq!(
            read(&store, "state", alert, "abc", 4).await.expect("read"),
            announced
        );
        assert!(
            read(&store, "state", alert, "other", 4)
                .await
                .expect("read")
                .is_empty()
        );
        store
            .put(
                "state",
                &notify_sent_key(alert),
                Bytes::from_static(b"not json"),
                &PutOptions::new("application/json"),
            )
            .await
            .expect("put");
        assert!(
            read(&store, "state", alert, "abc", 4)
                .await
                .expect("read")
                .is_empty()
        );
    }
}
