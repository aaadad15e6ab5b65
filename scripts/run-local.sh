#!/usr/bin/env bash
# Run Cairn's pipeline on this machine (embedded store, no AWS) over the sample events.
# Arguments, when given, replace the default `run events/*.json`, e.g.
#   scripts/run-local.sh run my-events.json      scripts/run-local.sh --help
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if (($# == 0)); then
  set -- run events/*.json
fi
exec cargo run --release -p cairn-cli --bin cairn -- "$@"
