/*
 * tadd-worker calibrate: how fast this machine trains a pack, measured on
 * the real training step (batch, forward and backward, clipping, AdamW)
 * of throwaway models, so that taddd can size its workers from figures
 * rather than guesses.
 *
 *     tadd-worker calibrate [--config FILE] [--max-threads N]
 *                           [--max-models N] [--seconds S]
 *
 * After untimed warm-up steps, two scans, each point the fastest of at
 * least 3 whole steps timed over at least S seconds (default 0.05), after
 * one untimed step of its own:
 *   threads  1 .. max-threads on a pack of 4 x max-threads models;
 *   widths   packs of t, 2t, 4t, ... up to max-models models (default 64)
 *            on the thread count t of the best throughput.
 * Prints one JSON line: {"event": "calibration", "kernels", "config",
 * "threads": [{"threads", "models", "ms_per_model_step"}...], "widths":
 * [same]}. The figures are of this moment: on a busy machine they are
 * what the machine gives now.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "model.h"
#include "optim.h"
#include "pool.h"
#include "rng.h"
#include "train_step.h"
#include "worker_cmds.h"

struct calib_model {
    struct tadd_model model;
    float *grads, *adam_m, *adam_v;
};

struct calib {
    const struct tadd_config *cfg;
    struct calib_model *models; /* (max models) */
    struct tadd_trainee *tr;    /* (max models) */
    struct tadd_workspace **ws; /* (max threads) */
    struct tadd_adamw opt;
    long step;
    int failed; /* a batch could not be drawn */
};

/* One training step of the first n models, the one train.c runs. */
static void calib_step(struct calib *c, struct tadd_pool *pool, int n)
{
    for (int i = 0; i < n; i++) {
        c->tr[i].active = 1;
        c->tr[i].lr = c->cfg->train.lr;
    }
    tadd_train_pack_step(pool, c->ws, c->tr, n, c->step);
    for (int i = 0; i < n; i++)
        if (c->tr[i].rc == TADD_STEP_NO_BATCH)
            c->failed = 1;
    c->step++;
}

/* Milliseconds per model-step of a pack of n models on pool: the fastest
 * of at least CALIB_MIN_STEPS timed steps, so that a moment of
 * interference from other processes does not count. */
#define CALIB_MIN_STEPS 3

static double calib_measure(struct calib *c, struct tadd_pool *pool, int n,
                            double seconds)
{
    double start, best = INFINITY;
    long steps = 0;

    calib_step(c, pool, n); /* untimed: warms caches */
    start = tadd_monotonic_seconds();
    do {
        double t0 = tadd_monotonic_seconds(), dt;
        calib_step(c, pool, n);
        dt = tadd_monotonic_seconds() - t0;
        steps++;
        if (dt < best)
            best = dt;
    } while (steps < CALIB_MIN_STEPS ||
             tadd_monotonic_seconds() - start < seconds);
    return best * 1e3 / n;
}

static cJSON *calib_point(int threads, int models, double ms)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "models", models);
    cJSON_AddNumberToObject(o, "ms_per_model_step", round(ms * 1e4) / 1e4);
    return o;
}

static int calib_setup(struct calib *c, int max_models, int max_threads)
{
    const struct tadd_model_config *mc = &c->cfg->model;
    int B = c->cfg->train.batch_size;

    c->models = calloc((size_t)max_models, sizeof *c->models);
    c->tr = calloc((size_t)max_models, sizeof *c->tr);
    c->ws = calloc((size_t)max_threads, sizeof *c->ws);
    if (!c->models || !c->tr || !c->ws)
        return -1;
    for (int t = 0; t < max_threads; t++)
        if (!(c->ws[t] = tadd_workspace_new(mc, B)))
            return -1;
    tadd_adamw_init(&c->opt, c->cfg->train.weight_decay);
    for (int i = 0; i < max_models; i++) {
        struct calib_model *cm = &c->models[i];
        uint64_t seed = 1000 + (uint64_t)i;
        struct tadd_rng r;
        if (tadd_model_create(&cm->model, mc) != 0)
            return -1;
        tadd_rng_seed(&r, seed, TADD_STREAM_INIT, 0);
        tadd_model_init(&cm->model, &r);
        cm->grads = calloc(cm->model.n_params, sizeof(float));
        cm->adam_m = calloc(cm->model.n_params, sizeof(float));
        cm->adam_v = calloc(cm->model.n_params, sizeof(float));
        if (!cm->grads || !cm->adam_m || !cm->adam_v)
            return -1;
        c->tr[i] = (struct tadd_trainee){
            .model = &cm->model, .grads = cm->grads, .adam_m = cm->adam_m,
            .adam_v = cm->adam_v, .opt = &c->opt, .t = &c->cfg->train,
            .seed = seed,
        };
        if (tadd_trainee_alloc(&c->tr[i], c->ws[0]) != 0)
            return -1;
    }
    return 0;
}

