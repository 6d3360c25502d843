# Sourced by the engine's benchmark scripts: the time of one training
# step of a baseline pack on the real path (tadd-worker train on a pack
# file), the way each of them measures it.
#
#   pack_step BUILD TMP MODELS THREADS STEPS
#
# prints seconds per step and the peak resident size in KiB (GNU time's
# %M). The pack evaluates every 20 steps on a validation set of 16 pairs,
# which keeps evaluations cheap; a step's time is the median over those
# intervals after the first (which holds the process's warm-up), so that
# a moment of interference moves one interval, not the figure. TMP is
# an empty folder the run may fill.
pack_step() {
    local build=$1 tmp=$2 n=$3 threads=$4 steps=$5
    python3 - "$tmp" "$steps" "$n" <<'PY'
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
if not d:
    sys.exit("pack_step: fewer than 3 evaluations; run at least 40 steps")
print(statistics.median(d), end=" ")'
    cat "$tmp/rss"
}
