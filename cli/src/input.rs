//! Reading event files as the CLI takes them: one ingest body, or JSON lines of bodies or bare
//! records, either plain or gzip-compressed.

use std::borrow::Cow;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::read::MultiGzDecoder;
use serde_json::value::RawValue;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One input file's text, decompressed when it is gzip (recognised by its bytes, not its name).
pub(crate) struct InputFile {
    pub path: PathBuf,
    text: String,
}

impl InputFile {
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let text = if bytes.starts_with(&GZIP_MAGIC) {
            let mut text = String::new();
            MultiGzDecoder::new(bytes.as_slice())
                .read_to_string(&mut text)
                .with_context(|| format!("decompressing {}", path.display()))?;
            text
        } else {
            String::from_utf8(bytes)
                .with_context(|| format!("{} is not UTF-8 text", path.display()))?
        };
        Ok(Self {
            path: path.to_owned(),
            text,
        })
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The ingest bodies the file holds: the whole file when it is one JSON value (a
    /// `{"Records":[…]}` batch, an EventBridge event or a PutAuditEvents body); otherwise JSON
    /// lines, each a body of its own or a bare record, the bare records gathered into one
    /// `{"Records":[…]}` batch (their ids in the answer are their positions among them).
    pub(crate) fn bodies(&self) -> Result<Vec<Cow<'_, str>>> {
        let whole_error = match serde_json::from_str::<&RawValue>(&self.text) {
            Ok(_) => return Ok(vec![Cow::Borrowed(self.text.as_str())]),
            Err(error) => error,
        };
        let mut lines = self
            .text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .peekable();
        let is_json_lines = lines
            .peek()
            .is_some_and(|(_, first)| serde_json::from_str::<&RawValue>(first).is_ok());
        if !is_json_lines {
            return Err(whole_error).with_context(|| self.path.display().to_string());
        }
        let mut bodies = Vec::new();
        let mut bare_records = Vec::new();
        for (number, line) in lines {
            let shape: Shape = serde_json::from_str(line).with_context(|| {
                format!(
                    "{} line {}: not a JSON object",
                    self.path.display(),
                    number + 1
                )
            })?;
            if shape.is_body() {
                bodies.push(Cow::Borrowed(line));
            } else {
                bare_records.push(line.trim());
            }
        }
        if !bare_records.is_empty() {
            bodies.push(Cow::Owned(format!(
                "{{\"Records\":[{}]}}",
                bare_records.join(",")
            )));
        }
        Ok(bodies)
    }
}

/// The top-level keys that make a JSON line a body rather than a bare record, and tell the
/// three bodies apart.
#[derive(serde::Deserialize)]
pub(crate) struct Shape<'a> {
    #[serde(rename = "Records", borrow, default)]
    pub(crate) records: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) detail: Option<&'a RawValue>,
    #[serde(rename = "auditEvents", borrow, default)]
    pub(crate) audit_events: Option<&'a RawValue>,
}

impl<'a> Shape<'a> {
    pub(crate) fn of(body: &'a str) -> serde_json::Result<Self> {
        serde_json::from_str(body)
    }
}

impl Shape<'_> {
    fn is_body(&self) -> bool {
        self.records.is_some() || self.detail.is_some() || self.audit_events.is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::{Compression, write::GzEncoder};

    use super::*;

    fn input(name: &str, bytes: &[u8]) -> (tempfile::TempDir, Result<InputFile>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        fs::write(&path, bytes).expect("write");
        let file = InputFile::read(&path);
        (dir, file)
    }

    fn bodies(file: &InputFile) -> Vec<String> {
        file.bodies()
            .expect("bodies")
            .into_iter()
            .map(Cow::into_owned)
            .collect()
    }

    #[test]
    fn a_file_of_one_json_value_is_one_body() {
        let text = "{\"Records\":[{\"a\":1},\n {\"b\":[2]}]}\n";
        let (_dir, file) = input("batch.json", text.as_bytes());
        assert_eq!(bodies(&file.expect("read")), [text]);
    }

    #[test]
    fn json_lines_of_bodies_and_bare_records() {
        let (_dir, file) = input(
            "lines.jsonl",
            b"{\"a\":1}\n\n  \n{\"detail\":{\"c\":3}}\n{\"b\":2}\n{\"auditEvents\":[]}\n",
        );
        assert_eq!(
            bodies(&file.expect("read")),
            [
                r#"{"detail":{"c":3}}"#,
                r#"{"auditEvents":[]}"#,
                r#"{"Records":[{"a":1},{"b":2}]}"#
            ]
        );
    }

    #[test]
    fn recognises_gzip_by_its_bytes_not_its_name() {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder
            .write_all(br#"{"Records":[{"a":1}]}"#)
            .expect("compress");
        let (_dir, file) = input("no-extension", &encoder.finish().expect("finish"));
        assert_eq!(bodies(&file.expect("read")), [r#"{"Records":[{"a":1}]}"#]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let (_dir, file) = input("lines.jsonl", b"{\"a\":1}\n{\"b\":\n");
        let error = file.expect("read").bodies().expect_err("bad line");
        assert!(
            format!("{error:#}").contains("lines.jsonl line 2: not a JSON object"),
            "{error:#}"
        );
    }

    #[test]
    fn a_broken_file_reports_the_json_position() {
        let (_dir, file) = input("batch.json", b"{\"Records\":[{\"a\":1},\n  {\"b\" 2}]}");
        let error = file.expect("read").bodies().expect_err("broken batch");
        let message = format!("{error:#}");
        assert!(message.contains("batch.json"), "{message}");
        assert!(message.contains("line 2 column 8"), "{message}");
    }

    #[test]
    fn binary_that_is_not_gzip_is_refused() {
        let (_dir, file) = input("blob", &[0xff, 0xfe, 0x00]);
        let error = file.err().expect("not UTF-8");
        assert!(
            format!("{error:#}").contains("is not UTF-8 text"),
            "{error:#}"
        );
    }
}
