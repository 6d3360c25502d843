# Shared helpers of the slurm executor's daemon tests. Sourced, not run.
#
# Each test starts a single-node Slurm of its own (scripts/slurm-local.sh)
# and runs taddd with the slurm executor in one home, and, where results
# are compared, with the local executor in another. Without Slurm's
# packages, or not as root, the test exits 77 (SKIP) saying why.
set -euo pipefail

: "${TADD_BUILD_ROOT:?run through meson test}"
: "${TADD_SOURCE_ROOT:?run through meson test}"
TADDD="$TADD_BUILD_ROOT/daemon/taddd"
TADDCTL="$TADD_BUILD_ROOT/cli/taddctl"
SLURM_LOCAL="$TADD_SOURCE_ROOT/scripts/slurm-local.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tadd-slurm.XXXXXX")
CLUSTER=""
HOMES=()

fail() {
    echo "FAIL: $*" >&2
    for h in "${HOMES[@]}"; do
        if [ -f "$h/taddd.log" ]; then
            echo "--- $h/taddd.log ---" >&2
            tail -n 40 "$h/taddd.log" >&2
        fi
    done
    exit 1
}

cleanup() {
    local h
    for h in "${HOMES[@]}"; do
        if [ -S "$h/taddd.sock" ]; then
            "$TADDCTL" --home "$h" shutdown >/dev/null 2>&1 || true
        fi
        if [ -f "$h/taddd.lock" ]; then
            kill_home_daemon "$h"
        fi
    done
    if [ -n "$CLUSTER" ]; then
        "$SLURM_LOCAL" stop "$CLUSTER" >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# Kills the daemon of home h by the pid in its lock file, if it runs.
kill_home_daemon() {
    local pid
    pid=$(cat "$1/taddd.lock" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# Starts the cluster, or exits 77 when it cannot run here.
cluster_start() {
    local why
    if ! why=$("$SLURM_LOCAL" check); then
        echo "SKIP: Slurm cannot be started here: $why"
        exit 77
    fi
    # Its own folder right under /tmp: munged wants every folder above its
    # socket open to all, which TMP (0700) is not.
    CLUSTER=$(mktemp -d /tmp/tadd-slurm-cluster.XXXXXX)
    local env_lines
    env_lines=$("$SLURM_LOCAL" start "$CLUSTER") ||
        fail "scripts/slurm-local.sh start failed"
    eval "$env_lines"
    export SLURM_CONF
}

# A sweep small enough to train in seconds: name, train steps, then the
# learning rates of its grid and its seeds as JSON lists.
sweep_file() {
    cat >"$TMP/$1.json" <<JSON
{"name": "$1",
 "base": {"train_steps": $2, "eval_interval": 100, "batch_size": 32,
          "val_size": 64, "test_size": 64, "warmup_steps": 50},
 "grid": {"lr": $3},
 "seeds": $4}
JSON
    echo "$TMP/$1.json"
}

# Makes home h with taddd.json for executor e (local or slurm) and packs
# of up to m models, and starts taddd there.
daemon_start() {
    local h=$1 e=$2 m=$3
    mkdir -p -m 700 "$h"
    cat >"$h/taddd.json" <<JSON
{"executor": "$e", "workers": 2, "threads": 1,
 "max_models_per_pack": $m, "checkpoint_interval": 100,
 "slurm": {"cpus_per_pack": 1, "poll_interval": 0.3}}
JSON
    HOMES+=("$h")
    "$TADDD" --home "$h" --daemonize >/dev/null ||
        fail "taddd did not start in $h"
}

ctl() {
    local h=$1
    shift
    "$TADDCTL" --home "$h" "$@"
}

# One value from the home's database.
db() {
    sqlite3 "$1/tadd.db" "$2"
}

# Waits up to 60 s until the SQL query on home h prints a non-empty,
# non-zero value.
wait_db() {
    local h=$1 q=$2 v
    for _ in $(seq 1 600); do
        v=$(db "$h" "$q" 2>/dev/null || true)
        if [ -n "$v" ] && [ "$v" != 0 ]; then
            return 0
        fi
        sleep 0.1
    done
    fail "waited 60 s for: $q"
}

# The Slurm job id a pack's handle holds, or nothing.
pack_job() {
    db "$1" "SELECT substr(handle, 7) FROM packs WHERE id = $2 AND
             handle GLOB 'slurm:[0-9]*'"
}

# metrics.csv without its wall-clock column.
metrics_without_time() {
    cut -d, -f1-6 "$1"
}

summary_without_time() {
    grep -v -e '"elapsed_sec"' -e '"first_success_elapsed_sec"' \
        -e '"pack_models"' "$1"
}

# results.csv without the median seconds to success.
results_without_time() {
    cut -d, -f1-10,12- "$1"
}

# Every file of sweep s in homes a and b is the same but for wall-clock
# time: the sweep's results.csv and, per model, its metrics, summary and
# both checkpoints bit for bit.
same_sweep() {
    local a=$1 b=$2 s=$3 n=0 d rel
    diff <(results_without_time "$a/$s/results.csv") \
        <(results_without_time "$b/$s/results.csv") ||
        fail "results.csv of $s differ"
    while IFS= read -r d; do
        rel=${d#"$a/"}
        cmp "$a/$rel/best.safetensors" "$b/$rel/best.safetensors" ||
            fail "$rel/best.safetensors differ"
        cmp "$a/$rel/last.safetensors" "$b/$rel/last.safetensors" ||
            fail "$rel/last.safetensors differ"
        diff <(metrics_without_time "$a/$rel/metrics.csv") \
            <(metrics_without_time "$b/$rel/metrics.csv") ||
            fail "$rel/metrics.csv differ"
        diff <(summary_without_time "$a/$rel/summary.json") \
            <(summary_without_time "$b/$rel/summary.json") ||
            fail "$rel/summary.json differ"
        n=$((n + 1))
    done < <(find "$a/$s" -mindepth 2 -maxdepth 2 -name 'seed_*' -type d |
        sort)
    [ "$n" -gt 0 ] || fail "no models in $a/$s"
    echo "$n models equal"
}

# Runs sweep file f under the local executor in home h to its end, in
# packs of up to m models.
reference_run() {
    local h=$1 f=$2 m=$3 name
    name=$(basename "$f" .json)
    daemon_start "$h" local "$m"
    ctl "$h" submit "$f" >/dev/null
    ctl "$h" wait "$name" --timeout 120 >/dev/null ||
        fail "reference sweep $name did not finish"
    ctl "$h" shutdown >/dev/null
}
