/*
 * Evaluation: tadd_eval_pairs against a slow reference that decodes every
 * pair greedily, one at a time, on models from tadd_model_init and on the
 * same models pushed towards emitting the digit 0 so that some pairs are
 * exact and some are not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "data.h"
#include "eval.h"
#include "model.h"
#include "rng.h"

enum { N_PAIRS = 300, MAX_BATCH = 64, MAX_FAIL = 16 };

struct reference {
    size_t n_exact;
    size_t digits_correct;
    size_t n_fail;
    struct tadd_eval_failure fail[N_PAIRS];
};

static void baseline_config(struct tadd_model_config *c)
{
    memset(c, 0, sizeof *c);
    c->n_layer = 1;
    c->d_model = 8;
    c->n_head = 1;
    c->d_ff = 28;
    c->ffn_rank = 3;
    c->fixed_full_rank_attn = 1;
    c->fixed_full_rank_mlp = 1;
    c->norm = TADD_NORM_LAYERNORM;
    c->qkv_tie = TADD_QKV_TIE_NONE;
}

static void two_layer_config(struct tadd_model_config *c)
{
    baseline_config(c);
    c->n_layer = 2;
    c->n_head = 2;
    c->pos_rank = 3;
    c->qkv_rank = 3;
    c->attn_out_rank = 2;
}

static void tied_rmsnorm_config(struct tadd_model_config *c)
{
    baseline_config(c);
    c->d_model = 7;
    c->d_ff = 14;
    c->pos_rank = 3;
    c->qkv_rank = 3;
    c->attn_out_rank = 2;
    c->norm = TADD_NORM_RMSNORM;
    c->qkv_tie = TADD_QKV_TIE_SHAREA_TIEKV;
}

/* Greedy decoding of every pair alone: SPEC section 3 as written. */
static void reference_eval(struct reference *ref, const struct tadd_model *m,
                           struct tadd_workspace *ws,
                           const struct tadd_pair *pairs, int n)
{
    memset(ref, 0, sizeof *ref);
    for (int i = 0; i < n; i++) {
        uint8_t prompt[TADD_PROMPT_LEN], out[TADD_ANSWER_DIGITS];
        uint8_t truth[TADD_ANSWER_DIGITS];
        int right = 0;

        tadd_data_encode_prompt(prompt, pairs[i].a, pairs[i].b);
        tadd_data_answer_digits(truth, pairs[i].a, pairs[i].b);
        tadd_model_greedy(m, ws, prompt, 1, TADD_ANSWER_DIGITS, out);
        for (int d = 0; d < TADD_ANSWER_DIGITS; d++)
            right += out[d] == truth[d];
        ref->digits_correct += (size_t)right;
        if (right == TADD_ANSWER_DIGITS) {
            ref->n_exact++;
            continue;
        }
        struct tadd_eval_failure *f = &ref->fail[ref->n_fail++];
        f->a = pairs[i].a;
        f->b = pairs[i].b;
        f->truth = pairs[i].a + pairs[i].b;
        /* The number per SPEC section 1, read here by hand. */
        f->predicted = 0;
        uint64_t scale = 1;
        for (int d = 0; d < TADD_ANSWER_DIGITS && out[d] <= 9; d++) {
            f->predicted += out[d] * scale;
            scale *= 10;
        }
    }
}

/* Half uniform 10-digit pairs, half pairs whose sums are mostly zeros. */
static void make_pairs(struct tadd_pair *pairs, int n, uint64_t seed)
{
    struct tadd_rng r;

    tadd_rng_seed(&r, seed, 77, 0);
    for (int i = 0; i < n; i++) {
        if (i % 2 == 0) {
            pairs[i].a = tadd_rng_below(&r, TADD_OPERAND_LIMIT);
            pairs[i].b = tadd_rng_below(&r, TADD_OPERAND_LIMIT);
        } else if (i % 6 == 1) {
            pairs[i].a = 0;
            pairs[i].b = 0;
        } else {
            pairs[i].a = tadd_rng_below(&r, 10);
            pairs[i].b = tadd_rng_below(&r, 10) * 1000;
        }
    }
}

/*
 * Pushes the model towards the token 0: the tied head scores token j by
 * <norm_f(x), e_j>, so adding k * u to ln_f.bias and 10 * u to e_0, for a
 * unit vector u, raises token 0's logit by about 10 k everywhere.
 */
