#!/usr/bin/env bash
# The daemon's own costs, measured against a real taddd started in a
# temporary home with the binaries of a build folder, and stopped at the
# end of each part:
#
#   submit  a 10,000-trial sweep (1,250 configs x 8 seeds): wall-clock time
#           of `taddctl submit`, the database's size after it, and the
#           time of `taddctl status` and `taddctl show` on it.
#   status  `taddctl status`, `show` and `results` latency (median and max
#           of 20 runs) on 10,000 finished trials with 1,000,000 metric
#           rows.
#   cpu     taddd's CPU seconds against its workers' while 2 packs of 4
#           models train at batch 512 for BENCH_CPU_SECONDS (75) seconds;
#           taddd and its workers run under nice -n 10.
#
#   bench/daemon.sh [submit|status|cpu|all] [build-dir]   (all, build/)
#
# taddd has no setting that keeps it from starting workers, so parts
# submit and status freeze (SIGSTOP) the one worker it starts after the
# submit and let it go on (SIGCONT) just before the daemon is stopped:
# the timings are of a daemon holding one running pack that uses no CPU.
# Times are of the whole taddctl process, its output sent to /dev/null.
set -euo pipefail
part=${1:-all}
# The build folder is the caller's; by default the checkout's build/.
build=$(realpath -m "${2:-$(dirname "$0")/../build}")
taddd="$build/daemon/taddd"
ctl="$build/cli/taddctl"
case $part in
submit | status | cpu | all) ;;
*)
    echo "usage: bench/daemon.sh [submit|status|cpu|all] [build-dir]" >&2
    exit 2
    ;;
esac
for prog in "$taddd" "$ctl"; do
    if [ ! -x "$prog" ]; then
        echo "bench/daemon.sh: $prog not found; build it first" \
             "(ninja -C $build)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
home="$tmp/home"
daemon_pid=
held_worker=

ctl() {
    "$ctl" --home "$home" "$@"
}

# Lets a frozen worker go on and stops the daemon, its workers saving
# their state first.
daemon_stop() {
    if [ -n "$held_worker" ]; then
        kill -CONT "$held_worker" 2>/dev/null || true
        held_worker=
    fi
    if [ -n "$daemon_pid" ]; then
        ctl shutdown >/dev/null || true
        # taddctl returns when the daemon closes its connections, which
        # may be before it has closed the database.
        for _ in $(seq 600); do
            kill -0 "$daemon_pid" 2>/dev/null || break
            sleep 0.1
        done
        daemon_pid=
    fi
}

cleanup() {
    daemon_stop
    rm -rf "$tmp"
}
trap cleanup EXIT

# daemon_start [nice] [taddd flags...]: starts taddd and sets daemon_pid.
daemon_start() {
    local prefix=()

    if [ "${1:-}" = nice ]; then
        prefix=(nice -n 10)
        shift
    fi
    "${prefix[@]}" "$taddd" --home "$home" --daemonize "$@" >/dev/null
    daemon_pid=$(ctl ping --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
}

# Waits (10 s at most) for n workers of the daemon and prints their pids.
daemon_workers() {
    local n=$1 pids

    for _ in $(seq 500); do
        pids=$(pgrep -P "$daemon_pid" || true)
        if [ "$(echo "$pids" | grep -c .)" -ge "$n" ]; then
            echo "$pids"
            return 0
        fi
        sleep 0.02
    done
    echo "bench/daemon.sh: taddd started no worker within 10 s" >&2
    return 1
}

# Freezes the daemon's one worker: see the note at the top.
hold_worker() {
    held_worker=$(daemon_workers 1)
    kill -STOP "$held_worker"
    for _ in $(seq 100); do
        case $(ps -o stat= -p "$held_worker") in T*) return 0 ;; esac
        sleep 0.01
    done
    echo "bench/daemon.sh: worker $held_worker did not stop" >&2
    return 1
}

now_us() {
    echo "${EPOCHREALTIME/./}"
}

