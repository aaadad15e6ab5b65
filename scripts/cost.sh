#!/usr/bin/env bash
# What Cairn costs per 100,000 events, beside CloudTrail's price for the same events.
#
#   scripts/cost.sh [EVENTS] [ROUNDS]     (defaults 5000 events, delivered in 5 deliver runs)
#
# For each producer shape (500 events per request; 1 event per request, to ingest directly and
# through ingest's SQS queue; AWS's CloudTrail events through EventBridge and the queue) the
# `cost` binary (tests/cost.rs) runs ingest, deliver, forward and notify
# on LocalStack over EVENTS realistic events and counts every request through the ports; this
# script prices the counts at us-east-1 list prices and scales them to 100,000 events. The
# fixed costs (hourly digests, idle scheduled runs, the signing key) are shown per month apart.
#
# Uses the LocalStack at $CAIRN_LOCALSTACK, or starts one on $LOCALSTACK_PORT (default 4566) and
# stops it afterwards. Lambda durations are measured in-process here (a dev build on whatever
# machine runs it), so that line is indicative; the request counts are exact.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
EVENTS=${1:-5000}
ROUNDS=${2:-5}

# --- us-east-1 list prices, USD ----------------------------------------------------------
# https://aws.amazon.com/s3/pricing/ (S3 Standard requests; DELETE is free)
S3_PUT_LIST_PER_1K=0.005     # PUT, COPY, POST, LIST
S3_GET_HEAD_PER_1K=0.0004    # GET, SELECT and all other requests (HEAD)
S3_STORAGE_GB_MONTH=0.023    # first 50 TB
# https://aws.amazon.com/lambda/pricing/ (Arm)
LAMBDA_PER_1M_REQUESTS=0.20
LAMBDA_ARM_GB_SECOND=0.0000133334
# https://aws.amazon.com/sns/pricing/ (each 64 KB chunk of a publish is one request)
SNS_PER_1M_PUBLISHES=0.50
# https://aws.amazon.com/sqs/pricing/ (standard queue; each 64 KB chunk is one request)
SQS_PER_1M_REQUESTS=0.40
# https://aws.amazon.com/kms/pricing/ (asymmetric requests; a key is $1/month)
KMS_PER_10K_ASYMMETRIC=0.15
KMS_KEY_MONTH=1.00
# https://aws.amazon.com/cloudwatch/pricing/ (Logs, Standard class, data ingested)
LOGS_INGEST_PER_GB=0.50
# https://aws.amazon.com/eventbridge/pricing/ (events AWS services publish to the default bus,
# S3 Object Created and CloudTrail's API calls among them, are free)
EVENTBRIDGE_AWS_EVENTS_PER_1M=0
# https://aws.amazon.com/cloudtrail/pricing/ (per 100,000 events delivered)
CLOUDTRAIL_MANAGEMENT_COPY_PER_100K=2.00
CLOUDTRAIL_DATA_PER_100K=0.10

# Memory of each function, from template.yaml (deliver sets its own; the others take Globals').
memory_of() {
  local function=$1 global own
  global=$(awk '/^Globals:/{g=1} g && /MemorySize:/{print $2; exit}' template.yaml)
  own=$(awk -v f="  ${function^}Function:" '$0==f{inside=1; next} inside && /^  [A-Z]/{exit} inside && /MemorySize:/{print $2; exit}' template.yaml)
  echo "${own:-$global}"
}

STARTED_LOCALSTACK=
if [[ -z ${CAIRN_LOCALSTACK:-} ]]; then
  bash scripts/localstack.sh start
  STARTED_LOCALSTACK=1
  export CAIRN_LOCALSTACK=http://127.0.0.1:${LOCALSTACK_PORT:-4566}
fi
cleanup() { [[ -z $STARTED_LOCALSTACK ]] || bash scripts/localstack.sh stop; }
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

cargo build --quiet -p cairn-tests --bin cost
COST=${CARGO_TARGET_DIR:-target}/debug/cost

MEMORY="ingest=$(memory_of ingest) deliver=$(memory_of deliver) forward=$(memory_of forward) notify=$(memory_of notify)"
echo "Cairn per 100,000 events, us-east-1 list prices; measured over $EVENTS events in $ROUNDS deliver runs on LocalStack"
echo "Lambda memory (template.yaml): $MEMORY MB"

