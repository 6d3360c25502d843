/*
 * Parameter counts of SPEC section 2's table and of the golden cases, by
 * the closed formula and by the built tensor table; the table's names,
 * shapes and layout; initialisation statistics and determinism.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "config.h"
#include "model.h"
#include "rng.h"

struct row {
    int d, f, pos, qkv, out, ffn;
    int rmsnorm, tied;
    size_t params;
};

/* SPEC section 2's table (defaults otherwise: L 1, h 1, fixed flags on). */
static const struct row spec_rows[] = {
    {8, 28, 0, 0, 0, 0, 0, 0, 1128}, {8, 28, 0, 0, 0, 3, 0, 0, 896},
    {8, 28, 0, 0, 0, 3, 1, 0, 872},  {8, 28, 6, 0, 0, 3, 0, 0, 878},
    {8, 16, 0, 0, 0, 3, 0, 0, 824},  {8, 28, 0, 3, 3, 3, 0, 0, 784},
    {7, 28, 0, 0, 0, 3, 0, 0, 777},  {7, 14, 0, 0, 0, 0, 0, 0, 763},
    {7, 14, 3, 3, 3, 3, 0, 0, 512},  {7, 14, 3, 3, 2, 3, 0, 0, 498},
    {7, 14, 3, 3, 2, 3, 1, 1, 456},
};

static struct tadd_model_config row_config(const struct row *r)
{
    struct tadd_config full;
    struct tadd_model_config c;

    tadd_config_defaults(&full);
    c = full.model;
    c.d_model = r->d;
    c.d_ff = r->f;
    c.pos_rank = r->pos;
    c.qkv_rank = r->qkv;
    c.attn_out_rank = r->out;
    c.ffn_rank = r->ffn;
    c.norm = r->rmsnorm ? TADD_NORM_RMSNORM : TADD_NORM_LAYERNORM;
    c.qkv_tie = r->tied ? TADD_QKV_TIE_SHAREA_TIEKV : TADD_QKV_TIE_NONE;
    return c;
}

/* Checks a built table: counts, contiguous offsets, trainable first. */
static void check_table(const struct tadd_model *m, size_t want)
{
    size_t trainable = 0, fixed = 0;
    int seen_fixed = 0;

    for (int i = 0; i < m->n_tensors; i++) {
        const struct tadd_tensor_info *t = &m->tensors[i];
        size_t numel = (size_t)t->shape[0] *
                       (size_t)(t->ndim == 2 ? t->shape[1] : 1);
        CHECK_INT_EQ(t->numel, numel);
        if (t->trainable) {
            CHECK(!seen_fixed);
            CHECK_INT_EQ(t->offset, trainable);
            trainable += t->numel;
        } else {
            seen_fixed = 1;
            CHECK(strstr(t->name, ".W_fixed") != NULL);
            CHECK_INT_EQ(t->offset, fixed);
            fixed += t->numel;
        }
        CHECK(tadd_model_find(m, t->name) == t);
    }
    CHECK_INT_EQ(trainable, want);
    CHECK_INT_EQ(m->n_params, want);
    CHECK_INT_EQ(m->n_fixed, fixed);
}

static void test_spec_table(void)
{
    for (size_t i = 0; i < sizeof(spec_rows) / sizeof(spec_rows[0]); i++) {
        struct tadd_model_config c = row_config(&spec_rows[i]);
        char err[TADD_ERR_LEN];
        struct tadd_model m;

        REQUIRE(tadd_model_config_validate(&c, err, sizeof(err)) == 0);
        CHECK_INT_EQ(tadd_model_param_count(&c), spec_rows[i].params);
        REQUIRE(tadd_model_create(&m, &c) == 0);
        check_table(&m, spec_rows[i].params);
        tadd_model_destroy(&m);
    }
}

static void expect_shape(const struct tadd_model *m, const char *name,
                         int64_t d0, int64_t d1)
{
    const struct tadd_tensor_info *t = tadd_model_find(m, name);
    if (!t) {
        CHECK_FAIL_("no tensor %s", name);
        return;
    }
    CHECK_INT_EQ(t->ndim, d1 ? 2 : 1);
    CHECK_INT_EQ(t->shape[0], d0);
    CHECK_INT_EQ(t->shape[1], d1);
}

