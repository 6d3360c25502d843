/*
 * Model checkpoints: one model per safetensors file in the layout of SPEC
 * section 6, with "__metadata__" holding format "tadd-checkpoint/1",
 * model_config (a JSON string) and, for trained models, train_config,
 * seed, step and val_exact.
 *
 * The reader accepts any file in that layout, whoever wrote it: it builds
 * the model from model_config, then requires exactly the tensors that
 * config has, each with its shape.
 */
#ifndef TADD_CHECKPOINT_H
#define TADD_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "model.h"

#define TADD_CHECKPOINT_FORMAT "tadd-checkpoint/1"

/* What a trained model's file records besides its weights. */
struct tadd_checkpoint_meta {
    int trained; /* 0: only format and model_config are written */
    const struct tadd_train_config *train;
    uint64_t seed;
    long step;
    double val_exact;
};

/*
 * Writes m to path atomically. Returns 0, or -1 with a message naming the
 * file and the failing call.
 */
int tadd_checkpoint_save(const struct tadd_model *m,
                         const struct tadd_checkpoint_meta *meta,
                         const char *path, char *err, size_t errlen);

/*
 * Reads path into a new model (tadd_model_destroy frees it). Returns 0, or
 * -1 with a message naming the file and what is wrong (bad header, missing
 * or unexpected tensor, wrong shape, bad model_config); m is then empty.
 */
int tadd_checkpoint_load(const char *path, struct tadd_model *m, char *err,
                         size_t errlen);

#endif
