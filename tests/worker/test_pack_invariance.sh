#!/usr/bin/env bash
# A model trained alone, with one thread, gives the same files as the same
# seed trained alone with two threads (which share the shards of its
# batches) and inside a pack of three (other seeds, other learning rates),
# with one thread and with two. The batch of 300 makes two shards, the
# second one shorter.
. "$(dirname "$0")/lib.sh"

cfg=$(tiny_config 60 300)
cat > "$TMP/alone.json" <<JSON
{"config": $cfg, "checkpoint_interval": 25,
 "models": [$(model 7 "$TMP/alone/s7" '"lr": 0.01')]}
JSON
for t in 1 2; do
cat > "$TMP/pack$t.json" <<JSON
{"config": $cfg, "checkpoint_interval": 25,
 "models": [$(model 3 "$TMP/pack$t/s3" '"lr": 0.02, "weight_decay": 0.1'),
            $(model 7 "$TMP/pack$t/s7" '"lr": 0.01'),
            $(model 11 "$TMP/pack$t/s11" '"lr": 0.005, "grad_clip": 0.5')]}
JSON
done

"$WORKER" train --pack "$TMP/alone.json" --threads 1 > "$TMP/alone.out"
sed "s|$TMP/alone/|$TMP/alone2/|" "$TMP/alone.json" > "$TMP/alone2.json"
"$WORKER" train --pack "$TMP/alone2.json" --threads 2 > "$TMP/alone2.out"
grep -q '"threads":2' "$TMP/alone2.out" ||
    fail "a model alone did not get two threads"
"$WORKER" train --pack "$TMP/pack1.json" --threads 1 > "$TMP/pack1.out"
"$WORKER" train --pack "$TMP/pack2.json" --threads 2 > "$TMP/pack2.out"

grep -q '"event":"end"' "$TMP/alone.out" || fail "no end event"
[ "$(wc -l < "$TMP/alone/s7/metrics.csv")" -eq 5 ] ||
    fail "expected a header and 4 evaluations (steps 0, 20, 40, 59)"
same_model_files "$TMP/alone/s7" "$TMP/alone2/s7"
same_model_files "$TMP/alone/s7" "$TMP/pack1/s7"
same_model_files "$TMP/alone/s7" "$TMP/pack2/s7"
same_model_files "$TMP/pack1/s3" "$TMP/pack2/s3"
same_model_files "$TMP/pack1/s11" "$TMP/pack2/s11"
# Different seeds really train differently.
if cmp -s "$TMP/pack1/s3/last.safetensors" "$TMP/pack1/s7/last.safetensors"
then
    fail "seeds 3 and 7 ended with identical weights"
fi
echo "pack invariance: ok"
