//! Reading event files as the CLI takes them: one ingest body, or JSON lines of bodies or bare
//! records, either plain or gzip-compressed.

use std::borrow::Cow;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use flate2::read::MultiGzDecoder;
use serde_json::value::RawValue;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: &[u8] = "\u{feff}".as_bytes();

/// One input file's bytes, decompressed when it is gzip (recognised by its bytes, not its name).
pub(crate) struct InputFile {
    pub path: PathBuf,
    bytes: Vec<u8>,
}

/// One body of a file, or why one line of a JSON-lines file is not one (the other lines go on).
pub(crate) type FileBody<'a> = Result<Cow<'a, str>, anyhow::Error>;

impl InputFile {
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut bytes = if bytes.starts_with(&GZIP_MAGIC) {
            let mut text = Vec::new();
            MultiGzDecoder::new(bytes.as_slice())
                .read_to_end(&mut text)
                .with_context(|| format!("decompressing {}", path.display()))?;
            text
        } else {
            bytes
        };
        // RFC 8259 section 8.1 lets a reader ignore a byte-order mark, which some editors add.
        if bytes.starts_with(UTF8_BOM) {
            bytes.drain(..UTF8_BOM.len());
        }
        Ok(Self {
            path: path.to_owned(),
            bytes,
        })
    }

    /// The whole file as text, bytes that are not UTF-8 replaced (for scanning, not ingesting).
    pub(crate) fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    /// The ingest bodies the file holds: the whole file when it is one JSON value (a
    /// `{"Records":[…]}` batch, an EventBridge event or a PutAuditEvents body); otherwise JSON
    /// lines, each a body of its own or a bare record, the bare records gathered into one
    /// `{"Records":[…]}` batch (their ids in the answer are their positions among them). A line
    /// that is not UTF-8 or not a JSON object is an `Err` of its own, naming its line, and
    /// sinks no other line.
    pub(crate) fn bodies(&self) -> Result<Vec<FileBody<'_>>> {
        let whole_error = match std::str::from_utf8(&self.bytes) {
            Ok(text) => match serde_json::from_str::<&RawValue>(text) {
                Ok(_) => return Ok(vec![Ok(Cow::Borrowed(text))]),
                Err(error) => anyhow::Error::new(error).context(self.path.display().to_string()),
            },
            Err(error) => anyhow::Error::new(error)
                .context(format!("{} is not UTF-8 text", self.path.display())),
        };
        let mut lines = self
            .bytes
            .split(|&byte| byte == b'\n')
            .enumerate()
            .map(|(index, line)| (index + 1, line.strip_suffix(b"\r").unwrap_or(line)))
            .filter(|(_, line)| !line.trim_ascii().is_empty())
            .peekable();
        let is_json_lines = lines
            .peek()
            .is_some_and(|(_, first)| serde_json::from_slice::<&RawValue>(first).is_ok());
        if !is_json_lines {
            return Err(whole_error);
        }
        let mut bodies = Vec::new();
        let mut bare_records = Vec::new();
        for (number, line) in lines {
            let at = || format!("{} line {number}", self.path.display());
            let line = match std::str::from_utf8(line) {
                Ok(line) => line,
                Err(error) => {
                    bodies.push(Err(anyhow!("{}: not UTF-8 text: {error}", at())));
                    continue;
                }
            };
            // A struct deserializes from an array too, so the brace is checked first.
            let shape = match line.trim_start().starts_with('{') {
                true => serde_json::from_str::<Shape>(line).map_err(|e| e.to_string()),
                false => Err("it does not start with {".to_owned()),
            };
            match shape {
                Ok(shape) if shape.is_body() => bodies.push(Ok(Cow::Borrowed(line))),
                Ok(_) => bare_records.push(line.trim()),
                Err(why) => bodies.push(Err(anyhow!("{}: not a JSON object: {why}", at()))),
            }
        }
        if !bare_records.is_empty() {
            bodies.push(Ok(Cow::Owned(format!(
                "{{\"Records\":[{}]}}",
                bare_records.join(",")
            ))));
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
            .map(|body| body.expect("a good line").into_owned())
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
        let file = file.expect("read");
        let bodies = file.bodies().expect("JSON lines");
        let error = bodies[0].as_ref().expect_err("bad line");
        assert!(
            format!("{error:#}").contains("lines.jsonl line 2: not a JSON object"),
            "{error:#}"
        );
    }

    #[test]
    fn a_bad_line_sinks_no_other_line() {
        let (_dir, file) = input(
            "lines.jsonl",
            b"{\"a\":1}\n{\"b\":\xff\xfe}\n[1]\n{\"detail\":{\"c\":3}}\r\n{\"d\":4}\n",
        );
        let file = file.expect("read");
        let bodies = file.bodies().expect("JSON lines");
        let errors: Vec<String> = bodies
            .iter()
            .filter_map(|body| body.as_ref().err().map(|e| format!("{e:#}")))
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("lines.jsonl line 2: not UTF-8 text"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains("lines.jsonl line 3: not a JSON object"),
            "{errors:?}"
        );
        let good: Vec<&str> = bodies
            .iter()
            .filter_map(|body| body.as_deref().ok())
            .collect();
        assert_eq!(
            good,
            [r#"{"detail":{"c":3}}"#, r#"{"Records":[{"a":1},{"d":4}]}"#]
        );
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let (_dir, file) = input("batch.json", "\u{feff}{\"Records\":[]}".as_bytes());
        assert_eq!(bodies(&file.expect("read")), [r#"{"Records":[]}"#]);
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
        let error = file
            .and_then(|file| file.bodies().map(|_| ()))
            .expect_err("not UTF-8");
        assert!(
            format!("{error:#}").contains("is not UTF-8 text"),
            "{error:#}"
        );
    }
}
