#!/usr/bin/env bash
# Run Cairn's pipeline on this machine (embedded store, no AWS) over the sample events.
# Arguments, when given, replace the default `run --replay events/ingest-*.json`, e.g.
#   scripts/run-local.sh run my-events.json      scripts/run-local.sh --help
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if (($# == 0)); then
  # --replay moves the samples' dates to the day before the run (the files keep theirs, for
  # `cargo lambda invoke`): CloudWatch Logs refuses events more than 14 days old, so samples
  # with fixed dates would stop being forwarded. cli/tests/pipeline.rs runs this a year ahead.
  set -- run --replay events/ingest-*.json
fi
# The dev profile: it shares its build with the tests and builds several times faster than the
# release profile, whose whole-program LTO is for the Lambda binaries.
exec cargo run -p cairn-cli --bin cairn -- "$@"
