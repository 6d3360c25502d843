/*
 * Model and training configuration: one table of fields drives parsing,
 * range checks and JSON output, so the three cannot drift apart.
 *
 * Accepted ranges (inclusive unless marked open):
 *
 *   n_layer          integer 1..16
 *   d_model          integer 1..256
 *   n_head           integer 1..256, and d_model % n_head == 0
 *   d_ff             integer 1..4096
 *   pos_rank, qkv_rank, attn_out_rank, ffn_rank
 *                    integer 0..256 (0: full rank), and at most d_model
 *   fixed_full_rank_attn, fixed_full_rank_mlp
 *                    JSON true or false
 *   norm             "layernorm" or "rmsnorm"
 *   qkv_tie          "none" or "shareA_tieKV" (needs qkv_rank > 0)
 *   batch_size       integer 1..65536
 *   lr               number in (0, 10]
 *   weight_decay     number in [0, 10]
 *   warmup_steps     integer 0..10^9, and below train_steps
 *   min_lr_ratio     number in [0, 1]
 *   grad_clip        number in (0, 10^6]
 *   train_steps      integer 1..10^9
 *   eval_interval    integer 1..10^9
 *   val_size         integer 1..10^6
 *   test_size        integer 1..10^6
 *   curriculum       1..16 phases [min_digits, max_digits, steps]:
 *                    digits integers 1..10 with min <= max, steps 1..10^9
 *
 * An integer field takes any JSON number with an integral value (8 and 8.0
 * alike, 8.5 refused); every number must be finite.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"


enum cfg_kind {
    CFG_INT,
    CFG_LONG,
    CFG_DOUBLE,
    CFG_BOOL,
    CFG_NORM,
    CFG_QKV_TIE,
    CFG_CURRICULUM,
};

struct cfg_field {
    const char *name;
    enum cfg_kind kind;
    size_t offset; /* into struct tadd_config */
    double min;
    double max;
    int min_open;  /* 1: the value must exceed min */
    int is_model;  /* a section-2 model field */
    int per_model; /* one of the six fields a pack may vary per model */
};

