#!/usr/bin/env bash
# Time of a 100,000-pair evaluation (ten sets of 10,000, as
# `tadd-worker eval` does by default), for a trained checkpoint (mostly
# exact: about one forward pass per pair) and for a fresh one (nothing
# exact: every pair also decoded greedily).
#
#   bench/eval_100k.sh [build-dir] [trained.safetensors]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
worker="$build/worker/tadd-worker"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo '{}' > "$tmp/baseline.json"
"$worker" init --config "$tmp/baseline.json" --seed 1 --out "$tmp/fresh.st"

run() {
    local label=$1 ckpt=$2 best=
    for _ in 1 2 3; do
        local t0 t1 dt
        t0=$(date +%s.%N)
        "$worker" eval "$ckpt" --json > "$tmp/out.json"
        t1=$(date +%s.%N)
        dt=$(python3 -c "print($t1 - $t0)")
        best=$(python3 -c "b='$best'; print(min(float(b), $dt) if b else $dt)")
    done
    python3 - "$tmp/out.json" "$label" "$best" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["aggregate"]
print(f"{sys.argv[2]:8s} {r['total']} pairs, exact {r['exact_match']:.5f}: "
      f"{float(sys.argv[3]):.3f} s (best of 3, whole process)")
PY
}

[ $# -ge 2 ] && run trained "$2"
run fresh "$tmp/fresh.st"
