/*
 * The files a model of a pack leaves in its folder (SPEC section 6):
 * metrics.csv, best.safetensors, last.safetensors and summary.json.
 */
#ifndef TADD_TRAIN_FILES_H
#define TADD_TRAIN_FILES_H

#include <stddef.h>
#include <stdio.h>

#include "model.h"
#include "pack.h"
#include "progress.h"

#define TADD_METRICS_HEADER \
    "step,train_loss,val_exact,val_token_acc,grad_norm,lr,elapsed_sec\n"

struct tadd_metrics_row {
    long step;
    double train_loss;
    double val_exact;
    double val_token_acc;
    double grad_norm;
    double lr;
    double elapsed_sec;
};

struct tadd_metrics_file {
    FILE *f;
    char *path;
};

/*
 * Opens <dir>/metrics.csv for appending. Rows of steps >= keep_before are
 * dropped first (a resumed run writes them again); keep_before 0 starts a
 * new file. The rewrite is atomic. Returns 0 or -1 with a message.
 */
int tadd_metrics_open(struct tadd_metrics_file *m, const char *dir,
                      long keep_before, char *err, size_t errlen);

/* Appends and flushes one row. Returns 0 or -1 with a message. */
int tadd_metrics_append(struct tadd_metrics_file *m,
                        const struct tadd_metrics_row *row, char *err,
                        size_t errlen);

/* Makes the rows written so far durable (fsync). */
int tadd_metrics_sync(struct tadd_metrics_file *m, char *err, size_t errlen);

void tadd_metrics_close(struct tadd_metrics_file *m);

/*
 * Writes the model's weights as <dir>/<name> with the training metadata
 * (seed, step, val_exact). Returns 0 or -1 with a message.
 */
int tadd_files_write_weights(const struct tadd_model *m,
                             const struct tadd_pack_model *pm,
                             const char *name, long step, double val_exact,
                             char *err, size_t errlen);

/*
 * Writes <dir>/summary.json (docs/worker-protocol.md). test_exact is NaN
 * when there are no best weights. Returns 0 or -1 with a message.
 */
int tadd_files_write_summary(const struct tadd_model *m,
                             const struct tadd_pack_model *pm,
                             const struct tadd_model_progress *p,
                             double test_exact, const struct tadd_pack *pack,
                             long final_step, double elapsed, char *err,
                             size_t errlen);

#endif
