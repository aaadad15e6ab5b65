//! `cairn run`: the whole pipeline on some event files: ingest, deliver, forward, then notify.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use cairn_shared::config::Config;
use cairn_shared::delivery::DeliveryReport;
use cairn_shared::forward::ForwardReport;
use cairn_shared::notify::{Item, MessageKind, Notify};
use cairn_shared::ports::notifier::Notifier;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::trigger::ObjectCreated;
use time::OffsetDateTime;

use crate::backend::BackendArgs;
use crate::deliver::deliver;
use crate::forward::forward_delivered;
use crate::ingest::ingest_files;
use cairn_shared::service::Service;

pub(crate) async fn run(
    config: &Config,
    backend: &BackendArgs,
    files: &[PathBuf],
    region: &str,
    replay: bool,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    let store = backend.object_store(config).await?;
    let totals = ingest_files(config, store.as_ref(), files, region, replay, now).await?;
    let delivered = deliver(config, store.as_ref(), backend, now).await?;
    let sink = backend.log_sink().await;
    let forwarded = forward_delivered(
        config,
        store.as_ref(),
        sink.as_ref(),
        &delivered,
        &backend.metrics_file(),
        now,
    )
    .await?;
    let notifier = backend.notifier().await;
    notify_delivered(
        config,
        store.as_ref(),
        notifier.as_ref(),
        &delivered,
        &forwarded,
        backend,
        now,
    )
    .await;
    Ok(crate::exit_code(totals.refused == 0))
}

/// The notify step: CloudTrail's delivery notices for the log files deliver reported, alerts
/// for the alert objects forward reported writing, and Insights alerts for the Insights alert
/// objects deliver reported writing, as the notify function sends them when S3 reports those
/// objects created. Prints each message sent.
///
/// A message that cannot be sent (a topic missing from the account, say) is a warning naming
/// the objects, not a failed run: their log files are delivered and their alert objects kept
/// all the same.
async fn notify_delivered(
    config: &Config,
    store: &dyn ObjectStore,
    notifier: &dyn Notifier,
    delivered: &DeliveryReport,
    forwarded: &[ForwardReport],
    backend: &BackendArgs,
    now: OffsetDateTime,
) {
    let log_files = delivered
        .log_files
        .iter()
        .map(|file| item(&file.bucket, &file.key));
    let alerts = forwarded
        .iter()
        .filter_map(|report| report.alert.as_deref())
        .map(|alert| item(&config.state_bucket, alert));
    let insights = delivered
        .insight_alerts
        .iter()
        .map(|alert| item(&config.state_bucket, alert));
    let items: Vec<Item> = log_files.chain(alerts).chain(insights).collect();
    let report = Notify::new(config, store, notifier)
        .handle(&items, now)
        .await
        .expect("notify never fails as a whole");
    let (mut notices, mut alerts) = (0, 0);
    for message in &report.sent {
        match message.kind {
            MessageKind::DeliveryNotice => {
                notices += 1;
                println!(
                    "  delivery notice to {}: {} log files",
                    message.topic_arn, message.log_files
                );
            }
            MessageKind::Alert | MessageKind::InsightAlert => {
                alerts += 1;
                println!(
                    "  alert to {}: {}",
                    message.topic_arn,
                    message.subject.as_deref().unwrap_or_default()
                );
            }
        }
    }
    let mut failed = 0;
    for item in report.failed() {
        failed += 1;
        eprintln!(
            "warning: s3://{}/{} not notified: {}",
            item.bucket,
            item.key,
            item.reason.as_deref().unwrap_or_default()
        );
    }
    let place = if backend.is_embedded() {
        format!(" (JSON lines in {})", backend.notifications_dir().display())
    } else {
        String::new()
    };
    println!(
        "sent {notices} delivery notices and {alerts} alerts through SNS{place}; {failed} objects not notified"
    );
}

fn item(bucket: &str, key: &str) -> Item {
    Item {
        id: format!("s3://{bucket}/{key}"),
        object: ObjectCreated {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: None,
            etag: None,
        },
    }
}
