/*
 * Per-config results from per-trial rows, and their three printed forms;
 * see results.h for what counts, how time is attributed and the order.
 */
#include "results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "text.h"

static const char *const outcome_names[] = {
    [TADD_TRIAL_WAITING] = "waiting",
    [TADD_TRIAL_RUNNING] = "running",
    [TADD_TRIAL_DONE] = "done",
    [TADD_TRIAL_DIVERGED] = "diverged",
    [TADD_TRIAL_LOST] = "lost",
};

const char *tadd_trial_outcome_name(enum tadd_trial_outcome o)
{
    if ((unsigned)o >= sizeof outcome_names / sizeof outcome_names[0])
        return "?";
    return outcome_names[o];
}

int tadd_trial_outcome_parse(const char *name)
{
    for (size_t i = 0; i < sizeof outcome_names / sizeof outcome_names[0];
         i++)
        if (name && strcmp(name, outcome_names[i]) == 0)
            return (int)i;
    return -1;
}

double tadd_trial_seconds_to_success(const struct tadd_trial_row *t)
{
    if (!t->success || t->success_step < 0)
        return NAN;
    if (isfinite(t->sec_per_step) && t->sec_per_step > 0)
        return (double)t->success_step * t->sec_per_step;
    if (isfinite(t->success_elapsed) && t->success_elapsed >= 0)
        return t->success_elapsed;
    return NAN;
}

/*
 * Fills r from the rows of config name (of n_rows rows; scratch holds
 * 3 * n_rows doubles). Returns 0, or -1 when the trials disagree on params.
 */
static int results_aggregate(struct tadd_config_result *r,
                             const struct tadd_trial_row *rows, int n_rows,
                             const char *name, double *scratch, char *err,
                             size_t errlen)
{
    double *steps = scratch, *secs = scratch + n_rows;
    double *best = scratch + 2 * n_rows;
    int n_steps = 0, n_secs = 0, n_best = 0, secs_missing = 0;

    r->params = 0;
    r->max_best = NAN;
    for (int i = 0; i < n_rows; i++) {
        const struct tadd_trial_row *t = &rows[i];
        if (strcmp(t->config, name) != 0)
            continue;
        if (t->params > 0 && r->params > 0 && t->params != r->params) {
            tadd_msgf(err, errlen,
                      "config '%s': seed %ld has %ld params where an "
                      "earlier seed has %ld", name, t->seed, t->params,
                      r->params);
            return -1;
        }
        if (t->params > 0)
            r->params = t->params;
        switch (t->outcome) {
        case TADD_TRIAL_LOST:
            r->n_lost++;
            continue;
        case TADD_TRIAL_WAITING: r->n_waiting++; break;
        case TADD_TRIAL_RUNNING: r->n_running++; break;
        case TADD_TRIAL_DONE:
        case TADD_TRIAL_DIVERGED: r->n_done++; break;
        }
        r->n++;
        if (isfinite(t->best_val_exact)) {
            best[n_best++] = t->best_val_exact;
            if (isnan(r->max_best) || t->best_val_exact > r->max_best)
                r->max_best = t->best_val_exact;
        }
        if (!t->success)
            continue;
        r->k++;
        if (t->success_step >= 0)
            steps[n_steps++] = (double)t->success_step;
        double s = tadd_trial_seconds_to_success(t);
        if (isnan(s))
            secs_missing = 1;
        else
            secs[n_secs++] = s;
    }
    r->rate = r->n > 0 ? (double)r->k / r->n : NAN;
    tadd_stats_wilson95(r->k, r->n, &r->wilson_lo, &r->wilson_hi);
    r->median_steps = tadd_stats_median(steps, n_steps);
    r->median_seconds = secs_missing ? NAN : tadd_stats_median(secs, n_secs);
    r->median_best = tadd_stats_median(best, n_best);
    r->fisher_p = NAN;
    r->so_far = r->n_waiting + r->n_running > 0;
    return 0;
}

