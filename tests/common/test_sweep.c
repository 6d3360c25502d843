/*
 * The sweep file: SPEC section 5's example, expansion counts, order and
 * names, seeds, baselines, pack keys, and every kind of bad file refused
 * with its key path.
 *
 * Sweep texts below are written with single quotes for readability;
 * parse_q turns them into JSON's double quotes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "config.h"
#include "fsutil.h"
#include "sweep.h"

static char *unquote(const char *text)
{
    char *s = strdup(text);

    REQUIRE(s != NULL);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static int parse_q(const char *text, struct tadd_sweep *s, char *err,
                   size_t errlen)
{
    char *json = unquote(text);
    int rc = tadd_sweep_parse(json, strlen(json), s, err, errlen);

    free(json);
    return rc;
}

static void expect_good(const char *text, struct tadd_sweep *s)
{
    char err[TADD_ERR_LEN] = "";

    if (parse_q(text, s, err, sizeof(err)) != 0) {
        fprintf(stderr, "unexpected refusal: %s\n", err);
        REQUIRE(0);
    }
}

/* Refused, with want in the message, and nothing returned. */
static void expect_bad(const char *text, const char *want)
{
    char err[TADD_ERR_LEN] = "";
    struct tadd_sweep s;
    char *w = unquote(want);

    memset(&s, 0x5a, sizeof(s));
    CHECK_INT_EQ(parse_q(text, &s, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, w);
    CHECK_INT_EQ(s.n_configs, 0);
    CHECK(s.configs == NULL);
    CHECK(s.seeds == NULL);
    CHECK(s.description == NULL);
    tadd_sweep_free(&s);
    free(w);
}

static const char *spec_example =
    "{ 'name': 'bs_lr_grid',"
    "  'description': 'batch x lr around the baseline',"
    "  'base': { 'lr': 0.015 },"
    "  'variants': [ { 'name': 'baseline' },"
    "                { 'name': 'no_fixed_mlp', 'fixed_full_rank_mlp': false }"
    "  ],"
    "  'grid': { 'batch_size': [384, 512], 'lr': [0.0135, 0.015, 0.0165] },"
    "  'seeds': { 'start': 42, 'count': 8 },"
    "  'baseline': 'baseline.batch_size=512.lr=0.015',"
    "  'success_threshold': 0.99,"
    "  'priority': 0 }";

static void test_spec_example(void)
{
    static const char *names[] = {
        "baseline.batch_size=384.lr=0.0135",
        "baseline.batch_size=384.lr=0.015",
        "baseline.batch_size=384.lr=0.0165",
        "baseline.batch_size=512.lr=0.0135",
        "baseline.batch_size=512.lr=0.015",
        "baseline.batch_size=512.lr=0.0165",
        "no_fixed_mlp.batch_size=384.lr=0.0135",
        "no_fixed_mlp.batch_size=384.lr=0.015",
        "no_fixed_mlp.batch_size=384.lr=0.0165",
        "no_fixed_mlp.batch_size=512.lr=0.0135",
        "no_fixed_mlp.batch_size=512.lr=0.015",
        "no_fixed_mlp.batch_size=512.lr=0.0165",
    };
    static const double lrs[3] = {0.0135, 0.015, 0.0165};
    struct tadd_sweep s;

    expect_good(spec_example, &s);
    CHECK_STR_EQ(s.name, "bs_lr_grid");
    CHECK_STR_EQ(s.description, "batch x lr around the baseline");
    CHECK_INT_EQ(s.n_configs, 12);
    CHECK_INT_EQ(s.n_seeds, 8);
    CHECK_INT_EQ(tadd_sweep_n_trials(&s), 96);
    for (int i = 0; i < 8 && i < s.n_seeds; i++)
        CHECK_INT_EQ(s.seeds[i], 42 + i);
    for (int i = 0; i < 12 && i < s.n_configs; i++) {
        const struct tadd_sweep_config *c = &s.configs[i];
        CHECK_STR_EQ(c->name, names[i]);
        CHECK_STR_EQ(c->variant, i < 6 ? "baseline" : "no_fixed_mlp");
        CHECK_INT_EQ(c->cfg.model.fixed_full_rank_mlp, i < 6);
        CHECK_INT_EQ(c->cfg.model.fixed_full_rank_attn, 1);
        CHECK_INT_EQ(c->cfg.train.batch_size, (i % 6) < 3 ? 384 : 512);
        CHECK(c->cfg.train.lr == lrs[i % 3]);
        CHECK_INT_EQ(c->cfg.model.d_model, 8);
        CHECK_INT_EQ(tadd_sweep_find_config(&s, names[i]), i);
    }
    CHECK(s.success_threshold == 0.99);
    CHECK_INT_EQ(s.priority, 0);
    CHECK(tadd_sweep_baseline_is_local(&s));
    CHECK_STR_EQ(s.baseline_sweep, "bs_lr_grid");
    CHECK_STR_EQ(s.baseline_config, "baseline.batch_size=512.lr=0.015");
    CHECK_INT_EQ(tadd_sweep_find_config(&s, "baseline"), -1);
    CHECK_INT_EQ(tadd_sweep_find_config(&s, NULL), -1);
    tadd_sweep_free(&s);
    CHECK_INT_EQ(s.n_configs, 0);
    CHECK(s.configs == NULL);
}

/*
 * The example exactly as SPEC section 5 writes it: "baseline" names the
 * variant, and each config is judged against the baseline variant's
 * config at its own grid point.
 */
static void test_variant_baseline(void)
{
    static const char *as_written =
        "{ 'name': 'bs_lr_grid',"
        "  'description': 'batch x lr around the baseline',"
        "  'base': { 'lr': 0.015 },"
        "  'variants': [ { 'name': 'baseline' },"
        "                { 'name': 'no_fixed_mlp',"
        "                  'fixed_full_rank_mlp': false } ],"
        "  'grid': { 'batch_size': [384, 512],"
        "            'lr': [0.0135, 0.015, 0.0165] },"
        "  'seeds': { 'start': 42, 'count': 8 },"
        "  'baseline': 'baseline',"
        "  'success_threshold': 0.99,"
        "  'priority': 0 }";
    struct tadd_sweep s;

    expect_good(as_written, &s);
    CHECK_INT_EQ(s.n_configs, 12);
    CHECK_INT_EQ(tadd_sweep_n_trials(&s), 96);
    CHECK(tadd_sweep_baseline_is_local(&s));
    CHECK_INT_EQ(s.baseline_is_variant, 1);
    CHECK_STR_EQ(s.baseline_sweep, "bs_lr_grid");
    CHECK_STR_EQ(s.baseline_config, "baseline");
    for (int i = 0; i < s.n_configs; i++) {
        /* Configs 0..5 are the baseline variant's, 6..11 the other's at
         * the same grid points in the same order. */
        int b = tadd_sweep_baseline_of(&s, i);
        CHECK_INT_EQ(b, i % 6);
        if (b >= 0)
            CHECK_STR_EQ(s.configs[b].name + strlen("baseline"),
                         s.configs[i].name + strlen(s.configs[i].variant));
    }
    CHECK_STR_EQ(s.configs[tadd_sweep_baseline_of(&s, 7)].name,
                 "baseline.batch_size=384.lr=0.015");
    CHECK_INT_EQ(tadd_sweep_baseline_of(&s, 12), -1);
    CHECK_INT_EQ(tadd_sweep_baseline_of(&s, -1), -1);
    tadd_sweep_free(&s);

    /* A config baseline stays one: every config against that config. */
    expect_good(spec_example, &s);
    CHECK_INT_EQ(s.baseline_is_variant, 0);
    for (int i = 0; i < s.n_configs; i++)
        CHECK_INT_EQ(tadd_sweep_baseline_of(&s, i), 4);
    tadd_sweep_free(&s);

    /* A config name wins over a variant of the same name. */
    expect_good("{'name': 'w', 'variants': [{'name': 'a'}, {'name': 'b'}],"
                " 'baseline': 'b'}", &s);
    CHECK_INT_EQ(s.baseline_is_variant, 0);
    CHECK_INT_EQ(tadd_sweep_baseline_of(&s, 0), 1);
    tadd_sweep_free(&s);

    /* No variants: the variant is "default". */
    expect_good("{'name': 'd', 'grid': {'lr': [0.01, 0.02]},"
                " 'baseline': 'default'}", &s);
    CHECK_INT_EQ(s.baseline_is_variant, 1);
    CHECK_INT_EQ(tadd_sweep_baseline_of(&s, 1), 1);
    tadd_sweep_free(&s);
    expect_good("{'name': 'n'}", &s);
    CHECK_INT_EQ(s.baseline_is_variant, 0);
    CHECK_INT_EQ(tadd_sweep_baseline_of(&s, 0), -1);
    tadd_sweep_free(&s);

    /* Neither a config nor a variant: refused with the key path. */
    expect_bad("{'name': 'x', 'variants': [{'name': 'a'}],"
               " 'grid': {'lr': [0.01]}, 'baseline': 'b'}",
               "baseline: no config named 'b' in this sweep and no variant "
               "of that name (its first config is 'a.lr=0.01', its first "
               "variant 'a')");
    /* The object form names a config only, never a variant. */
    expect_bad("{'name': 'x', 'variants': [{'name': 'a'}],"
               " 'grid': {'lr': [0.01]},"
               " 'baseline': {'sweep': 'x', 'config': 'a'}}",
               "baseline.config: no config named 'a' in this sweep");
}

static void test_defaults(void)
{
    struct tadd_sweep s;
    struct tadd_config d;

    expect_good("{'name': 'x'}", &s);
    CHECK_INT_EQ(s.n_configs, 1);
    CHECK_STR_EQ(s.configs[0].name, "default");
    CHECK_STR_EQ(s.configs[0].variant, "default");
    tadd_config_defaults(&d);
    CHECK(memcmp(&s.configs[0].cfg, &d, sizeof(d)) == 0);
    CHECK_INT_EQ(s.n_seeds, 8);
    CHECK_INT_EQ(s.seeds[0], 42);
    CHECK_INT_EQ(s.seeds[7], 49);
    CHECK(s.success_threshold == 0.99);
    CHECK_INT_EQ(s.priority, 0);
    CHECK_STR_EQ(s.description, "");
    CHECK_STR_EQ(s.baseline_config, "");
    CHECK(!tadd_sweep_baseline_is_local(&s));
    tadd_sweep_free(&s);

    /* Grid without variants: "default" plus the grid values. */
    expect_good("{'name': 'g', 'grid': {'d_model': [8.0, 16], "
                "'fixed_full_rank_mlp': [true, false]},"
                " 'baseline': 'default.d_model=8.fixed_full_rank_mlp=true',"
                " 'priority': -5, 'success_threshold': 1}", &s);
    CHECK_INT_EQ(s.n_configs, 4);
    CHECK_STR_EQ(s.configs[0].name,
                 "default.d_model=8.fixed_full_rank_mlp=true");
    CHECK_STR_EQ(s.configs[1].name,
                 "default.d_model=8.fixed_full_rank_mlp=false");
    CHECK_STR_EQ(s.configs[3].name,
                 "default.d_model=16.fixed_full_rank_mlp=false");
    CHECK_INT_EQ(s.configs[3].cfg.model.d_model, 16);
    CHECK_INT_EQ(s.configs[3].cfg.model.fixed_full_rank_mlp, 0);
    CHECK_INT_EQ(s.priority, -5);
    CHECK(s.success_threshold == 1.0);
    tadd_sweep_free(&s);

    /* Values print as a researcher writes them. */
    expect_good("{'name': 'v', 'grid': {'weight_decay': [0, 1e-5, 0.0135],"
                " 'norm': ['layernorm', 'rmsnorm'],"
                " 'curriculum': [[[1, 3, 2000], [1, 10, 100]], [[1, 10, 5]]]"
                "}}", &s);
    CHECK_INT_EQ(s.n_configs, 12);
    CHECK_STR_EQ(s.configs[0].name, "default.weight_decay=0.norm=layernorm"
                 ".curriculum=1-3-2000_1-10-100");
    CHECK_STR_EQ(s.configs[11].name, "default.weight_decay=0.0135"
                 ".norm=rmsnorm.curriculum=1-10-5");
    CHECK_STR_EQ(s.configs[4].name, "default.weight_decay=1e-5"
                 ".norm=layernorm.curriculum=1-3-2000_1-10-100");
    CHECK_INT_EQ(s.configs[11].cfg.train.n_phases, 1);
    CHECK_INT_EQ(s.configs[11].cfg.model.norm, TADD_NORM_RMSNORM);
    tadd_sweep_free(&s);

    /* Order: defaults, then base, then the variant, then the grid. */
    expect_good("{'name': 'o', 'base': {'d_model': 16, 'lr': 0.02},"
                " 'variants': [{'name': 'a', 'lr': 0.03},"
                " {'name': 'b', 'd_ff': 32}], 'grid': {'lr': [0.04]}}", &s);
    CHECK_INT_EQ(s.n_configs, 2);
    CHECK_STR_EQ(s.configs[0].name, "a.lr=0.04");
    CHECK(s.configs[0].cfg.train.lr == 0.04);
    CHECK_INT_EQ(s.configs[0].cfg.model.d_model, 16);
    CHECK_INT_EQ(s.configs[0].cfg.model.d_ff, 28);
    CHECK_INT_EQ(s.configs[1].cfg.model.d_ff, 32);
    tadd_sweep_free(&s);

    expect_good("{'name': 'o2', 'base': {'lr': 0.02},"
                " 'variants': [{'name': 'a', 'lr': 0.03}, {'name': 'b'}]}",
                &s);
    CHECK_STR_EQ(s.configs[0].name, "a");
    CHECK(s.configs[0].cfg.train.lr == 0.03);
    CHECK(s.configs[1].cfg.train.lr == 0.02);
    tadd_sweep_free(&s);
}

static void test_seeds_and_baselines(void)
{
    struct tadd_sweep s;

    expect_good("{'name': 's', 'seeds': [7, 0, 9007199254740991, 3]}", &s);
    CHECK_INT_EQ(s.n_seeds, 4);
    CHECK_INT_EQ(s.seeds[0], 7);
    CHECK_INT_EQ(s.seeds[1], 0);
    CHECK_INT_EQ(s.seeds[2], 9007199254740991LL);
    CHECK_INT_EQ(s.seeds[3], 3);
    CHECK_INT_EQ(tadd_sweep_n_trials(&s), 4);
    tadd_sweep_free(&s);

    expect_good("{'name': 's', 'seeds': {'count': 3}}", &s);
    CHECK_INT_EQ(s.n_seeds, 3);
    CHECK_INT_EQ(s.seeds[2], 44);
    tadd_sweep_free(&s);
    expect_good("{'name': 's', 'seeds': {'start': 0}}", &s);
    CHECK_INT_EQ(s.n_seeds, 8);
    CHECK_INT_EQ(s.seeds[7], 7);
    tadd_sweep_free(&s);
    expect_good("{'name': 's', 'seeds': {'start': 1e3, 'count': 2.0}}", &s);
    CHECK_INT_EQ(s.n_seeds, 2);
    CHECK_INT_EQ(s.seeds[1], 1001);
    tadd_sweep_free(&s);

    expect_good("{'name': 'new', 'baseline': {'sweep': 'old-sweep_1',"
                " 'config': 'baseline.lr=0.015'}}", &s);
    CHECK(!tadd_sweep_baseline_is_local(&s));
    CHECK_STR_EQ(s.baseline_sweep, "old-sweep_1");
    CHECK_STR_EQ(s.baseline_config, "baseline.lr=0.015");
    tadd_sweep_free(&s);

    /* Naming this very sweep in the object form: the config must exist. */
    expect_good("{'name': 'me', 'baseline': {'sweep': 'me',"
                " 'config': 'default'}}", &s);
    CHECK(tadd_sweep_baseline_is_local(&s));
    tadd_sweep_free(&s);
    expect_bad("{'name': 'me', 'baseline': {'sweep': 'me',"
               " 'config': 'nope'}}",
               "baseline.config: no config named 'nope' in this sweep");
}

static void test_bad(void)
{
    char long_name[200];

    /* Syntax. */
    expect_bad("{'name': 'x',\n 'seeds': [1, 2,]}",
               "JSON syntax error at line 2");
    expect_bad("{'name': 'x'} {}", "text after the sweep object");
    expect_bad("", "JSON syntax error");
    expect_bad("[1]", "sweep: must be a JSON object, got a list");
    expect_bad("'x'", "sweep: must be a JSON object");

    /* Top level. */
    expect_bad("{}", "name: missing");
    expect_bad("{'name': 3}", "name: must be a name of 1 to 64 characters");
    expect_bad("{'name': ''}", "name: must be a name");
    expect_bad("{'name': 'a/b'}", "name: must be a name");
    expect_bad("{'name': '..'}", "name: must be a name");
    expect_bad("{'name': 'a=b'}", "name: must be a name");
    expect_bad("{'name': 'a b'}", "name: must be a name");
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    {
        char text[256];
        snprintf(text, sizeof(text), "{'name': '%s'}", long_name);
        expect_bad(text, "name: must be a name");
        long_name[64] = '\0';
        snprintf(text, sizeof(text), "{'name': '%s'}", long_name);
        {
            struct tadd_sweep s;
            expect_good(text, &s);
            tadd_sweep_free(&s);
        }
    }
    expect_bad("{'name': 'x', 'bogus': 1}", "bogus: unknown key");
    expect_bad("{'name': 'x', 'lr': 0.01}",
               "lr: unknown key (config fields go in 'base' or a variant)");
    expect_bad("{'name': 'x', 'name': 'y'}", "name: given twice");
    expect_bad("{'name': 'x', 'description': 5}",
               "description: must be a string");
    expect_bad("{'name': 'x', 'success_threshold': 0}",
               "success_threshold: must be a number in (0, 1], got 0");
    expect_bad("{'name': 'x', 'success_threshold': 1.5}",
               "success_threshold");
    expect_bad("{'name': 'x', 'success_threshold': '0.9'}",
               "success_threshold");
    expect_bad("{'name': 'x', 'priority': 1.5}",
               "priority: must be an integer");
    expect_bad("{'name': 'x', 'priority': 'high'}", "priority:");
    expect_bad("{'name': 'x', 'priority': 1e7}", "priority:");

    /* base. */
    expect_bad("{'name': 'x', 'base': [1]}", "base: must be an object");
    expect_bad("{'name': 'x', 'base': {'lr': -1}}",
               "base.lr: must be a positive number");
    expect_bad("{'name': 'x', 'base': {'foo': 1}}", "base.foo: unknown field");
    expect_bad("{'name': 'x', 'base': {'norm': 'batch'}}", "base.norm");
    expect_bad("{'name': 'x', 'base': {'fixed_full_rank_attn': 0}}",
               "base.fixed_full_rank_attn: must be true or false");

    /* variants. */
    expect_bad("{'name': 'x', 'variants': {}}",
               "variants: must be a non-empty list");
    expect_bad("{'name': 'x', 'variants': []}",
               "variants: must be a non-empty list of objects, got an empty");
    expect_bad("{'name': 'x', 'variants': [{'name': 'a'}, 3]}",
               "variants[1]: must be an object, got 3");
    expect_bad("{'name': 'x', 'variants': [{'lr': 0.01}]}",
               "variants[0].name: missing");
    expect_bad("{'name': 'x', 'variants': [{'name': 'a'}, {'name': 'a'}]}",
               "variants[1].name: 'a' is also the name of variants[0]");
    expect_bad("{'name': 'x', 'variants': [{'name': 'a.b=c'}]}",
               "variants[0].name: must be a name");
    expect_bad("{'name': 'x', 'variants': [{'name': 'a'},"
               " {'name': 'b', 'lr': 0}]}", "variants[1].lr:");
    expect_bad("{'name': 'x', 'variants': [{'name': 'a', 'foo': 1}]}",
               "variants[0].foo: unknown field");
    expect_bad("{'name': 'x', 'variants': [{'name': 'a', 'lr': 0.1,"
               " 'lr': 0.2}]}", "variants[0].lr: given twice");
    expect_bad("{'name': 'x', 'variants': [{'name': 'a', 'name': 'b'}]}",
               "variants[0].name: given twice");
    expect_bad("{'name': 'x', 'variants': [{'name': 'a', 'seed': 1}]}",
               "variants[0].seed: unknown field");

    /* grid. */
    expect_bad("{'name': 'x', 'grid': [1]}", "grid: must be an object");
    expect_bad("{'name': 'x', 'grid': {'foo': [1]}}",
               "grid.foo: unknown field");
    expect_bad("{'name': 'x', 'grid': {'lr': 0.01}}",
               "grid.lr: must be a non-empty list of values, got 0.01");
    expect_bad("{'name': 'x', 'grid': {'lr': []}}",
               "grid.lr: must be a non-empty list of values, got an empty");
    expect_bad("{'name': 'x', 'grid': {'lr': [0.01, -1]}}",
               "grid.lr[1]: must be a positive number");
    expect_bad("{'name': 'x', 'grid': {'lr': [0.015, 0.02, 0.015]}}",
               "grid.lr[2]: 0.015 repeats grid.lr[0]");
    expect_bad("{'name': 'x', 'grid': {'batch_size': [8, 8.0]}}",
               "grid.batch_size[1]: 8 repeats grid.batch_size[0]");
    expect_bad("{'name': 'x', 'grid': {'d_model': [8, 8.5]}}",
               "grid.d_model[1]: must be an integer in 1..256, got 8.5");
    expect_bad("{'name': 'x', 'grid': {'norm': ['rmsnorm', 'x']}}",
               "grid.norm[1]: must be 'layernorm' or 'rmsnorm'");
    expect_bad("{'name': 'x', 'grid': {'curriculum': [[[1, 3, 100]],"
               " [[1, 3, 100], [4, 2, 5]]]}}",
               "grid.curriculum[1][1]: min_digits 4 exceeds max_digits 2");
    expect_bad("{'name': 'x', 'grid': {'lr': [0.1], 'lr': [0.2]}}",
               "grid.lr: given twice");

    /* seeds. */
    expect_bad("{'name': 'x', 'seeds': 8}",
               "seeds: must be {'start': S, 'count': N} or a list");
    expect_bad("{'name': 'x', 'seeds': {'start': -1, 'count': 2}}",
               "seeds.start: must be an integer in [0, 2^53), got -1");
    expect_bad("{'name': 'x', 'seeds': {'start': 1, 'count': 0}}",
               "seeds.count: must be an integer in 1..100000, got 0");
    expect_bad("{'name': 'x', 'seeds': {'start': 1, 'count': 2.5}}",
               "seeds.count");
    expect_bad("{'name': 'x', 'seeds': {'begin': 1}}",
               "seeds.begin: unknown key");
    expect_bad("{'name': 'x', 'seeds': {'start': 9007199254740990,"
               " 'count': 5}}", "seeds: start 9007199254740990 + count 5");
    expect_bad("{'name': 'x', 'seeds': []}", "seeds: a list must hold");
    expect_bad("{'name': 'x', 'seeds': [1, 2, 1]}",
               "seeds[2]: 1 repeats seeds[0]");
    expect_bad("{'name': 'x', 'seeds': [3, 1.5]}",
               "seeds[1]: must be an integer in [0, 2^53), got 1.5");
    expect_bad("{'name': 'x', 'seeds': [-1]}", "seeds[0]");
    expect_bad("{'name': 'x', 'seeds': ['1']}", "seeds[0]");
    expect_bad("{'name': 'x', 'seeds': [9007199254740992]}", "seeds[0]");
    expect_bad("{'name': 'x', 'seeds': {'start': 1, 'start': 2}}",
               "seeds.start: given twice");

    /* baseline. */
    expect_bad("{'name': 'x', 'baseline': 'nope'}",
               "baseline: no config named 'nope' in this sweep");
    expect_bad("{'name': 'x', 'baseline': 3}",
               "baseline: must be a config name or");
    expect_bad("{'name': 'x', 'baseline': {'sweep': 'y'}}",
               "baseline.config: missing");
    expect_bad("{'name': 'x', 'baseline': {'config': 'c'}}",
               "baseline.sweep: missing");
    expect_bad("{'name': 'x', 'baseline': {'sweep': 'a/b', 'config': 'c'}}",
               "baseline.sweep: must be a name");
    expect_bad("{'name': 'x', 'baseline': {'sweep': 'y', 'config': 'c',"
               " 'x': 1}}", "baseline.x: unknown key");
    expect_bad("{'name': 'x', 'baseline': {'sweep': 'y', 'config': '../c'}}",
               "baseline.config: '../c' is not a valid config name");
    expect_bad("{'name': 'x', 'baseline': {'sweep': 'y', 'config': 5}}",
               "baseline.config: must be a config name");

    /* Configs that only the combination makes invalid name the config. */
    expect_bad("{'name': 'x', 'grid': {'n_head': [1, 3]}}",
               "config default.n_head=3: d_model 8 is not divisible by "
               "n_head 3");
    expect_bad("{'name': 'x', 'variants': [{'name': 'short',"
               " 'train_steps': 1000}]}",
               "config short: warmup_steps 1350 must be below train_steps");
    expect_bad("{'name': 'x', 'base': {'qkv_tie': 'shareA_tieKV'},"
               " 'grid': {'qkv_rank': [3, 0]}}",
               "config default.qkv_rank=0: qkv_tie");

    /* Caps. */
    {
        /* 30 x 30 x 12 = 10800 configs, over the config cap even with
         * one seed. */
        char text[1024];
        size_t n = (size_t)snprintf(text, sizeof(text),
                                    "{'name': 'x', 'seeds': [1], 'grid': {");
        const char *keys[3] = {"batch_size", "d_ff", "eval_interval"};
        int counts[3] = {30, 30, 12};
        for (int k = 0; k < 3; k++) {
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%s'%s': [",
                                  k ? ", " : "", keys[k]);
            for (int v = 1; v <= counts[k]; v++)
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%d",
                                      v > 1 ? ", " : "", v);
            n += (size_t)snprintf(text + n, sizeof(text) - n, "]");
        }
        snprintf(text + n, sizeof(text) - n, "}}");
        REQUIRE(strlen(text) < sizeof(text) - 1);
        expect_bad(text, "sweep expands to 10800 configs x 1 seeds");
        expect_bad(text, "more than the limit");
    }
    expect_bad("{'name': 'x', 'seeds': {'count': 100000},"
               " 'grid': {'batch_size': [1, 2]}}",
               "2 configs x 100000 seeds = 200000 trials");
    {
        char text[2048];
        char vname[65];
        memset(vname, 'v', 64);
        vname[64] = '\0';
        snprintf(text, sizeof(text),
                 "{'name': 'x', 'variants': [{'name': '%s'}], 'grid': {"
                 "'curriculum': [[[1,1,1000000],[1,2,1000000],[1,3,1000000],"
                 "[1,4,1000000],[1,5,1000000],[1,6,1000000],[1,7,1000000],"
                 "[1,8,1000000],[1,9,1000000],[1,10,1000000],[2,2,1000000],"
                 "[2,3,1000000]]]}}", vname);
        expect_bad(text, "name longer than 200 characters");
    }
}

