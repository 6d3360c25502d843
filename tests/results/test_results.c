/*
 * Per-config results from constructed trial rows: counts, medians, time
 * attribution, verdicts, order, a baseline from another sweep or a
 * variant baseline matched by grid point, errors,
 * and the shapes of the JSON, CSV and table forms.
 */
#include "check.h"

#include <cjson/cJSON.h>

#include "results.h"

#define ROW(cfg, seed, params, outcome, best, succ, step, sps)              \
    {                                                                       \
        (cfg), (seed), (params), (outcome), (best), (best) >= 0 ? 500 : -1, \
        (succ), (step), NAN, (sps)                                          \
    }

/*
 * baseline: 4/8 at 896 params; smaller: 5/8 at 512 (rule 1 passes);
 * lr_hi: 4/8 at 896, faster (rule 3 passes); lr_lo: 2/8 at 896 with one
 * seed lost and one running (fails, so far).
 */
static const struct tadd_trial_row rows[] = {
    ROW("baseline", 42, 896, TADD_TRIAL_DONE, 0.999, 1, 10000, 0.02),
    ROW("baseline", 43, 896, TADD_TRIAL_DONE, 0.995, 1, 12000, 0.02),
    ROW("baseline", 44, 896, TADD_TRIAL_DONE, 0.9999, 1, 14000, 0.02),
    ROW("baseline", 45, 896, TADD_TRIAL_DONE, 0.991, 1, 20000, 0.02),
    ROW("baseline", 46, 896, TADD_TRIAL_DIVERGED, 0.0, 0, -1, 0.02),
    ROW("baseline", 47, 896, TADD_TRIAL_DONE, 0.5, 0, -1, 0.02),
    ROW("baseline", 48, 896, TADD_TRIAL_DONE, 0.2, 0, -1, 0.02),
    ROW("baseline", 49, 896, TADD_TRIAL_DONE, 0.1, 0, -1, 0.02),
    ROW("lr_hi", 42, 896, TADD_TRIAL_DONE, 0.999, 1, 8000, 0.02),
    ROW("lr_hi", 43, 896, TADD_TRIAL_DONE, 0.999, 1, 9000, 0.02),
    ROW("lr_hi", 44, 896, TADD_TRIAL_DONE, 0.999, 1, 11000, 0.02),
    ROW("lr_hi", 45, 896, TADD_TRIAL_DONE, 0.999, 1, 13000, 0.02),
    ROW("lr_hi", 46, 896, TADD_TRIAL_DONE, 0.3, 0, -1, 0.02),
    ROW("lr_hi", 47, 896, TADD_TRIAL_DONE, 0.3, 0, -1, 0.02),
    ROW("lr_hi", 48, 896, TADD_TRIAL_DONE, 0.3, 0, -1, 0.02),
    ROW("lr_hi", 49, 896, TADD_TRIAL_DONE, 0.3, 0, -1, 0.02),
    ROW("smaller", 42, 512, TADD_TRIAL_DONE, 0.999, 1, 20000, 0.01),
    ROW("smaller", 43, 512, TADD_TRIAL_DONE, 0.999, 1, 21000, 0.01),
    ROW("smaller", 44, 512, TADD_TRIAL_DONE, 0.999, 1, 22000, 0.01),
    ROW("smaller", 45, 512, TADD_TRIAL_DONE, 0.999, 1, 23000, 0.01),
    ROW("smaller", 46, 512, TADD_TRIAL_DONE, 0.999, 1, 24000, 0.01),
    ROW("smaller", 47, 512, TADD_TRIAL_DONE, 0.1, 0, -1, 0.01),
    ROW("smaller", 48, 512, TADD_TRIAL_DONE, 0.1, 0, -1, 0.01),
    ROW("smaller", 49, 512, TADD_TRIAL_DONE, 0.1, 0, -1, 0.01),
    ROW("lr_lo", 42, 896, TADD_TRIAL_DONE, 0.999, 1, 5000, 0.02),
    ROW("lr_lo", 43, 896, TADD_TRIAL_DONE, 0.999, 1, 6000, 0.02),
    ROW("lr_lo", 44, 896, TADD_TRIAL_LOST, NAN, 0, -1, NAN),
    ROW("lr_lo", 45, 896, TADD_TRIAL_RUNNING, 0.4, 0, -1, 0.02),
    ROW("lr_lo", 46, 896, TADD_TRIAL_WAITING, NAN, 0, -1, NAN),
    ROW("lr_lo", 47, 0, TADD_TRIAL_WAITING, NAN, 0, -1, NAN),
    ROW("lr_lo", 48, 896, TADD_TRIAL_DONE, 0.1, 0, -1, 0.02),
    ROW("lr_lo", 49, 896, TADD_TRIAL_DONE, 0.1, 0, -1, 0.02),
};
#define N_ROWS ((int)(sizeof rows / sizeof rows[0]))

