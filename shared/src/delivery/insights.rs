//! The Insights step of a batch, after its log files are written and before it counts as
//! delivered: count the batch's calls, judge the minutes that closed ([`insights::observe`]),
//! and write the Insights events found to the `CloudTrail-Insight` files of every trail whose
//! InsightSelectors take them, and those on management events to the event history; and for
//! each Start a trail takes, the alert object notify announces it from
//! ([`crate::alert::InsightAlert`]), with the facts counting knew.
//!
//! Redoing the step is harmless: `observe` hands a batch it counted already the same records
//! and facts, whose files, history and alert objects have keys and bytes fixed by the batch.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::alert::{ALERT_VERSION, InsightAlert, InsightFile};
use crate::config::Config;
use crate::history;
use crate::insights;
use crate::layout;
use crate::ports::object_store::{ObjectStore, PutOptions};
use crate::record::{EventTime, Record};

use super::log_file;
use super::plan::Plan;
use super::{DeliveredFile, DeliveryError, WRITE_CONCURRENCY, encryption};

/// Records with their times, to be written in eventTime order.
type Timed<'a> = Vec<(EventTime, &'a str)>;

/// Records with their times and their positions among the records found.
type Positioned<'a> = Vec<(EventTime, &'a str, usize)>;

/// What the step writes: each object's bucket, key, body and options.
pub(super) struct InsightWrites {
    pub puts: Vec<(String, String, Bytes, PutOptions)>,
    pub files: Vec<DeliveredFile>,
    /// The state bucket keys of the Insights alert objects.
    pub alerts: Vec<String>,
}

/// Counts and judges the batch's calls, and plans the writes of what was found.
pub(super) async fn plan_writes(
    config: &Config,
    store: &dyn ObjectStore,
    plan: &Plan<'_, '_>,
    batch: &str,
    delivered_at: OffsetDateTime,
) -> Result<InsightWrites, DeliveryError> {
    // Each place has its own counters document, so several are counted at once (as many as
    // deliver writes at once: an organization trail can have thousands); what they found is
    // taken in the order of the plan, the same on every rerun.
    let places: Vec<_> = plan.insight_calls.iter().collect();
    let mut observed = Vec::with_capacity(places.len());
    for wave in places.chunks(WRITE_CONCURRENCY) {
        observed.extend(
            futures::future::try_join_all(wave.iter().map(|(place, calls)| {
                insights::observe(
                    store,
                    &config.state_bucket,
                    place,
                    batch,
                    EventTime::from_unix_seconds(delivered_at.unix_timestamp()),
                    calls,
                )
            }))
            .await?,
        );
    }
    let mut found = insights::Found::default();
    for more in observed {
        found.records.extend(more.records);
        found.starts.extend(more.starts);
    }
    let raws: Vec<Box<RawValue>> = found
        .records
        .into_iter()
        .map(|text| RawValue::from_string(text).expect("an Insights record is JSON"))
        .collect();
    let records: Vec<Record<'_>> = raws
        .iter()
        .map(|raw| Record::parse(raw, None).expect("an Insights record Cairn wrote is valid"))
        .collect();

    // Each file's records, with their positions in `records`.
    let mut per_file: BTreeMap<(&str, &str, &str), Positioned<'_>> = BTreeMap::new();
    let mut per_history_hour: BTreeMap<(&str, &str, i64), Vec<&str>> = BTreeMap::new();
    for (position, record) in records.iter().enumerate() {
        for trail in &config.trails {
            if let Some(to) = trail.selects(record, &config.account_id) {
                per_file
                    .entry((trail.name(), to.account_id, to.region))
                    .or_default()
                    .push((record.event_time(), record.raw().get(), position));
            }
        }
        // The event history keeps Insights events on management events only: those on data
        // events are their trail's (ListInsightsData).
        if record.insight_data_trail().is_some() {
            continue;
        }
        let account = record.recipient_account_id().unwrap_or(&config.account_id);
        let hour = record.event_time().unix_seconds().div_euclid(3600);
        per_history_hour
            .entry((account, record.aws_region(), hour))
            .or_default()
            .push(record.raw().get());
    }

    let mut writes = InsightWrites {
        puts: Vec::new(),
        files: Vec::new(),
        alerts: Vec::new(),
    };
    // Per record, the files holding it.
    let mut files_of: Vec<Vec<InsightFile>> = vec![Vec::new(); records.len()];
    for ((trail_name, account, region), mut positioned) in per_file {
        let trail = config
            .trails
            .iter()
            .find(|trail| trail.name() == trail_name)
            .expect("a trail of the configuration");
        positioned.sort_by_key(|(time, _, _)| *time);
        let timed: Timed<'_> = positioned
            .iter()
            .map(|(time, raw, _)| (*time, *raw))
            .collect();
        let unique = log_file::unique_part(
            format!("{batch}/{trail_name}/{account}/{region}/insights").as_bytes(),
        );
        // An Insights file: no digest lists it.
        let body = log_file::encode(&timed, false);
        let facts = body.facts(trail_name, account, region);
        let key = layout::insight_file_key(
            trail.prefix(),
            trail.organization_id(),
            account,
            region,
            delivered_at,
            &unique,
        );
        for (_, _, position) in &positioned {
            files_of[*position].push(InsightFile {
                trail: trail_name.to_owned(),
                s3_bucket: trail.bucket().to_owned(),
                s3_object_key: key.clone(),
            });
        }
        writes.files.push(DeliveredFile {
            trail: trail_name.to_owned(),
            bucket: trail.bucket().to_owned(),
            key: key.clone(),
            records: body.records,
        });
        writes.puts.push((
            trail.bucket().to_owned(),
            key,
            body.gzip,
            facts.put_options().encryption(encryption(trail)),
        ));
    }
    // The history objects of a batch's Insights events have a name of their own, apart from
    // the management events' objects of the same hour.
    let history_batch = format!("{batch}-insights");
    for ((account, region, hour), records) in per_history_hour {
        let hour_start = EventTime::from_unix_seconds(hour * 3600).to_offset_date_time();
        writes.puts.push((
            config.state_bucket.clone(),
            layout::history_key(account, region, hour_start, &history_batch),
            Bytes::from(history::encode(&records)),
            history::put_options(),
        ));
    }
    // A Start no trail takes (its type in no trail's InsightSelectors) is in the event history
    // only, and alerts no one.
    for start in found.starts {
        let Some(position) = records
            .iter()
            .position(|record| record.event_id() == Some(start.event_id.as_str()))
        else {
            continue;
        };
        if files_of[position].is_empty() {
            continue;
        }
        let key = layout::insight_alert_key(&start.account, &start.region, &start.shared_event_id);
        let alert = InsightAlert {
            version: ALERT_VERSION,
            insight: start,
            files: std::mem::take(&mut files_of[position]),
            record: raws[position].clone(),
        };
        writes.puts.push((
            config.state_bucket.clone(),
            key.clone(),
            alert.to_bytes(),
            PutOptions::new("application/json"),
        ));
        writes.alerts.push(key);
    }
    Ok(writes)
}