const char *tadd_config_grid_suffix(const char *name)
{
    const char *eq = strchr(name, '=');
    const char *dot = NULL;

    if (!eq)
        return name + strlen(name);
    for (const char *p = name; p < eq; p++)
        if (*p == '.')
            dot = p;
    return dot ? dot : name + strlen(name);
}

static void results_judge(struct tadd_config_result *c,
                          const struct tadd_config_result *b)
{
    struct tadd_verdict_input ci = {
        c->params, c->n, c->k, c->median_seconds,
    };
    struct tadd_verdict_input bi = {
        b->params, b->n, b->k, b->median_seconds,
    };
    tadd_verdict_judge(&c->verdict, &ci, &bi);
    if (c->n > 0 && b->n > 0)
        c->fisher_p = tadd_stats_fisher_two_sided(c->k, c->n, b->k, b->n);
}

/* Sort group: 0 baseline, 1 passes, 2 the rest. */
static int results_group(const struct tadd_config_result *r)
{
    if (r->is_baseline)
        return 0;
    return r->verdict.result == TADD_VERDICT_PASS ? 1 : 2;
}

/* k1/n1 against k2/n2, an empty config counting as the lowest rate. */
static int results_rate_cmp(const struct tadd_config_result *a,
                            const struct tadd_config_result *b)
{
    if (a->n == 0 || b->n == 0)
        return (a->n > 0) - (b->n > 0);
    long long x = (long long)a->k * b->n, y = (long long)b->k * a->n;
    return (x > y) - (x < y);
}

static int results_order(const void *pa, const void *pb)
{
    const struct tadd_config_result *a = pa, *b = pb;
    int ga = results_group(a), gb = results_group(b);
    if (ga != gb)
        return ga - gb;
    int rate = results_rate_cmp(a, b);
    int params = (a->params > b->params) - (a->params < b->params);
    if (ga == 1 && params)
        return params;
    if (rate)
        return -rate;
    if (params)
        return params;
    return strcmp(a->config, b->config);
}

/* Index of the first row of each distinct config, in *firsts. */
static int results_distinct(const struct tadd_trial_row *rows, int n_rows,
                            int *firsts)
{
    int n = 0;
    for (int i = 0; i < n_rows; i++) {
        int seen = 0;
        for (int j = 0; j < n && !seen; j++)
            seen = strcmp(rows[firsts[j]].config, rows[i].config) == 0;
        if (!seen)
            firsts[n++] = i;
    }
    return n;
}

static int results_check_rows(const struct tadd_trial_row *rows, int n,
                              const char *what, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        if (!rows[i].config) {
            tadd_msgf(err, errlen, "%s row %d has no config name", what,
                      i);
            return -1;
        }
        if ((unsigned)rows[i].outcome > TADD_TRIAL_LOST) {
            tadd_msgf(err, errlen, "%s row %d (config '%s'): bad outcome "
                      "%d", what, i, rows[i].config, rows[i].outcome);
            return -1;
        }
    }
    return 0;
}

/* Sets the output's names; 0 or -1 on OOM. */
static int results_set_names(struct tadd_results *out,
                             const struct tadd_results_options *opt)
{
    out->sweep = strdup(opt->sweep);
    if (!out->sweep)
        return -1;
    if (opt->baseline_config) {
        out->baseline_config = strdup(opt->baseline_config);
        if (!out->baseline_config)
            return -1;
    }
    if (opt->baseline_config && opt->baseline_is_variant)
        out->baseline_is_variant = 1;
    else if (opt->baseline_config && opt->baseline_sweep) {
        out->baseline_sweep = strdup(opt->baseline_sweep);
        if (!out->baseline_sweep)
            return -1;
    }
    return 0;
}

/*
 * A variant baseline: judges every config against the baseline variant's
 * config at its grid point, named variant + the config's grid values.
 * Returns 0, or -1 when such a config has no trials.
 */
