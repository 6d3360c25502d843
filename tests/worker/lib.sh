# Shared helpers of the worker's shell tests. Sourced, not run.
set -euo pipefail

: "${TADD_BUILD_ROOT:?run through meson test}"
WORKER="$TADD_BUILD_ROOT/worker/tadd-worker"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tadd-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# A config small enough to train in a second or two: every code path of
# the loop (curriculum phases, evaluations, checkpoints) still runs.
#   tiny_config [TRAIN_STEPS (60)] [BATCH_SIZE (32)]
tiny_config() {
    cat <<JSON
{"train_steps": ${1:-60}, "eval_interval": 20, "batch_size": ${2:-32},
 "val_size": 64, "test_size": 64,
 "curriculum": [[1, 3, 20], [1, 6, 20], [1, 10, 20]]}
JSON
}

# One model of a pack: model SEED DIR [EXTRA JSON FIELDS]. The warm-up
# is per model and must be shorter than the tiny runs.
model() {
    printf '{"seed": %s, "dir": "%s", "warmup_steps": 10%s}' "$1" "$2" \
        "${3:+, $3}"
}

# The metrics without the wall-clock column, which naturally differs.
metrics_without_time() {
    cut -d, -f1-6 "$1"
}

# summary.json without its wall-clock fields.
summary_without_time() {
    grep -v -e '"elapsed_sec"' -e '"first_success_elapsed_sec"' \
        -e '"pack_models"' "$1"
}

# Compares everything a model leaves in two folders, bit for bit but for
# wall-clock time.
same_model_files() {
    local a=$1 b=$2
    cmp "$a/best.safetensors" "$b/best.safetensors" ||
        fail "best.safetensors differ: $a $b"
    cmp "$a/last.safetensors" "$b/last.safetensors" ||
        fail "last.safetensors differ: $a $b"
    diff <(metrics_without_time "$a/metrics.csv") \
        <(metrics_without_time "$b/metrics.csv") ||
        fail "metrics.csv differ: $a $b"
    diff <(summary_without_time "$a/summary.json") \
        <(summary_without_time "$b/summary.json") ||
        fail "summary.json differ: $a $b"
}

# interrupt NAME SIG: trains the pack $TMP/NAME.json in the background,
# its events in $TMP/NAME.out1, and sends it SIG after its first
# checkpoint event.
interrupt() {
    local name=$1 sig=$2
    "$WORKER" train --pack "$TMP/$name.json" > "$TMP/$name.out1" &
    local pid=$!
    for _ in $(seq 1 600); do
        grep -q '"event":"checkpoint"' "$TMP/$name.out1" && break
        sleep 0.01
    done
    kill -"$sig" "$pid" 2>/dev/null || true
    wait "$pid" || true
}
