//! `cairn`: Cairn's pipeline on one machine, with no AWS account.

mod args;
mod aws_table;
mod backend;
mod deliver;
mod forward;
mod ingest;
mod input;
mod list_insights_metric_data;
mod list_public_keys;
mod lookup_events;
mod output;
mod put_events;
mod replay;
mod run;
mod sync;
mod test_metric_filter;
mod validate_logs;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use cairn_shared::config::Config;
use clap::{Parser, Subcommand};
use time::OffsetDateTime;

use args::{parse_now, region};
use backend::BackendArgs;
use list_insights_metric_data::ListInsightsMetricDataArgs;
use list_public_keys::ListPublicKeysArgs;
use lookup_events::LookupEventsArgs;
use put_events::PutEventsArgs;
use sync::SyncArgs;
use validate_logs::ValidateLogsArgs;

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "A self-hosted, CloudTrail-compatible audit trail",
    long_about = "Cairn keeps, per trail, exactly the CloudTrail events its selectors ask for, and \
        delivers them as CloudTrail log files.\n\n\
        Trails are configured in cairn.yaml in AWS's own shapes (CreateTrail fields, \
        put-event-selectors selectors), so what `aws cloudtrail describe-trails` and \
        `get-event-selectors` print can be pasted in.\n\n\
        Every command runs on the embedded store (--store DIR, the default ./cairn-data) or on \
        AWS (--aws, configured from the usual AWS environment, AWS_ENDPOINT_URL included).\n\n\
        Quick start:\n  cairn run events/ingest-records.json\n  \
        cairn lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=ConsoleLogin"
)]
struct Cli {
    /// The trails configuration.
    #[arg(long, global = true, default_value = "cairn.yaml", value_name = "FILE")]
    config: PathBuf,

    #[command(flatten)]
    backend: BackendArgs,

