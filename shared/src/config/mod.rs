//! `cairn.yaml`: the account, the trails (CreateTrail's fields and the selectors, as the AWS
//! CLI prints them) and the metric filters. Everything is checked at load against AWS's rules,
//! so a configuration that loads is one CloudTrail would have accepted.

mod error;
mod metric_filter;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

pub use crate::filter::{MetricTransformation, StandardUnit};
pub use crate::invalid::Invalid;
pub use error::{ConfigError, Problem};
pub use metric_filter::MetricFilter;

use metric_filter::MetricFilterSpec;

use crate::names::arn::is_account_id;
use crate::names::{check_bucket_name, check_sns_topic_arn};
use crate::trail::Trail;
use crate::trail::spec::TrailSpec;

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The account whose trails these are; events without a recipientAccountId belong to it.
    pub account_id: String,
    /// The bucket Cairn keeps its own state in: staged events, delivery bookkeeping and the
    /// event history. Not a trail bucket: trail buckets hold only what CloudTrail would put there.
    pub state_bucket: String,
    /// Where notify sends metric-filter match alerts. Not a trail's SnsTopicARN: that topic
    /// carries CloudTrail's delivery notices, which programs parse, and alerts are for people.
    /// Without it, matches are left in the alert objects and not announced.
    pub alert_topic_arn: Option<String>,
    pub trails: Vec<Trail>,
    pub metric_filters: Vec<MetricFilter>,
    /// How many deliver runs share the work, each taking the events of its own (trail,
    /// account, Region) destinations: ingest stages each event's part in its shard, and each
    /// shard has its own journal and dedup records. 1 unless set.
    pub deliver_shards: u16,
}

/// The most deliver shards: `template.yaml`'s `DeliverShards` parameter allows as many, one
/// schedule target each.
pub const MAX_DELIVER_SHARDS: u16 = 4;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigSpec {
    #[serde(deserialize_with = "account_id")]
    account_id: String,
    state_bucket: Option<String>,
    alert_topic_arn: Option<String>,
    #[serde(default)]
    trails: Vec<TrailSpec>,
    #[serde(default)]
    metric_filters: Vec<MetricFilterSpec>,
    deliver_shards: Option<u16>,
}

/// CloudTrail's quotas: five trails per Region (a multi-Region trail counts in every Region),
/// and CloudWatch Logs' 100 metric filters per log group.
const MAX_TRAILS_PER_REGION: usize = 5;
const MAX_FILTERS_PER_LOG_GROUP: usize = 100;
/// CloudWatch Logs' quota on the metric filters of one log group whose pattern holds a
/// `%regex%`: "There is a maximum of 5 filter patterns containing regex for each log group when
/// creating metric filters or subscription filters." (CloudWatch Logs User Guide, "Filter
/// pattern syntax for metric filters, subscription filters, filter log events, and Live Tail",
/// docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html, "Quotas"), and
/// PutMetricFilter's API reference: "There is also a quota of five regular expression patterns
/// per log group." (LimitExceededException is among its errors).
const MAX_REGEX_FILTERS_PER_LOG_GROUP: usize = 5;

impl Config {
    /// Reads and validates the file at `path`; errors name the file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(&origin, Problem::Read(e)))?;
        Self::from_yaml(&text, &origin)
    }

    /// The trail `name_or_arn` names, by its Name or its TrailARN, as CloudTrail's APIs take
    /// either.
    pub fn trail(&self, name_or_arn: &str) -> Option<&Trail> {
        self.trails
            .iter()
            .find(|trail| trail.name() == name_or_arn || trail.arn() == name_or_arn)
    }

    /// Parses and validates YAML text; `origin` names it in errors (a path, or `<stdin>`).
    pub fn from_yaml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let spec: ConfigSpec = serde_yaml_ng::from_str(text)
            .map_err(|e| ConfigError::new(origin, yaml::problem(&e, text)))?;
        Self::from_spec(spec).map_err(|e| ConfigError::new(origin, Problem::Invalid(e)))
    }

    fn from_spec(spec: ConfigSpec) -> Result<Config, Invalid> {
        if !is_account_id(&spec.account_id) {
            return Err(Invalid::new(
                "accountId",
                format!(
                    "\"{}\" is not an AWS account ID (12 digits)",
                    spec.account_id
                ),
            ));
        }
        let state_bucket = spec
            .state_bucket
            .unwrap_or_else(|| format!("cairn-state-{}", spec.account_id));
        check_bucket_name(&state_bucket)
            .map_err(|why| Invalid::new("stateBucket", why.to_string()))?;
        if let Some(topic) = &spec.alert_topic_arn {
            check_sns_topic_arn(topic)
                .map_err(|why| Invalid::new("alertTopicArn", why.to_string()))?;
        }
        let deliver_shards = spec.deliver_shards.unwrap_or(1);
        if !(1..=MAX_DELIVER_SHARDS).contains(&deliver_shards) {
            return Err(Invalid::new(
                "deliverShards",
                format!(
                    "{deliver_shards} is not a number of deliver shards: 1 to {MAX_DELIVER_SHARDS}"
                ),
            ));
        }
        let mut trails: Vec<Trail> = Vec::with_capacity(spec.trails.len());
        for (i, trail) in spec.trails.into_iter().enumerate() {
            let name = trail.name.clone();
            let trail = Trail::from_spec(trail, &spec.account_id)
                .map_err(|e| e.under_item("trails", i, &name))?;
            if let Some(first) = trails.iter().position(|t| t.name() == name) {
                return Err(Invalid::new(
                    "Name",
                    format!("the name is already used by trails[{first}]; trail names are unique"),
                )
                .under_item("trails", i, &name));
            }
            trails.push(trail);
        }
        check_trails_per_region(&trails)?;
        let metric_filters = compile_metric_filters(spec.metric_filters)?;
        if let Some(trail) = trails.iter().find(|t| t.bucket() == state_bucket) {
            return Err(Invalid::new(
                "stateBucket",
                format!(
                    "\"{state_bucket}\" is also trail {}'s S3BucketName; Cairn's state needs a bucket of its own",
                    trail.name()
                ),
            ));
        }
        Ok(Config {
            account_id: spec.account_id,
            state_bucket,
            alert_topic_arn: spec.alert_topic_arn,
            deliver_shards,
            trails,
            metric_filters,
        })
    }
}

