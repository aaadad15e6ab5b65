//! A log event prepared once for every pattern tested on it.
//!
//! A metric filter set tests each event against all its patterns, and most of them are JSON
//! patterns over CloudTrail records. Reading the event's JSON is what costs, so a [`Message`]
//! reads it at most once, on the first JSON pattern that needs it, and every later pattern and
//! metric field looks values up in that index. Events no JSON pattern sees are never read as
//! JSON at all.

use std::cell::OnceCell;
use std::fmt;

use super::document::Document;

/// A log event message, prepared for [`FilterPattern::matches_message`] and the metric
/// functions that take one; it borrows the text and indexes it lazily.
///
/// [`FilterPattern::matches_message`]: super::FilterPattern::matches_message
pub struct Message<'a> {
    text: &'a str,
    /// The JSON index, built on first use; `None` inside when the event is not JSON.
    json: OnceCell<Option<Document<'a>>>,
}

impl<'a> Message<'a> {
    pub fn new(text: &'a str) -> Message<'a> {
        Message {
            text,
            json: OnceCell::new(),
        }
    }

    /// The message as given.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The event's JSON index, or `None` when the event is not one JSON value.
    pub(crate) fn json(&self) -> Option<&Document<'a>> {
        self.json
            .get_or_init(|| Document::parse(self.text))
            .as_ref()
    }
}

impl<'a> From<&'a str> for Message<'a> {
    fn from(text: &'a str) -> Message<'a> {
        Message::new(text)
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The index is a cache, not part of the value.
        f.debug_tuple("Message").field(&self.text).finish()
    }
}

#[cfg(test)]
mod tests;
