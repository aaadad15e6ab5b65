//! A JSON pattern compiled for evaluation against a [`Document`].
//!
//! Metric filters tend to test one selector many times: CIS's IAM-policy filter is sixteen
//! `$.eventName = …` conditions joined by `||`. A selector without a wildcard lands on one
//! value or none, so the conditions an `||` (or an `&&`) joins on the same such selector are
//! compiled into one [`Program::Field`]: the value is looked up once and each test is a string
//! or number comparison. Conditions are pure, so grouping them, wherever they sit among their
//! siblings, changes no answer; only the evaluation order, and so the cost, changes.

use std::borrow::Cow;

use super::super::document::{Document, NodeId, NodeKind};
use super::{Expr, SelectorStep, Test};

#[derive(Debug, Clone)]
pub(super) enum Program {
    Or(Vec<Program>),
    And(Vec<Program>),
    /// Tests on the one value a wildcard-free selector lands on, which must all hold (`&&`)
    /// or any hold (`||`).
    Field {
        path: Vec<SelectorStep>,
        tests: Vec<Test>,
        all: bool,
    },
    /// A condition whose selector has a wildcard: it holds when any value the selector reaches
    /// satisfies the test (`NOT EXISTS`: when it reaches none).
    Wildcard {
        selector: Vec<SelectorStep>,
        test: Test,
    },
}

impl Program {
    pub(super) fn compile(expr: &Expr) -> Program {
        match expr {
            Expr::Or(terms) => group(terms, false),
            Expr::And(factors) => group(factors, true),
            Expr::Condition { selector, test } if has_wildcard(selector) => Program::Wildcard {
                selector: selector.clone(),
                test: test.clone(),
            },
            Expr::Condition { selector, test } => Program::Field {
                path: selector.clone(),
                tests: vec![test.clone()],
                all: true,
            },
        }
    }

    pub(super) fn eval(&self, document: &Document<'_>) -> bool {
        match self {
            Program::Or(terms) => terms.iter().any(|p| p.eval(document)),
            Program::And(factors) => factors.iter().all(|p| p.eval(document)),
            Program::Field { path, tests, all } => {
                let value = follow(document, path).map(|leaf| SelectedValue::read(document, leaf));
                let holds = |test: &Test| match (test, &value) {
                    (Test::NotExists, value) => value.is_none(),
                    (test, Some(value)) => value.satisfies(test),
                    (_, None) => false,
                };
                if *all {
                    tests.iter().all(holds)
                } else {
                    tests.iter().any(holds)
                }
            }
            Program::Wildcard {
                selector,
                test: Test::NotExists,
            } => !select(document, Document::ROOT, selector, &mut |_| true),
            Program::Wildcard { selector, test } => {
                select(document, Document::ROOT, selector, &mut |leaf| {
                    SelectedValue::read(document, leaf).satisfies(test)
                })
            }
        }
    }
}

fn has_wildcard(selector: &[SelectorStep]) -> bool {
    selector
        .iter()
        .any(|step| matches!(step, SelectorStep::Any))
}

/// `||` (or `&&`, when `all`) over `children`, nested groups of the same operator flattened and
/// wildcard-free conditions gathered per selector.
fn group(children: &[Expr], all: bool) -> Program {
    let mut programs: Vec<Program> = Vec::new();
    let mut pending: Vec<&Expr> = children.iter().rev().collect();
    while let Some(child) = pending.pop() {
        match child {
            Expr::Or(nested) if !all => pending.extend(nested.iter().rev()),
            Expr::And(nested) if all => pending.extend(nested.iter().rev()),
            Expr::Condition { selector, test } if !has_wildcard(selector) => {
                let same_path = programs.iter_mut().find_map(|program| match program {
                    Program::Field { path, tests, .. } if path == selector => Some(tests),
                    _ => None,
                });
                match same_path {
                    Some(tests) => tests.push(test.clone()),
                    None => programs.push(Program::Field {
                        path: selector.clone(),
                        tests: vec![test.clone()],
                        all,
                    }),
                }
            }
            other => programs.push(Program::compile(other)),
        }
    }
    match programs.len() {
        1 => programs.pop().unwrap_or(Program::And(Vec::new())),
        _ if all => Program::And(programs),
        _ => Program::Or(programs),
    }
}