fn check_trails_per_region(trails: &[Trail]) -> Result<(), Invalid> {
    let multi_region = trails.iter().filter(|t| t.is_multi_region()).count();
    let mut per_region: BTreeMap<&str, usize> = BTreeMap::new();
    for trail in trails {
        *per_region.entry(trail.home_region()).or_default() +=
            usize::from(!trail.is_multi_region());
    }
    match per_region
        .into_iter()
        .map(|(region, single)| (region, single + multi_region))
        .find(|(_, count)| *count > MAX_TRAILS_PER_REGION)
    {
        Some((region, count)) => Err(Invalid::new(
            "trails",
            format!(
                "{count} trails log {region} (multi-Region trails count in every Region); CloudTrail allows {MAX_TRAILS_PER_REGION} per Region"
            ),
        )),
        None => Ok(()),
    }
}

fn compile_metric_filters(specs: Vec<MetricFilterSpec>) -> Result<Vec<MetricFilter>, Invalid> {
    let mut per_group: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    let mut filters = Vec::with_capacity(specs.len());
    for (i, spec) in specs.into_iter().enumerate() {
        let name = spec.filter_name.clone();
        let here = |e: Invalid| e.under_item("metricFilters", i, &name);
        let names = per_group.entry(spec.log_group_name.clone()).or_default();
        let duplicate = names.contains(&name);
        names.push(name.clone());
        let too_many = names.len() > MAX_FILTERS_PER_LOG_GROUP;
        let filter = spec.compile().map_err(here)?;
        if duplicate {
            return Err(here(Invalid::new(
                "filterName",
                "is already used by another metric filter of the same log group",
            )));
        }
        if too_many {
            return Err(here(Invalid::new(
                "",
                format!("a log group can have at most {MAX_FILTERS_PER_LOG_GROUP} metric filters"),
            )));
        }
        filters.push(filter);
    }
    check_regex_filters_per_group(&filters)?;
    Ok(filters)
}

/// [`MAX_REGEX_FILTERS_PER_LOG_GROUP`], counted as forward applies filters: one without
/// logGroupName goes to every trail's log group, so it counts in each named group too.
fn check_regex_filters_per_group(filters: &[MetricFilter]) -> Result<(), Invalid> {
    let mut everywhere = 0;
    let mut per_group: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, filter) in filters.iter().enumerate() {
        if !filter.pattern.uses_regex() {
            continue;
        }
        let (count, group) = match &filter.log_group_name {
            Some(group) => {
                let named = per_group.entry(group).or_default();
                *named += 1;
                (*named + everywhere, format!("log group {group}"))
            }
            None => {
                everywhere += 1;
                let busiest = per_group.iter().max_by_key(|(_, named)| **named);
                match busiest {
                    Some((group, named)) => (named + everywhere, format!("log group {group}")),
                    None => (everywhere, "every trail's log group".to_owned()),
                }
            }
        };
        if count > MAX_REGEX_FILTERS_PER_LOG_GROUP {
            return Err(Invalid::new(
                "filterPattern",
                format!(
                    "makes {count} filter patterns containing regex in {group}; there is a \
                     maximum of {MAX_REGEX_FILTERS_PER_LOG_GROUP} filter patterns containing \
                     regex for each log group (PutMetricFilter's LimitExceededException)"
                ),
            )
            .under_item("metricFilters", i, &filter.filter_name));
        }
    }
    Ok(())
}

/// accountId must be a string: an unquoted number would drop leading zeros (012345678901).
fn account_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a quoted 12-digit account ID")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
            Ok(text.to_owned())
        }

        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<String, E> {
            Err(E::custom(
                "write the account ID in quotes (\"012345678901\"): as a number it loses leading zeros",
            ))
        }

        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<String, E> {
            self.visit_u64(n.unsigned_abs())
        }
    }
    deserializer.deserialize_any(Visitor)
}

#[cfg(test)]
mod tests;