static const struct tadd_config_result *find(const struct tadd_results *r,
                                             const char *name)
{
    for (int i = 0; i < r->n_configs; i++)
        if (strcmp(r->configs[i].config, name) == 0)
            return &r->configs[i];
    return NULL;
}

static void test_compute(void)
{
    struct tadd_results r;
    char err[256] = "";
    struct tadd_results_options opt = {
        .sweep = "grid", .success_threshold = 0.99,
        .baseline_config = "baseline",
    };
    int rc = tadd_results_compute(rows, N_ROWS, &opt, &r, err, sizeof err);
    REQUIRE(rc == 0);
    REQUIRE(r.n_configs == 4);

    /* Baseline first, passes by params (smaller before lr_hi), then fails. */
    CHECK_STR_EQ(r.configs[0].config, "baseline");
    CHECK_STR_EQ(r.configs[1].config, "smaller");
    CHECK_STR_EQ(r.configs[2].config, "lr_hi");
    CHECK_STR_EQ(r.configs[3].config, "lr_lo");

    const struct tadd_config_result *b = find(&r, "baseline");
    CHECK_INT_EQ(b->n, 8);
    CHECK_INT_EQ(b->k, 4);
    CHECK_INT_EQ(b->n_done, 8);
    CHECK_INT_EQ(b->params, 896);
    CHECK(b->is_baseline);
    CHECK_INT_EQ(b->verdict.result, TADD_VERDICT_BASELINE);
    CHECK(isnan(b->fisher_p));
    CHECK_NEAR(b->rate, 0.5, 0, 0);
    CHECK_NEAR(b->wilson_lo, 0.215216062214, 1e-10, 0);
    CHECK_NEAR(b->median_steps, 13000.0, 0, 0);
    /* 13000 steps at 0.02 s per step of the pack. */
    CHECK_NEAR(b->median_seconds, 260.0, 1e-9, 0);
    CHECK_NEAR(b->median_best, (0.5 + 0.991) / 2, 1e-12, 0);
    CHECK_NEAR(b->max_best, 0.9999, 1e-12, 0);
    CHECK(!b->so_far);

    const struct tadd_config_result *s = find(&r, "smaller");
    CHECK_INT_EQ(s->verdict.result, TADD_VERDICT_PASS);
    CHECK_INT_EQ(s->verdict.rule, 1);
    CHECK_NEAR(s->median_seconds, 220.0, 1e-9, 0);
    /* 5/8 against 4/8. */
    CHECK_NEAR(s->fisher_p, 1.0, 1e-12, 0);

    const struct tadd_config_result *h = find(&r, "lr_hi");
    CHECK_INT_EQ(h->verdict.rule, 3);
    CHECK_NEAR(h->median_seconds, 200.0, 1e-9, 0);
    CHECK_STR_HAS(h->verdict.reason, "200.0 s < 260.0 s");

    const struct tadd_config_result *l = find(&r, "lr_lo");
    CHECK_INT_EQ(l->n, 7);
    CHECK_INT_EQ(l->k, 2);
    CHECK_INT_EQ(l->n_lost, 1);
    CHECK_INT_EQ(l->n_running, 1);
    CHECK_INT_EQ(l->n_waiting, 2);
    CHECK_INT_EQ(l->n_done, 4);
    CHECK_INT_EQ(l->params, 896);
    CHECK(l->so_far);
    CHECK(r.so_far);
    CHECK_INT_EQ(l->verdict.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(l->verdict.reason, "rule 2: same 896 params but rate "
                                     "2/7 < 4/8");
    CHECK_NEAR(l->fisher_p, 0.6083916083916083, 0, 1e-9);
    tadd_results_free(&r);
    CHECK(r.configs == NULL);
}

static void test_no_baseline(void)
{
    struct tadd_results r;
    char err[256] = "";
    struct tadd_results_options opt = { .sweep = "grid" };
    REQUIRE(tadd_results_compute(rows, N_ROWS, &opt, &r, err,
                                 sizeof err) == 0);
    /* Highest rate first (smaller 5/8), then 4/8 by params and name. */
    CHECK_STR_EQ(r.configs[0].config, "smaller");
    CHECK_STR_EQ(r.configs[1].config, "baseline");
    CHECK_STR_EQ(r.configs[2].config, "lr_hi");
    CHECK_STR_EQ(r.configs[3].config, "lr_lo");
    for (int i = 0; i < r.n_configs; i++) {
        CHECK_INT_EQ(r.configs[i].verdict.result, TADD_VERDICT_NONE);
        CHECK(isnan(r.configs[i].fisher_p));
    }
    tadd_results_free(&r);
}

static void test_other_sweep_baseline(void)
{
    struct tadd_results r;
    char err[256] = "";
    /* This sweep's lr_hi judged against the baseline of "first". */
    struct tadd_results_options opt = {
        .sweep = "second", .baseline_config = "baseline",
        .baseline_sweep = "first", .baseline_rows = rows,
        .n_baseline_rows = N_ROWS,
    };
    REQUIRE(tadd_results_compute(rows + 8, 8, &opt, &r, err,
                                 sizeof err) == 0);
    REQUIRE(r.n_configs == 2);
    CHECK_STR_EQ(r.configs[0].config, "baseline");
    CHECK_STR_EQ(r.configs[0].sweep, "first");
    CHECK(r.configs[0].is_baseline);
    CHECK_INT_EQ(r.configs[0].k, 4);
    CHECK_STR_EQ(r.configs[1].config, "lr_hi");
    CHECK(r.configs[1].sweep == NULL);
    CHECK_INT_EQ(r.configs[1].verdict.rule, 3);

    char *table = tadd_results_to_table(&r);
    REQUIRE(table);
    CHECK_STR_HAS(table, "baseline: first/baseline");
    CHECK_STR_HAS(table, "first/baseline");
    free(table);
    tadd_results_free(&r);

    opt.baseline_config = "absent";
    CHECK(tadd_results_compute(rows + 8, 8, &opt, &r, err, sizeof err) < 0);
    CHECK_STR_HAS(err, "baseline sweep 'first' has no trials of config "
                       "'absent'");
}

static void test_errors(void)
{
    struct tadd_results r;
    char err[256] = "";
    struct tadd_results_options opt = {
        .sweep = "grid", .baseline_config = "nope",
    };
    CHECK(tadd_results_compute(rows, N_ROWS, &opt, &r, err, sizeof err) < 0);
    CHECK_STR_HAS(err, "baseline config 'nope' has no trials");

    struct tadd_trial_row bad[2] = {
        ROW("a", 1, 896, TADD_TRIAL_DONE, 0.5, 0, -1, 0.02),
        ROW("a", 2, 872, TADD_TRIAL_DONE, 0.5, 0, -1, 0.02),
    };
    opt.baseline_config = NULL;
    CHECK(tadd_results_compute(bad, 2, &opt, &r, err, sizeof err) < 0);
    CHECK_STR_HAS(err, "config 'a': seed 2 has 872 params where an "
                       "earlier seed has 896");

    bad[1].config = NULL;
    CHECK(tadd_results_compute(bad, 2, &opt, &r, err, sizeof err) < 0);
    CHECK_STR_HAS(err, "trial row 1 has no config name");
}

static void test_time_attribution(void)
{
    struct tadd_trial_row t = ROW("a", 1, 896, TADD_TRIAL_DONE, 0.999, 1,
                                     3000, 0.05);
    t.success_elapsed = 999.0;
    /* The pack's measured rate wins over the worker's elapsed clock. */
    CHECK_NEAR(tadd_trial_seconds_to_success(&t), 150.0, 1e-9, 0);
    t.sec_per_step = NAN;
    CHECK_NEAR(tadd_trial_seconds_to_success(&t), 999.0, 0, 0);
    t.success_elapsed = NAN;
    CHECK(isnan(tadd_trial_seconds_to_success(&t)));
    t.sec_per_step = 0.05;
    t.success = 0;
    CHECK(isnan(tadd_trial_seconds_to_success(&t)));

    /* A success without a time makes the config's time unknown, and
     * rule 3 says so rather than comparing a partial median. */
    struct tadd_trial_row two[4] = {
        ROW("b", 1, 896, TADD_TRIAL_DONE, 0.999, 1, 1000, 0.02),
        ROW("b", 2, 896, TADD_TRIAL_DONE, 0.1, 0, -1, 0.02),
        ROW("c", 1, 896, TADD_TRIAL_DONE, 0.999, 1, 500, NAN),
        ROW("c", 2, 896, TADD_TRIAL_DONE, 0.1, 0, -1, NAN),
    };
    struct tadd_results r;
    char err[256];
    struct tadd_results_options opt = {
        .sweep = "s", .baseline_config = "b",
    };
    REQUIRE(tadd_results_compute(two, 4, &opt, &r, err, sizeof err) == 0);
    const struct tadd_config_result *c = find(&r, "c");
    CHECK(isnan(c->median_seconds));
    CHECK_NEAR(c->median_steps, 500, 0, 0);
    CHECK_STR_HAS(c->verdict.reason, "the config's time to success is "
                                     "unknown");
    tadd_results_free(&r);
}

/* Splits one CSV line into fields (RFC 4180 quotes); returns the count. */
static int csv_fields(const char *line, char fields[][256], int max)
{
    int n = 0;
    const char *p = line;
    for (;;) {
        char *out = n < max ? fields[n] : NULL;
        int len = 0;
        if (*p == '"') {
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"')
                    p++;
                if (out && len < 255)
                    out[len++] = *p;
                p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',' && *p != '\n') {
                if (out && len < 255)
                    out[len++] = *p;
                p++;
            }
        }
        if (out)
            out[len] = '\0';
        n++;
        if (*p != ',')
            return n;
        p++;
    }
}

