//! Why a filter pattern was refused. AWS answers a bad pattern with an
//! `InvalidParameterException` ("Invalid metric filter pattern"); we keep that wording and add
//! what is wrong and where, so whoever wrote a trail's metric filter can fix it without guessing.

use std::fmt;

/// A refused filter pattern: the problem and the character (0-based) where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// Character offset into the pattern (not byte offset), as an editor would count it.
    pub position: usize,
    pub kind: ErrorKind,
}

/// What was wrong with a pattern. Variants carry what the message needs to name the culprit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Longer than PutMetricFilter's `filterPattern` constraint.
    TooLong { length: usize, limit: usize },
    /// A quoted string, regex, JSON `{ … }` or delimited `[ … ]` pattern that never closes.
    Unterminated { what: &'static str },
    /// Something other than what the grammar allows at this point.
    Unexpected {
        found: String,
        expected: &'static str,
    },
    /// A bare term with characters other than letters, digits and `_`; AWS requires quotes.
    UnquotedTerm { term: String },
    /// A bare value (JSON or delimited) with characters AWS only accepts inside quotes.
    UnquotedValue { value: String },
    /// A `%regex%` outside AWS's restricted dialect.
    Regex { reason: String },
    /// More `%regex%` values than AWS allows in one pattern.
    TooManyRegexes { count: usize, limit: usize },
    /// More `*` selectors than AWS allows in one property selector or one pattern.
    TooManyWildcards { scope: &'static str, limit: usize },
    /// `<`, `>`, `<=`, `>=` with something that is not a number.
    NotANumber { value: String },
    /// `<`, `>`, `<=`, `>=` with a `%regex%` or a wildcard, which only `=` and `!=` accept.
    OperatorNeedsEquality { operator: &'static str },
    /// Parentheses nested deeper than we evaluate (keeps the parser's recursion bounded).
    TooDeep { limit: usize },
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ErrorKind::TooLong { length, limit } = &self.kind {
            // The API's own validation message for the `filterPattern` member.
            return write!(
                f,
                "1 validation error detected: Value at 'filterPattern' failed to satisfy \
                 constraint: Member must have length less than or equal to {limit} \
                 (it has {length})"
            );
        }
        write!(
            f,
            "Invalid metric filter pattern at character {}: ",
            self.position
        )?;
        match &self.kind {
            ErrorKind::TooLong { .. } => Ok(()),
            ErrorKind::Unterminated { what } => write!(f, "unterminated {what}"),
            ErrorKind::Unexpected { found, expected } => {
                write!(f, "found {found}, expected {expected}")
            }
            ErrorKind::UnquotedTerm { term } => write!(
                f,
                "term '{term}' contains characters other than letters, digits and '_'; \
                 enclose it in double quotes"
            ),
            ErrorKind::UnquotedValue { value } => write!(
                f,
                "value '{value}' contains characters that must be enclosed in double quotes"
            ),
            ErrorKind::Regex { reason } => write!(f, "invalid regex: {reason}"),
            ErrorKind::TooManyRegexes { count, limit } => write!(
                f,
                "{count} regular expressions in one filter pattern; the limit is {limit}"
            ),
            ErrorKind::TooManyWildcards { scope, limit } => {
                write!(
                    f,
                    "at most {limit} wildcard selector(s) are allowed in {scope}"
                )
            }
            ErrorKind::NotANumber { value } => {
                write!(f, "'{value}' is not a number; numeric operators need one")
            }
            ErrorKind::OperatorNeedsEquality { operator } => write!(
                f,
                "operator '{operator}' takes a number; wildcards and regexes need '=' or '!='"
            ),
            ErrorKind::TooDeep { limit } => {
                write!(f, "parentheses nested more than {limit} deep")
            }
        }
    }
}

impl std::error::Error for PatternError {}
