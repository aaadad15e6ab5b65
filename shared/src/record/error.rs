//! Why a record was refused, naming the record, the field and the reason.

use std::fmt;

/// Which record an error is about: its position in the batch and, when it has a readable one,
/// its eventID, so a producer can find it either way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordRef {
    pub index: Option<usize>,
    pub event_id: Option<String>,
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.index, &self.event_id) {
            (Some(index), Some(id)) => write!(f, "record {index} (eventID {id})"),
            (Some(index), None) => write!(f, "record {index}"),
            (None, Some(id)) => write!(f, "record with eventID {id}"),
            (None, None) => f.write_str("record"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Absent although the record's eventVersion and eventType require it.
    Missing {
        required_since: &'static str,
    },
    /// Absent although every record of its kind carries it (`by` names the kind).
    Required {
        by: &'static str,
    },
    Null,
    WrongType {
        expected: &'static str,
    },
    Invalid(String),
    TooLarge {
        bytes: usize,
        limit: usize,
    },
    NotAnObject,
    Malformed(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Missing { required_since } => {
                write!(f, "missing (required since eventVersion {required_since})")
            }
            Reason::Required { by } => write!(f, "missing (required on {by})"),
            Reason::Null => f.write_str("is null"),
            Reason::WrongType { expected } => write!(f, "must be {expected}"),
            Reason::Invalid(why) => f.write_str(why),
            Reason::TooLarge { bytes, limit } => {
                write!(f, "is {bytes} bytes, over the {limit}-byte limit")
            }
            Reason::NotAnObject => f.write_str("must be a JSON object"),
            Reason::Malformed(why) => write!(f, "is not valid JSON: {why}"),
        }
    }
}

/// One thing wrong with a record. `field` is a dotted path such as `userIdentity.type`, or
/// `(record)` when the record as a whole is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub reason: Reason,
}

impl FieldProblem {
    pub(crate) fn new(field: &'static str, reason: Reason) -> Self {
        Self { field, reason }
    }

    pub(crate) fn invalid(field: &'static str, why: impl Into<String>) -> Self {
        Self::new(field, Reason::Invalid(why.into()))
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.reason)
    }
}

/// A refused record with everything found wrong with it, so a producer can fix it in one go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RecordError {
    pub record: RecordRef,
    pub problems: Vec<FieldProblem>,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.record)?;
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}
