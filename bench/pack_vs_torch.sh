#!/usr/bin/env bash
# Steps per second of the baseline pack (8 models, batch 512): tadd-worker
# against the same step in PyTorch (bench/torch_pack_step.py, Debian's
# python3-torch), side by side in one run, with one and two threads.
#
#   bench/pack_vs_torch.sh [build-dir] [steps]
#
# The worker runs its real training path, timed as bench/pack_step.sh
# says.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
steps=${2:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. bench/pack_step.sh

echo "threads  tadd s/step  torch s/step  speed-up"
for threads in 1 2; do
    read -r ours _ < <(pack_step "$build" "$tmp" 8 "$threads" "$steps")
    theirs=$(/usr/bin/python3 bench/torch_pack_step.py --threads "$threads" \
        --steps 10 | python3 -c 'import json,sys; print(json.load(sys.stdin)["sec_per_step"])')
    python3 -c "import sys; o, t = map(float, sys.argv[1:]); \
print(f'{$threads:7d}  {o:11.4f}  {t:12.4f}  {t / o:8.1f}x')" "$ours" "$theirs"
done