#define M_FIELD(n, k, lo, hi)                                               \
    { #n, k, offsetof(struct tadd_config, model.n), lo, hi, 0, 1, 0 }
#define T_FIELD(n, k, lo, hi, open, per)                                    \
    { #n, k, offsetof(struct tadd_config, train.n), lo, hi, open, 0, per }

#define CFG_MAX_DIM 256
#define CFG_MAX_STEPS 1e9

/* In SPEC section 5's order, which is also the order of the JSON output. */
static const struct cfg_field cfg_fields[] = {
    M_FIELD(n_layer, CFG_INT, 1, 16),
    M_FIELD(d_model, CFG_INT, 1, CFG_MAX_DIM),
    M_FIELD(n_head, CFG_INT, 1, CFG_MAX_DIM),
    M_FIELD(d_ff, CFG_INT, 1, 4096),
    M_FIELD(pos_rank, CFG_INT, 0, CFG_MAX_DIM),
    M_FIELD(qkv_rank, CFG_INT, 0, CFG_MAX_DIM),
    M_FIELD(attn_out_rank, CFG_INT, 0, CFG_MAX_DIM),
    M_FIELD(ffn_rank, CFG_INT, 0, CFG_MAX_DIM),
    M_FIELD(fixed_full_rank_attn, CFG_BOOL, 0, 1),
    M_FIELD(fixed_full_rank_mlp, CFG_BOOL, 0, 1),
    M_FIELD(norm, CFG_NORM, 0, 1),
    M_FIELD(qkv_tie, CFG_QKV_TIE, 0, 1),
    T_FIELD(batch_size, CFG_INT, 1, 65536, 0, 0),
    T_FIELD(lr, CFG_DOUBLE, 0, 10, 1, 1),
    T_FIELD(weight_decay, CFG_DOUBLE, 0, 10, 0, 1),
    T_FIELD(warmup_steps, CFG_LONG, 0, CFG_MAX_STEPS, 0, 1),
    T_FIELD(min_lr_ratio, CFG_DOUBLE, 0, 1, 0, 1),
    T_FIELD(grad_clip, CFG_DOUBLE, 0, 1e6, 1, 1),
    T_FIELD(train_steps, CFG_LONG, 1, CFG_MAX_STEPS, 0, 0),
    T_FIELD(eval_interval, CFG_LONG, 1, CFG_MAX_STEPS, 0, 0),
    T_FIELD(val_size, CFG_INT, 1, 1e6, 0, 0),
    T_FIELD(test_size, CFG_INT, 1, 1e6, 0, 0),
    T_FIELD(curriculum, CFG_CURRICULUM, 0, 0, 0, 0),
};

#define CFG_N_FIELDS ((int)(sizeof(cfg_fields) / sizeof(cfg_fields[0])))

static const struct cfg_field *cfg_field_find(const char *key)
{
    if (!key)
        return NULL;
    for (int i = 0; i < CFG_N_FIELDS; i++)
        if (strcmp(cfg_fields[i].name, key) == 0)
            return &cfg_fields[i];
    return NULL;
}

/* "path.key", or "key" at the top level. */
static void cfg_join(char *buf, size_t len, const char *path, const char *key)
{
    if (path && *path)
        snprintf(buf, len, "%s.%s", path, key);
    else
        snprintf(buf, len, "%s", key);
}

int tadd_format_double(double v, char *buf, size_t len)
{
    char tmp[40];
    char *e;
    int n = 0;

    if (!isfinite(v))
        return snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf"
                                                               : "-inf");
    /* The fewest significant digits that read back as the same double:
     * what a person most likely typed. */
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* %g turns 10 into 1e+01; an integer people write in full. */
    e = strchr(tmp, 'e');
    if (e && v == floor(v) && fabs(v) < 1e16) {
        n = snprintf(tmp, sizeof(tmp), "%.0f", v);
        e = NULL;
    }
    /* Shorten the exponent the way people write it: 1e-05 -> 1e-5,
     * 1e+20 -> 1e20. */
    if (e) {
        char *src = e + 1, *dst = e + 1;
        if (*src == '+')
            src++;
        else if (*src == '-')
            *dst++ = *src++;
        while (*src == '0' && src[1])
            src++;
        memmove(dst, src, strlen(src) + 1);
        n = (int)strlen(tmp);
    }
    snprintf(buf, len, "%s", tmp);
    return n;
}

const char *tadd_json_describe(const cJSON *v, int max_chars, char *buf,
                               size_t len)
{
    if (!v)
        snprintf(buf, len, "nothing");
    else if (cJSON_IsNumber(v))
        tadd_format_double(v->valuedouble, buf, len);
    else if (cJSON_IsString(v))
        snprintf(buf, len, "\"%.*s\"%s", max_chars, v->valuestring,
                 strlen(v->valuestring) > (size_t)max_chars ? "..." : "");
    else if (cJSON_IsTrue(v))
        snprintf(buf, len, "true");
    else if (cJSON_IsFalse(v))
        snprintf(buf, len, "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, len, "null");
    else if (cJSON_IsArray(v))
        snprintf(buf, len, "a list");
    else if (cJSON_IsObject(v))
        snprintf(buf, len, "an object");
    else
        snprintf(buf, len, "an invalid value");
    return buf;
}

/* Config messages quote at most 48 characters of a string. */
static const char *cfg_describe(const cJSON *v, char *buf, size_t len)
{
    return tadd_json_describe(v, 48, buf, len);
}

/* An integral JSON number in [lo, hi] into *out; -1 with a message. */
static int cfg_get_integer(const cJSON *v, double lo, double hi,
                           const char *path, long *out, char *err,
                           size_t errlen)
{
    char desc[80];
    double d;

    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        tadd_msgf(err, errlen, "%s: must be an integer in %.0f..%.0f, got %s",
                  path, lo, hi, cfg_describe(v, desc, sizeof(desc)));
        return -1;
    }
    d = v->valuedouble;
    *out = (long)d;
    return 0;
}

static int cfg_get_double(const cJSON *v, const struct cfg_field *f,
                          const char *path, double *out, char *err,
                          size_t errlen)
{
    char desc[80], lo[40], hi[40];
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

    if (!isfinite(d) || d > f->max || d < f->min ||
        (f->min_open && d <= f->min)) {
        tadd_format_double(f->min, lo, sizeof(lo));
        tadd_format_double(f->max, hi, sizeof(hi));
        if (f->min_open && f->min == 0)
            tadd_msgf(err, errlen,
                      "%s: must be a positive number at most %s, got %s",
                      path, hi, cfg_describe(v, desc, sizeof(desc)));
        else
            tadd_msgf(err, errlen, "%s: must be a number in %s%s, %s], got %s",
                      path, f->min_open ? "(" : "[", lo, hi,
                      cfg_describe(v, desc, sizeof(desc)));
        return -1;
    }
    *out = d;
    return 0;
}

static int cfg_get_curriculum(struct tadd_train_config *t, const cJSON *v,
                              const char *path, char *err, size_t errlen)
{
    struct tadd_phase phases[TADD_MAX_PHASES];
    char p[TADD_ERR_LEN], desc[80];
    const cJSON *ph;
    int n = 0;

    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 ||
        cJSON_GetArraySize(v) > TADD_MAX_PHASES) {
        if (cJSON_IsArray(v))
            snprintf(desc, sizeof(desc), "a list of %d",
                     cJSON_GetArraySize(v));
        else
            cfg_describe(v, desc, sizeof(desc));
        tadd_msgf(err, errlen,
                  "%s: must be a list of 1 to %d [min_digits, max_digits, "
                  "steps] phases, got %s", path, TADD_MAX_PHASES, desc);
        return -1;
    }
    cJSON_ArrayForEach(ph, v) {
        static const char *const what[3] = {"min_digits", "max_digits",
                                            "steps"};
        long vals[3];
        snprintf(p, sizeof(p), "%s[%d]", path, n);
        if (!cJSON_IsArray(ph) || cJSON_GetArraySize(ph) != 3) {
            if (cJSON_IsArray(ph))
                snprintf(desc, sizeof(desc), "a list of %d",
                         cJSON_GetArraySize(ph));
            else
                cfg_describe(ph, desc, sizeof(desc));
            tadd_msgf(err, errlen,
                      "%s: must be [min_digits, max_digits, steps], got %s", p,
                      desc);
            return -1;
        }
        for (int k = 0; k < 3; k++) {
            char pk[TADD_ERR_LEN + 16];
            snprintf(pk, sizeof(pk), "%s[%d] (%s)", p, k, what[k]);
            if (cfg_get_integer(cJSON_GetArrayItem(ph, k), 1,
                                k < 2 ? 10 : CFG_MAX_STEPS, pk, &vals[k],
                                err, errlen) != 0)
                return -1;
        }
        if (vals[0] > vals[1]) {
            tadd_msgf(err, errlen, "%s: min_digits %ld exceeds max_digits %ld",
                      p, vals[0], vals[1]);
            return -1;
        }
        phases[n].min_digits = (int)vals[0];
        phases[n].max_digits = (int)vals[1];
        phases[n].steps = vals[2];
        n++;
    }
    memcpy(t->curriculum, phases, (size_t)n * sizeof(phases[0]));
    t->n_phases = n;
    return 0;
}

