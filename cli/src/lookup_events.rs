//! `cairn lookup-events`: `aws cloudtrail lookup-events` over Cairn's 90-day event history, with
//! the AWS CLI's (v1) options and output, so commands and scripts written for one work on the
//! other, and Cairn's extensions, each marked as such in `--help`.

use std::fs;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_shared::config::Config;
use cairn_shared::history::{
    self, Criteria, Extensions, LookupAttribute, LookupError, LookupEvent, LookupQuery,
};
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::record::Record;
use cairn_shared::search::TrailFiles;
use cairn_shared::trail::Trail;
use clap::{Args, ValueEnum};
use futures::StreamExt;
use indicatif::ProgressBar;
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::args::{parse_timestamp, region};
use crate::aws_table;
use crate::output::{AwsCliError, files_progress_bar, to_aws_cli_json};

/// Looks up management events in Cairn's event history, as `aws cloudtrail lookup-events` does.
///
/// The history keeps the last 90 days of management events per account and Region. Events come
/// newest first, with LookupEvents' fields; CloudTrailEvent is the whole record as a JSON string.
///
/// Like the AWS CLI, the command follows NextToken and prints every matching event: --page-size
/// sets how many events each lookup reads, --max-items stops after that many (printing a
/// NextToken that --starting-token continues from); --max-results, --next-token or
/// --no-paginate ask for one page (which then ends with the NextToken for the next one).
/// EventTime is printed as AWS CLI v1 prints it: epoch seconds (1424476529.0).
///
/// Cairn's extensions (not in the AWS CLI): several --lookup-attributes, all of which must
/// match; --filter-pattern; --output records; --trail, which searches a trail's delivered log
/// files instead of the history.
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
///
///   cairn lookup-events --trail main --start-time 2023-01-01 \
///     --filter-pattern '{ $.errorCode = "AccessDenied" }' --output records | head
#[derive(Debug, Clone, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct LookupEventsArgs {
    /// The attribute to filter on, in the AWS CLI's shorthand
    /// (AttributeKey=EventName,AttributeValue=RunInstances) or as JSON
    /// ('[{"AttributeKey":"EventName","AttributeValue":"RunInstances"}]'), or file://PATH holding
    /// either. Keys: EventId, EventName, ReadOnly (true or false), Username, ResourceType,
    /// ResourceName (the resource's name or ID, e.g. an IAM role's name), EventSource,
    /// AccessKeyId. Values match exactly, case included, and may not be empty.
    /// Cairn's extension: several attributes (AWS takes one), all of which must match.
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

    /// insight: Insights events (eventCategory Insight) instead of the others; they are looked
    /// up by EventId, EventName and EventSource only.
    #[arg(long, value_name = "CATEGORY")]
    pub event_category: Option<String>,

    /// How many events each lookup reads, 1 to 50 (default 50); the output is the same.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub page_size: Option<i64>,

    /// The most events to print. When more match, the output ends with a NextToken to pass
    /// to --starting-token.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pub max_items: Option<i64>,

    /// Where to start: the NextToken a previous --max-items output ended with.
    #[arg(long, value_name = "TOKEN")]
    pub starting_token: Option<String>,

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

    /// Cairn's extension: only events whose record matches this CloudWatch Logs filter
    /// pattern, e.g. '{ $.errorCode = "AccessDenied*" }' (the syntax of metric filters).
    #[arg(long, value_name = "PATTERN", allow_hyphen_values = true)]
    pub filter_pattern: Option<String>,

    /// json: LookupEvents' response as the AWS CLI prints it. table: the AWS CLI's table.
    /// records (Cairn's extension): each event's CloudTrail record, one JSON line each, as
    /// they are found.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,

    /// The Region whose history to read. Default: AWS_REGION, else AWS_DEFAULT_REGION, else
    /// us-east-1. Global service events (IAM, STS's global endpoint, …) are in us-east-1.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Cairn's extension: search the log files this trail (its name or ARN in cairn.yaml)
    /// delivered instead of the 90-day history: any time range (--start-time defaults to
    /// the beginning), data, network-activity and Insights events (--event-category insight:
    /// its CloudTrail-Insight/ files), every account and Region it delivers to. Reads only the
    /// day folders in range, 16 files at a time, on the embedded store, an `aws s3 sync` copy
    /// (--store DIR holding a folder per bucket) or S3 (--aws). Events come file by file in
    /// key order (the delivery time's, per account and Region), each file's in eventTime order,
    /// with no paging. A log file that cannot be read is named on stderr; the search goes on
    /// and exits 1 at the end.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = [
            "region", "page_size", "max_items", "starting_token", "max_results", "next_token",
            "no_paginate",
        ]
    )]
    pub trail: Option<String>,
}

