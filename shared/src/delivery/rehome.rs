//! Staged events that no shard reads. After `deliverShards` changes, what ingest staged under
//! the old count sits in folders none of the new shards lists: `staging/` itself when there was
//! one shard, `staging/shard-{k}/` for a shard k. Until [`SETTLE`] after deliver first runs with
//! the new count (time for every ingest still running the old configuration to finish), shard
//! 0's runs move them: each object's events are split by the new count and staged again under
//! the same staging time, then the old object is deleted. Left where they were, they would wait
//! for `StagingExpiryDays` and be expired unread.
//!
//! Safe to crash and to repeat: the new objects are create-only under new keys, and the old
//! one is deleted only after them. A crash in between stages the events twice, and their
//! shard's dedup (the same dedup key with the same bytes) delivers them once.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::config::{Config, MAX_DELIVER_SHARDS};
use crate::document::{self, Recovery, Style};
use crate::layout::{self, SHARD_COUNT_KEY, Shard};
use crate::ports::object_store::ObjectStore;
use crate::staging::{self, StagingError};

use super::{Clock, DeliveryError, quarantine};

/// How long after a change of the shard count shard 0 keeps looking for events staged under
/// the old one: ingest's timeout is a minute, and a deployment switches every function within
/// minutes.
pub(super) const SETTLE: Duration = Duration::hours(1);

/// The shard count deliver last ran with.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShardCount {
    count: u16,
    #[serde(with = "time::serde::rfc3339::option")]
    changed_at: Option<OffsetDateTime>,
}

impl Recovery for ShardCount {
    const IF_UNREADABLE: &'static str = "deliver stops until it reads. It names the shard count \
        deliver last ran with: delete it, and the next run looks again, for an hour, for events \
        staged under another count";
}

/// What a look for events staged under another shard count found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Rehomed {
    /// The count changed over [`SETTLE`] ago: nothing can be staged under the old one any
    /// more, and this process need not look again.
    Settled,
    /// The staging objects moved to the current shards' folders (possibly none), and those
    /// that could not be read, quarantined.
    Moved {
        objects: usize,
        quarantined: Vec<String>,
    },
}

/// Moves every staging object in a folder no shard of `config` reads into the shards' own,
/// until the delivery clock reaches `until`.
pub(super) async fn rehome(
    config: &Config,
    store: &dyn ObjectStore,
    clock: &Clock,
    until: OffsetDateTime,
) -> Result<Rehomed, DeliveryError> {
    let now = clock.now();
    let bucket = config.state_bucket.as_str();
    let count = config.deliver_shards;
    let (last, etag) = document::read::<ShardCount>(store, bucket, SHARD_COUNT_KEY).await?;
    let changed_at = match last.changed_at {
        Some(at) if last.count == count => at,
        _ => {
            let changed = ShardCount {
                count,
                changed_at: Some(now),
            };
            // A run that loses the swap to another run's change looks anyway: looking is
            // harmless, and the next run reads who won.
            document::swap(
                store,
                bucket,
                SHARD_COUNT_KEY,
                (&changed, Style::Compact),
                etag.as_ref(),
            )
            .await?;
            now
        }
    };
    if now >= changed_at + SETTLE {
        return Ok(Rehomed::Settled);
    }
    // The objects one ingest request staged, one per shard it reached, share a staging time:
    // taken together, an event split among the old shards is put back together before it is
    // split among the new ones. (Parts of one event staged apart and delivered by one shard
    // would otherwise be dropped as copies of each other.)
    let mut retired: Vec<(OffsetDateTime, String)> = Vec::new();
    let mut quarantined = Vec::new();
    for prefix in Shard::retired_staging_prefixes(count, MAX_DELIVER_SHARDS) {
        for entry in store.list_all(bucket, &prefix).await? {
            // `staging/` lists the current shards' folders too, after its own objects. (The
            // other prefixes hold only retired objects: `staging/shard-` lists whole folders.)
            if prefix == layout::STAGING_PREFIX
                && !layout::is_staging_object_in(&prefix, &entry.key)
            {
                break;
            }
            match layout::parse_staging_key(&entry.key) {
                Some(staged_at) => retired.push((staged_at, entry.key)),
                None => {
                    tracing::error!(key = %entry.key, "not a staging key; moved to quarantine");
                    let body = store.get(bucket, &entry.key).await?.body;
                    quarantine(store, bucket, &entry.key, body).await?;
                    quarantined.push(entry.key);
                }
            }
        }
    }
    retired.sort();
    let mut objects = 0;
    for request in retired.chunk_by(|a, b| a.0 == b.0) {
        if clock.now() >= until {
            break;
        }
        let mut bodies = Vec::with_capacity(request.len());
        for (_, key) in request {
            bodies.push((key, store.get(bucket, key).await?.body));
        }
        let mut events = Vec::new();
        for (key, body) in &bodies {
            match staging::read_staged(key, body) {
                Ok(more) => events.extend(more),
                Err(StagingError::Corrupt { key, source }) => {
                    tracing::error!(%key, %source, "staging object unreadable; moved to quarantine");
                    quarantine(store, bucket, &key, body.clone()).await?;
                    quarantined.push(key);
                }
                Err(other) => return Err(other.into()),
            }
        }
        let staged_at = request[0].0;
        staging::stage(store, config, staging::merge_parts(events), staged_at).await?;
        for (key, _) in &bodies {
            store.delete(bucket, key).await?;
        }
        objects += request.len();
    }
    if objects > 0 {
        tracing::info!(objects, count, "staged events moved to the current shards");
    }
    Ok(Rehomed::Moved {
        objects,
        quarantined,
    })
}