static void calib_free(struct calib *c, int max_models, int max_threads)
{
    for (int i = 0; c->models && i < max_models; i++) {
        tadd_model_destroy(&c->models[i].model);
        free(c->models[i].grads);
        free(c->models[i].adam_m);
        free(c->models[i].adam_v);
    }
    for (int i = 0; c->tr && i < max_models; i++)
        tadd_trainee_free(&c->tr[i]);
    for (int t = 0; c->ws && t < max_threads; t++)
        tadd_workspace_free(c->ws[t]);
    free(c->models);
    free(c->tr);
    free(c->ws);
}

/*
 * The warm-up and both scans (see the top of this file) into the arrays
 * threads and widths. Returns 0, or -1 when a thread pool cannot start.
 */
static int calib_scans(struct calib *c, int max_threads, int max_models,
                       int scan_models, double seconds, cJSON *threads,
                       cJSON *widths)
{
    struct tadd_pool *pool;
    double best_rate = 0, t0;
    int best_t = 1;

    /* Untimed steps on every thread first: the first steps of a process
     * pay for page faults and a processor still ramping up its clock. */
    if (!(pool = tadd_pool_new(max_threads)))
        return -1;
    t0 = tadd_monotonic_seconds();
    while (tadd_monotonic_seconds() - t0 < 2 * seconds)
        calib_step(c, pool, max_models);
    tadd_pool_free(pool);
    for (int t = 1; t <= max_threads; t++) {
        double ms;
        if (!(pool = tadd_pool_new(t)))
            return -1;
        ms = calib_measure(c, pool, scan_models, seconds);
        tadd_pool_free(pool);
        cJSON_AddItemToArray(threads, calib_point(t, scan_models, ms));
        if (1.0 / ms > best_rate) {
            best_rate = 1.0 / ms;
            best_t = t;
        }
    }
    if (!(pool = tadd_pool_new(best_t)))
        return -1;
    for (int w = best_t; w <= max_models; w *= 2)
        cJSON_AddItemToArray(widths,
                             calib_point(best_t, w,
                                         calib_measure(c, pool, w, seconds)));
    tadd_pool_free(pool);
    return 0;
}

int worker_cmd_calibrate(int argc, char **argv)
{
    const char *config_path = NULL;
    long max_threads = 1, max_models = 64;
    double seconds = 0.05;
    struct tadd_config cfg;
    struct calib c = {0};
    char err[TADD_ERR_LEN];
    cJSON *out, *threads, *widths;
    int rc = 1, scan_models;
    char *text;

    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--config") == 0 && v) {
            config_path = v;
        } else if (strcmp(argv[i], "--max-threads") == 0 && v) {
            if (worker_parse_long(v, 1, 256, &max_threads) != 0) {
                worker_report_error("--max-threads: must be 1 to 256");
                return 2;
            }
        } else if (strcmp(argv[i], "--max-models") == 0 && v) {
            if (worker_parse_long(v, 1, 4096, &max_models) != 0) {
                worker_report_error("--max-models: must be 1 to 4096");
                return 2;
            }
        } else if (strcmp(argv[i], "--seconds") == 0 && v) {
            char *end;
            seconds = strtod(v, &end);
            if (*end != '\0' || !(seconds > 0 && seconds <= 60)) {
                worker_report_error("--seconds: must be in (0, 60]");
                return 2;
            }
        } else {
            snprintf(err, sizeof err, "calibrate: unknown or incomplete "
                     "argument '%.100s'", argv[i]);
            worker_report_error(err);
            return 2;
        }
        i++;
    }
    if (config_path) {
        if (worker_read_config(config_path, &cfg, err, sizeof err) != 0) {
            worker_report_error(err);
            return 1;
        }
    } else {
        tadd_config_defaults(&cfg);
    }
    c.cfg = &cfg;
    scan_models = 4 * (int)max_threads;
    if (scan_models > max_models)
        max_models = scan_models;
    if (calib_setup(&c, (int)max_models, (int)max_threads) != 0) {
        worker_report_error("calibrate: out of memory");
        goto done;
    }

    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "event", "calibration");
    cJSON_AddStringToObject(out, "kernels", tadd_model_kernels());
    cJSON_AddItemToObject(out, "config", tadd_config_to_json(&cfg));
    threads = cJSON_AddArrayToObject(out, "threads");
    widths = cJSON_AddArrayToObject(out, "widths");
    if (calib_scans(&c, (int)max_threads, (int)max_models, scan_models,
                    seconds, threads, widths) != 0) {
        worker_report_error("calibrate: cannot start threads");
        cJSON_Delete(out);
        goto done;
    }
    if (c.failed) {
        worker_report_error("calibrate: a training batch could not be "
                            "drawn");
        cJSON_Delete(out);
        goto done;
    }
    text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    if (!text) {
        worker_report_error("calibrate: out of memory");
        goto done;
    }
    printf("%s\n", text);
    free(text);
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    calib_free(&c, (int)max_models, (int)max_threads);
    return rc;
}