/// The lookup attributes one `--lookup-attributes` value holds (JSON can hold several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeList(pub Vec<LookupAttribute>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Json,
    Table,
    Records,
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
            event_category: self.event_category.clone(),
            start_time: self.start_time,
            end_time: self.end_time,
            max_results: self.max_results,
            next_token: self.next_token.clone(),
            extensions: Some(Extensions {
                filter_pattern: self.filter_pattern.clone(),
            }),
        }
    }

    /// Whether to follow NextToken to the end, as the AWS CLI does unless told otherwise: the
    /// API's own paging options (--max-results, --next-token) turn it off
    /// (awscli/customizations/paginate.py, `check_should_enable_pagination`).
    fn paginates(&self) -> Result<bool> {
        let paginates =
            !self.no_paginate && self.max_results.is_none() && self.next_token.is_none();
        if !paginates {
            let used: Vec<&str> = [
                ("--starting-token", self.starting_token.is_some()),
                ("--page-size", self.page_size.is_some()),
                ("--max-items", self.max_items.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect();
            if !used.is_empty() {
                // aws-cli's PaginationError (`ensure_paging_params_not_set`).
                bail!(
                    "Cannot specify --no-paginate along with pagination arguments: {}",
                    used.join(", ")
                );
            }
        }
        Ok(paginates)
    }
}

/// The NextToken the AWS CLI prints when --max-items stops it, as botocore's `TokenEncoder`
/// makes it: base64 of the JSON `{"NextToken": "<the service's token>"}`.
fn encode_starting_token(service_token: &str) -> String {
    let json = format!(
        "{{\"NextToken\": {}}}",
        serde_json::to_string(service_token).expect("a string serializes")
    );
    STANDARD.encode(json)
}

/// The service's NextToken in a --starting-token: botocore's encoding, or (as botocore also
/// takes) the service's token itself.
fn decode_starting_token(text: &str) -> String {
    STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|json| {
            json.get("NextToken")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| text.to_owned())
}

/// Runs the lookup against the history in `bucket` for `account` and prints the result to
/// stdout. CloudTrail's own errors come back as the AWS CLI words them: "An error occurred
/// (InvalidTimeRangeException) when calling the LookupEvents operation: …".
pub(crate) async fn run(
    args: &LookupEventsArgs,
    config: &Config,
    store: &dyn ObjectStore,
    now: OffsetDateTime,
) -> Result<ExitCode> {
    if let Some(name) = &args.trail {
        let mut out = BufWriter::new(std::io::stdout());
        let bar = files_progress_bar("files read");
        let unreadable = search_trail(args, trail(config, name)?, store, now, &mut out, &bar).await;
        bar.finish_and_clear();
        out.flush()?;
        return Ok(match unreadable? {
            0 => ExitCode::SUCCESS,
            count => {
                eprintln!("cairn: {count} log files could not be read");
                ExitCode::FAILURE
            }
        });
    }
    let region = region(args.region.as_deref());
    let mut out = std::io::stdout();
    print(
        args,
        store,
        &config.state_bucket,
        &config.account_id,
        &region,
        now,
        &mut out,
    )
    .await?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The trail `--trail` names, by name or ARN.
fn trail<'c>(config: &'c Config, name: &str) -> Result<&'c Trail> {
    config.trail(name).ok_or_else(|| {
        let known: Vec<&str> = config.trails.iter().map(Trail::name).collect();
        anyhow!(
            "unknown trail {name:?}: the configuration's trails are {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    })
}

/// Searches `trail`'s log files and writes what matches to `out` as each file is read (flushed
/// file by file, so `| head` sees events early). Returns how many files could not be read,
/// each named on stderr.
async fn search_trail<W: Write + Send>(
    args: &LookupEventsArgs,
    trail: &Trail,
    store: &dyn ObjectStore,
    now: OffsetDateTime,
    out: &mut W,
    bar: &ProgressBar,
) -> Result<usize> {
    let query = args.query();
    let criteria = Criteria::new(&query).map_err(aws_error)?;
    let (start, end) = history::time_range(
        args.start_time.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        args.end_time.unwrap_or(now),
    )
    .map_err(aws_error)?;
    let files = TrailFiles::new(
        trail.bucket(),
        trail.prefix(),
        trail.organization_id(),
        query.event_category.is_some(),
    );
    let keys = files.keys(store, start, end).await.with_context(|| {
        format!(
            "cannot list the log files of trail {} in s3://{}/{}",
            trail.name(),
            files.bucket,
            files.root
        )
    })?;
    bar.set_length(u64::try_from(keys.len()).unwrap_or(u64::MAX));
    let mut printer = Printer::new(args.output);
    let mut unreadable = 0;
    let mut found = std::pin::pin!(files.search(store, keys, Arc::new(criteria), start, end));
    while let Some(file) = found.next().await {
        match file.records {
            Ok(records) => {
                for line in &records {
                    printer.record(line, out)?;
                }
                out.flush()?;
            }
            Err(error) => {
                unreadable += 1;
                bar.suspend(|| {
                    eprintln!(
                        "cairn: cannot read log file s3://{}/{}: {error:#}",
                        files.bucket, file.key
                    );
                });
            }
        }
        bar.inc(1);
    }
    printer.finish(None, out)?;
    Ok(unreadable)
}

fn aws_error(error: LookupError) -> anyhow::Error {
    match error.code() {
        Some(code) => AwsCliError {
            code,
            operation: "LookupEvents",
            message: error.to_string(),
        }
        .into(),
        None if matches!(
            error,
            LookupError::ParameterValidation(_) | LookupError::InvalidFilterPattern(_)
        ) =>
        {
            anyhow::Error::new(error)
        }
        None => anyhow::Error::new(error).context("cannot read the event history"),
    }
}

/// Looks up page after page (or the one page asked for) and writes them to `out` as they come,
/// so memory holds one page whatever the history's size (the table, like aws-cli's, is laid out
/// once every event is in).
async fn print<W: Write + Send>(
    args: &LookupEventsArgs,
    store: &dyn ObjectStore,
    bucket: &str,
    account: &str,
    region: &str,
    now: OffsetDateTime,
    out: &mut W,
) -> Result<()> {
    let paginates = args.paginates()?;
    let mut query = args.query();
    let page_size = if paginates {
        query.next_token = args.starting_token.as_deref().map(decode_starting_token);
        args.page_size.unwrap_or(history::MAX_RESULTS)
    } else {
        args.max_results.unwrap_or(history::MAX_RESULTS)
    };
    let mut remaining = args.max_items.filter(|_| paginates);
    let mut printer = Printer::new(args.output);
    loop {
        // A page never reads past --max-items, so where it stops the service's own NextToken
        // continues exactly after the last event printed.
        query.max_results = Some(remaining.map_or(page_size, |left| left.min(page_size)));
        let page = history::lookup(store, bucket, account, region, &query, now)
            .await
            .map_err(aws_error)?;
        for event in &page.events {
            printer.event(event, out)?;
        }
        if let Some(left) = remaining.as_mut() {
            *left -= i64::try_from(page.events.len()).unwrap_or(i64::MAX);
        }
        match page.next_token {
            Some(token) if paginates && remaining != Some(0) => query.next_token = Some(token),
            Some(token) if paginates => {
                return printer.finish(Some(&encode_starting_token(&token)), out);
            }
            last => return printer.finish(last.as_deref(), out),
        }
    }
}

enum Printer {
    /// JSON indented by four spaces, as the AWS CLI prints it; events are written as they come.
    Json { events: usize },
    /// The events, laid out by aws-cli's table rules at the end.
    Table { events: Vec<Value> },
    /// Each event's record on a line of its own.
    Records,
}

impl Printer {
    fn new(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Json => Printer::Json { events: 0 },
            OutputFormat::Table => Printer::Table { events: Vec::new() },
            OutputFormat::Records => Printer::Records,
        }
    }

    /// A record a trail search found, as its event (the records format prints it as it is).
    fn record(&mut self, line: &str, out: &mut impl Write) -> Result<()> {
        if let Printer::Records = self {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            return Ok(());
        }
        let raw: &RawValue = serde_json::from_str(line)?;
        let record = Record::parse(raw, None)?;
        self.event(&LookupEvent::from_record(&record, line), out)
    }

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
            Printer::Table { events } => events.push(serde_json::to_value(event)?),
            Printer::Records => {
                out.write_all(event.cloud_trail_event.as_bytes())?;
                out.write_all(b"\n")?;
            }
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
            Printer::Table { events } => {
                let mut answer = serde_json::Map::new();
                answer.insert("Events".to_owned(), Value::Array(events));
                if let Some(token) = next_token {
                    answer.insert("NextToken".to_owned(), Value::String(token.to_owned()));
                }
                aws_table::write_table(
                    "LookupEvents",
                    &Value::Object(answer),
                    aws_table::terminal_width(),
                    out,
                )?;
            }
            // The records are the output; where to go on is for the person at the terminal.
            Printer::Records => {
                if let Some(token) = next_token {
                    eprintln!("NextToken: {token}");
                }
            }
        }
        Ok(())
    }
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
            // AWS CLI v1 prints the wire's epoch seconds.
            assert_eq!(event["EventTime"], 1_668_097_474.0);
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
        // aws-cli's table (aws_table.rs checks the layout against aws-cli's own output): the
        // operation's title, the NextToken, then the event on its side, its record being wider
        // than the 80 columns of a pipe.
        let lines: Vec<&str> = table.lines().collect();
        let width = lines[0].len();
        assert!(lines[0].bytes().all(|b| b == b'-'), "{table}");
        assert!(
            lines.iter().all(|line| line.chars().count() == width),
            "{table}"
        );
        assert!(
            lines[1].starts_with("|") && lines[1].contains(" LookupEvents "),
            "{table}"
        );
        assert!(lines[3].starts_with("|  NextToken "), "{table}");
        assert!(
            lines[5].starts_with("||") && lines[5].contains(" Events "),
            "{table}"
        );
        for needle in [
            "||  EventName ",
            "|  ConsoleLogin ",
            "||  EventTime ",
            "|  1668097474.0 ",
            "||  Username ",
            "|  anaya ",
        ] {
            assert!(table.contains(needle), "{needle} missing from\n{table}");
        }

        let empty = output(&["--region", "eu-west-3", "--output", "table"], &store)
            .await
            .expect("empty table");
        assert_eq!(empty, "--------------\n|LookupEvents|\n+------------+\n");
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
        // The API's model refuses an empty value before anything is sent, as the AWS CLI does.
        let empty = output(
            &[
                "--lookup-attributes",
                "AttributeKey=ResourceName,AttributeValue=",
            ],
            &store,
        )
        .await
        .expect_err("empty value")
        .to_string();
        assert_eq!(
            empty,
            "Parameter validation failed:\nInvalid length for parameter \
             LookupAttributes[0].AttributeValue, value: 0, valid min length: 1"
        );
        let category = output(&["--event-category", "management"], &store)
            .await
            .expect_err("category")
            .to_string();
        assert!(
            category.contains("(InvalidEventCategoryException)"),
            "{category}"
        );
        let paging = output(&["--no-paginate", "--max-items", "2"], &store)
            .await
            .expect_err("no-paginate and max-items")
            .to_string();
        assert_eq!(
            paging,
            "Cannot specify --no-paginate along with pagination arguments: --max-items"
        );
        let pattern = output(&["--filter-pattern", "{ $.eventName = "], &store)
            .await
            .expect_err("pattern")
            .to_string();
        assert!(pattern.contains("invalid filter pattern"), "{pattern}");
    }

    /// Cairn's extensions: several attributes are ANDed (AWS refuses more than one), and a
    /// filter pattern narrows further; checked against the events found one attribute at a time.
    #[tokio::test]
    async fn several_attributes_and_a_filter_pattern_narrow_together() {
        let (_dir, store) = store().await;
        let events = |text: String| -> Vec<Value> {
            let json: Value = serde_json::from_str(&text).expect("json");
            json["Events"].as_array().expect("events").clone()
        };
        let root = events(
            output(
                &[
                    "--lookup-attributes",
                    "AttributeKey=Username,AttributeValue=root",
                ],
                &store,
            )
            .await
            .expect("root"),
        );
        let both = events(
            output(
                &[
                    "--lookup-attributes",
                    "AttributeKey=Username,AttributeValue=root",
                    "AttributeKey=EventName,AttributeValue=ConsoleLogin",
                ],
                &store,
            )
            .await
            .expect("two attributes"),
        );
        let expected: Vec<Value> = root
            .iter()
            .filter(|event| event["EventName"] == "ConsoleLogin")
            .cloned()
            .collect();
        assert_eq!(both, expected);
        assert!(!both.is_empty() && both.len() < root.len(), "{root:?}");

        let failed = events(
            output(
                &[
                    "--lookup-attributes",
                    "AttributeKey=Username,AttributeValue=root",
                    "--filter-pattern",
                    "{ $.responseElements.ConsoleLogin = \"Failure\" }",
                ],
                &store,
            )
            .await
            .expect("pattern"),
        );
        let expected: Vec<Value> = root
            .iter()
            .filter(|event| {
                let record: Value =
                    serde_json::from_str(event["CloudTrailEvent"].as_str().expect("record"))
                        .expect("record json");
                record["responseElements"]["ConsoleLogin"] == "Failure"
            })
            .cloned()
            .collect();
        assert_eq!(failed, expected);
        assert!(!failed.is_empty());
    }

    /// --max-items stops with a NextToken that --starting-token continues from exactly;
    /// --page-size changes nothing printed; --output records prints the records themselves.
    #[tokio::test]
    async fn max_items_starting_token_page_size_and_records() {
        let (_dir, store) = store().await;
        let all = output(&[], &store).await.expect("all");
        let all: Value = serde_json::from_str(&all).expect("json");
        let all = all["Events"].as_array().expect("events").clone();
        assert!(all.len() > 3);

        let small_pages = output(&["--page-size", "2"], &store).await.expect("pages");
        let small_pages: Value = serde_json::from_str(&small_pages).expect("json");
        assert_eq!(small_pages["Events"].as_array().expect("events"), &all);

        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut argv = vec!["--max-items", "3", "--page-size", "2"];
            if let Some(token) = &token {
                argv.extend(["--starting-token", token.as_str()]);
            }
            let page: Value =
                serde_json::from_str(&output(&argv, &store).await.expect("page")).expect("json");
            let events = page["Events"].as_array().expect("events");
            assert!(events.len() <= 3);
            seen.extend(events.iter().cloned());
            match page.get("NextToken").and_then(Value::as_str) {
                Some(next) => {
                    // botocore's encoding: base64 of {"NextToken": …}.
                    let decoded = STANDARD.decode(next).expect("base64");
                    assert!(decoded.starts_with(b"{\"NextToken\": \""), "{next}");
                    token = Some(next.to_owned());
                }
                None => break,
            }
        }
        assert_eq!(seen, all);

        let records = output(&["--output", "records"], &store)
            .await
            .expect("records");
        let lines: Vec<&str> = records.lines().collect();
        assert_eq!(lines.len(), all.len());
        for (line, event) in lines.iter().zip(&all) {
            assert_eq!(Some(*line), event["CloudTrailEvent"].as_str());
        }
    }

    #[tokio::test]
    async fn run_prints_and_succeeds() {
        let (_dir, store) = store().await;
        let parsed = args(&["--region", "us-east-1", "--max-results", "1"]);
        let config = Config::from_yaml(
            &format!("accountId: \"{ACCOUNT}\"\nstateBucket: {BUCKET}\n"),
            "test",
        )
        .expect("config");
        let code = run(&parsed, &config, &store, now()).await.expect("run");
        assert_eq!(code, ExitCode::SUCCESS);
    }

    // -----------------------------------------------------------------------------------------
    // Searching a trail's log files (--trail)

    const TRAIL_BUCKET: &str = "trail-bucket";

    fn trail_config() -> Config {
        Config::from_yaml(
            &format!(
                "accountId: \"{ACCOUNT}\"\nstateBucket: {BUCKET}\ntrails:\n\
                 \x20 - Name: search\n\
                 \x20   S3BucketName: {TRAIL_BUCKET}\n\
                 \x20   S3KeyPrefix: logs\n\
                 \x20   HomeRegion: us-east-1\n\
                 \x20   IsMultiRegionTrail: true\n\
                 \x20   AdvancedEventSelectors:\n\
                 \x20     - Name: objects\n\
                 \x20       FieldSelectors:\n\
                 \x20         - Field: eventCategory\n\
                 \x20           Equals: [Data]\n\
                 \x20         - Field: resources.type\n\
                 \x20           Equals: [\"AWS::S3::Object\"]\n\
                 \x20     - Name: management\n\
                 \x20       FieldSelectors:\n\
                 \x20         - Field: eventCategory\n\
                 \x20           Equals: [Management]\n"
            ),
            "test",
        )
        .expect("config")
    }

    /// An S3 object event (data) or a ConsoleLogin (management), some refused with
    /// AccessDenied, in two Regions.
    fn generated_record(i: usize, time: &str) -> Value {
        let data = !i.is_multiple_of(5);
        let name = match (data, i % 2) {
            (false, _) => "ConsoleLogin",
            (true, 0) => "GetObject",
            (true, _) => "PutObject",
        };
        let mut record = serde_json::json!({
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLE",
                "arn": format!("arn:aws:iam::{ACCOUNT}:user/user{}", i % 4),
                "accountId": ACCOUNT,
                "userName": format!("user{}", i % 4)
            },
            "eventTime": time,
            "eventSource": if data { "s3.amazonaws.com" } else { "signin.amazonaws.com" },
            "eventName": name,
            "awsRegion": if i.is_multiple_of(3) { "eu-west-1" } else { "us-east-1" },
            "sourceIPAddress": "192.0.2.10",
            "userAgent": "test",
            "requestParameters": {"bucketName": "data", "key": format!("k{i}")},
            "responseElements": null,
            "requestID": format!("REQUEST{i:08}"),
            "eventID": format!("00000000-0000-4000-8000-{i:012}"),
            "readOnly": name == "GetObject",
            "eventType": if data { "AwsApiCall" } else { "AwsConsoleSignIn" },
            "managementEvent": !data,
            "recipientAccountId": ACCOUNT,
            "eventCategory": if data { "Data" } else { "Management" }
        });
        if data {
            record["resources"] = serde_json::json!([
                {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::data/k{i}")}
            ]);
        }
        if i % 7 < 3 {
            record["errorCode"] = Value::from("AccessDenied");
        }
        record
    }

    /// The generated records, delivered by a run at the end of each of three days, so the
    /// trail's files are in three day folders per Region.
    async fn trail_store() -> (tempfile::TempDir, LocalObjectStore, Config) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalObjectStore::new(dir.path().to_path_buf());
        let config = trail_config();
        for bucket in [BUCKET, TRAIL_BUCKET] {
            store.create_bucket(bucket).await.expect("bucket");
        }
        for day in 1..=3 {
            let records: Vec<Value> = (0..150)
                .map(|n| {
                    let i = day * 1000 + n;
                    let time = format!("2024-05-0{day}T{:02}:{:02}:00Z", n / 10, n % 60);
                    generated_record(i, &time)
                })
                .collect();
            let body = serde_json::json!({ "Records": records }).to_string();
            let delivered_at = utc(&format!("2024-05-0{day}T23:30:00Z"));
            Ingestor::new(
                &config,
                &store,
                "us-east-1",
                "arn:aws:cloudtrail:us-east-1:111122223333:channel/test",
            )
            .handle(&body, delivered_at)
            .await
            .expect("ingest");
            Deliverer::new(&config, &store, None)
                .handle(&time::Duration::minutes(1), delivered_at)
                .await
                .expect("deliver");
        }
        (dir, store, config)
    }

    /// Every record in the trail bucket's log files, read apart from the code under test.
    fn delivered_records(root: &std::path::Path) -> Vec<Value> {
        let mut records = Vec::new();
        let mut folders = vec![root.join(TRAIL_BUCKET)];
        while let Some(folder) = folders.pop() {
            for entry in fs::read_dir(&folder).expect("folder") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.to_string_lossy().ends_with(".json.gz")
                    && path.to_string_lossy().contains("/CloudTrail/")
                {
                    let mut text = String::new();
                    std::io::Read::read_to_string(
                        &mut flate2::read::GzDecoder::new(fs::File::open(&path).expect("file")),
                        &mut text,
                    )
                    .expect("gunzip");
                    let body: Value = serde_json::from_str(&text).expect("json");
                    records.extend(body["Records"].as_array().expect("records").clone());
                }
            }
        }
        records
    }

    async fn search_output(
        argv: &[&str],
        store: &LocalObjectStore,
        config: &Config,
    ) -> Result<(String, usize)> {
        let parsed = args(argv);
        let trail = trail(config, parsed.trail.as_deref().expect("--trail"))?;
        let mut out = Vec::new();
        let bar = ProgressBar::hidden();
        let unreadable = search_trail(&parsed, trail, store, now(), &mut out, &bar).await?;
        Ok((String::from_utf8(out)?, unreadable))
    }

    fn event_ids(records: &[Value]) -> Vec<String> {
        let mut ids: Vec<String> = records
            .iter()
            .map(|record| record["eventID"].as_str().expect("eventID").to_owned())
            .collect();
        ids.sort();
        ids
    }

    /// Several attributes, a filter pattern and a time range over a trail's files, data events
    /// included, against an evaluation of every delivered record by hand.
    #[tokio::test]
    async fn a_trail_search_finds_what_an_independent_evaluation_finds() {
        let (dir, store, config) = trail_store().await;
        let all = delivered_records(dir.path());
        assert_eq!(all.len(), 450, "every generated record was delivered");

        let argv = [
            "--trail",
            "search",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=GetObject",
            "AttributeKey=Username,AttributeValue=user2",
            "--filter-pattern",
            "{ $.errorCode = \"AccessDenied\" }",
            "--start-time",
            "2024-05-01T12:00:00Z",
            "--end-time",
            "2024-05-03T06:00:00Z",
        ];
        let expected: Vec<Value> = all
            .iter()
            .filter(|record| {
                let time = record["eventTime"].as_str().expect("time");
                ("2024-05-01T12:00:00Z"..="2024-05-03T06:00:00Z").contains(&time)
                    && record["eventName"] == "GetObject"
                    && record["userIdentity"]["userName"] == "user2"
                    && record["errorCode"] == "AccessDenied"
            })
            .cloned()
            .collect();
        assert!(expected.len() > 3, "{}", expected.len());

        let mut records_argv = argv.to_vec();
        records_argv.extend(["--output", "records"]);
        let (text, unreadable) = search_output(&records_argv, &store, &config)
            .await
            .expect("search");
        assert_eq!(unreadable, 0);
        let found: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect();
        assert_eq!(event_ids(&found), event_ids(&expected));

        // The same events as aws-cli's JSON, and in its table.
        let (json, _) = search_output(&argv, &store, &config).await.expect("json");
        let json: Value = serde_json::from_str(&json).expect("json");
        let events = json["Events"].as_array().expect("events");
        let records: Vec<Value> = events
            .iter()
            .map(|event| {
                assert_eq!(event["EventName"], "GetObject");
                assert_eq!(event["Username"], "user2");
                assert_eq!(event["Resources"][0]["ResourceType"], "AWS::S3::Object");
                serde_json::from_str(event["CloudTrailEvent"].as_str().expect("record"))
                    .expect("record json")
            })
            .collect();
        assert_eq!(event_ids(&records), event_ids(&expected));
        let mut table_argv = argv.to_vec();
        table_argv.extend(["--output", "table"]);
        let (table, _) = search_output(&table_argv, &store, &config)
            .await
            .expect("table");
        assert!(table.contains(" LookupEvents "), "{table}");
        assert_eq!(
            table.matches("|  GetObject ").count(),
            expected.len(),
            "{table}"
        );

        // From the beginning: every matching event the trail delivered, management events
        // included.
        let (text, _) = search_output(
            &[
                "--trail",
                "search",
                "--lookup-attributes",
                "AttributeKey=EventName,AttributeValue=ConsoleLogin",
                "--end-time",
                "2024-06-01",
                "--output",
                "records",
            ],
            &store,
            &config,
        )
        .await
        .expect("search");
        let logins: Vec<Value> = all
            .iter()
            .filter(|record| record["eventName"] == "ConsoleLogin")
            .cloned()
            .collect();
        assert_eq!(text.lines().count(), logins.len());
        assert!(!logins.is_empty());
    }

    #[tokio::test]
    async fn a_damaged_log_file_is_named_and_the_search_goes_on() {
        let (dir, store, config) = trail_store().await;
        let all = delivered_records(dir.path());
        store
            .put(
                TRAIL_BUCKET,
                "logs/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/02/111122223333_CloudTrail_us-east-1_20240502T0000Z_damageddamagedda.json.gz",
                bytes::Bytes::from_static(b"not gzip"),
                &cairn_shared::ports::object_store::PutOptions::new("application/json"),
            )
            .await
            .expect("put");
        let argv = [
            "--trail",
            "search",
            "--end-time",
            "2024-06-01",
            "--output",
            "records",
        ];
        let (text, unreadable) = search_output(&argv, &store, &config).await.expect("search");
        assert_eq!(unreadable, 1);
        assert_eq!(text.lines().count(), all.len());
    }

    /// A search of a trail's files refuses what the history refuses, in the same words, before
    /// it reads anything.
    #[tokio::test]
    async fn a_trail_search_refuses_bad_input_as_the_history_does() {
        let (_dir, store, config) = trail_store().await;
        let cases: [(&[&str], &str); 3] = [
            (
                &["--start-time", "2024-05-03", "--end-time", "2024-05-01"],
                "An error occurred (InvalidTimeRangeException) when calling the LookupEvents \
                 operation: ",
            ),
            (
                &[
                    "--lookup-attributes",
                    "AttributeKey=Region,AttributeValue=us-east-1",
                ],
                "An error occurred (InvalidLookupAttributesException) when calling the \
                 LookupEvents operation: ",
            ),
            (
                &["--filter-pattern", "{ $.eventName = "],
                "invalid filter pattern: ",
            ),
        ];
        for (bad, expected) in cases {
            let mut argv = vec!["--trail", "search", "--output", "records"];
            argv.extend(bad);
            let error = search_output(&argv, &store, &config)
                .await
                .expect_err(expected)
                .to_string();
            assert!(error.starts_with(expected), "{bad:?}: {error}");
        }
    }

    #[tokio::test]
    async fn an_unknown_trail_and_trail_with_paging_are_refused() {
        let config = trail_config();
        let error = trail(&config, "nosuch").expect_err("unknown").to_string();
        assert_eq!(
            error,
            "unknown trail \"nosuch\": the configuration's trails are search"
        );
        assert!(
            trail(
                &config,
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/search"
            )
            .is_ok()
        );
        let refused = refused(&["--trail", "search", "--max-items", "2"]);
        assert!(refused.contains("cannot be used with"), "{refused}");
    }
}
