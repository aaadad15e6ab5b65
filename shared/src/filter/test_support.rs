//! Inputs the differential tests share: every string literal of the example tests (so each
//! pattern and event written there is also checked against the previous engine, including ones
//! added later) and the real CloudTrail records.

use std::path::PathBuf;

/// The string literals of `filter/tests.rs`, unescaped: AWS's documented patterns and events.
pub(crate) fn example_literals() -> Vec<String> {
    string_literals(include_str!("tests.rs"))
}

/// Every Stratus Red Team record as the compact JSON line forward puts to CloudWatch Logs.
pub(crate) fn stratus_messages() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/stratus_red_team_detonation_logs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut messages = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture");
        let document: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        for record in document["Records"].as_array().expect("Records") {
            messages.push(record.to_string());
        }
    }
    messages
}

/// The `"…"`, `r"…"` and `r#"…"#` literals of Rust source, skipping `//` comments. Good enough
/// for test files: a `'"'` character literal would be misread, which only adds odd inputs.
fn string_literals(source: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(['"', '/', 'r']) {
        let (before, from) = rest.split_at(at);
        let glued = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = if let Some(comment) = from.strip_prefix("//") {
            comment.split_once('\n').map_or("", |(_, after)| after)
        } else if let Some(raw) = from.strip_prefix('r').filter(|_| !glued) {
            let hashes = raw.len() - raw.trim_start_matches('#').len();
            match raw.get(hashes..).and_then(|r| r.strip_prefix('"')) {
                Some(body) => {
                    let close = format!("\"{}", "#".repeat(hashes));
                    let end = body.find(&close).unwrap_or(body.len());
                    literals.push(body.get(..end).unwrap_or("").to_owned());
                    body.get(end + close.len()..).unwrap_or("")
                }
                None => raw,
            }
        } else if let Some(body) = from.strip_prefix('"') {
            let (literal, after) = escaped_literal(body);
            literals.push(literal);
            after
        } else {
            from.get(1..).unwrap_or("")
        };
    }
    literals
}

/// A `"…"` literal's text after its opening quote: its value and what follows the closing one.
fn escaped_literal(body: &str) -> (String, &str) {
    let mut value = String::new();
    let mut rest = body;
    loop {
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return (value, "");
        };
        rest = chars.as_str();
        if c == '"' {
            return (value, rest);
        }
        if c != '\\' {
            value.push(c);
            continue;
        }
        let escape = chars.next();
        rest = chars.as_str();
        match escape {
            Some('n') => value.push('\n'),
            Some('t') => value.push('\t'),
            Some('r') => value.push('\r'),
            Some('0') => value.push('\0'),
            Some('x') => {
                let code = rest.get(..2).and_then(|h| u8::from_str_radix(h, 16).ok());
                value.extend(code.map(char::from));
                rest = rest.get(2..).unwrap_or("");
            }
            Some('u') => {
                if let Some((hex, after)) = rest.strip_prefix('{').and_then(|r| r.split_once('}')) {
                    let code = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                    value.extend(code);
                    rest = after;
                }
            }
            // A line continuation: the newline and the next line's indent vanish.
            Some('\n') => rest = rest.trim_start(),
            Some(other) => value.push(other),
            None => {}
        }
    }
}

#[test]
fn string_literals_are_read_as_rust_reads_them() {
    let source = r##"let a = "x\"y\u{e9}\
                      z"; // "a comment"
        f(r#"{"a": 1}"#, r"C:\temp", for_r"q");"##;
    assert_eq!(
        string_literals(source),
        ["x\"yéz", r#"{"a": 1}"#, r"C:\temp", "q"]
    );
    assert!(example_literals().len() > 300);
}
