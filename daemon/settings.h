/*
 * The daemon's settings: defaults, then a JSON config file, then command
 * line flags, each overriding the one before.
 *
 * Defaults and why:
 *   workers 1              one pack at a time: a pack already spreads its
 *                          models over every core, so a second worker would
 *                          only compete for the same cores.
 *   threads = CPUs / workers
 *                          results do not depend on the thread count, so
 *                          the whole machine is used.
 *   max_models_per_pack 8  a config's usual 8 seeds train in one process,
 *                          amortising data generation and start-up; larger
 *                          packs delay every result until the whole pack
 *                          finishes.
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
    int workers;
    int threads;             /* per worker; 0 means CPUs / workers */
    int max_models_per_pack;
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

/* Fills in what depends on the machine (threads); cannot fail. */
void tadd_settings_finish(struct tadd_settings *s);

#endif
