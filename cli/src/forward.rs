//! The forward step of `cairn run`: each delivered log file and Insights file to its trail's log
//! group, with the metric filters evaluated on every event.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use cairn_shared::config::Config;
use cairn_shared::delivery::DeliveryReport;
use cairn_shared::forward::{ForwardReport, Forwarder, Outcome};
use cairn_shared::ports::log_sink::LogSink;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::service::Service;
use cairn_shared::trigger::ObjectCreated;
use time::OffsetDateTime;

/// Forwards every log file and Insights file `delivered` lists (S3 reports both created to the
/// forward function), and returns forward's report on each, in the
/// same order (the alert objects among them are what the notify step announces). EMF metric
/// records are appended to `metrics_file` (what Lambda's log group would turn into metrics).
pub(crate) async fn forward_delivered(
    config: &Config,
    store: &dyn ObjectStore,
    sink: &dyn LogSink,
    delivered: &DeliveryReport,
    metrics_file: &Path,
    now: OffsetDateTime,
) -> Result<Vec<ForwardReport>> {
    let forwarder = Forwarder::new(config, store, sink);
    let files = delivered.log_files.iter().chain(&delivered.insight_files);
    let mut reports = Vec::with_capacity(delivered.log_files.len() + delivered.insight_files.len());
    for file in files {
        let report = forwarder
            .handle(&ObjectCreated::new(&file.bucket, &file.key), now)
            .await
            .with_context(|| format!("forwarding s3://{}/{}", file.bucket, file.key))?;
        if report.outcome == Outcome::Forwarded {
            print_forwarded(config, &report);
        }
        reports.push(report);
    }
    append_metrics(metrics_file, &reports)?;
    print_totals(&reports);
    Ok(reports)
}

/// A file this run forwarded: its refused records on stderr, and the alert object it got.
fn print_forwarded(config: &Config, report: &ForwardReport) {
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
            report.matches, report.key, config.state_bucket
        );
    }
}

fn print_totals(reports: &[ForwardReport]) {
    let (mut events, mut matches, mut refused) = (0, 0, 0);
    for report in forwarded_now(reports) {
        events += report.forwarded;
        matches += report.matches;
        refused += report.refused_total();
    }
    println!(
        "forwarded {events} events to CloudWatch Logs ({refused} refused); {matches} metric-filter matches"
    );
}

/// Appends the EMF records of the files forwarded this run to `metrics_file`.
fn append_metrics(metrics_file: &Path, reports: &[ForwardReport]) -> Result<()> {
    let mut metrics = forwarded_now(reports)
        .flat_map(|report| &report.metrics)
        .peekable();
    if metrics.peek().is_none() {
        return Ok(());
    }
    if let Some(folder) = metrics_file.parent() {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(metrics_file)
        .with_context(|| format!("opening {}", metrics_file.display()))?;
    for line in metrics {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The reports of files this run forwarded (not those finished before, without a log group,
/// taken by another run or ignored).
fn forwarded_now(reports: &[ForwardReport]) -> impl Iterator<Item = &ForwardReport> {
    reports
        .iter()
        .filter(|report| report.outcome == Outcome::Forwarded)
}
