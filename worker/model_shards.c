/*
 * The shards of a training batch (see model.h): how a batch is cut, what
 * its shards share (the plan), and how they are added up. The adds are
 * plain float additions in shard order, the same in every copy of the
 * engine, so they live here once rather than in model_step.c.
 */
#include "model_internal.h"

#include <string.h>

int tadd_model_shard_count(int B)
{
    return (B + TADD_MODEL_SHARD_SEQS - 1) / TADD_MODEL_SHARD_SEQS;
}

/* The top bit of each of the 8 bytes of labels at p that holds a label
 * (a label is >= 0, an ignored position negative). */
static uint64_t label_bits(const int8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return ~w & 0x8080808080808080ULL;
}

void tadd_model_plan_batch(struct tadd_batch_plan *plan, const int8_t *y,
                           int B)
{
    enum { T = TADD_CONTEXT, WORDS = TADD_CONTEXT / 8 };
    uint64_t labelled[WORDS] = {0};
    uint8_t any[T] = {0};
    long count = 0;

    /* Eight labels a word, the positions past the last word one by one
     * straight into any. */
    for (int b = 0; b < B; b++) {
        const int8_t *row = y + (size_t)b * T;
        for (int k = 0; k < WORDS; k++) {
            uint64_t has = label_bits(row + 8 * k);
            labelled[k] |= has;
            count += __builtin_popcountll(has);
        }
        for (int t = 8 * WORDS; t < T; t++) {
            int has = row[t] >= 0;
            any[t] |= (uint8_t)has;
            count += has;
        }
    }
    /* The words back to bytes, so that position t is byte t whatever the
     * byte order. */
    memcpy(any, labelled, sizeof labelled);
    plan->nq = 0;
    for (int t = 0; t < T; t++)
        if (any[t])
            plan->qpos[plan->nq++] = t;
    plan->count = count;
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
