#!/usr/bin/env bash
# The four functions as Lambda runs them: each one's arm64 bootstrap and zip size, and its
# cold-start init time measured here.
#
#   scripts/measure-lambdas.sh            RUNS=20 by default
#
# 1. `cargo lambda build --release --arm64` (what `sam build` runs, zig from .venv-tools/) and the
#    size of each bootstrap;
# 2. `cargo lambda build --release --arm64 --output-format zip --bin NAME`: the zip's size, and
#    its listing (bootstrap and cairn.yaml, from [package.metadata.lambda.build] include);
# 3. the x86_64 release binaries started RUNS times each against a loopback Lambda Runtime API:
#    init is the time from spawn to the function's first `GET /2018-06-01/runtime/invocation/next`
#    (loading cairn.yaml and the SDK configuration, building the clients). arm64 cannot run on
#    this machine; the code path is the same. AWS_ENDPOINT_URL points at a closed loopback port, so
#    an init that called AWS would fail here rather than reach out.
#
# Release builds with whole-program LTO are CPU-heavy: they run under `nice -n 15`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-20}
FUNCTIONS=(ingest deliver forward notify)

bash scripts/tools.sh install >&2
export PATH="$PWD/.venv-tools/bin:$PATH"
target=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

echo "== cargo lambda build --release --arm64" >&2
nice -n 15 cargo lambda build --release --arm64 >&2
bins=()
for name in "${FUNCTIONS[@]}"; do
  nice -n 15 cargo lambda build --release --arm64 --output-format zip --bin "$name" \
    --lambda-dir "$target/lambda-zip" >&2
  bins+=(--bin "$name")
done
echo "== cargo build --release (x86_64, for the init times)" >&2
nice -n 15 cargo build --release "${bins[@]}" >&2

python3 - "$target" "$RUNS" "${FUNCTIONS[@]}" <<'PY'
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time
import zipfile

target, runs, functions = sys.argv[1], int(sys.argv[2]), sys.argv[3:]


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    """Notes when the function first asks for an invocation, and holds the request open (as
    Lambda does while no event is waiting) until the function is stopped."""

    def do_GET(self):
        if self.path == "/2018-06-01/runtime/invocation/next":
            self.server.asked_at = time.perf_counter_ns()
            self.server.asked.set()
            self.server.release.wait(15)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
server.daemon_threads = True
server.asked = threading.Event()
server.release = threading.Event()
threading.Thread(target=server.serve_forever, daemon=True).start()


def init_ms(binary, name):
    env = {
        "PATH": os.environ["PATH"],
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": f"cairn-{name}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/cairn/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "measure",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "measure",
        "AWS_SECRET_ACCESS_KEY": "measure",
        "AWS_SESSION_TOKEN": "measure",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "CAIRN_CONFIG": "cairn.yaml",
        "CAIRN_SIGNING_KEY": "alias/cairn-signing",
    }
    server.asked.clear()
    server.release.clear()
    started = time.perf_counter_ns()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        while not server.asked.wait(0.01):
            if process.poll() is not None:
                sys.exit(f"{name} exited during init: {process.stderr.read().decode()}")
            if time.perf_counter_ns() - started > 10e9:
                sys.exit(f"{name} did not ask for an invocation within 10 s")
        return (server.asked_at - started) / 1e6
    finally:
        process.kill()
        process.wait()
        server.release.set()


print(f"{'function':<9} {'bootstrap':>11} {'zip':>11}  init ms, x86_64 (first; median, min, max of {runs})")
for name in functions:
    bootstrap = os.path.join(target, "lambda", name, "bootstrap")
    archive = os.path.join(target, "lambda-zip", name, "bootstrap.zip")
    listing = sorted(zipfile.ZipFile(archive).namelist())
    if listing != ["bootstrap", "cairn.yaml"]:
        sys.exit(f"{archive} holds {listing}, not bootstrap and cairn.yaml")
    binary = os.path.join(target, "release", name)
    first = init_ms(binary, name)
    times = [init_ms(binary, name) for _ in range(runs)]
    print(f"{name:<9} {os.path.getsize(bootstrap):>11,} {os.path.getsize(archive):>11,}  "
          f"{first:.1f}; {statistics.median(times):.1f}, {min(times):.1f}, {max(times):.1f}")
print("sizes in bytes; each zip holds bootstrap and cairn.yaml")
PY
