#!/usr/bin/env bash
# kill -9 of taddd while its packs run as Slurm jobs, then a new taddd:
# the jobs, still running, are adopted (followed from their progress
# files), not submitted a second time, and the sweep ends with the files
# of an uninterrupted local run, bit for bit but for wall-clock time.
. "$(dirname "$0")/lib.sh"

cluster_start
f=$(sweep_file ad 1500 '[0.01, 0.015]' '[42, 43]')

daemon_start "$TMP/slurm" slurm 2
ctl "$TMP/slurm" submit "$f" >/dev/null
wait_db "$TMP/slurm" "SELECT COUNT(*) = 2 FROM packs
                      WHERE handle GLOB 'slurm:[0-9]*'
                      AND checkpoint_step >= 100"
jobs=()
for p in 1 2; do
    jobs[p]=$(pack_job "$TMP/slurm" "$p")
done
kill_home_daemon "$TMP/slurm"
for _ in $(seq 1 50); do
    [ -S "$TMP/slurm/taddd.sock" ] && ! ctl "$TMP/slurm" ping \
        >/dev/null 2>&1 && break
    sleep 0.1
done
for p in 1 2; do
    state=$(squeue -h -j "${jobs[p]}" -o %T)
    [ "$state" = RUNNING ] ||
        fail "job ${jobs[p]} is $state after the daemon died, not RUNNING"
done

"$TADDD" --home "$TMP/slurm" --daemonize >/dev/null ||
    fail "taddd did not start again"
ctl "$TMP/slurm" wait ad --timeout 120 >/dev/null ||
    fail "the sweep did not finish after the restart"
for p in 1 2; do
    [ "$(db "$TMP/slurm" "SELECT state || ' ' || attempts || ' ' || starts
                          FROM packs WHERE id = $p")" = "done 0 1" ] ||
        fail "pack $p was not done by its first job alone"
    [ "$(db "$TMP/slurm" "SELECT COUNT(*) FROM events WHERE kind = 'pack'
          AND ref_id = $p AND state = 'adopted'
          AND reason LIKE '%slurm:${jobs[p]}'")" = 1 ] ||
        fail "pack $p's job ${jobs[p]} was not adopted"
    [ "$(db "$TMP/slurm" "SELECT COUNT(*) FROM events WHERE kind = 'pack'
          AND ref_id = $p AND state = 'submitted'")" = 1 ] ||
        fail "pack $p was submitted more than once"
    # Slurm, too, knew one job by the pack's name.
    name=$(squeue -h -t all -j "${jobs[p]}" -o %j)
    [ "$(squeue -h -t all -n "$name" -o %i | wc -l)" = 1 ] ||
        fail "more than one Slurm job named $name"
done
ctl "$TMP/slurm" shutdown >/dev/null

reference_run "$TMP/local" "$f" 2
same_sweep "$TMP/slurm" "$TMP/local" ad
echo "slurm adopt: ok"