static void test_pack_keys(void)
{
    struct tadd_sweep s;
    char *k[4];
    char *j;
    struct tadd_config back;
    char err[TADD_ERR_LEN] = "";
    cJSON *parsed;

    expect_good("{'name': 'p', 'grid': {'lr': [0.01, 0.02],"
                " 'weight_decay': [0, 0.1], 'batch_size': [256, 512]}}", &s);
    REQUIRE(s.n_configs == 8);
    /* configs 0..3: batch 256 and every lr x wd; 4..7: batch 512. */
    for (int i = 0; i < 4; i++) {
        char *a = tadd_config_pack_key(&s.configs[2 * i].cfg);
        char *b = tadd_config_pack_key(&s.configs[2 * i + 1].cfg);
        REQUIRE(a && b);
        /* Same lr and wd, other batch size... */
        CHECK(strcmp(a, b) != 0);
        free(a);
        free(b);
    }
    for (int i = 0; i < 4; i++) {
        k[i] = tadd_config_pack_key(&s.configs[2 * i].cfg);
        REQUIRE(k[i] != NULL);
    }
    /* ... while every lr x wd combination at batch 256 shares a key. */
    CHECK_STR_EQ(k[0], k[1]);
    CHECK_STR_EQ(k[0], k[2]);
    CHECK_STR_EQ(k[0], k[3]);
    CHECK(strstr(k[0], "\"lr\"") == NULL);
    CHECK(strstr(k[0], "weight_decay") == NULL);
    CHECK(strstr(k[0], "warmup_steps") == NULL);
    CHECK(strstr(k[0], "min_lr_ratio") == NULL);
    CHECK(strstr(k[0], "grad_clip") == NULL);
    CHECK_STR_HAS(k[0], "\"batch_size\":256");
    CHECK_STR_HAS(k[0], "\"d_model\":8");
    CHECK_STR_HAS(k[0], "\"curriculum\":[[1,3,2000],[1,6,5000],[1,10,20000]]");
    for (int i = 0; i < 4; i++)
        free(k[i]);

    /* Each of the five per-model fields alone keeps the key; each shared
     * field changes it. */
    {
        struct tadd_config a, b;
        char *ka, *kb;
        tadd_config_defaults(&a);
        ka = tadd_config_pack_key(&a);
        b = a;
        b.train.lr = 0.5;
        b.train.weight_decay = 0.5;
        b.train.warmup_steps = 10;
        b.train.min_lr_ratio = 0.5;
        b.train.grad_clip = 5;
        kb = tadd_config_pack_key(&b);
        REQUIRE(ka && kb);
        CHECK_STR_EQ(ka, kb);
        free(kb);
        b = a;
        b.train.train_steps = 30001;
        kb = tadd_config_pack_key(&b);
        CHECK(kb && strcmp(ka, kb) != 0);
        free(kb);
        b = a;
        b.train.curriculum[2].steps = 1;
        kb = tadd_config_pack_key(&b);
        CHECK(kb && strcmp(ka, kb) != 0);
        free(kb);
        b = a;
        b.model.norm = TADD_NORM_RMSNORM;
        kb = tadd_config_pack_key(&b);
        CHECK(kb && strcmp(ka, kb) != 0);
        free(kb);
        b = a;
        b.train.val_size = 1;
        kb = tadd_config_pack_key(&b);
        CHECK(kb && strcmp(ka, kb) != 0);
        free(kb);
        free(ka);
    }

    /* The canonical JSON holds every field and reads back the same. */
    j = tadd_config_canonical_json(&s.configs[5].cfg);
    REQUIRE(j != NULL);
    CHECK_STR_HAS(j, "\"lr\":0.02");
    CHECK_STR_HAS(j, "\"weight_decay\":0");
    CHECK_STR_HAS(j, "\"batch_size\":512");
    parsed = cJSON_Parse(j);
    REQUIRE(parsed != NULL);
    CHECK_INT_EQ(cJSON_GetArraySize(parsed), 23);
    CHECK_INT_EQ(tadd_config_from_json(&back, parsed, "stored", err,
                                       sizeof(err)), 0);
    CHECK(memcmp(&back, &s.configs[5].cfg, sizeof(back)) == 0);
    cJSON_Delete(parsed);
    free(j);
    tadd_sweep_free(&s);
}

