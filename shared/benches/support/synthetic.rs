//! Realistic records in any number: copies of the real Stratus records, each with its own
//! eventID, eventTime and Region, in account 111122223333. Only the benchmarks that need volume
//! include this module.

use cairn_shared::record::{EventTime, split_batch};
use serde_json::Value;

use crate::support::stratus_batches;

/// `count` compact records; record `i` happens at `time_of(i)` (Unix seconds) in `region_of(i)`.
pub(crate) fn records(
    count: usize,
    time_of: impl Fn(usize) -> i64,
    region_of: impl Fn(usize) -> &'static str,
) -> Vec<String> {
    let templates: Vec<Value> = stratus_batches()
        .iter()
        .flat_map(|body| {
            split_batch(body)
                .expect("batch")
                .into_iter()
                .map(|raw| serde_json::from_str::<Value>(raw.get()).expect("json"))
                .collect::<Vec<_>>()
        })
        .collect();
    (0..count)
        .map(|i| {
            let mut record = templates[i % templates.len()].clone();
            record["eventID"] = format!("00000000-0000-4000-8000-{i:012}").into();
            record["eventTime"] = EventTime::from_unix_seconds(time_of(i)).to_string().into();
            record["recipientAccountId"] = "111122223333".into();
            record["awsRegion"] = region_of(i).into();
            serde_json::to_string(&record).expect("json")
        })
        .collect()
}
