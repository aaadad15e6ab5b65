//! Records as CloudTrail writes them: compact JSON.
//!
//! CloudTrail writes a log file as one line of compact JSON, no whitespace between tokens: so is
//! the gzip log file in AWS's CloudTrail Processing Library's tests
//! (`tests/fixtures/aws_cloudtrail_processing_library_fixtures/SerializerTestFileCompact.json.gz`;
//! the User Guide's "CloudTrail log file examples" are pretty-printed for reading). A producer
//! may send a record pretty-printed; ingest keeps it compact, so log files, CloudWatch Logs
//! events and the event history carry it as CloudTrail would.
//!
//! Only the whitespace between tokens goes: every member, its order, and the exact text of
//! every string and number stay. So this works on the text rather than through
//! `serde_json::Value`, which would reorder members (without `preserve_order`) and rewrite
//! numbers (`1.0e3` becomes `1000.0`, and a number past f64 fails).

use std::borrow::Cow;

use serde_json::value::RawValue;

/// `raw` without whitespace between its tokens: borrowed when it has none, as a record from an
/// AWS SDK or a CloudTrail log file already is.
pub fn compact(raw: &RawValue) -> Cow<'_, RawValue> {
    match without_whitespace(raw.get()) {
        None => Cow::Borrowed(raw),
        Some(text) => Cow::Owned(
            RawValue::from_string(text)
                .expect("JSON without the whitespace between its tokens is the same JSON"),
        ),
    }
}

/// [`compact`] of JSON text, as a staged record is carried.
pub fn compact_text(text: &str) -> Cow<'_, str> {
    without_whitespace(text).map_or(Cow::Borrowed(text), Cow::Owned)
}

/// The text with the whitespace outside strings removed, or `None` when there is none. In valid
/// JSON two scalar tokens are never adjacent without a `,`, `:` or bracket between them, so
/// nothing merges. The whitespace bytes and `"` are ASCII, never part of a UTF-8 sequence, so
/// every cut is on a character boundary.
fn without_whitespace(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut compacted: Option<String> = None;
    let mut kept_from = 0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => at = after_string(bytes, at + 1),
            b' ' | b'\t' | b'\n' | b'\r' => {
                compacted
                    .get_or_insert_with(|| String::with_capacity(text.len()))
                    .push_str(&text[kept_from..at]);
                while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
                    at += 1;
                }
                kept_from = at;
            }
            _ => at += 1,
        }
    }
    compacted.map(|mut compacted| {
        compacted.push_str(&text[kept_from..]);
        compacted
    })
}

/// The index just past the `"` closing the string whose contents start at `at`, skipping
/// escaped characters (`\"` included).
fn after_string(bytes: &[u8], mut at: usize) -> usize {
    while let Some(offset) = memchr::memchr2(b'"', b'\\', &bytes[at..]) {
        at += offset;
        if bytes[at] == b'"' {
            return at + 1;
        }
        at += 2;
    }
    bytes.len()
}

/// Asserts that `stored` is `sent` compact, without trusting [`compact`]: the same JSON value,
/// the same characters apart from whitespace in the same order (so member order and each
/// number's text are kept; whitespace inside strings is covered by the values being equal),
/// and no whitespace outside strings.
#[cfg(test)]
pub(crate) fn assert_compact_form_of(sent: &str, stored: &str) {
    let value = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("JSON");
    assert_eq!(value(stored), value(sent), "not the same JSON value");
    let visible = |text: &str| text.split_whitespace().collect::<String>();
    assert_eq!(
        visible(stored),
        visible(sent),
        "more than whitespace differs"
    );
    let mut in_string = false;
    let mut escaped = false;
    for (at, c) in stored.char_indices() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => in_string = !in_string,
            (false, _, c) if c.is_ascii_whitespace() => {
                panic!("whitespace between tokens at byte {at}: {stored}")
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("test JSON")
    }

    #[test]
    fn a_compact_record_is_borrowed_as_it_is() {
        let record = raw(r#"{"eventName":"A b","n":[1,2.50,{"x":null}],"s":"\" \\"}"#);
        assert!(matches!(compact(&record), Cow::Borrowed(_)));
    }

    #[test]
    fn whitespace_between_tokens_goes_and_everything_else_stays() {
        let pretty = raw(concat!(
            "{\n  \"zeta\" : \"two  spaces\\n and a tab\\t\",\r\n\t\"alpha\": [ 1.0e3 , -0.50, ",
            "123456789012345678901234567890 ],\n  \"q\": \"a \\\" quote, then  space\",\n",
            "  \"e\": { }, \"u\": \"\u{e9}t\u{e9} \\u00e9\", \"b\" : true }"
        ));
        let compacted = compact(&pretty);
        assert_eq!(
            compacted.get(),
            concat!(
                r#"{"zeta":"two  spaces\n and a tab\t","alpha":[1.0e3,-0.50,"#,
                r#"123456789012345678901234567890],"q":"a \" quote, then  space","#,
                "\"e\":{},\"u\":\"\u{e9}t\u{e9} \\u00e9\",\"b\":true}"
            ),
            "member order, number text and string contents are kept"
        );
        assert_compact_form_of(pretty.get(), compacted.get());
    }

    #[test]
    fn the_real_pretty_printed_records_come_out_compact_and_otherwise_unchanged() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/stratus_red_team_detonation_logs");
        let mut records = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for raw in crate::record::split_batch(&text).expect("batch") {
                let compacted = compact(raw);
                assert!(matches!(compacted, Cow::Owned(_)), "{}", path.display());
                assert_compact_form_of(raw.get(), compacted.get());
                assert!(matches!(compact(&compacted), Cow::Borrowed(_)));
                records += 1;
            }
        }
        assert_eq!(records, 310);
    }
}