/* Parses value for field f into cfg; cfg is unchanged on failure. */
static int cfg_field_set(struct tadd_config *cfg, const struct cfg_field *f,
                         const cJSON *v, const char *path, char *err,
                         size_t errlen)
{
    char *slot = (char *)cfg + f->offset;
    char desc[80];
    long l;
    double d;

    switch (f->kind) {
    case CFG_INT:
        if (cfg_get_integer(v, f->min, f->max, path, &l, err, errlen) != 0)
            return -1;
        *(int *)slot = (int)l;
        return 0;
    case CFG_LONG:
        if (cfg_get_integer(v, f->min, f->max, path, &l, err, errlen) != 0)
            return -1;
        *(long *)slot = l;
        return 0;
    case CFG_DOUBLE:
        if (cfg_get_double(v, f, path, &d, err, errlen) != 0)
            return -1;
        *(double *)slot = d;
        return 0;
    case CFG_BOOL:
        if (!cJSON_IsBool(v)) {
            tadd_msgf(err, errlen, "%s: must be true or false, got %s", path,
                      cfg_describe(v, desc, sizeof(desc)));
            return -1;
        }
        *(int *)slot = cJSON_IsTrue(v) ? 1 : 0;
        return 0;
    case CFG_NORM:
        if (cJSON_IsString(v) && strcmp(v->valuestring, "layernorm") == 0)
            *(enum tadd_norm *)slot = TADD_NORM_LAYERNORM;
        else if (cJSON_IsString(v) && strcmp(v->valuestring, "rmsnorm") == 0)
            *(enum tadd_norm *)slot = TADD_NORM_RMSNORM;
        else {
            tadd_msgf(err, errlen,
                      "%s: must be \"layernorm\" or \"rmsnorm\", got %s", path,
                      cfg_describe(v, desc, sizeof(desc)));
            return -1;
        }
        return 0;
    case CFG_QKV_TIE:
        if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0)
            *(enum tadd_qkv_tie *)slot = TADD_QKV_TIE_NONE;
        else if (cJSON_IsString(v) &&
                 strcmp(v->valuestring, "shareA_tieKV") == 0)
            *(enum tadd_qkv_tie *)slot = TADD_QKV_TIE_SHAREA_TIEKV;
        else {
            tadd_msgf(err, errlen,
                      "%s: must be \"none\" or \"shareA_tieKV\", got %s", path,
                      cfg_describe(v, desc, sizeof(desc)));
            return -1;
        }
        return 0;
    case CFG_CURRICULUM:
        return cfg_get_curriculum(&cfg->train, v, path, err, errlen);
    }
    return -1;
}

