//! CloudWatch Logs filter patterns, as metric filters and subscription filters use them, with
//! AWS's syntax, semantics and limits, so a trail's metric filters match here exactly the
//! events they would match in CloudWatch Logs.
//!
//! A pattern is parsed once ([`FilterPattern::parse`]) and then tested against each event
//! ([`FilterPattern::matches`]). A pattern's first character picks its kind:
//! - `{ … }`: a JSON pattern ([`json`]);
//! - `[ … ]`: a space-delimited pattern ([`delimited`]), which also extracts fields;
//! - `%…%`: a standalone regex in AWS's restricted dialect ([`regex`]);
//! - anything else: terms, phrases, `-excluded` and `?optional` terms ([`terms`]).
//!
//! To test several patterns on one event (a metric filter set), prepare the event once as a
//! [`Message`] and use [`FilterPattern::matches_message`]: JSON patterns then share one index
//! of the event ([`document`]) instead of each reading it again.
//!
//! Parsing is total: any input yields a pattern or a [`PatternError`], never a panic.
//!
//! A metric filter also publishes fields of the matched event ([`FilterPattern::field`],
//! [`metric`]): the value and dimensions its metric transformation names.

mod delimited;
mod document;
mod error;
mod json;
mod lexer;
mod message;
mod metric;
mod regex;
mod terms;
mod value;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;

pub use error::{ErrorKind, PatternError};
pub use message::Message;
pub use metric::{Datum, Metric, MetricError, MetricTransformation, StandardUnit};

use delimited::Delimited;
use document::Document;
use json::JsonPattern;
use lexer::Cursor;
use terms::Terms;

/// PutMetricFilter's limit on `filterPattern`, in characters.
pub const MAX_PATTERN_LENGTH: usize = 1024;
/// AWS's quota on `%regex%` values in one JSON or space-delimited pattern.
pub const MAX_REGEXES_PER_PATTERN: usize = 2;

/// A compiled filter pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    kind: PatternKind,
    /// Whether any `%regex%` is in it, for the quota on such patterns per log group.
    uses_regex: bool,
}

#[derive(Debug, Clone)]
enum PatternKind {
    Terms(Terms),
    Regex(::regex::Regex),
    Json(JsonPattern),
    Delimited(Delimited),
}

/// A matched event and what the pattern extracted from it, as TestMetricFilter reports it in
/// `extractedValues`: `$name` per named field and `$N` per positional field of a
/// space-delimited pattern; empty for the other kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    pub extracted_values: BTreeMap<String, String>,
}

impl FilterPattern {
    pub fn parse(pattern: &str) -> Result<FilterPattern, PatternError> {
        let length = pattern.chars().count();
        if length > MAX_PATTERN_LENGTH {
            let kind = ErrorKind::TooLong {
                length,
                limit: MAX_PATTERN_LENGTH,
            };
            return Err(PatternError {
                position: MAX_PATTERN_LENGTH,
                kind,
            });
        }
        let trimmed = pattern.trim_start();
        let (kind, regexes) = match trimmed.chars().next() {
            Some('{') => {
                let (json, regexes) = with_regex_quota(pattern, JsonPattern::parse(pattern)?)?;
                (PatternKind::Json(json), regexes)
            }
            Some('[') => {
                let (delimited, regexes) = with_regex_quota(pattern, Delimited::parse(pattern)?)?;
                (PatternKind::Delimited(delimited), regexes)
            }
            Some('%') => (PatternKind::Regex(standalone_regex(pattern)?), 1),
            _ => (PatternKind::Terms(Terms::parse(pattern)?), 0),
        };
        Ok(FilterPattern {
            source: pattern.to_owned(),
            kind,
            uses_regex: regexes > 0,
        })
    }

    /// Whether the pattern holds a `%regex%`, standalone or in a JSON or space-delimited
    /// condition: CloudWatch Logs allows only five such patterns per log group.
    pub fn uses_regex(&self) -> bool {
        self.uses_regex
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Tests one log event message; `Some` when it matches, with the extracted values.
    /// To test more than one pattern on the same event, [`FilterPattern::matches_message`]
    /// reads the event once for all of them.
    pub fn matches(&self, message: &str) -> Option<Match> {
        self.matches_message(&Message::new(message))
    }

    /// [`FilterPattern::matches`] on a prepared event, whose JSON index (built by the first
    /// JSON pattern that needs it) every other pattern tested on it reuses.
    pub fn matches_message(&self, message: &Message<'_>) -> Option<Match> {
        let text = message.as_str();
        match &self.kind {
            PatternKind::Terms(terms) => terms.matches(text).then(Match::default),
            PatternKind::Regex(regex) => regex.is_match(text).then(Match::default),
            PatternKind::Json(json) => message
                .json()
                .is_some_and(|document| json.matches(document))
                .then(Match::default),
            PatternKind::Delimited(delimited) => delimited
                .matches(text)
                .map(|extracted_values| Match { extracted_values }),
        }
    }
}

/// A field of matched events that a metric transformation publishes (as the value or a
/// dimension), resolved against its pattern once so that each event is a lookup, not a parse.
#[derive(Debug, Clone)]
pub struct PatternField {
    reference: String,
    source: FieldSource,
}

#[derive(Debug, Clone)]
enum FieldSource {
    /// `$.a.b` under a JSON pattern: read from the event itself, which JSON matching does not
    /// keep.
    Json(Vec<json::SelectorStep>),
    /// `$name` or `$N` under a space-delimited pattern: one of the match's extracted values.
    Extracted,
}

/// Why a pattern cannot supply a field that a metric transformation names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error(
        "\"{reference}\" names a field, but only JSON and space-delimited filter patterns \
         extract fields"
    )]
    NoFields { reference: String },
    #[error("\"{reference}\" is not a JSON property selector such as $.bytes or $.a[0].b")]
    NotASelector { reference: String },
    #[error(
        "\"{reference}\" is not tested by the filter pattern; AWS publishes only fields the \
         pattern matched on (add a condition such as {reference} = *)"
    )]
    NotInPattern { reference: String },
    #[error(
        "\"{reference}\" is not a field of the filter pattern (a named field is $name, a field \
         taken by ... or an empty slot is $N)"
    )]
    NotExtracted { reference: String },
}

