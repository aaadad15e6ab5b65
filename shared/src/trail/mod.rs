//! A trail: where its log files go, which events it takes, and the routing decision for one
//! record (`Trail::selects`).

pub(crate) mod spec;

use crate::invalid::Invalid;
use crate::names::{self, NameError};
use crate::record::Record;
use crate::selectors::{EventSelection, InsightSelection};
use spec::TrailSpec;

/// Where a selected event's log file goes: the account and region folders of
/// `AWSLogs/{account}/CloudTrail/{region}/…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Destination<'a> {
    /// The record's recipientAccountId, or the configured account when it has none.
    pub account_id: &'a str,
    /// The record's delivery region (us-east-1 for global service events).
    pub region: &'a str,
}

/// A validated trail with its selectors compiled.
#[derive(Debug, Clone)]
pub struct Trail {
    name: String,
    arn: String,
    bucket: String,
    prefix: Option<String>,
    home_region: String,
    multi_region: bool,
    include_global_service_events: bool,
    log_file_validation: bool,
    organization_id: Option<String>,
    kms_key_id: Option<String>,
    sns_topic_arn: Option<String>,
    log_group_arn: Option<String>,
    log_group_name: Option<String>,
    log_group_role_arn: Option<String>,
    events: EventSelection,
    insights: InsightSelection,
}

impl Trail {
    /// Whether the trail takes the record, and if so where its log file goes.
    ///
    /// The checks follow CloudTrail: the account (a plain trail logs its own account; an
    /// organization trail every member account), global service events (only with
    /// IncludeGlobalServiceEvents, and filed under us-east-1, so a single-Region trail sees
    /// them only when its home Region is us-east-1), the Region (a single-Region trail logs its
    /// home Region; a multi-Region trail every Region, new ones included), then the selectors.
    pub fn selects<'r>(
        &self,
        record: &'r Record<'_>,
        default_account: &'r str,
    ) -> Option<Destination<'r>> {
        let account_id = record.recipient_account_id().unwrap_or(default_account);
        if self.organization_id.is_none() && account_id != default_account {
            return None;
        }
        if record.is_global_service_event() && !self.include_global_service_events {
            return None;
        }
        let region = record.delivery_region();
        if !self.multi_region && region != self.home_region {
            return None;
        }
        if !(self.events.admits(record) || self.insights.admits(record, &self.arn)) {
            return None;
        }
        Some(Destination { account_id, region })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// TrailARN as given, or `arn:aws:cloudtrail:{HomeRegion}:{account}:trail/{Name}`.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// S3KeyPrefix, the folder log files and digests go under.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    pub fn home_region(&self) -> &str {
        &self.home_region
    }

    pub fn is_multi_region(&self) -> bool {
        self.multi_region
    }

    pub fn include_global_service_events(&self) -> bool {
        self.include_global_service_events
    }

    /// EnableLogFileValidation: whether hourly digest files are written.
    pub fn log_file_validation(&self) -> bool {
        self.log_file_validation
    }

    pub fn is_organization_trail(&self) -> bool {
        self.organization_id.is_some()
    }

    /// The organization's ID (`o-…`), the `AWSLogs/o-…/` folder of an organization trail.
    pub fn organization_id(&self) -> Option<&str> {
        self.organization_id.as_deref()
    }

    /// KmsKeyId: the key for SSE-KMS on delivered objects.
    pub fn kms_key_id(&self) -> Option<&str> {
        self.kms_key_id.as_deref()
    }

    pub fn sns_topic_arn(&self) -> Option<&str> {
        self.sns_topic_arn.as_deref()
    }

    pub fn cloud_watch_logs_log_group_arn(&self) -> Option<&str> {
        self.log_group_arn.as_deref()
    }

    /// The log group's name, taken from CloudWatchLogsLogGroupArn.
    pub fn cloud_watch_logs_log_group_name(&self) -> Option<&str> {
        self.log_group_name.as_deref()
    }

    pub fn cloud_watch_logs_role_arn(&self) -> Option<&str> {
        self.log_group_role_arn.as_deref()
    }

    pub fn event_selection(&self) -> &EventSelection {
        &self.events
    }

    pub fn insight_selection(&self) -> &InsightSelection {
        &self.insights
    }

    /// Validates a trail of the configuration whose account is `account_id`, applying
    /// CreateTrail's defaults to what is left out.
    pub(crate) fn from_spec(spec: TrailSpec, account_id: &str) -> Result<Self, Invalid> {
        fn field(name: &'static str) -> impl Fn(NameError) -> Invalid {
            move |why| Invalid::new(name, why.to_string())
        }
        names::check_trail_name(&spec.name).map_err(field("Name"))?;
        names::check_bucket_name(&spec.s3_bucket_name).map_err(field("S3BucketName"))?;
        if let Some(prefix) = &spec.s3_key_prefix
            && prefix.chars().count() > 200
        {
            return Err(Invalid::new(
                "S3KeyPrefix",
                "must be at most 200 characters",
            ));
        }
        names::check_region(&spec.home_region).map_err(field("HomeRegion"))?;

        let multi_region = spec.is_multi_region_trail.unwrap_or(false);
        let include_global_service_events = spec.include_global_service_events.unwrap_or(true);
        if multi_region && !include_global_service_events {
            return Err(Invalid::new(
                "IncludeGlobalServiceEvents",
                "a multi-Region trail must include global service events",
            ));
        }

        let organization_id = match (
            spec.is_organization_trail.unwrap_or(false),
            spec.organization_id,
        ) {
            (true, Some(id)) => {
                names::check_organization_id(&id).map_err(field("OrganizationId"))?;
                Some(id)
            }
            (true, None) => {
                return Err(Invalid::new(
                    "OrganizationId",
                    "an organization trail needs the organization's ID (o-…), which names its AWSLogs/o-…/ folder",
                ));
            }
            (false, Some(_)) => {
                return Err(Invalid::new(
                    "OrganizationId",
                    "is only for organization trails (IsOrganizationTrail: true)",
                ));
            }
            (false, None) => None,
        };

        if let Some(key) = &spec.kms_key_id {
            names::check_kms_key_id(key).map_err(field("KmsKeyId"))?;
        }
        if let Some(topic) = &spec.sns_topic_arn {
            names::check_sns_topic_arn(topic).map_err(field("SnsTopicARN"))?;
        }
        if let Some(name) = &spec.sns_topic_name {
            let agrees = spec
                .sns_topic_arn
                .as_deref()
                .is_some_and(|arn| arn == name || arn.rsplit(':').next() == Some(name));
            if !agrees {
                return Err(Invalid::new(
                    "SnsTopicName",
                    format!(
                        "\"{name}\" does not match SnsTopicARN; give the topic as SnsTopicARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)"
                    ),
                ));
            }
        }
        let log_group_name = spec
            .cloud_watch_logs_log_group_arn
            .as_deref()
            .map(|arn| names::log_group_name(arn).map(str::to_owned))
            .transpose()
            .map_err(field("CloudWatchLogsLogGroupArn"))?;
        if let Some(role) = &spec.cloud_watch_logs_role_arn {
            if log_group_name.is_none() {
                return Err(Invalid::new(
                    "CloudWatchLogsRoleArn",
                    "goes with CloudWatchLogsLogGroupArn, which is missing",
                ));
            }
            names::check_role_arn(role).map_err(field("CloudWatchLogsRoleArn"))?;
        }

        let arn = trail_arn(&spec.name, &spec.home_region, account_id, spec.trail_arn)?;
        let events = EventSelection::compile(
            spec.event_selectors.as_deref(),
            spec.advanced_event_selectors.as_deref(),
        )?;
        let insights = InsightSelection::compile(spec.insight_selectors.as_deref(), &events)?;
        agrees_with_describe(
            "HasCustomEventSelectors",
            spec.has_custom_event_selectors,
            !matches!(events, EventSelection::Default),
            "EventSelectors or AdvancedEventSelectors (get-event-selectors prints them)",
        )?;
        agrees_with_describe(
            "HasInsightSelectors",
            spec.has_insight_selectors,
            !insights.is_empty(),
            "InsightSelectors (get-insight-selectors prints them)",
        )?;

        Ok(Trail {
            name: spec.name,
            arn,
            bucket: spec.s3_bucket_name,
            prefix: spec.s3_key_prefix,
            home_region: spec.home_region,
            multi_region,
            include_global_service_events,
            log_file_validation: spec.enable_log_file_validation.unwrap_or(false),
            organization_id,
            kms_key_id: spec.kms_key_id,
            sns_topic_arn: spec.sns_topic_arn,
            log_group_arn: spec.cloud_watch_logs_log_group_arn,
            log_group_name,
            log_group_role_arn: spec.cloud_watch_logs_role_arn,
            events,
            insights,
        })
    }
}