void tadd_config_defaults(struct tadd_config *cfg)
{
    static const struct tadd_phase phases[3] = {
        {1, 3, 2000}, {1, 6, 5000}, {1, 10, 20000}};
    struct tadd_model_config *m = &cfg->model;
    struct tadd_train_config *t = &cfg->train;

    memset(cfg, 0, sizeof(*cfg));
    m->n_layer = 1;
    m->d_model = 8;
    m->n_head = 1;
    m->d_ff = 28;
    m->pos_rank = 0;
    m->qkv_rank = 0;
    m->attn_out_rank = 0;
    m->ffn_rank = 3;
    m->fixed_full_rank_attn = 1;
    m->fixed_full_rank_mlp = 1;
    m->norm = TADD_NORM_LAYERNORM;
    m->qkv_tie = TADD_QKV_TIE_NONE;
    t->batch_size = 512;
    t->lr = 0.015;
    t->weight_decay = 0.01;
    t->warmup_steps = 1350;
    t->min_lr_ratio = 0.1;
    t->grad_clip = 1.0;
    t->train_steps = 30000;
    t->eval_interval = 500;
    t->val_size = 5000;
    t->test_size = 10000;
    t->n_phases = 3;
    memcpy(t->curriculum, phases, sizeof(phases));
}

int tadd_config_is_field(const char *key)
{
    return cfg_field_find(key) != NULL;
}

int tadd_config_is_per_model_field(const char *key)
{
    const struct cfg_field *f = cfg_field_find(key);

    /* The seed is the sixth: per model, but not a config field. */
    if (key && strcmp(key, "seed") == 0)
        return 1;
    return f && f->per_model;
}

int tadd_config_set_field(struct tadd_config *cfg, const char *key,
                          const cJSON *value, const char *where, char *err,
                          size_t errlen)
{
    const struct cfg_field *f = cfg_field_find(key);
    struct tadd_config copy = *cfg;

    if (!where)
        where = key ? key : "(null)";
    if (!f) {
        tadd_msgf(err, errlen, "%s: unknown field", where);
        return -1;
    }
    if (cfg_field_set(&copy, f, value, where, err, errlen) != 0)
        return -1;
    *cfg = copy;
    return 0;
}

int tadd_config_apply_field(struct tadd_config *cfg, const char *key,
                            const cJSON *value, const char *path,
                            char *err, size_t errlen)
{
    char p[TADD_ERR_LEN];

    cfg_join(p, sizeof(p), path, key ? key : "(null)");
    return tadd_config_set_field(cfg, key, value, p, err, errlen);
}