for shape in batch500 single queue eventbridge; do
  echo
  TABLE=$("$COST" "$shape" "$EVENTS" "$ROUNDS" | awk -F'\t' -v shape="$shape" -v events="$EVENTS" -v memory="$MEMORY" \
    -v s3_put="$S3_PUT_LIST_PER_1K" -v s3_get="$S3_GET_HEAD_PER_1K" -v s3_gb="$S3_STORAGE_GB_MONTH" \
    -v l_req="$LAMBDA_PER_1M_REQUESTS" -v l_gbs="$LAMBDA_ARM_GB_SECOND" -v sns="$SNS_PER_1M_PUBLISHES" \
    -v sqs="$SQS_PER_1M_REQUESTS" -v kms="$KMS_PER_10K_ASYMMETRIC" -v kms_key="$KMS_KEY_MONTH" \
    -v logs="$LOGS_INGEST_PER_GB" -v eb="$EVENTBRIDGE_AWS_EVENTS_PER_1M" \
    -v ct_mgmt="$CLOUDTRAIL_MANAGEMENT_COPY_PER_100K" -v ct_data="$CLOUDTRAIL_DATA_PER_100K" '
    BEGIN {
      split(memory, pairs, " ")
      for (i in pairs) { split(pairs[i], kv, "="); mb[kv[1]] = kv[2] }
      titles["batch500"] = "500 events per request"
      titles["single"] = "1 event per request, to ingest directly"
      titles["queue"] = "1 event per request, through ingest'"'"'s SQS queue"
      titles["eventbridge"] = "AWS CloudTrail events through EventBridge and ingest'"'"'s SQS queue"
    }
    # Each phase gets its own lines; "events" is scaled to 100,000 events, "hour" and "idle"
    # are one run each.
    function add(phase, item, count, usd) {
      if (!((phase, item) in cost)) { order[phase, ++n[phase]] = item }
      qty[phase, item] += count; cost[phase, item] += usd
    }
    $2 == "request" && $3 == "S3" {
      price = ($4 == "PUT" || $4 == "LIST" || $4 == "POST") ? s3_put / 1000 : ($4 == "DELETE" ? 0 : s3_get / 1000)
      add($1, "S3 " $4, $5, $5 * price)
    }
    $2 == "request" && $3 == "SNS" { add($1, "SNS Publish", $5, $5 * sns / 1e6) }
    $2 == "request" && $3 == "KMS" { add($1, "KMS " $4, $5, $5 * kms / 1e4) }
    $2 == "request" && $3 == "CloudWatch Logs" { logs_calls[$1] += $5; logs_bytes[$1] += $6 }
    $2 == "lambda" {
      add($1, "Lambda " $3 " requests", $4, $4 * l_req / 1e6)
      add($1, "Lambda " $3 " duration (ms, " mb[$3] " MB)", $5, $5 / 1000 * mb[$3] / 1024 * l_gbs)
    }
    $2 == "eventbridge" { add($1, "EventBridge AWS events", $3, $3 * eb / 1e6) }
    # SendMessage by EventBridge per message; Lambda receives and deletes them 10 at a time.
    $2 == "sqs" { add($1, "SQS requests (send, receive, delete)", $3 + 2 * int(($3 + 9) / 10), ($3 + 2 * int(($3 + 9) / 10)) * sqs / 1e6) }
    # ingest'"'"'s queue: SendMessage per event, the poller'"'"'s ReceiveMessage and DeleteMessageBatch.
    $2 == "ingestqueue" && $3 + $4 + $5 > 0 {
      add($1, "SQS ingest queue SendMessage", $3, $3 * sqs / 1e6)
      add($1, "SQS ingest queue ReceiveMessage", $4, $4 * sqs / 1e6)
      add($1, "SQS ingest queue DeleteMessageBatch", $5, $5 * sqs / 1e6)
    }
    $2 == "trailbytes" { stored[$1] += $3 }
    END {
      scale = 100000 / events
      printf "== %s ==\n", titles[shape]
      printf "  %-48s %14s %12s\n", "per 100,000 events", "count", "USD"
      total = 0
      for (i = 1; i <= n["events"]; i++) {
        item = order["events", i]
        printf "  %-48s %14.0f %12.6f\n", item, qty["events", item] * scale, cost["events", item] * scale
        total += cost["events", item] * scale
      }
      printf "  %-48s %14s %12.6f  (goal <= 0.02)\n", "TOTAL Cairn", "", total
      # One SendMessage per event is most of the queued shapes'"'"' cost. A producer that sends 10
      # events per SendMessageBatch (at most 10 messages; this run'"'"'s 10 stay under the 64 KB
      # billed as one request) pays a tenth of it; EventBridge sends one message per event.
      if (shape == "queue") {
        send = cost["events", "SQS ingest queue SendMessage"] * scale
        printf "  %-48s %14s %12.6f  (this run'"'"'s counts, sends 10 per request)\n", \
          "TOTAL with 10 events per SendMessageBatch", "", total - send + send / 10
      }
      printf "  %-48s %14s %12.2f\n", "CloudTrail, additional copy of management events", "", ct_mgmt
      printf "  %-48s %14s %12.2f\n", "CloudTrail, data events", "", ct_data
      printf "  %-48s %14.0f %12.6f  (not in the total; CloudTrail users pay it too)\n", \
        "CloudWatch Logs ingestion (PutLogEvents calls)", logs_calls["events"] * scale, \
        logs_bytes["events"] * scale / 2^30 * logs
      printf "  %-48s %14.0f %12.6f  (not in the total; bytes kept)\n", \
        "S3 storage of log files (bytes), per month", stored["events"] * scale, stored["events"] * scale / 2^30 * s3_gb
      # A month: 730 hours, each with one digest run, and 11 idle runs of rate(5 minutes).
      month = 0
      for (i = 1; i <= n["hour"]; i++) month += cost["hour", order["hour", i]] * 730
      for (i = 1; i <= n["idle"]; i++) month += cost["idle", order["idle", i]] * 730 * 11
      printf "  %-48s %14s %12.4f  (whatever the volume: digests each hour, idle runs every 5 minutes, the KMS key)\n", \
        "Fixed, per month", "", month + kms_key
    }')
  echo "$TABLE"
done
