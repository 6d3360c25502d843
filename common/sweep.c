/*
 * The sweep file: validation of every key, then expansion into configs.
 *
 * Accepted values beyond the config fields (see config.c for those):
 *
 *   name               required, [A-Za-z0-9._-]{1,64}
 *   description        a string of at most 4096 bytes
 *   base               an object of config fields
 *   variants           a non-empty list of objects: "name" (as above,
 *                      unique) and config fields
 *   grid               an object: config field -> non-empty list of
 *                      distinct values of that field
 *   seeds              {"start", "count"} (start >= 0, default 42; count
 *                      >= 1, default 8) or a non-empty list of distinct
 *                      integers; every seed in [0, 2^53)
 *   baseline           a config name of this sweep, else a variant name
 *                      of it (each config against that variant's config
 *                      at its grid point), or {"sweep": NAME, "config":
 *                      CONFIG} naming another sweep's config
 *   success_threshold  a number in (0, 1]
 *   priority           an integer in -10^6..10^6
 *
 * The expansion is capped at TADD_SWEEP_MAX_CONFIGS configs and
 * TADD_SWEEP_MAX_TRIALS trials, checked before anything is built.
 */
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "jsonkeys.h"
#include "text.h"

#define SWEEP_MAX_CONFIGS 10000
#define SWEEP_MAX_DESCRIPTION 4096
#define SWEEP_MAX_PRIORITY 1000000

/* What the grid holds once checked: per key, the values and their text. */
struct sweep_axis {
    const char *key;
    const cJSON *values; /* the JSON list */
    int n;
    char (*text)[TADD_CONFIG_NAME_MAX + 1]; /* (n) name fragments */
};

struct sweep_variant {
    const char *name;
    struct tadd_config cfg; /* defaults + base + this variant */
};

/* Sweep messages quote at most 64 characters of a string. */
static const char *sw_describe(const cJSON *v, char *buf, size_t len)
{
    return tadd_json_describe(v, 64, buf, len);
}

int tadd_sweep_name_is_valid(const char *name)
{
    size_t n = 0;

    if (!name)
        return 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok || n >= TADD_SWEEP_NAME_MAX)
            return 0;
    }
    /* "." and ".." match the pattern but would name the wrong folder. */
    return n > 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* A name value: a string that is a valid sweep or variant name. */
