/*
 * Time of one training step (forward and backward) of one model on one
 * thread, for the baseline config or one given as JSON model fields:
 *
 *     bench_model_step [--batch N] [--steps N] [--config JSON]
 *
 * Also times the teacher-forced answer argmax and greedy decoding of the
 * same batch, the two evaluation passes. Each figure is the best of five
 * rounds of thread CPU time, so that other processes on a shared machine
 * disturb it less. The printed digest of the gradients lets builds for
 * different vector widths be compared: they must agree bit for bit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "data.h"
#include "model.h"
#include "rng.h"

#define ROUNDS 5

/* FNV-1a over n bytes. */
static uint64_t digest(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void best(double *best_ms, double t0, int steps)
{
    double ms = (now_ms() - t0) / steps;
    if (*best_ms == 0.0 || ms < *best_ms)
        *best_ms = ms;
}

int main(int argc, char **argv)
{
    struct tadd_config full;
    struct tadd_model_config cfg;
    struct tadd_model m;
    struct tadd_workspace *ws;
    struct tadd_rng r;
    char err[TADD_ERR_LEN];
    int B = 512, steps = 50;
    uint8_t *x, *prompt, *out;
    int8_t *y;
    float *grads;
    double t0, t_step = 0, t_argmax = 0, t_greedy = 0, loss = 0.0;

    tadd_config_defaults(&full);
    cfg = full.model;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--batch") == 0) {
            B = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--steps") == 0) {
            steps = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--config") == 0) {
            cJSON *j = cJSON_Parse(argv[i + 1]);
            if (!j || tadd_model_config_from_json(&cfg, j, "", err,
                                                  sizeof(err)) != 0) {
                fprintf(stderr, "--config: %s\n", j ? err : "not JSON");
                return 1;
            }
            cJSON_Delete(j);
        } else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 1;
        }
    }
    if (B < 1 || steps < 1 ||
        tadd_model_config_validate(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "bad arguments %s\n", err);
        return 1;
    }

    if (tadd_model_create(&m, &cfg) != 0)
        return 1;
    tadd_rng_seed(&r, 42, TADD_STREAM_INIT, 0);
    tadd_model_init(&m, &r);
    ws = tadd_workspace_new(&cfg, B);
    x = malloc((size_t)B * TADD_CONTEXT);
    y = malloc((size_t)B * TADD_CONTEXT);
    prompt = malloc((size_t)B * TADD_PROMPT_LEN);
    out = malloc((size_t)B * TADD_ANSWER_POSITIONS);
    grads = malloc(m.n_params * sizeof(float));
    if (!ws || !x || !y || !prompt || !out || !grads)
        return 1;
    tadd_rng_seed(&r, 7, TADD_STREAM_BATCH, 0);
    for (int b = 0; b < B; b++) {
        uint64_t a = tadd_rng_below(&r, 10000000000ULL);
        uint64_t c = tadd_rng_below(&r, 10000000000ULL);
        tadd_data_encode(x + (size_t)b * TADD_CONTEXT,
                         y + (size_t)b * TADD_CONTEXT, a, c);
        tadd_data_encode_prompt(prompt + (size_t)b * TADD_PROMPT_LEN, a, c);
    }

    tadd_model_step(&m, ws, x, y, B, grads, NULL); /* warm the caches */
    for (int round = 0; round < ROUNDS; round++) {
        t0 = now_ms();
        for (int s = 0; s < steps; s++)
            loss += tadd_model_step(&m, ws, x, y, B, grads, NULL);
        best(&t_step, t0, steps);
        t0 = now_ms();
        for (int s = 0; s < steps; s++)
            tadd_model_argmax_answer(&m, ws, x, B, out);
        best(&t_argmax, t0, steps);
        t0 = now_ms();
        for (int s = 0; s < steps; s++)
            tadd_model_greedy(&m, ws, prompt, B, TADD_ANSWER_POSITIONS, out);
        best(&t_greedy, t0, steps);
    }

    printf("params %zu batch %d: step %.3f ms, argmax %.3f ms, "
           "greedy %.3f ms (mean loss %.4f, grads %016llx)\n",
           m.n_params, B, t_step, t_argmax, t_greedy,
           loss / (steps * ROUNDS),
           (unsigned long long)digest(grads, m.n_params * sizeof(float)));
    free(grads);
    free(out);
    free(prompt);
    free(y);
    free(x);
    tadd_workspace_free(ws);
    tadd_model_destroy(&m);
    return 0;
}
