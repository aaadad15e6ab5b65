//! The index accepts exactly the JSON `serde_json` accepts (what the engine validated events
//! with before) and holds the same values.

use serde_json::Value;
use serde_json::value::RawValue;

use super::scan::{STRING_SPECIAL, plain_run_end};
use super::{Document, NodeId, NodeKind};
use crate::filter::test_support::{example_literals, stratus_messages};

fn serde_accepts(text: &str) -> bool {
    serde_json::from_str::<&RawValue>(text).is_ok()
}

fn assert_same_verdict(text: &str) {
    assert_eq!(
        Document::parse(text).is_some(),
        serde_accepts(text),
        "{text:?}"
    );
}

/// The value a node holds, rebuilt as `serde_json` would read it.
fn value(document: &Document<'_>, id: NodeId) -> Option<Value> {
    Some(match document.kind(id)? {
        NodeKind::Object => {
            let mut map = serde_json::Map::new();
            for member in document.children(id) {
                let key = document.string(member - 1)?.into_owned();
                map.insert(key, value(document, member)?);
            }
            Value::Object(map)
        }
        NodeKind::Array => Value::Array(
            document
                .children(id)
                .map(|element| value(document, element))
                .collect::<Option<_>>()?,
        ),
        NodeKind::String | NodeKind::EscapedString => {
            Value::String(document.string(id)?.into_owned())
        }
        NodeKind::Number => serde_json::from_str(document.raw(id)).ok()?,
        NodeKind::True => Value::Bool(true),
        NodeKind::False => Value::Bool(false),
        NodeKind::Null => Value::Null,
    })
}

const EDGE_CASES: &[&str] = &[
    "",
    " ",
    "null",
    " \t\r\n1\n ",
    "\u{a0}1",
    "1 2",
    "01",
    "-0",
    "-",
    "-01",
    "1.",
    ".5",
    "1.5e",
    "1.5e+",
    "1E-7",
    "+1",
    "0x10",
    "1e999",
    "tru",
    "true false",
    "nul",
    "NaN",
    "\"\"",
    "\"a",
    "\"\\\"",
    "\"\\u00e9\"",
    "\"\\u00G9\"",
    "\"\\ud800\"",
    "\"\\x41\"",
    "\"\\'\"",
    "\"tab\there\"",
    "\"\u{7f}\"",
    "\"é\"",
    "[]",
    "[ ]",
    "[,]",
    "[1,]",
    "[1 2]",
    "[1,,2]",
    "[[[]]]",
    "[[]",
    "[]]",
    "{}",
    "{ }",
    "{,}",
    "{\"a\"}",
    "{\"a\":}",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{a:1}",
    "{\"a\":1 \"b\":2}",
    "{\"a\":1}}",
    "{\"a\":[1,{\"b\":null}],\"c\":{}}",
    "{\"a\":1]",
    "[1}",
    "{\"\\ud800\":1}",
    "{\"a\":1}\u{0}",
];

#[test]
fn accepts_exactly_what_serde_json_accepts() {
    for text in EDGE_CASES {
        assert_same_verdict(text);
    }
    for text in example_literals() {
        assert_same_verdict(&text);
    }
}