static int results_match_variant(struct tadd_results *out,
                                 const struct tadd_results_options *opt,
                                 char *err, size_t errlen)
{
    for (int i = 0; i < out->n_configs; i++) {
        struct tadd_config_result *c = &out->configs[i];
        const char *suffix = tadd_config_grid_suffix(c->config);
        size_t len = strlen(opt->baseline_config) + strlen(suffix) + 1;
        struct tadd_config_result *b = NULL;

        c->baseline = malloc(len);
        if (!c->baseline) {
            tadd_msgf(err, errlen, "out of memory");
            return -1;
        }
        snprintf(c->baseline, len, "%s%s", opt->baseline_config, suffix);
        for (int j = 0; j < out->n_configs && !b; j++)
            if (strcmp(out->configs[j].config, c->baseline) == 0)
                b = &out->configs[j];
        if (!b) {
            tadd_msgf(err, errlen, "sweep '%s': config '%s' has no "
                      "baseline: config '%s' of variant '%s' has no "
                      "trials", opt->sweep, c->config, c->baseline,
                      opt->baseline_config);
            return -1;
        }
        c->is_baseline = b == c;
        if (c->is_baseline)
            tadd_verdict_set_baseline(&c->verdict);
        else
            results_judge(c, b);
        out->so_far |= c->so_far;
    }
    return 0;
}

int tadd_results_compute(const struct tadd_trial_row *rows, int n_rows,
                         const struct tadd_results_options *opt,
                         struct tadd_results *out, char *err, size_t errlen)
{
    int *firsts = NULL;
    double *scratch = NULL;
    int rc = -1;
    int variant = opt->baseline_config && opt->baseline_is_variant;
    int external = opt->baseline_config && opt->baseline_sweep && !variant;
    int n_base = external ? opt->n_baseline_rows : 0;
    int most = n_rows > n_base ? n_rows : n_base;

    memset(out, 0, sizeof *out);
    if (!opt->sweep) {
        tadd_msgf(err, errlen, "results need the sweep's name");
        return -1;
    }
    if (n_rows < 0 || (n_rows > 0 && !rows) || n_base < 0 ||
        (n_base > 0 && !opt->baseline_rows)) {
        tadd_msgf(err, errlen, "sweep '%s': bad row counts", opt->sweep);
        return -1;
    }
    if (results_check_rows(rows, n_rows, "trial", err, errlen) < 0 ||
        results_check_rows(opt->baseline_rows, n_base, "baseline trial",
                           err, errlen) < 0)
        return -1;

    out->success_threshold = opt->success_threshold;
    firsts = calloc((size_t)n_rows + 1, sizeof *firsts);
    scratch = calloc(3 * (size_t)most + 1, sizeof *scratch);
    /* One slot more than the configs, for a baseline of another sweep. */
    out->configs = calloc((size_t)n_rows + 1, sizeof *out->configs);
    if (!firsts || !scratch || !out->configs ||
        results_set_names(out, opt) < 0) {
        tadd_msgf(err, errlen, "out of memory");
        goto cleanup;
    }

    int n_cfg = results_distinct(rows, n_rows, firsts);
    struct tadd_config_result *base = NULL;
    if (external) {
        base = &out->configs[out->n_configs++];
        base->config = strdup(opt->baseline_config);
        base->sweep = strdup(opt->baseline_sweep);
        if (!base->config || !base->sweep) {
            tadd_msgf(err, errlen, "out of memory");
            goto cleanup;
        }
        if (results_aggregate(base, opt->baseline_rows, n_base,
                              opt->baseline_config, scratch, err,
                              errlen) < 0)
            goto cleanup;
        if (base->n + base->n_lost == 0) {
            tadd_msgf(err, errlen, "baseline sweep '%s' has no trials of "
                      "config '%s'", opt->baseline_sweep,
                      opt->baseline_config);
            goto cleanup;
        }
    }
    for (int i = 0; i < n_cfg; i++) {
        struct tadd_config_result *c = &out->configs[out->n_configs++];
        c->config = strdup(rows[firsts[i]].config);
        if (!c->config) {
            tadd_msgf(err, errlen, "out of memory");
            goto cleanup;
        }
        if (results_aggregate(c, rows, n_rows, c->config, scratch, err,
                              errlen) < 0)
            goto cleanup;
        if (!external && !variant && opt->baseline_config &&
            strcmp(c->config, opt->baseline_config) == 0)
            base = c;
    }
    if (variant) {
        if (results_match_variant(out, opt, err, errlen) < 0)
            goto cleanup;
        goto sort;
    }
    if (opt->baseline_config && !base) {
        tadd_msgf(err, errlen, "sweep '%s': baseline config '%s' has no "
                  "trials", opt->sweep, opt->baseline_config);
        goto cleanup;
    }