static void test_csv(void)
{
    struct tadd_results r;
    char err[256];
    struct tadd_results_options opt = {
        .sweep = "grid", .success_threshold = 0.99,
        .baseline_config = "baseline",
    };
    REQUIRE(tadd_results_compute(rows, N_ROWS, &opt, &r, err, sizeof err) ==
            0);
    char *csv = tadd_results_to_csv(&r);
    REQUIRE(csv);

    static char fields[32][256];
    char *save = NULL, *line = strtok_r(csv, "\n", &save);
    REQUIRE(line);
    int n_header = csv_fields(line, fields, 32);
    CHECK_INT_EQ(n_header, 21);
    CHECK_STR_EQ(fields[0], "config");
    CHECK_STR_EQ(fields[20], "reason");
    int n_lines = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        CHECK_INT_EQ(csv_fields(line, fields, 32), n_header);
        if (n_lines == 0) {
            CHECK_STR_EQ(fields[0], "baseline");
            CHECK_STR_EQ(fields[2], "896");
            CHECK_STR_EQ(fields[5], "0.5");
            CHECK_STR_EQ(fields[8], "");       /* no p for the baseline */
            CHECK_STR_EQ(fields[10], "260");
            CHECK_STR_EQ(fields[18], "baseline");
        }
        if (n_lines == 3) {
            CHECK_STR_EQ(fields[0], "lr_lo");
            CHECK_STR_EQ(fields[17], "1");     /* so far */
            CHECK_STR_EQ(fields[18], "fail");
            CHECK_STR_HAS(fields[20], "rule 1: 896 params, not fewer");
            CHECK_STR_HAS(fields[20], "; rule 3: ");
        }
        n_lines++;
    }
    CHECK_INT_EQ(n_lines, 4);
    free(csv);
    tadd_results_free(&r);
}