/*
 * Applies obj's keys onto cfg; with model_only, training fields are
 * refused too. Duplicate keys (which cJSON keeps) are refused so that
 * nothing given is silently ignored.
 */
static int cfg_apply_object(struct tadd_config *cfg, const cJSON *obj,
                            const char *path, int model_only, char *err,
                            size_t errlen)
{
    struct tadd_config copy = *cfg;
    char p[TADD_ERR_LEN];
    const cJSON *it;

    if (!cJSON_IsObject(obj)) {
        char desc[80];
        tadd_msgf(err, errlen, "%s: must be an object, got %s",
                  path && *path ? path : "config",
                  cfg_describe(obj, desc, sizeof(desc)));
        return -1;
    }
    cJSON_ArrayForEach(it, obj) {
        const struct cfg_field *f = cfg_field_find(it->string);
        cfg_join(p, sizeof(p), path, it->string);
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next) {
            if (strcmp(prev->string, it->string) == 0) {
                tadd_msgf(err, errlen, "%s: given twice", p);
                return -1;
            }
        }
        if (!f) {
            tadd_msgf(err, errlen, "%s: unknown field", p);
            return -1;
        }
        if (model_only && !f->is_model) {
            tadd_msgf(err, errlen, "%s: a training field, not a model field",
                      p);
            return -1;
        }
        if (cfg_field_set(&copy, f, it, p, err, errlen) != 0)
            return -1;
    }
    *cfg = copy;
    return 0;
}

int tadd_config_apply_json(struct tadd_config *cfg, const cJSON *obj,
                           const char *path, char *err, size_t errlen)
{
    return cfg_apply_object(cfg, obj, path, 0, err, errlen);
}

int tadd_model_config_validate(const struct tadd_model_config *m, char *err,
                               size_t errlen)
{
    /* Field ranges again, so a struct filled by hand is checked too. */
    struct { const char *name; int v, lo, hi; } r[] = {
        {"n_layer", m->n_layer, 1, 16},
        {"d_model", m->d_model, 1, CFG_MAX_DIM},
        {"n_head", m->n_head, 1, CFG_MAX_DIM},
        {"d_ff", m->d_ff, 1, 4096},
        {"pos_rank", m->pos_rank, 0, m->d_model},
        {"qkv_rank", m->qkv_rank, 0, m->d_model},
        {"attn_out_rank", m->attn_out_rank, 0, m->d_model},
        {"ffn_rank", m->ffn_rank, 0, m->d_model},
        {"fixed_full_rank_attn", m->fixed_full_rank_attn, 0, 1},
        {"fixed_full_rank_mlp", m->fixed_full_rank_mlp, 0, 1},
        {"norm", (int)m->norm, 0, 1},
        {"qkv_tie", (int)m->qkv_tie, 0, 1},
    };

    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        if (r[i].v < r[i].lo || r[i].v > r[i].hi) {
            if (i >= 4 && i < 8)
                tadd_msgf(err, errlen,
                          "%s %d: a rank must lie in 0..d_model (%d)",
                          r[i].name, r[i].v, m->d_model);
            else
                tadd_msgf(err, errlen, "%s %d: must lie in %d..%d",
                          r[i].name, r[i].v, r[i].lo, r[i].hi);
            return -1;
        }
    }
    if (m->d_model % m->n_head != 0) {
        tadd_msgf(err, errlen, "d_model %d is not divisible by n_head %d",
                  m->d_model, m->n_head);
        return -1;
    }
    if (m->qkv_tie == TADD_QKV_TIE_SHAREA_TIEKV && m->qkv_rank == 0) {
        tadd_msgf(err, errlen,
                  "qkv_tie \"shareA_tieKV\" needs qkv_rank > 0, got 0");
        return -1;
    }
    return 0;
}

