//! `cost SHAPE EVENTS ROUNDS`: runs the pipeline on LocalStack (`CAIRN_LOCALSTACK`) over
//! EVENTS realistic events sent in SHAPE (batch500, single, queue or eventbridge) and delivered in
//! ROUNDS deliver runs, and prints what it asked of AWS (see `cairn_test_support::cost`).
//! scripts/cost.sh runs it and prices the counts.

use std::process::ExitCode;

use cairn_test_support::cost::{Shape, measure};

const USAGE: &str =
    "usage: cost batch500|single|queue|eventbridge EVENTS ROUNDS (needs CAIRN_LOCALSTACK)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [shape, events, rounds] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let (Some(shape), Ok(events), Ok(rounds)) =
        (Shape::parse(shape), events.parse(), rounds.parse())
    else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let Some(sdk) = cairn_test_support::localstack_sdk_config("cost").await else {
        return ExitCode::FAILURE;
    };
    print!("{}", measure(&sdk, shape, events, rounds).await);
    ExitCode::SUCCESS
}
