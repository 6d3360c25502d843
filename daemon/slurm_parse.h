/*
 * Reading what Slurm's commands print about jobs: sbatch --parsable,
 * squeue, scontrol show job and sacct, and what a job's final state means
 * for the pack it ran.
 *
 * The exact invocations these parsers expect (the slurm executor runs
 * them; tests/slurm/data holds their real output):
 *
 *   sbatch --parsable ...                  "<id>" or "<id>;<cluster>"
 *   squeue -h -t all -j ID,... -o %i|%T|%r  "<id>|<STATE>|<reason>" lines
 *   squeue -h -u UID -n NAME -o %i|%T|%r    the same, for a job name
 *   scontrol show job ID                    Key=Value records
 *   sacct [-c] -n -P -o jobid,state,exitcode -j ID
 *                                           "<id>|<STATE>|<code>:<sig>"
 *
 * Without slurmdbd, plain sacct fails ("accounting storage is disabled")
 * and `sacct -c` reads the jobcomp file instead; both print the same
 * columns.
 */
#ifndef TADD_SLURM_PARSE_H
#define TADD_SLURM_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "executor.h"

#define TADD_SLURM_STATE_LEN 32
#define TADD_SLURM_REASON_LEN 96

/* One job as a Slurm command reported it. */
struct tadd_slurm_job {
    int64_t id;
    char state[TADD_SLURM_STATE_LEN];   /* JOB_STATE word, "" if unknown */
    char reason[TADD_SLURM_REASON_LEN]; /* squeue %r / scontrol Reason */
    int exit_code;   /* -1 when the command did not say */
    int exit_signal; /* -1 when the command did not say */
};

/* What a state word means for the daemon. */
enum tadd_slurm_class {
    TADD_SLURM_LIVE,      /* queued, running or still completing */
    TADD_SLURM_COMPLETED, /* ended with every process gone, status 0 */
    TADD_SLURM_ENDED,     /* ended otherwise (failed, cancelled, ...) */
};

/*
 * Classifies a JOB_STATE word (as squeue %T, scontrol JobState and sacct
 * print it; sacct's "CANCELLED by 1000" counts as CANCELLED). A word this
 * code does not know counts as live: the job is looked at again at the
 * next poll rather than resubmitted while it may still run. Cannot fail.
 */
enum tadd_slurm_class tadd_slurm_state_class(const char *state);

/* 1 when state is a word Slurm defines, else 0. */
int tadd_slurm_state_known(const char *state);

/*
 * The job id sbatch --parsable printed. Returns 0 and *id, or -1 with a
 * message naming what was printed.
 */
int tadd_slurm_parse_sbatch(const char *out, int64_t *id, char *err,
                            size_t errlen);

/*
 * squeue lines "<id>|<STATE>|<reason>". Stores up to cap jobs whose id is
 * one of want (n_want of them; all jobs when want is NULL) in jobs and
 * their number in *n; lines about other jobs are skipped. Returns 0, or
 * -1 with a message naming the line that is not in this format.
 */
int tadd_slurm_parse_squeue(const char *out, const int64_t *want,
                            size_t n_want, struct tadd_slurm_job *jobs,
                            size_t cap, size_t *n, char *err, size_t errlen);

/*
 * The record of job id in `scontrol show job` output (one or several
 * records, multi-line or -o). Returns 1 and fills *job (state, reason,
 * exit code), 0 when the output holds no record of id, or -1 with a
 * message when the record lacks JobState.
 */
int tadd_slurm_parse_scontrol(const char *out, int64_t id,
                              struct tadd_slurm_job *job, char *err,
                              size_t errlen);

/*
 * The last line about job id (not its steps, "<id>.batch") in sacct
 * -n -P -o jobid,state,exitcode output: a requeued job has several.
 * Returns 1 and fills *job, 0 when no line is about id, or -1 with a
 * message naming a line that is not in this format.
 */
int tadd_slurm_parse_sacct(const char *out, int64_t id,
                           struct tadd_slurm_job *job, char *err,
                           size_t errlen);

/* "<code>:<signal>" as Slurm prints exit codes. Returns 0 or -1. */
int tadd_slurm_parse_exit_code(const char *text, int *code, int *sig);

/*
 * How a job that ended (class COMPLETED or ENDED) ended, for the daemon:
 * fills ex (its status and signal, stop_requested as given). Returns 1
 * and a reason naming the job and its Slurm state when the end is
 * abnormal: any end but COMPLETED, unless it is the CANCELLED the daemon
 * asked for. A CANCELLED job the daemon did not stop counts as abnormal
 * (someone ran scancel, or an administrator did) although its worker,
 * having saved its state on SIGTERM, exits with status 0. Returns 0 (and
 * "" in reason) otherwise. Cannot fail.
 */
int tadd_slurm_job_exit(const struct tadd_slurm_job *job, int stop_requested,
                        struct tadd_exec_exit *ex, char *reason,
                        size_t reason_len);

#endif
