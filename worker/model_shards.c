/*
 * Adding up the shards of a training batch (see model.h). The adds are
 * plain float additions in shard order, the same in every copy of the
 * engine, so they live here once rather than in model_step.c.
 */
#include "model_internal.h"

int tadd_model_shard_count(int B)
{
    return (B + TADD_MODEL_SHARD_SEQS - 1) / TADD_MODEL_SHARD_SEQS;
}

size_t tadd_model_shard_floats(const struct tadd_workspace *ws)
{
    return ws->grad_floats;
}

void model_shards_add(float *acc, const float *part, size_t n, int first)
{
    if (first) {
        for (size_t i = 0; i < n; i++)
            acc[i] = part[i];
        return;
    }
    for (size_t i = 0; i < n; i++)
        acc[i] += part[i];
}

double tadd_model_shard_sum(const struct tadd_model *m,
                            struct tadd_workspace *ws, const float *partials,
                            const double *shares, int n, float *grads)
{
    double loss = 0.0;

    for (int s = 0; s < n; s++) {
        model_shards_add(ws->grad_store, partials + (size_t)s * ws->grad_floats,
                         ws->grad_floats, s == 0);
        loss += shares[s];
    }
    model_unfold_grads(m, ws, grads);
    return loss;
}
