//! The engine's previous JSON evaluation, kept only as a test oracle: it validated the event as
//! a `serde_json` `&RawValue` and re-read the member lists it walked through with `serde_json`,
//! for every condition. The indexed evaluation must answer exactly as this did.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Expr, JsonPattern, SelectorStep, Test};
use crate::json_key::JsonKey;

pub(crate) fn matches(pattern: &JsonPattern, message: &str) -> bool {
    serde_json::from_str::<&RawValue>(message).is_ok_and(|root| eval(&pattern.expr, root))
}

/// Every selector the pattern's conditions use.
pub(crate) fn selectors(pattern: &JsonPattern) -> Vec<&[SelectorStep]> {
    fn walk<'p>(expr: &'p Expr, out: &mut Vec<&'p [SelectorStep]>) {
        match expr {
            Expr::Or(exprs) | Expr::And(exprs) => exprs.iter().for_each(|e| walk(e, out)),
            Expr::Condition { selector, .. } => out.push(selector),
        }
    }
    let mut out = Vec::new();
    walk(&pattern.expr, &mut out);
    out
}

pub(crate) fn extract(steps: &[SelectorStep], message: &str) -> Option<String> {
    let root = serde_json::from_str::<&RawValue>(message).ok()?;
    let mut leaves = Vec::new();
    select(root, steps, &mut leaves);
    leaves.into_iter().find_map(|leaf| {
        let raw = leaf.get().trim();
        match raw.as_bytes().first() {
            Some(b'"') => serde_json::from_str::<String>(raw).ok(),
            Some(b'{' | b'[') | None => None,
            Some(_) => Some(raw.to_owned()),
        }
    })
}

fn eval(expr: &Expr, root: &RawValue) -> bool {
    match expr {
        Expr::Or(terms) => terms.iter().any(|e| eval(e, root)),
        Expr::And(factors) => factors.iter().all(|e| eval(e, root)),
        Expr::Condition { selector, test } => {
            let mut leaves = Vec::new();
            select(root, selector, &mut leaves);
            match test {
                Test::NotExists => leaves.is_empty(),
                test => leaves.iter().any(|leaf| holds(test, leaf)),
            }
        }
    }
}

fn select<'a>(node: &'a RawValue, steps: &[SelectorStep], out: &mut Vec<&'a RawValue>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(node);
        return;
    };
    match (step, node.get().trim_start().as_bytes().first()) {
        (SelectorStep::Key(key), Some(b'{')) => {
            let members = serde_json::from_str::<Members<'a>>(node.get())
                .map(|m| m.0)
                .unwrap_or_default();
            if let Some((_, value)) = members.iter().rev().find(|(k, _)| k == key) {
                select(value, rest, out);
            }
        }
        (SelectorStep::Index(index), Some(b'[')) => {
            let elements =
                serde_json::from_str::<Vec<&'a RawValue>>(node.get()).unwrap_or_default();
            if let Some(value) = elements.get(*index) {
                select(value, rest, out);
            }
        }
        (SelectorStep::Any, Some(b'{')) => {
            let members = serde_json::from_str::<Members<'a>>(node.get())
                .map(|m| m.0)
                .unwrap_or_default();
            for (_, value) in members {
                select(value, rest, out);
            }
        }
        (SelectorStep::Any, Some(b'[')) => {
            for value in serde_json::from_str::<Vec<&'a RawValue>>(node.get()).unwrap_or_default() {
                select(value, rest, out);
            }
        }
        _ => {}
    }
}

fn holds(test: &Test, leaf: &RawValue) -> bool {
    let raw = leaf.get().trim();
    match (test, raw.as_bytes().first()) {
        (Test::IsTrue, _) => raw == "true",
        (Test::IsFalse, _) => raw == "false",
        (Test::IsNull, _) => raw == "null",
        (Test::Compare(cmp), Some(b'"')) => {
            serde_json::from_str::<Cow<'_, str>>(raw).is_ok_and(|s| cmp.test_str(&s))
        }
        (Test::Compare(cmp), Some(b'-' | b'0'..=b'9')) => match raw.parse::<f64>() {
            Ok(value) => cmp.test_number(raw, value),
            Err(_) => cmp.test_str(raw),
        },
        _ => false,
    }
}

struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<JsonKey<'de>, &'de RawValue>()? {
                    members.push((key.0, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}
