//! Advanced event selectors: checked at load against AWS's per-field rules for trails, and
//! compiled to a form that matches a record without allocating.

use super::fields::{RecordField, SelectorField, check_values, check_whole_arn, rule};
use super::operators::{Operator, Operators};
use super::spec::AdvancedEventSelectorSpec;
use crate::invalid::Invalid;
use crate::record::{EventCategory, Record};

/// One compiled advanced event selector.
#[derive(Debug, Clone)]
pub struct AdvancedSelector {
    name: Option<String>,
    category: EventCategory,
    resource_type: Option<String>,
    conditions: Vec<(RecordField, Operators)>,
    arn_conditions: Vec<Operators>,
}

impl AdvancedSelector {
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn category(&self) -> EventCategory {
        self.category
    }

    /// `resources.type` of a data event selector.
    pub fn resource_type(&self) -> Option<&str> {
        self.resource_type.as_deref()
    }

    /// AND of the field selectors; a data event passes when one of its resources of the
    /// selected type passes every resources.ARN condition.
    pub fn matches(&self, record: &Record<'_>) -> bool {
        if record.category() != self.category {
            return false;
        }
        if !self
            .conditions
            .iter()
            .all(|(field, operators)| operators.admits(field.value(record)))
        {
            return false;
        }
        let Some(resource_type) = &self.resource_type else {
            return true;
        };
        record.resources().iter().any(|resource| {
            resource.resource_type.as_deref() == Some(resource_type.as_str())
                && self.arn_conditions.iter().all(|operators| {
                    operators.admits(resource.arn.as_deref().or(resource.arn_prefix.as_deref()))
                })
        })
    }

    /// Whether the selector lets through management events that write (for Insights on the
    /// call rate) or, with `writes_only` false, management events at all.
    pub(crate) fn logs_management(&self, writes_only: bool) -> bool {
        self.category == EventCategory::Management
            && (!writes_only
                || self
                    .conditions
                    .iter()
                    .filter(|(field, _)| *field == RecordField::ReadOnly)
                    .all(|(_, operators)| operators.admits(Some("false"))))
    }

    /// How many operator values the selector holds, for the trail's 500-value quota.
    fn value_count(&self) -> usize {
        // eventCategory and resources.type hold one value each.
        1 + usize::from(self.resource_type.is_some())
            + self
                .conditions
                .iter()
                .map(|(_, operators)| operators.value_count())
                .chain(self.arn_conditions.iter().map(Operators::value_count))
                .sum::<usize>()
    }

    fn compile(spec: &AdvancedEventSelectorSpec) -> Result<Self, Invalid> {
        if let Some(name) = &spec.name
            && name.chars().count() > 1000
        {
            return Err(Invalid::new("Name", "must be at most 1000 characters"));
        }
        if spec.field_selectors.is_empty() {
            return Err(Invalid::new(
                "FieldSelectors",
                "must hold at least one field selector",
            ));
        }
        let parsed = spec
            .field_selectors
            .iter()
            .enumerate()
            .map(|(i, fs)| {
                let field = SelectorField::parse(&fs.field).map_err(|why| {
                    Invalid::new("Field", why.to_string()).within(format!("FieldSelectors[{i}]"))
                })?;
                let operators = Operators::from_spec(fs)
                    .map_err(|e| e.within(format!("FieldSelectors[{i}]")))?;
                Ok((i, field, operators))
            })
            .collect::<Result<Vec<_>, Invalid>>()?;

        let category = single_category(&parsed)?;
        let mut selector = AdvancedSelector {
            name: spec.name.clone(),
            category,
            resource_type: None,
            conditions: Vec::new(),
            arn_conditions: Vec::new(),
        };
        for (i, field, operators) in &parsed {
            let (i, field) = (*i, *field);
            let at = format!("FieldSelectors[{i}]");
            let allowed = rule(category, field)
                .map_err(|why| Invalid::new("", format!("{} {why}", field.name())).within(&at))?;
            if let Some((operator, _)) = operators.iter().find(|(o, _)| !allowed.contains(o)) {
                let allowed: Vec<&str> = allowed.iter().map(|o| o.as_str()).collect();
                return Err(Invalid::new(
                    operator.as_str(),
                    format!(
                        "{} is not allowed on {} for {} events; use {}",
                        operator.as_str(),
                        field.name(),
                        category.as_str(),
                        allowed.join(" or ")
                    ),
                )
                .within(&at));
            }
            check_values(category, field, operators).map_err(|e| e.within(&at))?;
            match field {
                SelectorField::EventCategory => {}
                SelectorField::ResourcesType => {
                    if selector.resource_type.is_some() {
                        return Err(Invalid::new(
                            "",
                            "a selector can have only one resources.type field selector; add another selector for another resource type",
                        )
                        .within(&at));
                    }
                    let [resource_type] = operators.get(Operator::Equals) else {
                        return Err(Invalid::new(
                            "Equals",
                            "resources.type takes exactly one value; add another selector for another resource type",
                        )
                        .within(&at));
                    };
                    selector.resource_type = Some(resource_type.clone());
                }
                SelectorField::ResourcesArn => selector.arn_conditions.push(operators.clone()),
                SelectorField::Record(record_field) => {
                    selector.conditions.push((record_field, operators.clone()));
                }
            }
        }
        selector.check_required()?;
        selector.check_arn_values(&parsed)?;
        Ok(selector)
    }