/// Random edits of valid events, with JSON's own punctuation over-represented, reach the
/// corners of the grammar; both readers must agree on every one.
#[test]
fn mutated_events_get_the_same_verdict() {
    let seeds = [
        r#"{"a": [1, -2.5e3, {"b": "x\"y\u00e9"}], "c": null, "d": true, "e": false}"#,
        r#"[0, 10, 1.5, "", {}, [], "\ud83d\ude00"]"#,
        r#"  {"k\u0065y": "v", "n": {"m": [[], {}]}}  "#,
    ];
    let alphabet = b"{}[]\":,. -+0123456789eEtrufalsn\\u/bx\t\n\x01ab";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut accepted = 0;
    for round in 0..40_000 {
        let seed = seeds[round % seeds.len()];
        let mut bytes = seed.as_bytes().to_vec();
        for _ in 0..=(next() % 3) {
            let at = (next() % (bytes.len() as u64 + 1)) as usize;
            let byte = alphabet[(next() % alphabet.len() as u64) as usize];
            match next() % 3 {
                0 if at < bytes.len() => bytes[at] = byte,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        assert_same_verdict(&text);
        accepted += usize::from(serde_accepts(&text));
    }
    assert!(accepted > 1_000, "too few valid mutants ({accepted})");
}

#[test]
fn holds_the_values_serde_json_reads() {
    let mut texts = stratus_messages();
    assert!(texts.len() > 250);
    texts.extend(example_literals());
    texts.extend(EDGE_CASES.iter().map(|t| (*t).to_owned()));
    for text in &texts {
        let Ok(expected) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let document = Document::parse(text).unwrap_or_else(|| panic!("{text:?}"));
        assert_eq!(value(&document, Document::ROOT), Some(expected), "{text:?}");
    }
}

#[test]
fn lookups_follow_json_readers() {
    let text = r#"{"a": 1, "b": {"c": [10, 20, {"d": "\u0041"}]}, "a": 2, "k\u0065y": true}"#;
    let document = Document::parse(text).unwrap_or_else(|| panic!("valid"));
    let root = Document::ROOT;
    // The last duplicate wins; escaped keys are compared decoded.
    assert_eq!(
        document.member(root, "a").map(|a| document.raw(a)),
        Some("2")
    );
    assert!(document.member(root, "key").is_some());
    let c = document
        .member(root, "b")
        .and_then(|b| document.member(b, "c"));
    let c = c.unwrap_or_else(|| panic!("$.b.c"));
    assert_eq!(document.children(c).count(), 3);
    assert_eq!(document.element(c, 1).map(|e| document.raw(e)), Some("20"));
    assert_eq!(document.element(c, 3), None);
    let d = document.element(c, 2).and_then(|e| document.member(e, "d"));
    assert_eq!(d.and_then(|d| document.string(d)).as_deref(), Some("A"));
    assert_eq!(document.member(c, "a"), None);
    assert_eq!(document.element(root, 0), None);
    // A key that does not decode leaves the whole object without members, as before.
    let broken = Document::parse(r#"{"a": 1, "\ud800": 2}"#).unwrap_or_else(|| panic!("valid"));
    assert_eq!(broken.member(Document::ROOT, "a"), None);
    assert!(!broken.readable(Document::ROOT));
}

#[test]
fn nesting_depth_costs_no_stack() {
    let depth = 200_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(Document::parse(&text).is_some());
    assert!(serde_accepts(&text));
    let unclosed = "[".repeat(depth);
    assert!(Document::parse(&unclosed).is_none());
}

#[test]
fn word_at_a_time_scanning_finds_the_first_special_byte() {
    let byte_at_a_time = |bytes: &[u8], mut i: usize| {
        while bytes
            .get(i)
            .is_some_and(|&b| !STRING_SPECIAL[usize::from(b)])
        {
            i += 1;
        }
        i
    };
    // Every byte value at every offset of a word and its neighbour, behind plain bytes that
    // sit next to the thresholds (0x20, 0x21, 0x7f, 0x80, 0xff) and after other special bytes.
    let fillers: &[&[u8]] = &[b"  !!", b"\x7f\x80\xff ", b"abcd", b"\"\x1f\\\x00"];
    for filler in fillers {
        for at in 0..20 {
            for value in 0..=255u8 {
                let mut bytes: Vec<u8> = filler.iter().copied().cycle().take(24).collect();
                if let Some(slot) = bytes.get_mut(at) {
                    *slot = value;
                }
                for start in [0, 1, 3, 7] {
                    assert_eq!(
                        plain_run_end(&bytes, start),
                        byte_at_a_time(&bytes, start),
                        "{bytes:?} from {start}"
                    );
                }
            }
        }
    }
}
