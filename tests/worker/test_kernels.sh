#!/usr/bin/env bash
# The engine's copies for different instruction sets train to the same
# bits: a pack trained on the portable kernels (TADD_KERNELS=generic)
# leaves the same files as on the copy the processor selects, for the
# baseline family and for one using every other model feature.
. "$(dirname "$0")/lib.sh"

cfg=$(tiny_config 40)
family='"n_layer": 2, "n_head": 2, "norm": "rmsnorm", "pos_rank": 3,
  "qkv_rank": 3, "qkv_tie": "shareA_tieKV", "attn_out_rank": 2,
  "ffn_rank": 2, "d_model": 8, "d_ff": 12'
for kind in baseline family; do
    extra=""
    [ "$kind" = family ] && extra=", $family"
    for k in default generic; do
        cat > "$TMP/$kind-$k.json" <<JSON
{"config": ${cfg%\}}$extra}, "checkpoint_interval": 20,
 "models": [$(model 5 "$TMP/$kind-$k/s5" '"lr": 0.01'),
            $(model 6 "$TMP/$kind-$k/s6" '"lr": 0.02')]}
JSON
    done
    "$WORKER" train --pack "$TMP/$kind-default.json" --threads 2 \
        > "$TMP/$kind-default.out"
    TADD_KERNELS=generic "$WORKER" train --pack "$TMP/$kind-generic.json" \
        --threads 2 > "$TMP/$kind-generic.out"
    grep -q '"kernels":"generic"' "$TMP/$kind-generic.out" ||
        fail "TADD_KERNELS=generic did not select the portable kernels"
    for s in 5 6; do
        same_model_files "$TMP/$kind-default/s$s" "$TMP/$kind-generic/s$s"
    done
done
if grep -q avx2 /proc/cpuinfo 2>/dev/null; then
    grep -q '"kernels":"avx2"' "$TMP/baseline-default.out" ||
        fail "an AVX2 processor did not get the AVX2 kernels"
fi
echo "kernels: $(grep -o '"kernels":"[a-z0-9]*"' \
    "$TMP/baseline-default.out") and generic agree"