    for (int i = 0; i < out->n_configs; i++) {
        struct tadd_config_result *c = &out->configs[i];
        if (!base)
            tadd_verdict_set_none(&c->verdict);
        else if (c == base)
            tadd_verdict_set_baseline(&c->verdict);
        else
            results_judge(c, base);
        c->is_baseline = c == base;
        out->so_far |= c->so_far;
    }
sort:
    qsort(out->configs, (size_t)out->n_configs, sizeof *out->configs,
          results_order);
    rc = 0;

cleanup:
    free(scratch);
    free(firsts);
    if (rc < 0)
        tadd_results_free(out);
    return rc;
}

void tadd_results_free(struct tadd_results *r)
{
    for (int i = 0; r->configs && i < r->n_configs; i++) {
        free(r->configs[i].config);
        free(r->configs[i].sweep);
        free(r->configs[i].baseline);
    }
    free(r->configs);
    free(r->sweep);
    free(r->baseline_config);
    free(r->baseline_sweep);
    memset(r, 0, sizeof *r);
}

/* --- config names ---------------------------------------------------- */

/* Length of a grid key at s followed by '=' ([a-z_]+=), or 0. */
static size_t curves_key_len(const char *s)
{
    size_t n = 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || s[n] == '_')
        n++;
    return n > 0 && s[n] == '=' ? n : 0;
}

/* The first '.' at or after s that starts ".key=", or NULL. Values such
 * as 0.0135 hold dots that do not. */
static const char *curves_next_cut(const char *s)
{
    for (; *s; s++)
        if (*s == '.' && curves_key_len(s + 1))
            return s;
    return NULL;
}

int tadd_config_name_split(const char *name, struct tadd_config_name *out)
{
    memset(out, 0, sizeof *out);
    const char *cut = curves_next_cut(name);
    size_t vlen = cut ? (size_t)(cut - name) : strlen(name);
    if (vlen >= sizeof out->variant)
        return -1;
    memcpy(out->variant, name, vlen);
    while (cut) {
        const char *key = cut + 1;
        size_t klen = curves_key_len(key);
        const char *val = key + klen + 1;
        cut = curves_next_cut(val);
        size_t len = cut ? (size_t)(cut - val) : strlen(val);
        if (out->n_keys == TADD_GRID_MAX_KEYS ||
            klen >= sizeof out->key[0] || len >= sizeof out->value[0])
            return -1;
        memcpy(out->key[out->n_keys], key, klen);
        memcpy(out->value[out->n_keys], val, len);
        out->n_keys++;
    }
    return 0;
}

/* --- JSON ------------------------------------------------------------ */

/* Adds a number, or null for NAN; returns 0 or -1 on OOM. */
static int results_json_num(cJSON *obj, const char *key, double v)
{
    cJSON *item = isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
    if (!item)
        return -1;
    cJSON_AddItemToObject(obj, key, item);
    return 0;
}

