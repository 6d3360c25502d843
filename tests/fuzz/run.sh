#!/usr/bin/env bash
# Runs one fuzz target for a while, at the lowest priority, and prints
# its figures (run time, executions, corpus size, crashes).
#
#   tests/fuzz/run.sh BUILD TARGET SECONDS
#
# BUILD is a build folder set up with CC=clang and -Dfuzz=true. The
# corpus grows in BUILD/fuzz-corpus/TARGET, crashes land in
# BUILD/fuzz-crashes/TARGET; copy a crash into tests/fuzz/TARGET/regressions
# (and list it in expect.txt) once the parser is fixed.
set -euo pipefail

build=${1:?usage: run.sh BUILD TARGET SECONDS}
target=${2:?usage: run.sh BUILD TARGET SECONDS}
seconds=${3:-600}
src=$(cd "$(dirname "$0")" && pwd)

case $target in
    sweep) max_len=8192 ;;       # sweeps are small; 8 KiB covers grids
    safetensors) max_len=8192 ;; # a golden checkpoint is 3 to 7 KiB
    pack) max_len=4096 ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
esac

exe=$build/tests/fuzz/fuzz_$target
corpus=$build/fuzz-corpus/$target
crashes=$build/fuzz-crashes/$target
mkdir -p "$corpus" "$crashes"
[ -x "$exe" ] || { echo "$exe: not built (ninja -C $build)" >&2; exit 2; }

log=$build/fuzz-$target.log
start=$(date +%s)
set +e
nice -n 19 "$exe" -max_len=$max_len -max_total_time="$seconds" \
    -dict="$src/json.dict" -artifact_prefix="$crashes/" \
    -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
    "$corpus" "$src/$target/seeds" "$src/$target/regressions" \
    > "$log" 2>&1
status=$?
set -e
end=$(date +%s)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "$target: $((end - start)) s, ${execs:-?} executions," \
     "corpus $(ls "$corpus" | wc -l) files," \
     "crashes $(ls "$crashes" | wc -l), exit $status (log $log)"
