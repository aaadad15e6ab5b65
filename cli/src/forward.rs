//! The forward step of `cairn run`: each delivered log file to its trail's log group, with the
//! metric filters evaluated on every event.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use cairn_shared::config::Config;
use cairn_shared::delivery::DeliveryReport;
use cairn_shared::forward::{Forwarder, Outcome};
use cairn_shared::ports::log_sink::LogSink;
use cairn_shared::ports::object_store::ObjectStore;
use time::OffsetDateTime;

/// Forwards every log file `delivered` lists; EMF metric records are appended to
/// `metrics_file` (what Lambda's log group would turn into metrics).
pub async fn forward_delivered(
    config: &Config,
    store: &dyn ObjectStore,
    sink: &dyn LogSink,
    delivered: &DeliveryReport,
    metrics_file: &Path,
    now: OffsetDateTime,
) -> Result<()> {
    let forwarder = Forwarder::new(config, store, sink);
    let (mut events, mut matches, mut refused) = (0, 0, 0);
    let mut metrics = Vec::new();
    for file in &delivered.log_files {
        let report = forwarder
            .forward_log_file(&file.bucket, &file.key, now)
            .await
            .with_context(|| format!("forwarding s3://{}/{}", file.bucket, file.key))?;
        if report.outcome != Outcome::Forwarded {
            continue;
        }
        events += report.forwarded;
        matches += report.matches;
        refused += report.refused_total();
        for event in &report.refused_events {
            eprintln!(
                "warning: record {} not forwarded to {}: {:?}",
                event.event_id,
                report.log_group.as_deref().unwrap_or("its log group"),
                event.reason
            );
        }
        if let Some(alert) = &report.alert {
            println!(
                "  {} metric-filter matches in {}: alert at s3://{}/{alert}",
                report.matches, file.key, config.state_bucket
            );
        }
        metrics.extend(report.metrics);
    }
    if !metrics.is_empty() {
        if let Some(folder) = metrics_file.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating {}", folder.display()))?;
        }
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(metrics_file)
            .with_context(|| format!("opening {}", metrics_file.display()))?;
        for line in &metrics {
            writeln!(out, "{line}")?;
        }
    }
    println!(
        "forwarded {events} events to CloudWatch Logs ({refused} refused); {matches} metric-filter matches"
    );
    Ok(())
}