static cJSON *results_config_json(const struct tadd_config_result *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *wilson = cJSON_CreateArray();
    int bad = !o || !wilson;

    if (bad)
        goto fail;
    cJSON_AddItemToArray(wilson, cJSON_CreateNumber(c->wilson_lo));
    cJSON_AddItemToArray(wilson, cJSON_CreateNumber(c->wilson_hi));
    bad |= !cJSON_AddStringToObject(o, "config", c->config);
    if (c->sweep)
        bad |= !cJSON_AddStringToObject(o, "sweep", c->sweep);
    bad |= results_json_num(o, "params", c->params > 0 ? c->params : NAN);
    bad |= !cJSON_AddNumberToObject(o, "n", c->n);
    bad |= !cJSON_AddNumberToObject(o, "k", c->k);
    bad |= results_json_num(o, "rate", c->rate);
    cJSON_AddItemToObject(o, "wilson95", wilson);
    wilson = NULL;
    bad |= results_json_num(o, "fisher_p", c->fisher_p);
    bad |= results_json_num(o, "median_steps_to_success", c->median_steps);
    bad |= results_json_num(o, "median_seconds_to_success",
                            c->median_seconds);
    bad |= results_json_num(o, "median_best_val_exact", c->median_best);
    bad |= results_json_num(o, "max_best_val_exact", c->max_best);
    bad |= !cJSON_AddNumberToObject(o, "done", c->n_done);
    bad |= !cJSON_AddNumberToObject(o, "running", c->n_running);
    bad |= !cJSON_AddNumberToObject(o, "waiting", c->n_waiting);
    bad |= !cJSON_AddNumberToObject(o, "lost", c->n_lost);
    bad |= !cJSON_AddBoolToObject(o, "so_far", c->so_far);
    const char *verdict = tadd_verdict_result_name(c->verdict.result);
    bad |= !cJSON_AddStringToObject(o, "verdict", verdict);
    bad |= results_json_num(o, "rule", c->verdict.rule ? c->verdict.rule
                                                       : NAN);
    bad |= !cJSON_AddStringToObject(o, "reason", c->verdict.reason);
    if (c->baseline)
        bad |= !cJSON_AddStringToObject(o, "baseline", c->baseline);
    if (!bad)
        return o;
fail:
    cJSON_Delete(wilson);
    cJSON_Delete(o);
    return NULL;
}

cJSON *tadd_results_to_json(const struct tadd_results *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *configs = cJSON_CreateArray();
    cJSON *base = NULL;
    int bad = !root || !configs;

    if (bad)
        goto fail;
    bad |= !cJSON_AddStringToObject(root, "sweep", r->sweep);
    bad |= !cJSON_AddNumberToObject(root, "success_threshold",
                                    r->success_threshold);
    if (r->baseline_config) {
        base = cJSON_CreateObject();
        bad |= !base;
        if (base) {
            bad |= !cJSON_AddStringToObject(base, "sweep", r->baseline_sweep
                                            ? r->baseline_sweep : r->sweep);
            /* A variant baseline has no one config. */
            bad |= !cJSON_AddStringToObject(base, r->baseline_is_variant
                                            ? "variant" : "config",
                                            r->baseline_config);
            cJSON_AddItemToObject(root, "baseline", base);
        }
    } else {
        bad |= !cJSON_AddNullToObject(root, "baseline");
    }
    bad |= !cJSON_AddBoolToObject(root, "so_far", r->so_far);
    bad |= !cJSON_AddStringToObject(root, "time_attribution",
                                    "steps to success x the pack's "
                                    "wall-clock seconds per step");
    for (int i = 0; i < r->n_configs && !bad; i++) {
        cJSON *c = results_config_json(&r->configs[i]);
        bad |= !c;
        if (c)
            cJSON_AddItemToArray(configs, c);
    }
    cJSON_AddItemToObject(root, "configs", configs);
    configs = NULL;
    if (!bad)
        return root;
fail:
    cJSON_Delete(configs);
    cJSON_Delete(root);
    return NULL;
}

/* --- CSV ------------------------------------------------------------- */

