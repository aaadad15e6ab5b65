//! `validate-logs`: checks a trail's log files against its signed digest chains, as
//! `aws cloudtrail validate-logs` does, and more strictly.
//!
//! Like aws-cli it lists the trail's digest keys dated in `[start, end + 1 hour]`, walks each
//! chain from the newest digest to the oldest along the previous-digest pointers, verifies
//! every digest (format, location, key, signature) and hashes every log file a valid digest
//! lists, then does the same for the chain of backfill digests (aws-cli 1.45+); it prints the
//! same lines and summary. It reads chains as CloudTrail writes them: periods at any offset
//! from the hour, backfill digests, fields it does not know, organization trails. Beyond
//! aws-cli, on lines of their own marked as Cairn's, it
//! - validates every Region's chain of the trail (aws-cli only the CLI's Region), or those asked;
//! - checks each link both ways: `previousDigestHashValue`, `previousDigestSignature` and the
//!   contiguity of the periods, not only the pointer;
//! - reports every missing period's digest, so two or more consecutive deleted digests are all
//!   reported (aws-cli reports one: aws/aws-cli#7054);
//! - reports digests in the range that the chain does not link, log files of the period that
//!   no digest lists, log files found under another key than the one listed, and log files
//!   listed twice;
//! - verifies each digest with the key its fingerprint names, which must not have been retired
//!   before the digest's end time (keys rotate at any time);
//! - reads digests and log files in parallel.
//!
//! A log file may be listed in the digest after its delivery hour (its batch committed late),
//! so the search for unlisted log files stops an hour before the newest digest's end.

mod arn;
mod bundle;
mod chain;
mod digests;
mod logs;
mod report;

use std::collections::{HashMap, HashSet};

use futures::channel::mpsc;
use futures::{FutureExt, StreamExt, TryStreamExt, future, stream};

use crate::layout::{ChainId, DIGEST_KIND};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::public_keys::PublishedKey;
use crate::record::EventTime;

pub use arn::{InvalidTrailArn, TrailArn};
pub use bundle::{Bundled, copy_evidence};
pub use report::{
    CAIRN_MARK, Counts, FileKind, Line, Location, Report, ValidationProblem, write_report,
    write_startup, write_summary,
};

use chain::{ChainStep, ChainWalk, ChainWalker, HOUR, Listing};
use digests::{ChainPlace, Fetched, KeyRing};
use logs::READ_CONCURRENCY;

/// What to validate.
#[derive(Debug, Clone)]
pub struct Request {
    pub trail: TrailArn,
    /// The bucket the trail delivers to.
    pub bucket: String,
    pub prefix: Option<String>,
    /// Set for an organization trail: its files are under `AWSLogs/{organization_id}/`.
    pub organization_id: Option<String>,
    /// Whose files: the trail's account, or a member account of an organization trail.
    pub account: String,
    /// The Regions whose chains to validate; `None` for every Region the trail has digests in.
    pub regions: Option<Vec<String>>,
    /// The files are a copy that may lack S3 metadata (an `aws s3 sync` folder): a digest
    /// whose signature is nowhere is then unverifiable rather than invalid.
    pub copy_without_metadata: bool,
    pub start: EventTime,
    pub end: EventTime,
}

/// Told how many files there are to read and how many are done, e.g. to draw a progress bar.
pub trait Progress: Sync {
    fn add_work(&self, _files: u64) {}
    fn done(&self, _files: u64) {}
}

/// For callers that show no progress.
pub struct NoProgress;

impl Progress for NoProgress {}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The store failed in a way other than a missing object (which is a finding, not an
    /// error): listing or reading cannot go on.
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    /// aws-cli's words (`validation.py` line 1026).
    #[error("Invalid time range specified: start-time must occur before end-time")]
    InvertedRange { start: EventTime, end: EventTime },
}

