//! Reading event files as the CLI takes them: a `{"Records":[…]}` batch or JSON lines, either
//! plain or gzip-compressed.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use cairn_shared::record::split_batch;
use flate2::read::MultiGzDecoder;
use serde_json::value::RawValue;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One input file's text, decompressed when it is gzip (recognised by its bytes, not its name).
pub struct InputFile {
    pub path: PathBuf,
    text: String,
}

impl InputFile {
    pub fn read(path: &Path) -> Result<Self> {
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

    /// The records' raw JSON: the file's `Records` batch, or else one record per non-blank line
    /// when its first line is a JSON object on its own.
    pub fn records(&self) -> Result<Vec<&RawValue>> {
        let batch_error = match split_batch(&self.text) {
            Ok(records) => return Ok(records),
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
            return Err(batch_error).with_context(|| self.path.display().to_string());
        }
        lines
            .map(|(number, line)| {
                serde_json::from_str::<&RawValue>(line).with_context(|| {
                    format!(
                        "{} line {}: not a JSON record",
                        self.path.display(),
                        number + 1
                    )
                })
            })
            .collect()
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

    fn raw_records(file: &InputFile) -> Vec<String> {
        file.records()
            .expect("records")
            .into_iter()
            .map(|raw| raw.get().to_owned())
            .collect()
    }

    #[test]
    fn reads_a_records_batch() {
        let (_dir, file) = input("batch.json", br#"{"Records":[{"a":1},{"b":[2]}]}"#);
        assert_eq!(
            raw_records(&file.expect("read")),
            [r#"{"a":1}"#, r#"{"b":[2]}"#]
        );
    }

    #[test]
    fn reads_json_lines_skipping_blank_lines() {
        let (_dir, file) = input("lines.jsonl", b"{\"a\":1}\n\n  \n{\"b\":2}\n");
        assert_eq!(
            raw_records(&file.expect("read")),
            [r#"{"a":1}"#, r#"{"b":2}"#]
        );
    }

    #[test]
    fn recognises_gzip_by_its_bytes_not_its_name() {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder
            .write_all(br#"{"Records":[{"a":1}]}"#)
            .expect("compress");
        let (_dir, file) = input("no-extension", &encoder.finish().expect("finish"));
        assert_eq!(raw_records(&file.expect("read")), [r#"{"a":1}"#]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let (_dir, file) = input("lines.jsonl", b"{\"a\":1}\n{\"b\":\n");
        let error = file.expect("read").records().expect_err("bad line");
        assert!(
            format!("{error:#}").contains("lines.jsonl line 2: not a JSON record"),
            "{error:#}"
        );
    }

    #[test]
    fn a_broken_batch_reports_the_json_position() {
        let (_dir, file) = input("batch.json", b"{\"Records\":[{\"a\":1},\n  {\"b\" 2}]}");
        let error = file.expect("read").records().expect_err("broken batch");
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
