//! What is wrong with a configuration, and where: the file, then the path inside it in the
//! same spelling as the YAML (`trails[1] (audit): EventSelectors[0].DataResources[0].Type`).

use std::io;

use crate::invalid::Invalid;

/// A configuration that cannot be used, named by its origin (usually the file path).
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {problem}")]
pub struct ConfigError {
    pub origin: String,
    pub problem: Problem,
}

impl ConfigError {
    pub(crate) fn new(origin: &str, problem: Problem) -> Self {
        Self {
            origin: origin.to_owned(),
            problem,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The io::Error is kept for its kind (NotFound…) and printed in the message, so it is not
    /// also reported as a source.
    #[error("cannot read the file: {0}")]
    Read(io::Error),
    /// The YAML is malformed, or a value has the wrong shape (unknown key, wrong type, missing
    /// key). serde_yaml_ng reports these with a position.
    #[error("{}{message}", position(*.line, *.column))]
    Yaml {
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// Well-formed, but against CloudTrail's (or CloudWatch Logs') rules.
    #[error("{0}")]
    Invalid(Invalid),
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("line {line}, column {column}: "),
        (Some(line), None) => format!("line {line}: "),
        _ => String::new(),
    }
}
