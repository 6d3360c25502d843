/*
 * The training loop of a pack.
 *
 * Life of a pack, step by step (s counts from 0):
 *
 *     for s in start .. train_steps-1:
 *         every training model, in parallel: batch(seed, s), forward,
 *             backward, clip, AdamW                     train_run_step
 *         if s % eval_interval == 0 or s is the last step:
 *             every training model, in parallel: validation exact match,
 *             metrics row, best.safetensors             train_eval_task
 *         if (s + 1) % checkpoint_interval == 0, or a stop was asked:
 *             last.safetensors of every model, then the resume state
 *     every model: last.safetensors, test exact of the best weights,
 *         summary.json; the final state; the end event  train_finish
 *
 * Invariants:
 *   1. A model's numbers depend only on its seed, its config and its own
 *      arrays: tasks never share data across models, and per-thread
 *      scratch is fully rewritten by each use. Hence results are the same
 *      alone or in any pack, with any number of threads.
 *   2. The resume state is written only between steps and only after the
 *      files it vouches for (metrics rows, last.safetensors) are durable.
 *   3. A diverged model keeps the files of its last good evaluation and is
 *      skipped by every later task.
 */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data.h"
#include "eval.h"
#include "fsutil.h"
#include "model.h"
#include "optim.h"
#include "pool.h"
#include "progress.h"
#include "resume.h"
#include "train_files.h"
#include "train_step.h"

/* Sequences per evaluation batch: enough to amortise the per-batch work,
 * few enough that a workspace stays a few megabytes. */
#define TRAIN_EVAL_BATCH 1000

struct train_model {
    const struct tadd_pack_model *pm;
    struct tadd_model model;
    struct tadd_lr_schedule sched;
    struct tadd_adamw opt;
    float *grads;  /* (n_params) */
    float *adam_m; /* (n_params) */
    float *adam_v; /* (n_params) */
    float *best;   /* (n_params) weights of the best evaluation */
    struct tadd_heldout heldout;
    struct tadd_model_progress p;
    struct tadd_metrics_file metrics;
    /* The model as the step sees it, in train_ctx's trainees; its loss,
     * grad_norm and lr are those of the latest step. */
    struct tadd_trainee *tr;
    double eval_loss;  /* mean training loss reported at the evaluation */
    double test_exact; /* of the best weights, at the end */
    int diverged_now;
    int failed;
    char err[TADD_ERR_LEN];
};

struct train_ctx {
    const struct tadd_pack *pack;
    const struct tadd_train_options *opt;
    const struct tadd_train_config *shared; /* models[0]'s, same shape */
    int n;
    struct train_model *models;
    struct tadd_pool *pool;
    int n_threads;
    int ws_batch;               /* sequences a workspace holds */
    struct tadd_workspace **ws; /* (n_threads) */
    struct tadd_trainee *trainees; /* (n) the models' tr, side by side */
    long step;
    double elapsed_base;
    struct timespec t0;
    double elapsed_now; /* stamped before each parallel evaluation */
    char kernels_changed[16]; /* the state's engine copy, if not ours */
};

static double train_elapsed(const struct train_ctx *c)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return c->elapsed_base + (double)(t.tv_sec - c->t0.tv_sec) +
           (double)(t.tv_nsec - c->t0.tv_nsec) * 1e-9;
}

static void train_emit(const struct train_ctx *c, cJSON *event)
{
    if (event && c->opt->emit)
        c->opt->emit(c->opt->user, event);
    cJSON_Delete(event);
}

static void train_model_fail(struct train_model *tm, const char *msg)
{
    tm->failed = 1;
    snprintf(tm->err, sizeof tm->err, "%s", msg);
}

/* ---- one training step ------------------------------------------------ */

