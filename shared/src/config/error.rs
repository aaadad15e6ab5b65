//! What is wrong with a configuration, and where: the file, then the path inside it in the
//! same spelling as the YAML (`trails[1] (audit): EventSelectors[0].DataResources[0].Type`).

use std::fmt;
use std::io;

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

/// A rule broken at `path`. Built innermost first: each level that knows its own place wraps
/// the error with [`Invalid::within`], so checks deep down need not know where they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: String,
    pub message: String,
}

impl Invalid {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Puts the error under `parent`, joined with a dot (`Values[2]` under `DataResources[0]`).
    pub(crate) fn within(mut self, parent: impl fmt::Display) -> Self {
        self.path = if self.path.is_empty() {
            parent.to_string()
        } else {
            format!("{parent}.{}", self.path)
        };
        self
    }

    /// Puts the error under a trail or metric filter, which is named as well as numbered
    /// because people find their trails by name.
    pub(crate) fn under_item(mut self, list: &str, index: usize, name: &str) -> Self {
        let head = item_label(list, index, name);
        self.path = if self.path.is_empty() {
            head
        } else {
            format!("{head}: {}", self.path)
        };
        self
    }
}

/// `trails[1] (audit)`, or `trails[1]` while the name is still unknown.
pub(crate) fn item_label(list: &str, index: usize, name: &str) -> String {
    if name.is_empty() {
        format!("{list}[{index}]")
    } else {
        format!("{list}[{index}] ({name})")
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}