/* SPEC section 6's names and shapes for a few layouts. */
static void test_names(void)
{
    struct tadd_model m;
    struct tadd_model_config c = row_config(&spec_rows[1]); /* baseline */

    REQUIRE(tadd_model_create(&m, &c) == 0);
    expect_shape(&m, "token_emb.weight", 14, 8);
    expect_shape(&m, "pos_emb.weight", 33, 8);
    expect_shape(&m, "blocks.0.ln1.weight", 8, 0);
    expect_shape(&m, "blocks.0.ln1.bias", 8, 0);
    expect_shape(&m, "blocks.0.ln2.bias", 8, 0);
    expect_shape(&m, "blocks.0.attn.qkv.weight", 8, 24);
    expect_shape(&m, "blocks.0.attn.proj.weight", 8, 8);
    expect_shape(&m, "blocks.0.mlp.fc1.A", 8, 3);
    expect_shape(&m, "blocks.0.mlp.fc1.B", 3, 28);
    expect_shape(&m, "blocks.0.mlp.fc1.W_fixed", 8, 28);
    expect_shape(&m, "blocks.0.mlp.fc2.A", 28, 3);
    expect_shape(&m, "blocks.0.mlp.fc2.B", 3, 8);
    expect_shape(&m, "blocks.0.mlp.fc2.W_fixed", 28, 8);
    expect_shape(&m, "ln_f.weight", 8, 0);
    expect_shape(&m, "ln_f.bias", 8, 0);
    CHECK_INT_EQ(m.n_tensors, 16);
    CHECK_INT_EQ(m.n_fixed, 2 * 8 * 28);
    tadd_model_destroy(&m);

    /* The last row: rmsnorm (no biases), tied qkv, low-rank pos. */
    c = row_config(&spec_rows[10]);
    c.n_layer = 2;
    REQUIRE(tadd_model_create(&m, &c) == 0);
    expect_shape(&m, "pos_emb.A", 33, 3);
    expect_shape(&m, "pos_emb.B", 3, 7);
    expect_shape(&m, "blocks.1.attn.qkv_A", 7, 3);
    expect_shape(&m, "blocks.1.attn.qkv_Bq", 3, 7);
    expect_shape(&m, "blocks.1.attn.qkv_Bkv", 3, 7);
    expect_shape(&m, "blocks.1.attn.proj.A", 7, 2);
    expect_shape(&m, "blocks.1.attn.proj.B", 2, 7);
    expect_shape(&m, "blocks.1.attn.proj.W_fixed", 7, 7);
    CHECK(tadd_model_find(&m, "blocks.0.ln1.bias") == NULL);
    CHECK(tadd_model_find(&m, "ln_f.bias") == NULL);
    CHECK(tadd_model_find(&m, "blocks.0.attn.qkv.W_fixed") == NULL);
    CHECK(tadd_model_find(&m, "pos_emb.weight") == NULL);
    CHECK_INT_EQ(m.n_params, 2 * 456 - (14 * 7 + 3 * (33 + 7) + 7));
    tadd_model_destroy(&m);

    /* A full-rank layer ignores its fixed flag. */
    c = row_config(&spec_rows[0]);
    REQUIRE(tadd_model_create(&m, &c) == 0);
    CHECK_INT_EQ(m.n_fixed, 0);
    tadd_model_destroy(&m);
}

/* index.json's params for every golden case, from its config.json. */
static void test_golden_counts(void)
{
    const char *gdir = getenv("TADD_GOLDEN_DIR");
    char path[1024], err[TADD_ERR_LEN];
    const cJSON *c;
    cJSON *index;
    char *text;
    FILE *f;
    long n;
    int cases = 0;

    REQUIRE(gdir);
    snprintf(path, sizeof(path), "%s/index.json", gdir);
    f = fopen(path, "rb");
    REQUIRE(f);
    REQUIRE(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0);
    rewind(f);
    text = calloc(1, (size_t)n + 1);
    REQUIRE(text && fread(text, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    index = cJSON_Parse(text);
    free(text);
    REQUIRE(index);

    cJSON_ArrayForEach(c, index) {
        struct tadd_config full;
        struct tadd_model_config mc;
        struct tadd_model m;
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "params");
        cJSON *cj;

        snprintf(path, sizeof(path), "%s/%s/config.json", gdir, c->string);
        f = fopen(path, "rb");
        REQUIRE(f);
        REQUIRE(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0);
        rewind(f);
        text = calloc(1, (size_t)n + 1);
        REQUIRE(text && fread(text, 1, (size_t)n, f) == (size_t)n);
        fclose(f);
        cj = cJSON_Parse(text);
        free(text);
        REQUIRE(cj && cJSON_IsNumber(want));

        tadd_config_defaults(&full);
        mc = full.model;
        REQUIRE(tadd_model_config_from_json(&mc, cj, "", err, sizeof(err)) ==
                0);
        cJSON_Delete(cj);
        CHECK_INT_EQ(tadd_model_param_count(&mc), want->valueint);
        REQUIRE(tadd_model_create(&m, &mc) == 0);
        check_table(&m, (size_t)want->valueint);
        tadd_model_destroy(&m);
        cases++;
    }
    CHECK(cases >= 5);
    cJSON_Delete(index);
}

/* Mean and standard deviation of a tensor's values. */
static void stats(const float *v, size_t n, double *mean, double *sd)
{
    double s = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        s += v[i];
        s2 += (double)v[i] * v[i];
    }
    *mean = s / (double)n;
    *sd = sqrt(s2 / (double)n - *mean * *mean);
}