static void test_json(void)
{
    struct tadd_results r;
    char err[256];
    struct tadd_results_options opt = {
        .sweep = "grid", .success_threshold = 0.99,
        .baseline_config = "baseline",
    };
    REQUIRE(tadd_results_compute(rows, N_ROWS, &opt, &r, err, sizeof err) ==
            0);
    cJSON *j = tadd_results_to_json(&r);
    REQUIRE(j);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    REQUIRE(text);
    /* Round trip through text, as summary.json is read. */
    j = cJSON_Parse(text);
    free(text);
    REQUIRE(j);
    CHECK_STR_EQ(cJSON_GetObjectItem(j, "sweep")->valuestring, "grid");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "so_far")));
    cJSON *base = cJSON_GetObjectItem(j, "baseline");
    CHECK_STR_EQ(cJSON_GetObjectItem(base, "config")->valuestring,
                 "baseline");
    CHECK_STR_EQ(cJSON_GetObjectItem(base, "sweep")->valuestring, "grid");
    cJSON *configs = cJSON_GetObjectItem(j, "configs");
    REQUIRE(cJSON_GetArraySize(configs) == 4);

    cJSON *c0 = cJSON_GetArrayItem(configs, 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(c0, "fisher_p")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(c0, "rule")));
    CHECK_STR_EQ(cJSON_GetObjectItem(c0, "verdict")->valuestring,
                 "baseline");

    cJSON *c1 = cJSON_GetArrayItem(configs, 1);
    CHECK_STR_EQ(cJSON_GetObjectItem(c1, "config")->valuestring, "smaller");
    CHECK_INT_EQ(cJSON_GetObjectItem(c1, "params")->valueint, 512);
    CHECK_INT_EQ(cJSON_GetObjectItem(c1, "n")->valueint, 8);
    CHECK_INT_EQ(cJSON_GetObjectItem(c1, "k")->valueint, 5);
    CHECK_INT_EQ(cJSON_GetObjectItem(c1, "rule")->valueint, 1);
    CHECK_STR_EQ(cJSON_GetObjectItem(c1, "verdict")->valuestring, "pass");
    cJSON *w = cJSON_GetObjectItem(c1, "wilson95");
    REQUIRE(cJSON_GetArraySize(w) == 2);
    CHECK_NEAR(cJSON_GetArrayItem(w, 0)->valuedouble, 0.305742394603, 1e-9,
               0);
    CHECK_NEAR(cJSON_GetArrayItem(w, 1)->valuedouble, 0.863155714176, 1e-9,
               0);
    CHECK_NEAR(cJSON_GetObjectItem(c1, "median_steps_to_success")
                   ->valuedouble, 22000, 0, 0);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(c1, "so_far")));
    cJSON_Delete(j);
    tadd_results_free(&r);
}