    fn check_required(&self) -> Result<(), Invalid> {
        match self.category {
            EventCategory::Data if self.resource_type.is_none() => Err(Invalid::new(
                "FieldSelectors",
                "a Data event selector needs a resources.type field selector (Equals one resource type, such as AWS::S3::Object)",
            )),
            EventCategory::NetworkActivity
                if !self
                    .conditions
                    .iter()
                    .any(|(field, _)| *field == RecordField::EventSource) =>
            {
                Err(Invalid::new(
                    "FieldSelectors",
                    "a NetworkActivity event selector needs an eventSource field selector (Equals the service, such as ec2.amazonaws.com)",
                ))
            }
            _ => Ok(()),
        }
    }

    /// Equals and NotEquals on resources.ARN must name whole ARNs of the selected type; the
    /// type is known only once every field selector is read, so this runs last.
    fn check_arn_values(&self, parsed: &[Parsed]) -> Result<(), Invalid> {
        let Some(resource_type) = &self.resource_type else {
            return Ok(());
        };
        for (i, field, operators) in parsed {
            if *field != SelectorField::ResourcesArn {
                continue;
            }
            for operator in [Operator::Equals, Operator::NotEquals] {
                for (j, value) in operators.get(operator).iter().enumerate() {
                    if let Err(why) = check_whole_arn(resource_type, value) {
                        return Err(Invalid::new(
                            format!("{}[{j}]", operator.as_str()),
                            why.to_string(),
                        )
                        .within(format!("FieldSelectors[{i}]")));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A field selector read but not yet judged: its position, field and operators.
type Parsed = (usize, SelectorField, Operators);

/// The selector's one eventCategory, which decides every other field's rules.
fn single_category(parsed: &[Parsed]) -> Result<EventCategory, Invalid> {
    let mut found = parsed
        .iter()
        .filter(|(_, field, _)| *field == SelectorField::EventCategory);
    let Some((i, _, operators)) = found.next() else {
        return Err(Invalid::new(
            "FieldSelectors",
            "every advanced event selector needs an eventCategory field selector (Equals Management, Data, NetworkActivity or ActivityAuditLog)",
        ));
    };
    let at = format!("FieldSelectors[{i}]");
    if let Some((j, _, _)) = found.next() {
        return Err(Invalid::new(
            "",
            "a selector can have only one eventCategory field selector; add another selector for another category",
        )
        .within(format!("FieldSelectors[{j}]")));
    }
    if let Some((operator, _)) = operators.iter().find(|(o, _)| *o != Operator::Equals) {
        return Err(Invalid::new(
            operator.as_str(),
            format!(
                "{} is not allowed on eventCategory; use Equals",
                operator.as_str()
            ),
        )
        .within(&at));
    }
    let values = operators.get(Operator::Equals);
    if values.len() != 1 {
        return Err(Invalid::new(
            "Equals",
            "eventCategory takes exactly one value; add another selector for another category",
        )
        .within(&at));
    }
    let value = values[0].as_str();
    let refuse = |why: String| Err(Invalid::new("Equals[0]", why).within(&at));
    // ActivityAuditLog is a Cairn extension: on AWS only CloudTrail Lake event data stores take
    // events from outside AWS (PutAuditEvents), but a Cairn trail may log them too.
    match EventCategory::parse(value) {
        Some(EventCategory::Insight) => refuse(
            "trails select Insights events with InsightSelectors; eventCategory Insight is for CloudTrail Lake event data stores".into(),
        ),
        Some(category) => Ok(category),
        None if ["ConfigurationItem", "Evidence"].contains(&value) => refuse(format!(
            "eventCategory {value} is for CloudTrail Lake event data stores, not trails"
        )),
        None => refuse(format!(
            "\"{value}\" is not an event category for trails (Management, Data, NetworkActivity or ActivityAuditLog)"
        )),
    }
}

const LIST: &str = "AdvancedEventSelectors";

/// CloudTrail's quota: 500 values across all conditions of all of a trail's advanced selectors.
const MAX_VALUES: usize = 500;

pub(crate) fn compile(
    specs: &[AdvancedEventSelectorSpec],
) -> Result<Vec<AdvancedSelector>, Invalid> {
    if specs.is_empty() {
        return Err(Invalid::new(
            LIST,
            "must hold at least one selector; leave AdvancedEventSelectors out for CloudTrail's default (all management events)",
        ));
    }
    let selectors = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            AdvancedSelector::compile(spec).map_err(|e| e.within(format!("{LIST}[{i}]")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let values: usize = selectors.iter().map(AdvancedSelector::value_count).sum();
    if values > MAX_VALUES {
        return Err(Invalid::new(
            LIST,
            format!(
                "{values} values across all conditions; CloudTrail allows at most {MAX_VALUES} per trail"
            ),
        ));
    }
    Ok(selectors)
}
