//! Printers several commands share: JSON and errors as the AWS CLI prints them.

use std::io::{self, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use serde::Serialize;
use serde_json::ser::PrettyFormatter;

/// Output that could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    #[error("cannot print the answer as JSON")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the output")]
    Write(#[from] io::Error),
}

/// An error a service answered, worded as the AWS CLI prints it, so scripts that look for
/// "An error occurred (InvalidTimeRangeException)" work on Cairn too.
#[derive(Debug, thiserror::Error)]
#[error("An error occurred ({code}) when calling the {operation} operation: {message}")]
pub(crate) struct AwsCliError {
    pub code: &'static str,
    pub operation: &'static str,
    pub message: String,
}

/// `value` as JSON the way the AWS CLI prints it: indented by four spaces, non-ASCII kept, no
/// newline at the end.
pub(crate) fn to_aws_cli_json(value: &impl Serialize) -> Result<String, serde_json::Error> {
    let mut bytes = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut bytes, PrettyFormatter::with_indent(b"    "));
    value.serialize(&mut serializer)?;
    // serde_json writes UTF-8 only; this is never taken.
    String::from_utf8(bytes).map_err(serde::ser::Error::custom)
}

/// A whole answer as the AWS CLI prints it: [`to_aws_cli_json`] and a newline.
pub(crate) fn write_aws_cli_json(
    out: &mut impl Write,
    value: &impl Serialize,
) -> Result<(), OutputError> {
    writeln!(out, "{}", to_aws_cli_json(value)?)?;
    Ok(())
}

/// A bar of files read so far, drawn on stderr while it is a terminal (hidden otherwise, so
/// pipes and logs get none of it); its length is set once the files are listed.
/// `what` names the count, e.g. "files read".
pub(crate) fn files_progress_bar(what: &str) -> ProgressBar {
    let target = if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}})"
        ))
        .expect("a valid template"),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_indented_by_four_spaces_and_keeps_non_ascii() {
        let value = serde_json::json!({"matches": [{"eventMessage": "disk full ✗"}]});
        assert_eq!(
            to_aws_cli_json(&value).expect("json"),
            "{\n    \"matches\": [\n        {\n            \"eventMessage\": \"disk full ✗\"\n        }\n    ]\n}"
        );
        let mut out = Vec::new();
        write_aws_cli_json(&mut out, &serde_json::json!({"PublicKeyList": []})).expect("write");
        assert_eq!(out, b"{\n    \"PublicKeyList\": []\n}\n");
    }

    #[test]
    fn errors_read_as_the_aws_cli_s() {
        let error = AwsCliError {
            code: "InvalidMaxResultsException",
            operation: "LookupEvents",
            message: "MaxResults must be between 1 and 50.".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "An error occurred (InvalidMaxResultsException) when calling the LookupEvents \
             operation: MaxResults must be between 1 and 50."
        );
    }
}
