//! A rule broken at a path inside the configuration (`trails[1] (audit):
//! EventSelectors[0].DataResources[0].Type`). A leaf: selectors, trails and metric filters each
//! check their own part and say where, and the configuration only adds the outer levels.

use std::fmt;

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
