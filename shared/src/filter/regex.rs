//! AWS's restricted regex dialect for `%regex%` filter patterns and values.
//!
//! AWS accepts only letters, digits, the symbols `: _ # = @ / ; , -`, space, and the operators
//! `^ $ ? [ ] { } | \ * + .`; parentheses (subpatterns) and multi-byte characters are refused.
//! The escapes are `\d \D \s \S \w \W`, `\xhh` and a backslash before an operator or symbol.
//! We check a body against that dialect and translate it into the `regex` crate's syntax
//! (ASCII classes for `\d \s \w`, `{0,n}` for `{,n}`), so a pattern AWS would refuse is refused
//! here too and one it accepts means the same thing.

use regex::{Regex, RegexBuilder};

use super::error::{ErrorKind, PatternError};
use super::lexer::Cursor;

/// How much memory one compiled regex may take; a pattern is at most 1,024 characters, so this
/// only stops counted repetitions such as `a{1000}{1000}` from exhausting memory.
const SIZE_LIMIT: usize = 1 << 20;

const SYMBOLS: &str = ":_#=@/;,-";
const OPERATORS: &str = "^$?[]{}|\\*+.";
const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
/// The whitespace AWS documents for `\s` (tab, newline, space) plus the other ASCII ones.
const SPACE: &str = "\\t\\n\\x0B\\x0C\\r ";

/// Compiles the body of a `%regex%` that starts at byte `body_start` of the pattern.
pub(crate) fn compile(
    body: &str,
    body_start: usize,
    cursor: &Cursor<'_>,
) -> Result<Regex, PatternError> {
    let fail = |offset: usize, reason: String| {
        cursor.error_at(body_start + offset, ErrorKind::Regex { reason })
    };
    if body.is_empty() {
        return Err(fail(0, "the regex is empty".to_owned()));
    }
    let translated = translate(body).map_err(|(offset, reason)| fail(offset, reason))?;
    RegexBuilder::new(&translated)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| fail(0, compile_reason(&e)))
}

/// The first line of the `regex` crate's message, which names the problem without the
/// multi-line caret diagram (whose offsets refer to our translation, not the pattern).
fn compile_reason(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find(|line| line.starts_with("error:"))
            .map_or_else(
                || text.clone(),
                |line| line.trim_start_matches("error: ").to_owned(),
            ),
        regex::Error::CompiledTooBig(_) => "the regex is too large".to_owned(),
        other => other.to_string(),
    }
}

type Fail = (usize, String);

