#!/usr/bin/env bash
# tadd-worker calibrate prints one calibration event with a figure for
# every thread count and pack width it scans, and refuses bad arguments.
. "$(dirname "$0")/lib.sh"

"$WORKER" calibrate --max-threads 2 --max-models 8 --seconds 0.01 \
    > "$TMP/out" || fail "calibrate failed"
python3 - "$TMP/out" <<'PY' || fail "bad calibration output: $(cat "$TMP/out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
e = json.loads(lines[0])
assert e["event"] == "calibration" and e["kernels"] in ("avx2-fma", "generic")
assert e["config"]["d_model"] == 8 and e["config"]["batch_size"] == 512
assert [p["threads"] for p in e["threads"]] == [1, 2]
assert all(p["models"] == 8 for p in e["threads"])
t = max(e["threads"], key=lambda p: 1 / p["ms_per_model_step"])["threads"]
assert [p["models"] for p in e["widths"]] == \
    [w for w in (1, 2, 4, 8) if w >= t and w % t == 0], e["widths"]
assert all(p["threads"] == t for p in e["widths"])
assert all(p["ms_per_model_step"] > 0 for p in e["threads"] + e["widths"])
PY

# A config file's model is the one timed.
echo '{"d_model": 4, "d_ff": 8, "batch_size": 16}' > "$TMP/small.json"
"$WORKER" calibrate --config "$TMP/small.json" --max-threads 1 \
    --max-models 2 --seconds 0.01 > "$TMP/small.out" ||
    fail "calibrate --config failed"
grep -q '"d_model":4' "$TMP/small.out" || fail "--config was not used"

expect_refusal() {
    local want=$1 rc=0
    shift
    "$WORKER" calibrate "$@" > "$TMP/bad.out" 2> "$TMP/bad.err" || rc=$?
    [ "$rc" -ne 0 ] || fail "calibrate $* was accepted"
    grep -q -- "$want" "$TMP/bad.err" ||
        fail "calibrate $*: expected '$want', got: $(cat "$TMP/bad.err")"
}
expect_refusal "--max-threads: must be 1 to 256" --max-threads 0
expect_refusal "--max-models: must be 1 to 4096" --max-models x
expect_refusal "--seconds: must be in (0, 60]" --seconds 0
expect_refusal "unknown or incomplete argument '--bogus'" --bogus
expect_refusal "missing.json" --config "$TMP/missing.json"
echo "calibrate: ok"
