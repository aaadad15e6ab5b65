//! `cairn`: Cairn's pipeline on one machine, with no AWS account.

mod input;
mod run;
mod test_metric_filter;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "A self-hosted, CloudTrail-compatible audit trail",
    long_about = "Cairn keeps, per trail, exactly the CloudTrail events its selectors ask for.\n\n\
        Trails are configured in cairn.yaml in AWS's own shapes (CreateTrail fields, \
        put-event-selectors selectors), so what `aws cloudtrail describe-trails` and \
        `get-event-selectors` print can be pasted in."
)]
struct Cli {
    /// The trails configuration.
    #[arg(long, global = true, default_value = "cairn.yaml", value_name = "FILE")]
    config: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reads event files and shows which trails select each event.
    ///
    /// FILE is a `{"Records":[…]}` batch or JSON lines (one record per line), plain or
    /// gzip-compressed. Every record is validated; a refused record is reported with its
    /// position, its eventID and what is wrong, and the others go on. Exits 1 when any record
    /// was refused.
    ///
    /// Example: cairn run events/ingest-records.json
    Run {
        /// Event files to read.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Tests a filter pattern against log event messages, as `aws logs test-metric-filter`.
    ///
    /// Prints TestMetricFilter's response: every message the pattern matches, with its
    /// 1-based eventNumber among the messages and the values the pattern extracted ($name and
    /// $N fields of a space-delimited pattern; {} for the other kinds). Messages that do not
    /// match are left out. A pattern AWS would refuse is refused with an
    /// InvalidParameterException message. cairn.yaml is not read.
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
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run { files } => run::run(&cli.config, &files),
        Command::TestMetricFilter {
            filter_pattern,
            log_event_messages,
            log_event_messages_file,
        } => test_metric_filter::run(
            &filter_pattern,
            &log_event_messages,
            log_event_messages_file.as_deref(),
        ),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cairn: {error:#}");
            ExitCode::from(2)
        }
    }
}