/// Validates the trail's digests and log files in the request's range with the published
/// `keys`. Reads only.
pub async fn validate(
    store: &dyn ObjectStore,
    keys: &[PublishedKey],
    request: &Request,
    progress: &dyn Progress,
) -> Result<Report, ValidateError> {
    let requested = (request.start, request.end);
    if request.start > request.end {
        return Err(ValidateError::InvertedRange {
            start: request.start,
            end: request.end,
        });
    }
    let keys = KeyRing::new(keys);
    let trail = trail_chain(request);

    let mut chains = Vec::new();
    let listed = list_digest_keys(store, request).await?;
    let mut by_chain: Vec<_> = chain::chains(listed, &trail, request.regions.as_deref())
        .into_iter()
        .collect();
    by_chain.sort();
    for (key, keys) in by_chain {
        let chain = ChainId {
            region: key.region,
            ..trail.clone()
        };
        chains.push((chain, key.backfill, listing(keys, request)));
    }
    let places: Vec<ChainPlace<'_>> = chains
        .iter()
        .map(|(chain, backfill, _)| ChainPlace {
            bucket: &request.bucket,
            prefix: request.prefix.as_deref(),
            organization_id: request.organization_id.as_deref(),
            chain,
            home_region: &request.trail.home_region,
            backfill: *backfill,
            copy_without_metadata: request.copy_without_metadata,
        })
        .collect();

    // One pipeline rather than phases: each digest's log files start being read and hashed as
    // soon as the digest is read, while the other digests are still coming, and the search
    // for unlisted log files lists while they hash. The log files read ahead are the ones the
    // digest could list (`ChainPlace::misfiled`); which of them the verdicts use is decided
    // after the walk, as before, so reading ahead changes no line.
    let (ahead, ahead_files) = mpsc::unbounded();
    let read_digests = read_digests_and_announce_logs(store, &chains, &places, ahead, progress);
    let hash_ahead = logs::hash_ahead(store, ahead_files, progress).map(Ok);
    let walk_and_list = async {
        let mut prefetched = read_digests.await?;
        let mut report = Report::default();
        let mut walks = Vec::new();
        for ((_, _, listing), place) in chains.iter().zip(&places) {
            let mine: HashMap<Location, Fetched> = listing
                .in_range
                .iter()
                .filter_map(|(_, location)| prefetched.remove_entry(location))
                .collect();
            let walker = ChainWalker {
                store,
                keys: &keys,
                place,
                requested,
                prefetched: mine,
            };
            walks.push(walker.walk(listing, &mut report).await?);
        }
        let unlisted = list_unlisted(store, request, &places, &walks).await?;
        Ok::<_, ValidateError>((report, walks, unlisted))
    };
    let (hashed_ahead, (mut report, walks, unlisted)) =
        future::try_join(hash_ahead, walk_and_list).await?;

    check_logs(
        store,
        &places,
        walks,
        unlisted,
        hashed_ahead,
        &mut report,
        progress,
    )
    .await?;
    Ok(report)
}

