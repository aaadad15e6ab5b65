#!/usr/bin/env bash
# How long an event takes from its producer to a log file in S3, with the functions running under
# `cargo lambda watch` against LocalStack and deliver invoked on a 1-minute schedule.
#
#   scripts/measure-latency.sh [MINUTES] [EVENTS_PER_SECOND]   (defaults 10 minutes, 2 per second)
#
# A producer sends single-event bodies to ingest (through the watch's Lambda Invoke API) for
# MINUTES; deliver is invoked at the start of every minute, and once more after the producer
# stops. Each event's delay is from the moment its request was sent to the moment the deliver
# run that wrote its log file returned. Prints p50, p99 and the maximum.
#
# Uses the LocalStack at $CAIRN_LOCALSTACK, or starts one on $LOCALSTACK_PORT (default 4566) and
# stops it afterwards. The first invocation of each function builds it (a dev build), which is
# done before the clock starts.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
MINUTES=${1:-10}
RATE=${2:-2}
ROOT=$PWD

STARTED_LOCALSTACK=
WATCH_PID=
WORK=$(mktemp -d)
cleanup() {
  [[ -z $WATCH_PID ]] || kill -TERM -- "-$WATCH_PID" 2>/dev/null || true
  [[ -z $STARTED_LOCALSTACK ]] || bash scripts/localstack.sh stop
  rm -rf "$WORK"
}
trap cleanup EXIT
if [[ -z ${CAIRN_LOCALSTACK:-} ]]; then
  bash scripts/localstack.sh start
  STARTED_LOCALSTACK=1
  CAIRN_LOCALSTACK=http://127.0.0.1:${LOCALSTACK_PORT:-4566}
fi
export AWS_ENDPOINT_URL=$CAIRN_LOCALSTACK AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

# One trail of every management event, in buckets of this run's own.
SUFFIX=$(date +%s%N | tail -c 10)
cat >"$WORK/cairn.yaml" <<EOF
accountId: "111122223333"
stateBucket: cairn-latency-state-$SUFFIX
trails:
  - Name: main
    S3BucketName: cairn-latency-trail-$SUFFIX
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
    IncludeGlobalServiceEvents: true
    AdvancedEventSelectors:
      - FieldSelectors: [{Field: eventCategory, Equals: [Management]}]
EOF
.venv/bin/aws s3 mb "s3://cairn-latency-state-$SUFFIX" >/dev/null
.venv/bin/aws s3 mb "s3://cairn-latency-trail-$SUFFIX" >/dev/null

PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Its own process group (setsid), so the functions it starts stop with it.
(
  cd "$ROOT"
  export PATH=$ROOT/.venv-tools/bin:$PATH CAIRN_CONFIG=$WORK/cairn.yaml
  exec setsid cargo-lambda lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$PORT"
) >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!

.venv/bin/python - "$PORT" "$MINUTES" "$RATE" "cairn-latency-trail-$SUFFIX" <<'PY'
import json, sys, threading, time, urllib.request, uuid
from datetime import datetime, timezone

port, minutes, rate, trail_bucket = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]

def invoke(function, payload, timeout=900):
    url = f"http://127.0.0.1:{port}/2015-03-31/functions/{function}/invocations"
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())

def iso(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

def event(event_id, at):
    return {"Records": [{
        "eventVersion": "1.11", "eventTime": iso(at), "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
        "userAgent": "latency-probe", "userIdentity": {"type": "IAMUser",
        "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/probe",
        "accountId": "111122223333", "userName": "probe"},
        "requestParameters": None, "responseElements": None, "eventID": event_id,
        "requestID": str(uuid.uuid4()),
        "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": "111122223333", "eventCategory": "Management"}]}

def schedule(at):
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "111122223333", "time": iso(at),
            "region": "us-east-1", "resources": [], "detail": {}}

# Build and start each function before the clock starts (the first invoke compiles it).
for attempt in range(120):
    try:
        invoke("deliver", schedule(time.time()))
        break
    except OSError:
        time.sleep(5)
warm_up = invoke("ingest", event(str(uuid.uuid4()), time.time()))
assert not warm_up["failed"], warm_up
invoke("deliver", schedule(time.time()))

sent = {}          # eventID -> time its request was sent
written = {}       # log file key -> time the deliver run that wrote it returned
stop = time.time() + minutes * 60

def producer():
    interval = 1 / rate
    next_at = time.time()
    while time.time() < stop:
        event_id = str(uuid.uuid4())
        at = time.time()
        sent[event_id] = at
        answer = invoke("ingest", event(event_id, at))
        assert not answer["failed"], answer
        next_at += interval
        time.sleep(max(0, next_at - time.time()))

thread = threading.Thread(target=producer, daemon=True)
thread.start()
while True:
    time.sleep(60 - time.time() % 60)   # the top of each minute, as rate(1 minute) fires
    finished = not thread.is_alive()
    report = invoke("deliver", schedule(time.time()))
    returned = time.time()
    for file in report.get("logFiles", []):
        written[file["key"]] = returned
    if finished:
        break

import boto3, gzip
s3 = boto3.client("s3")
delay = []
for key, returned in written.items():
    body = s3.get_object(Bucket=trail_bucket, Key=key)["Body"].read()
    for record in json.loads(gzip.decompress(body))["Records"]:
        if record["eventID"] in sent:
            delay.append(returned - sent[record["eventID"]])
missing = len(sent) - len(delay)
if not delay:
    sys.exit(f"no event of {len(sent)} reached a log file")
delay.sort()
pick = lambda q: delay[min(len(delay) - 1, int(q * len(delay)))]
print(f"events sent: {len(sent)} over {minutes:g} min at {rate:g}/s; delivered: {len(delay)}; missing: {missing}")
print(f"event-to-log-file delay, deliver every 60 s: p50 {pick(0.50):.1f} s, p99 {pick(0.99):.1f} s, max {delay[-1]:.1f} s")
sys.exit(1 if missing else 0)
PY
