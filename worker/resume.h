/*
 * The resume state of a pack: everything needed to continue training as
 * if it had never stopped. One safetensors file holds, per model i,
 *
 *     m<i>.params   (n_params)  the weights
 *     m<i>.adam_m   (n_params)  first moments
 *     m<i>.adam_v   (n_params)  second moments
 *     m<i>.best     (n_params)  the weights of the best evaluation
 *
 * and "__metadata__" key "tadd_state" holds JSON: the format
 * "tadd-resume/1", the next step to run, the pack's elapsed seconds, the
 * engine copy that trained it (optional: states written before it was
 * recorded lack it) and each model's struct tadd_model_progress (doubles
 * printed with 17 significant digits, which read back exactly). The fixed W_fixed terms
 * are not stored: they come from the seed and are drawn again.
 *
 * One file for the whole pack, replaced atomically, so a crash leaves
 * either the previous state or the new one, never a mix of steps.
 */
#ifndef TADD_RESUME_H
#define TADD_RESUME_H

#include <stddef.h>

#include "progress.h"

struct tadd_resume_model {
    struct tadd_model_progress progress;
    size_t n_params;
    float *params; /* (n_params) each */
    float *adam_m;
    float *adam_v;
    float *best;
};

struct tadd_resume_state {
    long step;      /* the next step to run */
    double elapsed; /* pack seconds spent before this state */
    char kernels[16]; /* the engine copy that trained it; "" if unknown */
    int n_models;
    struct tadd_resume_model *models;
};

/* Writes st to path atomically. Returns 0 or -1 with a message. */
int tadd_resume_save(const struct tadd_resume_state *st, const char *path,
                     char *err, size_t errlen);

/*
 * Reads path. n_models and each model's n_params must match what the
 * caller expects (st->n_models and st->models[i].n_params set, arrays
 * allocated by the caller); the data is copied into them. Returns 0, or -1
 * with a message naming the file and the mismatch.
 */
int tadd_resume_load(struct tadd_resume_state *st, const char *path,
                     char *err, size_t errlen);

#endif
