#!/usr/bin/env bash
# Run Cairn's pipeline on this machine (embedded store, no AWS) over the sample events.
# Arguments, when given, replace the default `run events/ingest-*.json`, e.g.
#   scripts/run-local.sh run my-events.json      scripts/run-local.sh --help
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if (($# == 0)); then
  set -- run events/ingest-*.json
fi
# The dev profile: it shares its build with the tests and builds several times faster than the
# release profile, whose whole-program LTO is for the Lambda binaries.
exec cargo run -p cairn-cli --bin cairn -- "$@"