int tadd_config_validate(const struct tadd_config *cfg, char *err,
                         size_t errlen)
{
    const struct tadd_train_config *t = &cfg->train;

    if (tadd_model_config_validate(&cfg->model, err, errlen) != 0)
        return -1;
    for (int i = 0; i < CFG_N_FIELDS; i++) {
        const struct cfg_field *f = &cfg_fields[i];
        const char *slot = (const char *)cfg + f->offset;
        double v;
        if (f->is_model || f->kind == CFG_CURRICULUM)
            continue;
        if (f->kind == CFG_INT)
            v = *(const int *)slot;
        else if (f->kind == CFG_LONG)
            v = (double)*(const long *)slot;
        else
            v = *(const double *)slot;
        if (!isfinite(v) || v < f->min || v > f->max ||
            (f->min_open && v <= f->min)) {
            char vs[40];
            tadd_format_double(v, vs, sizeof(vs));
            tadd_msgf(err, errlen, "%s %s: out of range", f->name, vs);
            return -1;
        }
    }
    if (t->warmup_steps >= t->train_steps) {
        tadd_msgf(err, errlen,
                  "warmup_steps %ld must be below train_steps %ld",
                  t->warmup_steps, t->train_steps);
        return -1;
    }
    if (t->n_phases < 1 || t->n_phases > TADD_MAX_PHASES) {
        tadd_msgf(err, errlen, "curriculum: %d phases, must be 1..%d",
                  t->n_phases, TADD_MAX_PHASES);
        return -1;
    }
    for (int i = 0; i < t->n_phases; i++) {
        const struct tadd_phase *p = &t->curriculum[i];
        if (p->min_digits < 1 || p->max_digits > 10 ||
            p->min_digits > p->max_digits || p->steps < 1 ||
            p->steps > (long)CFG_MAX_STEPS) {
            tadd_msgf(err, errlen,
                      "curriculum[%d]: [%d, %d, %ld] needs 1 <= min_digits <= "
                      "max_digits <= 10 and steps in 1..10^9", i,
                      p->min_digits, p->max_digits, p->steps);
            return -1;
        }
    }
    return 0;
}

int tadd_model_config_from_json(struct tadd_model_config *m,
                                const cJSON *obj, const char *path,
                                char *err, size_t errlen)
{
    struct tadd_config cfg;
    char verr[TADD_ERR_LEN];

    tadd_config_defaults(&cfg);
    if (cfg_apply_object(&cfg, obj, path, 1, err, errlen) != 0)
        return -1;
    if (tadd_model_config_validate(&cfg.model, verr, sizeof(verr)) != 0) {
        tadd_msgf(err, errlen, "%s: %s", path && *path ? path : "model config",
                  verr);
        return -1;
    }
    *m = cfg.model;
    return 0;
}

int tadd_config_from_json(struct tadd_config *cfg, const cJSON *obj,
                          const char *path, char *err, size_t errlen)
{
    struct tadd_config c;
    char verr[TADD_ERR_LEN];

    tadd_config_defaults(&c);
    if (cfg_apply_object(&c, obj, path, 0, err, errlen) != 0)
        return -1;
    if (tadd_config_validate(&c, verr, sizeof(verr)) != 0) {
        tadd_msgf(err, errlen, "%s: %s", path && *path ? path : "config",
                  verr);
        return -1;
    }
    *cfg = c;
    return 0;
}

const char *tadd_norm_name(enum tadd_norm n)
{
    return n == TADD_NORM_RMSNORM ? "rmsnorm" : "layernorm";
}

const char *tadd_qkv_tie_name(enum tadd_qkv_tie t)
{
    return t == TADD_QKV_TIE_SHAREA_TIEKV ? "shareA_tieKV" : "none";
}

