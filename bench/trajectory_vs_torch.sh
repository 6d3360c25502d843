#!/usr/bin/env bash
# Does tadd-worker's training follow the dynamics of a plain PyTorch
# rendering of SPEC section 3's recipe? Same initial weights (tadd-worker
# init and train both draw them from tadd_rng_seed(seed, TADD_STREAM_INIT,
# 0)), same batches (bench/trajectory_vs_torch.py redoes worker/data.h's
# generator), the real baseline schedule (lr 0.015, warmup 1350,
# train_steps 30000): the worker is stopped with SIGTERM once its
# evaluation at step N is out.
#
#   bench/trajectory_vs_torch.sh [build-dir] [seed] [steps] [float32|float64]
#
# Prints, per evaluation window (steps since the previous evaluation, as
# metrics.csv's train_loss), tadd's mean loss, torch's and their relative
# difference. A benchmark aid only; needs Debian's python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seed=${2:-42}
steps=${3:-1000}
dtype=${4:-float32}
interval=50
worker="$build/worker/tadd-worker"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo '{}' > "$tmp/model.json"
"$worker" init --config "$tmp/model.json" --seed "$seed" \
    --out "$tmp/init.safetensors"

cat > "$tmp/pack.json" <<EOF
{"config": {"eval_interval": $interval},
 "checkpoint_interval": 1000000,
 "models": [{"seed": $seed, "dir": "$tmp/m"}]}
EOF

# The worker has no step limit but train_steps, which the schedule needs
# at 30000: stop it after the evaluation of step N.
"$worker" train --pack "$tmp/pack.json" 2>/dev/null > "$tmp/events" &
wpid=$!
/usr/bin/python3 bench/trajectory_vs_torch.py --init "$tmp/init.safetensors" \
    --seed "$seed" --steps "$((steps + 1))" --dtype "$dtype" \
    > "$tmp/torch.txt" &
tpid=$!
while ! grep -q "\"event\": *\"eval\", *\"step\": *$steps[,}]" \
        "$tmp/events" 2>/dev/null; do
    if ! kill -0 "$wpid" 2>/dev/null; then
        echo "tadd-worker ended before step $steps:" >&2
        tail -3 "$tmp/events" >&2
        exit 1
    fi
    sleep 1
done
kill -TERM "$wpid"
wait "$wpid" || true
wait "$tpid"

/usr/bin/python3 - "$tmp/m/metrics.csv" "$tmp/torch.txt" "$steps" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))
        if int(r["step"]) <= int(sys.argv[3])]
torch = {}
for line in open(sys.argv[2]):
    s, loss, norm, lr = line.split()
    torch[int(s)] = (float(loss), float(norm), float(lr))
print("%6s %12s %12s %10s %10s %10s" % ("step", "tadd_loss", "torch_loss",
      "rel_diff", "tadd_gnorm", "torch_gnorm"))
prev = -1
for r in rows:
    s = int(r["step"])
    window = [torch[k][0] for k in range(prev + 1, s + 1)]
    ours = float(r["train_loss"])
    theirs = sum(window) / len(window)
    print("%6d %12.7f %12.7f %10.2e %10.5f %10.5f"
          % (s, ours, theirs, abs(ours - theirs) / abs(theirs),
             float(r["grad_norm"]), torch[s][1]))
    prev = s
PY
