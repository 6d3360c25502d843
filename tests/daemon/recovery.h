/*
 * What the interruption tests share: one sweep, run once without
 * interruption in a home of its own as the reference, and the checks that
 * an interrupted run of it finished every trial exactly once with the
 * reference's checkpoints and metrics.
 */
#ifndef TADD_TESTS_DAEMON_RECOVERY_H
#define TADD_TESTS_DAEMON_RECOVERY_H

#include "harness.h"

/* 2 learning rates x 2 seeds in one pack of 4, 1200 steps, a resume state
 * every 100 steps (the daemon's --checkpoint-interval). */
#define RECOVERY_SWEEP                                                      \
    "{\"name\": \"rec\",\n"                                                 \
    " \"base\": {\"train_steps\": 1200, \"eval_interval\": 100,\n"          \
    "          \"batch_size\": 32, \"val_size\": 64, \"test_size\": 64,\n"  \
    "          \"warmup_steps\": 50},\n"                                    \
    " \"grid\": {\"lr\": [0.01, 0.015]},\n"                                 \
    " \"seeds\": [42, 43]}\n"
#define RECOVERY_TRAIN_STEPS 1200
#define RECOVERY_EVALS 13 /* steps 0, 100, ..., 1100 and the last, 1199 */

/* Starts taddd in t's home with the resume-state interval the sweep
 * above is written for. */
void recovery_daemon_start(struct th *t);

/* Starts taddd as above and submits the sweep file at path; returns
 * taddctl's exit status. */
int recovery_submit(struct th *t, const char *path);

/* Runs the sweep in t's home "ref" from start to end, then switches t to
 * the home "run" for the interrupted run. Returns the sweep file's path
 * (static). */
const char *recovery_reference(struct th *t);

/* Waits until the running pack's resume state holds at least step and
 * checks that training is not over yet. */
void recovery_wait_checkpoint(struct th *t, long step);

/* The interrupted run in t's home equals the reference: every trial done
 * once, one pack done, the same metrics rows and files. Returns the
 * number of failed checks. */
int recovery_check(struct th *t);

#endif