static void test_load(void)
{
    char tmpl[] = "/tmp/tadd-test-sweep-XXXXXX";
    char *dir = mkdtemp(tmpl);
    char path[512], err[TADD_ERR_LEN] = "";
    char *json = unquote(spec_example);
    struct tadd_sweep s;

    REQUIRE(dir != NULL);
    snprintf(path, sizeof(path), "%s/sweep.json", dir);
    REQUIRE(tadd_write_file_atomic(path, json, strlen(json), err,
                                   sizeof(err)) == 0);
    CHECK_INT_EQ(tadd_sweep_load(path, &s, err, sizeof(err)), 0);
    CHECK_INT_EQ(s.n_configs, 12);
    tadd_sweep_free(&s);
    REQUIRE(tadd_write_file_atomic(path, "{\"name\": 1}", 11, err,
                                   sizeof(err)) == 0);
    CHECK_INT_EQ(tadd_sweep_load(path, &s, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, path);
    CHECK_STR_HAS(err, ": name: must be a name");
    unlink(path);
    CHECK_INT_EQ(tadd_sweep_load(path, &s, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, path);
    rmdir(dir);
    free(json);

    /* A parsed document works the same. */
    {
        cJSON *root = cJSON_Parse("{\"name\": \"doc\", \"grid\": "
                                  "{\"ffn_rank\": [0, 3]}}");
        REQUIRE(root != NULL);
        CHECK_INT_EQ(tadd_sweep_from_json(root, &s, err, sizeof(err)), 0);
        CHECK_INT_EQ(s.n_configs, 2);
        CHECK_STR_EQ(s.configs[1].name, "default.ffn_rank=3");
        tadd_sweep_free(&s);
        cJSON_Delete(root);
    }
    /* A length that stops early sees only the prefix. */
    CHECK_INT_EQ(tadd_sweep_parse("{\"name\": \"x\"}garbage", 13, &s, err,
                                  sizeof(err)), 0);
    tadd_sweep_free(&s);
    CHECK_INT_EQ(tadd_sweep_parse("{\"name\": \"x\"}\0{}", 16, &s, err,
                                  sizeof(err)), -1);
    CHECK_STR_HAS(err, "text after the sweep object");
}

static void test_names(void)
{
    CHECK(tadd_sweep_name_is_valid("bs_lr_grid"));
    CHECK(tadd_sweep_name_is_valid("a.b-c_D9"));
    CHECK(!tadd_sweep_name_is_valid("a=b"));
    CHECK(!tadd_sweep_name_is_valid(""));
    CHECK(!tadd_sweep_name_is_valid("."));
    CHECK(!tadd_sweep_name_is_valid(NULL));
}

static uint64_t fuzz_next(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 33;
}

/*
 * Mutations of the SPEC example: every outcome is either a full sweep
 * within the caps or a refusal with a message and nothing returned.
 */
static void test_mutations(void)
{
    static const char specials[] = "{}[]\",:0123456789-.e tf";
    char *base = unquote(spec_example);
    size_t len = strlen(base);
    uint64_t rng = 777;
    int ok = 0, refused = 0;

    for (int round = 0; round < 3000; round++) {
        char *buf = strdup(base);
        char err[TADD_ERR_LEN] = "";
        struct tadd_sweep sw;
        size_t n = len;
        int edits = 1 + (int)(fuzz_next(&rng) % 3);
        REQUIRE(buf != NULL);
        for (int e = 0; e < edits; e++) {
            size_t at = fuzz_next(&rng) % n;
            if (fuzz_next(&rng) % 8 == 0)
                n = at;
            else
                buf[at] = specials[fuzz_next(&rng) % (sizeof(specials) - 1)];
        }
        if (tadd_sweep_parse(buf, n, &sw, err, sizeof(err)) == 0) {
            ok++;
            CHECK(sw.n_configs >= 1);
            CHECK(sw.n_seeds >= 1);
            CHECK(tadd_sweep_n_trials(&sw) <= TADD_SWEEP_MAX_TRIALS);
            for (int i = 0; i < sw.n_configs; i++)
                CHECK(tadd_name_is_safe(sw.configs[i].name));
            tadd_sweep_free(&sw);
        } else {
            refused++;
            CHECK(err[0] != '\0');
            CHECK(sw.configs == NULL && sw.n_configs == 0);
        }
        free(buf);
    }
    CHECK(ok > 10);
    CHECK(refused > 1000);
    free(base);
}

static void test_hostile(void)
{
    char *deep = malloc(20000);
    char *desc = malloc(5000);
    char text[6000];
    size_t n = 0;
    struct tadd_sweep s;

    /* \u0000 would cut "a\u0000/../x" down to the valid name "a". */
    expect_bad("{'name': 'a\\u0000/../x'}", "\\u0000");
    expect_bad("{'name': 'x', 'base': {'lr\\u0000junk': 0.01}}", "\\u0000");
    expect_good("{'name': 'x', 'description': 'a \\\\u0000 b'}", &s);
    CHECK_STR_EQ(s.description, "a \\u0000 b");
    tadd_sweep_free(&s);
    expect_good("{'name': 'x', 'description': 'caf\xc3\xa9 \xe2\x82\xac'}",
                &s);
    tadd_sweep_free(&s);
    expect_bad("{'name': 'x', 'description': 'bad \xff byte'}",
               "description: not valid UTF-8");
    expect_bad("{'name': 'x', 'description': 'overlong \xc0\xaf'}",
               "description: not valid UTF-8");
    expect_bad("{'name': 'x', 'description': 'cut \xe2\x82'}",
               "description: not valid UTF-8");
    expect_bad("{'name': 'x', 'description': 'surrogate \xed\xa0\x80'}",
               "description: not valid UTF-8");
    REQUIRE(desc != NULL);
    memset(desc, 'd', 4097);
    desc[4097] = '\0';
    snprintf(text, sizeof(text), "{'name': 'x', 'description': '%s'}", desc);
    expect_bad(text, "description: must be a string of at most 4096 bytes");
    free(desc);

    /* Numbers at the edges of what a double holds. */
    expect_bad("{'name': 'x', 'base': {'lr': 1e999}}", "base.lr");
    expect_bad("{'name': 'x', 'base': {'lr': -1e999}}", "base.lr");
    expect_bad("{'name': 'x', 'seeds': [1e999]}", "seeds[0]");
    expect_bad("{'name': 'x', 'base': {'d_model': 1e-320}}", "base.d_model");
    expect_bad("{'name': 'x', 'base': {'train_steps': 1e300}}",
               "base.train_steps");
    expect_bad("{'name': 'x', 'priority': 9.3e18}", "priority");
    /* -0 is a valid 0. */
    expect_good("{'name': 'x', 'seeds': [-0]}", &s);
    CHECK_INT_EQ(s.seeds[0], 0);
    tadd_sweep_free(&s);

    /* Nesting past cJSON's limit: refused, no stack overflow. */
    REQUIRE(deep != NULL);
    n += (size_t)sprintf(deep, "{\"name\": \"x\", \"base\": ");
    for (int i = 0; i < 5000; i++)
        deep[n++] = '[';
    for (int i = 0; i < 5000; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    CHECK_INT_EQ(tadd_sweep_parse(deep, n, &s, text, sizeof(text)), -1);
    CHECK_STR_HAS(text, "JSON syntax error");
    free(deep);

    /* Wrong types everywhere a list or object is expected. */
    expect_bad("{'name': 'x', 'variants': [[]]}", "variants[0]: must be an");
    expect_bad("{'name': 'x', 'variants': [null]}", "got null");
    expect_bad("{'name': 'x', 'grid': {'lr': {'a': 1}}}", "got an object");
    expect_bad("{'name': 'x', 'grid': null}", "grid: must be an object");
    expect_bad("{'name': 'x', 'base': null}", "base: must be an object");
    expect_bad("{'name': 'x', 'seeds': null}", "seeds: must be");
    expect_bad("{'name': 'x', 'baseline': null}", "baseline: must be");
    expect_bad("{'name': 'x', 'baseline': ''}", "not a valid config name");
    expect_bad("{'name': null}", "name: must be a name");
}

int main(void)
{
    test_spec_example();
    test_variant_baseline();
    test_defaults();
    test_seeds_and_baselines();
    test_bad();
    test_pack_keys();
    test_load();
    test_names();
    test_mutations();
    test_hostile();
    CHECK_DONE();
}