/// The trail's ARN; a TrailARN copied from describe-trails must be this trail's.
fn trail_arn(
    name: &str,
    region: &str,
    account_id: &str,
    given: Option<String>,
) -> Result<String, Invalid> {
    let Some(given) = given else {
        return Ok(format!(
            "arn:aws:cloudtrail:{region}:{account_id}:trail/{name}"
        ));
    };
    let suffix = format!(":cloudtrail:{region}:{account_id}:trail/{name}");
    let agrees = given
        .strip_prefix("arn:")
        .and_then(|rest| rest.strip_suffix(suffix.as_str()))
        .is_some_and(crate::names::arn::is_partition);
    if agrees {
        Ok(given)
    } else {
        Err(Invalid::new(
            "TrailARN",
            format!(
                "\"{given}\" is not this trail's ARN (arn:aws:cloudtrail:{region}:{account_id}:trail/{name})"
            ),
        ))
    }
}

/// describe-trails' Has… flags say whether selectors exist; a `true` with none pasted means
/// the selectors were forgotten, and the trail would silently log the defaults instead.
fn agrees_with_describe(
    field: &str,
    claimed: Option<bool>,
    present: bool,
    what: &str,
) -> Result<(), Invalid> {
    match claimed {
        Some(true) if !present => Err(Invalid::new(
            field,
            format!("is true but the trail has no {what}"),
        )),
        Some(false) if present => Err(Invalid::new(
            field,
            format!("is false but the trail has {what}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