static void results_csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A number field, empty when unknown, preceded by a comma. */
static void results_csv_num(FILE *f, double v)
{
    fputc(',', f);
    if (isfinite(v))
        fprintf(f, "%.10g", v);
}

/* Ends a memory stream (fclose sets *buf); the text or NULL on failure. */
static char *results_stream_close(FILE *f, char **buf)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

char *tadd_results_to_csv(const struct tadd_results *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    fputs("config,sweep,params,n,k,rate,wilson_lo,wilson_hi,fisher_p,"
          "median_steps_to_success,median_seconds_to_success,"
          "median_best_val_exact,max_best_val_exact,done,running,waiting,"
          "lost,so_far,verdict,rule,reason", f);
    fputs(r->baseline_is_variant ? ",baseline\n" : "\n", f);
    for (int i = 0; i < r->n_configs; i++) {
        const struct tadd_config_result *c = &r->configs[i];
        results_csv_str(f, c->config);
        fputc(',', f);
        results_csv_str(f, c->sweep ? c->sweep : r->sweep);
        results_csv_num(f, c->params > 0 ? c->params : NAN);
        fprintf(f, ",%d,%d", c->n, c->k);
        results_csv_num(f, c->rate);
        results_csv_num(f, c->wilson_lo);
        results_csv_num(f, c->wilson_hi);
        results_csv_num(f, c->fisher_p);
        results_csv_num(f, c->median_steps);
        results_csv_num(f, c->median_seconds);
        results_csv_num(f, c->median_best);
        results_csv_num(f, c->max_best);
        fprintf(f, ",%d,%d,%d,%d,%d,%s,", c->n_done, c->n_running,
                c->n_waiting, c->n_lost, c->so_far,
                tadd_verdict_result_name(c->verdict.result));
        if (c->verdict.rule)
            fprintf(f, "%d", c->verdict.rule);
        fputc(',', f);
        results_csv_str(f, c->verdict.reason);
        if (r->baseline_is_variant) {
            fputc(',', f);
            results_csv_str(f, c->baseline ? c->baseline : "");
        }
        fputc('\n', f);
    }
    return results_stream_close(f, &buf);
}

/* --- table ----------------------------------------------------------- */

/* Columns left for names beside the numbers, at 100 columns a line. */
#define TABLE_NAME_MAX 31

/*
 * How the names are shown: split, a variant column and one column per
 * grid key, when the names parse and fit; otherwise the whole name,
 * shortened in the middle when it must be.
 */
struct table_layout {
    int split;
    int name_w; /* the variant column, or the whole name's */
    int n_keys;
    char key[TADD_GRID_MAX_KEYS][64];
    int key_w[TADD_GRID_MAX_KEYS];
    struct tadd_config_name *names; /* (n_configs) when split */
};

/* The sweep-qualified name of a row into dst (len bytes). */
static void results_full_name(char *dst, size_t len,
                              const struct tadd_config_result *c)
{
    snprintf(dst, len, "%s%s%s", c->sweep ? c->sweep : "",
             c->sweep ? "/" : "", c->config);
}

static int table_key_index(const struct table_layout *t, const char *key)
{
    for (int i = 0; i < t->n_keys; i++)
        if (strcmp(t->key[i], key) == 0)
            return i;
    return -1;
}