/// Reads every listed digest of the chains, [`READ_CONCURRENCY`] at a time, and sends each log
/// file a digest could list into `logs_to_hash` (once each) as soon as the digest is read.
async fn read_digests_and_announce_logs(
    store: &dyn ObjectStore,
    chains: &[(ChainId, bool, Listing)],
    places: &[ChainPlace<'_>],
    logs_to_hash: mpsc::UnboundedSender<Location>,
    progress: &dyn Progress,
) -> Result<HashMap<Location, Fetched>, ValidateError> {
    let to_read: Vec<(&ChainPlace<'_>, Location)> = chains
        .iter()
        .zip(places)
        .flat_map(|((_, _, listing), place)| {
            listing
                .in_range
                .iter()
                .map(move |(_, location)| (place, location.clone()))
        })
        .collect();
    progress.add_work(to_read.len() as u64);
    let mut announced = HashSet::new();
    let fetched = stream::iter(to_read)
        .map(|(place, location)| async move {
            let fetched = digests::fetch(store, &location).await;
            progress.done(1);
            fetched.map(|fetched| (place, location, fetched))
        })
        .buffer_unordered(READ_CONCURRENCY)
        .map_ok(|(place, location, fetched)| {
            if let Fetched::Found(digest) = &fetched {
                for file in place.hashable(digest) {
                    if announced.insert(file.clone()) {
                        progress.add_work(1);
                        // The receiver lives until every digest is read: a send cannot fail.
                        let _ = logs_to_hash.unbounded_send(file);
                    }
                }
            }
            (location, fetched)
        })
        .try_collect()
        .await?;
    Ok(fetched)
}

/// The request's chains, but for the Region.
fn trail_chain(request: &Request) -> ChainId {
    ChainId {
        trail: request.trail.name.clone(),
        home_region: request.trail.home_region.clone(),
        account: request.account.clone(),
        region: String::new(),
    }
}

/// The accounts that have a folder under an organization trail's
/// `[prefix/]AWSLogs/{organization_id}/`, found by listing: Cairn's way to validate a whole
/// organization in one run (aws-cli takes the one account `--account-id` names).
pub async fn organization_accounts(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: Option<&str>,
    organization_id: &str,
) -> Result<Vec<String>, ObjectStoreError> {
    let root = format!("{}{organization_id}/", logs_root(prefix));
    Ok(store
        .list_folders(bucket, &root)
        .await?
        .into_iter()
        .filter_map(|folder| {
            let account = folder.strip_prefix(&root)?.strip_suffix('/')?;
            crate::names::is_account_id(account).then(|| account.to_owned())
        })
        .collect())
}

/// The Regions the request's account has digest folders in, found by listing, so that each
/// Region's chain can be validated and summed up on its own.
pub async fn digest_regions(
    store: &dyn ObjectStore,
    request: &Request,
) -> Result<Vec<String>, ObjectStoreError> {
    let root = digest_root(request);
    Ok(store
        .list_folders(&request.bucket, &root)
        .await?
        .into_iter()
        .filter_map(|folder| Some(folder.strip_prefix(&root)?.strip_suffix('/')?.to_owned()))
        .collect())
}

/// `[prefix/]AWSLogs/`.
fn logs_root(prefix: Option<&str>) -> String {
    let mut root = prefix
        .map(|prefix| format!("{prefix}/"))
        .unwrap_or_default();
    root.push_str("AWSLogs/");
    root
}

/// The folder of the request's account's digests: `[prefix/]AWSLogs/[o-org/]{account}/CloudTrail-Digest/`.
fn digest_root(request: &Request) -> String {
    let mut root = logs_root(request.prefix.as_deref());
    if let Some(organization_id) = &request.organization_id {
        root.push_str(organization_id);
        root.push('/');
    }
    root.push_str(&format!("{}/{DIGEST_KIND}/", request.account));
    root
}

/// Every digest key of the trail's account, or of the requested Regions.
async fn list_digest_keys(
    store: &dyn ObjectStore,
    request: &Request,
) -> Result<Vec<String>, ObjectStoreError> {
    let root = digest_root(request);
    let prefixes = match &request.regions {
        None => vec![root],
        Some(regions) => regions
            .iter()
            .map(|region| format!("{root}{region}/"))
            .collect(),
    };
    logs::list_in_parallel(store, &request.bucket, prefixes).await
}

/// aws-cli's selection: keys dated from the start to an hour past the end, which holds the log
/// files delivered just before the end.
fn listing(keys: Vec<(EventTime, String)>, request: &Request) -> Listing {
    let last = EventTime::from_unix_seconds(request.end.unix_seconds() + HOUR);
    let mut listing = Listing::default();
    for (time, key) in keys {
        if time < request.start {
            listing.before_range = Some(time);
        } else if time <= last {
            listing
                .in_range
                .push((time, Location::new(&request.bucket, key)));
        }
    }
    listing
}

/// Log files in each regular chain's checked span that no digest lists, backfill digests
/// included (they list what the regular chain missed).
async fn list_unlisted(
    store: &dyn ObjectStore,
    request: &Request,
    places: &[ChainPlace<'_>],
    walks: &[ChainWalk],
) -> Result<Vec<Vec<Location>>, ObjectStoreError> {
    let mut unlisted: Vec<Vec<Location>> = Vec::new();
    let listed_anywhere = |file: &Location| walks.iter().any(|walk| walk.listed.contains_key(file));
    for (walk, place) in walks.iter().zip(places) {
        let Some((from, to)) = unlisted_span(walk, request).filter(|_| !place.backfill) else {
            unlisted.push(Vec::new());
            continue;
        };
        let mut found: Vec<Location> = place
            .list_delivered(store, from, to)
            .await?
            .into_iter()
            .filter(|(stamp, file)| {
                !listed_anywhere(file)
                    && !walk
                        .explained_gaps
                        .iter()
                        .any(|(gap_from, gap_to)| gap_from <= stamp && stamp < gap_to)
            })
            .map(|(_, file)| file)
            .collect();
        found.sort();
        unlisted.push(found);
    }
    Ok(unlisted)
}

/// Hashes the log files the valid digests list (taking those hashed ahead) and matches the
/// missing ones with the `unlisted`, then puts every line in aws-cli's order.
async fn check_logs(
    store: &dyn ObjectStore,
    places: &[ChainPlace<'_>],
    walks: Vec<ChainWalk>,
    unlisted: Vec<Vec<Location>>,
    mut hashed_ahead: HashMap<Location, logs::Hashed>,
    report: &mut Report,
    progress: &dyn Progress,
) -> Result<(), ValidateError> {
    // What each listed entry needs.
    let mut first_listing: HashMap<Location, Location> = HashMap::new();
    let mut to_hash = HashSet::new();
    let mut verdicts: Vec<Vec<Option<ValidationProblem>>> = Vec::new();
    for (walk, place) in walks.iter().zip(places) {
        let mut chain_verdicts = Vec::new();
        for step in &walk.steps {
            let ChainStep::Logs {
                digest,
                digest_end,
                entries,
            } = step
            else {
                continue;
            };
            for entry in entries {
                let file = Location::new(&entry.s3_bucket, &entry.s3_object);
                let verdict = if let Some(first) = first_listing.get(&file) {
                    Some(ValidationProblem::ListedTwice {
                        first: first.clone(),
                    })
                } else if let Some(detail) = place.misfiled(entry, *digest_end) {
                    Some(ValidationProblem::Misfiled {
                        digest: digest.clone(),
                        detail,
                    })
                } else {
                    to_hash.insert(file.clone());
                    None
                };
                first_listing.entry(file).or_insert_with(|| digest.clone());
                chain_verdicts.push(verdict);
            }
        }
        verdicts.push(chain_verdicts);
    }
    let mut hashes = HashMap::new();
    let mut not_read_ahead = Vec::new();
    for file in to_hash {
        match hashed_ahead.remove(&file) {
            Some(hashed) => {
                hashes.insert(file, hashed?);
            }
            None => not_read_ahead.push(file),
        }
    }
    hashes.extend(logs::hash_all(store, not_read_ahead, progress).await?);

    // A listed file that is missing may have been moved to one of the unlisted ones: match them
    // by the hash the digest lists.
    let missing: Vec<(&Location, &str)> = walks
        .iter()
        .flat_map(|walk| walk.steps.iter())
        .filter_map(|step| match step {
            ChainStep::Logs { entries, .. } => Some(entries),
            _ => None,
        })
        .flatten()
        .filter_map(|entry| {
            let file = Location::new(&entry.s3_bucket, &entry.s3_object);
            matches!(hashes.get(&file), Some(Err(ValidationProblem::NotFound))).then_some((
                first_listing.get_key_value(&file)?.0,
                entry.hash_value.as_str(),
            ))
        })
        .collect();
    let mut moved_to: HashMap<Location, Location> = HashMap::new();
    if !missing.is_empty() {
        let candidates: Vec<Location> = unlisted.iter().flatten().cloned().collect();
        let candidate_hashes = logs::hash_all(store, candidates, progress).await?;
        let mut by_hash: HashMap<&str, Vec<&Location>> = HashMap::new();
        for (file, hash) in &candidate_hashes {
            if let Ok(hash) = hash {
                by_hash.entry(hash.as_str()).or_default().push(file);
            }
        }
        for (file, listed_hash) in missing {
            if let Some(found) = by_hash.get_mut(listed_hash).and_then(Vec::pop) {
                moved_to.insert(file.clone(), found.clone());
            }
        }
    }
    let explained: HashSet<&Location> = moved_to.values().collect();

    for ((walk, chain_verdicts), chain_unlisted) in walks.iter().zip(verdicts).zip(&unlisted) {
        let mut chain_verdicts = chain_verdicts.into_iter();
        for step in &walk.steps {
            match step {
                ChainStep::Line(line) => report.lines.push(line.clone()),
                ChainStep::Logs { entries, .. } => {
                    for entry in entries {
                        let file = Location::new(&entry.s3_bucket, &entry.s3_object);
                        let verdict = chain_verdicts.next().expect("one verdict per entry");
                        let problem = verdict.or_else(|| match &hashes[&file] {
                            Ok(hash) if *hash == entry.hash_value => None,
                            Ok(_) => Some(ValidationProblem::HashMismatch),
                            Err(ValidationProblem::NotFound) => Some(match moved_to.get(&file) {
                                Some(found) => ValidationProblem::MovedTo {
                                    found: found.clone(),
                                },
                                None => ValidationProblem::NotFound,
                            }),
                            Err(problem) => Some(problem.clone()),
                        });
                        report.lines.push(match problem {
                            None => Line::Valid {
                                kind: FileKind::Log,
                                file,
                            },
                            Some(problem) => Line::Invalid {
                                kind: FileKind::Log,
                                file,
                                problem,
                            },
                        });
                    }
                }
            }
        }
        for file in chain_unlisted {
            if !explained.contains(file) {
                report.lines.push(Line::Invalid {
                    kind: FileKind::Log,
                    file: file.clone(),
                    problem: ValidationProblem::Unlisted,
                });
            }
        }
    }
    Ok(())
}

/// Delivery stamps in which every log file of the chain must be listed by a digest the walk
/// read: from the oldest digest's start to an hour before the newest digest's end (a later
/// digest may still list a file of the last hour), within the request.
fn unlisted_span(walk: &ChainWalk, request: &Request) -> Option<(EventTime, EventTime)> {
    let (covered_start, covered_end) = walk.covered?;
    let from = covered_start.max(request.start);
    let to = EventTime::from_unix_seconds(
        (covered_end.unix_seconds() - HOUR).min(request.end.unix_seconds() + 1),
    );
    (from < to).then_some((from, to))
}

#[cfg(test)]
mod tests;
