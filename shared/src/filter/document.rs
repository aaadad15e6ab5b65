//! A JSON log event indexed once for any number of selector lookups.
//!
//! One pass over the bytes both validates the event and records each value as a [`Node`], in
//! document order, in one vector: a container's members follow it and it records where they
//! end, so a lookup steps from member to member by index instead of re-reading text. Nothing
//! is decoded up front; a string stays a span of the event, unescaped only when it is compared
//! and only when it holds escapes.
//!
//! The JSON accepted is exactly what `serde_json` accepts for a `&RawValue`, which the engine
//! used before: RFC 8259 strictly (no trailing commas, no leading zeros, no control characters
//! in strings, escapes checked), no nesting limit, only JSON whitespace around the value.
//! Decoding a string is left to `serde_json` too, so a lone surrogate escape fails to decode
//! just as it did.

mod scan;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

/// Where a value sits in [`Document::nodes`].
pub(crate) type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Object,
    Array,
    /// A string with no backslash: its text is its value.
    String,
    /// A string holding escapes, decoded when read.
    EscapedString,
    Number,
    True,
    False,
    Null,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    kind: NodeKind,
    /// Byte span of the value in the event; for a string, of the text between its quotes.
    start: usize,
    end: usize,
    /// The node after this value's subtree (for a scalar, the next node). While a container
    /// is still open during the scan, its enclosing container instead, so that the scan needs
    /// no stack of its own.
    after: NodeId,
}

/// A valid JSON event and its index. An object's members are a key node (a string) followed by
/// the value's subtree; an array's elements are the values' subtrees. The root is node 0.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    text: &'a str,
    nodes: Vec<Node>,
}

impl<'a> Document<'a> {
    /// Indexes `text`; `None` when it is not one JSON value (with optional whitespace around).
    pub(crate) fn parse(text: &'a str) -> Option<Document<'a>> {
        let nodes = scan::index(text.as_bytes())?;
        Some(Document { text, nodes })
    }

    pub(crate) const ROOT: NodeId = 0;

    fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The value's kind; `None` only for an id that is not a node.
    pub(crate) fn kind(&self, id: NodeId) -> Option<NodeKind> {
        self.node(id).map(|node| node.kind)
    }

    /// The value as written: for a string, the text between its quotes (escapes and all).
    pub(crate) fn raw(&self, id: NodeId) -> &'a str {
        self.node(id)
            .and_then(|node| self.text.get(node.start..node.end))
            .unwrap_or("")
    }

    /// A string value, decoded; `None` for other kinds and for a string that does not decode
    /// (a lone surrogate escape such as `\ud800`).
    pub(crate) fn string(&self, id: NodeId) -> Option<Cow<'a, str>> {
        match self.node(id)?.kind {
            NodeKind::String => Some(Cow::Borrowed(self.raw(id))),
            NodeKind::EscapedString => {
                let node = self.node(id)?;
                // The span with its quotes, which a valid string always has around it.
                let quoted = self.text.get(node.start.checked_sub(1)?..node.end + 1)?;
                serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
            }
            _ => None,
        }
    }

    /// The values of an array's elements or an object's members, in order; nothing for a
    /// scalar.
    pub(crate) fn children(&self, id: NodeId) -> Children<'_> {
        let (object, end) = match self.node(id) {
            Some(node) => (node.kind == NodeKind::Object, node.after),
            None => (false, id),
        };
        let step = usize::from(object);
        Children {
            nodes: &self.nodes,
            next: id + 1,
            end,
            step,
        }
    }

    /// The value of an object's member named `key`, the last one when the key repeats (as most
    /// JSON readers keep). `None` when there is none, when `id` is not an object, or when the
    /// object is unreadable (see [`Document::readable`]).
    pub(crate) fn member(&self, id: NodeId, key: &str) -> Option<NodeId> {
        if self.kind(id) != Some(NodeKind::Object) {
            return None;
        }
        let mut found = None;
        for value in self.children(id) {
            // A member's key is the node just before its value.
            let name = self.node(value - 1)?;
            if name.kind == NodeKind::String {
                // Most keys differ in length: compare bytes, and only when the lengths agree.
                if name.end - name.start == key.len()
                    && self.text.as_bytes().get(name.start..name.end) == Some(key.as_bytes())
                {
                    found = Some(value);
                }
            } else {
                match self.string(value - 1) {
                    Some(decoded) if decoded == key => found = Some(value),
                    Some(_) => {}
                    None => return None,
                }
            }
        }
        found
    }

    /// Whether every key of an object decodes. The engine read members with `serde_json`,
    /// which refuses the whole object when one key holds a lone surrogate escape, so such an
    /// object has no members for selectors; this keeps that behaviour.
    pub(crate) fn readable(&self, id: NodeId) -> bool {
        self.kind(id) != Some(NodeKind::Object)
            || self.children(id).all(|value| {
                self.kind(value - 1) == Some(NodeKind::String) || self.string(value - 1).is_some()
            })
    }

    /// An array's element at `index`.
    pub(crate) fn element(&self, id: NodeId, index: usize) -> Option<NodeId> {
        if self.kind(id) != Some(NodeKind::Array) {
            return None;
        }
        self.children(id).nth(index)
    }
}

/// The values under a container, skipping each one's subtree to reach the next.
pub(crate) struct Children<'d> {
    nodes: &'d [Node],
    next: NodeId,
    end: NodeId,
    /// 1 in an object, where each value follows its key node; 0 in an array.
    step: usize,
}

impl Iterator for Children<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.next >= self.end {
            return None;
        }
        let value = self.next + self.step;
        self.next = self.nodes.get(value)?.after;
        Some(value)
    }
}