    /// The clock for this command (RFC 3339, e.g. 2026-11-22T10:00:00Z) instead of the real
    /// time: log files are named and dated by it, and lookups count back from it. For replays
    /// and tests.
    #[arg(long, global = true, value_name = "TIME", value_parser = parse_now)]
    now: Option<OffsetDateTime>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Stages events for delivery, as the ingest function does.
    ///
    /// FILE is one body, plain or gzip-compressed: a {"Records":[…]} batch, an EventBridge
    /// event carrying a CloudTrail record ("AWS API Call via CloudTrail" and the like), or a
    /// CloudTrail Lake PutAuditEvents body {"auditEvents":[…]}; or JSON lines, each a body or
    /// a bare record. Every event is validated; a refused one is reported with its id and what
    /// is wrong, and the others go on. Exits 1 when any event was refused.
    ///
    /// Example: cairn ingest events/ingest-records.json events/ingest-eventbridge.json
    Ingest {
        /// Event files to read.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The Region PutAuditEvents events arrive in (their awsRegion). Default: AWS_REGION,
        /// else AWS_DEFAULT_REGION, else us-east-1.
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// Moves every timestamp in the files (eventTime, EventBridge's time) by the same
        /// whole number of days, the one that brings the newest into the day before the clock:
        /// recorded events replayed as if they had just happened, within the 14 days
        /// CloudWatch Logs accepts. Replays on the same day give the same records.
        #[arg(long)]
        replay: bool,
    },
    /// Delivers everything staged as CloudTrail log files, as the scheduled deliver function
    /// does, and prints each log file's location.
    ///
    /// Each trail gets gzip JSON log files under
    /// [prefix/]AWSLogs/[o-org/]{account}/CloudTrail/{region}/{YYYY}/{MM}/{DD}/, records in
    /// eventTime order. An event already delivered in the past 24 hours is not delivered
    /// again. On the embedded store, event history older than 90 days is removed.
    Deliver,
    /// Ingests the files, delivers, forwards, then notifies: the whole pipeline in one command.
    ///
    /// Prints what each file gave, where the log files went and how many events each trail
    /// got, then what was forwarded to the trails' CloudWatch Logs groups (on the embedded
    /// store: {DIR}/.cairn-logs/{group}/{stream}.jsonl) and how many events the metric filters
    /// matched (EMF records appended to {DIR}/metrics.jsonl, alerts in the state bucket under
    /// alerts/), then each SNS message sent: delivery notices to the trails' SnsTopicARN and
    /// match alerts to alertTopicArn (on the embedded store: {DIR}/.cairn-sns/{topic}.jsonl).
    /// Exits 1 when any event was refused; a message that cannot be sent is a warning.
    ///
    /// Example: cairn run events/ingest-*.json
    Run {
        /// Event files to read, in the forms `cairn ingest` takes.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// As for `cairn ingest`.
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// As for `cairn ingest`.
        #[arg(long)]
        replay: bool,
    },
    LookupEvents(LookupEventsArgs),
    ListInsightsMetricData(ListInsightsMetricDataArgs),
    PutEvents(PutEventsArgs),
    ListPublicKeys(ListPublicKeysArgs),
    ValidateLogs(ValidateLogsArgs),
    Sync(SyncArgs),
    /// Tests a filter pattern against log event messages, as `aws logs test-metric-filter`.
    ///
    /// Prints TestMetricFilter's response: every message the pattern matches, with its
    /// 1-based eventNumber among the messages and the values the pattern extracted ($name and
    /// $N fields of a space-delimited pattern; {} for the other kinds). Messages that do not
    /// match are left out. A pattern AWS would refuse is refused with an
    /// InvalidParameterException message. As TestMetricFilter, it takes 1 to 50 messages of at
    /// least one character each; fewer, more or empty ones are refused with aws-cli's and
    /// CloudWatch Logs' own errors. cairn.yaml is not read.
    ///
    /// Example:
    ///
    ///   cairn test-metric-filter \
    ///     --filter-pattern '[ip, user, ..., status = 4*, bytes]' \
    ///     --log-event-messages '10.0.0.1 frank GET /a 404 1534' '10.0.0.2 bob GET /b 200 20'
    ///
    /// prints the first message as eventNumber 1, with $ip, $user, $3, $4, $status and $bytes.
    #[command(verbatim_doc_comment)]
    TestMetricFilter {
        /// The filter pattern, as put-metric-filter takes it.
        #[arg(long, value_name = "PATTERN", allow_hyphen_values = true)]
        filter_pattern: String,
        /// Log event messages to test, one argument each.
        #[arg(
            long,
            value_name = "MESSAGE",
            num_args = 1..,
            required_unless_present = "log_event_messages_file"
        )]
        log_event_messages: Vec<String>,
        /// A file of log event messages, one per line (blank lines skipped); tested after
        /// those given with --log-event-messages.
        #[arg(long, value_name = "FILE")]
        log_event_messages_file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    // Like other command-line tools, stop quietly when the reader goes away (`cairn … | head`)
    // instead of panicking on the next write: Rust starts programs with SIGPIPE ignored.
    // SAFETY: runs before the runtime or any other thread exists, and nothing in the process
    // installs a SIGPIPE handler of its own.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cairn: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(execute(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cairn: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn execute(cli: Cli) -> Result<ExitCode> {
    let now = cli.now.unwrap_or_else(OffsetDateTime::now_utc);
    match cli.command {
        Command::TestMetricFilter {
            filter_pattern,
            log_event_messages,
            log_event_messages_file,
        } => test_metric_filter::run(
            &filter_pattern,
            &log_event_messages,
            log_event_messages_file.as_deref(),
        ),
        Command::Ingest {
            files,
            region: flag,
            replay,
        } => {
            let config = load(&cli.config)?;
            let store = cli.backend.object_store(&config).await?;
            let totals = ingest::ingest_files(
                &config,
                store.as_ref(),
                &files,
                &region(flag.as_deref()),
                replay,
                now,
            )
            .await?;
            Ok(exit_code(totals.refused == 0))
        }
        Command::Deliver => {
            let config = load(&cli.config)?;
            let store = cli.backend.object_store(&config).await?;
            deliver::deliver(&config, store.as_ref(), &cli.backend, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            files,
            region: flag,
            replay,
        } => {
            let config = load(&cli.config)?;
            let region = region(flag.as_deref());
            run::run(&config, &cli.backend, &files, &region, replay, now).await
        }
        Command::PutEvents(args) => put_events::run(&args).await,
        Command::LookupEvents(args) => {
            let config = load(&cli.config)?;
            let store = cli.backend.object_store(&config).await?;
            lookup_events::run(&args, &config, store.as_ref(), now).await
        }
        Command::ListInsightsMetricData(args) => {
            let config = load(&cli.config)?;
            let store = cli.backend.object_store(&config).await?;
            list_insights_metric_data::run(&args, &config, store.as_ref(), now).await
        }
        Command::ListPublicKeys(args) => {
            let config = load(&cli.config)?;
            let store = cli.backend.object_store(&config).await?;
            list_public_keys::run(&args, store.as_ref(), &config.state_bucket, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ValidateLogs(args) => {
            let config = load(&cli.config)?;
            let store = cli.backend.object_store(&config).await?;
            validate_logs::run(
                &args,
                &config,
                store.as_ref(),
                !cli.backend.is_embedded(),
                now,
            )
            .await
        }
        Command::Sync(args) => {
            let config = load(&cli.config)?;
            let store = cli.backend.object_store(&config).await?;
            sync::run(
                &args,
                &config,
                store.as_ref(),
                !cli.backend.is_embedded(),
                now,
            )
            .await
        }
    }
}

fn load(path: &Path) -> Result<Config> {
    Ok(Config::load(path)?)
}

fn exit_code(success: bool) -> ExitCode {
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
