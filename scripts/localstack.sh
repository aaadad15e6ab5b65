#!/usr/bin/env bash
# LocalStack for Cairn's real-API tests, run in host mode (no Docker) from a project-local venv.
#
#   scripts/localstack.sh install   create .venv/ and install the pinned set (skipped when current)
#   scripts/localstack.sh start     start on http://127.0.0.1:$LOCALSTACK_PORT (default 4566), wait until healthy
#   scripts/localstack.sh stop      stop the instance this script started
#   scripts/localstack.sh status    exit 0 when the instance this script started is healthy
#
# State, pid file and log live in .localstack/ (git-ignored); nothing is persisted across runs.
# Overridable: PYTHON (interpreter for the venv, default python3), LOCALSTACK_START_TIMEOUT (s),
# LOCALSTACK_PORT (so two checkouts on one machine can each run their own instance).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv
REQUIREMENTS=scripts/localstack-requirements.txt
STAMP=$VENV/.localstack-requirements.stamp
STATE=$ROOT/.localstack
PIDFILE=$STATE/pid
LOG=$STATE/localstack.log
HOST_PORT=127.0.0.1:${LOCALSTACK_PORT:-4566}
ENDPOINT=http://$HOST_PORT
SERVICES=s3,logs,sns,sqs,events,kms
START_TIMEOUT=${LOCALSTACK_START_TIMEOUT:-120}

say() { printf 'localstack: %s\n' "$*"; }
die() { printf 'localstack: error: %s\n' "$*" >&2; exit 1; }

# Serialise install/start between concurrent callers sharing this checkout (flock is optional).
lock() {
  mkdir -p "$STATE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$STATE/lock"
    flock 9
  fi
}

# --- install -----------------------------------------------------------------------------

# The stamp ties the venv to the exact requirements file and interpreter it was built from.
wanted_stamp() {
  local py=$1 sum
  sum=$(cksum <"$REQUIREMENTS")
  printf '%s | %s\n' "$sum" "$("$py" -c 'import sys; print(sys.version.split()[0])')"
}

cmd_install() {
  [[ -f $REQUIREMENTS ]] || die "missing $REQUIREMENTS"
  lock
  if [[ -x $VENV/bin/python && -f $STAMP ]] &&
    [[ "$(cat "$STAMP")" == "$(wanted_stamp "$VENV/bin/python")" ]]; then
    say "venv .venv/ already has the pinned set; nothing to install"
    return
  fi
  local python=${PYTHON:-python3} is_311='import sys; sys.exit(sys.version_info[:2] != (3, 11))'
  "$python" -c "$is_311" ||
    die "$python is not CPython 3.11 (localstack-core 4.13.1 is pinned for 3.11; set PYTHON=...)"
  if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c "$is_311"; then
    die ".venv/ was made with another Python than 3.11; remove it and run install again"
  fi
  if [[ ! -x $VENV/bin/python ]]; then
    say "creating venv .venv/"
    "$python" -m venv "$VENV"
  fi
  say "installing $(grep -cv '^#' "$REQUIREMENTS") pinned packages from $REQUIREMENTS"
  # --no-deps: the file is a complete freeze, so pip need not resolve (fast and reproducible).
  # --no-compile: byte-compiling all ~500 MB up front costs ~25 s; `start` lets Python write
  # .pyc files lazily for the modules LocalStack actually imports instead.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
    -r "$REQUIREMENTS"
  wanted_stamp "$VENV/bin/python" >"$STAMP"
  say "installed into .venv/"
}

# --- health ------------------------------------------------------------------------------

# Prints the health JSON (version and our services only); exit 0 only if every service in
# $SERVICES is available or running.
health() {
  "$VENV/bin/python" - "$ENDPOINT/_localstack/health" "$SERVICES" <<'PY'
import json, sys, urllib.request
url, wanted = sys.argv[1], sys.argv[2].split(",")
try:
    with urllib.request.urlopen(url, timeout=3) as resp:
        body = json.load(resp)
except Exception:
    sys.exit(2)
states = body.get("services", {})
print(json.dumps({"version": body.get("version"), "services": {s: states.get(s) for s in wanted}}))
sys.exit(0 if all(states.get(s) in ("available", "running") for s in wanted) else 1)
PY
}

# Something (anything) accepts connections on the port.
port_in_use() {
  "$VENV/bin/python" - "$HOST_PORT" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
with socket.socket() as s:
    s.settimeout(1)
    sys.exit(0 if s.connect_ex((host, int(port))) == 0 else 1)
PY
}

