//! Space-delimited patterns: `[ip, user, ..., status_code = 4* && status_code != 403, bytes]`.
//!
//! AWS's rules: the event splits on spaces, except that text between `[` and `]` or between
//! double quotes is one field (extracted without them); each pattern slot takes one field, and
//! `...` takes any number; a slot is a name, optionally with conditions (`=`, `!=`, `<`, `>`,
//! `<=`, `>=`, wildcards, `%regex%`) joined by `&&` (binding tighter) and `||`; an empty slot
//! takes a field without naming it. Without `...`, the last slot takes whatever remains of the
//! event (AWS's `[w1=ERROR, w2]` example). A match extracts `$name` for each named slot and `$N` (the
//! field's 1-based position in the event) for fields taken by `...` or an empty slot, which is
//! how TestMetricFilter reports `extractedValues`.
//!
//! Alignment: a condition naming its own slot is checked while aligning slots to fields; one
//! naming another slot's field is checked once the alignment is found. With `...` the leftmost
//! alignment is the one checked, so a cross-slot condition is not retried against others.

use std::collections::BTreeMap;

use super::error::{ErrorKind, PatternError};
use super::lexer::Cursor;
use super::value::{Comparison, Op};

#[derive(Debug, Clone)]
enum SlotCondition {
    Compare {
        field: String,
        comparison: Comparison,
    },
    Or(Vec<SlotCondition>),
    And(Vec<SlotCondition>),
}

