/*
 * What a model of a pack has achieved so far, besides its weights: the
 * part of the resume state that is not a tensor.
 */
#ifndef TADD_PROGRESS_H
#define TADD_PROGRESS_H

#include <stdint.h>

enum tadd_model_status {
    TADD_MODEL_TRAINING = 0,
    TADD_MODEL_DONE = 1,
    TADD_MODEL_DIVERGED = 2,
};

struct tadd_model_progress {
    uint64_t seed;
    enum tadd_model_status status;
    double best_val_exact; /* -1 before the first evaluation */
    long best_step;        /* -1 before the first evaluation */
    long first_success_step;      /* -1 until best_val_exact > threshold */
    double first_success_elapsed; /* pack seconds at that evaluation */
    long diverged_step;           /* -1 unless diverged */
    double loss_sum;  /* training loss summed since the last evaluation */
    long loss_count;  /* steps in loss_sum */
    double last_val_exact;
    double last_val_token_acc;
    long last_eval_step;
};

const char *tadd_model_status_name(enum tadd_model_status s);

#endif
