//! JSON patterns: `{ $.a.b = "x" && ($.n > 5 || $.c IS NULL) }`.
//!
//! AWS's rules: a selector (`$.a.b`, `$.a[0]`, `$.['a.b']`, `$.a[*]`, `$.*`, at most one
//! wildcard per selector and three per pattern) must land on a value node, a string, number,
//! boolean or null; landing on an object or array, or on nothing, satisfies no comparison, not
//! even `!=`; `NOT EXISTS` holds only when nothing is there; with a wildcard the condition holds
//! when any selected value satisfies it. `&&` binds tighter than `||`; parentheses group.
//!
//! The event is not turned into a tree: it is validated and indexed once per message
//! ([`Document`], shared by every pattern tested on it through [`super::Message`]), and each
//! condition walks its selector through that index, decoding only the strings it compares that
//! hold escapes. An event that is not JSON matches no JSON pattern.

mod program;
#[cfg(test)]
pub(crate) mod reference;

use super::document::Document;
use super::error::{ErrorKind, PatternError};
use super::lexer::Cursor;
use super::value::{Comparison, Op};

use program::Program;
pub(crate) use program::extract;

/// How deep parentheses may nest; real patterns use two or three levels.
pub(crate) const MAX_DEPTH: usize = 32;
/// AWS's quota: one wildcard per property selector…
pub(crate) const MAX_WILDCARDS_PER_SELECTOR: usize = 1;
/// …and three per pattern.
pub(crate) const MAX_WILDCARDS_PER_PATTERN: usize = 3;

/// One step of a property selector; equal steps select the same member, however written
/// (`$.a` and `$.['a']`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SelectorStep {
    Key(String),
    Index(usize),
    /// `[*]` or `.*`: every element of an array or every member of an object.
    Any,
}

#[derive(Debug, Clone)]
enum Test {
    Compare(Comparison),
    IsTrue,
    IsFalse,
    IsNull,
    NotExists,
}

#[derive(Debug, Clone)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Condition {
        selector: Vec<SelectorStep>,
        test: Test,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct JsonPattern {
    /// The conditions as written, which say which selectors the pattern tests.
    expr: Expr,
    /// The same conditions arranged for evaluation.
    program: Program,
}

struct Parser<'a> {
    cursor: Cursor<'a>,
    regexes: usize,
    wildcards: usize,
}

impl JsonPattern {
    /// Parses a pattern that starts with `{`; returns it and how many regexes it holds.
    pub(crate) fn parse(pattern: &str) -> Result<(JsonPattern, usize), PatternError> {
        let mut p = Parser {
            cursor: Cursor::new(pattern),
            regexes: 0,
            wildcards: 0,
        };
        p.cursor.skip_ws();
        let open = p.cursor.pos();
        if !p.cursor.eat("{") {
            return Err(p.cursor.unexpected("'{'"));
        }
        let expr = p.or(0)?;
        p.cursor.skip_ws();
        if !p.cursor.eat("}") {
            if p.cursor.at_end() {
                let what = "JSON pattern (missing '}')";
                return Err(p.cursor.error_at(open, ErrorKind::Unterminated { what }));
            }
            return Err(p.cursor.unexpected("'&&', '||' or '}'"));
        }
        p.cursor.skip_ws();
        if !p.cursor.at_end() {
            return Err(p.cursor.unexpected("end of pattern after '}'"));
        }
        let program = Program::compile(&expr);
        Ok((JsonPattern { expr, program }, p.regexes))
    }

    pub(crate) fn matches(&self, document: &Document<'_>) -> bool {
        self.program.eval(document)
    }

    /// Whether some condition of the pattern tests exactly this selector. AWS publishes a JSON
    /// field as a metric value or dimension only when the pattern itself matched on it.
    pub(crate) fn tests_selector(&self, steps: &[SelectorStep]) -> bool {
        fn walk(expr: &Expr, steps: &[SelectorStep]) -> bool {
            match expr {
                Expr::Or(exprs) | Expr::And(exprs) => exprs.iter().any(|e| walk(e, steps)),
                Expr::Condition { selector, .. } => selector == steps,
            }
        }
        walk(&self.expr, steps)
    }
}

/// A property selector on its own (`$.a.b`), as a metric transformation names the field whose
/// value it publishes; same grammar and limits as inside a pattern.
pub(crate) fn parse_selector(text: &str) -> Result<Vec<SelectorStep>, PatternError> {
    let mut p = Parser {
        cursor: Cursor::new(text),
        regexes: 0,
        wildcards: 0,
    };
    let steps = p.selector()?;
    if !p.cursor.at_end() {
        return Err(p.cursor.unexpected("end of the property selector"));
    }
    Ok(steps)
}

