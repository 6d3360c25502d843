/*
 * The daemon's settings: defaults, then a JSON config file, then command
 * line flags, each overriding the one before.
 *
 * Defaults and why:
 *   workers, threads, max_models_per_pack 0: measured. With the local
 *                          executor, taddd sizes them from what the worker
 *                          measures on this machine (calibration.h). Where
 *                          no measurement is made or it fails, and for
 *                          the slurm executor, the fixed fallbacks are:
 *                          1 worker (a pack already spreads its models
 *                          over every core), threads = CPUs / workers
 *                          (results do not depend on the thread count),
 *                          and packs of 8 (a config's usual 8 seeds in one
 *                          process).
 *   attempts 3             restarts after abnormal exits before a pack's
 *                          trials are failed: enough for a transient crash,
 *                          few enough that a broken pack fails the same
 *                          night.
 *   checkpoint_interval 1000 steps between resume states (the worker's
 *                          default): at most a minute or so of lost work.
 *   executor "local"       workers are children of the daemon; "slurm"
 *                          submits each pack as a batch job, with the
 *                          "slurm" object's settings (slurm_job.h), and
 *                          `workers` packs queued or running at once.
 */
#ifndef TADD_SETTINGS_H
#define TADD_SETTINGS_H

#include <limits.h>
#include <stddef.h>

#include "log.h"
#include "slurm_job.h"

struct tadd_settings {
    int workers;             /* 0 until measured or given */
    int threads;             /* per worker; 0 until measured or given */
    int max_models_per_pack; /* 0 until measured or given */
    int attempts;
    long checkpoint_interval;
    double stop_timeout;     /* seconds before a stopping worker is killed */
    enum tadd_log_level log_level;
    char worker[PATH_MAX];   /* tadd-worker; "" means found next to taddd */
    char executor[16];       /* "local" or "slurm" */
    struct tadd_slurm_settings slurm;
};

void tadd_settings_defaults(struct tadd_settings *s);

/*
 * Applies a config file's JSON text (keys as in the struct; unknown keys,
 * wrong types and out-of-range values refused by name). name is used in
 * messages. Returns 0, or -1 with a message in err.
 */
int tadd_settings_apply_json(struct tadd_settings *s, const char *text,
                             const char *name, char *err, size_t errlen);

/*
 * Applies one setting given as text (a command line flag's value).
 * Returns 0, or -1 with a message naming key.
 */
int tadd_settings_apply_text(struct tadd_settings *s, const char *key,
                             const char *value, char *err, size_t errlen);

/* Fills the settings still 0 with the fixed fallbacks (see above);
 * cannot fail. */
void tadd_settings_finish(struct tadd_settings *s);

#endif
