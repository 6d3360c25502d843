#!/usr/bin/env bash
# The engine against the machine, side by side in one run:
#   - the FP32 peak (bench/fma_peak);
#   - the baseline pack's step time on the real training path
#     (bench/pack_step.sh) for 1 to 64 models on one thread and on every
#     thread (a pack of one shares its batch's shards among the threads);
#   - useful GFLOP/s: 106,560 FLOPs per sample (docs/flops.md) x 512
#     samples x models / seconds per step, and its share of the peak;
#   - the peak resident size of each run (GNU time's %M).
# Each configuration runs `rounds` times, one round of all of them after
# the other, and keeps its fastest run: on a shared machine the others
# measure the neighbours as much as the engine.
#
#   bench/pack_scaling.sh [build-dir] [steps] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
steps=${2:-200}
rounds=${3:-3}
cpus=$(getconf _NPROCESSORS_ONLN)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

peak=$("$build/bench/fma_peak" --threads "$cpus" | tail -1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["fma_gflops"])')
peak1=$("$build/bench/fma_peak" --threads 1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["fma_gflops"])')
echo "FP32 FMA peak: $peak1 GFLOP/s on 1 thread, $peak on $cpus"

. bench/pack_step.sh

# run MODELS THREADS: seconds per step and peak RSS in KiB. Packs under 8
# models run 8 / MODELS times the steps: short runs of a small pack
# showed mostly the processor waking up.
run() {
    local n=$1 s=$steps
    [ "$n" -lt 8 ] && s=$((steps * 8 / n))
    pack_step "$build" "$tmp" "$n" "$2" "$s"
}

configs="1:1 2:1 4:1 8:1 16:1 32:1 64:1"
for n in 1 2 4 8 16 32 64; do configs="$configs $n:$cpus"; done
declare -A best_sec best_rss
for _ in $(seq "$rounds"); do
    for c in $configs; do
        read -r sec rss < <(run "${c%:*}" "${c#*:}")
        if [ -z "${best_sec[$c]:-}" ] ||
            python3 -c "import sys; sys.exit(not $sec < ${best_sec[$c]})"
        then
            best_sec[$c]=$sec
        fi
        [ "$rss" -gt "${best_rss[$c]:-0}" ] && best_rss[$c]=$rss
    done
done

echo "best of $rounds runs of $steps steps each"
echo "models threads  ms/step  ms/model-step  GFLOP/s  %peak  RSS MiB"
for c in $configs; do
    n=${c%:*} threads=${c#*:}
    p=$peak
    [ "$threads" = 1 ] && p=$peak1
    python3 -c "
import sys
n, th, sec, rss, peak = int(sys.argv[1]), int(sys.argv[2]), \
    float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
gf = 106560 * 512 * n / sec * 1e-9
print(f'{n:6d} {th:7d} {sec*1e3:8.2f} {sec*1e3/n:14.3f} {gf:8.1f} '
      f'{100*gf/peak:6.1f} {rss/1024:8.1f}')" \
        "$n" "$threads" "${best_sec[$c]}" "${best_rss[$c]}" "$p"
done