/// The value a wildcard-free selector lands on.
fn follow(document: &Document<'_>, path: &[SelectorStep]) -> Option<NodeId> {
    path.iter()
        .try_fold(Document::ROOT, |node, step| match step {
            SelectorStep::Key(key) => document.member(node, key),
            SelectorStep::Index(index) => document.element(node, *index),
            // Compiled as a `Program::Wildcard`, never followed here.
            SelectorStep::Any => None,
        })
}

/// Offers `visit` each value the selector reaches from `node`, in document order, until it
/// accepts one; whether it did. A wildcard recurses once per member, and a selector holds at
/// most one.
fn select(
    document: &Document<'_>,
    mut node: NodeId,
    steps: &[SelectorStep],
    visit: &mut dyn FnMut(NodeId) -> bool,
) -> bool {
    for (at, step) in steps.iter().enumerate() {
        let next = match step {
            SelectorStep::Key(key) => document.member(node, key),
            SelectorStep::Index(index) => document.element(node, *index),
            SelectorStep::Any => {
                let rest = steps.get(at + 1..).unwrap_or_default();
                return document.readable(node)
                    && document
                        .children(node)
                        .any(|child| select(document, child, rest, visit));
            }
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    visit(node)
}

/// The first value node the selector reaches in the event, as text: a string decoded, a
/// number, boolean or null as written. Objects and arrays give nothing, as they satisfy no
/// comparison either.
pub(crate) fn extract<'a>(steps: &[SelectorStep], document: &Document<'a>) -> Option<Cow<'a, str>> {
    let mut found = None;
    select(document, Document::ROOT, steps, &mut |leaf| {
        found = match document.kind(leaf) {
            Some(NodeKind::String | NodeKind::EscapedString) => document.string(leaf),
            Some(NodeKind::Object | NodeKind::Array) | None => None,
            Some(_) => Some(Cow::Borrowed(document.raw(leaf))),
        };
        found.is_some()
    });
    found
}

