//! `cairn run`: the whole pipeline on some event files: ingest, deliver, forward, then notify.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cairn_shared::config::Config;
use cairn_shared::delivery::DeliveryReport;
use cairn_shared::forward::trigger::ObjectCreated;
use cairn_shared::layout;
use cairn_shared::notify::{Item, MessageKind, Notify};
use cairn_shared::ports::notifier::Notifier;
use cairn_shared::ports::object_store::{ObjectStore, ObjectStoreError};
use time::OffsetDateTime;

use crate::backend::BackendArgs;
use crate::deliver::deliver;
use crate::forward::forward_delivered;
use crate::ingest::ingest_files;

pub async fn run(
    config: &Config,
    backend: &BackendArgs,
    files: &[PathBuf],
    region: &str,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    let store = backend.object_store(config).await?;
    let totals = ingest_files(config, store.as_ref(), files, region, now).await?;
    let delivered = deliver(config, store.as_ref(), backend, now).await?;
    let sink = backend.log_sink().await;
    forward_delivered(
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
        backend,
    )
    .await?;
    Ok(crate::exit_code(totals.refused == 0))
}

/// The notify step: CloudTrail's delivery notices for the log files just delivered, and alerts
/// for the metric-filter matches forward just left in alert objects, as the notify function
/// sends them when S3 reports those objects created. Prints each message sent.
///
/// A message that cannot be sent (a topic missing from the account, say) is a warning naming
/// the objects, not a failed run: their log files are delivered and their alert objects kept
/// all the same.
async fn notify_delivered(
    config: &Config,
    store: &dyn ObjectStore,
    notifier: &dyn Notifier,
    delivered: &DeliveryReport,
    backend: &BackendArgs,
) -> Result<()> {
    let mut items = Vec::new();
    for file in &delivered.log_files {
        items.push(item(&file.bucket, &file.key));
        let alert_key = layout::alert_key(&file.bucket, &file.key);
        match store.head(&config.state_bucket, &alert_key).await {
            Ok(_) => items.push(item(&config.state_bucket, &alert_key)),
            Err(ObjectStoreError::NotFound { .. }) => {}
            Err(error) => {
                return Err(error).with_context(|| {
                    format!(
                        "looking for the alert object of s3://{}/{}",
                        file.bucket, file.key
                    )
                });
            }
        }
    }
    let report = Notify::new(config, store, notifier).notify(&items).await;
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
            MessageKind::Alert => {
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
    Ok(())
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
