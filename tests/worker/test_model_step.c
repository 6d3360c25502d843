/*
 * Properties of the transformer's passes that the golden batch (one chunk
 * of eight pairs) cannot show: accuracy of the vectorised GELU and
 * softmax, chunking of large batches, sharding of larger ones,
 * independence from a sequence's place in the batch, and greedy decoding
 * against the teacher-forced pass.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "model.h"
#include "model_internal.h"
#include "rng.h"

#define T TADD_CONTEXT
#define V TADD_VOCAB
#define NP TADD_PROMPT_LEN

/* gelu and its derivative against erfc in double over [-12, 12]. */
static void test_gelu(void)
{
    enum { N = 24000 / MODEL_LANES * MODEL_LANES };
    lanes_t *z = aligned_alloc(64, N / MODEL_LANES * sizeof(lanes_t));
    lanes_t *gd = aligned_alloc(64, N / MODEL_LANES * sizeof(lanes_t));
    float *zf = (float *)z, *gdf = (float *)gd;
    double worst_g = 0.0, worst_gd = 0.0;

    REQUIRE(z && gd);
    for (int i = 0; i < N; i++)
        zf[i] = -12.0f + 24.0f * (float)i / (float)N;
    zf[N / 2] = 0.0f;
    {
        float *zin = malloc(N * sizeof(float));
        REQUIRE(zin);
        memcpy(zin, zf, N * sizeof(float));
        mk_gelu_forward(z, gd, N / MODEL_LANES);
        for (int i = 0; i < N; i++) {
            double x = zin[i];
            double cdf = 0.5 * erfc(-x / sqrt(2.0));
            double pdf = exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
            /* Errors are measured against |z| (or 1 near 0): the CDF is
             * held to absolute precision. */
            double scale = fabs(x) > 1.0 ? fabs(x) : 1.0;
            double eg = fabs(zf[i] - x * cdf) / scale;
            double ed = fabs(gdf[i] - (cdf + x * pdf)) / scale;
            if (eg > worst_g)
                worst_g = eg;
            if (ed > worst_gd)
                worst_gd = ed;
        }
        free(zin);
    }
    CHECK(worst_g < 2e-7);
    CHECK(worst_gd < 2e-7);
    printf("gelu: max error %.2e, derivative %.2e (relative to max(1,|z|))\n",
           worst_g, worst_gd);
    CHECK(zf[N / 2] == 0.0f);
    free(z);
    free(gd);
}

/* Cross-entropy (and so the vectorised exp) against double. */
static void test_cross_entropy(void)
{
    enum { NQ = 3 };
    lanes_t logits[V * NQ], dl[V * NQ];
    int8_t labels[NQ * MODEL_LANES];
    struct tadd_rng r;
    double want = 0.0, got;

    tadd_rng_seed(&r, 5, 99, 0);
    for (int i = 0; i < V * NQ; i++)
        for (int s = 0; s < MODEL_LANES; s++)
            logits[i][s] = (float)(8.0 * tadd_rng_normal(&r));
    for (int i = 0; i < NQ * MODEL_LANES; i++)
        labels[i] = (int8_t)(i % 5 == 4 ? -1 : (i * 7) % V);
    got = mk_cross_entropy(dl, logits, labels, NQ, V, 0.5f);
    for (int p = 0; p < NQ; p++)
        for (int s = 0; s < MODEL_LANES; s++) {
            int y = labels[p * MODEL_LANES + s];
            double mx = -1e30, sum = 0.0;
            for (int v = 0; v < V; v++)
                if (logits[v * NQ + p][s] > mx)
                    mx = logits[v * NQ + p][s];
            for (int v = 0; v < V; v++)
                sum += exp(logits[v * NQ + p][s] - mx);
            for (int v = 0; v < V; v++) {
                double pr = exp(logits[v * NQ + p][s] - mx) / sum;
                double g = y < 0 ? 0.0 : 0.5 * (pr - (v == y));
                CHECK_NEAR(dl[v * NQ + p][s], g, 1e-7, 1e-6);
            }
            if (y >= 0)
                want += mx + log(sum) - logits[y * NQ + p][s];
        }
    CHECK_NEAR(got, want, 1e-6, 1e-6);
}

/* A two-block, two-head model with its initial weights scaled up, so that
 * its outputs vary with the input. */
static void make_model(struct tadd_model *m, float scale)
{
    struct tadd_config full;
    struct tadd_model_config c;
    struct tadd_rng r;

    tadd_config_defaults(&full);
    c = full.model;
    c.n_layer = 2;
    c.n_head = 2;
    c.pos_rank = 4;
    REQUIRE(tadd_model_create(m, &c) == 0);
    tadd_rng_seed(&r, 11, TADD_STREAM_INIT, 0);
    tadd_model_init(m, &r);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] *= scale;
    for (size_t i = 0; i < m->n_fixed; i++)
        m->fixed[i] *= scale;
}

