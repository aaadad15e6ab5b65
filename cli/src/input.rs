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