static void train_run_step(struct train_ctx *c)
{
    for (int i = 0; i < c->n; i++) {
        struct train_model *tm = &c->models[i];
        struct tadd_trainee *tr = &c->trainees[i];
        tm->diverged_now = 0;
        tr->active = tm->p.status == TADD_MODEL_TRAINING;
        if (tr->active)
            tr->lr = tadd_lr_schedule_at(&tm->sched, c->step);
    }
    tadd_train_pack_step(c->pool, c->ws, c->trainees, c->n, c->step);
    for (int i = 0; i < c->n; i++) {
        struct train_model *tm = &c->models[i];
        struct tadd_trainee *tr = &c->trainees[i];
        if (!tr->active)
            continue;
        if (tr->rc == TADD_STEP_NO_BATCH) {
            train_model_fail(tm, tr->err);
        } else if (tr->rc == TADD_STEP_DIVERGED) {
            tm->diverged_now = 1;
            tm->p.status = TADD_MODEL_DIVERGED;
            tm->p.diverged_step = c->step;
        } else {
            tm->p.loss_sum += tr->loss;
            tm->p.loss_count++;
        }
    }
}

/* ---- evaluation --------------------------------------------------------- */

static void train_eval_task(void *arg, int thread, int index)
{
    struct train_ctx *c = arg;
    struct train_model *tm = &c->models[index];
    struct tadd_model_progress *p = &tm->p;
    struct tadd_eval_result res;
    struct tadd_metrics_row row;
    char msg[TADD_ERR_LEN];

    if (p->status != TADD_MODEL_TRAINING)
        return;
    if (tadd_eval_pairs(&res, NULL, 0, &tm->model, c->ws[thread],
                        c->ws_batch, tadd_heldout_val(&tm->heldout),
                        (size_t)tm->heldout.val_size, msg,
                        sizeof msg) != 0) {
        train_model_fail(tm, msg);
        return;
    }
    p->last_val_exact = res.exact;
    p->last_val_token_acc = res.token_acc;
    p->last_eval_step = c->step;
    row.step = c->step;
    row.train_loss = p->loss_count ? p->loss_sum / (double)p->loss_count
                                   : NAN;
    tm->eval_loss = row.train_loss;
    row.val_exact = res.exact;
    row.val_token_acc = res.token_acc;
    row.grad_norm = tm->tr->grad_norm;
    row.lr = tm->tr->lr;
    row.elapsed_sec = c->elapsed_now;
    p->loss_sum = 0;
    p->loss_count = 0;
    if (tadd_metrics_append(&tm->metrics, &row, msg, sizeof msg) != 0) {
        train_model_fail(tm, msg);
        return;
    }
    if (res.exact > p->best_val_exact) {
        p->best_val_exact = res.exact;
        p->best_step = c->step;
        memcpy(tm->best, tm->model.params,
               tm->model.n_params * sizeof(float));
        if (tadd_files_write_weights(&tm->model, tm->pm, "best.safetensors",
                                     c->step, res.exact, msg,
                                     sizeof msg) != 0) {
            train_model_fail(tm, msg);
            return;
        }
    }
    if (p->first_success_step < 0 &&
        res.exact > c->pack->success_threshold) {
        p->first_success_step = c->step;
        p->first_success_elapsed = c->elapsed_now;
    }
}

/* ---- events ------------------------------------------------------------- */

static cJSON *train_event(const char *name, long step)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "event", name);
    cJSON_AddNumberToObject(e, "step", (double)step);
    return e;
}

