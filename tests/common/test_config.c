/*
 * Model and training configuration: SPEC's defaults, parsing with key paths
 * in every error, range and cross-field checks, JSON round trips.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "check.h"

/* Applies JSON text at path onto cfg; returns the rc and leaves the
 * message in err. */
static int apply_text(struct tadd_config *cfg, const char *text,
                      const char *path, char *err, size_t errlen)
{
    cJSON *j = cJSON_Parse(text);
    int rc;

    REQUIRE(j != NULL);
    rc = tadd_config_apply_json(cfg, j, path, err, errlen);
    cJSON_Delete(j);
    return rc;
}

/* The text must be refused with an error holding want, and the config must
 * be left exactly as it was. */
static void expect_refused(const char *text, const char *want)
{
    struct tadd_config cfg, before;
    char err[TADD_ERR_LEN] = "";

    tadd_config_defaults(&cfg);
    before = cfg;
    CHECK_INT_EQ(apply_text(&cfg, text, "base", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, want);
    CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
}

static void expect_invalid(const char *text, const char *want)
{
    struct tadd_config cfg;
    char err[TADD_ERR_LEN] = "";

    tadd_config_defaults(&cfg);
    REQUIRE(apply_text(&cfg, text, "base", err, sizeof(err)) == 0);
    CHECK_INT_EQ(tadd_config_validate(&cfg, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, want);
}

static void test_defaults(void)
{
    struct tadd_config c;
    char err[TADD_ERR_LEN] = "";

    tadd_config_defaults(&c);
    CHECK_INT_EQ(c.model.n_layer, 1);
    CHECK_INT_EQ(c.model.d_model, 8);
    CHECK_INT_EQ(c.model.n_head, 1);
    CHECK_INT_EQ(c.model.d_ff, 28);
    CHECK_INT_EQ(c.model.pos_rank, 0);
    CHECK_INT_EQ(c.model.qkv_rank, 0);
    CHECK_INT_EQ(c.model.attn_out_rank, 0);
    CHECK_INT_EQ(c.model.ffn_rank, 3);
    CHECK_INT_EQ(c.model.fixed_full_rank_attn, 1);
    CHECK_INT_EQ(c.model.fixed_full_rank_mlp, 1);
    CHECK_INT_EQ(c.model.norm, TADD_NORM_LAYERNORM);
    CHECK_INT_EQ(c.model.qkv_tie, TADD_QKV_TIE_NONE);
    CHECK_INT_EQ(c.train.batch_size, 512);
    CHECK(c.train.lr == 0.015);
    CHECK(c.train.weight_decay == 0.01);
    CHECK_INT_EQ(c.train.warmup_steps, 1350);
    CHECK(c.train.min_lr_ratio == 0.1);
    CHECK(c.train.grad_clip == 1.0);
    CHECK_INT_EQ(c.train.train_steps, 30000);
    CHECK_INT_EQ(c.train.eval_interval, 500);
    CHECK_INT_EQ(c.train.val_size, 5000);
    CHECK_INT_EQ(c.train.test_size, 10000);
    CHECK_INT_EQ(c.train.n_phases, 3);
    CHECK_INT_EQ(c.train.curriculum[0].min_digits, 1);
    CHECK_INT_EQ(c.train.curriculum[0].max_digits, 3);
    CHECK_INT_EQ(c.train.curriculum[0].steps, 2000);
    CHECK_INT_EQ(c.train.curriculum[1].max_digits, 6);
    CHECK_INT_EQ(c.train.curriculum[1].steps, 5000);
    CHECK_INT_EQ(c.train.curriculum[2].max_digits, 10);
    CHECK_INT_EQ(c.train.curriculum[2].steps, 20000);
    CHECK_INT_EQ(tadd_config_validate(&c, err, sizeof(err)), 0);
}

static void test_apply(void)
{
    struct tadd_config c;
    char err[TADD_ERR_LEN] = "";

    tadd_config_defaults(&c);
    CHECK_INT_EQ(apply_text(&c,
        "{\"d_model\": 7.0, \"d_ff\": 14, \"pos_rank\": 3, \"qkv_rank\": 3,"
        " \"attn_out_rank\": 2, \"norm\": \"rmsnorm\","
        " \"qkv_tie\": \"shareA_tieKV\", \"fixed_full_rank_attn\": false,"
        " \"fixed_full_rank_mlp\": false, \"n_layer\": 2, \"n_head\": 1,"
        " \"batch_size\": 384, \"lr\": 0.0135, \"weight_decay\": 0,"
        " \"warmup_steps\": 0, \"min_lr_ratio\": 1, \"grad_clip\": 0.5,"
        " \"train_steps\": 100, \"eval_interval\": 10, \"val_size\": 50,"
        " \"test_size\": 60, \"curriculum\": [[2, 4, 10], [1, 10, 5]]}",
        "base", err, sizeof(err)), 0);
    CHECK_INT_EQ(c.model.d_model, 7);
    CHECK_INT_EQ(c.model.d_ff, 14);
    CHECK_INT_EQ(c.model.pos_rank, 3);
    CHECK_INT_EQ(c.model.attn_out_rank, 2);
    CHECK_INT_EQ(c.model.norm, TADD_NORM_RMSNORM);
    CHECK_INT_EQ(c.model.qkv_tie, TADD_QKV_TIE_SHAREA_TIEKV);
    CHECK_INT_EQ(c.model.fixed_full_rank_attn, 0);
    CHECK_INT_EQ(c.model.fixed_full_rank_mlp, 0);
    CHECK_INT_EQ(c.model.n_layer, 2);
    CHECK_INT_EQ(c.train.batch_size, 384);
    CHECK(c.train.lr == 0.0135);
    CHECK(c.train.weight_decay == 0.0);
    CHECK_INT_EQ(c.train.warmup_steps, 0);
    CHECK(c.train.min_lr_ratio == 1.0);
    CHECK(c.train.grad_clip == 0.5);
    CHECK_INT_EQ(c.train.train_steps, 100);
    CHECK_INT_EQ(c.train.eval_interval, 10);
    CHECK_INT_EQ(c.train.val_size, 50);
    CHECK_INT_EQ(c.train.test_size, 60);
    CHECK_INT_EQ(c.train.n_phases, 2);
    CHECK_INT_EQ(c.train.curriculum[0].min_digits, 2);
    CHECK_INT_EQ(c.train.curriculum[0].max_digits, 4);
    CHECK_INT_EQ(c.train.curriculum[1].steps, 5);
    CHECK_INT_EQ(tadd_config_validate(&c, err, sizeof(err)), 0);

    /* An empty object changes nothing. */
    {
        struct tadd_config d, before;
        tadd_config_defaults(&d);
        before = d;
        CHECK_INT_EQ(apply_text(&d, "{}", "", err, sizeof(err)), 0);
        CHECK(memcmp(&d, &before, sizeof(d)) == 0);
    }
    /* Top-level path: the key alone. */
    tadd_config_defaults(&c);
    CHECK_INT_EQ(apply_text(&c, "{\"lr\": -1}", "", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "lr: must be a positive number");
    CHECK(strncmp(err, "lr:", 3) == 0);
}

static void test_refusals(void)
{
    expect_refused("{\"lr\": -1}", "base.lr: must be a positive number");
    expect_refused("{\"lr\": -1}", "got -1");
    expect_refused("{\"lr\": 0}", "base.lr");
    expect_refused("{\"lr\": 11}", "base.lr");
    expect_refused("{\"lr\": 1e999}", "base.lr");
    expect_refused("{\"lr\": \"0.01\"}", "base.lr: must be a positive number");
    expect_refused("{\"lr\": \"0.01\"}", "got \"0.01\"");
    expect_refused("{\"lr\": null}", "got null");
    expect_refused("{\"d_model\": 8.5}",
                   "base.d_model: must be an integer in 1..256, got 8.5");
    expect_refused("{\"d_model\": 0}", "base.d_model");
    expect_refused("{\"d_model\": 257}", "base.d_model");
    expect_refused("{\"d_model\": \"8\"}", "base.d_model");
    expect_refused("{\"d_model\": true}", "got true");
    expect_refused("{\"n_layer\": 17}", "base.n_layer: must be an integer in "
                   "1..16");
    expect_refused("{\"ffn_rank\": -1}", "base.ffn_rank");
    expect_refused("{\"batch_size\": 65537}", "base.batch_size");
    expect_refused("{\"batch_size\": 0}", "base.batch_size");
    expect_refused("{\"weight_decay\": -0.1}",
                   "base.weight_decay: must be a number in [0, 10]");
    expect_refused("{\"min_lr_ratio\": 1.5}", "base.min_lr_ratio");
    expect_refused("{\"grad_clip\": 0}", "base.grad_clip");
    expect_refused("{\"warmup_steps\": -1}", "base.warmup_steps");
    expect_refused("{\"train_steps\": 0}", "base.train_steps");
    expect_refused("{\"train_steps\": 1e10}", "base.train_steps");
    expect_refused("{\"eval_interval\": 0}", "base.eval_interval");
    expect_refused("{\"val_size\": 0}", "base.val_size");
    expect_refused("{\"test_size\": 2000000}", "base.test_size");
    expect_refused("{\"fixed_full_rank_mlp\": 1}",
                   "base.fixed_full_rank_mlp: must be true or false, got 1");
    expect_refused("{\"fixed_full_rank_attn\": \"true\"}",
                   "base.fixed_full_rank_attn");
    expect_refused("{\"norm\": \"batchnorm\"}",
                   "base.norm: must be \"layernorm\" or \"rmsnorm\", got "
                   "\"batchnorm\"");
    expect_refused("{\"norm\": 1}", "base.norm");
    expect_refused("{\"qkv_tie\": \"shareA\"}", "base.qkv_tie");
    expect_refused("{\"d_modle\": 8}", "base.d_modle: unknown field");
    expect_refused("{\"seed\": 8}", "base.seed: unknown field");
    expect_refused("{\"lr\": 0.01, \"lr\": 0.02}", "base.lr: given twice");
    expect_refused("[1]", "base: must be an object");
    expect_refused("3", "base: must be an object");
    /* The first error wins; keys before it are not half-applied. */
    expect_refused("{\"d_model\": 16, \"lr\": -1}", "base.lr");

    expect_refused("{\"curriculum\": []}", "base.curriculum: must be a list");
    expect_refused("{\"curriculum\": 3}", "base.curriculum: must be a list");
    expect_refused("{\"curriculum\": [[1,3,100],[1,2]]}",
                   "base.curriculum[1]: must be [min_digits, max_digits, "
                   "steps]");
    expect_refused("{\"curriculum\": [[1,3,100],{\"a\":1}]}",
                   "base.curriculum[1]: must be");
    expect_refused("{\"curriculum\": [[0,3,100]]}",
                   "base.curriculum[0][0] (min_digits): must be an integer "
                   "in 1..10, got 0");
    expect_refused("{\"curriculum\": [[1,11,100]]}",
                   "base.curriculum[0][1] (max_digits)");
    expect_refused("{\"curriculum\": [[1,3,0]]}",
                   "base.curriculum[0][2] (steps)");
    expect_refused("{\"curriculum\": [[1,3,1.5]]}",
                   "base.curriculum[0][2] (steps)");
    expect_refused("{\"curriculum\": [[5,3,100]]}",
                   "base.curriculum[0]: min_digits 5 exceeds max_digits 3");
    expect_refused("{\"curriculum\": [[1,1,1],[1,1,1],[1,1,1],[1,1,1],"
                   "[1,1,1],[1,1,1],[1,1,1],[1,1,1],[1,1,1],[1,1,1],[1,1,1],"
                   "[1,1,1],[1,1,1],[1,1,1],[1,1,1],[1,1,1],[1,1,1]]}",
                   "base.curriculum: must be a list of 1 to 16");
}

static void test_validate(void)
{
    struct tadd_config c;
    char err[TADD_ERR_LEN] = "";

    expect_invalid("{\"d_model\": 8, \"n_head\": 3}",
                   "d_model 8 is not divisible by n_head 3");
    expect_invalid("{\"qkv_tie\": \"shareA_tieKV\"}",
                   "shareA_tieKV\" needs qkv_rank > 0");
    expect_invalid("{\"d_model\": 4, \"ffn_rank\": 5}", "ffn_rank 5");
    expect_invalid("{\"d_model\": 4, \"pos_rank\": 6}", "pos_rank 6");
    expect_invalid("{\"train_steps\": 1000}",
                   "warmup_steps 1350 must be below train_steps 1000");
    expect_invalid("{\"train_steps\": 1350}", "warmup_steps");

    /* A struct filled by hand is range-checked as well. */
    tadd_config_defaults(&c);
    c.train.lr = -1;
    CHECK_INT_EQ(tadd_config_validate(&c, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "lr");
    tadd_config_defaults(&c);
    c.model.n_layer = 0;
    CHECK_INT_EQ(tadd_config_validate(&c, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "n_layer 0");
    tadd_config_defaults(&c);
    c.train.n_phases = 0;
    CHECK_INT_EQ(tadd_config_validate(&c, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "curriculum");
    tadd_config_defaults(&c);
    c.train.curriculum[1].min_digits = 7;
    CHECK_INT_EQ(tadd_config_validate(&c, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "curriculum[1]");
    tadd_config_defaults(&c);
    c.model.norm = (enum tadd_norm)5;
    CHECK_INT_EQ(tadd_config_validate(&c, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "norm");
}

static void test_model_from_json(void)
{
    struct tadd_model_config m, before;
    char err[TADD_ERR_LEN] = "";
    const char *golden = getenv("TADD_GOLDEN_DIR");
    cJSON *j;

    /* Missing fields take the defaults. */
    j = cJSON_Parse("{\"d_model\": 7, \"d_ff\": 14}");
    REQUIRE(j != NULL);
    memset(&m, 0x5a, sizeof(m));
    CHECK_INT_EQ(tadd_model_config_from_json(&m, j, "model_config", err,
                                             sizeof(err)), 0);
    CHECK_INT_EQ(m.d_model, 7);
    CHECK_INT_EQ(m.d_ff, 14);
    CHECK_INT_EQ(m.ffn_rank, 3);
    CHECK_INT_EQ(m.n_layer, 1);
    CHECK_INT_EQ(m.fixed_full_rank_attn, 1);
    cJSON_Delete(j);

    /* Training fields do not belong in a model config. */
    j = cJSON_Parse("{\"d_model\": 7, \"lr\": 0.1}");
    REQUIRE(j != NULL);
    before = m;
    CHECK_INT_EQ(tadd_model_config_from_json(&m, j, "model_config", err,
                                             sizeof(err)), -1);
    CHECK_STR_HAS(err, "model_config.lr: a training field");
    CHECK(memcmp(&m, &before, sizeof(m)) == 0);
    cJSON_Delete(j);

    /* Cross-field rules are checked, naming the object. */
    j = cJSON_Parse("{\"d_model\": 7, \"n_head\": 2}");
    REQUIRE(j != NULL);
    CHECK_INT_EQ(tadd_model_config_from_json(&m, j, "ckpt.model_config",
                                             err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "ckpt.model_config: d_model 7 is not divisible");
    cJSON_Delete(j);

    j = cJSON_Parse("{\"bogus\": 1}");
    REQUIRE(j != NULL);
    CHECK_INT_EQ(tadd_model_config_from_json(&m, j, "model_config", err,
                                             sizeof(err)), -1);
    CHECK_STR_HAS(err, "model_config.bogus: unknown field");
    cJSON_Delete(j);

    /* A golden config of the independent implementation. */
    REQUIRE(golden != NULL);
    {
        char path[1024];
        FILE *f;
        char text[4096];
        size_t n;
        snprintf(path, sizeof(path), "%s/rmsnorm_shareA_tieKV_456/config.json",
                 golden);
        f = fopen(path, "r");
        REQUIRE(f != NULL);
        n = fread(text, 1, sizeof(text) - 1, f);
        text[n] = '\0';
        fclose(f);
        j = cJSON_Parse(text);
        REQUIRE(j != NULL);
        CHECK_INT_EQ(tadd_model_config_from_json(&m, j, path, err,
                                                 sizeof(err)), 0);
        CHECK_INT_EQ(m.d_model, 7);
        CHECK_INT_EQ(m.d_ff, 14);
        CHECK_INT_EQ(m.pos_rank, 3);
        CHECK_INT_EQ(m.qkv_rank, 3);
        CHECK_INT_EQ(m.attn_out_rank, 2);
        CHECK_INT_EQ(m.ffn_rank, 3);
        CHECK_INT_EQ(m.norm, TADD_NORM_RMSNORM);
        CHECK_INT_EQ(m.qkv_tie, TADD_QKV_TIE_SHAREA_TIEKV);
        CHECK_INT_EQ(m.fixed_full_rank_attn, 0);
        CHECK_INT_EQ(m.fixed_full_rank_mlp, 0);
        cJSON_Delete(j);
    }
}

static void test_json_roundtrip(void)
{
    struct tadd_config a, b;
    char err[TADD_ERR_LEN] = "";
    cJSON *j, *mj, *tj;
    char *text, *text2;

    tadd_config_defaults(&a);
    REQUIRE(apply_text(&a, "{\"d_model\": 7, \"norm\": \"rmsnorm\","
                       " \"lr\": 0.0135, \"curriculum\": [[1,2,3],[4,5,6]],"
                       " \"fixed_full_rank_mlp\": false}", "", err,
                       sizeof(err)) == 0);
    j = tadd_config_to_json(&a);
    REQUIRE(j != NULL);
    CHECK_INT_EQ(cJSON_GetArraySize(j), 23);
    text = cJSON_PrintUnformatted(j);
    REQUIRE(text != NULL);
    CHECK_STR_HAS(text, "\"lr\":0.0135");
    CHECK_STR_HAS(text, "\"curriculum\":[[1,2,3],[4,5,6]]");
    CHECK_STR_HAS(text, "\"norm\":\"rmsnorm\"");
    CHECK_STR_HAS(text, "\"fixed_full_rank_mlp\":false");
    CHECK(strncmp(text, "{\"n_layer\":1,\"d_model\":7,", 25) == 0);
    CHECK_INT_EQ(tadd_config_from_json(&b, j, "stored", err, sizeof(err)), 0);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    j = (cJSON_Delete(j), tadd_config_to_json(&b));
    text2 = cJSON_PrintUnformatted(j);
    CHECK_STR_EQ(text, text2);
    cJSON_Delete(j);
    free(text);
    free(text2);

    mj = tadd_model_config_to_json(&a.model);
    tj = tadd_train_config_to_json(&a.train);
    REQUIRE(mj && tj);
    CHECK_INT_EQ(cJSON_GetArraySize(mj), 12);
    CHECK_INT_EQ(cJSON_GetArraySize(tj), 11);
    CHECK(cJSON_GetObjectItemCaseSensitive(mj, "lr") == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(tj, "d_model") == NULL);
    {
        struct tadd_model_config m;
        CHECK_INT_EQ(tadd_model_config_from_json(&m, mj, "m", err,
                                                 sizeof(err)), 0);
        CHECK(memcmp(&m, &a.model, sizeof(m)) == 0);
    }
    cJSON_Delete(mj);
    cJSON_Delete(tj);

    /* from_json validates the result. */
    j = cJSON_Parse("{\"train_steps\": 10}");
    REQUIRE(j != NULL);
    CHECK_INT_EQ(tadd_config_from_json(&b, j, "stored", err, sizeof(err)),
                 -1);
    CHECK_STR_HAS(err, "stored: warmup_steps 1350");
    cJSON_Delete(j);
}

static void test_fields(void)
{
    const char *six[] = {"lr", "weight_decay", "warmup_steps",
                         "min_lr_ratio", "grad_clip"};
    int n_per_model = 0;
    const char *shared[] = {"n_layer", "d_model", "n_head", "d_ff",
                            "pos_rank", "qkv_rank", "attn_out_rank",
                            "ffn_rank", "fixed_full_rank_attn",
                            "fixed_full_rank_mlp", "norm", "qkv_tie",
                            "batch_size", "train_steps", "eval_interval",
                            "val_size", "test_size", "curriculum"};

    for (size_t i = 0; i < sizeof(six) / sizeof(six[0]); i++) {
        CHECK(tadd_config_is_field(six[i]));
        CHECK(tadd_config_is_per_model_field(six[i]));
    }
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
        CHECK(tadd_config_is_field(shared[i]));
        CHECK(!tadd_config_is_per_model_field(shared[i]));
    }
    /* seed is the sixth per-model field, but not a config field. */
    CHECK(!tadd_config_is_field("seed"));
    CHECK(tadd_config_is_per_model_field("seed"));
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        n_per_model += tadd_config_is_per_model_field(shared[i]);
    CHECK_INT_EQ(n_per_model, 0);
    CHECK(!tadd_config_is_field("name"));
    CHECK(!tadd_config_is_field(NULL));
    CHECK(!tadd_config_is_per_model_field("bogus"));
    CHECK_STR_EQ(tadd_norm_name(TADD_NORM_RMSNORM), "rmsnorm");
    CHECK_STR_EQ(tadd_norm_name(TADD_NORM_LAYERNORM), "layernorm");
    CHECK_STR_EQ(tadd_qkv_tie_name(TADD_QKV_TIE_SHAREA_TIEKV),
                 "shareA_tieKV");
    CHECK_STR_EQ(tadd_qkv_tie_name(TADD_QKV_TIE_NONE), "none");
}

static void test_apply_field(void)
{
    struct tadd_config c, before;
    char err[TADD_ERR_LEN] = "";
    cJSON *v = cJSON_CreateNumber(0.0165);
    cJSON *bad = cJSON_CreateString("x");

    REQUIRE(v && bad);
    tadd_config_defaults(&c);
    CHECK_INT_EQ(tadd_config_apply_field(&c, "lr", v, "grid", err,
                                         sizeof(err)), 0);
    CHECK(c.train.lr == 0.0165);
    before = c;
    CHECK_INT_EQ(tadd_config_apply_field(&c, "lr", bad, "grid", err,
                                         sizeof(err)), -1);
    CHECK_STR_HAS(err, "grid.lr:");
    CHECK(memcmp(&c, &before, sizeof(c)) == 0);
    CHECK_INT_EQ(tadd_config_apply_field(&c, "nope", v, "grid", err,
                                         sizeof(err)), -1);
    CHECK_STR_HAS(err, "grid.nope: unknown field");
    cJSON_Delete(v);
    cJSON_Delete(bad);
}

static void test_format(void)
{
    struct {
        double v;
        const char *want;
    } cases[] = {
        {0.0135, "0.0135"}, {0.015, "0.015"}, {384, "384"}, {1e-5, "1e-5"},
        {3e20, "3e20"}, {-0.5, "-0.5"}, {0, "0"}, {0.1 + 0.2,
        "0.30000000000000004"}, {1.0 / 3, "0.3333333333333333"},
        {123456789, "123456789"}, {2.5e-7, "2.5e-7"}, {10, "10"},
        {1e6, "1000000"}, {-20, "-20"}, {1e17, "1e17"}, {0.0001, "0.0001"},
    };
    char buf[64];
    struct tadd_config c;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tadd_format_double(cases[i].v, buf, sizeof(buf));
        CHECK_STR_EQ(buf, cases[i].want);
        CHECK(strtod(buf, NULL) == cases[i].v);
    }

    tadd_config_defaults(&c);
    CHECK_INT_EQ(tadd_config_field_text(&c, "lr", buf, sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "0.015");
    CHECK_INT_EQ(tadd_config_field_text(&c, "batch_size", buf, sizeof(buf)),
                 0);
    CHECK_STR_EQ(buf, "512");
    CHECK_INT_EQ(tadd_config_field_text(&c, "train_steps", buf,
                                        sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "30000");
    CHECK_INT_EQ(tadd_config_field_text(&c, "fixed_full_rank_mlp", buf,
                                        sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "true");
    CHECK_INT_EQ(tadd_config_field_text(&c, "norm", buf, sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "layernorm");
    CHECK_INT_EQ(tadd_config_field_text(&c, "qkv_tie", buf, sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "none");
    CHECK_INT_EQ(tadd_config_field_text(&c, "curriculum", buf, sizeof(buf)),
                 0);
    CHECK_STR_EQ(buf, "1-3-2000_1-6-5000_1-10-20000");
    CHECK_INT_EQ(tadd_config_field_text(&c, "curriculum", buf, 10), -1);
    CHECK_INT_EQ(tadd_config_field_text(&c, "bogus", buf, sizeof(buf)), -1);
}

int main(void)
{
    test_defaults();
    test_apply();
    test_refusals();
    test_validate();
    test_model_from_json();
    test_json_roundtrip();
    test_fields();
    test_apply_field();
    test_format();
    CHECK_DONE();
}