# time_runs N LABEL CMD...: runs CMD N times and prints the median and the
# maximum of its wall-clock time.
time_runs() {
    local n=$1 label=$2 t0 t1 times=()

    shift 2
    for _ in $(seq "$n"); do
        t0=$(now_us)
        "$@" >/dev/null
        t1=$(now_us)
        times+=($((t1 - t0)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v n="$n" '
        { t[NR] = $1 }
        END {
            med = n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
            printf "  %-28s median %8.1f ms  max %8.1f ms  (%d runs)\n",
                   label, med / 1000, t[n] / 1000, n
        }'
}

file_size() {
    if [ -e "$1" ]; then stat -c %s "$1"; else echo 0; fi
}

load_average() {
    echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
}

mib() {
    awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'
}

# grid_sweep NAME BASE_JSON: a sweep of 50 learning rates x 25 weight
# decays (1,250 configs, all packable together) x 8 seeds.
grid_sweep() {
    python3 - "$1" "$2" <<'PY'
import json, sys
print(json.dumps({
    "name": sys.argv[1],
    "description": "1,250 configs x 8 seeds, for bench/daemon.sh",
    "base": json.loads(sys.argv[2]),
    "grid": {"lr": [round(0.0005 * (i + 1), 6) for i in range(50)],
             "weight_decay": [round(0.002 * i, 6) for i in range(25)]},
    "seeds": {"start": 42, "count": 8},
}))
PY
}

part_submit() {
    local t0 t1 db wal

    echo "== submit: a 10,000-trial sweep (1,250 configs x 8 seeds)"
    mkdir -p -m 700 "$home"
    grid_sweep grid10k '{"train_steps": 1000, "warmup_steps": 100,
        "eval_interval": 100, "batch_size": 64, "val_size": 64,
        "test_size": 64}' >"$tmp/grid10k.json"
    daemon_start --workers 1 --threads 1 --max-models-per-pack 8
    t0=$(now_us)
    ctl submit "$tmp/grid10k.json" >"$tmp/submit.out"
    t1=$(now_us)
    hold_worker
    awk -v us=$((t1 - t0)) '{ printf "  %s\n  taddctl submit: %.1f ms\n",
                              $0, us / 1000 }' "$tmp/submit.out"
    db=$(file_size "$home/tadd.db")
    wal=$(file_size "$home/tadd.db-wal")
    echo "  database while running: tadd.db $(mib "$db") + WAL $(mib "$wal")"
    time_runs 5 "taddctl status" ctl status
    time_runs 5 "taddctl show grid10k" ctl show grid10k
    ctl show grid10k --json >"$tmp/show.json"
    echo "  show reply: $(mib "$(file_size "$tmp/show.json")") of JSON," \
         "$(ctl show grid10k | wc -l) lines of text"
    daemon_stop
    echo "  database after shutdown (WAL checkpointed):" \
         "$(mib "$(file_size "$home/tadd.db")")"
    load_average
    rm -rf "$home"
}

# Fills the sweep grid1m while its daemon is stopped: 100 evaluations per
# trial (steps 0 to 29,700 every 300), 3 of every 8 trials above the
# threshold by the end; trials and packs done, with the results the
# metrics imply.
fill_metrics_sql() {
    cat <<'SQL'
PRAGMA foreign_keys = ON;
BEGIN IMMEDIATE;
-- The first pack's worker may have recorded its evaluation at step 0.
DELETE FROM metrics;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 99)
INSERT INTO metrics (trial_id, step, train_loss, val_exact, val_token_acc,
                     grad_norm, lr, elapsed_sec)
SELECT t.id, k.i * 300, 2.6 / (1 + 0.1 * k.i),
       min(1.0, (0.5 + 0.1 * (t.id % 8)) * k.i / 99.0),
       min(1.0, 0.1 + 0.9 * (0.5 + 0.1 * (t.id % 8)) * k.i / 99.0),
       1.0 / (1 + k.i), 0.015, 0.04 * 300 * k.i
FROM trials t, k
ORDER BY t.id, k.i;
UPDATE trials SET
    state = 'done', step = 30000, elapsed_sec = 1200, attempts = 0,
    params = (SELECT params FROM configs c WHERE c.id = trials.config_id),
    best_val_exact = (SELECT max(val_exact) FROM metrics m
                      WHERE m.trial_id = trials.id),
    best_step = (SELECT step FROM metrics m WHERE m.trial_id = trials.id
                 ORDER BY val_exact DESC, step LIMIT 1),
    first_success_step = (SELECT min(step) FROM metrics m
                          WHERE m.trial_id = trials.id
                          AND val_exact > 0.99),
    first_success_elapsed = (SELECT elapsed_sec FROM metrics m
                             WHERE m.trial_id = trials.id
                             AND val_exact > 0.99 ORDER BY step LIMIT 1),
    updated_at = unixepoch('now');
UPDATE trials SET success = best_val_exact > 0.99,
                  test_exact = best_val_exact;
UPDATE packs SET state = 'done', step = 30000, checkpoint_step = 30000,
                 handle = NULL, reason = NULL,
                 started_at = unixepoch('now') - 1200,
                 finished_at = unixepoch('now');
COMMIT;
SELECT (SELECT count(*) FROM metrics) || ' metric rows, ' ||
       (SELECT count(*) FROM trials WHERE state = 'done') || ' trials done, ' ||
       (SELECT sum(success) FROM trials) || ' succeeded';
SQL
}