/* Tries the split layout; 1 when every name parses and the columns fit. */
static int table_try_split(struct table_layout *t,
                           const struct tadd_results *r)
{
    char full[640];

    t->names = calloc((size_t)r->n_configs + 1, sizeof *t->names);
    if (!t->names)
        return 0;
    t->name_w = (int)strlen("config");
    for (int i = 0; i < r->n_configs; i++) {
        struct tadd_config_name *n = &t->names[i];
        results_full_name(full, sizeof full, &r->configs[i]);
        if (tadd_config_name_split(full, n) < 0)
            return 0;
        if ((int)strlen(n->variant) > t->name_w)
            t->name_w = (int)strlen(n->variant);
        for (int k = 0; k < n->n_keys; k++) {
            int idx = table_key_index(t, n->key[k]);
            if (idx < 0) {
                if (t->n_keys == TADD_GRID_MAX_KEYS)
                    return 0;
                idx = t->n_keys++;
                snprintf(t->key[idx], sizeof t->key[idx], "%s", n->key[k]);
                t->key_w[idx] = (int)strlen(n->key[k]);
            }
            if ((int)strlen(n->value[k]) > t->key_w[idx])
                t->key_w[idx] = (int)strlen(n->value[k]);
        }
    }
    int width = t->name_w;
    for (int k = 0; k < t->n_keys; k++)
        width += 1 + t->key_w[k];
    return t->n_keys > 0 && width <= TABLE_NAME_MAX;
}

static void table_layout_make(struct table_layout *t,
                              const struct tadd_results *r)
{
    char full[640];

    memset(t, 0, sizeof *t);
    t->split = table_try_split(t, r);
    if (t->split)
        return;
    t->n_keys = 0;
    t->name_w = (int)strlen("config");
    for (int i = 0; i < r->n_configs; i++) {
        results_full_name(full, sizeof full, &r->configs[i]);
        if ((int)strlen(full) > t->name_w)
            t->name_w = (int)strlen(full);
    }
    if (t->name_w > TABLE_NAME_MAX)
        t->name_w = TABLE_NAME_MAX;
}

/* The name columns of row i (or the header when c is NULL). */
static void table_names(FILE *f, const struct table_layout *t,
                        const struct tadd_config_result *c, int i)
{
    char full[640], shown[TABLE_NAME_MAX + 1];

    if (!c) {
        fprintf(f, "%-*s", t->name_w, t->split ? "variant" : "config");
        for (int k = 0; k < t->n_keys; k++)
            fprintf(f, " %-*s", t->key_w[k], t->key[k]);
        return;
    }
    if (t->split) {
        const struct tadd_config_name *n = &t->names[i];
        fprintf(f, "%-*s", t->name_w, n->variant);
        for (int k = 0; k < t->n_keys; k++) {
            const char *v = "-";
            for (int j = 0; j < n->n_keys; j++)
                if (strcmp(n->key[j], t->key[k]) == 0)
                    v = n->value[j];
            fprintf(f, " %-*s", t->key_w[k], v);
        }
        return;
    }
    results_full_name(full, sizeof full, c);
    int len = (int)strlen(full), w = t->name_w;
    if (len <= w) {
        fprintf(f, "%-*s", w, full);
        return;
    }
    /* Keep the head and the tail, where grid values are. */
    int head = (w - 2) / 2, tail = w - 2 - head;
    snprintf(shown, sizeof shown, "%.*s..%s", head, full,
             full + len - tail);
    fprintf(f, "%-*s", w, shown);
}

/* v with that many decimals, or "-" when unknown. */
static void results_table_fixed(char *dst, size_t n, double v, int decimals)
{
    if (isfinite(v))
        snprintf(dst, n, "%.*f", decimals, v);
    else
        snprintf(dst, n, "-");
}

