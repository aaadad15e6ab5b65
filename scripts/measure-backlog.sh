#!/usr/bin/env bash
# Peak memory and CPU time of one `cairn deliver` over a backlog of N staged events (default
# 1,000,000): builds the release `cairn`, generates N realistic records from the Stratus fixtures
# (each copy with its own eventID, time and Region), ingests them in files of 10,000 into a fresh
# embedded store, then delivers under /usr/bin/time and prints the elapsed time, the CPU seconds
# (user and system) and the maximum resident set size.
#   scripts/measure-backlog.sh [N] [WORKDIR]
# CAIRN_BIN names a cairn binary to measure instead of building one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
events=${1:-1000000}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
if [[ -z ${CAIRN_BIN:-} ]]; then
  cargo build --release -q -p cairn-cli
fi
cat > "$work/cairn.yaml" <<'YAML'
accountId: "111122223333"
stateBucket: backlog-state
trails:
  - Name: everything
    S3BucketName: backlog-trail
    HomeRegion: us-east-1
    IsMultiRegionTrail: true
YAML
python3 - "$events" "$work/input" <<'PY'
import glob, json, os, sys
events, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
templates = [r for f in sorted(glob.glob("tests/fixtures/stratus_red_team_detonation_logs/*.json"))
             for r in json.load(open(f))["Records"]]
regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]
start = 1795338000  # 2026-11-22T09:00:00Z
for first in range(0, events, 10000):
    with open(f"{out}/part-{first // 10000:05d}.jsonl", "w") as f:
        for i in range(first, min(first + 10000, events)):
            r = dict(templates[i % len(templates)])
            r["eventID"] = f"00000000-0000-4000-8000-{i:012d}"
            t = start + i // 30
            r["eventTime"] = "%04d-%02d-%02dT%02d:%02d:%02dZ" % __import__("time").gmtime(t)[:6]
            r["recipientAccountId"] = "111122223333"
            r["awsRegion"] = regions[i % 4]
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
PY
cairn=${CAIRN_BIN:-${CARGO_TARGET_DIR:-target}/release/cairn}
"$cairn" --config "$work/cairn.yaml" --store "$work/store" ingest "$work"/input/*.jsonl > /dev/null
echo "staged: $(du -sh "$work/store/backlog-state" | cut -f1) for $events events"
/usr/bin/time -f "deliver: %e s elapsed, %U s user, %S s system, peak RSS %M KiB" \
  "$cairn" --config "$work/cairn.yaml" --store "$work/store" deliver > "$work/deliver.out"
head -1 "$work/deliver.out"
