/*
 * The slurm executor: each pack's worker runs as a Slurm batch job
 * (docs/slurm.md). The home folder must be on a file system the compute
 * nodes share, at the same path, and the worker at the same path on every
 * node.
 */
#ifndef TADD_EXECUTOR_SLURM_H
#define TADD_EXECUTOR_SLURM_H

#include <stddef.h>

#include <uv.h>

#include "executor.h"
#include "slurm_job.h"

/*
 * A slurm executor submitting from home (absolute) jobs that run
 * worker_path (absolute), with the settings in set (copied). Slurm's
 * commands are found on PATH and talk to the cluster SLURM_CONF (or the
 * default configuration) names. Returns NULL with a message in err when
 * a command is missing or on OOM. Its destroy expects the loop to have
 * closed its handles first (uv_walk and uv_run, as taddd ends).
 */
struct tadd_executor *tadd_executor_slurm_new(uv_loop_t *loop,
                                              const char *worker_path,
                                              const char *home,
                                              const struct tadd_slurm_settings
                                                  *set,
                                              char *err, size_t errlen);

#endif
