//! notify: every SNS message Cairn sends, CloudTrail's delivery notices and metric-filter match
//! alerts, from S3 "Object Created" events.
//!
//! [`Notify::notify`] takes the objects of one invocation together (the function reads them
//! from an SQS batch, so objects created within a few seconds of each other arrive together):
//! - **A log file Cairn delivered for a configured trail** (the trail its metadata names, read
//!   with a HEAD and checked against the configuration as forward checks it,
//!   [`crate::delivered`]) gets CloudTrail's delivery notice on the trail's SnsTopicARN
//!   ([`notice`]): keys of one bucket bound for one topic share messages, as many as fit in
//!   262,144 bytes. A trail without a topic sends none. The file itself is never read.
//! - **An alert object** (`alerts/…` in the state bucket, written by forward) gets its matches
//!   announced on `alertTopicArn`, grouped per metric filter across the whole invocation
//!   ([`alert`]). Without `alertTopicArn` nothing is announced.
//! - **An Insights alert object** (`alerts/CloudTrail-Insight/…`, written by deliver for an
//!   Insights Start) gets one message on `alertTopicArn` explaining the Start ([`insight`]),
//!   with its sent marker as for match alerts.
//! - Anything else (digest files, Insights files, other prefixes and buckets, events of other
//!   kinds) is ignored, with the reason in the report and the log. Insights files get no notice:
//!   the User Guide's "Configuring Amazon SNS notifications" speaks of notices "when CloudTrail
//!   publishes new log files", and no page says Insights files get them (forward does send
//!   their events to CloudWatch Logs, which the User Guide does say).
//!
//! ## Failures
//!
//! A throttled or transiently failed publish is repeated with exponential backoff
//! ([`RetryPolicy`], six attempts over about 8 seconds). A publish that still fails, or a state
//! bucket read that fails, fails the objects it concerns, and only those: the report names
//! them ([`ItemOutcome::Failed`]) and the function hands their SQS messages back for another try.
//! Nothing is deleted, so the log file and the alert object are still there for it.
//!
//! ## Repeats (SNS, EventBridge and SQS are all at least once)
//!
//! A delivery notice carries one log file's key in exactly one message, so a failed object
//! never has half its notice sent; but an object whose event arrives twice (an EventBridge or
//! SQS redelivery, or a retry after the invocation timed out) is announced twice, as CloudTrail
//! itself may do. Notice subscribers must tolerate duplicates.
//!
//! An alert object's matches may span several messages, so a retry could resend the ones that
//! went. A sent marker in the state bucket ([`sent`], `notify/sent/{alert key}`) records, after
//! the messages are published, which matches went; the next run announces only the others, and
//! an object whose matches all went is [`ItemOutcome::AlreadyNotified`]. What can still repeat: the
//! messages published in a run that stopped before writing its marker, or whose marker write
//! failed (logged), and those of two runs on the same object at once.

mod alert;
mod insight;
mod notice;
mod sent;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::alert::{Alert, AlertError, InsightAlert};
use crate::config::Config;
use crate::delivered;
use crate::layout::{self, RecordFileKind};
use crate::ports::notifier::{MAX_MESSAGE_BYTES, Notification, Notifier, NotifierError};
use crate::ports::object_store::{ObjectStore, ObjectStoreError};
use crate::retry::{self, Exhausted, RetryPolicy};
use crate::service::Service;
use crate::trigger::ObjectCreated;

use alert::Pending;

/// One object to notify about, with the id the caller knows it by (an SQS message id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub object: ObjectCreated,
}

/// What became of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemOutcome {
    /// Its notice or alerts were published.
    Notified,
    /// An earlier run announced every match of the alert object.
    AlreadyNotified,
    /// Nothing to send (see `reason`).
    Ignored,
    /// Something it needed failed (see `reason`): try the item again.
    Failed,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReport {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub outcome: ItemOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageKind {
    DeliveryNotice,
    Alert,
    InsightAlert,
}

/// A message SNS accepted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub kind: MessageKind,
    pub topic_arn: String,
    pub message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Log files a notice announces (0 for an alert).
    pub log_files: usize,
    /// Matches an alert announces (0 for a notice).
    pub matches: usize,
    /// Publish attempts it took.
    pub attempts: u32,
}

