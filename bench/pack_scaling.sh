#!/usr/bin/env bash
# The engine against the machine, side by side in one run:
#   - the FP32 peak (bench/fma_peak);
#   - the baseline pack's step time on the real training path (tadd-worker
#     train on a pack file, timed by its evaluation events every 20 steps,
#     which a tiny validation set keeps cheap; see run below) for 1 to 64
#     models on one thread and on every thread (a pack of one shares its
#     batch's shards among the threads);
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

# run MODELS THREADS: prints seconds per step and peak RSS in KiB. The
# pack evaluates every 20 steps; a step's time is the median over those
# intervals after the first (which holds the process's warm-up), so that
# a moment of interference moves one interval, not the figure. Packs
# under 8 models run 8 / MODELS times the steps: short runs of a small
# pack showed mostly the processor waking up.
run() {
    local n=$1 threads=$2 s=$steps
    [ "$n" -lt 8 ] && s=$((steps * 8 / n))
    python3 - "$tmp" "$s" "$n" <<'PY'
import json, sys
tmp, steps, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
models = [{"seed": 42 + i, "dir": f"{tmp}/m{i}", "warmup_steps": 10}
          for i in range(n)]
pack = {"config": {"train_steps": steps + 1, "eval_interval": 20,
                   "val_size": 16, "test_size": 16},
        "checkpoint_interval": 1000000, "models": models}
json.dump(pack, open(f"{tmp}/pack.json", "w"))
PY
    rm -rf "$tmp"/m* "$tmp/pack.json.state"
    /usr/bin/time -f "%M" -o "$tmp/rss" "$build/worker/tadd-worker" train \
        --pack "$tmp/pack.json" --threads "$threads" 2>/dev/null |
        python3 -c '
import json, statistics, sys
e = [json.loads(l) for l in sys.stdin if "\"eval\"" in l]
t = [(x["step"], x["elapsed"]) for x in e]
d = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(t[1:], t[2:])]
print(statistics.median(d), end=" ")'
    cat "$tmp/rss"
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