static void test_table(void)
{
    struct tadd_results r;
    char err[256];
    /* A long name must not push the table past 100 columns. */
    struct tadd_trial_row more[N_ROWS + 1];
    memcpy(more, rows, sizeof rows);
    more[N_ROWS] = (struct tadd_trial_row)ROW(
        "baseline.batch_size=384.lr=0.0135.warmup_steps=1000", 42, 896,
        TADD_TRIAL_DONE, 0.2, 0, -1, 0.02);
    struct tadd_results_options opt = {
        .sweep = "grid", .success_threshold = 0.99,
        .baseline_config = "baseline",
    };
    REQUIRE(tadd_results_compute(more, N_ROWS + 1, &opt, &r, err,
                                 sizeof err) == 0);
    char *table = tadd_results_to_table(&r);
    REQUIRE(table);
    int lines = 0;
    for (char *p = table; *p;) {
        size_t len = strcspn(p, "\n");
        if (len > 100)
            CHECK_FAIL_("table line over 100 columns: %.*s", (int)len, p);
        lines++;
        p += len + (p[len] == '\n');
    }
    CHECK(lines > 8);
    CHECK_STR_HAS(table, "Fisher p");
    CHECK_STR_HAS(table, "PASS r1");
    CHECK_STR_HAS(table, "2/7*");
    CHECK_STR_HAS(table, "so far");
    /* Three keys do not fit beside the numbers: whole names, shortened
     * in the middle. */
    CHECK_STR_HAS(table, "\nconfig ");
    CHECK_STR_HAS(table, "baseline.batch..rmup_steps=1000");
    CHECK_STR_HAS(table, "rule 1: 512 < 896 params and rate 5/8");
    free(table);
    tadd_results_free(&r);
}

