/*
 * One training step of a pack of models, as SPEC section 3 defines it for
 * each: the step's batch from the model's seed, forward and backward,
 * clipping, then AdamW. The pack loop (train.c) and the calibration
 * (cmd_calibrate.c) both run it, so that what is timed is what trains.
 *
 * A step is three rounds over the thread pool:
 *   1. every model draws its batch;
 *   2. every shard of every model's batch (model.h) gets its partial
 *      gradient, on whichever thread takes it;
 *   3. every model adds its shards in order, clips and updates.
 * The shards let a pack of fewer models than threads keep every thread
 * busy. Each task reads and writes only its own model's arrays and its
 * thread's workspace, so results depend on neither the pack nor the
 * threads.
 */
#ifndef TADD_TRAIN_STEP_H
#define TADD_TRAIN_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "data.h"
#include "model.h"
#include "optim.h"
#include "pool.h"

enum {
    TADD_STEP_UPDATED = 0,  /* the weights took the step */
    TADD_STEP_DIVERGED = 1, /* loss or gradient norm not finite: untouched */
    TADD_STEP_NO_BATCH = -1 /* no batch could be drawn: err says why */
};

/* A model under training: its arrays, each laid out like its parameters,
 * the step's scratch and the step's results. */
struct tadd_trainee {
    /* Set once by the caller. */
    struct tadd_model *model;
    float *grads, *adam_m, *adam_v;
    const struct tadd_adamw *opt;
    const struct tadd_train_config *t;
    uint64_t seed;
    const struct tadd_pairset *exclude; /* held-out pairs, or NULL */

    /* Set by the caller before each step. */
    int active; /* 0: the step leaves this model alone */
    double lr;

    /* Results of the step, for an active model: rc is a TADD_STEP_ value;
     * grad_norm is the norm before clipping, NAN when the loss is not
     * finite; err says why when no batch could be drawn. */
    int rc;
    double loss, grad_norm;
    char err[TADD_ERR_LEN];

    /* Scratch, from tadd_trainee_alloc. */
    uint8_t *x;        /* (B, T) */
    int8_t *y;         /* (B, T) */
    struct tadd_batch_plan plan;
    int n_shards;
    float *partials;   /* (n_shards, tadd_model_shard_floats) */
    double *shares;    /* (n_shards) */
};

/* Allocates tr's scratch for its batch size and workspaces like ws (the
 * fields set once must be set). Returns 0, or -1 on OOM. */
int tadd_trainee_alloc(struct tadd_trainee *tr,
                       const struct tadd_workspace *ws);

/* Frees the scratch; a zeroed trainee is fine. */
void tadd_trainee_free(struct tadd_trainee *tr);

/*
 * Step `step` of the n trainees, every active one at its own lr, on pool,
 * whose thread k computes on ws[k].
 */
void tadd_train_pack_step(struct tadd_pool *pool,
                          struct tadd_workspace *const *ws,
                          struct tadd_trainee *tr, int n, long step);

#endif