/// What one [`Notify::notify`] call did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyReport {
    /// One per item given, in the same order.
    pub items: Vec<ItemReport>,
    pub sent: Vec<SentMessage>,
}

impl NotifyReport {
    /// The items to try again.
    pub fn failed(&self) -> impl Iterator<Item = &ItemReport> {
        self.items
            .iter()
            .filter(|item| item.outcome == ItemOutcome::Failed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("s3://{bucket}/{key}: {source}")]
    Alert {
        bucket: String,
        key: String,
        #[source]
        source: AlertError,
    },
    #[error("not published after {attempts} attempt(s): {source}")]
    Publish {
        attempts: u32,
        #[source]
        source: NotifierError,
    },
}

/// notify, built once per process.
pub struct Notify<'a> {
    config: &'a Config,
    store: &'a dyn ObjectStore,
    notifier: &'a dyn Notifier,
    retry: RetryPolicy,
}

/// What one object (however many items name it) calls for.
enum ObjectPlan {
    Ignored(String),
    AlreadyNotified,
    Failed(String),
    Notice { topic: String },
    Alert(Box<AlertWork>),
    Insight(Box<InsightWork>),
}

/// An Insights alert object to announce: one message, position 0 of its sent marker.
struct InsightWork {
    key: String,
    object: InsightAlert,
    sha256: String,
}

impl ObjectPlan {
    /// An alert object's sent marker facts: its key, the hash of its bytes, how many messages
    /// it makes, and those announced before this run.
    fn marker(&self) -> Option<(&str, &str, usize, BTreeSet<usize>)> {
        match self {
            ObjectPlan::Alert(work) => Some((
                &work.key,
                &work.sha256,
                work.object.matches.len(),
                work.announced.clone(),
            )),
            ObjectPlan::Insight(work) => Some((&work.key, &work.sha256, 1, BTreeSet::new())),
            _ => None,
        }
    }
}

struct AlertWork {
    key: String,
    object: Alert,
    sha256: String,
    /// Positions announced by earlier runs.
    announced: BTreeSet<usize>,
}

/// The objects of a call, each once, with the items that name it.
struct Unit<'i> {
    object: &'i ObjectCreated,
    items: Vec<usize>,
}

/// How the units fared while sending.
struct SendProgress {
    failures: Vec<Option<String>>,
    /// Per unit, the alert positions this run announced.
    announced: Vec<BTreeSet<usize>>,
    sent: Vec<SentMessage>,
}

impl Service for Notify<'_> {
    /// The objects of one invocation, each with the id its caller knows it by.
    type Input = [Item];
    type Report = NotifyReport;
    /// Never fails as a whole: each item's outcome, failures included, is in the report, so
    /// the caller retries only the items that failed.
    type Error = Infallible;

    /// What notify sends does not depend on the clock: `now` is not read.
    async fn handle(
        &self,
        items: &[Item],
        _now: OffsetDateTime,
    ) -> Result<NotifyReport, Infallible> {
        Ok(self.notify(items).await)
    }
}