static int sw_get_name(const cJSON *v, const char *path, const char **out,
                       char *err, size_t errlen)
{
    char desc[96];

    if (!cJSON_IsString(v) || !tadd_sweep_name_is_valid(v->valuestring)) {
        tadd_msgf(err, errlen,
                  "%s: must be a name of 1 to 64 characters from "
                  "[A-Za-z0-9._-], got %s", path,
                  sw_describe(v, desc, sizeof(desc)));
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

/* An integral JSON number in [lo, hi]. */
static int sw_get_int(const cJSON *v, double lo, double hi, const char *path,
                      const char *what, int64_t *out, char *err,
                      size_t errlen)
{
    char desc[96];
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

    if (!isfinite(d) || d != floor(d) || d < lo || d > hi) {
        tadd_msgf(err, errlen, "%s: must be %s, got %s", path, what,
                  sw_describe(v, desc, sizeof(desc)));
        return -1;
    }
    *out = (int64_t)d;
    return 0;
}

static int sw_seed_cmp(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;

    return *x < *y ? -1 : *x > *y;
}

static int sw_parse_seeds(const cJSON *v, struct tadd_sweep *s, char *err,
                          size_t errlen)
{
    const double limit = (double)(TADD_SEED_LIMIT - 1);
    int64_t start = TADD_DEFAULT_SEED_START, count = TADD_DEFAULT_SEED_COUNT;
    char path[64], desc[96];
    const cJSON *it;

    if (!v) {
        /* The default: seeds 42..49. */
    } else if (cJSON_IsObject(v)) {
        if (tadd_json_check_unique_keys(v, "seeds", err, errlen) != 0)
            return -1;
        cJSON_ArrayForEach(it, v) {
            if (strcmp(it->string, "start") == 0) {
                if (sw_get_int(it, 0, limit, "seeds.start",
                               "an integer in [0, 2^53)", &start, err,
                               errlen) != 0)
                    return -1;
            } else if (strcmp(it->string, "count") == 0) {
                if (sw_get_int(it, 1, TADD_SWEEP_MAX_TRIALS, "seeds.count",
                               "an integer in 1..100000", &count, err,
                               errlen) != 0)
                    return -1;
            } else {
                tadd_msgf(err, errlen,
                          "seeds.%s: unknown key (expected \"start\" and "
                          "\"count\")", it->string);
                return -1;
            }
        }
        if ((double)start + (double)count - 1 > limit) {
            tadd_msgf(err, errlen,
                      "seeds: start %lld + count %lld runs past 2^53 - 1",
                      (long long)start, (long long)count);
            return -1;
        }
    } else if (cJSON_IsArray(v)) {
        count = cJSON_GetArraySize(v);
        if (count < 1 || count > TADD_SWEEP_MAX_TRIALS) {
            tadd_msgf(err, errlen, "seeds: a list must hold 1 to %d seeds, "
                      "got %lld", TADD_SWEEP_MAX_TRIALS, (long long)count);
            return -1;
        }
    } else {
        tadd_msgf(err, errlen,
                  "seeds: must be {\"start\": S, \"count\": N} or a list of "
                  "seeds, got %s", sw_describe(v, desc, sizeof(desc)));
        return -1;
    }

    s->seeds = malloc((size_t)count * sizeof(int64_t));
    if (!s->seeds) {
        tadd_msgf(err, errlen, "seeds: out of memory");
        return -1;
    }
    s->n_seeds = (int)count;
    if (!cJSON_IsArray(v)) {
        for (int64_t i = 0; i < count; i++)
            s->seeds[i] = start + i;
        return 0;
    }
    {
        int i = 0;
        cJSON_ArrayForEach(it, v) {
            snprintf(path, sizeof(path), "seeds[%d]", i);
            if (sw_get_int(it, 0, limit, path, "an integer in [0, 2^53)",
                           &s->seeds[i], err, errlen) != 0)
                return -1;
            i++;
        }
    }
    /* Duplicates: sort a copy, then name the first repeated value. */
    {
        int64_t *sorted = malloc((size_t)count * sizeof(int64_t));
        if (!sorted) {
            tadd_msgf(err, errlen, "seeds: out of memory");
            return -1;
        }
        memcpy(sorted, s->seeds, (size_t)count * sizeof(int64_t));
        qsort(sorted, (size_t)count, sizeof(int64_t), sw_seed_cmp);
        for (int64_t i = 1; i < count; i++) {
            if (sorted[i] == sorted[i - 1]) {
                int first = -1, second = -1;
                for (int j = 0; j < (int)count; j++) {
                    if (s->seeds[j] != sorted[i])
                        continue;
                    if (first < 0)
                        first = j;
                    else if (second < 0)
                        second = j;
                }
                tadd_msgf(err, errlen, "seeds[%d]: %lld repeats seeds[%d]",
                          second, (long long)sorted[i], first);
                free(sorted);
                return -1;
            }
        }
        free(sorted);
    }
    return 0;
}

/* Applies the config fields of a variant object (all keys but "name"). */
static int sw_apply_variant(struct tadd_config *cfg, const cJSON *obj,
                            const char *path, char *err, size_t errlen)
{
    char p[TADD_ERR_LEN];
    const cJSON *it;

    cJSON_ArrayForEach(it, obj) {
        if (strcmp(it->string, "name") == 0)
            continue;
        snprintf(p, sizeof(p), "%s.%s", path, it->string);
        if (!tadd_config_is_field(it->string)) {
            tadd_msgf(err, errlen, "%s: unknown field", p);
            return -1;
        }
        if (tadd_config_set_field(cfg, it->string, it, p, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int sw_parse_variants(const cJSON *v, const struct tadd_config *base,
                             struct sweep_variant **out, int *n_out,
                             char *err, size_t errlen)
{
    struct sweep_variant *vars;
    char path[64], desc[96];
    const cJSON *it;
    int n, i = 0;

    if (!v) {
        /* No variants: one, named "default", of the base alone. */
        vars = calloc(1, sizeof(*vars));
        if (!vars) {
            tadd_msgf(err, errlen, "variants: out of memory");
            return -1;
        }
        vars[0].name = "default";
        vars[0].cfg = *base;
        *out = vars;
        *n_out = 1;
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1) {
        tadd_msgf(err, errlen, "variants: must be a non-empty list of objects, "
                  "got %s", cJSON_IsArray(v) ? "an empty list"
                                          : sw_describe(v, desc,
                                                        sizeof(desc)));
        return -1;
    }
    n = cJSON_GetArraySize(v);
    if (n > SWEEP_MAX_CONFIGS) {
        tadd_msgf(err, errlen, "variants: %d variants, more than %d", n,
                  SWEEP_MAX_CONFIGS);
        return -1;
    }
    vars = calloc((size_t)n, sizeof(*vars));
    if (!vars) {
        tadd_msgf(err, errlen, "variants: out of memory");
        return -1;
    }
    cJSON_ArrayForEach(it, v) {
        const cJSON *name;
        snprintf(path, sizeof(path), "variants[%d]", i);
        if (!cJSON_IsObject(it)) {
            tadd_msgf(err, errlen, "%s: must be an object, got %s", path,
                      sw_describe(it, desc, sizeof(desc)));
            goto fail;
        }
        if (tadd_json_check_unique_keys(it, path, err, errlen) != 0)
            goto fail;
        name = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (!name) {
            tadd_msgf(err, errlen, "%s.name: missing", path);
            goto fail;
        }
        snprintf(path, sizeof(path), "variants[%d].name", i);
        if (sw_get_name(name, path, &vars[i].name, err, errlen) != 0)
            goto fail;
        for (int j = 0; j < i; j++) {
            if (strcmp(vars[j].name, vars[i].name) == 0) {
                tadd_msgf(err, errlen,
                          "%s: \"%s\" is also the name of variants[%d]", path,
                          vars[i].name, j);
                goto fail;
            }
        }
        snprintf(path, sizeof(path), "variants[%d]", i);
        vars[i].cfg = *base;
        if (sw_apply_variant(&vars[i].cfg, it, path, err, errlen) != 0)
            goto fail;
        i++;
    }
    *out = vars;
    *n_out = n;
    return 0;

fail:
    free(vars);
    return -1;
}

static void sw_free_axes(struct sweep_axis *axes, int n)
{
    for (int i = 0; i < n; i++)
        free(axes[i].text);
    free(axes);
}

/* Checks every grid value on its own and records its name fragment. */
static int sw_parse_grid(const cJSON *g, struct sweep_axis **out, int *n_out,
                         char *err, size_t errlen)
{
    struct sweep_axis *axes = NULL;
    char path[TADD_ERR_LEN], desc[96];
    const cJSON *it;
    int n = 0, k = 0;

    *out = NULL;
    *n_out = 0;
    if (!g)
        return 0;
    if (!cJSON_IsObject(g)) {
        tadd_msgf(err, errlen, "grid: must be an object of field -> list of "
                  "values, got %s", sw_describe(g, desc, sizeof(desc)));
        return -1;
    }
    if (tadd_json_check_unique_keys(g, "grid", err, errlen) != 0)
        return -1;
    cJSON_ArrayForEach(it, g)
        n++;
    axes = calloc((size_t)n + 1, sizeof(*axes));
    if (!axes) {
        tadd_msgf(err, errlen, "grid: out of memory");
        return -1;
    }
    cJSON_ArrayForEach(it, g) {
        struct sweep_axis *a = &axes[k];
        const cJSON *val;
        int i = 0;
        a->key = it->string;
        a->values = it;
        if (!tadd_config_is_field(it->string)) {
            tadd_msgf(err, errlen, "grid.%s: unknown field", it->string);
            goto fail;
        }
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) < 1) {
            tadd_msgf(err, errlen,
                      "grid.%s: must be a non-empty list of values, got %s",
                      it->string, cJSON_IsArray(it) ? "an empty list"
                                                 : sw_describe(it, desc,
                                                               sizeof(desc)));
            goto fail;
        }
        a->n = cJSON_GetArraySize(it);
        if (a->n > SWEEP_MAX_CONFIGS) {
            tadd_msgf(err, errlen, "grid.%s: %d values, more than %d",
                      it->string, a->n, SWEEP_MAX_CONFIGS);
            goto fail;
        }
        a->text = calloc((size_t)a->n, sizeof(*a->text));
        k++;
        if (!a->text) {
            tadd_msgf(err, errlen, "grid: out of memory");
            goto fail;
        }
        cJSON_ArrayForEach(val, it) {
            struct tadd_config scratch;
            tadd_config_defaults(&scratch);
            snprintf(path, sizeof(path), "grid.%s[%d]", it->string, i);
            if (tadd_config_set_field(&scratch, it->string, val, path, err,
                                      errlen) != 0)
                goto fail;
            if (tadd_config_field_text(&scratch, it->string, a->text[i],
                                       sizeof(a->text[i])) != 0) {
                tadd_msgf(err, errlen, "%s: value too long for a config name",
                          path);
                goto fail;
            }
            /* Equal values would give two configs of the same name. */
            for (int j = 0; j < i; j++) {
                if (strcmp(a->text[j], a->text[i]) == 0) {
                    tadd_msgf(err, errlen, "%s: %s repeats grid.%s[%d]", path,
                              a->text[i], it->string, j);
                    goto fail;
                }
            }
            i++;
        }
    }
    *out = axes;
    *n_out = n;
    return 0;

fail:
    sw_free_axes(axes, k);
    return -1;
}

static int sw_name_cmp(const void *a, const void *b)
{
    const struct tadd_sweep_config *const *x = a, *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

/* Builds every config: variants x grid points, each one validated. */
static int sw_expand(struct tadd_sweep *s, const struct sweep_variant *vars,
                     int n_vars, const struct sweep_axis *axes, int n_axes,
                     char *err, size_t errlen)
{
    int idx[64];
    double points = 1, trials;
    int n_points, c = 0;
    const struct tadd_sweep_config **order = NULL;

    if (n_axes > 64) {
        tadd_msgf(err, errlen, "grid: %d keys, more than 64", n_axes);
        return -1;
    }
    for (int k = 0; k < n_axes; k++)
        points *= axes[k].n;
    trials = points * n_vars * s->n_seeds;
    if (points * n_vars > SWEEP_MAX_CONFIGS ||
        trials > TADD_SWEEP_MAX_TRIALS) {
        tadd_msgf(err, errlen,
                  "sweep expands to %.0f configs x %d seeds = %.0f trials, "
                  "more than the limit of %d configs and %d trials",
                  points * n_vars, s->n_seeds, trials, SWEEP_MAX_CONFIGS,
                  TADD_SWEEP_MAX_TRIALS);
        return -1;
    }
    n_points = (int)points;
    s->configs = calloc((size_t)(n_points * n_vars), sizeof(*s->configs));
    if (!s->configs) {
        tadd_msgf(err, errlen, "sweep: out of memory");
        return -1;
    }
    for (int v = 0; v < n_vars; v++) {
        memset(idx, 0, sizeof(idx));
        for (int p = 0; p < n_points; p++) {
            struct tadd_sweep_config *sc = &s->configs[c];
            char verr[TADD_ERR_LEN];
            size_t len;
            int over;
            sc->cfg = vars[v].cfg;
            snprintf(sc->variant, sizeof(sc->variant), "%s", vars[v].name);
            len = (size_t)snprintf(sc->name, sizeof(sc->name), "%s",
                                   vars[v].name);
            over = 0;
            for (int k = 0; k < n_axes; k++) {
                const cJSON *val = cJSON_GetArrayItem(axes[k].values,
                                                      idx[k]);
                char p2[TADD_ERR_LEN];
                snprintf(p2, sizeof(p2), "grid.%s[%d]", axes[k].key, idx[k]);
                /* Checked in sw_parse_grid already; cannot fail here. */
                if (tadd_config_set_field(&sc->cfg, axes[k].key, val, p2, err,
                                          errlen) != 0)
                    return -1;
                if (len < sizeof(sc->name))
                    len += (size_t)snprintf(sc->name + len,
                                            sizeof(sc->name) - len, ".%s=%s",
                                            axes[k].key,
                                            axes[k].text[idx[k]]);
                over = len >= sizeof(sc->name);
            }
            if (over || !tadd_name_is_safe(sc->name)) {
                tadd_msgf(err, errlen,
                          "config %.*s...: name longer than %d characters "
                          "(shorten the variant name or the grid)", 64,
                          sc->name, TADD_CONFIG_NAME_MAX);
                return -1;
            }
            if (tadd_config_validate(&sc->cfg, verr, sizeof(verr)) != 0) {
                tadd_msgf(err, errlen, "config %s: %s", sc->name, verr);
                return -1;
            }
            c++;
            s->n_configs = c;
            /* Odometer step: the last key moves fastest. */
            for (int k = n_axes - 1; k >= 0; k--) {
                if (++idx[k] < axes[k].n)
                    break;
                idx[k] = 0;
            }
        }
    }

    /* Distinct variant names and distinct grid values make distinct
     * names; a sorted pass checks it rather than trusting it. */
    order = malloc((size_t)c * sizeof(*order));
    if (!order) {
        tadd_msgf(err, errlen, "sweep: out of memory");
        return -1;
    }
    for (int i = 0; i < c; i++)
        order[i] = &s->configs[i];
    qsort(order, (size_t)c, sizeof(*order), sw_name_cmp);
    for (int i = 1; i < c; i++) {
        if (strcmp(order[i]->name, order[i - 1]->name) == 0) {
            tadd_msgf(err, errlen, "config %s: produced twice", order[i]->name);
            free(order);
            return -1;
        }
    }
    free(order);
    return 0;
}

/* 1 when name is one of the n variants (the one "default" without). */
static int sw_is_variant(const struct sweep_variant *vars, int n,
                         const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(vars[i].name, name) == 0)
            return 1;
    return 0;
}

/*
 * The baseline. A string names a config of this sweep or, when no config
 * has that name, a variant of it: each config is then judged against the
 * baseline variant's config at its own grid point. A config name wins
 * because without a grid a variant's only config carries its name, and
 * the two readings agree. The object form names a config only.
 */
static int sw_parse_baseline(const cJSON *v, struct tadd_sweep *s,
                             const struct sweep_variant *vars, int n_vars,
                             char *err, size_t errlen)
{
    char desc[96];
    const cJSON *it;
    const char *sweep = NULL, *config = NULL;

    if (!v)
        return 0;
    if (cJSON_IsString(v)) {
        sweep = s->name;
        config = v->valuestring;
    } else if (cJSON_IsObject(v)) {
        if (tadd_json_check_unique_keys(v, "baseline", err, errlen) != 0)
            return -1;
        cJSON_ArrayForEach(it, v) {
            if (strcmp(it->string, "sweep") == 0) {
                if (sw_get_name(it, "baseline.sweep", &sweep, err,
                                errlen) != 0)
                    return -1;
            } else if (strcmp(it->string, "config") == 0) {
                if (!cJSON_IsString(it)) {
                    tadd_msgf(err, errlen,
                              "baseline.config: must be a config name, got %s",
                              sw_describe(it, desc, sizeof(desc)));
                    return -1;
                }
                config = it->valuestring;
            } else {
                tadd_msgf(err, errlen,
                          "baseline.%s: unknown key (expected \"sweep\" and "
                          "\"config\")", it->string);
                return -1;
            }
        }
        if (!sweep || !config) {
            tadd_msgf(err, errlen, "baseline.%s: missing",
                      !sweep ? "sweep" : "config");
            return -1;
        }
    } else {
        tadd_msgf(err, errlen,
                  "baseline: must be a config name or {\"sweep\": NAME, "
                  "\"config\": CONFIG}, got %s",
                  sw_describe(v, desc, sizeof(desc)));
        return -1;
    }
    if (!tadd_name_is_safe(config)) {
        tadd_msgf(err, errlen, "baseline%s: %s is not a valid config name",
                  cJSON_IsObject(v) ? ".config" : "",
                  sw_describe(cJSON_IsObject(v)
                               ? cJSON_GetObjectItemCaseSensitive(v, "config")
                               : v,
                           desc, sizeof(desc)));
        return -1;
    }
    if (strcmp(sweep, s->name) == 0 && tadd_sweep_find_config(s, config) < 0) {
        if (cJSON_IsString(v) && sw_is_variant(vars, n_vars, config)) {
            s->baseline_is_variant = 1;
        } else if (cJSON_IsString(v)) {
            tadd_msgf(err, errlen,
                      "baseline: no config named \"%s\" in this sweep and "
                      "no variant of that name (its first config is "
                      "\"%s\", its first variant \"%s\")", config,
                      s->n_configs > 0 ? s->configs[0].name : "",
                      n_vars > 0 ? vars[0].name : "");
            return -1;
        } else {
            tadd_msgf(err, errlen,
                      "baseline.config: no config named \"%s\" in this "
                      "sweep (its first config is \"%s\")", config,
                      s->n_configs > 0 ? s->configs[0].name : "");
            return -1;
        }
    }
    snprintf(s->baseline_sweep, sizeof(s->baseline_sweep), "%s", sweep);
    snprintf(s->baseline_config, sizeof(s->baseline_config), "%s", config);
    return 0;
}

/* 1 when s is well-formed UTF-8 (no overlong forms, no surrogates). */
static int sw_utf8_valid(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    while (*s) {
        unsigned c = *s;
        int n;
        unsigned cp;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        s += n + 1;
    }
    return 1;
}

static const char *const sw_top_keys[] = {
    "name", "description", "base", "variants", "grid", "seeds",
    "baseline", "success_threshold", "priority",
};

int tadd_sweep_from_json(const cJSON *root, struct tadd_sweep *out,
                         char *err, size_t errlen)
{
    struct tadd_sweep s;
    struct tadd_config base;
    struct sweep_variant *vars = NULL;
    struct sweep_axis *axes = NULL;
    int n_vars = 0, n_axes = 0;
    const cJSON *it, *v;
    const char *name;
    char desc[96];
    int rc = -1;

    memset(&s, 0, sizeof(s));
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(root)) {
        tadd_msgf(err, errlen, "sweep: must be a JSON object, got %s",
                  sw_describe(root, desc, sizeof(desc)));
        return -1;
    }
    if (tadd_json_check_unique_keys(root, "", err, errlen) != 0)
        return -1;
    cJSON_ArrayForEach(it, root) {
        size_t k = 0;
        while (k < sizeof(sw_top_keys) / sizeof(sw_top_keys[0]) &&
               strcmp(sw_top_keys[k], it->string) != 0)
            k++;
        if (k == sizeof(sw_top_keys) / sizeof(sw_top_keys[0])) {
            tadd_msgf(err, errlen, "%s: unknown key%s", it->string,
                      tadd_config_is_field(it->string)
                       ? " (config fields go in \"base\" or a variant)"
                       : "");
            return -1;
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!v) {
        tadd_msgf(err, errlen, "name: missing");
        goto cleanup;
    }
    if (sw_get_name(v, "name", &name, err, errlen) != 0)
        goto cleanup;
    snprintf(s.name, sizeof(s.name), "%s", name);

    v = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (v && (!cJSON_IsString(v) ||
              strlen(v->valuestring) > SWEEP_MAX_DESCRIPTION)) {
        tadd_msgf(err, errlen, "description: must be a string of at most %d "
                  "bytes, got %s", SWEEP_MAX_DESCRIPTION,
                  cJSON_IsString(v) ? "a longer one"
                                 : sw_describe(v, desc, sizeof(desc)));
        goto cleanup;
    }
    /* The description goes into the database and into JSON replies,
     * which must stay valid UTF-8. */
    if (v && !sw_utf8_valid(v->valuestring)) {
        tadd_msgf(err, errlen, "description: not valid UTF-8");
        goto cleanup;
    }
    s.description = strdup(v ? v->valuestring : "");
    if (!s.description) {
        tadd_msgf(err, errlen, "description: out of memory");
        goto cleanup;
    }

    s.success_threshold = TADD_DEFAULT_SUCCESS_THRESHOLD;
    v = cJSON_GetObjectItemCaseSensitive(root, "success_threshold");
    if (v) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) ||
            !(v->valuedouble <= 1)) {
            tadd_msgf(err, errlen,
                      "success_threshold: must be a number in (0, 1], got %s",
                      sw_describe(v, desc, sizeof(desc)));
            goto cleanup;
        }
        s.success_threshold = v->valuedouble;
    }

    v = cJSON_GetObjectItemCaseSensitive(root, "priority");
    if (v) {
        int64_t p;
        if (sw_get_int(v, -SWEEP_MAX_PRIORITY, SWEEP_MAX_PRIORITY,
                       "priority", "an integer in -1000000..1000000", &p,
                       err, errlen) != 0)
            goto cleanup;
        s.priority = (int)p;
    }

    if (sw_parse_seeds(cJSON_GetObjectItemCaseSensitive(root, "seeds"), &s,
                       err, errlen) != 0)
        goto cleanup;

    tadd_config_defaults(&base);
    v = cJSON_GetObjectItemCaseSensitive(root, "base");
    if (v && tadd_config_apply_json(&base, v, "base", err, errlen) != 0)
        goto cleanup;
    if (sw_parse_variants(cJSON_GetObjectItemCaseSensitive(root, "variants"),
                          &base, &vars, &n_vars, err, errlen) != 0)
        goto cleanup;
    if (sw_parse_grid(cJSON_GetObjectItemCaseSensitive(root, "grid"), &axes,
                      &n_axes, err, errlen) != 0)
        goto cleanup;
    if (sw_expand(&s, vars, n_vars, axes, n_axes, err, errlen) != 0)
        goto cleanup;
    if (sw_parse_baseline(cJSON_GetObjectItemCaseSensitive(root, "baseline"),
                          &s, vars, n_vars, err, errlen) != 0)
        goto cleanup;

    *out = s;
    memset(&s, 0, sizeof(s));
    rc = 0;

cleanup:
    sw_free_axes(axes, n_axes);
    free(vars);
    tadd_sweep_free(&s);
    return rc;
}

/*
 * 1 when text holds the escape \u0000 inside a JSON string. cJSON decodes
 * it to a NUL byte that silently cuts the string short ("a\u0000b" would
 * read as "a"), so such text is refused instead. A backslash counts as an
 * escape only after an even run of backslashes.
 */
static int sw_has_nul_escape(const char *text, size_t len)
{
    size_t run = 0;

    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\\') {
            run = 0;
            continue;
        }
        run++;
        if (run % 2 == 1 && i + 5 < len && text[i + 1] == 'u' &&
            text[i + 2] == '0' && text[i + 3] == '0' && text[i + 4] == '0' &&
            text[i + 5] == '0')
            return 1;
    }
    return 0;
}

