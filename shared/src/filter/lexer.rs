//! A cursor over the pattern text shared by every pattern kind's parser: it tracks the byte
//! position for slicing and turns it into a character position when reporting an error, and it
//! scans the two lexemes every kind shares, `"quoted strings"` and `%regex%` bodies.

use super::error::{ErrorKind, PatternError};

pub(crate) struct Cursor<'a> {
    src: &'a str,
    /// Byte offset of the next unread character; always on a char boundary.
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Cursor { src, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// Consumes `token` if the input continues with it.
    pub(crate) fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Consumes the longest run of characters satisfying `keep` and returns it.
    pub(crate) fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// The text from byte offset `at` up to the next whitespace, to quote in an error.
    pub(crate) fn word_at(&self, at: usize) -> &'a str {
        let tail = self.src.get(at..).unwrap_or("");
        tail.split(char::is_whitespace).next().unwrap_or("")
    }

    /// An error at the cursor.
    pub(crate) fn error(&self, kind: ErrorKind) -> PatternError {
        self.error_at(self.pos, kind)
    }

    /// An error at byte offset `at`, reported as a character offset.
    pub(crate) fn error_at(&self, at: usize, kind: ErrorKind) -> PatternError {
        let prefix = self.src.get(..at).unwrap_or(self.src);
        PatternError {
            position: prefix.chars().count(),
            kind,
        }
    }

    /// An "unexpected" error describing what is at the cursor.
    pub(crate) fn unexpected(&self, expected: &'static str) -> PatternError {
        let found = match self.peek() {
            None => "end of pattern".to_owned(),
            Some(c) => format!("'{c}'"),
        };
        self.error(ErrorKind::Unexpected { found, expected })
    }

    /// Reads a double-quoted string starting at the cursor (which must be on `"`). `\"` and
    /// `\\` are the escapes; any other backslash is kept as written, so Windows paths and regex
    /// habits survive quoting.
    pub(crate) fn quoted(&mut self) -> Result<String, PatternError> {
        let start = self.pos;
        if !self.eat("\"") {
            return Err(self.unexpected("'\"'"));
        }
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(self.error_at(
                        start,
                        ErrorKind::Unterminated {
                            what: "quoted string",
                        },
                    ));
                }
                Some('"') => return Ok(out),
                Some('\\') => match self.peek() {
                    Some(c @ ('"' | '\\')) => {
                        self.bump();
                        out.push(c);
                    }
                    _ => out.push('\\'),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// Reads a `%regex%` starting at the cursor (which must be on `%`) and returns its body and
    /// the byte offset where the body starts. A backslash always takes the next character with
    /// it, so `\%` never closes the regex (the dialect check then refuses it).
    pub(crate) fn regex_body(&mut self) -> Result<(&'a str, usize), PatternError> {
        let start = self.pos;
        if !self.eat("%") {
            return Err(self.unexpected("'%'"));
        }
        let body_start = self.pos;
        loop {
            let before = self.pos;
            match self.bump() {
                None => return Err(self.error_at(start, ErrorKind::Unterminated { what: "regex" })),
                Some('%') => {
                    return Ok((self.src.get(body_start..before).unwrap_or(""), body_start));
                }
                Some('\\') => {
                    self.bump();
                }
                Some(_) => {}
            }
        }
    }
}