static void test_name_split(void)
{
    struct tadd_config_name n;
    REQUIRE(tadd_config_name_split("baseline.batch_size=384.lr=0.0135",
                                   &n) == 0);
    CHECK_STR_EQ(n.variant, "baseline");
    CHECK_INT_EQ(n.n_keys, 2);
    CHECK_STR_EQ(n.key[0], "batch_size");
    CHECK_STR_EQ(n.value[0], "384");
    CHECK_STR_EQ(n.key[1], "lr");
    CHECK_STR_EQ(n.value[1], "0.0135");

    REQUIRE(tadd_config_name_split("no_fixed_mlp", &n) == 0);
    CHECK_STR_EQ(n.variant, "no_fixed_mlp");
    CHECK_INT_EQ(n.n_keys, 0);

    /* A variant name may hold dots of its own. */
    REQUIRE(tadd_config_name_split("v1.2.lr=1e-3", &n) == 0);
    CHECK_STR_EQ(n.variant, "v1.2");
    CHECK_STR_EQ(n.value[0], "1e-3");
}

static void test_table_grid(void)
{
    struct tadd_trial_row grid[] = {
        ROW("baseline.batch_size=512.lr=0.015", 1, 896, TADD_TRIAL_DONE,
            0.999, 1, 1000, 0.02),
        ROW("baseline.batch_size=384.lr=0.0135", 1, 896, TADD_TRIAL_DONE,
            0.2, 0, -1, 0.02),
        ROW("rmsnorm.batch_size=512.lr=0.015", 1, 872, TADD_TRIAL_DONE,
            0.999, 1, 900, 0.02),
    };
    struct tadd_results r;
    char err[256];
    struct tadd_results_options opt = {
        .sweep = "g", .success_threshold = 0.99,
        .baseline_config = "baseline.batch_size=512.lr=0.015",
    };
    REQUIRE(tadd_results_compute(grid, 3, &opt, &r, err, sizeof err) == 0);
    char *table = tadd_results_to_table(&r);
    REQUIRE(table);
    /* A variant column and one per grid key, values under their key. */
    CHECK_STR_HAS(table, "\nvariant  batch_size lr     params");
    CHECK_STR_HAS(table, "\nbaseline 512        0.015     896");
    CHECK_STR_HAS(table, "\nrmsnorm  512        0.015     872");
    CHECK_STR_HAS(table, "\nbaseline 384        0.0135    896");
    /* The verdicts keep the whole names. */
    CHECK_STR_HAS(table, "  rmsnorm.batch_size=512.lr=0.015: pass");
    free(table);
    tadd_results_free(&r);
}