/* The JSON value of one field of cfg; NULL on OOM. */
static cJSON *cfg_field_to_json(const struct tadd_config *cfg,
                                const struct cfg_field *f)
{
    const char *slot = (const char *)cfg + f->offset;
    const struct tadd_train_config *t = &cfg->train;
    cJSON *list;

    switch (f->kind) {
    case CFG_INT:
        return cJSON_CreateNumber(*(const int *)slot);
    case CFG_LONG:
        return cJSON_CreateNumber((double)*(const long *)slot);
    case CFG_DOUBLE:
        return cJSON_CreateNumber(*(const double *)slot);
    case CFG_BOOL:
        return cJSON_CreateBool(*(const int *)slot);
    case CFG_NORM:
        return cJSON_CreateString(
            tadd_norm_name(*(const enum tadd_norm *)slot));
    case CFG_QKV_TIE:
        return cJSON_CreateString(
            tadd_qkv_tie_name(*(const enum tadd_qkv_tie *)slot));
    case CFG_CURRICULUM:
        list = cJSON_CreateArray();
        for (int i = 0; list && i < t->n_phases; i++) {
            const struct tadd_phase *p = &t->curriculum[i];
            double v[3] = {p->min_digits, p->max_digits, (double)p->steps};
            cJSON *ph = cJSON_CreateDoubleArray(v, 3);
            if (!ph || !cJSON_AddItemToArray(list, ph)) {
                cJSON_Delete(ph);
                cJSON_Delete(list);
                return NULL;
            }
        }
        return list;
    }
    return NULL;
}

/* which: 1 model fields, 2 training fields, 3 both. */
static cJSON *cfg_to_json(const struct tadd_config *cfg, int which)
{
    cJSON *obj = cJSON_CreateObject();

    if (!obj)
        return NULL;
    for (int i = 0; i < CFG_N_FIELDS; i++) {
        const struct cfg_field *f = &cfg_fields[i];
        cJSON *v;
        if (!(which & (f->is_model ? 1 : 2)))
            continue;
        v = cfg_field_to_json(cfg, f);
        if (!v || !cJSON_AddItemToObject(obj, f->name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(obj);
            return NULL;
        }
    }
    return obj;
}

cJSON *tadd_model_config_to_json(const struct tadd_model_config *m)
{
    struct tadd_config cfg;

    tadd_config_defaults(&cfg);
    cfg.model = *m;
    return cfg_to_json(&cfg, 1);
}

cJSON *tadd_train_config_to_json(const struct tadd_train_config *t)
{
    struct tadd_config cfg;

    tadd_config_defaults(&cfg);
    cfg.train = *t;
    return cfg_to_json(&cfg, 2);
}

cJSON *tadd_config_to_json(const struct tadd_config *cfg)
{
    return cfg_to_json(cfg, 3);
}

int tadd_config_field_text(const struct tadd_config *cfg, const char *key,
                           char *buf, size_t len)
{
    const struct cfg_field *f = cfg_field_find(key);
    const struct tadd_train_config *t = &cfg->train;
    const char *slot;
    char tmp[TADD_ERR_LEN];
    size_t n = 0;

    if (!f || !buf || len == 0)
        return -1;
    slot = (const char *)cfg + f->offset;
    tmp[0] = '\0';
    switch (f->kind) {
    case CFG_INT:
        snprintf(tmp, sizeof(tmp), "%d", *(const int *)slot);
        break;
    case CFG_LONG:
        snprintf(tmp, sizeof(tmp), "%ld", *(const long *)slot);
        break;
    case CFG_DOUBLE:
        tadd_format_double(*(const double *)slot, tmp, sizeof(tmp));
        break;
    case CFG_BOOL:
        snprintf(tmp, sizeof(tmp), "%s", *(const int *)slot ? "true"
                                                             : "false");
        break;
    case CFG_NORM:
        snprintf(tmp, sizeof(tmp), "%s",
                 tadd_norm_name(*(const enum tadd_norm *)slot));
        break;
    case CFG_QKV_TIE:
        snprintf(tmp, sizeof(tmp), "%s",
                 tadd_qkv_tie_name(*(const enum tadd_qkv_tie *)slot));
        break;
    case CFG_CURRICULUM:
        /* Phases as min-max-steps joined by '_': only characters that are
         * safe in a folder name. 16 phases fit tmp with room to spare. */
        for (int i = 0; i < t->n_phases && n < sizeof(tmp); i++) {
            const struct tadd_phase *p = &t->curriculum[i];
            n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%s%d-%d-%ld",
                                  i ? "_" : "", p->min_digits,
                                  p->max_digits, p->steps);
        }
        break;
    }
    if (strlen(tmp) >= len)
        return -1;
    memcpy(buf, tmp, strlen(tmp) + 1);
    return 0;
}