/* Line and column (from 1) of byte pos in text. */
static void sw_line_col(const char *text, size_t pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int tadd_sweep_parse(const char *text, size_t len, struct tadd_sweep *out,
                     char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *root;
    int line, col, rc;

    memset(out, 0, sizeof(*out));
    if (!text) {
        tadd_msgf(err, errlen, "sweep: no text");
        return -1;
    }
    if (sw_has_nul_escape(text, len)) {
        tadd_msgf(err, errlen, "JSON text holds the escape \\u0000, which no "
                  "sweep field accepts");
        return -1;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t pos = end && end >= text ? (size_t)(end - text) : 0;
        sw_line_col(text, pos < len ? pos : len, &line, &col);
        tadd_msgf(err, errlen, "JSON syntax error at line %d, column %d", line,
                  col);
        return -1;
    }
    for (; end < text + len; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            sw_line_col(text, (size_t)(end - text), &line, &col);
            tadd_msgf(err, errlen,
                      "JSON syntax error at line %d, column %d: text after the "
                      "sweep object", line, col);
            cJSON_Delete(root);
            return -1;
        }
    }
    rc = tadd_sweep_from_json(root, out, err, errlen);
    cJSON_Delete(root);
    return rc;
}

int tadd_sweep_load(const char *path, struct tadd_sweep *out, char *err,
                    size_t errlen)
{
    char inner[TADD_ERR_LEN];
    char *text = NULL;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (tadd_read_file(path, TADD_SWEEP_MAX_FILE, &text, &len, err,
                       errlen) != 0)
        return -1;
    rc = tadd_sweep_parse(text, len, out, inner, sizeof(inner));
    if (rc != 0)
        tadd_msgf(err, errlen, "%s: %s", path, inner);
    free(text);
    return rc;
}