static void results_table_row(FILE *f, const struct table_layout *t,
                              const struct tadd_config_result *c, int i)
{
    char kn[24], rate[16], ci[24];
    char p[16], steps[24], secs[24], best[16], verdict[16];

    snprintf(kn, sizeof kn, "%d/%d%s", c->k, c->n, c->so_far ? "*" : "");
    results_table_fixed(rate, sizeof rate, c->rate, 2);
    snprintf(ci, sizeof ci, "%.2f-%.2f", c->wilson_lo, c->wilson_hi);
    if (isfinite(c->fisher_p))
        snprintf(p, sizeof p, "%.3g", c->fisher_p);
    else
        snprintf(p, sizeof p, "-");
    results_table_fixed(steps, sizeof steps, c->median_steps, 0);
    /* Short times keep a decimal: tiny test runs take seconds. */
    results_table_fixed(secs, sizeof secs, c->median_seconds,
                        c->median_seconds < 10 ? 1 : 0);
    results_table_fixed(best, sizeof best, c->max_best, 4);
    if (c->verdict.result == TADD_VERDICT_PASS)
        snprintf(verdict, sizeof verdict, "PASS r%d", c->verdict.rule);
    else if (c->verdict.result == TADD_VERDICT_FAIL)
        snprintf(verdict, sizeof verdict, "fail");
    else if (c->verdict.result == TADD_VERDICT_BASELINE)
        snprintf(verdict, sizeof verdict, "baseline");
    else
        snprintf(verdict, sizeof verdict, "-");
    table_names(f, t, c, i);
    if (c->params > 0)
        fprintf(f, " %6ld", c->params);
    else
        fprintf(f, " %6s", "?");
    fprintf(f, " %6s %4s %9s %8s %6s %7s %6s %s\n", kn, rate, ci, p, steps,
            secs, best, verdict);
}

/* Writes text wrapped at width columns, continuation lines indented. */
static void results_table_wrap(FILE *f, const char *text, int indent,
                               int width)
{
    int col = indent;
    fprintf(f, "%*s", indent, "");
    while (*text) {
        int word = (int)strcspn(text, " ");
        if (col > indent && col + 1 + word > width) {
            fprintf(f, "\n%*s", indent + 2, "");
            col = indent + 2;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", word, text);
        col += word;
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

/* The reasons of a verdict, one rule a line ("; " separates them). */
static void results_table_reasons(FILE *f, const struct tadd_config_result *c)
{
    char line[TADD_VERDICT_REASON_LEN];
    const char *s = c->verdict.reason;

    fprintf(f, "  %s%s%s: %s", c->sweep ? c->sweep : "", c->sweep ? "/"
            : "", c->config, tadd_verdict_result_name(c->verdict.result));
    if (c->baseline)
        fprintf(f, " against %s", c->baseline);
    fputc('\n', f);
    while (*s) {
        const char *end = strstr(s, "; ");
        int len = end ? (int)(end - s) : (int)strlen(s);
        snprintf(line, sizeof line, "%.*s", len, s);
        results_table_wrap(f, line, 4, 100);
        s += len;
        if (end)
            s += 2;
    }
}

char *tadd_results_to_table(const struct tadd_results *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct table_layout t;

    if (!f)
        return NULL;
    table_layout_make(&t, r);

    fprintf(f, "sweep %s (success: best_val_exact > %g)\n", r->sweep,
            r->success_threshold);
    if (r->baseline_config && r->baseline_is_variant)
        fprintf(f, "baseline: variant %s, each config against its config "
                "at the same grid values\n", r->baseline_config);
    else if (r->baseline_config)
        fprintf(f, "baseline: %s%s%s\n", r->baseline_sweep ?
                r->baseline_sweep : "", r->baseline_sweep ? "/" : "",
                r->baseline_config);
    else
        fprintf(f, "no baseline: no verdicts\n");
    table_names(f, &t, NULL, 0);
    fprintf(f, " %6s %6s %4s %9s %8s %6s %7s %6s %s\n", "params", "k/n",
            "rate", "95% CI", "Fisher p", "steps", "seconds", "best",
            "verdict");
    for (int i = 0; i < r->n_configs; i++)
        results_table_row(f, &t, &r->configs[i], i);
    free(t.names);
    if (r->so_far)
        fprintf(f, "* trials still waiting or running: counts so far\n");
    fprintf(f, "steps, seconds: median to success; best: highest "
            "best_val_exact\n");
    if (r->baseline_config) {
        fprintf(f, "\nverdicts:\n");
        for (int i = 0; i < r->n_configs; i++)
            if (!r->configs[i].is_baseline)
                results_table_reasons(f, &r->configs[i]);
    }
    return results_stream_close(f, &buf);
}