/// A selected value, read once however many tests compare it.
enum SelectedValue<'a> {
    /// Decoded; `None` when it does not decode, so that no comparison holds.
    String(Option<Cow<'a, str>>),
    Number(&'a str),
    True,
    False,
    Null,
    Container,
}

impl<'a> SelectedValue<'a> {
    fn read(document: &Document<'a>, leaf: NodeId) -> SelectedValue<'a> {
        match document.kind(leaf) {
            Some(NodeKind::String | NodeKind::EscapedString) => {
                SelectedValue::String(document.string(leaf))
            }
            Some(NodeKind::Number) => SelectedValue::Number(document.raw(leaf)),
            Some(NodeKind::True) => SelectedValue::True,
            Some(NodeKind::False) => SelectedValue::False,
            Some(NodeKind::Null) => SelectedValue::Null,
            Some(NodeKind::Object | NodeKind::Array) | None => SelectedValue::Container,
        }
    }

    /// Whether the value satisfies a test; objects and arrays satisfy none.
    fn satisfies(&self, test: &Test) -> bool {
        match (test, self) {
            (Test::IsTrue, value) => matches!(value, SelectedValue::True),
            (Test::IsFalse, value) => matches!(value, SelectedValue::False),
            (Test::IsNull, value) => matches!(value, SelectedValue::Null),
            (Test::Compare(cmp), SelectedValue::String(text)) => {
                text.as_deref().is_some_and(|text| cmp.test_str(text))
            }
            (Test::Compare(cmp), SelectedValue::Number(raw)) => match raw.parse::<f64>() {
                Ok(number) => cmp.test_number(raw, number),
                Err(_) => cmp.test_str(raw),
            },
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{JsonPattern, reference};
    use super::*;

    fn compile(pattern: &str) -> JsonPattern {
        JsonPattern::parse(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .0
    }

    /// The shape of a program: `F(path, tests)` per field, `W` per wildcard condition.
    fn shape(program: &Program) -> String {
        let list = |programs: &[Program], joint: &str| {
            let parts: Vec<String> = programs.iter().map(shape).collect();
            format!("({})", parts.join(joint))
        };
        match program {
            Program::Or(terms) => list(terms, " || "),
            Program::And(factors) => list(factors, " && "),
            Program::Field { path, tests, all } => {
                let joint = if *all { "all" } else { "any" };
                format!("F({path:?} {joint} {})", tests.len())
            }
            Program::Wildcard { .. } => "W".to_owned(),
        }
    }

    #[test]
    fn conditions_on_one_selector_share_a_lookup() {
        let cases = [
            (
                "{($.eventName=A)||($.eventName=B)||($.eventName=C)}",
                r#"F([Key("eventName")] any 3)"#,
            ),
            (
                "{($.eventSource=kms) && (($.eventName=A)||($.eventName=B))}",
                r#"(F([Key("eventSource")] all 1) && F([Key("eventName")] any 2))"#,
            ),
            (
                "{ $.a = 1 || ($.b = 2 || $.a = 3) || $.c[*] = 4 }",
                r#"(F([Key("a")] any 2) || F([Key("b")] any 1) || W)"#,
            ),
            (
                "{ $.a = 1 && ($.b = 2 && $.a NOT EXISTS) && $.a[*] = 1 && $.a[*] = 2 }",
                r#"(F([Key("a")] all 2) && F([Key("b")] all 1) && W && W)"#,
            ),
        ];
        for (pattern, expected) in cases {
            assert_eq!(shape(&compile(pattern).program), expected, "{pattern}");
        }
    }

    #[test]
    fn grouping_answers_as_the_conditions_written() {
        let patterns = [
            "{ $.a = 1 && $.a = 2 }",
            "{ $.a = 1 || $.a = 2 }",
            "{ $.a NOT EXISTS || $.a = 1 }",
            "{ $.a NOT EXISTS && $.a != 1 }",
            "{ $.a[*] = 1 && $.a[*] = 2 }",
            "{ $.a[*] = 1 || $.a[*] = 2 || $.a[0] = 3 }",
            "{ ($.a = 1 || $.b = 2) || ($.a = 3 && $.b = 2) }",
            "{ $.a = 1 && ($.b = 2 && ($.a = 1 && $.c NOT EXISTS)) }",
            "{ $.a IS NULL || $.a IS TRUE || $.a = x* || $.a > 1 }",
            "{ $.a.b = 1 || $.a.b != 1 || $.a.b NOT EXISTS }",
            "{ $.* = 1 || $.* NOT EXISTS }",
            "{ $.a[*] NOT EXISTS && $.a[*] = 1 }",
            r#"{ $.a = "\ud800" || $.a != "x" }"#,
        ];
        let events = [
            r#"{"a":1}"#,
            r#"{"a":2}"#,
            r#"{"a":[1,2]}"#,
            r#"{"a":[3]}"#,
            r#"{"b":2}"#,
            r#"{"a":null}"#,
            r#"{"a":true}"#,
            r#"{"a":"xy"}"#,
            r#"{"a":{"b":1}}"#,
            r#"{"a":{"b":"1"}}"#,
            "{}",
            "[]",
            r#"{"a":1,"a":3,"b":2}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"c":1,"a":1,"b":2}"#,
        ];
        for pattern in patterns {
            let compiled = compile(pattern);
            for event in events {
                let document = Document::parse(event).unwrap_or_else(|| panic!("{event}"));
                assert_eq!(
                    compiled.matches(&document),
                    reference::matches(&compiled, event),
                    "{pattern} on {event}"
                );
            }
        }
    }
}