#[derive(Debug, Clone)]
enum PatternSlot {
    /// `...`: any number of fields, each extracted by position.
    Ellipsis,
    /// An empty slot: one field, extracted by position.
    Unnamed,
    /// One field, extracted by name, with optional conditions.
    Named {
        name: String,
        condition: Option<SlotCondition>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Delimited {
    slots: Vec<PatternSlot>,
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

impl Delimited {
    /// Parses a pattern that starts with `[`; returns it and how many regexes it holds.
    pub(crate) fn parse(pattern: &str) -> Result<(Delimited, usize), PatternError> {
        let mut cursor = Cursor::new(pattern);
        let mut regexes = 0;
        cursor.skip_ws();
        let open = cursor.pos();
        if !cursor.eat("[") {
            return Err(cursor.unexpected("'['"));
        }
        let mut slots = Vec::new();
        loop {
            cursor.skip_ws();
            let slot = if cursor.eat("...") {
                PatternSlot::Ellipsis
            } else if matches!(cursor.peek(), Some(',' | ']')) {
                PatternSlot::Unnamed
            } else if cursor.at_end() {
                let what = "space-delimited pattern (missing ']')";
                return Err(cursor.error_at(open, ErrorKind::Unterminated { what }));
            } else {
                named_slot(&mut cursor, &mut regexes)?
            };
            slots.push(slot);
            cursor.skip_ws();
            if cursor.eat("]") {
                break;
            }
            if !cursor.eat(",") {
                if cursor.at_end() {
                    let what = "space-delimited pattern (missing ']')";
                    return Err(cursor.error_at(open, ErrorKind::Unterminated { what }));
                }
                return Err(cursor.unexpected("',' or ']'"));
            }
        }
        // `[]` reads as one empty slot; AWS's `[]` names no field at all.
        if slots.len() == 1 && matches!(slots.first(), Some(PatternSlot::Unnamed)) {
            slots.clear();
        }
        cursor.skip_ws();
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of pattern after ']'"));
        }
        Ok((Delimited { slots }, regexes))
    }

    /// Whether a match can extract `key` (`$name` or `$N`, as in `extractedValues`): a name
    /// must be one of the pattern's slots; a position needs a `...` or an empty slot to take it.
    pub(crate) fn can_extract(&self, key: &str) -> bool {
        let Some(name) = key.strip_prefix('$') else {
            return false;
        };
        let named = self
            .slots
            .iter()
            .any(|slot| matches!(slot, PatternSlot::Named { name: n, .. } if n == name));
        let positional = !name.is_empty()
            && !name.starts_with('0')
            && name.chars().all(|c| c.is_ascii_digit())
            && self
                .slots
                .iter()
                .any(|slot| matches!(slot, PatternSlot::Ellipsis | PatternSlot::Unnamed));
        named || positional
    }

    pub(crate) fn matches(&self, message: &str) -> Option<BTreeMap<String, String>> {
        let mut spans = split_fields(message);
        // Without `...`, the last slot takes the rest of the event: AWS's `[w1=ERROR, w2]`
        // matches every event whose first word is ERROR, however many words follow.
        let has_ellipsis = self
            .slots
            .iter()
            .any(|slot| matches!(slot, PatternSlot::Ellipsis));
        if !has_ellipsis && !self.slots.is_empty() && spans.len() > self.slots.len() {
            let last = self.slots.len() - 1;
            if let Some(&(_, start)) = spans.get(last) {
                spans.truncate(last);
                spans.push((message.get(start..).unwrap_or("").trim_end(), start));
            }
        }
        let fields: Vec<&str> = spans.iter().map(|&(value, _)| value).collect();
        let assignment = self.align(&fields)?;
        let value_of = |name: &str| {
            assignment
                .iter()
                .find_map(|&(slot, field)| match self.slots.get(slot) {
                    Some(PatternSlot::Named { name: n, .. }) if n == name => {
                        fields.get(field).copied()
                    }
                    _ => None,
                })
        };
        let all_hold = assignment
            .iter()
            .all(|&(slot, _)| match self.slots.get(slot) {
                Some(PatternSlot::Named {
                    condition: Some(condition),
                    ..
                }) => condition.eval(&value_of),
                _ => true,
            });
        if !all_hold {
            return None;
        }
        // Fields no slot took by name went to `...` or an empty slot: extracted by position.
        let mut extracted = BTreeMap::new();
        let mut named = assignment.iter().peekable();
        for (index, value) in fields.iter().enumerate() {
            let key = match named.next_if(|&&(_, field)| field == index) {
                Some(&(slot, _)) => match self.slots.get(slot) {
                    Some(PatternSlot::Named { name, .. }) => format!("${name}"),
                    _ => format!("${}", index + 1),
                },
                None => format!("${}", index + 1),
            };
            extracted.insert(key, (*value).to_owned());
        }
        Some(extracted)
    }

    /// Aligns slots to fields, `...` taking as few fields as it can, checking each slot's
    /// conditions on its own field (other slots' fields count as satisfied for now). Returns
    /// the `(slot, field)` pairs of the slots that are not `...`, in field order. This is
    /// wildcard matching with `...` as `*`: on a mismatch, the last `...` takes one more field
    /// and matching resumes after it, which finds a match whenever one exists, in
    /// O(slots × fields).
    fn align(&self, fields: &[&str]) -> Option<Vec<(usize, usize)>> {
        let fits = |slot: usize, field: usize| match (self.slots.get(slot), fields.get(field)) {
            (Some(PatternSlot::Unnamed), Some(_)) => true,
            (Some(PatternSlot::Named { name, condition }), Some(value)) => {
                condition.as_ref().is_none_or(|c| c.eval_local(name, value))
            }
            _ => false,
        };
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let (mut s, mut f) = (0, 0);
        // The last `...`: its slot, the field it started at, how many fields it has taken, and
        // how many pairs preceded it.
        let mut star: Option<(usize, usize, usize, usize)> = None;
        loop {
            if s < self.slots.len() && matches!(self.slots.get(s), Some(PatternSlot::Ellipsis)) {
                star = Some((s, f, 0, pairs.len()));
                s += 1;
                continue;
            }
            if s == self.slots.len() && f == fields.len() {
                return Some(pairs);
            }
            if s < self.slots.len() && f < fields.len() && fits(s, f) {
                pairs.push((s, f));
                s += 1;
                f += 1;
                continue;
            }
            let (star_slot, start, taken, before) = star?;
            let taken = taken + 1;
            if start + taken > fields.len() {
                return None;
            }
            pairs.truncate(before);
            star = Some((star_slot, start, taken, before));
            s = star_slot + 1;
            f = start + taken;
        }
    }
}

fn named_slot(cursor: &mut Cursor<'_>, regexes: &mut usize) -> Result<PatternSlot, PatternError> {
    let name = cursor.take_while(name_char).to_owned();
    if name.is_empty() {
        return Err(cursor.unexpected("a field name, '...' or ','"));
    }
    cursor.skip_ws();
    if matches!(cursor.peek(), Some(',' | ']') | None) {
        return Ok(PatternSlot::Named {
            name,
            condition: None,
        });
    }
    let condition = or(cursor, regexes, Some(name.clone()))?;
    Ok(PatternSlot::Named {
        name,
        condition: Some(condition),
    })
}

/// `a || b || c`, where each of a, b, c is an `&&` chain; `first` is the already-read field
/// name of the first comparison.
fn or(
    cursor: &mut Cursor<'_>,
    regexes: &mut usize,
    first: Option<String>,
) -> Result<SlotCondition, PatternError> {
    let mut terms = vec![and(cursor, regexes, first)?];
    while eat_ws(cursor, "||") {
        terms.push(and(cursor, regexes, None)?);
    }
    Ok(if terms.len() == 1 {
        terms.remove(0)
    } else {
        SlotCondition::Or(terms)
    })
}

fn and(
    cursor: &mut Cursor<'_>,
    regexes: &mut usize,
    first: Option<String>,
) -> Result<SlotCondition, PatternError> {
    let mut factors = vec![compare(cursor, regexes, first)?];
    while eat_ws(cursor, "&&") {
        factors.push(compare(cursor, regexes, None)?);
    }
    Ok(if factors.len() == 1 {
        factors.remove(0)
    } else {
        SlotCondition::And(factors)
    })
}

fn eat_ws(cursor: &mut Cursor<'_>, token: &str) -> bool {
    cursor.skip_ws();
    cursor.eat(token)
}

fn compare(
    cursor: &mut Cursor<'_>,
    regexes: &mut usize,
    name: Option<String>,
) -> Result<SlotCondition, PatternError> {
    let field = match name {
        Some(name) => name,
        None => {
            cursor.skip_ws();
            let name = cursor.take_while(name_char);
            if name.is_empty() {
                return Err(cursor.unexpected("a field name"));
            }
            name.to_owned()
        }
    };
    cursor.skip_ws();
    let Some(op) = Op::read(cursor) else {
        return Err(cursor.unexpected("an operator (= != < > <= >=)"));
    };
    let comparison = Comparison::read(op, cursor, regexes)?;
    Ok(SlotCondition::Compare { field, comparison })
}

impl SlotCondition {
    /// Evaluates with every field bound; a field no slot names satisfies nothing.
    fn eval<'a>(&self, value_of: &impl Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            SlotCondition::Compare { field, comparison } => {
                value_of(field).is_some_and(|value| comparison.test_str(value))
            }
            SlotCondition::Or(terms) => terms.iter().any(|c| c.eval(value_of)),
            SlotCondition::And(factors) => factors.iter().all(|c| c.eval(value_of)),
        }
    }

    /// Evaluates with only this slot's own field bound, other fields counting as satisfied
    /// until the full check.
    fn eval_local(&self, own: &str, value: &str) -> bool {
        match self {
            SlotCondition::Compare { field, comparison } => {
                field != own || comparison.test_str(value)
            }
            SlotCondition::Or(terms) => terms.iter().any(|c| c.eval_local(own, value)),
            SlotCondition::And(factors) => factors.iter().all(|c| c.eval_local(own, value)),
        }
    }
}

/// Splits an event into fields: runs of non-space characters, or the text between `[` and `]`
/// or between double quotes (an unclosed one runs to the end of the event). Each field comes
/// with the byte offset where its text (delimiter included) starts.
fn split_fields(message: &str) -> Vec<(&str, usize)> {
    let mut fields = Vec::new();
    let mut rest = message;
    loop {
        rest = rest.trim_start();
        let start = message.len() - rest.len();
        let Some(first) = rest.chars().next() else {
            break;
        };
        let close = match first {
            '[' => Some(']'),
            '"' => Some('"'),
            _ => None,
        };
        match close {
            Some(close) => {
                let inner = rest.get(1..).unwrap_or("");
                let end = inner.find(close).unwrap_or(inner.len());
                fields.push((inner.get(..end).unwrap_or(""), start));
                rest = inner.get(end + 1..).unwrap_or("");
            }
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                fields.push((rest.get(..end).unwrap_or(""), start));
                rest = rest.get(end..).unwrap_or("");
            }
        }
    }
    fields
}
