/*
 * The pack's training step (train_step.h) against the recipe written out
 * by hand: one model stepped by tadd_train_pack_step on two threads, its
 * shards shared between them, ends with the same bits as the same model
 * stepped one call at a time. And a batch that cannot be drawn fails its
 * own model's step alone.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "data.h"
#include "model.h"
#include "optim.h"
#include "pool.h"
#include "rng.h"
#include "train_step.h"

#define T TADD_CONTEXT

struct arrays {
    struct tadd_model model;
    float *grads, *adam_m, *adam_v;
};

static void arrays_init(struct arrays *a, const struct tadd_config *cfg,
                        uint64_t seed)
{
    struct tadd_rng r;

    REQUIRE(tadd_model_create(&a->model, &cfg->model) == 0);
    tadd_rng_seed(&r, seed, TADD_STREAM_INIT, 0);
    tadd_model_init(&a->model, &r);
    a->grads = calloc(a->model.n_params, sizeof(float));
    a->adam_m = calloc(a->model.n_params, sizeof(float));
    a->adam_v = calloc(a->model.n_params, sizeof(float));
    REQUIRE(a->grads && a->adam_m && a->adam_v);
}

static void arrays_free(struct arrays *a)
{
    free(a->grads);
    free(a->adam_m);
    free(a->adam_v);
    tadd_model_destroy(&a->model);
}

static struct tadd_trainee trainee_of(struct arrays *a,
                                      const struct tadd_adamw *opt,
                                      const struct tadd_train_config *t,
                                      uint64_t seed,
                                      const struct tadd_pairset *exclude)
{
    return (struct tadd_trainee){
        .model = &a->model, .grads = a->grads, .adam_m = a->adam_m,
        .adam_v = a->adam_v, .opt = opt, .t = t, .seed = seed,
        .exclude = exclude,
    };
}

static void test_same_as_by_hand(void)
{
    enum { STEPS = 4 };
    struct tadd_config cfg;
    struct tadd_adamw opt;
    struct arrays packed, hand;
    struct tadd_workspace *ws[2];
    struct tadd_pool *pool = tadd_pool_new(2);
    struct tadd_trainee tr;
    uint8_t *x;
    int8_t *y;
    char err[TADD_ERR_LEN];
    const double lr = 3e-3;

    tadd_config_defaults(&cfg);
    cfg.train.batch_size = 300; /* two shards, the second short */
    tadd_adamw_init(&opt, cfg.train.weight_decay);
    arrays_init(&packed, &cfg, 42);
    arrays_init(&hand, &cfg, 42);
    ws[0] = tadd_workspace_new(&cfg.model, cfg.train.batch_size);
    ws[1] = tadd_workspace_new(&cfg.model, cfg.train.batch_size);
    x = malloc((size_t)cfg.train.batch_size * T);
    y = malloc((size_t)cfg.train.batch_size * T);
    REQUIRE(pool && ws[0] && ws[1] && x && y);
    tr = trainee_of(&packed, &opt, &cfg.train, 42, NULL);
    REQUIRE(tadd_trainee_alloc(&tr, ws[0]) == 0);
    CHECK_INT_EQ(tr.n_shards, 2);

    for (long step = 0; step < STEPS; step++) {
        double loss;
        tr.active = 1;
        tr.lr = lr;
        tadd_train_pack_step(pool, ws, &tr, 1, step);
        CHECK_INT_EQ(tr.rc, TADD_STEP_UPDATED);

        REQUIRE(tadd_data_train_batch(x, y, NULL, &cfg.train, NULL, 42,
                                      step, err, sizeof err) == 0);
        loss = tadd_model_step(&hand.model, ws[1], x, y,
                               cfg.train.batch_size, hand.grads, NULL);
        CHECK(loss == tr.loss);
        CHECK(tadd_grad_clip(hand.grads, hand.model.n_params,
                             cfg.train.grad_clip) == tr.grad_norm);
        tadd_adamw_step(hand.model.params, hand.adam_m, hand.adam_v,
                        hand.grads, hand.model.n_params, &opt, lr, step + 1);
    }
    CHECK(memcmp(packed.model.params, hand.model.params,
                 hand.model.n_params * sizeof(float)) == 0);
    CHECK(memcmp(packed.adam_v, hand.adam_v,
                 hand.model.n_params * sizeof(float)) == 0);

    tadd_trainee_free(&tr);
    free(y);
    free(x);
    tadd_workspace_free(ws[1]);
    tadd_workspace_free(ws[0]);
    tadd_pool_free(pool);
    arrays_free(&hand);
    arrays_free(&packed);
}

/*
 * Every one-digit pair held out: a phase of one-digit sums cannot draw a
 * batch. Steps 0 and 1 draw two-digit operands and train; step 2 fails
 * and says why, while a second model in the same pack goes on.
 */
static void test_failed_draw(void)
{
    struct tadd_config cfg;
    struct tadd_adamw opt;
    struct arrays a, b;
    struct tadd_pairset all_small = {0};
    struct tadd_workspace *ws[2];
    struct tadd_pool *pool = tadd_pool_new(2);
    struct tadd_trainee tr[2];

    tadd_config_defaults(&cfg);
    cfg.train.batch_size = 64;
    cfg.train.n_phases = 2;
    cfg.train.curriculum[0] = (struct tadd_phase){2, 2, 2};
    cfg.train.curriculum[1] = (struct tadd_phase){1, 1, 10};
    cfg.train.train_steps = 12;
    for (uint64_t p = 0; p < 10; p++)
        for (uint64_t q = 0; q < 10; q++)
            REQUIRE(tadd_pairset_insert(&all_small, p, q) == 1);
    tadd_adamw_init(&opt, cfg.train.weight_decay);
    arrays_init(&a, &cfg, 1);
    arrays_init(&b, &cfg, 2);
    ws[0] = tadd_workspace_new(&cfg.model, cfg.train.batch_size);
    ws[1] = tadd_workspace_new(&cfg.model, cfg.train.batch_size);
    REQUIRE(pool && ws[0] && ws[1]);
    tr[0] = trainee_of(&a, &opt, &cfg.train, 1, &all_small);
    tr[1] = trainee_of(&b, &opt, &cfg.train, 2, NULL);
    REQUIRE(tadd_trainee_alloc(&tr[0], ws[0]) == 0);
    REQUIRE(tadd_trainee_alloc(&tr[1], ws[0]) == 0);

    for (long step = 0; step < 3; step++) {
        for (int i = 0; i < 2; i++) {
            tr[i].active = 1;
            tr[i].lr = 1e-3;
        }
        tadd_train_pack_step(pool, ws, tr, 2, step);
        CHECK_INT_EQ(tr[1].rc, TADD_STEP_UPDATED);
        CHECK(isfinite(tr[1].loss));
        if (step < 2) {
            CHECK_INT_EQ(tr[0].rc, TADD_STEP_UPDATED);
        } else {
            CHECK_INT_EQ(tr[0].rc, TADD_STEP_NO_BATCH);
            CHECK_STR_HAS(tr[0].err, "step 2:");
            CHECK_STR_HAS(tr[0].err, "collided with the held-out pairs");
        }
    }

    tadd_trainee_free(&tr[1]);
    tadd_trainee_free(&tr[0]);
    tadd_workspace_free(ws[1]);
    tadd_workspace_free(ws[0]);
    tadd_pool_free(pool);
    tadd_pairset_free(&all_small);
    arrays_free(&b);
    arrays_free(&a);
}

int main(void)
{
    test_same_as_by_hand();
    test_failed_draw();
    CHECK_DONE();
}
