#!/usr/bin/env bash
# Runs one fuzz target for a while, at the lowest priority, and prints
# its figures (run time, executions, corpus size, crashes).
#
#   tests/fuzz/run.sh BUILD TARGET SECONDS
#
# BUILD is a build folder set up with CC=clang and -Dfuzz=true. The
# corpus grows in BUILD/fuzz-corpus/TARGET, crashes land in
# BUILD/fuzz-crashes/TARGET. Copy a crash into tests/fuzz/TARGET/regressions
# and list it in expect.txt: the replay test runs it from then on. The
# regressions are not fed back to the fuzzer, so that one not fixed yet
# does not stop every run at once.
set -euo pipefail

build=${1:?usage: run.sh BUILD TARGET SECONDS}
target=${2:?usage: run.sh BUILD TARGET SECONDS}
seconds=${3:-600}
src=$(cd "$(dirname "$0")" && pwd)

case $target in
    sweep) max_len=8192 ;;       # sweeps are small; 8 KiB covers grids
    safetensors) max_len=8192 ;; # a golden checkpoint is 3 to 7 KiB
    pack) max_len=4096 ;;
    request) max_len=4096 ;;     # a few request lines; 1 MiB is the limit
    *) echo "unknown target $target" >&2; exit 2 ;;
esac

exe=$build/tests/fuzz/fuzz_$target
corpus=$build/fuzz-corpus/$target
crashes=$build/fuzz-crashes/$target
mkdir -p "$corpus" "$crashes"
[ -x "$exe" ] || { echo "$exe: not built (ninja -C $build)" >&2; exit 2; }

log=$build/fuzz-$target.log
: > "$log"
# libFuzzer stops at the first crash; start it again (the corpus keeps
# what it learnt) until the time is used up, so one known bug does not
# end the run. Executions add up over the restarts.
start=$(date +%s)
execs=0
runs=0
while :; do
    left=$((seconds - ($(date +%s) - start)))
    [ "$left" -gt 0 ] && [ "$runs" -lt 1000 ] || break
    runs=$((runs + 1))
    set +e
    nice -n 19 "$exe" -max_len=$max_len -max_total_time="$left" \
        -dict="$src/json.dict" -artifact_prefix="$crashes/" \
        -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
        "$corpus" "$src/$target/seeds" \
        > "$log.run" 2>&1
    status=$?
    set -e
    cat "$log.run" >> "$log"
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.run" | tail -1)
    execs=$((execs + ${n:-0}))
    [ "$status" -ne 0 ] || break
done
rm -f "$log.run"
end=$(date +%s)
echo "$target: $((end - start)) s, $execs executions in $runs run(s)," \
     "corpus $(ls "$corpus" | wc -l) files," \
     "crashes $(ls "$crashes" | wc -l) (log $log)"
