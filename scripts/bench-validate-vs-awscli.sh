#!/usr/bin/env bash
# `aws cloudtrail validate-logs` next to `cairn validate-logs` on the same data, in the same run.
#
#   scripts/bench-validate-vs-awscli.sh [EVENTS] [RUNS]     (defaults 100000 and 3)
#
# Builds one trail's chain of 24 hourly digests over EVENTS realistic records (copies of the
# real Stratus records in tests/fixtures) with the cairn command itself: ingest and deliver
# twice an hour into LocalStack's S3, digests signed with a LocalStack KMS RSA_2048 key. Then
# times, RUNS rounds, both validators on it and cairn on an `aws s3 sync` copy of the bucket
# (`--store DIR --public-keys FILE`, which aws-cli cannot validate, against aws-cli's time on
# S3), and prints each round's times and ratios. aws-cli reads S3 from LocalStack and gets the
# public keys from a loopback stand-in for the CloudTrail API that answers ListPublicKeys with
# what `cairn list-public-keys` prints. The last column is the CPU time LocalStack itself spent
# while cairn validated on S3 (from /proc, when scripts/localstack.sh started it): serving
# cairn's requests is part of cairn's S3 time that cairn cannot shorten.
#
# Needs LocalStack installed (scripts/localstack.sh install; started here if not running) and
# aws-cli at CAIRN_AWS_CLI (default .venv-tools/bin/aws, from scripts/tools.sh install).
# CAIRN_BIN names a cairn binary to time instead of building one.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
EVENTS=${1:-100000}
RUNS=${2:-3}
AWS=${CAIRN_AWS_CLI:-$ROOT/.venv-tools/bin/aws}
ENDPOINT=http://127.0.0.1:${LOCALSTACK_PORT:-4566}
T0=2026-11-22T00:00:00Z
T_END=2026-11-23T00:00:00Z

