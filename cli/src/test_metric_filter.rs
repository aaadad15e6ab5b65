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

/// TestMetricFilter takes 1 to 50 messages, each at least 1 character: `TestEventMessages` is a
/// list with `"min": 1, "max": 50` and `EventMessage` a string with `"min": 1` in botocore's
/// model (`botocore/data/logs/2014-03-28/service-2.json`), as the API reference says ("Array
/// Members: Minimum number of 1 item. Maximum number of 50 items. Length Constraints: Minimum
/// length of 1.", docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TestMetricFilter.html).
const MAX_MESSAGES: usize = 50;

/// What the AWS CLI refuses before sending: botocore's parameter validation checks each `min`
/// of the model (`botocore/validate.py`, `range_check`: minimums only), and aws-cli prints
/// `ParamValidationError`, "Parameter validation failed:" and one line per problem
/// (`botocore/exceptions.py`; each line as `ValidationErrors._format_error` words an "invalid
/// length").
#[derive(Debug, thiserror::Error)]
#[error("Parameter validation failed:\n{}", .problems.join("\n"))]
struct ParamValidationError {
    problems: Vec<String>,
}

/// The messages aws-cli would send, or what it prints instead.
fn check_client_side(messages: &[String]) -> Result<(), ParamValidationError> {
    let too_short = |name: String| {
        format!("Invalid length for parameter {name}, value: 0, valid min length: 1")
    };
    let mut problems = Vec::new();
    if messages.is_empty() {
        problems.push(too_short("logEventMessages".to_owned()));
    }
    problems.extend(
        messages
            .iter()
            .enumerate()
            .filter(|(_, message)| message.is_empty())
            .map(|(index, _)| too_short(format!("logEventMessages[{index}]"))),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ParamValidationError { problems })
    }
}

/// The service checks the model's maximums: more than 50 messages is an
/// InvalidParameterException worded as CloudWatch Logs words a broken length constraint, e.g.
/// "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member
/// must have length greater than or equal to 1" (PutLogEvents, lazywithclass/winston-cloudwatch
/// issue 55) and "… failed to satisfy constraint: Member must have length less than or equal to
/// 100" for a maximum (matt-filion/serverless-external-s3-event pull request 51); the value is
/// the list as Java prints one, `[a, b]`.
fn check_service_side(messages: &[String]) -> Result<(), AwsCliError> {
    if messages.len() <= MAX_MESSAGES {
        return Ok(());
    }
    Err(AwsCliError {
        code: "InvalidParameterException",
        operation: "TestMetricFilter",
        message: format!(
            "1 validation error detected: Value '[{}]' at 'logEventMessages' failed to satisfy \
             constraint: Member must have length less than or equal to {MAX_MESSAGES}",
            messages.join(", ")
        ),
    })
}

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
    // In aws-cli's order: its own checks before sending, then the service's constraints
    // before the pattern.
    check_client_side(&messages)?;
    check_service_side(&messages)?;
    let pattern = FilterPattern::parse(pattern).map_err(|error| AwsCliError {
        code: "InvalidParameterException",
        operation: "TestMetricFilter",
        message: error.to_string(),
    })?;
    write_aws_cli_json(
        &mut std::io::stdout().lock(),
        &response(&pattern, &messages),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Each message the pattern matches, with its 1-based position among the messages.
///
/// AWS numbers from 1: aws-cli's own example (`awscli/examples/logs/test-metric-filter.rst` in
/// aws/aws-cli) tests `ERROR` on three messages, the first two matching, and shows the output
/// with eventNumber 1 and 2. That decided it over the API reference's examples, which number
/// from 0 but are written by hand (their extracted `$size` is "1534," with the comma of the
/// JSON around it); a third party's recorded probe of the live service agrees with aws-cli (an
/// empty pattern over 18 messages answered eventNumber 1 through 18).
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

    /// aws-cli's example (awscli/examples/logs/test-metric-filter.rst): `ERROR` on
    /// "[ERROR] 400 BAD REQUEST" twice and "[INFO] 200 OK" prints eventNumber 1 and 2.
    #[test]
    fn matches_are_numbered_from_1_as_aws_clis_example_shows() {
        let output = rendered(
            "ERROR",
            &[
                "[ERROR] 400 BAD REQUEST",
                "[ERROR] 400 BAD REQUEST",
                "[INFO] 200 OK",
            ],
        );
        assert_eq!(
            output,
            r#"{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "[ERROR] 400 BAD REQUEST",
            "extractedValues": {}
        },
        {
            "eventNumber": 2,
            "eventMessage": "[ERROR] 400 BAD REQUEST",
            "extractedValues": {}
        }
    ]
}"#
        );
    }

    fn refusal(messages: &[&str]) -> String {
        let messages: Vec<String> = messages.iter().map(|m| (*m).to_owned()).collect();
        run("ERROR", &messages, None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| panic!("{} messages were taken", messages.len()))
    }

    /// botocore checks the model's minimums before sending (TestEventMessages `min` 1,
    /// EventMessage `min` 1) and aws-cli prints its ParamValidationError.
    #[test]
    fn no_messages_or_an_empty_one_is_refused_as_aws_cli_refuses_it() {
        assert_eq!(
            refusal(&[]),
            "Parameter validation failed:\n\
             Invalid length for parameter logEventMessages, value: 0, valid min length: 1"
        );
        assert_eq!(
            refusal(&["ERROR", "", "x", ""]),
            "Parameter validation failed:\n\
             Invalid length for parameter logEventMessages[1], value: 0, valid min length: 1\n\
             Invalid length for parameter logEventMessages[3], value: 0, valid min length: 1"
        );
    }

    /// The service checks TestEventMessages' `max` 50 and answers an InvalidParameterException
    /// in CloudWatch Logs' constraint wording.
    #[test]
    fn more_than_50_messages_are_an_invalid_parameter() {
        let messages: Vec<String> = (0..51).map(|i| format!("m{i}")).collect();
        assert!(run("ERROR", &messages[..50], None).is_ok());
        let fifty_one: Vec<&str> = messages.iter().map(String::as_str).collect();
        assert_eq!(
            refusal(&fifty_one),
            format!(
                "An error occurred (InvalidParameterException) when calling the TestMetricFilter \
                 operation: 1 validation error detected: Value '[{}]' at 'logEventMessages' \
                 failed to satisfy constraint: Member must have length less than or equal to 50",
                messages.join(", ")
            )
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
        let error = run("{ $.a = ", &["x".to_owned()], None)
            .err()
            .map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.starts_with(
                "An error occurred (InvalidParameterException) when calling the TestMetricFilter \
                 operation: Invalid metric filter pattern at character"
            )),
            "{error:?}"
        );
    }
}
