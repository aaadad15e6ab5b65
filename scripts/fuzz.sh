#!/usr/bin/env bash
# The cargo-fuzz targets of fuzz/, built and run with libFuzzer on the stable toolchain (no
# cargo-fuzz install needed): the same coverage instrumentation `cargo fuzz build` asks rustc
# for, all of it stable codegen options.
#
#   scripts/fuzz.sh list                      the targets
#   scripts/fuzz.sh build                     build every target
#   scripts/fuzz.sh run TARGET [SECONDS]      fuzz one target (default 600 s) on one core,
#                                             growing fuzz/corpus/TARGET; crashes go to
#                                             fuzz/artifacts/TARGET/
#   scripts/fuzz.sh check [SECONDS]           every target for SECONDS (default 15) on its
#                                             corpus: what the test command runs, so a
#                                             regression fails the build
#
# Each target starts from its seeds, written by fuzz/seeds.py from the real records, bodies,
# digests, configs and events in tests/fixtures/, events/ and cairn.yaml, from the inputs that
# once crashed it (fuzz/regressions/TARGET/, kept as regression tests), and from the corpus
# earlier runs grew (fuzz/corpus/TARGET/, not committed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN_DIR=$TARGET_DIR/$TRIPLE/release

targets() { sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^cairn-fuzz$'; }

build() {
  rm -rf "$TARGET_DIR/fuzz-seeds"
  python3 fuzz/seeds.py "$TARGET_DIR/fuzz-seeds"
  # --target keeps the instrumentation off build scripts and proc macros, as cargo-fuzz does.
  RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
    cargo build --quiet --manifest-path fuzz/Cargo.toml --release --target "$TRIPLE" --bins
}

run() {
  local target=$1 seconds=$2
  shift 2
  local corpus=$PWD/fuzz/corpus/$target artifacts=$PWD/fuzz/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  local seeds=("$TARGET_DIR/fuzz-seeds/$target")
  [[ -d fuzz/regressions/$target ]] && seeds+=("$PWD/fuzz/regressions/$target")
  # With -jobs, libFuzzer runs the fuzzing in a child that writes fuzz-0.log in the current
  # folder: run it in the target's artifacts folder, then print that log and remove it.
  local status=0
  (cd "$artifacts" && "$BIN_DIR/$target" -workers=1 -jobs=1 -max_total_time="$seconds" \
    -max_len=1048576 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" "$corpus" "${seeds[@]}") || status=$?
  cat "$artifacts/fuzz-0.log"
  rm -f "$artifacts/fuzz-0.log"
  return "$status"
}

case ${1:-} in
  list) targets ;;
  build) build ;;
  run)
    [[ -n ${2:-} ]] || { echo "usage: $0 run TARGET [SECONDS]" >&2; exit 2; }
    build
    run "$2" "${3:-600}"
    ;;
  check)
    build
    for target in $(targets); do
      echo "fuzz: $target for ${2:-15} s"
      log=$TARGET_DIR/fuzz-$target.log
      if ! run "$target" "${2:-15}" >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
      fi
      grep -E '^stat::(number_of_executed_units|new_units_added)|^#[0-9]+ +DONE' "$log" || true
    done
    ;;
  *)
    sed -n '2,18p' "$0" >&2
    exit 2
    ;;
esac