impl Parser<'_> {
    fn or(&mut self, depth: usize) -> Result<Expr, PatternError> {
        let mut terms = vec![self.and(depth)?];
        loop {
            self.cursor.skip_ws();
            if !self.cursor.eat("||") {
                break;
            }
            terms.push(self.and(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, PatternError> {
        let mut factors = vec![self.primary(depth)?];
        loop {
            self.cursor.skip_ws();
            if !self.cursor.eat("&&") {
                break;
            }
            factors.push(self.primary(depth)?);
        }
        Ok(if factors.len() == 1 {
            factors.remove(0)
        } else {
            Expr::And(factors)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, PatternError> {
        self.cursor.skip_ws();
        if self.cursor.peek() == Some('(') {
            if depth >= MAX_DEPTH {
                return Err(self.cursor.error(ErrorKind::TooDeep { limit: MAX_DEPTH }));
            }
            self.cursor.bump();
            let inner = self.or(depth + 1)?;
            self.cursor.skip_ws();
            if !self.cursor.eat(")") {
                return Err(self.cursor.unexpected("')'"));
            }
            return Ok(inner);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, PatternError> {
        let selector = self.selector()?;
        self.cursor.skip_ws();
        let keyword_at = self.cursor.pos();
        let keyword = self
            .cursor
            .take_while(|c| c.is_ascii_alphabetic())
            .to_ascii_uppercase();
        let test = match keyword.as_str() {
            "IS" => {
                self.cursor.skip_ws();
                match self
                    .cursor
                    .take_while(|c| c.is_ascii_alphabetic())
                    .to_ascii_uppercase()
                    .as_str()
                {
                    "TRUE" => Test::IsTrue,
                    "FALSE" => Test::IsFalse,
                    "NULL" => Test::IsNull,
                    _ => {
                        return Err(
                            self.unexpected_word(keyword_at, "TRUE, FALSE or NULL after IS")
                        );
                    }
                }
            }
            "NOT" => {
                self.cursor.skip_ws();
                if !self
                    .cursor
                    .take_while(|c| c.is_ascii_alphabetic())
                    .eq_ignore_ascii_case("EXISTS")
                {
                    return Err(self.unexpected_word(keyword_at, "EXISTS after NOT"));
                }
                Test::NotExists
            }
            "" => {
                let Some(op) = Op::read(&mut self.cursor) else {
                    return Err(self
                        .cursor
                        .unexpected("an operator (= != < > <= >=), IS or NOT EXISTS"));
                };
                Test::Compare(Comparison::read(op, &mut self.cursor, &mut self.regexes)?)
            }
            _ => {
                return Err(self.unexpected_word(
                    keyword_at,
                    "an operator (= != < > <= >=), IS or NOT EXISTS",
                ));
            }
        };
        Ok(Expr::Condition { selector, test })
    }

    fn unexpected_word(&self, at: usize, expected: &'static str) -> PatternError {
        let found = match self.cursor.word_at(at) {
            "" => "end of pattern".to_owned(),
            word => format!("'{word}'"),
        };
        self.cursor
            .error_at(at, ErrorKind::Unexpected { found, expected })
    }

    fn selector(&mut self) -> Result<Vec<SelectorStep>, PatternError> {
        let start = self.cursor.pos();
        if !self.cursor.eat("$") {
            return Err(self
                .cursor
                .unexpected("a property selector starting with '$.'"));
        }
        let mut steps = Vec::new();
        let mut wildcards = 0;
        loop {
            if self.cursor.eat(".") {
                if self.cursor.eat("*") {
                    steps.push(SelectorStep::Any);
                } else if self.cursor.peek() == Some('[') {
                    steps.push(self.bracket()?);
                } else {
                    let name = self
                        .cursor
                        .take_while(|c| c.is_alphanumeric() || c == '_' || c == '-');
                    if name.is_empty() {
                        return Err(self.cursor.unexpected("a property name after '.'"));
                    }
                    steps.push(SelectorStep::Key(name.to_owned()));
                }
            } else if self.cursor.peek() == Some('[') {
                steps.push(self.bracket()?);
            } else {
                break;
            }
            if matches!(steps.last(), Some(SelectorStep::Any)) {
                wildcards += 1;
                self.wildcards += 1;
                if wildcards > MAX_WILDCARDS_PER_SELECTOR {
                    let (scope, limit) = ("a property selector", MAX_WILDCARDS_PER_SELECTOR);
                    return Err(self
                        .cursor
                        .error_at(start, ErrorKind::TooManyWildcards { scope, limit }));
                }
                if self.wildcards > MAX_WILDCARDS_PER_PATTERN {
                    let (scope, limit) = ("a filter pattern", MAX_WILDCARDS_PER_PATTERN);
                    return Err(self
                        .cursor
                        .error_at(start, ErrorKind::TooManyWildcards { scope, limit }));
                }
            }
        }
        if steps.is_empty() {
            return Err(self.cursor.unexpected("'.' or '[' after '$'"));
        }
        Ok(steps)
    }

    /// `[0]`, `[*]`, `['key']` or `["key"]`, with the cursor on `[`.
    fn bracket(&mut self) -> Result<SelectorStep, PatternError> {
        self.cursor.bump();
        let step = if self.cursor.eat("*") {
            SelectorStep::Any
        } else if self.cursor.eat("'") {
            let key = self.cursor.take_while(|c| c != '\'');
            if !self.cursor.eat("'") {
                return Err(self.cursor.error(ErrorKind::Unterminated {
                    what: "quoted property name",
                }));
            }
            SelectorStep::Key(key.to_owned())
        } else if self.cursor.peek() == Some('"') {
            SelectorStep::Key(self.cursor.quoted()?)
        } else {
            let digits = self.cursor.take_while(|c| c.is_ascii_digit());
            match digits.parse() {
                Ok(index) => SelectorStep::Index(index),
                Err(_) => {
                    return Err(self
                        .cursor
                        .unexpected("an array index, '*' or a quoted property name"));
                }
            }
        };
        if !self.cursor.eat("]") {
            return Err(self.cursor.unexpected("']'"));
        }
        Ok(step)
    }
}
