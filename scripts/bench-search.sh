#!/usr/bin/env bash
# How fast `cairn lookup-events --trail` searches delivered log files, against decompressing the
# same files alone. Delivers N realistic events (default 1,000,000, about 1.3 GB of JSON) to an
# embedded store with scripts/measure-backlog.sh (kept in WORKDIR, so a second run reuses it),
# then times, side by side and with the files in the page cache, `zcat` of every log file to
# /dev/null and a filter-pattern search printing the matching records to /dev/null. Each is run
# RUNS times (default 3) and its best time kept; the ratio search/zcat is printed last.
#   scripts/bench-search.sh [N] [WORKDIR] [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
events=${1:-1000000}
work=${2:-$(mktemp -d)}
runs=${3:-3}
if [[ ! -d $work/store/backlog-trail ]]; then
  bash scripts/measure-backlog.sh "$events" "$work"
fi
cargo build --release -q -p cairn-cli
cairn=target/release/cairn
[[ -n ${CARGO_TARGET_DIR:-} ]] && cairn=$CARGO_TARGET_DIR/release/cairn

find "$work/store/backlog-trail" -name '*.json.gz' -print0 | sort -z >"$work/log-files"
files=$(tr -cd '\0' <"$work/log-files" | wc -c)
# Reading them once puts them in the page cache for both, and measures what they hold.
bytes=$(xargs -0 cat <"$work/log-files" | wc -c)
json=$(xargs -0 zcat <"$work/log-files" | wc -c)
echo "$files log files: $((bytes / 1000000)) MB gzip, $((json / 1000000)) MB JSON"

# Unauthorized calls, about one event in six of the generated ones.
pattern='{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
search=("$cairn" --config "$work/cairn.yaml" --store "$work/store" lookup-events
  --trail everything --filter-pattern "$pattern" --output records)
found=$("${search[@]}" | wc -l)
echo "search: $found of $events events match $pattern"

# Best of $runs wall-clock seconds of a command (its output to /dev/null).
best() {
  local fastest=""
  for _ in $(seq "$runs"); do
    local start end elapsed
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    elapsed=$(echo "$end - $start" | bc)
    if [[ -z $fastest ]] || (($(echo "$elapsed < $fastest" | bc))); then fastest=$elapsed; fi
  done
  printf '%.2f' "$fastest"
}
decompress() { xargs -0 zcat <"$work/log-files"; }
zcat_time=$(best decompress)
search_time=$(best "${search[@]}")
echo "zcat of every log file:     ${zcat_time} s"
echo "cairn lookup-events --trail: ${search_time} s ($(nproc) cores)"
printf 'ratio search/zcat: %.2f\n' "$(echo "scale=3; $search_time / $zcat_time" | bc)"