static void bias_towards_zero(struct tadd_model *m, double k)
{
    const struct tadd_tensor_info *emb = tadd_model_find(m, "token_emb.weight");
    const struct tadd_tensor_info *bias = tadd_model_find(m, "ln_f.bias");
    int d = m->cfg.d_model;

    REQUIRE(emb && bias);
    float *e = tadd_model_tensor_data(m, emb);
    float *b = tadd_model_tensor_data(m, bias);
    /* u = the first axis; e_0 is row 0 of token_emb (V, C). */
    e[0] += 10.0f;
    for (int c = 0; c < d; c++)
        b[c] = c == 0 ? (float)k : 0.0f;
}

static int compare_with_reference(const struct tadd_model *m,
                                  struct tadd_workspace *ws,
                                  const struct tadd_pair *pairs, int n,
                                  int batch)
{
    struct reference ref;
    struct tadd_eval_result res;
    struct tadd_eval_failure fail[MAX_FAIL];
    char err[TADD_ERR_LEN];

    reference_eval(&ref, m, ws, pairs, n);
    memset(fail, 0xab, sizeof fail);
    REQUIRE(tadd_eval_pairs(&res, fail, MAX_FAIL, m, ws, batch, pairs,
                            (size_t)n, err, sizeof err) == 0);
    CHECK_INT_EQ(res.n_pairs, n);
    CHECK_INT_EQ(res.n_exact, ref.n_exact);
    CHECK_INT_EQ(res.n_errors, n - ref.n_exact);
    CHECK_INT_EQ(res.digits_correct, ref.digits_correct);
    CHECK_NEAR(res.exact, (double)ref.n_exact / n, 1e-15, 0);
    CHECK_NEAR(res.token_acc, (double)ref.digits_correct / (11.0 * n),
               1e-15, 0);
    int want_fail = ref.n_fail < MAX_FAIL ? (int)ref.n_fail : MAX_FAIL;
    CHECK_INT_EQ(res.n_failures, want_fail);
    for (int i = 0; i < res.n_failures && i < want_fail; i++) {
        CHECK_INT_EQ(fail[i].a, ref.fail[i].a);
        CHECK_INT_EQ(fail[i].b, ref.fail[i].b);
        CHECK_INT_EQ(fail[i].predicted, ref.fail[i].predicted);
        CHECK_INT_EQ(fail[i].truth, ref.fail[i].truth);
    }
    return (int)ref.n_exact;
}

/*
 * Ever stronger pushes towards 0 of the model of seed: from hardly any
 * exact pair to the zero sums all exact. At least one step must be mixed,
 * so that the argmax path counts exact pairs and the greedy path counts
 * the others.
 */
static void test_pushed(struct tadd_model *m, struct tadd_workspace *ws,
                        const struct tadd_pair *pairs, uint64_t seed)
{
    const double ks[] = {0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 30.0};
    struct tadd_rng r;
    int mixed = 0;

    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        tadd_rng_seed(&r, seed, TADD_STREAM_INIT, 0);
        tadd_model_init(m, &r);
        bias_towards_zero(m, ks[i]);
        int exact = compare_with_reference(m, ws, pairs, N_PAIRS, 64);
        if (exact > 0 && exact < N_PAIRS)
            mixed++;
    }
    CHECK(mixed > 0);

    /* The strongest push emits zeros only: every digit that is 0 in the
     * answer is right, every other is wrong, and the zero sums are the
     * exact pairs. */
    struct tadd_eval_result res;
    struct tadd_eval_failure fail[MAX_FAIL];
    char err[TADD_ERR_LEN];
    size_t zeros = 0, zero_sums = 0;
    for (int i = 0; i < N_PAIRS; i++) {
        uint8_t digits[TADD_ANSWER_DIGITS];
        tadd_data_answer_digits(digits, pairs[i].a, pairs[i].b);
        for (int d = 0; d < TADD_ANSWER_DIGITS; d++)
            zeros += digits[d] == 0;
        zero_sums += pairs[i].a + pairs[i].b == 0;
    }
    REQUIRE(tadd_eval_pairs(&res, fail, MAX_FAIL, m, ws, MAX_BATCH, pairs,
                            N_PAIRS, err, sizeof err) == 0);
    CHECK_INT_EQ(res.digits_correct, zeros);
    CHECK_INT_EQ(res.n_exact, zero_sums);
    CHECK(zero_sums > 0);
    CHECK_INT_EQ(res.n_failures, MAX_FAIL);
    for (int i = 0; i < res.n_failures; i++)
        CHECK_INT_EQ(fail[i].predicted, 0);
}

