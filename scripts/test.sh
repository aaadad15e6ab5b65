#!/usr/bin/env bash
# The project's test command: the tools and LocalStack up, then cfn-lint, rustfmt, clippy and the
# whole test suite (with the end-to-end run of the four functions under `cargo lambda watch`).
# Extra arguments go to `cargo test` (e.g. scripts/test.sh -- --nocapture).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n=== %s\n' "$*"; }

step "Tools: install (cargo-lambda, zig, cfn-lint, checkov, aws-cli, aws-sam-cli into .venv-tools/)"
# tests/localstack_lambda_loop.rs runs .venv-tools/bin/cargo-lambda.
bash scripts/tools.sh install
# tests/duckdb_reading.rs reads the delivered logs with DuckDB from there; this makes it required.
export CAIRN_DUCKDB=1

step "cfn-lint template.yaml"
# Fails on errors and on warnings.
.venv-tools/bin/cfn-lint template.yaml

step "sam validate --lint; the template as AWS's SAM translator expands it, through cfn-lint"
SAM_CLI_TELEMETRY=0 .venv-tools/bin/sam validate --lint --template template.yaml --region us-east-1
mkdir -p target/sam
.venv-tools/bin/python scripts/sam-transform.py template.yaml >target/sam/template.json
.venv-tools/bin/cfn-lint target/sam/template.json
# tests/template_transformed.rs checks the transformed resources; this makes it required.
export CAIRN_SAM_TRANSLATOR=1

step "checkov template.yaml"
# Fails on any finding: each is fixed, or skipped in the template (Metadata: checkov: skip) with
# its reason. --skip-download: no guideline look-ups over the network.
.venv-tools/bin/checkov --file template.yaml --framework cloudformation --compact --quiet \
  --skip-download

step "LocalStack: install"
bash scripts/localstack.sh install

step "LocalStack: start"
# One started here is always stopped on exit, pass or fail. One that scripts/localstack.sh had
# already started (others in this checkout may be using it) is left running.
if bash scripts/localstack.sh status >/dev/null 2>&1; then
  echo "LocalStack was already running; it stays running afterwards"
else
  # Its output goes to stderr so the test summary stays the last line of stdout.
  trap '{ step "LocalStack: stop"; bash scripts/localstack.sh stop; } >&2' EXIT
fi
bash scripts/localstack.sh start

export AWS_ENDPOINT_URL=http://127.0.0.1:${LOCALSTACK_PORT:-4566}
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# Tells the Rust tests LocalStack is required: they fail (rather than skip) if it is unreachable.
export CAIRN_LOCALSTACK=$AWS_ENDPOINT_URL
# cli/tests/full_disk.rs mounts a small tmpfs in a namespace of its own; this makes it required.
export CAIRN_REQUIRE_TMPFS=1

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace --no-fail-fast $*"
mkdir -p target
results=target/test-output.txt
# --no-fail-fast: every failing test binary is reported, not only the first.
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$results"
# One closing line for the whole run: cargo prints one result line per test binary, and the last
# of them (a crate without doc tests) says "0 passed".
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "\ntests: %d passed, %d failed\n", passed, failed }' "$results"