/* Random token ids and SPEC's answer labels for B sequences. */
static void make_batch(uint8_t *x, int8_t *y, int B, uint64_t seed)
{
    struct tadd_rng r;

    tadd_rng_seed(&r, seed, 98, 0);
    for (int i = 0; i < B * T; i++) {
        int t = i % T;
        x[i] = (uint8_t)tadd_rng_below(&r, V);
        y[i] = t >= TADD_FIRST_ANSWER_POS ? (int8_t)tadd_rng_below(&r, V)
                                          : -1;
    }
}

/*
 * A batch of several chunks: its loss and gradient are the label-weighted
 * means of those of its parts, and each sequence's logits are bit for bit
 * the same wherever it sits in the batch.
 */
static void test_chunks(void)
{
    enum { B = 2 * MODEL_LANES + 7, B1 = MODEL_LANES + 3 };
    struct tadd_model m;
    struct tadd_workspace *ws;
    uint8_t x[B * T], xp[B * T];
    int8_t y[B * T], yp[B * T];
    float *g, *g1, *g2, *lg, *lgp;
    double loss, l1, l2;
    int perm[B];

    make_model(&m, 5.0f);
    ws = tadd_workspace_new(&m.cfg, B);
    g = malloc(m.n_params * sizeof(float));
    g1 = malloc(m.n_params * sizeof(float));
    g2 = malloc(m.n_params * sizeof(float));
    lg = malloc((size_t)B * T * V * sizeof(float));
    lgp = malloc((size_t)B * T * V * sizeof(float));
    REQUIRE(ws && g && g1 && g2 && lg && lgp);
    make_batch(x, y, B, 3);

    loss = tadd_model_step(&m, ws, x, y, B, g, lg);
    l1 = tadd_model_step(&m, ws, x, y, B1, g1, NULL);
    l2 = tadd_model_step(&m, ws, x + B1 * T, y + B1 * T, B - B1, g2, NULL);
    /* Every sequence has 12 labels, so the weights are the counts. */
    CHECK_NEAR(loss, (l1 * B1 + l2 * (B - B1)) / B, 1e-6, 1e-6);
    for (size_t i = 0; i < m.n_params; i++) {
        double want = ((double)g1[i] * B1 + (double)g2[i] * (B - B1)) / B;
        CHECK_NEAR(g[i], want, 1e-5, 1e-4);
    }

    /* Reversed batch, labels dropped from a few sequences. */
    for (int b = 0; b < B; b++) {
        perm[b] = B - 1 - b;
        memcpy(xp + b * T, x + perm[b] * T, T);
        memcpy(yp + b * T, y + perm[b] * T, T);
    }
    memset(yp, -1, 3 * T);
    tadd_model_step(&m, ws, xp, yp, B, NULL, lgp);
    for (int b = 0; b < B; b++)
        CHECK(memcmp(lgp + (size_t)b * T * V, lg + (size_t)perm[b] * T * V,
                     T * V * sizeof(float)) == 0);

    /* Without logits only labelled positions are computed; the loss must
     * not change. */
    CHECK_NEAR(tadd_model_step(&m, ws, x, y, B, NULL, NULL), loss, 0, 0);

    free(g);
    free(g1);
    free(g2);
    free(lg);
    free(lgp);
    tadd_workspace_free(ws);
    tadd_model_destroy(&m);
}

/* The plan of a batch finds every labelled position, the last one and
 * those of a single sequence included, and counts every label. */
static void test_plan(void)
{
    enum { B = 37 };
    int8_t y[B * T];
    struct tadd_batch_plan plan;

    memset(y, -1, sizeof y);
    tadd_model_plan_batch(&plan, y, B);
    CHECK_INT_EQ(plan.nq, 0);
    CHECK_INT_EQ(plan.count, 0);
    y[0 * T + 32] = 3;
    y[5 * T + 7] = 0;
    y[36 * T + 7] = 12;
    y[36 * T + 8] = 1;
    y[20 * T + 0] = 2;
    tadd_model_plan_batch(&plan, y, B);
    CHECK_INT_EQ(plan.count, 5);
    CHECK_INT_EQ(plan.nq, 4);
    CHECK(plan.qpos[0] == 0 && plan.qpos[1] == 7 && plan.qpos[2] == 8 &&
          plan.qpos[3] == 32);
}

/*
 * A batch of three shards, the last one short: its shards computed out of
 * order on two workspaces and then added up give tadd_model_step's loss
 * and gradient to the bit, and that gradient is the label-weighted mean of
 * the shards' own gradients.
 */
