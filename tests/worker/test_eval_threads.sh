#!/usr/bin/env bash
# tadd-worker eval spreads its seed sets over threads; the report (counts,
# per-seed figures, the first failures in seed order) is the same for any
# thread count. A bad --threads is refused.
. "$(dirname "$0")/lib.sh"

cfg=$(tiny_config 40)
cat > "$TMP/pack.json" <<JSON
{"config": $cfg, "checkpoint_interval": 20,
 "models": [$(model 3 "$TMP/m")]}
JSON
"$WORKER" train --pack "$TMP/pack.json" > /dev/null 2>&1 ||
    fail "training the model to evaluate failed"
for t in 1 2 5; do
    "$WORKER" eval "$TMP/m/last.safetensors" --seeds 1,2,3,4,5 --n 300 \
        --threads "$t" --json > "$TMP/eval$t.json" ||
        fail "eval --threads $t failed"
done
cmp "$TMP/eval1.json" "$TMP/eval2.json" || fail "2 threads changed the report"
cmp "$TMP/eval1.json" "$TMP/eval5.json" || fail "5 threads changed the report"
python3 - "$TMP/eval1.json" <<'PY' || fail "bad report: $(cat "$TMP/eval1.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert [s["seed"] for s in r["per_seed"]] == [1, 2, 3, 4, 5]
assert r["aggregate"]["total"] == 1500
assert r["aggregate"]["errors"] == sum(s["errors"] for s in r["per_seed"])
assert len(r["failures"]) == min(10, r["aggregate"]["errors"])
PY
rc=0
"$WORKER" eval "$TMP/m/last.safetensors" --threads 0 2> "$TMP/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q -- "--threads: must be 1 to 1024" "$TMP/err" ||
    fail "--threads 0 was not refused: $(cat "$TMP/err")"
echo "eval threads: ok"
