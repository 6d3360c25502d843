#!/usr/bin/env bash
# A run stopped part-way (SIGTERM, then kill -9 after a checkpoint) and
# started again on the same pack equals an uninterrupted run, bit for bit
# but for wall-clock time.
. "$(dirname "$0")/lib.sh"

cfg=$(tiny_config 400)
pack() {
cat > "$TMP/$1.json" <<JSON
{"config": $cfg, "checkpoint_interval": 50,
 "models": [$(model 5 "$TMP/$1/s5"),
            $(model 6 "$TMP/$1/s6" '"lr": 0.02')]}
JSON
}
pack straight
pack term
pack killed

"$WORKER" train --pack "$TMP/straight.json" > "$TMP/straight.out"

interrupt term TERM
if grep -q '"event":"end"' "$TMP/term.out1"; then
    echo "the run ended before SIGTERM arrived; resume not exercised" >&2
    exit 1
fi
grep -q '"event":"stopped"' "$TMP/term.out1" || fail "no stopped event"
[ -f "$TMP/term.json.state" ] || fail "no state after SIGTERM"
"$WORKER" train --pack "$TMP/term.json" > "$TMP/term.out2"
start=$(grep '"event":"start"' "$TMP/term.out2")
case "$start" in *'"step":0,'*) fail "did not resume: $start" ;; esac
same_model_files "$TMP/straight/s5" "$TMP/term/s5"
same_model_files "$TMP/straight/s6" "$TMP/term/s6"

interrupt killed KILL
grep -q '"event":"end"' "$TMP/killed.out1" &&
    fail "the run ended before kill -9 arrived"
"$WORKER" train --pack "$TMP/killed.json" > "$TMP/killed.out2"
same_model_files "$TMP/straight/s5" "$TMP/killed/s5"
same_model_files "$TMP/straight/s6" "$TMP/killed/s6"

# A finished pack started again repeats only its ending.
"$WORKER" train --pack "$TMP/straight.json" > "$TMP/again.out"
grep -q '"event":"start","step":400' "$TMP/again.out" ||
    fail "finished pack did not start at its end"
echo "resume: ok"
