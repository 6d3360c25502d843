#!/usr/bin/env bash
# Steps per second of the baseline pack (8 models, batch 512): tadd-worker
# against the same step in PyTorch (bench/torch_pack_step.py, Debian's
# python3-torch), side by side in one run, with one and two threads.
#
#   bench/pack_vs_torch.sh [build-dir] [steps]
#
# The worker runs its real training path (tadd-worker train on a pack
# file); its time per step is taken between its first and last
# evaluation events, which the tiny validation set keeps cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
steps=${2:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

worker_sec_per_step() {
    local threads=$1
    python3 - "$tmp" "$steps" <<'PY'
import json, sys
tmp, steps = sys.argv[1], int(sys.argv[2])
models = [{"seed": 42 + i, "dir": f"{tmp}/m{i}", "warmup_steps": 10}
          for i in range(8)]
pack = {"config": {"train_steps": steps + 1, "eval_interval": steps,
                   "val_size": 16, "test_size": 16},
        "checkpoint_interval": 1000000, "models": models}
json.dump(pack, open(f"{tmp}/pack.json", "w"))
PY
    rm -rf "$tmp"/m* "$tmp/pack.json.state"
    "$build/worker/tadd-worker" train --pack "$tmp/pack.json" \
        --threads "$threads" 2>/dev/null | python3 -c '
import json, sys
t = [json.loads(l)["elapsed"] for l in sys.stdin if "\"eval\"" in l]
print((t[-1] - t[0]) / int(sys.argv[1]))' "$steps"
}

echo "threads  tadd s/step  torch s/step  speed-up"
for threads in 1 2; do
    ours=$(worker_sec_per_step "$threads")
    theirs=$(/usr/bin/python3 bench/torch_pack_step.py --threads "$threads" \
        --steps 10 | python3 -c 'import json,sys; print(json.load(sys.stdin)["sec_per_step"])')
    python3 -c "import sys; o, t = map(float, sys.argv[1:]); \
print(f'{$threads:7d}  {o:11.4f}  {t:12.4f}  {t / o:8.1f}x')" "$ours" "$theirs"
done
