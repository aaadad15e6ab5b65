#!/usr/bin/env bash
# Cairn's development tools, pinned, in a project-local venv (.venv-tools/):
#   cargo-lambda   `cargo lambda watch|invoke|build` (the local loop and the Lambda builds)
#   ziglang        the linker cargo-lambda cross-compiles for arm64 with (`python3 -m ziglang`)
#   cfn-lint       checks template.yaml
#   checkov        scans template.yaml's security settings
#   awscli (v1)    `aws cloudtrail validate-logs`, the reference Cairn's validator is checked against
#   aws-sam-cli    `sam validate --lint`, `sam build` and `sam package` (scripts/sam-package.sh),
#                  with aws-sam-translator, which scripts/sam-transform.py runs
#
#   scripts/tools.sh install   create .venv-tools/ and install the pinned set (skipped when current)
#
# Use them with the venv's bin/ first on PATH: `cargo lambda` finds cargo-lambda there, and
# cargo-lambda finds zig through that venv's python3.
#   export PATH="$PWD/.venv-tools/bin:$PATH"
#
# Separate from LocalStack's .venv/ (scripts/localstack.sh): LocalStack pins an older botocore
# and awscli, and one venv cannot hold both sets. Overridable: PYTHON (default python3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=$PWD/.venv-tools
REQUIREMENTS=scripts/tools-requirements.txt
STAMP=$VENV/.tools-requirements.stamp

say() { printf 'tools: %s\n' "$*"; }
die() { printf 'tools: error: %s\n' "$*" >&2; exit 1; }

# What the venv was built from: the requirements file's checksum and the interpreter's version.
stamp_of() {
  printf '%s | %s\n' "$(cksum <"$REQUIREMENTS")" \
    "$("$1" -c 'import sys; print(sys.version.split()[0])')"
}

cmd_install() {
  [[ -f $REQUIREMENTS ]] || die "missing $REQUIREMENTS"
  # Two test runs in one checkout must not install into the same venv at once.
  mkdir -p "$VENV"
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$VENV/.lock"
    flock 8
  fi
  if [[ -x $VENV/bin/python && -f $STAMP && "$(cat "$STAMP")" == "$(stamp_of "$VENV/bin/python")" ]]; then
    say ".venv-tools/ already has the pinned set; nothing to install"
    return
  fi
  local python=${PYTHON:-python3}
  "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    die "$python is not CPython 3.11, which the pinned set was frozen with (set PYTHON=...)"
  [[ -x $VENV/bin/python ]] || "$python" -m venv "$VENV"
  say "installing $(grep -cv '^#' "$REQUIREMENTS") pinned packages from $REQUIREMENTS"
  # --no-deps: the file is a complete freeze, so nothing is resolved and nothing unpinned arrives.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    -r "$REQUIREMENTS"
  stamp_of "$VENV/bin/python" >"$STAMP"
  say "installed into .venv-tools/: $("$VENV/bin/cargo-lambda" lambda --version)," \
    "zig $("$VENV/bin/python" -m ziglang version), $("$VENV/bin/cfn-lint" --version)," \
    "$("$VENV/bin/aws" --version 2>&1)," "$("$VENV/bin/sam" --version)"
}

case ${1:-} in
  install) cmd_install ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