# A process that has exited but is not yet reaped (a zombie of this very shell) counts as gone.
alive() {
  local stat
  stat=$(ps -p "$1" -o stat= 2>/dev/null) && [[ $stat != Z* ]]
}

# Pid of the instance this script started, if it is still alive and still LocalStack.
our_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # Guard against a recycled pid: the process must be our LocalStack runtime.
  ps -p "$pid" -o args= 2>/dev/null | grep -q 'localstack.runtime.main' || return 1
  echo "$pid"
}

# --- start / stop / status ---------------------------------------------------------------

cmd_start() {
  [[ -x $VENV/bin/python ]] || die ".venv/ missing: run scripts/localstack.sh install first"
  lock
  local pid
  if pid=$(our_pid); then
    if health >/dev/null; then
      say "already running and healthy (pid $pid) at $ENDPOINT"
      return
    fi
    say "pid $pid is running but not healthy yet; waiting"
  else
    rm -f "$PIDFILE"
    if port_in_use; then
      die "$HOST_PORT is in use by a process this script did not start; stop it first"
    fi
    rm -rf "$STATE/filesystem" "$STATE/tmp" # no persistence: every start begins empty
    mkdir -p "$STATE/tmp"
    : >"$LOG"
    say "starting LocalStack ($SERVICES) on $ENDPOINT; log: .localstack/localstack.log"
    # Host mode, offline: no DNS server (port 53), no analytics, no SSL-cert
    # download; ~/.localstack profiles are ignored (CONFIG_DIR); state and temp files (S3
    # object bodies go to $TMPDIR; only LocalStack's hard-coded, empty per-bucket folders in
    # /tmp/localstack-s3-storage escape) under .localstack/.
    # LOCALSTACK_HOST and the path strategy keep returned URLs (SQS QueueUrl, ...) on
    # 127.0.0.1 rather than *.localhost.localstack.cloud, which needs DNS.
    # EAGER_SERVICE_LOADING: load every service at start, so the first test call is not slow.
    # PYTHONDONTWRITEBYTECODE is dropped so the .pyc cache (see install) gets written.
    # setsid: the server outlives the calling shell / terminal (it is stopped by `stop`);
    # 9>&-: it must not inherit (and so hold) the start lock.
    local launcher=()
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    env -u PYTHONDONTWRITEBYTECODE \
      GATEWAY_LISTEN="$HOST_PORT" \
      SERVICES="$SERVICES" \
      LOCALSTACK_HOST="$HOST_PORT" \
      SQS_ENDPOINT_STRATEGY=path \
      EAGER_SERVICE_LOADING=1 \
      PERSISTENCE=0 \
      FILESYSTEM_ROOT="$STATE/filesystem" \
      TMPDIR="$STATE/tmp" \
      CONFIG_DIR="$STATE/config" \
      DNS_ADDRESS=0 \
      DISABLE_EVENTS=1 \
      SKIP_SSL_CERT_DOWNLOAD=1 \
      "${launcher[@]}" "$VENV/bin/python" -m localstack.runtime.main \
      </dev/null >>"$LOG" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"
  fi

  local deadline=$((SECONDS + START_TIMEOUT)) body
  while ((SECONDS < deadline)); do
    if body=$(health); then
      say "healthy after ${SECONDS}s (pid $pid): $body"
      return
    fi
    if ! alive "$pid"; then
      rm -f "$PIDFILE"
      say "LocalStack exited during start; last log lines:" >&2
      tail -n 40 "$LOG" >&2 || true
      exit 1
    fi
    sleep 1
  done
  say "not healthy after ${START_TIMEOUT}s; last log lines:" >&2
  tail -n 40 "$LOG" >&2 || true
  cmd_stop >&2 # leave no half-started server behind
  exit 1
}

cmd_stop() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PIDFILE"
    say "not running"
    return
  fi
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 30; i++)); do
    alive "$pid" || break
    sleep 0.5
  done
  if alive "$pid"; then
    say "still running after 15s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.2; done # so the port is free on return
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

cmd_status() {
  local pid body
  if ! pid=$(our_pid); then
    say "not running"
    return 1
  fi
  if body=$(health); then
    say "running (pid $pid) at $ENDPOINT: $body"
  else
    say "pid $pid is running but not healthy: ${body:-no answer}"
    return 1
  fi
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
