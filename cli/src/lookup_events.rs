//! `cairn lookup-events`: `aws cloudtrail lookup-events` over Cairn's 90-day event history, with
//! the AWS CLI's options and output, so commands and scripts written for one work on the other.

use std::fs;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use cairn_shared::history::{self, LookupAttribute, LookupError, LookupEvent, LookupQuery};
use cairn_shared::ports::object_store::ObjectStore;
use clap::{Args, ValueEnum};
use time::OffsetDateTime;

use crate::args::{parse_timestamp, region};
use crate::output::{AwsCliError, to_aws_cli_json, write_table};

/// Looks up management events in Cairn's event history, as `aws cloudtrail lookup-events` does.
///
/// The history keeps the last 90 days of management events per account and Region. Events come
/// newest first, with LookupEvents' fields; CloudTrailEvent is the whole record as a JSON string.
///
/// Like the AWS CLI, the command follows NextToken and prints every matching event, unless
/// --max-results, --next-token or --no-paginate asks for one page (which then ends with the
/// NextToken for the next one).
///
/// Examples:
///
///   cairn lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=ConsoleLogin
///
///   cairn lookup-events --region eu-west-1 \
///     --lookup-attributes AttributeKey=Username,AttributeValue=alice \
///     --start-time 2024-08-01T00:00:00Z --end-time 2024-08-02 --output table
///
///   cairn lookup-events --max-results 5
///   cairn lookup-events --max-results 5 --next-token <NextToken from the previous page>
#[derive(Debug, Clone, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct LookupEventsArgs {
    /// The one attribute to filter on, in the AWS CLI's shorthand
    /// (AttributeKey=EventName,AttributeValue=RunInstances) or as JSON
    /// ('[{"AttributeKey":"EventName","AttributeValue":"RunInstances"}]'), or file://PATH holding
    /// either. Keys: EventId, EventName, ReadOnly (true or false), Username, ResourceType,
    /// ResourceName, EventSource, AccessKeyId. Values match exactly, case included.
    #[arg(long, value_name = "ATTRIBUTE", num_args = 1.., value_parser = parse_lookup_attributes)]
    pub lookup_attributes: Vec<AttributeList>,

    /// Only events at or after this time: ISO 8601 / RFC 3339 (2024-08-01T12:00:00Z, with an
    /// offset, or without one for UTC; 2024-08-01 for midnight UTC) or epoch seconds.
    /// Default: 90 days ago.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub start_time: Option<OffsetDateTime>,

    /// Only events at or before this time, in the forms --start-time takes. Default: now.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub end_time: Option<OffsetDateTime>,

    /// Events per page, 1 to 50 (default 50). Prints that one page and its NextToken.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_results: Option<i64>,

    /// The NextToken a previous page printed; pass the same --lookup-attributes, --start-time,
    /// --end-time and --region with it. Prints that one page.
    #[arg(long, value_name = "TOKEN")]
    pub next_token: Option<String>,

    /// Prints only the first page, with its NextToken.
    #[arg(long)]
    pub no_paginate: bool,

    /// json: LookupEvents' response as the AWS CLI prints it. table: one aligned line per
    /// event (EventTime, EventName, Username, EventSource, ReadOnly, EventId, Resources).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,

    /// The Region whose history to read. Default: AWS_REGION, else AWS_DEFAULT_REGION, else
    /// us-east-1. Global service events (IAM, STS's global endpoint, …) are in us-east-1.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// The lookup attributes one `--lookup-attributes` value holds (JSON can hold several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeList(pub Vec<LookupAttribute>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Json,
    Table,
}

impl LookupEventsArgs {
    /// The request these options make, without a NextToken.
    fn query(&self) -> LookupQuery {
        LookupQuery {
            lookup_attributes: self
                .lookup_attributes
                .iter()
                .flat_map(|list| list.0.iter().cloned())
                .collect(),
            start_time: self.start_time,
            end_time: self.end_time,
            max_results: self.max_results,
            next_token: self.next_token.clone(),
        }
    }

    /// Whether to follow NextToken to the end, as the AWS CLI does unless told otherwise.
    fn paginates(&self) -> bool {
        !self.no_paginate && self.max_results.is_none() && self.next_token.is_none()
    }
}