impl FilterPattern {
    /// Whether matches carry fields a metric can publish: JSON and space-delimited patterns do,
    /// terms and standalone regexes do not (so AWS refuses dimensions on them).
    pub fn extracts_fields(&self) -> bool {
        matches!(self.kind, PatternKind::Json(_) | PatternKind::Delimited(_))
    }

    /// Resolves a field reference as metric transformations write it: `$.a.b` under a JSON
    /// pattern, which must test that selector; `$name` or `$N` under a space-delimited one.
    /// Terms and regexes extract nothing, so they refuse every reference.
    pub fn field(&self, reference: &str) -> Result<PatternField, FieldError> {
        let owned = || reference.to_owned();
        let source = match &self.kind {
            PatternKind::Terms(_) | PatternKind::Regex(_) => {
                Err(FieldError::NoFields { reference: owned() })
            }
            PatternKind::Json(pattern) => match json::parse_selector(reference) {
                Ok(steps) if pattern.tests_selector(&steps) => Ok(FieldSource::Json(steps)),
                Ok(_) => Err(FieldError::NotInPattern { reference: owned() }),
                Err(_) => Err(FieldError::NotASelector { reference: owned() }),
            },
            PatternKind::Delimited(pattern) if pattern.can_extract(reference) => {
                Ok(FieldSource::Extracted)
            }
            PatternKind::Delimited(_) => Err(FieldError::NotExtracted { reference: owned() }),
        }?;
        Ok(PatternField {
            reference: owned(),
            source,
        })
    }
}

impl PatternField {
    /// The reference as written (`$.bytes`, `$status`).
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The field's value in an event that matched the pattern it was resolved against; `None`
    /// when that event lacks it (a JSON selector landing on nothing, an object or an array).
    pub fn value<'m>(&self, message: &str, matched: &'m Match) -> Option<Cow<'m, str>> {
        match &self.source {
            FieldSource::Json(steps) => {
                let document = Document::parse(message)?;
                json::extract(steps, &document).map(|value| Cow::Owned(value.into_owned()))
            }
            FieldSource::Extracted => self.extracted(matched),
        }
    }

    /// [`PatternField::value`] on a prepared event: a JSON field is looked up in the index its
    /// pattern already built, and borrowed from the event when it holds no escapes.
    pub fn value_in_message<'a>(
        &self,
        message: &'a Message<'_>,
        matched: &'a Match,
    ) -> Option<Cow<'a, str>> {
        match &self.source {
            FieldSource::Json(steps) => json::extract(steps, message.json()?),
            FieldSource::Extracted => self.extracted(matched),
        }
    }

    fn extracted<'m>(&self, matched: &'m Match) -> Option<Cow<'m, str>> {
        matched
            .extracted_values
            .get(&self.reference)
            .map(|value| Cow::Borrowed(value.as_str()))
    }
}

fn with_regex_quota<T>(
    pattern: &str,
    (parsed, regexes): (T, usize),
) -> Result<(T, usize), PatternError> {
    if regexes > MAX_REGEXES_PER_PATTERN {
        let kind = ErrorKind::TooManyRegexes {
            count: regexes,
            limit: MAX_REGEXES_PER_PATTERN,
        };
        return Err(PatternError {
            position: pattern.chars().count(),
            kind,
        });
    }
    Ok((parsed, regexes))
}

/// A pattern that is one `%regex%` and nothing else; AWS has regexes stand alone or sit inside
/// JSON and space-delimited conditions, never among terms.
fn standalone_regex(pattern: &str) -> Result<::regex::Regex, PatternError> {
    let mut cursor = Cursor::new(pattern);
    cursor.skip_ws();
    let (body, body_start) = cursor.regex_body()?;
    let compiled = regex::compile(body, body_start, &cursor)?;
    cursor.skip_ws();
    if !cursor.at_end() {
        return Err(cursor.unexpected("end of pattern after a standalone %regex%"));
    }
    Ok(compiled)
}
