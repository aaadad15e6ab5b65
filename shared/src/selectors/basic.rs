//! Basic event selectors (`EventSelectors`): management events by read/write kind, and data
//! events for S3 objects, Lambda functions and DynamoDB tables by ARN or ARN prefix.

use super::spec::{EventSelectorSpec, ReadWriteType};
use crate::invalid::Invalid;
use crate::names::arn::{Arn, regional};
use crate::names::{NameError, check_bucket_name_shape};
use crate::record::{EventCategory, Record};

/// Why a `DataResources[]` entry is refused: its type, or one of its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum DataResourceError {
    #[error(
        "\"{0}\" is not a resource type for basic event selectors \
         (AWS::S3::Object, AWS::Lambda::Function or AWS::DynamoDB::Table); \
         log other types with AdvancedEventSelectors"
    )]
    UnknownType(String),
    #[error(
        "\"{0}\" is not a value for AWS::S3::Object: use arn:aws:s3 (all objects), \
         arn:aws:s3:::BUCKET/ (one bucket) or arn:aws:s3:::BUCKET/PREFIX"
    )]
    NotS3ObjectValue(String),
    #[error("\"{0}\" names a bucket, not objects: write {0}/ to log every object in it")]
    BucketWithoutObjects(String),
    #[error(transparent)]
    BucketName(#[from] NameError),
    #[error(
        "\"{0}\" is not a value for AWS::Lambda::Function: use arn:aws:lambda (all functions) \
         or a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
    )]
    NotLambdaFunctionValue(String),
    #[error(
        "\"{0}\" is not a value for AWS::DynamoDB::Table: use arn:aws:dynamodb (all tables) \
         or a table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)"
    )]
    NotDynamoDbTableValue(String),
}

/// The only resource types basic selectors take; the rest need advanced selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicResourceType {
    S3Object,
    LambdaFunction,
    DynamoDbTable,
}

impl BasicResourceType {
    const ALL: [BasicResourceType; 3] = [
        BasicResourceType::S3Object,
        BasicResourceType::LambdaFunction,
        BasicResourceType::DynamoDbTable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BasicResourceType::S3Object => "AWS::S3::Object",
            BasicResourceType::LambdaFunction => "AWS::Lambda::Function",
            BasicResourceType::DynamoDbTable => "AWS::DynamoDB::Table",
        }
    }

    fn service(self) -> &'static str {
        match self {
            BasicResourceType::S3Object => "s3",
            BasicResourceType::LambdaFunction => "lambda",
            BasicResourceType::DynamoDbTable => "dynamodb",
        }
    }

    fn parse(text: &str) -> Result<Self, DataResourceError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| DataResourceError::UnknownType(text.to_owned()))
    }

    /// One of the documented value forms, compiled to what a resource ARN is compared with.
    fn compile_value(self, value: &str) -> Result<ArnMatch, DataResourceError> {
        let service = self.service();
        let arn = Arn::parse(value);
        // `arn:aws:s3`, `arn:aws:lambda`, `arn:aws:dynamodb`: every resource of the type.
        if let Some(partition) = value
            .strip_prefix("arn:")
            .and_then(|rest| rest.strip_suffix(service))
            .and_then(|rest| rest.strip_suffix(':'))
            .filter(|partition| crate::names::arn::is_partition(partition))
        {
            return Ok(ArnMatch::All(format!("arn:{partition}:{service}:")));
        }
        match self {
            BasicResourceType::S3Object => {
                let Some(resource) = arn
                    .filter(|a| a.service == "s3" && a.region.is_empty() && a.account.is_empty())
                    .map(|a| a.resource)
                else {
                    return Err(DataResourceError::NotS3ObjectValue(value.to_owned()));
                };
                if resource.is_empty() {
                    // `arn:aws:s3:::` selects every object too.
                    return Ok(ArnMatch::All(value.to_owned()));
                }
                let Some((bucket, _)) = resource.split_once('/') else {
                    return Err(DataResourceError::BucketWithoutObjects(value.to_owned()));
                };
                check_bucket_name_shape(bucket)?;
                Ok(ArnMatch::Prefix(value.to_owned()))
            }
            BasicResourceType::LambdaFunction => {
                let valid = regional(value, "lambda").is_some_and(|a| {
                    a.resource.strip_prefix("function:").is_some_and(|name| {
                        (1..=64).contains(&name.len())
                            && name
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    })
                });
                if valid {
                    Ok(ArnMatch::Exact(value.to_owned()))
                } else {
                    Err(DataResourceError::NotLambdaFunctionValue(value.to_owned()))
                }
            }
            BasicResourceType::DynamoDbTable => {
                let valid = regional(value, "dynamodb").is_some_and(|a| {
                    a.resource.strip_prefix("table/").is_some_and(|name| {
                        (3..=255).contains(&name.len())
                            && name.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
                            })
                    })
                });
                if valid {
                    Ok(ArnMatch::Exact(value.to_owned()))
                } else {
                    Err(DataResourceError::NotDynamoDbTableValue(value.to_owned()))
                }
            }
        }
    }
}

/// How a resource ARN is compared with a DataResources value. The all-resources values
/// (`arn:aws:s3`…) and S3 bucket/prefix values are prefixes; Lambda function and DynamoDB
/// table ARNs match exactly (AWS's example: `…:function:helloworld` does not select
/// `…:function:helloworld2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnMatch {
    /// Every resource of the type in a partition; holds the ARN prefix they share.
    All(String),
    Prefix(String),
    Exact(String),
}

