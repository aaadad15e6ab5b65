//! `cairn deliver`: staged events into log files, and what went where.

use std::collections::BTreeMap;

use anyhow::Result;
use cairn_shared::config::Config;
use cairn_shared::delivery::{Deliverer, DeliveryReport};
use cairn_shared::history;
use cairn_shared::ports::object_store::ObjectStore;

use crate::backend::BackendArgs;
use cairn_shared::service::Service;
use time::{Duration, OffsetDateTime};

/// One deliver run of every shard at once, digests included; on the embedded store also the
/// event history's 90-day expiry (an S3 lifecycle rule does that in AWS).
pub(crate) async fn deliver(
    config: &Config,
    store: &dyn ObjectStore,
    backend: &BackendArgs,
    now: OffsetDateTime,
) -> Result<DeliveryReport> {
    let signer = backend.signer().await?;
    let deliverers = Deliverer::every_shard(config, store, signer.as_deref());
    let claim_for = Duration::days(1);
    let runs = deliverers
        .iter()
        .map(|deliverer| deliverer.handle(&claim_for, now));
    let mut report = DeliveryReport::default();
    for run in futures::future::try_join_all(runs).await? {
        report.absorb(run);
    }
    if backend.is_embedded() {
        history::prune(store, &config.state_bucket, now).await?;
    }
    print_report(config, &report);
    Ok(report)
}

fn print_report(config: &Config, report: &DeliveryReport) {
    println!(
        "delivered {} events in {} log files ({} batches{}); {} copies of delivered events skipped",
        report.events,
        report.log_files.len(),
        report.batches,
        if report.resumed > 0 {
            format!(", {} left unfinished by an earlier run", report.resumed)
        } else {
            String::new()
        },
        report.duplicates
    );
    let mut per_trail: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for file in &report.log_files {
        let entry = per_trail.entry(&file.trail).or_default();
        entry.0 += 1;
        entry.1 += file.records;
    }
    for trail in &config.trails {
        let (files, events) = per_trail.get(trail.name()).copied().unwrap_or_default();
        println!(
            "trail {}: {events} events in {files} log files",
            trail.name()
        );
        for file in report.log_files.iter().filter(|f| f.trail == trail.name()) {
            println!(
                "  s3://{}/{} ({} events)",
                file.bucket, file.key, file.records
            );
        }
        let insight_files: Vec<_> = report
            .insight_files
            .iter()
            .filter(|f| f.trail == trail.name())
            .collect();
        if !insight_files.is_empty() {
            let events: usize = insight_files.iter().map(|f| f.records).sum();
            println!(
                "trail {}: {events} Insights events in {} Insights files",
                trail.name(),
                insight_files.len()
            );
            for file in insight_files {
                println!(
                    "  s3://{}/{} ({} events)",
                    file.bucket, file.key, file.records
                );
            }
        }
    }
    for digest in &report.digests {
        println!(
            "digest for trail {}: s3://{}/{} ({} log files)",
            digest.trail, digest.bucket, digest.key, digest.log_files
        );
    }
    if report.rehomed > 0 {
        println!(
            "moved {} staging objects staged under another shard count into the {} shards' folders",
            report.rehomed, config.deliver_shards
        );
    }
    for (trail, events) in &report.removed_trails {
        eprintln!(
            "warning: {events} staged events were for trail {trail}, which cairn.yaml no longer has; not delivered"
        );
    }
    for key in &report.quarantined {
        eprintln!(
            "warning: staging object {key} is not what ingest writes; moved to s3://{}/quarantine/{key}",
            config.state_bucket
        );
    }
    for event_id in &report.conflicts {
        eprintln!(
            "warning: eventID {event_id} arrived again with different content; the record delivered first keeps it"
        );
    }
    if let Some(until) = report.busy_until {
        eprintln!(
            "another deliver run holds the staging area until {until}; it delivers what is left"
        );
    }
}