impl<'a> Notify<'a> {
    pub fn new(config: &'a Config, store: &'a dyn ObjectStore, notifier: &'a dyn Notifier) -> Self {
        Self {
            config,
            store,
            notifier,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sends what `items` call for (see the module documentation).
    async fn notify(&self, items: &[Item]) -> NotifyReport {
        let mut units: Vec<Unit<'_>> = Vec::new();
        let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (position, item) in items.iter().enumerate() {
            let object = &item.object;
            let unit = *seen
                .entry((object.bucket.as_str(), object.key.as_str()))
                .or_insert_with(|| {
                    units.push(Unit {
                        object,
                        items: Vec::new(),
                    });
                    units.len() - 1
                });
            units[unit].items.push(position);
        }

        let mut plans = Vec::with_capacity(units.len());
        for unit in &units {
            plans.push(self.plan(unit.object).await);
        }
        let mut progress = SendProgress {
            failures: vec![None; units.len()],
            announced: vec![BTreeSet::new(); units.len()],
            sent: Vec::new(),
        };
        self.send_notices(&units, &plans, &mut progress).await;
        self.send_alerts(&plans, &mut progress).await;
        self.send_insight_alerts(&plans, &mut progress).await;
        self.save_markers(&plans, &progress).await;

        let mut reports: Vec<Option<ItemReport>> = vec![None; items.len()];
        for (index, (unit, plan)) in units.iter().zip(&plans).enumerate() {
            let (outcome, reason) = match (&progress.failures[index], plan) {
                (Some(reason), _) | (None, ObjectPlan::Failed(reason)) => {
                    (ItemOutcome::Failed, Some(reason.clone()))
                }
                (None, ObjectPlan::Ignored(reason)) => (ItemOutcome::Ignored, Some(reason.clone())),
                (None, ObjectPlan::AlreadyNotified) => (ItemOutcome::AlreadyNotified, None),
                (
                    None,
                    ObjectPlan::Notice { .. } | ObjectPlan::Alert(_) | ObjectPlan::Insight(_),
                ) => (ItemOutcome::Notified, None),
            };
            let ObjectCreated { bucket, key, .. } = unit.object;
            match (&outcome, &reason) {
                (ItemOutcome::Failed, Some(reason)) => {
                    tracing::error!(bucket, key, %reason, "not notified; the item will be tried again")
                }
                (ItemOutcome::Ignored, Some(reason)) => {
                    tracing::info!(bucket, key, %reason, "nothing to notify")
                }
                _ => {}
            }
            for &position in &unit.items {
                reports[position] = Some(ItemReport {
                    id: items[position].id.clone(),
                    bucket: bucket.clone(),
                    key: key.clone(),
                    outcome,
                    reason: reason.clone(),
                });
            }
        }
        NotifyReport {
            items: reports
                .into_iter()
                .map(|report| report.expect("every item belongs to a unit"))
                .collect(),
            sent: progress.sent,
        }
    }

    async fn plan(&self, object: &ObjectCreated) -> ObjectPlan {
        let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
        if bucket == self.config.state_bucket && key.starts_with(layout::ALERTS_PREFIX) {
            return self.plan_alert(key).await;
        }
        if let Err(why) = delivered::candidates(self.config, bucket, key) {
            return ObjectPlan::Ignored(why.to_string());
        }
        // The metadata deliver wrote names the trail: a HEAD, never the file itself.
        let info = match self.store.head(bucket, key).await {
            Ok(info) => info,
            Err(ObjectStoreError::NotFound { .. }) => {
                return ObjectPlan::Ignored(format!(
                    "s3://{bucket}/{key} is gone, and its trail cannot be told without its metadata"
                ));
            }
            Err(error) => return ObjectPlan::Failed(error.to_string()),
        };
        let file = match delivered::identify(self.config, bucket, key, &info.metadata) {
            Ok(file) => file,
            Err(why) => return ObjectPlan::Ignored(why.to_string()),
        };
        if file.kind == RecordFileKind::InsightFile {
            return ObjectPlan::Ignored(format!(
                "s3://{bucket}/{key} is an Insights file of trail {}: delivery notices are for \
                 log files",
                file.trail.name()
            ));
        }
        match file.trail.sns_topic_arn() {
            Some(topic) => ObjectPlan::Notice {
                topic: topic.to_owned(),
            },
            None => ObjectPlan::Ignored(format!(
                "s3://{bucket}/{key} is a log file of trail {}, which has no SnsTopicARN",
                file.trail.name()
            )),
        }
    }

    async fn plan_alert(&self, key: &str) -> ObjectPlan {
        let state = self.config.state_bucket.as_str();
        if key.starts_with(layout::INSIGHT_ALERTS_PREFIX) {
            return self.plan_insight_alert(key).await;
        }
        if self.config.alert_topic_arn.is_none() {
            return ObjectPlan::Ignored(
                "alertTopicArn is not set in the configuration: metric-filter matches are not \
                 announced"
                    .to_owned(),
            );
        }
        let (object, sha256) = match self.read_alert(key, Alert::parse).await {
            Ok(read) => read,
            Err(plan) => return plan,
        };
        if object.matches.is_empty() {
            return ObjectPlan::Ignored(format!(
                "the alert object s3://{state}/{key} lists no matches"
            ));
        }
        let announced =
            match sent::read(self.store, state, key, &sha256, object.matches.len()).await {
                Ok(announced) => announced,
                Err(error) => return ObjectPlan::Failed(error.to_string()),
            };
        if announced.len() == object.matches.len() {
            tracing::info!(
                alert = key,
                "every match of this alert object was announced already"
            );
            return ObjectPlan::AlreadyNotified;
        }
        ObjectPlan::Alert(Box::new(AlertWork {
            key: key.to_owned(),
            object,
            sha256,
            announced,
        }))
    }

    /// The alert object at `key` in the state bucket, parsed, with the SHA-256 of its bytes;
    /// else what to make of it: Ignored when it is gone, Failed when it cannot be read or
    /// parsed. Failed, not Ignored: an alert of another version (a newer forward or deliver
    /// deployed before this notify) or shape is left in place and its item retried, and once
    /// the retries run out it lands in the dead-letter queue, where someone sees it, instead
    /// of going unannounced.
    async fn read_alert<T>(
        &self,
        key: &str,
        parse: fn(&[u8]) -> Result<T, AlertError>,
    ) -> Result<(T, String), ObjectPlan> {
        let state = self.config.state_bucket.as_str();
        let body = match self.store.get(state, key).await {
            Ok(object) => object.body,
            Err(ObjectStoreError::NotFound { .. }) => {
                return Err(ObjectPlan::Ignored(format!(
                    "the alert object s3://{state}/{key} is gone"
                )));
            }
            Err(error) => return Err(ObjectPlan::Failed(error.to_string())),
        };
        match parse(&body) {
            Ok(object) => Ok((object, hex::encode(Sha256::digest(&body)))),
            Err(source) => {
                let error = NotifyError::Alert {
                    bucket: state.to_owned(),
                    key: key.to_owned(),
                    source,
                };
                Err(ObjectPlan::Failed(error.to_string()))
            }
        }
    }

    async fn plan_insight_alert(&self, key: &str) -> ObjectPlan {
        let state = self.config.state_bucket.as_str();
        if self.config.alert_topic_arn.is_none() {
            return ObjectPlan::Ignored(
                "alertTopicArn is not set in the configuration: Insights are not announced"
                    .to_owned(),
            );
        }
        let (object, sha256) = match self.read_alert(key, InsightAlert::parse).await {
            Ok(read) => read,
            Err(plan) => return plan,
        };
        match sent::read(self.store, state, key, &sha256, 1).await {
            Ok(announced) if announced.contains(&0) => {
                tracing::info!(alert = key, "this Insights Start was announced already");
                ObjectPlan::AlreadyNotified
            }
            Ok(_) => ObjectPlan::Insight(Box::new(InsightWork {
                key: key.to_owned(),
                object,
                sha256,
            })),
            Err(error) => ObjectPlan::Failed(error.to_string()),
        }
    }

    async fn send_notices(
        &self,
        units: &[Unit<'_>],
        plans: &[ObjectPlan],
        progress: &mut SendProgress,
    ) {
        let mut order: Vec<(&str, &str)> = Vec::new();
        let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for (unit, plan) in plans.iter().enumerate() {
            if let ObjectPlan::Notice { topic } = plan {
                let key = (topic.as_str(), units[unit].object.bucket.as_str());
                groups
                    .entry(key)
                    .or_insert_with(|| {
                        order.push(key);
                        Vec::new()
                    })
                    .push(unit);
            }
        }
        for (topic, bucket) in order {
            let members = &groups[&(topic, bucket)];
            let keys: Vec<&str> = members
                .iter()
                .map(|&unit| units[unit].object.key.as_str())
                .collect();
            for notice in notice::notices(bucket, &keys, MAX_MESSAGE_BYTES) {
                let notification = Notification {
                    message: notice.message,
                    ..Notification::default()
                };
                let announced = &members[notice.keys];
                match self.publish(topic, &notification).await {
                    Ok((message_id, attempts)) => {
                        tracing::info!(topic, bucket, log_files = announced.len(), %message_id, "delivery notice published");
                        progress.sent.push(SentMessage {
                            kind: MessageKind::DeliveryNotice,
                            topic_arn: topic.to_owned(),
                            message_id,
                            subject: None,
                            log_files: announced.len(),
                            matches: 0,
                            attempts,
                        });
                    }
                    Err(error) => {
                        for &unit in announced {
                            progress.failures[unit] = Some(error.to_string());
                        }
                    }
                }
            }
        }
    }

    async fn send_alerts(&self, plans: &[ObjectPlan], progress: &mut SendProgress) {
        let Some(topic) = self.config.alert_topic_arn.as_deref() else {
            return;
        };
        let pending: Vec<Pending<'_>> = plans
            .iter()
            .enumerate()
            .filter_map(|(unit, plan)| match plan {
                ObjectPlan::Alert(work) => Some((unit, work)),
                _ => None,
            })
            .flat_map(|(unit, work)| {
                (0..work.object.matches.len())
                    .filter(|index| !work.announced.contains(index))
                    .map(move |index| Pending {
                        source: unit,
                        index,
                        alert: &work.object,
                    })
            })
            .collect();
        for message in alert::messages(&pending, MAX_MESSAGE_BYTES) {
            match self.publish(topic, &message.notification).await {
                Ok((message_id, attempts)) => {
                    tracing::info!(
                        topic,
                        filter = %message.filter_name,
                        log_group = %message.log_group,
                        matches = message.members.len(),
                        %message_id,
                        "alert published"
                    );
                    for &(unit, index) in &message.members {
                        progress.announced[unit].insert(index);
                    }
                    progress.sent.push(SentMessage {
                        kind: MessageKind::Alert,
                        topic_arn: topic.to_owned(),
                        message_id,
                        subject: message.notification.subject.clone(),
                        log_files: 0,
                        matches: message.members.len(),
                        attempts,
                    });
                }
                Err(error) => {
                    for &(unit, _) in &message.members {
                        progress.failures[unit] = Some(error.to_string());
                    }
                }
            }
        }
    }

    /// One message per Insights alert object: each Start is its own news.
    async fn send_insight_alerts(&self, plans: &[ObjectPlan], progress: &mut SendProgress) {
        let Some(topic) = self.config.alert_topic_arn.as_deref() else {
            return;
        };
        for (unit, plan) in plans.iter().enumerate() {
            let ObjectPlan::Insight(work) = plan else {
                continue;
            };
            let notification = insight::message(&work.object);
            match self.publish(topic, &notification).await {
                Ok((message_id, attempts)) => {
                    tracing::info!(topic, alert = %work.key, %message_id, "Insights alert published");
                    progress.announced[unit].insert(0);
                    progress.sent.push(SentMessage {
                        kind: MessageKind::InsightAlert,
                        topic_arn: topic.to_owned(),
                        message_id,
                        subject: notification.subject.clone(),
                        log_files: 0,
                        matches: 0,
                        attempts,
                    });
                }
                Err(error) => progress.failures[unit] = Some(error.to_string()),
            }
        }
    }

    /// Records what each alert object had announced in this run (see [`sent::write`] for why
    /// a repeat is safe).
    async fn save_markers(&self, plans: &[ObjectPlan], progress: &SendProgress) {
        let state = self.config.state_bucket.as_str();
        for (unit, plan) in plans.iter().enumerate() {
            let Some((key, sha256, messages, before)) = plan.marker() else {
                continue;
            };
            if progress.announced[unit].is_empty() {
                continue;
            }
            let announced: BTreeSet<usize> =
                before.union(&progress.announced[unit]).copied().collect();
            let written = sent::write(self.store, state, key, sha256, messages, &announced).await;
            if let Err(error) = written {
                tracing::warn!(
                    alert = %key,
                    %error,
                    "the sent marker was not written: another run on this alert object will announce its matches again"
                );
            }
        }
    }

    /// Publishes, repeating while the notifier says a repeat may succeed; returns the message
    /// id and the attempts it took.
    async fn publish(
        &self,
        topic: &str,
        notification: &Notification,
    ) -> Result<(String, u32), NotifyError> {
        let publish = || self.notifier.publish(topic, notification);
        retry::retry(&self.retry, publish, NotifierError::is_retryable)
            .await
            .map_err(|Exhausted { attempts, error }| NotifyError::Publish {
                attempts,
                source: error,
            })
    }
}
