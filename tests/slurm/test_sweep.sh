#!/usr/bin/env bash
# A small sweep run by taddd with the slurm executor, each pack a batch
# job on a real single-node Slurm, gives the same files as the local
# executor, bit for bit but for wall-clock time. While it runs, status
# shows each pack's job id and Slurm state, and the database holds the
# job ids.
. "$(dirname "$0")/lib.sh"

cluster_start
f=$(sweep_file sw 1500 '[0.01, 0.015]' '[42, 43]')

daemon_start "$TMP/slurm" slurm 2
ctl "$TMP/slurm" submit "$f" >/dev/null
# Both packs are jobs (two CPUs, one each) and report progress.
wait_db "$TMP/slurm" "SELECT COUNT(*) = 2 FROM packs
                      WHERE handle GLOB 'slurm:[0-9]*' AND step > 0"
jobs=()
for p in 1 2; do
    job=$(pack_job "$TMP/slurm" "$p")
    [ -n "$job" ] || fail "pack $p has no job id in the database"
    jobs[p]=$job
    # The daemon's last poll may predate the job's start by a moment.
    want="pack $p of sw (running, Slurm job $job RUNNING)"
    for _ in $(seq 1 30); do
        status=$(ctl "$TMP/slurm" status)
        echo "$status" | grep -qF "$want" && break
        sleep 0.1
    done
    echo "$status" | grep -qF "$want" ||
        fail "status does not show pack $p as Slurm job $job: $status"
done
ctl "$TMP/slurm" status --json |
    grep -Eq '"where":[[:space:]]*"Slurm job [0-9]+ RUNNING"' ||
    fail "status --json has no where field"
ctl "$TMP/slurm" wait sw --timeout 120 >/dev/null ||
    fail "the sweep did not finish under Slurm"
[ "$(db "$TMP/slurm" "SELECT COUNT(*) FROM packs WHERE state = 'done'
                      AND attempts = 0 AND starts = 1")" = 2 ] ||
    fail "packs were not done in one attempt each"
for p in 1 2; do
    job=${jobs[p]}
    # The job id outlives the pack's handle in its events...
    [ "$(db "$TMP/slurm" "SELECT COUNT(*) FROM events WHERE kind = 'pack'
          AND ref_id = $p AND state = 'submitted'
          AND reason = 'slurm:$job'")" = 1 ] ||
        fail "no submitted event for pack $p, job $job"
    # ...and each job wrote its own progress file beside its script.
    [ -s "$TMP/slurm/sw/packs/$p/progress.$job.jsonl" ] ||
        fail "no progress file for job $job"
    [ -f "$TMP/slurm/sw/packs/$p/job.sh" ] || fail "no job script for $p"
done
ctl "$TMP/slurm" shutdown >/dev/null

reference_run "$TMP/local" "$f" 2
same_sweep "$TMP/slurm" "$TMP/local" sw
echo "slurm sweep: ok"
