//! `cairn test-metric-filter`: `aws logs test-metric-filter` on this machine, with the same
//! engine the forward function runs, so a pattern can be tried on real events before it goes
//! into cairn.yaml (or into CloudWatch Logs).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cairn_shared::filter::FilterPattern;
use serde::Serialize;

use crate::output::{AwsCliError, write_aws_cli_json};

/// TestMetricFilter's response, members in the API's order.
#[derive(Serialize)]
struct Response<'a> {
    matches: Vec<MatchRecord<'a>>,
}

/// MetricFilterMatchRecord.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MatchRecord<'a> {
    event_number: usize,
    event_message: &'a str,
    extracted_values: BTreeMap<String, String>,
}

pub(crate) fn run(
    pattern: &str,
    messages: &[String],
    messages_file: Option<&Path>,
) -> Result<ExitCode> {
    let pattern = FilterPattern::parse(pattern).map_err(|error| AwsCliError {
        code: "InvalidParameterException",
        operation: "TestMetricFilter",
        message: error.to_string(),
    })?;
    let mut messages = messages.to_vec();
    if let Some(path) = messages_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        // AWS refuses empty messages; a blank line (a trailing newline, say) is not one.
        messages.extend(
            text.lines()
                .filter(|line| !line.is_empty())
                .map(str::to_owned),
        );
    }
    write_aws_cli_json(
        &mut std::io::stdout().lock(),
        &response(&pattern, &messages),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Each message the pattern matches, with its 1-based position among the messages.
fn response<'a>(pattern: &FilterPattern, messages: &'a [String]) -> Response<'a> {
    Response {
        matches: messages
            .iter()
            .enumerate()
            .filter_map(|(index, message)| {
                Some(MatchRecord {
                    event_number: index + 1,
                    event_message: message,
                    extracted_values: pattern.matches(message)?.extracted_values,
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::to_aws_cli_json;

    /// The response as the AWS CLI prints it, without the final newline.
    fn rendered(pattern: &str, messages: &[&str]) -> String {
        let pattern = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{e}"));
        let messages: Vec<String> = messages.iter().map(|m| (*m).to_owned()).collect();
        to_aws_cli_json(&response(&pattern, &messages)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn matches_keep_their_position_and_extracted_values() {
        let output = rendered(
            "[ip, user, ..., status = 404, bytes]",
            &["ERROR boom", "127.0.0.1 frank GET /index.html 404 1534"],
        );
        assert_eq!(
            output,
            r#"{
    "matches": [
        {
            "eventNumber": 2,
            "eventMessage": "127.0.0.1 frank GET /index.html 404 1534",
            "extractedValues": {
                "$3": "GET",
                "$4": "/index.html",
                "$bytes": "1534",
                "$ip": "127.0.0.1",
                "$status": "404",
                "$user": "frank"
            }
        }
    ]
}"#
        );
    }

    #[test]
    fn patterns_that_extract_nothing_report_empty_values() {
        let output = rendered("\"disk full\"", &["ERROR: disk full ✗", "OK"]);
        assert_eq!(
            output,
            r#"{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "ERROR: disk full ✗",
            "extractedValues": {}
        }
    ]
}"#
        );
    }

    #[test]
    fn no_match_is_an_empty_list() {
        assert_eq!(
            rendered("ERROR", &["all good"]),
            "{\n    \"matches\": []\n}"
        );
    }

    #[test]
    fn an_invalid_pattern_is_an_invalid_parameter() {
        let error = run("{ $.a = ", &[], None).err().map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.starts_with(
                "An error occurred (InvalidParameterException) when calling the TestMetricFilter \
                 operation: Invalid metric filter pattern at character"
            )),
            "{error:?}"
        );
    }
}