[[ -x $AWS ]] || { echo "aws-cli not found at $AWS (scripts/tools.sh install, or set CAIRN_AWS_CLI)" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=$ENDPOINT
unset AWS_PROFILE

bash scripts/localstack.sh status >/dev/null 2>&1 || bash scripts/localstack.sh start
if [[ -n ${CAIRN_BIN:-} ]]; then
  CAIRN=$CAIRN_BIN
else
  cargo build --release --quiet -p cairn-cli
  CAIRN="${CARGO_TARGET_DIR:-$ROOT/target}/release/cairn"
fi

WORK=$(mktemp -d)
STUB_PID=
cleanup() {
  [[ -n $STUB_PID ]] && kill "$STUB_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

SUFFIX=$(date +%s%N | tail -c 10)
BUCKET=cairn-bench-$SUFFIX
STATE=cairn-bench-state-$SUFFIX
"$AWS" s3 mb "s3://$BUCKET" >/dev/null
"$AWS" s3 mb "s3://$STATE" >/dev/null
KEY=$("$AWS" kms create-key --key-spec RSA_2048 --key-usage SIGN_VERIFY \
  --query KeyMetadata.KeyId --output text)
ARN=arn:aws:cloudtrail:us-east-1:111122223333:trail/busy
cat >"$WORK/cairn.yaml" <<EOF
accountId: "111122223333"
stateBucket: $STATE
trails:
  - Name: busy
    S3BucketName: $BUCKET
    HomeRegion: us-east-1
    EnableLogFileValidation: true
EOF

# 48 half-hour runs; each run's records happen in its first 25 minutes, one JSON line each.
python3 - "$EVENTS" "$WORK" "$ROOT/tests/fixtures/stratus_red_team_detonation_logs" <<'PY'
import datetime, glob, json, os, sys
events, work, fixtures = int(sys.argv[1]), sys.argv[2], sys.argv[3]
templates = [r for path in sorted(glob.glob(os.path.join(fixtures, "*.json")))
             for r in json.load(open(path))["Records"]]
runs = 48
per_run = -(-events // runs)
t0 = datetime.datetime(2026, 11, 22, tzinfo=datetime.timezone.utc)
files = [open(os.path.join(work, f"run-{run:02}.jsonl"), "w") for run in range(runs)]
for i in range(events):
    run = i // per_run
    record = dict(templates[i % len(templates)])
    at = t0 + datetime.timedelta(minutes=30 * run, seconds=(i % per_run) * 1500 // per_run)
    record.update(eventID=f"00000000-0000-4000-8000-{i:012}",
                  eventTime=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  recipientAccountId="111122223333", awsRegion="us-east-1")
    files[run].write(json.dumps(record, separators=(",", ":")) + "\n")
PY

echo "building: $EVENTS events, 48 deliver runs into s3://$BUCKET (LocalStack) ..."
cairn() { "$CAIRN" --aws --config "$WORK/cairn.yaml" --signing-key "$KEY" "$@"; }
for run in $(seq 0 47); do
  now=$(date -u -d "$T0 + $((run * 30 + 26)) minutes" +%Y-%m-%dT%H:%M:%SZ)
  cairn --now "$now" ingest "$WORK/run-$(printf %02d "$run").jsonl" >/dev/null
  cairn --now "$now" deliver >/dev/null
done
cairn --now 2026-11-23T00:10:00Z deliver >/dev/null

# The CloudTrail stand-in: every ListPublicKeys call gets the published keys.
cairn list-public-keys --start-time "$T0" --end-time 2026-11-24T00:00:00Z >"$WORK/keys.json"
python3 - "$WORK/keys.json" >"$WORK/stub.port" <<'PY' &
import http.server, sys
body = open(sys.argv[1], "rb").read()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
STUB_PID=$!
for _ in $(seq 50); do [[ -s $WORK/stub.port ]] && break; sleep 0.1; done
STUB=http://127.0.0.1:$(cat "$WORK/stub.port")

now() { date +%s.%N; }
# LocalStack's CPU seconds so far (user and system, its threads included), or nothing.
LOCALSTACK_PID=$(cat .localstack/pid 2>/dev/null || true)
localstack_cpu() {
  [[ -n $LOCALSTACK_PID && -r /proc/$LOCALSTACK_PID/stat ]] || return 0
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$LOCALSTACK_PID/stat"
}
elapsed() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$(now)"; }
args=(--trail-arn "$ARN" --s3-bucket "$BUCKET" --start-time "$T0" --end-time "$T_END")

# The same chain as an `aws s3 sync` copy: no S3 metadata, keys from the file.
"$AWS" s3 sync --quiet "s3://$BUCKET" "$WORK/copy/$BUCKET"

# RUNS rounds, each timing the three one after the other, so that every ratio compares runs
# made under the same load; the first round also pays for whatever is not yet in the page cache.
echo "round  aws-cli (S3)  cairn (S3)  ratio  cairn (local copy)  ratio  LocalStack CPU during cairn (S3)"
for round in $(seq "$RUNS"); do
  start=$(now)
  AWS_ENDPOINT_URL_S3=$ENDPOINT AWS_ENDPOINT_URL_CLOUDTRAIL=$STUB \
    "$AWS" cloudtrail validate-logs --region us-east-1 "${args[@]}" >"$WORK/aws.out" 2>&1 ||
    { cat "$WORK/aws.out"; echo "aws-cli did not validate the chain" >&2; exit 1; }
  aws_seconds=$(elapsed "$start")

  serving_before=$(localstack_cpu)
  start=$(now)
  cairn validate-logs --region us-east-1 "${args[@]}" >"$WORK/cairn.out" 2>&1 ||
    { cat "$WORK/cairn.out"; echo "cairn did not validate the chain" >&2; exit 1; }
  cairn_seconds=$(elapsed "$start")
  serving=$(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f} s" if len(sys.argv) == 3 else "n/a")' $serving_before $(localstack_cpu))

  start=$(now)
  "$CAIRN" --store "$WORK/copy" --config "$WORK/cairn.yaml" validate-logs --region us-east-1 \
    --public-keys "$WORK/keys.json" "${args[@]}" >"$WORK/copy.out" 2>&1 ||
    { cat "$WORK/copy.out"; echo "cairn did not validate the copy" >&2; exit 1; }
  copy_seconds=$(elapsed "$start")

  python3 -c 'import sys; r, s = sys.argv[1], sys.argv[5]; a, c, l = map(float, sys.argv[2:5]); print(f"{r:>5}  {a:10.2f} s  {c:8.2f} s  {a / c:4.1f}x  {l:16.2f} s  {a / l:4.1f}x  {s:>10}")' \
    "$round" "$aws_seconds" "$cairn_seconds" "$copy_seconds" "$serving"
done

echo "aws-cli (last round):"
tail -n 4 "$WORK/aws.out"
echo "cairn (last round):"
tail -n 4 "$WORK/cairn.out"
echo "cairn on the aws s3 sync copy (last round):"
tail -n 5 "$WORK/copy.out"