/// Runs the lookup against the history in `bucket` for `account` and prints the result to
/// stdout. CloudTrail's own errors come back as the AWS CLI words them: "An error occurred
/// (InvalidTimeRangeException) when calling the LookupEvents operation: …".
pub(crate) async fn run(
    args: &LookupEventsArgs,
    store: &dyn ObjectStore,
    bucket: &str,
    account: &str,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    let region = region(args.region.as_deref());
    let mut out = std::io::stdout();
    print(args, store, bucket, account, &region, now, &mut out).await?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn aws_error(error: LookupError) -> anyhow::Error {
    match error.code() {
        Some(code) => AwsCliError {
            code,
            operation: "LookupEvents",
            message: error.to_string(),
        }
        .into(),
        None => anyhow::Error::new(error).context("cannot read the event history"),
    }
}

/// Looks up page after page (or the one page asked for) and writes them to `out` as they come,
/// so memory holds one page whatever the history's size (the table holds its short columns).
async fn print<W: Write + Send>(
    args: &LookupEventsArgs,
    store: &dyn ObjectStore,
    bucket: &str,
    account: &str,
    region: &str,
    now: OffsetDateTime,
    out: &mut W,
) -> Result<()> {
    let mut query = args.query();
    let mut printer = match args.output {
        OutputFormat::Json => Printer::Json { events: 0 },
        OutputFormat::Table => Printer::Table { rows: Vec::new() },
    };
    loop {
        let page = history::lookup(store, bucket, account, region, &query, now)
            .await
            .map_err(aws_error)?;
        for event in &page.events {
            printer.event(event, out)?;
        }
        match page.next_token {
            Some(token) if args.paginates() => query.next_token = Some(token),
            last => return printer.finish(last.as_deref(), out),
        }
    }
}

enum Printer {
    /// JSON indented by four spaces, as the AWS CLI prints it; events are written as they come.
    Json {
        events: usize,
    },
    Table {
        rows: Vec<[String; 7]>,
    },
}

impl Printer {
    fn event(&mut self, event: &LookupEvent, out: &mut impl Write) -> Result<()> {
        match self {
            Printer::Json { events } => {
                out.write_all(if *events == 0 {
                    b"{\n    \"Events\": [\n"
                } else {
                    b",\n"
                })?;
                let json = to_aws_cli_json(event)?;
                let mut lines = json.lines().peekable();
                while let Some(line) = lines.next() {
                    write!(out, "        {line}")?;
                    if lines.peek().is_some() {
                        out.write_all(b"\n")?;
                    }
                }
                *events += 1;
            }
            Printer::Table { rows } => rows.push(table_row(event)),
        }
        Ok(())
    }

    fn finish(self, next_token: Option<&str>, out: &mut impl Write) -> Result<()> {
        match self {
            Printer::Json { events } => {
                if events == 0 {
                    out.write_all(b"{\n    \"Events\": []")?;
                } else {
                    out.write_all(b"\n    ]")?;
                }
                if let Some(token) = next_token {
                    write!(
                        out,
                        ",\n    \"NextToken\": {}",
                        serde_json::to_string(token)?
                    )?;
                }
                out.write_all(b"\n}\n")?;
            }
            Printer::Table { rows } => {
                write_table(TABLE_HEADER, &rows, out)?;
                if rows.is_empty() {
                    writeln!(out, "(no events)")?;
                }
                if let Some(token) = next_token {
                    writeln!(out, "\nNextToken: {token}")?;
                }
            }
        }
        Ok(())
    }
}

const TABLE_HEADER: [&str; 7] = [
    "EventTime",
    "EventName",
    "Username",
    "EventSource",
    "ReadOnly",
    "EventId",
    "Resources",
];

fn table_row(event: &LookupEvent) -> [String; 7] {
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    let time = serde_json::to_value(event)
        .ok()
        .and_then(|json| json["EventTime"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let resources: Vec<String> = event
        .resources
        .iter()
        .map(
            |resource| match (&resource.resource_type, &resource.resource_name) {
                (Some(kind), Some(name)) => format!("{kind} {name}"),
                (Some(only), None) | (None, Some(only)) => only.clone(),
                (None, None) => String::new(),
            },
        )
        .collect();
    [
        time,
        text(&event.event_name),
        text(&event.username),
        text(&event.event_source),
        text(&event.read_only),
        text(&event.event_id),
        if resources.is_empty() {
            "-".to_owned()
        } else {
            resources.join(", ")
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Argument parsing

/// One `--lookup-attributes` value: shorthand, JSON, or `file://` holding either.
fn parse_lookup_attributes(text: &str) -> Result<AttributeList, String> {
    if let Some(path) = text.strip_prefix("file://") {
        let contents = fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        return parse_lookup_attributes(contents.trim());
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return serde_json::from_str::<Vec<LookupAttribute>>(trimmed)
            .map(AttributeList)
            .map_err(|e| format!("invalid JSON for LookupAttributes: {e}"));
    }
    if trimmed.starts_with('{') {
        return serde_json::from_str::<LookupAttribute>(trimmed)
            .map(|attribute| AttributeList(vec![attribute]))
            .map_err(|e| format!("invalid JSON for a LookupAttribute: {e}"));
    }
    parse_shorthand(text).map(|attribute| AttributeList(vec![attribute]))
}

/// `AttributeKey=…,AttributeValue=…` in the AWS CLI's shorthand: values may be quoted with `"`
/// or `'` (to hold commas), and a backslash takes the next character literally.
fn parse_shorthand(text: &str) -> Result<LookupAttribute, String> {
    let mut key = None;
    let mut value = None;
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        let name = name.trim();
        if name.is_empty() || name.contains(',') {
            return Err(format!(
                "expected AttributeKey=…,AttributeValue=… (or JSON), got {text:?}"
            ));
        }
        let mut parsed = String::new();
        match chars.peek().copied() {
            Some(quote @ ('"' | '\'')) => {
                chars.next();
                loop {
                    match chars.next() {
                        Some('\\') if chars.peek().is_some_and(|&c| c == quote || c == '\\') => {
                            parsed.extend(chars.next());
                        }
                        Some(c) if c == quote => break,
                        Some(c) => parsed.push(c),
                        None => return Err(format!("unterminated {quote} in {text:?}")),
                    }
                }
                match chars.next() {
                    None | Some(',') => {}
                    Some(c) => return Err(format!("unexpected {c:?} after a quoted value")),
                }
            }
            _ => loop {
                match chars.next() {
                    Some('\\') => parsed.extend(chars.next()),
                    Some(',') | None => break,
                    Some(c) => parsed.push(c),
                }
            },
        }
        let slot = match name {
            "AttributeKey" => &mut key,
            "AttributeValue" => &mut value,
            other => {
                return Err(format!(
                    "Unknown parameter in LookupAttributes: \"{other}\", must be one of: \
                     AttributeKey, AttributeValue"
                ));
            }
        };
        if slot.replace(parsed).is_some() {
            return Err(format!("{name} is given twice in {text:?}"));
        }
    }
    match (key, value) {
        (Some(attribute_key), Some(attribute_value)) => Ok(LookupAttribute {
            attribute_key,
            attribute_value,
        }),
        (None, _) => Err("Missing required parameter in LookupAttributes: \"AttributeKey\"".into()),
        (_, None) => {
            Err("Missing required parameter in LookupAttributes: \"AttributeValue\"".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use cairn_shared::adapters::local::LocalObjectStore;
    use cairn_shared::config::Config;
    use cairn_shared::delivery::Deliverer;
    use cairn_shared::ingest::Ingestor;
    use cairn_shared::service::Service;
    use clap::{CommandFactory, Parser};
    use serde_json::Value;
    use std::path::PathBuf;
    use time::format_description::well_known::Rfc3339;

    const BUCKET: &str = "cairn-state";
    const ACCOUNT: &str = "111122223333";

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: LookupEventsArgs,
    }

    fn args(argv: &[&str]) -> LookupEventsArgs {
        Cli::try_parse_from(std::iter::once("lookup-events").chain(argv.iter().copied()))
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
            .args
    }

    fn refused(argv: &[&str]) -> String {
        match Cli::try_parse_from(std::iter::once("lookup-events").chain(argv.iter().copied())) {
            Ok(_) => panic!("{argv:?} accepted"),
            Err(error) => error.to_string(),
        }
    }

    fn attribute(key: &str, value: &str) -> LookupAttribute {
        LookupAttribute {
            attribute_key: key.to_owned(),
            attribute_value: value.to_owned(),
        }
    }

    fn utc(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).expect("time")
    }

    #[test]
    fn lookup_attributes_take_shorthand_json_and_files() {
        let parsed = args(&[
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=ConsoleLogin",
        ]);
        assert_eq!(
            parsed.query().lookup_attributes,
            [attribute("EventName", "ConsoleLogin")]
        );
        // Order free; quotes hold commas; a backslash escapes.
        let parsed = args(&[
            "--lookup-attributes",
            "AttributeValue='a,b c',AttributeKey=ResourceName",
        ]);
        assert_eq!(
            parsed.query().lookup_attributes,
            [attribute("ResourceName", "a,b c")]
        );
        let parsed = args(&[
            "--lookup-attributes",
            r#"AttributeKey=ResourceName,AttributeValue="say \"hi\"""#,
        ]);
        assert_eq!(
            parsed.query().lookup_attributes,
            [attribute("ResourceName", "say \"hi\"")]
        );
        let parsed = args(&[
            "--lookup-attributes",
            r"AttributeKey=ResourceName,AttributeValue=x\,y",
        ]);
        assert_eq!(
            parsed.query().lookup_attributes,
            [attribute("ResourceName", "x,y")]
        );
        // An empty value is a value.
        let parsed = args(&[
            "--lookup-attributes",
            "AttributeKey=ResourceName,AttributeValue=",
        ]);
        assert_eq!(
            parsed.query().lookup_attributes,
            [attribute("ResourceName", "")]
        );
        // JSON, as the AWS CLI takes it.
        let parsed = args(&[
            "--lookup-attributes",
            r#"[{"AttributeKey":"Username","AttributeValue":"alice"}]"#,
        ]);
        assert_eq!(
            parsed.query().lookup_attributes,
            [attribute("Username", "alice")]
        );
        // Several items reach the lookup, which refuses them as AWS does.
        let parsed = args(&[
            "--lookup-attributes",
            "AttributeKey=Username,AttributeValue=alice",
            "AttributeKey=ReadOnly,AttributeValue=true",
        ]);
        assert_eq!(parsed.query().lookup_attributes.len(), 2);
        // file://
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("attributes.json");
        fs::write(
            &path,
            r#"[{"AttributeKey":"EventSource","AttributeValue":"iam.amazonaws.com"}]"#,
        )
        .expect("write");
        let parsed = args(&["--lookup-attributes", &format!("file://{}", path.display())]);
        assert_eq!(
            parsed.query().lookup_attributes,
            [attribute("EventSource", "iam.amazonaws.com")]
        );

        for bad in [
            "AttributeKey=EventName",
            "AttributeValue=x",
            "AttributeKey=EventName,AttributeValue=x,Extra=y",
            "AttributeKey=EventName,AttributeValue=x,AttributeValue=y",
            "EventName",
            "AttributeKey=EventName,AttributeValue='x",
            r#"[{"AttributeKey":"EventName","Value":"x"}]"#,
        ] {
            refused(&["--lookup-attributes", bad]);
        }
        assert!(
            refused(&["--lookup-attributes", "Key=EventName,AttributeValue=x"])
                .contains("must be one of: AttributeKey, AttributeValue")
        );
    }

    #[test]
    fn time_options_take_the_aws_cli_s_timestamps() {
        let parsed = args(&[
            "--start-time",
            "2024-08-01",
            "--end-time",
            "1722513600",
            "--max-results",
            "-1",
        ]);
        assert_eq!(parsed.start_time, Some(utc("2024-08-01T00:00:00Z")));
        assert_eq!(parsed.end_time, Some(utc("2024-08-01T12:00:00Z")));
        assert_eq!(parsed.max_results, Some(-1));
    }

    #[test]
    fn help_teaches_by_example() {
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=ConsoleLogin",
            "--start-time",
            "--end-time",
            "--max-results",
            "--next-token",
            "--output",
            "--region",
            "AWS_DEFAULT_REGION",
            "epoch seconds",
        ] {
            assert!(help.contains(needle), "{needle} missing from:\n{help}");
        }
    }

    // -----------------------------------------------------------------------------------------
    // Running against a history

    /// A store holding the AWS documentation's example records, ingested and delivered.
    async fn store() -> (tempfile::TempDir, LocalObjectStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        store.create_bucket(BUCKET).await.expect("bucket");
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/awsdocs_user_guide_examples/awsdocs_example_records.json");
        let text = fs::read_to_string(path).expect("fixture");
        let config = Config::from_yaml(
            &format!("accountId: \"{ACCOUNT}\"\nstateBucket: {BUCKET}\n"),
            "test",
        )
        .expect("config");
        Ingestor::new(
            &config,
            &store,
            "us-east-1",
            "arn:aws:cloudtrail:us-east-1:111122223333:channel/test",
        )
        .handle(&text, now())
        .await
        .expect("ingest");
        Deliverer::new(&config, &store, None)
            .handle(&time::Duration::minutes(1), now())
            .await
            .expect("deliver");
        (dir, store)
    }

    /// The fixture's ConsoleLogin and CheckMfa examples all happened at this second, in
    /// us-east-1 for account 111122223333.
    fn now() -> OffsetDateTime {
        utc("2022-11-10T17:00:00Z")
    }

    async fn output(argv: &[&str], store: &LocalObjectStore) -> Result<String> {
        let parsed = args(argv);
        let region = crate::args::resolve_region(parsed.region.as_deref(), |_| None);
        let mut out = Vec::new();
        print(&parsed, store, BUCKET, ACCOUNT, &region, now(), &mut out).await?;
        Ok(String::from_utf8(out)?)
    }

    #[tokio::test]
    async fn json_output_is_the_aws_cli_s() {
        let (_dir, store) = store().await;
        let text = output(
            &[
                "--lookup-attributes",
                "AttributeKey=EventName,AttributeValue=ConsoleLogin",
            ],
            &store,
        )
        .await
        .expect("lookup");
        // Indented by four spaces, members in the API's order.
        assert!(
            text.starts_with("{\n    \"Events\": [\n        {\n            \"EventId\": \""),
            "{text}"
        );
        assert!(text.ends_with("\n        }\n    ]\n}\n"), "{text}");
        let json: Value = serde_json::from_str(&text).expect("valid JSON");
        let events = json["Events"].as_array().expect("events");
        // Five ConsoleLogin examples at that second, one of them a repeat of another.
        assert_eq!(events.len(), 4, "{text}");
        assert!(json.get("NextToken").is_none());
        for event in events {
            assert_eq!(event["EventName"], "ConsoleLogin");
            assert_eq!(event["EventTime"], "2022-11-10T16:24:34+00:00");
            assert_eq!(event["EventSource"], "signin.amazonaws.com");
            assert_eq!(event["ReadOnly"], "false");
            assert_eq!(event["Resources"], serde_json::json!([]));
            let record: Value =
                serde_json::from_str(event["CloudTrailEvent"].as_str().expect("string"))
                    .expect("record JSON");
            assert_eq!(record["eventID"], event["EventId"]);
        }
        let users: Vec<&str> = events
            .iter()
            .map(|event| event["Username"].as_str().expect("username"))
            .collect();
        assert_eq!(users.iter().filter(|&&user| user == "root").count(), 2);
        assert!(users.contains(&"anaya"));
        // Ordered by eventID, descending, within the second.
        let ids: Vec<&str> = events
            .iter()
            .map(|event| event["EventId"].as_str().expect("id"))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(ids, sorted);
    }

    #[tokio::test]
    async fn one_page_when_asked_and_every_page_otherwise() {
        let (_dir, store) = store().await;
        let all = output(&[], &store).await.expect("all");
        let all: Value = serde_json::from_str(&all).expect("json");
        let events = all["Events"].as_array().expect("events");
        // Every management example of account 111122223333 in us-east-1 less than 90 days old.
        assert!(events.len() > 3, "{all}");
        assert!(all.get("NextToken").is_none());

        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut argv = vec!["--max-results", "2"];
            if let Some(token) = &token {
                argv.extend(["--next-token", token.as_str()]);
            }
            let page = output(&argv, &store).await.expect("page");
            let page: Value = serde_json::from_str(&page).expect("json");
            let events = page["Events"].as_array().expect("events").clone();
            assert!(events.len() <= 2);
            seen.extend(events);
            match page.get("NextToken").and_then(Value::as_str) {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(&seen, events);

        let first = output(&["--no-paginate"], &store).await.expect("first");
        let first: Value = serde_json::from_str(&first).expect("json");
        assert_eq!(first["Events"], all["Events"], "fewer than 50: one page");
    }

    #[tokio::test]
    async fn empty_results_and_tables() {
        let (_dir, store) = store().await;
        let none = output(
            &[
                "--lookup-attributes",
                "AttributeKey=EventName,AttributeValue=NoSuchCall",
            ],
            &store,
        )
        .await
        .expect("lookup");
        assert_eq!(none, "{\n    \"Events\": []\n}\n");

        let table = output(
            &[
                "--lookup-attributes",
                "AttributeKey=Username,AttributeValue=anaya",
                "--output",
                "table",
                "--max-results",
                "1",
            ],
            &store,
        )
        .await
        .expect("table");
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[0].starts_with("EventTime                  EventName     Username  EventSource"),
            "{table}"
        );
        assert!(
            lines[1].starts_with("-------------------------  "),
            "{table}"
        );
        assert!(
            lines[2].starts_with("2022-11-10T16:24:34+00:00  "),
            "{table}"
        );
        assert!(lines[2].contains("anaya"));
        assert!(lines[2].contains("signin.amazonaws.com"));
        assert_eq!(lines[3], "");
        assert!(lines[4].starts_with("NextToken: "), "{table}");
        // Columns line up.
        let column = lines[0].find("Username").expect("column");
        assert_eq!(&lines[2][column..column + 5], "anaya");
        assert!(lines.iter().all(|line| line.trim_end() == *line));

        let empty = output(&["--region", "eu-west-3", "--output", "table"], &store)
            .await
            .expect("empty table");
        assert!(empty.ends_with("(no events)\n"), "{empty}");
    }

    #[tokio::test]
    async fn cloudtrail_errors_read_as_the_aws_cli_prints_them() {
        let (_dir, store) = store().await;
        let cases: [(&[&str], &str); 5] = [
            (&["--max-results", "0"], "InvalidMaxResultsException"),
            (&["--max-results", "51"], "InvalidMaxResultsException"),
            (
                &["--start-time", "2022-11-10", "--end-time", "2022-11-09"],
                "InvalidTimeRangeException",
            ),
            (
                &[
                    "--lookup-attributes",
                    "AttributeKey=Region,AttributeValue=us-east-1",
                ],
                "InvalidLookupAttributesException",
            ),
            (&["--next-token", "bogus"], "InvalidNextTokenException"),
        ];
        for (argv, code) in cases {
            let error = output(argv, &store).await.expect_err(code).to_string();
            assert!(
                error.starts_with(&format!(
                    "An error occurred ({code}) when calling the LookupEvents operation: "
                )),
                "{error}"
            );
        }
        let two = output(
            &[
                "--lookup-attributes",
                "AttributeKey=Username,AttributeValue=root",
                "AttributeKey=ReadOnly,AttributeValue=false",
            ],
            &store,
        )
        .await
        .expect_err("two attributes")
        .to_string();
        assert!(two.contains("(InvalidLookupAttributesException)"), "{two}");
    }

    #[tokio::test]
    async fn run_prints_and_succeeds() {
        let (_dir, store) = store().await;
        let parsed = args(&["--region", "us-east-1", "--max-results", "1"]);
        let code = run(&parsed, &store, BUCKET, ACCOUNT, now())
            .await
            .expect("run");
        assert_eq!(code, ExitCode::SUCCESS);
    }
}