fn translate(body: &str) -> Result<String, Fail> {
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    let mut out = String::with_capacity(body.len() + 8);
    let mut i = 0;
    while let Some(&(at, c)) = chars.get(i) {
        i += 1;
        check_char(at, c)?;
        match c {
            '(' | ')' => {
                return Err((
                    at,
                    "'(' and ')' are not supported; a regex cannot group a subpattern".to_owned(),
                ));
            }
            '\\' => {
                out.push_str(&escape(&chars, &mut i, at, false)?);
            }
            '[' => i = class(&chars, i, at, &mut out)?,
            ']' => out.push_str("\\]"),
            '{' => i = counted(&chars, i, at, &mut out)?,
            '}' => return Err((at, "'}' without a matching '{'".to_owned())),
            '^' | '$' | '?' | '*' | '+' | '.' | '|' => out.push(c),
            ' ' => out.push(' '),
            c if c.is_ascii_alphanumeric() => out.push(c),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    Ok(out)
}

/// Refuses anything outside the documented character set.
fn check_char(at: usize, c: char) -> Result<(), Fail> {
    if !c.is_ascii() {
        return Err((
            at,
            format!("'{c}' is a multi-byte character, which is not supported"),
        ));
    }
    if c.is_ascii_alphanumeric() || c == ' ' || SYMBOLS.contains(c) || OPERATORS.contains(c) {
        return Ok(());
    }
    if c == '(' || c == ')' {
        return Ok(()); // refused with a specific message by the caller
    }
    Err((
        at,
        format!(
            "'{}' is not a supported character (use \\xhh for other symbols)",
            c.escape_default()
        ),
    ))
}

/// Translates the escape whose backslash was at `at`; `chars[*i]` is the escaped character.
/// Returns its translation (bare class contents when `in_class`).
fn escape(
    chars: &[(usize, char)],
    i: &mut usize,
    at: usize,
    in_class: bool,
) -> Result<String, Fail> {
    let Some(&(_, c)) = chars.get(*i) else {
        return Err((at, "a trailing '\\' escapes nothing".to_owned()));
    };
    *i += 1;
    let shorthand = |set: &str, negated: bool| -> Result<String, Fail> {
        match (in_class, negated) {
            (false, false) => Ok(format!("[{set}]")),
            (false, true) => Ok(format!("[^{set}]")),
            (true, false) => Ok(set.to_owned()),
            (true, true) => Err((
                at,
                format!("'\\{c}' is not supported inside a character class"),
            )),
        }
    };
    let text = match c {
        'd' => shorthand(DIGIT, false)?,
        'D' => shorthand(DIGIT, true)?,
        'w' => shorthand(WORD, false)?,
        'W' => shorthand(WORD, true)?,
        's' => shorthand(SPACE, false)?,
        'S' => shorthand(SPACE, true)?,
        'x' => {
            let hex: String = chars.iter().skip(*i).take(2).map(|&(_, h)| h).collect();
            let value = (hex.len() == 2 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                .then(|| u8::from_str_radix(&hex, 16).ok())
                .flatten()
                .filter(u8::is_ascii)
                .ok_or_else(|| {
                    (
                        at,
                        "'\\x' must be followed by two hex digits naming an ASCII character"
                            .to_owned(),
                    )
                })?;
            *i += 2;
            format!("\\x{{{value:02X}}}")
        }
        c if SYMBOLS.contains(c) || OPERATORS.contains(c) => {
            regex::escape(c.encode_utf8(&mut [0; 4]))
        }
        c => {
            return Err((
                at,
                format!("'\\{}' is not a supported escape", c.escape_default()),
            ));
        }
    };
    Ok(text)
}

/// Translates a character class whose `[` was at `open`; returns the index after its `]`.
fn class(
    chars: &[(usize, char)],
    mut i: usize,
    open: usize,
    out: &mut String,
) -> Result<usize, Fail> {
    out.push('[');
    if chars.get(i).is_some_and(|&(_, c)| c == '^') {
        out.push('^');
        i += 1;
    }
    let mut items = 0usize;
    loop {
        let Some(&(at, c)) = chars.get(i) else {
            return Err((open, "'[' without a matching ']'".to_owned()));
        };
        i += 1;
        check_char(at, c)?;
        match c {
            ']' if items > 0 => {
                out.push(']');
                return Ok(i);
            }
            '(' | ')' => {
                return Err((
                    at,
                    "'(' and ')' are not supported; use \\x28 and \\x29".to_owned(),
                ));
            }
            '\\' => {
                out.push_str(&escape(chars, &mut i, at, true)?);
            }
            // A range between two items stays a range; any other '-' is a literal.
            '-' if items > 0 && chars.get(i).is_some_and(|&(_, n)| n != ']') => out.push('-'),
            c if c.is_ascii_alphanumeric() || c == ' ' => out.push(c),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
        items += 1;
    }
}

/// Translates a counted repetition whose `{` was at `open`: `{m}`, `{m,}`, `{,n}`, `{m,n}`,
/// spaces allowed, as AWS documents (either bound may be omitted).
fn counted(
    chars: &[(usize, char)],
    mut i: usize,
    open: usize,
    out: &mut String,
) -> Result<usize, Fail> {
    let mut inner = String::new();
    loop {
        let Some(&(_, c)) = chars.get(i) else {
            return Err((open, "'{' without a matching '}'".to_owned()));
        };
        i += 1;
        if c == '}' {
            break;
        }
        inner.push(c);
    }
    let bad = || {
        (
            open,
            format!("'{{{inner}}}' is not a repetition; use {{m,n}} with m or n optional"),
        )
    };
    let bound = |s: &str| -> Result<Option<u32>, Fail> {
        let s = s.trim();
        if s.is_empty() {
            Ok(None)
        } else if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map(Some).map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let text = match inner.split_once(',') {
        None => match bound(&inner)? {
            Some(m) => format!("{{{m}}}"),
            None => return Err(bad()),
        },
        Some((m, n)) => match (bound(m)?, bound(n)?) {
            (Some(m), Some(n)) => format!("{{{m},{n}}}"),
            (Some(m), None) => format!("{{{m},}}"),
            (None, Some(n)) => format!("{{0,{n}}}"),
            (None, None) => return Err(bad()),
        },
    };
    out.push_str(&text);
    Ok(i)
}
