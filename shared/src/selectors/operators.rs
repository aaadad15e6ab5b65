//! The six operators of an advanced field selector, and how a record's value meets them.

use super::spec::FieldSelectorSpec;
use crate::invalid::Invalid;

/// AdvancedFieldSelector's operators, in the order the API lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Equals,
    StartsWith,
    EndsWith,
    NotEquals,
    NotStartsWith,
    NotEndsWith,
}

impl Operator {
    pub(crate) const ALL: [Operator; 6] = [
        Operator::Equals,
        Operator::StartsWith,
        Operator::EndsWith,
        Operator::NotEquals,
        Operator::NotStartsWith,
        Operator::NotEndsWith,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "Equals",
            Operator::StartsWith => "StartsWith",
            Operator::EndsWith => "EndsWith",
            Operator::NotEquals => "NotEquals",
            Operator::NotStartsWith => "NotStartsWith",
            Operator::NotEndsWith => "NotEndsWith",
        }
    }

    fn holds(self, value: &str, operand: &str) -> bool {
        match self {
            Operator::Equals | Operator::NotEquals => value == operand,
            Operator::StartsWith | Operator::NotStartsWith => value.starts_with(operand),
            Operator::EndsWith | Operator::NotEndsWith => value.ends_with(operand),
        }
    }

    fn is_negative(self) -> bool {
        matches!(
            self,
            Operator::NotEquals | Operator::NotStartsWith | Operator::NotEndsWith
        )
    }
}

/// CloudTrail's limit on one operator value (OperatorValue: 1 to 2048 characters).
const MAX_VALUE_CHARS: usize = 2048;

/// The operator lists of one field selector. Every list given must hold: a positive list when
/// the value meets any of its operands, a negative one when it meets none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Operators {
    lists: [Vec<String>; 6],
}

impl Operators {
    /// Takes the lists as written, refusing empty lists and empty or over-long values, which
    /// the API refuses too.
    pub(crate) fn from_spec(spec: &FieldSelectorSpec) -> Result<Self, Invalid> {
        let given = [
            &spec.equals,
            &spec.starts_with,
            &spec.ends_with,
            &spec.not_equals,
            &spec.not_starts_with,
            &spec.not_ends_with,
        ];
        let mut operators = Operators::default();
        for ((operator, list), slot) in Operator::ALL.iter().zip(given).zip(&mut operators.lists) {
            let Some(values) = list else { continue };
            if values.is_empty() {
                return Err(Invalid::new(
                    operator.as_str(),
                    "must hold at least one value; leave the operator out instead",
                ));
            }
            for (i, value) in values.iter().enumerate() {
                let chars = value.chars().count();
                if chars == 0 || chars > MAX_VALUE_CHARS {
                    return Err(Invalid::new(
                        format!("{}[{i}]", operator.as_str()),
                        format!("must be 1 to {MAX_VALUE_CHARS} characters"),
                    ));
                }
            }
            slot.clone_from(values);
        }
        if operators.lists.iter().all(Vec::is_empty) {
            return Err(Invalid::new(
                "",
                "has no operator: give Equals, StartsWith, EndsWith, NotEquals, NotStartsWith or NotEndsWith",
            ));
        }
        Ok(operators)
    }

    /// The operators given, with their values.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Operator, &[String])> {
        Operator::ALL
            .into_iter()
            .zip(&self.lists)
            .filter(|(_, values)| !values.is_empty())
            .map(|(operator, values)| (operator, values.as_slice()))
    }

    pub(crate) fn get(&self, operator: Operator) -> &[String] {
        // The lists are in declaration order, the order of `Operator::ALL`.
        &self.lists[operator as usize]
    }

    /// How many values the lists hold, for CloudTrail's per-trail quota.
    pub(crate) fn value_count(&self) -> usize {
        self.lists.iter().map(Vec::len).sum()
    }

    /// Whether a record's value passes. A field the record lacks meets no operand: it fails
    /// positive operators and passes negative ones, so `NotStartsWith` on userIdentity.arn
    /// does not drop events that carry no ARN.
    pub(crate) fn admits(&self, value: Option<&str>) -> bool {
        self.iter().all(|(operator, operands)| {
            let met = value.is_some_and(|value| {
                operands
                    .iter()
                    .any(|operand| operator.holds(value, operand))
            });
            met != operator.is_negative()
        })
    }
}