part_status() {
    local t0 t1 queued

    echo "== status: 10,000 finished trials with 1,000,000 metric rows"
    mkdir -p -m 700 "$home"
    grid_sweep grid1m '{"eval_interval": 300}' >"$tmp/grid1m.json"
    daemon_start --workers 1 --threads 1 --max-models-per-pack 8
    ctl submit "$tmp/grid1m.json" >/dev/null
    hold_worker
    daemon_stop
    t0=$(now_us)
    fill_metrics_sql | sqlite3 -bail "$home/tadd.db" | sed 's/^/  /'
    t1=$(now_us)
    awk -v us=$((t1 - t0)) 'BEGIN { printf "  filled with the sqlite3 shell" \
        " in %.1f s (one transaction)\n", us / 1e6 }'
    echo "  database: $(mib "$(file_size "$home/tadd.db")")"
    daemon_start --workers 1 --threads 1 --max-models-per-pack 8
    queued=$(ctl status --json | python3 -c \
        'import json, sys; print(json.load(sys.stdin)["queue"]["packs"])')
    if [ "$queued" != 0 ] || pgrep -P "$daemon_pid" >/dev/null; then
        echo "bench/daemon.sh: the filled sweep still has work queued" >&2
        return 1
    fi
    time_runs 20 "taddctl status" ctl status
    time_runs 20 "taddctl show grid1m" ctl show grid1m
    time_runs 20 "taddctl results grid1m" ctl results grid1m
    ctl results grid1m --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
c = r["configs"] if "configs" in r else r["results"]["configs"]
print("  results: %d configs, %d of %d trials succeeded"
      % (len(c), sum(x["k"] for x in c), sum(x["n"] for x in c)))'
    load_average
    daemon_stop
    rm -rf "$home"
}

# utime + stime (+ cutime + cstime with "all") of a process, in seconds.
proc_cpu() {
    local pid=$1 what=${2:-self} hz

    hz=$(getconf CLK_TCK)
    # Fields after the command, which may hold spaces, start at state (3).
    sed 's/^.*) //' "/proc/$pid/stat" | awk -v hz="$hz" -v what="$what" '
        { s = $12 + $13; if (what == "all") s += $14 + $15
          printf "%.2f\n", s / hz }'
}

part_cpu() {
    local seconds=${BENCH_CPU_SECONDS:-75} workers t0 t1 dcpu wcpu=0 c
    local load0 load1 evals rows

    echo "== cpu: taddd while 2 packs x 4 models train at batch 512" \
         "(nice -n 10, ${seconds} s)"
    mkdir -p -m 700 "$home"
    cat >"$tmp/cpu.json" <<'EOF'
{"name": "cpu", "description": "one config x 8 seeds for bench/daemon.sh",
 "base": {"batch_size": 512, "eval_interval": 100, "val_size": 1000},
 "seeds": {"start": 42, "count": 8}}
EOF
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    daemon_start nice --workers 2 --threads 1 --max-models-per-pack 4
    ctl submit "$tmp/cpu.json" | sed 's/^/  /'
    workers=$(daemon_workers 2)
    t0=$(now_us)
    sleep "$seconds"
    t1=$(now_us)
    dcpu=$(proc_cpu "$daemon_pid")
    for w in $workers; do
        c=$(proc_cpu "$w")
        echo "  worker $w: $c s CPU, nice $(ps -o ni= -p "$w" | tr -d ' ')"
        wcpu=$(awk -v a="$wcpu" -v b="$c" 'BEGIN { print a + b }')
    done
    # Workers that ended already count in the daemon's children's time.
    c=$(awk -v a="$(proc_cpu "$daemon_pid" all)" -v b="$dcpu" \
        'BEGIN { print a - b }')
    wcpu=$(awk -v a="$wcpu" -v b="$c" 'BEGIN { print a + b }')
    load1=$(cut -d' ' -f1-3 /proc/loadavg)
    # One eval event of a worker is one metric row per model of its pack.
    evals=$(sqlite3 -readonly "$home/tadd.db" "SELECT count(*) FROM
        (SELECT DISTINCT p.pack_id, m.step FROM metrics m
         JOIN pack_members p ON p.trial_id = m.trial_id)")
    rows=$(sqlite3 -readonly "$home/tadd.db" 'SELECT count(*) FROM metrics')
    ctl status | grep -E 'step [0-9]+/' | sed 's/^ */  /'
    awk -v d="$dcpu" -v w="$wcpu" -v e="$evals" -v r="$rows" \
        -v hz="$(getconf CLK_TCK)" -v us=$((t1 - t0)) 'BEGIN {
        printf "  wall %.1f s; taddd %.2f s CPU, workers %.2f s CPU;" \
               " ratio %.3f%%\n", us / 1e6, d, w, (w > 0 ? 100 * d / w : 0)
        printf "  %d eval events (%d metric rows) recorded; %.2f ms of" \
               " taddd CPU per event\n", e, r, (e > 0 ? 1000 * d / e : 0)
        printf "  (CPU times count in ticks of %.0f ms)\n", 1000 / hz }'
    echo "  load average before: $load0; after: $load1 ($(nproc) CPUs)"
    daemon_stop
    rm -rf "$home"
}

case $part in
submit) part_submit ;;
status) part_status ;;
cpu) part_cpu ;;
all)
    part_submit
    part_status
    part_cpu
    ;;
esac
