/*
 * How a pack becomes a Slurm batch job: the slurm executor's settings
 * (the "slurm" object of the daemon's config), the job script written
 * into the pack's folder, and the sbatch argument vector.
 *
 * Settings and their defaults, and why:
 *   partition ""        the cluster's default partition
 *   cpus_per_pack 8     --cpus-per-task and the worker's --threads: a
 *                       pack's usual 8 models train one per thread, and
 *                       results do not depend on the thread count
 *   time_limit ""       --time; the partition's default. A job that runs
 *                       out of time is resubmitted from its resume state,
 *                       which counts as an attempt
 *   sbatch_options []   more sbatch options, one argument each
 *                       ("--account=x", "--qos=short", "--mem=4G")
 *   poll_interval 10    seconds between squeue polls: far below a pack's
 *                       life of minutes to hours, and gentle on a shared
 *                       controller
 *
 * The job's own options come first and the user's after them, so that a
 * user option wins where both set the same thing; options that would
 * make the daemon lose the job or its output are refused.
 */
#ifndef TADD_SLURM_JOB_H
#define TADD_SLURM_JOB_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define TADD_SLURM_MAX_OPTIONS 32
#define TADD_SLURM_OPTION_LEN 256

struct tadd_slurm_settings {
    char partition[128];
    int cpus_per_pack;
    char time_limit[32];
    int n_sbatch_options;
    char sbatch_options[TADD_SLURM_MAX_OPTIONS][TADD_SLURM_OPTION_LEN];
    double poll_interval; /* seconds */
};

void tadd_slurm_settings_defaults(struct tadd_slurm_settings *s);

/*
 * Applies the keys of obj (the config's "slurm" object) to s; where names
 * the object in messages ("taddd.json: slurm"). Unknown keys, wrong
 * types, out-of-range values and refused sbatch options are errors
 * naming the key. Returns 0, or -1 with a message and s untouched.
 */
int tadd_slurm_settings_apply_json(struct tadd_slurm_settings *s,
                                   const cJSON *obj, const char *where,
                                   char *err, size_t errlen);

/* 1 when text is a time limit sbatch --time accepts: minutes, M:S,
 * H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED / INFINITE. */
int tadd_slurm_time_valid(const char *text);

/*
 * The job name of pack_id in this home: "tadd-<tag>-<pack_id>", tag 8
 * hex digits of a hash of the home's absolute path, so that two homes
 * sharing one cluster account do not take each other's jobs.
 */
void tadd_slurm_job_name(char *buf, size_t len, const char *home,
                         int64_t pack_id);

/*
 * The progress file of job job_id of a pack whose folder is pack_dir
 * (relative to the home): "<pack_dir>/progress.<job_id>.jsonl". Every job
 * has its own, so a job's events can be read again from its start.
 */
void tadd_slurm_progress_path(char *buf, size_t len, const char *pack_dir,
                              int64_t job_id);

/* What the job script runs. Paths as the daemon has them. */
struct tadd_slurm_script {
    int64_t pack_id;
    const char *home;        /* absolute; the job's working folder */
    const char *worker_path; /* absolute, the same on every node */
    const char *pack_path;   /* relative to the home */
    const char *pack_dir;    /* relative to the home */
    int threads;
};

/*
 * The job script's text in a new string (*out): /bin/sh that enters the
 * home and execs the worker on the pack, its progress file named after
 * $SLURM_JOB_ID. Returns 0, or -1 on OOM with a message.
 */
int tadd_slurm_script_text(const struct tadd_slurm_script *sc, char **out,
                           char *err, size_t errlen);

/* What sbatch needs besides the settings. Paths absolute. */
struct tadd_slurm_submit {
    const char *job_name;
    const char *home;
    const char *log_path;    /* the worker's stderr, appended */
    const char *script_path;
};

/*
 * The sbatch argument vector (*argv, NULL-terminated; free it with
 * tadd_slurm_argv_free). Returns 0, or -1 on OOM with a message.
 */
int tadd_slurm_sbatch_argv(const struct tadd_slurm_settings *s,
                           const struct tadd_slurm_submit *sub, char ***argv,
                           char *err, size_t errlen);

void tadd_slurm_argv_free(char **argv);

#endif
