#!/usr/bin/env bash
# taddd sizes its workers from tadd-worker calibrate when the settings
# leave them open: the figures are measured once, kept in
# calibration.json (private), reused on the next start, and shown by
# status; given settings are kept as given; a worker whose calibration
# fails leaves the fixed defaults, with a warning in the log.
set -euo pipefail
: "${TADD_BUILD_ROOT:?run through meson test}"
TADDD="$TADD_BUILD_ROOT/daemon/taddd"
CTL="$TADD_BUILD_ROOT/cli/taddctl"
WORKER="$TADD_BUILD_ROOT/worker/tadd-worker"
# Under /tmp: the socket path must stay short.
TMP=$(mktemp -d /tmp/tadd-calib.XXXXXX)
H="$TMP/home"
cleanup() {
    "$CTL" --home "$H" shutdown >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -f "$H/taddd.log" ] && cat "$H/taddd.log" >&2
    exit 1
}
start() {
    "$TADDD" --home "$H" --worker "$1" --daemonize "${@:2}" >/dev/null ||
        fail "taddd did not start"
}
stop() {
    local pid
    pid=$("$CTL" --home "$H" status | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
    "$CTL" --home "$H" shutdown >/dev/null || fail "shutdown failed"
    # The home stays locked until the daemon has exited.
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    fail "taddd (pid $pid) did not exit after shutdown"
}
cpus=$(getconf _NPROCESSORS_ONLN)

# 1. Nothing given: measured, kept, shown.
start "$WORKER"
[ -f "$H/calibration.json" ] || fail "no calibration.json after a start"
[ "$(stat -c %a "$H/calibration.json")" = 600 ] ||
    fail "calibration.json is not private"
grep -q "sized from measurement: 1 thread .*(measured now" "$H/taddd.log" ||
    fail "the log does not say what was measured"
status=$("$CTL" --home "$H" status)
echo "$status" | grep -q "sized from measurement" ||
    fail "status does not show the measurement"
# The choice follows the figures: workers x threads fill the processors.
read -r workers threads width < <(python3 - "$H/calibration.json" \
    "$cpus" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["measurement"]
cpus = int(sys.argv[2])
ms = {p["threads"]: p["ms_per_model_step"] for p in m["threads"]}
t = max(k for k in ms if k == 1 or ms[1] / (k * ms[k]) >= 0.7)
workers = max(1, cpus // t)
best = min(p["ms_per_model_step"] for p in m["widths"])
near = [p["models"] for p in m["widths"]
        if p["ms_per_model_step"] <= best * 1.05]
print(workers, t, max(near) if workers == 1 else min(near))
PY
)
want="$workers workers x $threads threads, packs of up to $width models"
echo "$status" | grep -q "$want" ||
    fail "status does not show what the rules give ($want): $status"
stop

# 2. The next start reuses the figures.
cp "$H/calibration.json" "$TMP/first.json"
start "$WORKER"
grep -q "figures from calibration.json" "$H/taddd.log" ||
    fail "the second start did not reuse calibration.json"
cmp -s "$H/calibration.json" "$TMP/first.json" ||
    fail "calibration.json changed without a new measurement"
stop

# 3. Given sizes are kept, with no measurement.
lines=$(wc -l < "$H/taddd.log")
start "$WORKER" --workers 2 --threads 1 --max-models-per-pack 3
"$CTL" --home "$H" status |
    grep -q "2 workers x 1 threads, packs of up to 3 models" ||
    fail "given sizes were not kept"
tail -n +"$((lines + 1))" "$H/taddd.log" | grep -q "sized from measurement" &&
    fail "taddd measured although every size was given"
stop

# 4. A worker whose calibration fails: the fixed defaults and a warning.
cat > "$TMP/broken-worker" <<'SH'
#!/bin/sh
echo "no calibration here" >&2
exit 3
SH
chmod 755 "$TMP/broken-worker"
rm -f "$H/calibration.json"
start "$TMP/broken-worker"
grep -q "calibrate exited with status 3; using the fixed defaults" \
    "$H/taddd.log" || fail "no warning for a failed calibration"
"$CTL" --home "$H" status |
    grep -q "1 workers x $cpus threads, packs of up to 8 models" ||
    fail "a failed calibration did not leave the fixed defaults"
[ -f "$H/calibration.json" ] && fail "a failed calibration was kept"
stop
echo "calibration: ok ($workers x $threads, packs of $width)"
