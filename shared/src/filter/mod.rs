//! CloudWatch Logs filter patterns, as metric filters and subscription filters use them, with
//! AWS's syntax, semantics and limits, so a trail's metric filters match here exactly the
//! events they would match in CloudWatch Logs.
//!
//! A pattern is parsed once ([`FilterPattern::parse`]) and then tested against each event
//! ([`FilterPattern::matches`]). Its first character picks the kind:
//! - `{ … }`: a JSON pattern ([`json`]);
//! - `[ … ]`: a space-delimited pattern ([`delimited`]), which also extracts fields;
//! - `%…%`: a standalone regex in AWS's restricted dialect ([`regex`]);
//! - anything else: terms, phrases, `-excluded` and `?optional` terms ([`terms`]).
//!
//! Parsing is total: any input yields a pattern or a [`PatternError`], never a panic.

mod delimited;
mod error;
mod json;
mod lexer;
mod regex;
mod terms;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use error::{ErrorKind, PatternError};

use delimited::Delimited;
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
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
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
        let kind = match trimmed.chars().next() {
            Some('{') => Kind::Json(with_regex_quota(pattern, JsonPattern::parse(pattern)?)?),
            Some('[') => Kind::Delimited(with_regex_quota(pattern, Delimited::parse(pattern)?)?),
            Some('%') => Kind::Regex(standalone_regex(pattern)?),
            _ => Kind::Terms(Terms::parse(pattern)?),
        };
        Ok(FilterPattern {
            source: pattern.to_owned(),
            kind,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Tests one log event message; `Some` when it matches, with the extracted values.
    pub fn matches(&self, message: &str) -> Option<Match> {
        match &self.kind {
            Kind::Terms(terms) => terms.matches(message).then(Match::default),
            Kind::Regex(regex) => regex.is_match(message).then(Match::default),
            Kind::Json(json) => json.matches(message).then(Match::default),
            Kind::Delimited(delimited) => delimited
                .matches(message)
                .map(|extracted_values| Match { extracted_values }),
        }
    }
}

fn with_regex_quota<T>(pattern: &str, (parsed, regexes): (T, usize)) -> Result<T, PatternError> {
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
    Ok(parsed)
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
