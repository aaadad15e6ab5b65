//! The right-hand side of a JSON or space-delimited condition and how it compares, shared so
//! both kinds agree on wildcards, numbers and regexes.
//!
//! AWS's rules: `=`/`!=` compare strings, with `*` as a wildcard at the start and/or end of the
//! value (an inner `*` is a literal star); all six operators compare numbers as numbers, in
//! integer, decimal or scientific notation with optional sign; a `%regex%` value matches when
//! the regex is found anywhere in the value.

use regex::Regex;

use super::error::{ErrorKind, PatternError};
use super::lexer::Cursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    /// Reads an operator at the cursor, longest first so `<=` is not read as `<`.
    pub(crate) fn read(cursor: &mut Cursor<'_>) -> Option<Op> {
        [
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .into_iter()
        .find_map(|(token, op)| cursor.eat(token).then_some(op))
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, Op::Eq | Op::Ne)
    }

    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Op::Eq => ordering == Equal,
            Op::Ne => ordering != Equal,
            Op::Lt => ordering == Less,
            Op::Gt => ordering == Greater,
            Op::Le => ordering != Greater,
            Op::Ge => ordering != Less,
        }
    }
}

/// A string with optional leading and trailing `*` wildcards.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    any_prefix: bool,
    any_suffix: bool,
    text: String,
}

impl Glob {
    fn new(raw: &str) -> Glob {
        let any_prefix = raw.starts_with('*');
        let rest = raw.strip_prefix('*').unwrap_or(raw);
        let any_suffix = rest.ends_with('*');
        let text = rest.strip_suffix('*').unwrap_or(rest).to_owned();
        Glob {
            any_prefix,
            any_suffix,
            text,
        }
    }

    fn is_wild(&self) -> bool {
        self.any_prefix || self.any_suffix
    }

    fn matches(&self, value: &str) -> bool {
        match (self.any_prefix, self.any_suffix) {
            (false, false) => value == self.text,
            (true, false) => value.ends_with(&self.text),
            (false, true) => value.starts_with(&self.text),
            (true, true) => value.contains(&self.text),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Literal {
    Text(Glob),
    /// A number as written (for comparing with a non-numeric string) and its value.
    Number {
        text: String,
        value: f64,
    },
    Regex(Regex),
}

/// A comparison: operator and literal, already checked to fit each other.
#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    op: Op,
    literal: Literal,
}

/// Characters a bare (unquoted) value may hold. AWS asks for quotes around anything beyond
/// letters, digits and `_`, yet its own examples use bare `123.123.*`, `4*` and `*.html*`, so
/// the punctuation those need is accepted too; `@`, `$`, `\` and other symbols need quotes.
fn bare_value_char(c: char) -> bool {
    c.is_alphanumeric() || "_-+.*:/".contains(c)
}

/// Where a bare value ends: whitespace or the punctuation that closes a condition.
fn ends_bare_value(c: char) -> bool {
    c.is_whitespace() || "(){}[],&|\"%".contains(c)
}

impl Comparison {
    /// Reads the literal after `op`; `regexes` counts `%regex%` values for AWS's quota.
    pub(crate) fn read(
        op: Op,
        cursor: &mut Cursor<'_>,
        regexes: &mut usize,
    ) -> Result<Comparison, PatternError> {
        cursor.skip_ws();
        let start = cursor.pos();
        let literal = match cursor.peek() {
            Some('"') => Literal::Text(Glob::new(&cursor.quoted()?)),
            Some('%') => {
                let (body, body_start) = cursor.regex_body()?;
                *regexes += 1;
                Literal::Regex(super::regex::compile(body, body_start, cursor)?)
            }
            _ => {
                let raw = cursor.take_while(|c| !ends_bare_value(c));
                if raw.is_empty() {
                    return Err(cursor.unexpected("a value"));
                }
                if !raw.chars().all(bare_value_char) {
                    let value = raw.to_owned();
                    return Err(cursor.error_at(start, ErrorKind::UnquotedValue { value }));
                }
                match parse_number(raw) {
                    Some(value) => Literal::Number {
                        text: raw.to_owned(),
                        value,
                    },
                    None => Literal::Text(Glob::new(raw)),
                }
            }
        };
        let fits = match &literal {
            Literal::Number { .. } => true,
            Literal::Text(glob) if !op.is_equality() && !glob.is_wild() => {
                let value = glob.text.clone();
                return Err(cursor.error_at(start, ErrorKind::NotANumber { value }));
            }
            Literal::Text(_) | Literal::Regex(_) => op.is_equality(),
        };
        if !fits {
            let operator = op.symbol();
            return Err(cursor.error_at(start, ErrorKind::OperatorNeedsEquality { operator }));
        }
        Ok(Comparison { op, literal })
    }

    /// Compares a string value (a JSON string or a delimited field). A numeric literal compares
    /// numerically when the value is a number, else as text for `=`/`!=` and not at all for
    /// ordering.
    pub(crate) fn test_str(&self, value: &str) -> bool {
        match &self.literal {
            Literal::Text(glob) => glob.matches(value) == (self.op == Op::Eq),
            Literal::Regex(regex) => regex.is_match(value) == (self.op == Op::Eq),
            Literal::Number {
                text,
                value: wanted,
            } => match parse_number(value) {
                Some(found) => self.test_numbers(found, *wanted),
                None if self.op.is_equality() => (value == text) == (self.op == Op::Eq),
                None => false,
            },
        }
    }

    /// Compares a JSON number, given as written in the log event and as a value.
    pub(crate) fn test_number(&self, raw: &str, found: f64) -> bool {
        match &self.literal {
            Literal::Number { value: wanted, .. } => self.test_numbers(found, *wanted),
            Literal::Text(_) | Literal::Regex(_) => self.test_str(raw),
        }
    }

    fn test_numbers(&self, found: f64, wanted: f64) -> bool {
        found
            .partial_cmp(&wanted)
            .is_some_and(|ordering| self.op.holds(ordering))
    }
}

/// Parses AWS's number syntax: optional sign, digits with an optional fraction, optional
/// exponent. Stricter than `f64::from_str`, which would also take `inf` and `NaN`.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let whole = digits(&mut i);
    let fraction = if b.get(i) == Some(&b'.') {
        i += 1;
        digits(&mut i)
    } else {
        false
    };
    if !whole && !fraction {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse().ok().filter(|v: &f64| v.is_finite())
}