static void train_add_number_or_null(cJSON *o, const char *key, double v,
                                     int present)
{
    if (present && isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void train_emit_eval(struct train_ctx *c)
{
    cJSON *e = train_event("eval", c->step);
    cJSON *models;

    cJSON_AddNumberToObject(e, "elapsed", c->elapsed_now);
    models = cJSON_AddArrayToObject(e, "models");
    for (int i = 0; i < c->n; i++) {
        struct train_model *tm = &c->models[i];
        const struct tadd_model_progress *p = &tm->p;
        int fresh = p->last_eval_step == c->step;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "index", i);
        cJSON_AddNumberToObject(m, "seed", (double)tm->pm->seed);
        cJSON_AddStringToObject(m, "status",
                                tadd_model_status_name(p->status));
        train_add_number_or_null(m, "train_loss", tm->eval_loss, fresh);
        train_add_number_or_null(m, "val_exact", p->last_val_exact, fresh);
        train_add_number_or_null(m, "val_token_acc", p->last_val_token_acc,
                                 fresh);
        train_add_number_or_null(m, "grad_norm", tm->tr->grad_norm, fresh);
        train_add_number_or_null(m, "lr", tm->tr->lr, fresh);
        train_add_number_or_null(m, "best_val_exact", p->best_val_exact,
                                 p->best_step >= 0);
        cJSON_AddNumberToObject(m, "best_step", (double)p->best_step);
        cJSON_AddItemToArray(models, m);
    }
    train_emit(c, e);
}

static void train_emit_diverged(struct train_ctx *c, int i)
{
    cJSON *e = train_event("diverged", c->step);
    cJSON_AddNumberToObject(e, "index", i);
    cJSON_AddNumberToObject(e, "seed", (double)c->models[i].pm->seed);
    train_emit(c, e);
}

/* ---- checkpoints and the resume state --------------------------------- */

static int train_save_state(struct train_ctx *c, long next_step, char *err,
                            size_t errlen)
{
    struct tadd_resume_state st;
    int rc = 0;

    st.step = next_step;
    st.elapsed = train_elapsed(c);
    snprintf(st.kernels, sizeof st.kernels, "%s", tadd_model_kernels());
    st.n_models = c->n;
    st.models = calloc((size_t)c->n, sizeof *st.models);
    if (!st.models) {
        snprintf(err, errlen, "out of memory saving the state");
        return -1;
    }
    for (int i = 0; rc == 0 && i < c->n; i++) {
        struct train_model *tm = &c->models[i];
        struct tadd_resume_model *rm = &st.models[i];
        rc = tadd_metrics_sync(&tm->metrics, err, errlen);
        if (rc == 0)
            rc = tadd_files_write_weights(&tm->model, tm->pm,
                                          "last.safetensors", next_step - 1,
                                          tm->p.last_val_exact, err, errlen);
        rm->progress = tm->p;
        rm->n_params = tm->model.n_params;
        rm->params = tm->model.params;
        rm->adam_m = tm->adam_m;
        rm->adam_v = tm->adam_v;
        rm->best = tm->best;
    }
    if (rc == 0)
        rc = tadd_resume_save(&st, c->pack->state_path, err, errlen);
    free(st.models);
    return rc;
}

static int train_load_state(struct train_ctx *c, char *err, size_t errlen)
{
    struct tadd_resume_state st;
    int rc;

    st.n_models = c->n;
    st.models = calloc((size_t)c->n, sizeof *st.models);
    if (!st.models) {
        snprintf(err, errlen, "out of memory loading the state");
        return -1;
    }
    for (int i = 0; i < c->n; i++) {
        struct train_model *tm = &c->models[i];
        st.models[i].progress.seed = tm->pm->seed;
        st.models[i].n_params = tm->model.n_params;
        st.models[i].params = tm->model.params;
        st.models[i].adam_m = tm->adam_m;
        st.models[i].adam_v = tm->adam_v;
        st.models[i].best = tm->best;
    }
    rc = tadd_resume_load(&st, c->pack->state_path, err, errlen);
    if (rc == 0 && st.step > c->shared->train_steps) {
        snprintf(err, errlen, "%s: state at step %ld is past train_steps",
                 c->pack->state_path, st.step);
        rc = -1;
    }
    /* The copy that trained the state keeps it bit-identical to a run
     * never stopped; a processor without that copy goes on with its own
     * and the start event says so. */
    if (rc == 0 && st.kernels[0] &&
        strcmp(st.kernels, tadd_model_kernels()) != 0 &&
        tadd_model_use_kernels(st.kernels) != 0)
        snprintf(c->kernels_changed, sizeof c->kernels_changed, "%s",
                 st.kernels);
    if (rc == 0) {
        c->step = st.step;
        c->elapsed_base = st.elapsed;
        for (int i = 0; i < c->n; i++)
            c->models[i].p = st.models[i].progress;
    }
    free(st.models);
    return rc;
}

/* ---- set-up and tear-down ---------------------------------------------- */

static int train_model_setup(struct train_model *tm,
                             struct tadd_trainee *tr,
                             const struct tadd_pack_model *pm,
                             const struct tadd_workspace *ws, char *err,
                             size_t errlen)
{
    const struct tadd_train_config *t = &pm->cfg.train;
    struct tadd_rng rng;
    size_t n;

    tm->pm = pm;
    if (tadd_model_create(&tm->model, &pm->cfg.model) != 0)
        goto oom;
    tadd_rng_seed(&rng, pm->seed, TADD_STREAM_INIT, 0);
    tadd_model_init(&tm->model, &rng);
    n = tm->model.n_params;
    tm->grads = calloc(n, sizeof(float));
    tm->adam_m = calloc(n, sizeof(float));
    tm->adam_v = calloc(n, sizeof(float));
    tm->best = calloc(n, sizeof(float));
    if (!tm->grads || !tm->adam_m || !tm->adam_v || !tm->best)
        goto oom;
    tm->sched.lr = t->lr;
    tm->sched.warmup_steps = t->warmup_steps;
    tm->sched.train_steps = t->train_steps;
    tm->sched.min_lr_ratio = t->min_lr_ratio;
    tadd_adamw_init(&tm->opt, t->weight_decay);
    *tr = (struct tadd_trainee){
        .model = &tm->model, .grads = tm->grads, .adam_m = tm->adam_m,
        .adam_v = tm->adam_v, .opt = &tm->opt, .t = t, .seed = pm->seed,
        .exclude = &tm->heldout.set, .loss = NAN, .grad_norm = NAN,
        .lr = NAN,
    };
    tm->tr = tr;
    if (tadd_trainee_alloc(tr, ws) != 0)
        goto oom;
    if (tadd_heldout_build(&tm->heldout, pm->seed, t->val_size,
                           t->test_size, err, errlen) != 0)
        return -1;
    tm->p.seed = pm->seed;
    tm->p.status = TADD_MODEL_TRAINING;
    tm->p.best_val_exact = -1;
    tm->p.best_step = -1;
    tm->p.first_success_step = -1;
    tm->p.first_success_elapsed = -1;
    tm->p.diverged_step = -1;
    tm->p.last_val_exact = NAN;
    tm->p.last_val_token_acc = NAN;
    tm->p.last_eval_step = -1;
    return 0;
oom:
    snprintf(err, errlen, "out of memory setting up model of seed %llu",
             (unsigned long long)pm->seed);
    return -1;
}

static void train_model_teardown(struct train_model *tm)
{
    tadd_metrics_close(&tm->metrics);
    tadd_heldout_free(&tm->heldout);
    if (tm->tr)
        tadd_trainee_free(tm->tr);
    free(tm->best);
    free(tm->adam_v);
    free(tm->adam_m);
    free(tm->grads);
    tadd_model_destroy(&tm->model);
}

static int train_ctx_setup(struct train_ctx *c, const struct tadd_pack *pack,
                           const struct tadd_train_options *opt, char *err,
                           size_t errlen)
{
    int B = pack->models[0].cfg.train.batch_size;
    int ws_batch = B > TRAIN_EVAL_BATCH ? B : TRAIN_EVAL_BATCH;
    int tasks = pack->n_models * tadd_model_shard_count(B);

    memset(c, 0, sizeof *c);
    c->pack = pack;
    c->opt = opt;
    c->shared = &pack->models[0].cfg.train;
    c->n = pack->n_models;
    c->ws_batch = ws_batch;
    /* More threads than a step's shards would have nothing to do. */
    c->n_threads = opt->threads > 0 ? opt->threads : 1;
    if (c->n_threads > tasks)
        c->n_threads = tasks;
    c->models = calloc((size_t)c->n, sizeof *c->models);
    c->trainees = calloc((size_t)c->n, sizeof *c->trainees);
    c->ws = calloc((size_t)c->n_threads, sizeof *c->ws);
    if (!c->models || !c->trainees || !c->ws)
        goto oom;
    for (int t = 0; t < c->n_threads; t++)
        if (!(c->ws[t] = tadd_workspace_new(&pack->models[0].cfg.model,
                                            ws_batch)))
            goto oom;
    for (int i = 0; i < c->n; i++)
        if (train_model_setup(&c->models[i], &c->trainees[i],
                              &pack->models[i], c->ws[0], err,
                              errlen) != 0)
            return -1;
    c->pool = tadd_pool_new(c->n_threads);
    if (!c->pool) {
        snprintf(err, errlen, "cannot start %d threads", c->n_threads);
        return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory setting up the pack");
    return -1;
}

static void train_ctx_teardown(struct train_ctx *c)
{
    tadd_pool_free(c->pool);
    for (int i = 0; c->models && i < c->n; i++)
        train_model_teardown(&c->models[i]);
    for (int t = 0; c->ws && t < c->n_threads; t++)
        tadd_workspace_free(c->ws[t]);
    free(c->ws);
    free(c->trainees);
    free(c->models);
}

/* ---- the end of a pack ------------------------------------------------- */

static void train_test_task(void *arg, int thread, int index)
{
    struct train_ctx *c = arg;
    struct train_model *tm = &c->models[index];
    struct tadd_eval_result res;
    struct tadd_model best = tm->model;
    char msg[TADD_ERR_LEN];
    double test_exact = NAN;

    if (tm->p.status == TADD_MODEL_TRAINING)
        tm->p.status = TADD_MODEL_DONE;
    if (tm->p.best_step >= 0) {
        /* The best weights with the model's own fixed terms. */
        best.params = tm->best;
        if (tadd_eval_pairs(&res, NULL, 0, &best, c->ws[thread],
                            c->ws_batch, tadd_heldout_test(&tm->heldout),
                            (size_t)tm->heldout.test_size, msg,
                            sizeof msg) != 0) {
            train_model_fail(tm, msg);
            return;
        }
        test_exact = res.exact;
    }
    if (tadd_files_write_summary(&tm->model, tm->pm, &tm->p, test_exact,
                                 c->pack, c->step, train_elapsed(c), msg,
                                 sizeof msg) != 0)
        train_model_fail(tm, msg);
    tm->test_exact = test_exact;
}

static void train_emit_end(struct train_ctx *c)
{
    cJSON *e = train_event("end", c->step);
    cJSON *models;

    cJSON_AddNumberToObject(e, "elapsed", train_elapsed(c));
    models = cJSON_AddArrayToObject(e, "models");
    for (int i = 0; i < c->n; i++) {
        const struct train_model *tm = &c->models[i];
        const struct tadd_model_progress *p = &tm->p;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "index", i);
        cJSON_AddNumberToObject(m, "seed", (double)tm->pm->seed);
        cJSON_AddStringToObject(m, "status",
                                tadd_model_status_name(p->status));
        cJSON_AddNumberToObject(m, "params", (double)tm->model.n_params);
        train_add_number_or_null(m, "best_val_exact", p->best_val_exact,
                                 p->best_step >= 0);
        cJSON_AddNumberToObject(m, "best_step", (double)p->best_step);
        cJSON_AddBoolToObject(m, "success", p->first_success_step >= 0);
        cJSON_AddNumberToObject(m, "first_success_step",
                                (double)p->first_success_step);
        train_add_number_or_null(m, "first_success_elapsed",
                                 p->first_success_elapsed,
                                 p->first_success_step >= 0);
        train_add_number_or_null(m, "test_exact", tm->test_exact, 1);
        cJSON_AddItemToArray(models, m);
    }
    train_emit(c, e);
}

/* ---- the loop ------------------------------------------------------------ */

static int train_check_failures(struct train_ctx *c, char *err,
                                size_t errlen)
{
    for (int i = 0; i < c->n; i++) {
        if (c->models[i].failed) {
            snprintf(err, errlen, "model %d (seed %llu): %s", i,
                     (unsigned long long)c->models[i].pm->seed,
                     c->models[i].err);
            return -1;
        }
    }
    return 0;
}

static int train_any_training(const struct train_ctx *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->models[i].p.status == TADD_MODEL_TRAINING)
            return 1;
    return 0;
}

