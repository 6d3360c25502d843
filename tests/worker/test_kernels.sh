#!/usr/bin/env bash
# The engine's copies for different instruction sets: the portable one
# (TADD_KERNELS=generic) and the one the processor selects agree to float
# rounding, for the baseline family and for one using every other model
# feature; a resumed pack goes on with the copy its state was trained on,
# bit for bit, and says so when this processor lacks that copy.
# (pack_invariance_generic and golden_generic hold the portable copy to
# the same invariance and golden vectors as the selected one.)
. "$(dirname "$0")/lib.sh"

# The train_loss of metrics.csv at step 0: one forward pass, before any
# update has let the copies' roundings grow apart.
loss_at_0() {
    awk -F, 'NR == 2 && $1 == 0 { print $2 }' "$1/metrics.csv"
}

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
        a=$(loss_at_0 "$TMP/$kind-default/s$s")
        b=$(loss_at_0 "$TMP/$kind-generic/s$s")
        [ -n "$a" ] && [ -n "$b" ] || fail "$kind s$s: no step-0 loss"
        awk -v a="$a" -v b="$b" 'BEGIN {
            d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5 * b) }' ||
            fail "$kind s$s: step-0 loss $a (default) vs $b (generic)"
    done
done
if grep -q avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo
then
    grep -q '"kernels":"avx2-fma"' "$TMP/baseline-default.out" ||
        fail "an AVX2 and FMA processor did not get the AVX2 kernels"
fi
default=$(grep -o '"kernels":"[a-z0-9-]*"' "$TMP/baseline-default.out")

# Starts a long pack on the environment's kernels and stops it with
# SIGTERM after its first checkpoint, leaving a resume state.
cfg=$(tiny_config 400)
long_pack() {
cat > "$TMP/$1.json" <<JSON
{"config": $cfg, "checkpoint_interval": 50,
 "models": [$(model 5 "$TMP/$1/s5")]}
JSON
}
stop_after_checkpoint() {
    interrupt "$1" TERM
    grep -q '"event":"stopped"' "$TMP/$1.out1" ||
        fail "$1: the run ended before SIGTERM arrived"
}

# A state trained on the portable copy, resumed where the processor would
# pick another: the portable copy goes on, as if never stopped.
long_pack straight
long_pack resumed
TADD_KERNELS=generic "$WORKER" train --pack "$TMP/straight.json" \
    > "$TMP/straight.out"
TADD_KERNELS=generic stop_after_checkpoint resumed
"$WORKER" train --pack "$TMP/resumed.json" > "$TMP/resumed.out2"
grep '"event":"start"' "$TMP/resumed.out2" | grep -q '"kernels":"generic"' ||
    fail "a generic state did not resume on the generic kernels"
grep -q kernels_changed "$TMP/resumed.out2" &&
    fail "kernels_changed reported though the state's copy was there"
same_model_files "$TMP/straight/s5" "$TMP/resumed/s5"

# A state trained on the selected copy, resumed where it is missing (as
# TADD_KERNELS=generic makes it): the run goes on and says so.
if [ "$default" != '"kernels":"generic"' ]; then
    long_pack lacking
    stop_after_checkpoint lacking
    TADD_KERNELS=generic "$WORKER" train --pack "$TMP/lacking.json" \
        > "$TMP/lacking.out2" 2> "$TMP/lacking.err"
    start=$(grep '"event":"start"' "$TMP/lacking.out2")
    case "$start" in
    *'"kernels":"generic"'*'"kernels_changed":"avx2-fma"'*) ;;
    *) fail "no kernels_changed on a resume without the copy: $start" ;;
    esac
    grep -q "no longer bit-identical" "$TMP/lacking.err" ||
        fail "no warning on stderr for the changed kernels"
    grep -q '"event":"end"' "$TMP/lacking.out2" ||
        fail "the resumed run on other kernels did not finish"
fi
echo "kernels: $default and generic agree; resumes keep their copy"