/* push: also the pushed models (layernorm only: the push uses ln_f.bias). */
static void test_against_reference(const struct tadd_model_config *cfg,
                                   uint64_t seed, int push)
{
    struct tadd_model m;
    struct tadd_rng r;
    struct tadd_pair pairs[N_PAIRS];

    REQUIRE(tadd_model_create(&m, cfg) == 0);
    struct tadd_workspace *ws = tadd_workspace_new(cfg, MAX_BATCH);
    REQUIRE(ws != NULL);
    tadd_rng_seed(&r, seed, TADD_STREAM_INIT, 0);
    tadd_model_init(&m, &r);
    make_pairs(pairs, N_PAIRS, seed);

    /* As initialised; batches that do and do not divide the count. */
    compare_with_reference(&m, ws, pairs, N_PAIRS, MAX_BATCH);
    compare_with_reference(&m, ws, pairs, N_PAIRS, 7);
    compare_with_reference(&m, ws, pairs, 5, 1);
    if (push)
        test_pushed(&m, ws, pairs, seed);

    tadd_workspace_free(ws);
    tadd_model_destroy(&m);
}

static void test_arguments(void)
{
    struct tadd_model_config cfg;
    struct tadd_model m;
    struct tadd_rng r;
    struct tadd_eval_result res;
    struct tadd_pair bad[2] = {{1, 2}, {3, TADD_OPERAND_LIMIT}};
    char err[TADD_ERR_LEN];

    baseline_config(&cfg);
    REQUIRE(tadd_model_create(&m, &cfg) == 0);
    struct tadd_workspace *ws = tadd_workspace_new(&cfg, 8);
    REQUIRE(ws != NULL);
    tadd_rng_seed(&r, 1, TADD_STREAM_INIT, 0);
    tadd_model_init(&m, &r);

    CHECK_INT_EQ(tadd_eval_pairs(&res, NULL, 0, &m, ws, 8, bad, 2, err,
                                 sizeof err), -1);
    CHECK_STR_HAS(err, "pair 1");
    CHECK_INT_EQ(tadd_eval_pairs(&res, NULL, 0, &m, ws, 0, bad, 1, err,
                                 sizeof err), -1);
    CHECK_STR_HAS(err, "batch 0");
    CHECK_INT_EQ(tadd_eval_pairs(&res, NULL, 3, &m, ws, 8, bad, 1, err,
                                 sizeof err), -1);
    CHECK_STR_HAS(err, "3 failures");

    /* No pairs: zero counts, zero rates. */
    CHECK_INT_EQ(tadd_eval_pairs(&res, NULL, 0, &m, ws, 8, bad, 0, err,
                                 sizeof err), 0);
    CHECK_INT_EQ(res.n_pairs, 0);
    CHECK_NEAR(res.exact, 0, 0, 0);
    CHECK_NEAR(res.token_acc, 0, 0, 0);

    tadd_workspace_free(ws);
    tadd_model_destroy(&m);
}

/* 100,000 pairs on a model that gets them all right, timed. */
static void test_speed(void)
{
    enum { N = 100000, BATCH = 512 };
    struct tadd_model_config cfg;
    struct tadd_model m;
    struct tadd_rng r;
    struct tadd_eval_result res;
    char err[TADD_ERR_LEN];
    struct timespec t0, t1;

    baseline_config(&cfg);
    REQUIRE(tadd_model_create(&m, &cfg) == 0);
    struct tadd_workspace *ws = tadd_workspace_new(&cfg, BATCH);
    REQUIRE(ws != NULL);
    tadd_rng_seed(&r, 3, TADD_STREAM_INIT, 0);
    tadd_model_init(&m, &r);
    bias_towards_zero(&m, 30.0);

    struct tadd_pair *pairs = calloc(N, sizeof *pairs);
    REQUIRE(pairs != NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    REQUIRE(tadd_eval_pairs(&res, NULL, 0, &m, ws, BATCH, pairs, N, err,
                            sizeof err) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) +
                 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fprintf(stderr, "eval of %d exact pairs: %.3f s\n", N, sec);
    CHECK_INT_EQ(res.n_exact, N);
    CHECK_INT_EQ(res.digits_correct, (size_t)N * 11);

    free(pairs);
    tadd_workspace_free(ws);
    tadd_model_destroy(&m);
}

int main(void)
{
    struct tadd_model_config cfg;

    baseline_config(&cfg);
    test_against_reference(&cfg, 42, 1);
    test_against_reference(&cfg, 7, 1);
    two_layer_config(&cfg);
    test_against_reference(&cfg, 42, 1);
    tied_rmsnorm_config(&cfg);
    test_against_reference(&cfg, 5, 0);
    test_arguments();
    test_speed();
    CHECK_DONE();
}