static int train_open_files(struct train_ctx *c, int resumed, char *err,
                            size_t errlen)
{
    for (int i = 0; i < c->n; i++) {
        struct train_model *tm = &c->models[i];
        if (tadd_mkdir_p(tm->pm->dir, 0700, err, errlen) != 0)
            return -1;
        /* Writes of an earlier run killed midway left their temporaries;
         * this run owns the folder now. */
        if (tadd_remove_dead_temporaries(tm->pm->dir, NULL, err, errlen) < 0)
            return -1;
        if (tadd_metrics_open(&tm->metrics, tm->pm->dir,
                              resumed ? c->step : 0, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static void train_emit_start(struct train_ctx *c)
{
    cJSON *e = train_event("start", c->step);
    cJSON_AddNumberToObject(e, "models", c->n);
    cJSON_AddNumberToObject(e, "train_steps",
                            (double)c->shared->train_steps);
    cJSON_AddNumberToObject(e, "threads", c->n_threads);
    cJSON_AddStringToObject(e, "kernels", tadd_model_kernels());
    if (c->kernels_changed[0]) {
        cJSON_AddStringToObject(e, "kernels_changed", c->kernels_changed);
        fprintf(stderr, "tadd-worker: warning: the resume state was "
                "trained on the %s kernels, which this processor lacks; "
                "going on with %s, no longer bit-identical to an "
                "uninterrupted run\n", c->kernels_changed,
                tadd_model_kernels());
    }
    train_emit(c, e);
}

static int train_run_steps(struct train_ctx *c, char *err, size_t errlen)
{
    const struct tadd_train_config *t = c->shared;
    long interval = c->pack->checkpoint_interval;

    for (; c->step < t->train_steps && train_any_training(c); c->step++) {
        int last = c->step == t->train_steps - 1;
        int stop = c->opt->stop && *c->opt->stop;

        train_run_step(c);
        if (train_check_failures(c, err, errlen) != 0)
            return TADD_TRAIN_BAD_INPUT;
        for (int i = 0; i < c->n; i++)
            if (c->models[i].diverged_now)
                train_emit_diverged(c, i);
        if (c->step % t->eval_interval == 0 || last) {
            c->elapsed_now = train_elapsed(c);
            tadd_pool_run(c->pool, train_eval_task, c, c->n);
            if (train_check_failures(c, err, errlen) != 0)
                return TADD_TRAIN_RUNTIME;
            train_emit_eval(c);
        }
        stop = stop || (c->opt->stop && *c->opt->stop);
        if (!last && ((c->step + 1) % interval == 0 || stop)) {
            if (train_save_state(c, c->step + 1, err, errlen) != 0)
                return TADD_TRAIN_RUNTIME;
            cJSON *e = train_event("checkpoint", c->step + 1);
            cJSON_AddNumberToObject(e, "elapsed", train_elapsed(c));
            train_emit(c, e);
        }
        if (stop && !last) {
            c->step++;
            train_emit(c, train_event("stopped", c->step));
            return -1; /* stopped: not an error, see the caller */
        }
    }
    return TADD_TRAIN_OK;
}

int tadd_train_pack(const struct tadd_pack *pack,
                    const struct tadd_train_options *opt, char *err,
                    size_t errlen)
{
    struct train_ctx c;
    int resumed = tadd_path_exists(pack->state_path);
    int rc = TADD_TRAIN_OK;

    if (train_ctx_setup(&c, pack, opt, err, errlen) != 0) {
        rc = TADD_TRAIN_RUNTIME;
        goto out;
    }
    if (resumed && train_load_state(&c, err, errlen) != 0) {
        rc = TADD_TRAIN_BAD_INPUT;
        goto out;
    }
    if (train_open_files(&c, resumed, err, errlen) != 0) {
        rc = TADD_TRAIN_RUNTIME;
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    train_emit_start(&c);
    rc = train_run_steps(&c, err, errlen);
    if (rc == -1) {
        rc = TADD_TRAIN_OK;
        goto out;
    }
    if (rc != TADD_TRAIN_OK)
        goto out;
    /* Every model ended (the last step ran, or all diverged): the loop
     * stopped at c.step, the first step not run. The final state writes
     * last.safetensors and makes a restart of a finished pack repeat only
     * this ending. */
    tadd_pool_run(c.pool, train_test_task, &c, c.n);
    if (train_check_failures(&c, err, errlen) != 0) {
        rc = TADD_TRAIN_RUNTIME;
        goto out;
    }
    if (train_save_state(&c, c.step, err, errlen) != 0) {
        rc = TADD_TRAIN_RUNTIME;
        goto out;
    }
    train_emit_end(&c);
out:
    train_ctx_teardown(&c);
    return rc;
}
