#!/usr/bin/env bash
# scancel of a running pack's job from outside the daemon: the worker
# saves its state on Slurm's SIGTERM, the daemon counts an attempt with
# Slurm's account of it as the reason, submits a new job that resumes
# from the state, and the sweep ends with the files of an uninterrupted
# local run, bit for bit but for wall-clock time.
. "$(dirname "$0")/lib.sh"

cluster_start
f=$(sweep_file sc 1500 '[0.01]' '[42, 43]')

daemon_start "$TMP/slurm" slurm 2
ctl "$TMP/slurm" submit "$f" >/dev/null
wait_db "$TMP/slurm" "SELECT checkpoint_step >= 200 FROM packs WHERE id = 1"
first=$(pack_job "$TMP/slurm" 1)
[ -n "$first" ] || fail "no job id for pack 1"
[ "$(db "$TMP/slurm" "SELECT step < 1500 FROM packs WHERE id = 1")" = 1 ] ||
    fail "the pack finished before it could be cancelled"
scancel "$first"

# A second job for the same pack, resuming from the saved state.
wait_db "$TMP/slurm" "SELECT handle GLOB 'slurm:[0-9]*' AND
                      handle != 'slurm:$first' FROM packs WHERE id = 1"
second=$(pack_job "$TMP/slurm" 1)
ctl "$TMP/slurm" wait sc --timeout 120 >/dev/null ||
    fail "the sweep did not finish after the resubmission"
[ "$(db "$TMP/slurm" "SELECT state || ' ' || attempts || ' ' || starts
                      FROM packs WHERE id = 1")" = "done 1 2" ] ||
    fail "pack 1 is not done after one attempt and two starts"
reason=$(db "$TMP/slurm" "SELECT reason FROM events WHERE kind = 'pack'
          AND ref_id = 1 AND state = 'crashed'")
case "$reason" in
*"Slurm job $first CANCELLED from outside the daemon"*) ;;
*) fail "the attempt's reason does not name the cancelled job: $reason" ;;
esac
ctl "$TMP/slurm" logs sc | grep -q "Slurm job $first CANCELLED" ||
    fail "taddctl logs does not show why the job ended"
progress="$TMP/slurm/sc/packs/1/progress.$second.jsonl"
start=$(head -n 1 "$progress")
case "$start" in
*'"event":"start","step":0,'*) fail "job $second started over: $start" ;;
*'"event":"start"'*) ;;
*) fail "job $second did not begin with a start event: $start" ;;
esac
grep -q '"event":"stopped"' "$TMP/slurm/sc/packs/1/progress.$first.jsonl" ||
    fail "the cancelled job's worker did not save its state"
ctl "$TMP/slurm" shutdown >/dev/null

reference_run "$TMP/local" "$f" 2
same_sweep "$TMP/slurm" "$TMP/local" sc
echo "slurm scancel: ok"