void tadd_sweep_free(struct tadd_sweep *s)
{
    if (!s)
        return;
    free(s->description);
    free(s->seeds);
    free(s->configs);
    memset(s, 0, sizeof(*s));
}

long tadd_sweep_n_trials(const struct tadd_sweep *s)
{
    return (long)s->n_configs * s->n_seeds;
}

int tadd_sweep_find_config(const struct tadd_sweep *s, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < s->n_configs; i++)
        if (strcmp(s->configs[i].name, name) == 0)
            return i;
    return -1;
}

int tadd_sweep_baseline_is_local(const struct tadd_sweep *s)
{
    return s->baseline_config[0] && strcmp(s->baseline_sweep, s->name) == 0;
}

int tadd_sweep_baseline_of(const struct tadd_sweep *s, int i)
{
    char name[TADD_CONFIG_NAME_MAX + 1];
    const struct tadd_sweep_config *c;
    int len;

    if (i < 0 || i >= s->n_configs || !tadd_sweep_baseline_is_local(s))
        return -1;
    if (!s->baseline_is_variant)
        return tadd_sweep_find_config(s, s->baseline_config);
    /* Same grid point: the same name after the variant's. */
    c = &s->configs[i];
    len = snprintf(name, sizeof(name), "%s%s", s->baseline_config,
                   c->name + strlen(c->variant));
    if (len < 0 || (size_t)len >= sizeof(name))
        return -1;
    return tadd_sweep_find_config(s, name);
}

char *tadd_config_canonical_json(const struct tadd_config *cfg)
{
    cJSON *j = tadd_config_to_json(cfg);
    char *text;

    if (!j)
        return NULL;
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

char *tadd_config_pack_key(const struct tadd_config *cfg)
{
    static const char *const per_model[] = {
        "lr", "weight_decay", "warmup_steps", "min_lr_ratio", "grad_clip",
    };
    cJSON *j = tadd_config_to_json(cfg);
    char *text;

    if (!j)
        return NULL;
    for (size_t i = 0; i < sizeof(per_model) / sizeof(per_model[0]); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(j, per_model[i]);
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}
