#include "train_step.h"

#include <math.h>
#include <stdlib.h>

int tadd_trainee_alloc(struct tadd_trainee *tr,
                       const struct tadd_workspace *ws)
{
    size_t cells = (size_t)tr->t->batch_size * TADD_CONTEXT;

    tr->n_shards = tadd_model_shard_count(tr->t->batch_size);
    tr->x = malloc(cells);
    tr->y = malloc(cells);
    tr->partials = malloc((size_t)tr->n_shards *
                          tadd_model_shard_floats(ws) * sizeof(float));
    tr->shares = malloc((size_t)tr->n_shards * sizeof(double));
    if (!tr->x || !tr->y || !tr->partials || !tr->shares) {
        tadd_trainee_free(tr);
        return -1;
    }
    return 0;
}

void tadd_trainee_free(struct tadd_trainee *tr)
{
    free(tr->x);
    free(tr->y);
    free(tr->partials);
    free(tr->shares);
    tr->x = NULL;
    tr->y = NULL;
    tr->partials = NULL;
    tr->shares = NULL;
}

struct pack_step {
    struct tadd_workspace *const *ws;
    struct tadd_trainee *tr;
    long step;
    int max_shards;
};

/* Round 1: the batch of (seed, step). */
static void draw_task(void *arg, int thread, int index)
{
    struct pack_step *ps = arg;
    struct tadd_trainee *tr = &ps->tr[index];

    (void)thread;
    if (!tr->active)
        return;
    tr->rc = TADD_STEP_UPDATED;
    if (tadd_data_train_batch(tr->x, tr->y, NULL, tr->t, tr->exclude,
                              tr->seed, ps->step, tr->err,
                              sizeof tr->err) != 0) {
        tr->rc = TADD_STEP_NO_BATCH;
        return;
    }
    tadd_model_plan_batch(&tr->plan, tr->y, tr->t->batch_size);
}

/* Round 2: one shard's partial gradient; index runs model by model. */
static void shard_task(void *arg, int thread, int index)
{
    struct pack_step *ps = arg;
    struct tadd_trainee *tr = &ps->tr[index / ps->max_shards];
    int shard = index % ps->max_shards;
    size_t floats = tadd_model_shard_floats(ps->ws[thread]);

    if (!tr->active || tr->rc != TADD_STEP_UPDATED || shard >= tr->n_shards)
        return;
    tr->shares[shard] = tadd_model_shard_grad(
        tr->model, ps->ws[thread], tr->x, tr->y, tr->t->batch_size,
        &tr->plan, shard, tr->partials + (size_t)shard * floats);
}

/* Round 3: the gradient, clipping and AdamW. */
static void update_task(void *arg, int thread, int index)
{
    struct pack_step *ps = arg;
    struct tadd_trainee *tr = &ps->tr[index];
    struct tadd_model *m = tr->model;
    size_t n = m->n_params;

    if (!tr->active || tr->rc != TADD_STEP_UPDATED)
        return;
    tr->loss = tadd_model_shard_sum(m, ps->ws[thread], tr->partials,
                                    tr->shares, tr->n_shards, tr->grads);
    tr->grad_norm = isfinite(tr->loss)
                        ? tadd_grad_clip(tr->grads, n, tr->t->grad_clip)
                        : NAN;
    if (!isfinite(tr->loss) || !isfinite(tr->grad_norm)) {
        tr->rc = TADD_STEP_DIVERGED;
        return;
    }
    tadd_adamw_step(m->params, tr->adam_m, tr->adam_v, tr->grads, n,
                    tr->opt, tr->lr, ps->step + 1);
}

void tadd_train_pack_step(struct tadd_pool *pool,
                          struct tadd_workspace *const *ws,
                          struct tadd_trainee *tr, int n, long step)
{
    struct pack_step ps = {ws, tr, step, 1};

    for (int i = 0; i < n; i++)
        if (tr[i].n_shards > ps.max_shards)
            ps.max_shards = tr[i].n_shards;
    tadd_pool_run(pool, draw_task, &ps, n);
    tadd_pool_run(pool, shard_task, &ps, n * ps.max_shards);
    tadd_pool_run(pool, update_task, &ps, n);
}