static void test_shards(void)
{
    enum { S = TADD_MODEL_SHARD_SEQS, B = 2 * S + 37 };
    struct tadd_model m;
    struct tadd_workspace *ws[2];
    uint8_t *x = malloc((size_t)B * T);
    int8_t *y = malloc((size_t)B * T);
    float *g, *gs, *gpart, *partials;
    double shares[3], loss, loss_sharded;
    struct tadd_batch_plan plan;
    size_t pf;
    int n;

    make_model(&m, 5.0f);
    g = malloc(m.n_params * sizeof(float));
    gs = malloc(m.n_params * sizeof(float));
    gpart = malloc(m.n_params * sizeof(float));
    ws[0] = tadd_workspace_new(&m.cfg, B);
    ws[1] = tadd_workspace_new(&m.cfg, B);
    REQUIRE(x && y && g && gs && gpart && ws[0] && ws[1]);
    n = tadd_model_shard_count(B);
    CHECK(n == 3);
    CHECK(tadd_model_shard_count(S) == 1 && tadd_model_shard_count(1) == 1);
    pf = tadd_model_shard_floats(ws[0]);
    partials = malloc((size_t)n * pf * sizeof(float));
    REQUIRE(partials);
    make_batch(x, y, B, 5);

    loss = tadd_model_step(&m, ws[0], x, y, B, g, NULL);
    tadd_model_plan_batch(&plan, y, B);
    CHECK_INT_EQ(plan.count, (long)B * TADD_ANSWER_POSITIONS);
    CHECK_INT_EQ(plan.nq, TADD_ANSWER_POSITIONS);
    CHECK_INT_EQ(plan.qpos[0], TADD_FIRST_ANSWER_POS);
    for (int s = n - 1; s >= 0; s--)
        shares[s] = tadd_model_shard_grad(&m, ws[s % 2], x, y, B, &plan, s,
                                          partials + (size_t)s * pf);
    loss_sharded = tadd_model_shard_sum(&m, ws[1], partials, shares, n, gs);
    CHECK(loss_sharded == loss);
    CHECK(memcmp(g, gs, m.n_params * sizeof(float)) == 0);

    /* Every sequence has 12 labels: shard s weighs its size over B. */
    for (size_t i = 0; i < m.n_params; i++)
        gs[i] = 0;
    for (int s = 0; s < n; s++) {
        int nb = s < n - 1 ? S : B - s * S;
        tadd_model_step(&m, ws[0], x + (size_t)s * S * T,
                        y + (size_t)s * S * T, nb, gpart, NULL);
        for (size_t i = 0; i < m.n_params; i++)
            gs[i] += (float)((double)gpart[i] * nb / B);
    }
    for (size_t i = 0; i < m.n_params; i++)
        CHECK_NEAR(g[i], gs[i], 1e-5, 1e-4);

    free(partials);
    free(gpart);
    free(gs);
    free(g);
    free(y);
    free(x);
    tadd_workspace_free(ws[1]);
    tadd_workspace_free(ws[0]);
    tadd_model_destroy(&m);
}

/*
 * Greedy decoding with its key/value cache against the full teacher-forced
 * pass over the decoded sequence: same tokens, and its argmax at the answer
 * positions reproduces them.
 */
static void test_greedy(void)
{
    enum { B = MODEL_LANES + 5, N = TADD_ANSWER_POSITIONS };
    struct tadd_model m;
    struct tadd_workspace *ws;
    uint8_t x[B * T], prompt[B * NP], out[B * N], pred[B * N];
    int8_t y[B * T];
    int distinct = 0;

    make_model(&m, 25.0f);
    ws = tadd_workspace_new(&m.cfg, B);
    REQUIRE(ws);
    make_batch(x, y, B, 4);
    for (int b = 0; b < B; b++)
        memcpy(prompt + b * NP, x + b * T, NP);
    tadd_model_greedy(&m, ws, prompt, B, N, out);
    for (int b = 0; b < B; b++)
        memcpy(x + b * T + NP, out + b * N, T - NP);
    tadd_model_argmax_answer(&m, ws, x, B, pred);
    CHECK(memcmp(pred, out, sizeof(out)) == 0);
    for (int i = 1; i < B * N; i++)
        distinct += out[i] != out[0];
    CHECK(distinct > 0);

    /* Fewer new tokens are a prefix of more. */
    {
        uint8_t few[B * 3];
        tadd_model_greedy(&m, ws, prompt, B, 3, few);
        for (int b = 0; b < B; b++)
            CHECK(memcmp(few + b * 3, out + b * N, 3) == 0);
    }
    tadd_workspace_free(ws);
    tadd_model_destroy(&m);
}

int main(void)
{
    test_gelu();
    test_cross_entropy();
    test_chunks();
    test_plan();
    test_shards();
    test_greedy();
    CHECK_DONE();
}