impl ArnMatch {
    fn matches(&self, arn: &str) -> bool {
        match self {
            ArnMatch::All(prefix) | ArnMatch::Prefix(prefix) => arn.starts_with(prefix.as_str()),
            ArnMatch::Exact(exact) => arn == exact,
        }
    }
}

/// One compiled `DataResources[]` entry.
#[derive(Debug, Clone)]
pub struct DataResource {
    kind: BasicResourceType,
    values: Vec<ArnMatch>,
}

impl DataResource {
    pub fn kind(&self) -> BasicResourceType {
        self.kind
    }

    pub fn values(&self) -> &[ArnMatch] {
        &self.values
    }

    /// Data events match through their `resources` entries of the selected type.
    fn matches(&self, record: &Record<'_>) -> bool {
        record.resources().iter().any(|resource| {
            resource.resource_type.as_deref() == Some(self.kind.as_str())
                && resource
                    .arn
                    .as_deref()
                    .or(resource.arn_prefix.as_deref())
                    .is_some_and(|arn| self.values.iter().any(|value| value.matches(arn)))
        })
    }
}

/// Management event sources a basic selector can leave out.
const EXCLUDABLE: [&str; 2] = ["kms.amazonaws.com", "rdsdata.amazonaws.com"];

/// One compiled basic event selector.
#[derive(Debug, Clone)]
pub struct BasicSelector {
    read_write: ReadWriteType,
    management: bool,
    excluded_sources: Vec<&'static str>,
    data: Vec<DataResource>,
}

impl BasicSelector {
    pub fn read_write_type(&self) -> ReadWriteType {
        self.read_write
    }

    pub fn includes_management_events(&self) -> bool {
        self.management
    }

    pub fn excluded_management_event_sources(&self) -> &[&'static str] {
        &self.excluded_sources
    }

    pub fn data_resources(&self) -> &[DataResource] {
        &self.data
    }

    /// ReadWriteType applies to management and data events alike; basic selectors never take
    /// network activity, Insights or CloudTrail Lake integration events.
    pub fn matches(&self, record: &Record<'_>) -> bool {
        if !self.read_write.admits(record.is_read_only()) {
            return false;
        }
        match record.category() {
            EventCategory::Management => {
                self.management
                    && !record
                        .event_source()
                        .is_some_and(|source| self.excluded_sources.contains(&source))
            }
            EventCategory::Data => self.data.iter().any(|resource| resource.matches(record)),
            EventCategory::Insight
            | EventCategory::NetworkActivity
            | EventCategory::ActivityAuditLog => false,
        }
    }

    pub(crate) fn logs_management(&self, writes_only: bool) -> bool {
        self.management && (!writes_only || self.read_write.admits_writes())
    }

    pub(crate) fn logs_data(&self) -> bool {
        self.data.iter().any(|resource| !resource.values.is_empty())
    }

    fn compile(spec: &EventSelectorSpec) -> Result<Self, Invalid> {
        let excluded_sources = spec
            .exclude_management_event_sources
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, source)| {
                EXCLUDABLE
                    .into_iter()
                    .find(|known| known == source)
                    .ok_or_else(|| {
                        Invalid::new(
                            format!("ExcludeManagementEventSources[{i}]"),
                            format!(
                                "\"{source}\" cannot be excluded: the only management event sources a trail \
                                 can leave out are kms.amazonaws.com and rdsdata.amazonaws.com"
                            ),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let data = spec
            .data_resources
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, resource)| {
                let at = format!("DataResources[{i}]");
                let kind = BasicResourceType::parse(&resource.resource_type)
                    .map_err(|why| Invalid::new("Type", why.to_string()).within(&at))?;
                let values = resource
                    .values
                    .iter()
                    .enumerate()
                    .map(|(j, value)| {
                        kind.compile_value(value).map_err(|why| {
                            Invalid::new(format!("Values[{j}]"), why.to_string()).within(&at)
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(DataResource { kind, values })
            })
            .collect::<Result<Vec<_>, Invalid>>()?;
        Ok(BasicSelector {
            read_write: spec.read_write_type.unwrap_or_default(),
            management: spec.include_management_events.unwrap_or(true),
            excluded_sources,
            data,
        })
    }

    /// Values that name particular resources, for the 250-per-trail quota, which AWS does
    /// not apply to the all-resources values.
    fn specific_values(&self) -> usize {
        self.data
            .iter()
            .flat_map(|resource| &resource.values)
            .filter(|value| !matches!(value, ArnMatch::All(_)))
            .count()
    }
}

const LIST: &str = "EventSelectors";
/// CloudTrail's quotas: five event selectors per trail, 250 data resources across them.
const MAX_SELECTORS: usize = 5;
const MAX_DATA_RESOURCES: usize = 250;

pub(crate) fn compile(specs: &[EventSelectorSpec]) -> Result<Vec<BasicSelector>, Invalid> {
    if specs.is_empty() || specs.len() > MAX_SELECTORS {
        return Err(Invalid::new(
            LIST,
            format!(
                "holds {} event selectors; a trail has 1 to {MAX_SELECTORS} (leave EventSelectors out for CloudTrail's default)",
                specs.len()
            ),
        ));
    }
    let selectors = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| BasicSelector::compile(spec).map_err(|e| e.within(format!("{LIST}[{i}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    let resources: usize = selectors.iter().map(BasicSelector::specific_values).sum();
    if resources > MAX_DATA_RESOURCES {
        return Err(Invalid::new(
            LIST,
            format!(
                "{resources} data resource values across the trail's event selectors; CloudTrail allows at most {MAX_DATA_RESOURCES}"
            ),
        ));
    }
    Ok(selectors)
}