/*
 * A variant baseline: variant "base" and variant "v" over the grid lr=1,
 * lr=2, all at 896 params. base.lr=1 is 2/8 and base.lr=2 7/8; v.lr=1 is
 * 4/8 (passes rule 2 against base.lr=1, would fail against base.lr=2)
 * and v.lr=2 5/8 (fails against base.lr=2, would pass against base.lr=1).
 */
static int variant_rows(struct tadd_trial_row *out, int skip_base1)
{
    static const struct { const char *name; int k; } cfgs[] = {
        {"base.lr=1", 2}, {"base.lr=2", 7}, {"v.lr=1", 4}, {"v.lr=2", 5},
    };
    int n = 0;

    for (int c = 0; c < 4; c++) {
        if (skip_base1 && c == 0)
            continue;
        for (int i = 0; i < 8; i++) {
            struct tadd_trial_row t = ROW(cfgs[c].name, 42 + i, 896,
                                          TADD_TRIAL_DONE,
                                          i < cfgs[c].k ? 0.999 : 0.2,
                                          i < cfgs[c].k, i < cfgs[c].k
                                          ? 1000 : -1, 0.01);
            out[n++] = t;
        }
    }
    return n;
}

static void test_variant_baseline(void)
{
    struct tadd_trial_row vrows[32];
    struct tadd_results r;
    char err[256] = "";
    struct tadd_results_options opt = {
        .sweep = "vs", .success_threshold = 0.99,
        .baseline_config = "base", .baseline_is_variant = 1,
    };
    int n = variant_rows(vrows, 0);

    REQUIRE(tadd_results_compute(vrows, n, &opt, &r, err, sizeof err) == 0);
    REQUIRE(r.n_configs == 4);
    CHECK(r.baseline_is_variant);
    CHECK(r.baseline_sweep == NULL);
    CHECK_STR_EQ(r.baseline_config, "base");
    /* Both baseline configs first (higher rate first), then the pass. */
    CHECK_STR_EQ(r.configs[0].config, "base.lr=2");
    CHECK_STR_EQ(r.configs[1].config, "base.lr=1");
    CHECK_STR_EQ(r.configs[2].config, "v.lr=1");
    CHECK_STR_EQ(r.configs[3].config, "v.lr=2");
    for (int i = 0; i < 2; i++) {
        CHECK(r.configs[i].is_baseline);
        CHECK_INT_EQ(r.configs[i].verdict.result, TADD_VERDICT_BASELINE);
        CHECK(isnan(r.configs[i].fisher_p));
        CHECK_STR_EQ(r.configs[i].baseline, r.configs[i].config);
    }
    const struct tadd_config_result *v1 = find(&r, "v.lr=1");
    const struct tadd_config_result *v2 = find(&r, "v.lr=2");
    REQUIRE(v1 && v2);
    CHECK(!v1->is_baseline);
    CHECK_STR_EQ(v1->baseline, "base.lr=1");
    CHECK_INT_EQ(v1->verdict.result, TADD_VERDICT_PASS);
    CHECK_INT_EQ(v1->verdict.rule, 2);
    CHECK_STR_HAS(v1->verdict.reason, "4/8 > 2/8");
    /* Fisher 4/8 against 2/8: 4872 / 8008. */
    CHECK_NEAR(v1->fisher_p, 4872.0 / 8008.0, 0, 1e-9);
    CHECK_STR_EQ(v2->baseline, "base.lr=2");
    CHECK_INT_EQ(v2->verdict.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v2->verdict.reason, "5/8 < 7/8");
    /* Fisher 5/8 against 7/8: 1036 / 1820. */
    CHECK_NEAR(v2->fisher_p, 1036.0 / 1820.0, 0, 1e-9);

    /* The outputs say which config each verdict used. */
    cJSON *j = tadd_results_to_json(&r);
    REQUIRE(j);
    cJSON *jb = cJSON_GetObjectItemCaseSensitive(j, "baseline");
    CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(jb, "sweep")),
                 "vs");
    CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(jb, "variant")),
                 "base");
    CHECK(cJSON_GetObjectItem(jb, "config") == NULL);
    cJSON *jc = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "configs"), 3);
    CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(jc, "config")),
                 "v.lr=2");
    CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(jc, "baseline")),
                 "base.lr=2");
    cJSON_Delete(j);

    char *csv = tadd_results_to_csv(&r);
    REQUIRE(csv);
    static char fields[32][256];
    char *save = NULL, *line = strtok_r(csv, "\n", &save);
    REQUIRE(line);
    CHECK_INT_EQ(csv_fields(line, fields, 32), 22);
    CHECK_STR_EQ(fields[21], "baseline");
    int n_lines = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        CHECK_INT_EQ(csv_fields(line, fields, 32), 22);
        CHECK_STR_EQ(fields[0], r.configs[n_lines].config);
        CHECK_STR_EQ(fields[21], r.configs[n_lines].baseline);
        n_lines++;
    }
    CHECK_INT_EQ(n_lines, 4);
    free(csv);

    char *table = tadd_results_to_table(&r);
    REQUIRE(table);
    CHECK_STR_HAS(table, "baseline: variant base, each config against its "
                         "config at the same grid values");
    CHECK_STR_HAS(table, "v.lr=1: pass against base.lr=1\n");
    CHECK_STR_HAS(table, "v.lr=2: fail against base.lr=2\n");
    free(table);
    tadd_results_free(&r);

    /* Judged against one config instead, v.lr=1 would fail. */
    struct tadd_results_options one = {
        .sweep = "vs", .success_threshold = 0.99,
        .baseline_config = "base.lr=2",
    };
    REQUIRE(tadd_results_compute(vrows, n, &one, &r, err, sizeof err) == 0);
    CHECK_INT_EQ(find(&r, "v.lr=1")->verdict.result, TADD_VERDICT_FAIL);
    CHECK(find(&r, "v.lr=1")->baseline == NULL);
    CHECK(!r.baseline_is_variant);
    csv = tadd_results_to_csv(&r);
    REQUIRE(csv);
    CHECK_INT_EQ(strcspn(csv, "\n"), strlen(
        "config,sweep,params,n,k,rate,wilson_lo,wilson_hi,fisher_p,"
        "median_steps_to_success,median_seconds_to_success,"
        "median_best_val_exact,max_best_val_exact,done,running,waiting,"
        "lost,so_far,verdict,rule,reason"));
    free(csv);
    tadd_results_free(&r);

    /* A grid point whose baseline config has no trials. */
    n = variant_rows(vrows, 1);
    CHECK_INT_EQ(tadd_results_compute(vrows, n, &opt, &r, err, sizeof err),
                 -1);
    CHECK_STR_HAS(err, "config 'v.lr=1' has no baseline: config "
                       "'base.lr=1' of variant 'base' has no trials");
    CHECK(r.configs == NULL);
}

static void test_grid_suffix(void)
{
    const char *n = "baseline.batch_size=384.lr=0.0135";

    CHECK_STR_EQ(tadd_config_grid_suffix(n), ".batch_size=384.lr=0.0135");
    CHECK_STR_EQ(tadd_config_grid_suffix("a.b-c.lr=0.1"), ".lr=0.1");
    CHECK_STR_EQ(tadd_config_grid_suffix("default"), "");
    CHECK_STR_EQ(tadd_config_grid_suffix("v1.2"), "");
}

int main(void)
{
    test_compute();
    test_no_baseline();
    test_other_sweep_baseline();
    test_errors();
    test_time_attribution();
    test_csv();
    test_json();
    test_table();
    test_table_grid();
    test_name_split();
    test_variant_baseline();
    test_grid_suffix();
    CHECK_DONE();
}
