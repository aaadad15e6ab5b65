//! `cairn`: Cairn's pipeline on one machine, with no AWS account.

mod input;
mod run;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run { files } => run::run(&cli.config, &files),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cairn: {error:#}");
            ExitCode::from(2)
        }
    }
}
