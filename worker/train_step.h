/*
 * One training step of one model, as SPEC section 3 defines it: the
 * step's batch from the model's seed, forward and backward, clipping,
 * then AdamW. The pack loop (train.c) and the calibration (cmd_calibrate.c)
 * both run it, so that what is timed is what trains.
 */
#ifndef TADD_TRAIN_STEP_H
#define TADD_TRAIN_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "data.h"
#include "model.h"
#include "optim.h"

/* A model under training and the arrays of its optimizer, each laid out
 * like its parameters. */
struct tadd_trainee {
    struct tadd_model *model;
    float *grads, *adam_m, *adam_v;
    const struct tadd_adamw *opt;
    uint64_t seed;
    const struct tadd_pairset *exclude; /* held-out pairs, or NULL */
};

/* Per-thread scratch: a workspace and one batch of (B, T) ids. */
struct tadd_step_scratch {
    struct tadd_workspace *ws;
    uint8_t *x;
    int8_t *y;
};

enum {
    TADD_STEP_UPDATED = 0,  /* the weights took the step */
    TADD_STEP_DIVERGED = 1, /* loss or gradient norm not finite: untouched */
    TADD_STEP_NO_BATCH = -1 /* no batch could be drawn: err says why */
};

/*
 * Step `step` of trainee at learning rate lr: *loss and *grad_norm (the
 * norm before clipping, NAN when the loss is not finite) are set. Returns
 * one of the TADD_STEP_ values.
 */
int tadd_train_step(const struct tadd_trainee *trainee,
                    const struct tadd_train_config *t, long step, double lr,
                    const struct tadd_step_scratch *scratch, double *loss,
                    double *grad_norm, char *err, size_t errlen);

#endif