static void expect_init(struct tadd_model *m, const char *name, double sd)
{
    const struct tadd_tensor_info *t = tadd_model_find(m, name);
    double mean, got;

    REQUIRE(t);
    stats(tadd_model_tensor_data(m, t), t->numel, &mean, &got);
    /* Loose bounds: a few hundred draws estimate sd to ~10%. */
    if (!(fabs(got - sd) < 0.25 * sd && fabs(mean) < 4 * sd / sqrt(t->numel)))
        CHECK_FAIL_("%s: mean %.4g sd %.4g, want sd %.4g", name, mean, got,
                    sd);
}

static void test_init(void)
{
    struct tadd_model_config c = row_config(&spec_rows[1]); /* baseline */
    struct tadd_model a, b;
    struct tadd_rng r;
    const struct tadd_tensor_info *t;

    c.pos_rank = 6;
    REQUIRE(tadd_model_create(&a, &c) == 0);
    REQUIRE(tadd_model_create(&b, &c) == 0);
    tadd_rng_seed(&r, 42, TADD_STREAM_INIT, 0);
    tadd_model_init(&a, &r);
    tadd_rng_seed(&r, 42, TADD_STREAM_INIT, 0);
    tadd_model_init(&b, &r);
    CHECK(memcmp(a.params, b.params, a.n_params * sizeof(float)) == 0);
    CHECK(memcmp(a.fixed, b.fixed, a.n_fixed * sizeof(float)) == 0);

    expect_init(&a, "token_emb.weight", 0.02);
    expect_init(&a, "pos_emb.A", 0.02);
    expect_init(&a, "pos_emb.B", 0.02);
    expect_init(&a, "blocks.0.attn.qkv.weight", 0.02);
    expect_init(&a, "blocks.0.mlp.fc1.A", sqrt(2.0 / (8 + 3)));
    expect_init(&a, "blocks.0.mlp.fc1.B", sqrt(2.0 / (3 + 28)));
    expect_init(&a, "blocks.0.mlp.fc2.A", sqrt(2.0 / (28 + 3)));
    expect_init(&a, "blocks.0.mlp.fc1.W_fixed", 0.02);
    t = tadd_model_find(&a, "blocks.0.ln1.weight");
    for (size_t i = 0; i < t->numel; i++)
        CHECK(tadd_model_tensor_data(&a, t)[i] == 1.0f);
    t = tadd_model_find(&a, "ln_f.bias");
    for (size_t i = 0; i < t->numel; i++)
        CHECK(tadd_model_tensor_data(&a, t)[i] == 0.0f);

    /* The draws follow the table: the first value of token_emb is the
     * first normal of the stream. */
    tadd_rng_seed(&r, 42, TADD_STREAM_INIT, 0);
    CHECK(a.params[0] == (float)(0.02 * tadd_rng_normal(&r)));

    /* Another seed, other weights. */
    tadd_rng_seed(&r, 43, TADD_STREAM_INIT, 0);
    tadd_model_init(&b, &r);
    CHECK(memcmp(a.params, b.params, a.n_params * sizeof(float)) != 0);
    tadd_model_destroy(&a);
    tadd_model_destroy(&b);
}

int main(void)
{
    test_spec_table();
    test_names();
    test_golden_counts();
    test_init();
    CHECK_DONE();
}
