//! Term patterns for unstructured log events: `ERROR`, `"exact phrase"`, `-excluded`,
//! `?optional`.
//!
//! AWS's rules: terms are case-sensitive substrings and all must appear; `-term` must not
//! appear; `?term`s match when any of them appears, but only when the pattern has nothing else:
//! mixed with plain or `-` terms, every `?` term is ignored (so `?ERROR ?ARGUMENTS REQUEST`
//! means `REQUEST`). A bare term may hold only letters, digits and `_`; anything else needs
//! double quotes. A quoted blank (`" "`) matches every event.

use memchr::memmem::Finder;

use super::error::{ErrorKind, PatternError};
use super::lexer::Cursor;

/// One term: a searcher for its text, built once with the pattern (a substring search is the
/// whole cost of matching terms), or `None` for a quoted blank that matches everything.
type Term = Option<Finder<'static>>;

#[derive(Debug, Clone, Default)]
pub(crate) struct Terms {
    required: Vec<Term>,
    excluded: Vec<Term>,
    optional: Vec<Term>,
}

fn found(term: &Term, message: &str) -> bool {
    term.as_ref()
        .is_none_or(|finder| finder.find(message.as_bytes()).is_some())
}

fn searcher(text: &str) -> Finder<'static> {
    Finder::new(text).into_owned()
}

impl Terms {
    pub(crate) fn parse(pattern: &str) -> Result<Terms, PatternError> {
        let mut cursor = Cursor::new(pattern);
        let mut terms = Terms::default();
        loop {
            cursor.skip_ws();
            let Some(first) = cursor.peek() else { break };
            let list = match first {
                '-' => {
                    cursor.bump();
                    // AWS's own example writes `"ERROR" - "Exiting"`, with a space.
                    cursor.skip_ws();
                    &mut terms.excluded
                }
                '?' => {
                    cursor.bump();
                    &mut terms.optional
                }
                _ => &mut terms.required,
            };
            list.push(read_term(&mut cursor)?);
        }
        Ok(terms)
    }

    pub(crate) fn matches(&self, message: &str) -> bool {
        if self.required.is_empty() && self.excluded.is_empty() {
            return self.optional.is_empty() || self.optional.iter().any(|t| found(t, message));
        }
        self.required.iter().all(|t| found(t, message))
            && !self.excluded.iter().any(|t| found(t, message))
    }
}

fn read_term(cursor: &mut Cursor<'_>) -> Result<Term, PatternError> {
    let start = cursor.pos();
    if cursor.peek() == Some('"') {
        let phrase = cursor.quoted()?;
        if cursor.peek().is_some_and(|c| !c.is_whitespace()) {
            return Err(cursor.unexpected("whitespace after a quoted term"));
        }
        return Ok((!phrase.trim().is_empty()).then(|| searcher(&phrase)));
    }
    let word = cursor.take_while(|c| !c.is_whitespace());
    if word.is_empty() {
        return Err(cursor.unexpected("a term"));
    }
    if !word.chars().all(|c| c.is_alphanumeric() || c == '_') {
        let term = word.to_owned();
        return Err(cursor.error_at(start, ErrorKind::UnquotedTerm { term }));
    }
    Ok(Some(searcher(word)))
}
