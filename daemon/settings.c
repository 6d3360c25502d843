#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "text.h"

enum setting_type {
    SET_INT,
    SET_LONG,
    SET_DOUBLE,
    SET_PATH,
    SET_LEVEL,
    SET_EXECUTOR,
};

struct setting {
    const char *key;
    enum setting_type type;
    double min, max;
    size_t offset;
};

#define SET_AT(field) offsetof(struct tadd_settings, field)

static const struct setting settings_table[] = {
    {"workers", SET_INT, 0, 256, SET_AT(workers)},
    {"threads", SET_INT, 0, 1024, SET_AT(threads)},
    {"max_models_per_pack", SET_INT, 0, 4096,
     SET_AT(max_models_per_pack)},
    {"attempts", SET_INT, 0, 1000, SET_AT(attempts)},
    {"checkpoint_interval", SET_LONG, 1, 1e9, SET_AT(checkpoint_interval)},
    {"stop_timeout", SET_DOUBLE, 0.1, 86400, SET_AT(stop_timeout)},
    {"log_level", SET_LEVEL, 0, 0, SET_AT(log_level)},
    {"worker", SET_PATH, 0, 0, SET_AT(worker)},
    {"executor", SET_EXECUTOR, 0, 0, SET_AT(executor)},
};

#define SETTINGS_N (sizeof(settings_table) / sizeof(settings_table[0]))

void tadd_settings_defaults(struct tadd_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->workers = 0;
    s->threads = 0;
    s->max_models_per_pack = 0;
    s->attempts = 3;
    s->checkpoint_interval = 1000;
    s->stop_timeout = 60.0;
    s->log_level = TADD_LOG_INFO;
    snprintf(s->executor, sizeof(s->executor), "local");
    tadd_slurm_settings_defaults(&s->slurm);
}

void tadd_settings_finish(struct tadd_settings *s)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    if (cpus < 1)
        cpus = 1;
    if (s->workers == 0)
        s->workers = 1;
    if (s->max_models_per_pack == 0)
        s->max_models_per_pack = 8;
    if (s->threads == 0) {
        s->threads = (int)(cpus / s->workers);
        if (s->threads < 1)
            s->threads = 1;
    }
}

static const struct setting *settings_find(const char *key)
{
    for (size_t i = 0; i < SETTINGS_N; i++)
        if (strcmp(settings_table[i].key, key) == 0)
            return &settings_table[i];
    return NULL;
}

/* Stores a number after checking its range and, for integers, that it is
 * whole. where names the key in messages. */
static int settings_store_number(struct tadd_settings *s,
                                 const struct setting *d, double v,
                                 const char *where, char *err, size_t errlen)
{
    char *p = (char *)s + d->offset;

    if (!(v >= d->min && v <= d->max)) {
        tadd_msgf(err, errlen, "%s: %g is out of range [%g, %g]", where, v,
                 d->min, d->max);
        return -1;
    }
    if (d->type != SET_DOUBLE && v != (double)(long)v) {
        tadd_msgf(err, errlen, "%s: expected a whole number, got %g", where,
                 v);
        return -1;
    }
    if (d->type == SET_INT)
        *(int *)p = (int)v;
    else if (d->type == SET_LONG)
        *(long *)p = (long)v;
    else
        *(double *)p = v;
    return 0;
}

static int settings_store_text(struct tadd_settings *s,
                               const struct setting *d, const char *v,
                               const char *where, char *err, size_t errlen)
{
    char *p = (char *)s + d->offset;

    if (d->type == SET_LEVEL) {
        int level = tadd_log_level_parse(v);
        if (level < 0) {
            snprintf(err, errlen,
                     "%s: \"%s\" is not one of debug, info, warn, error",
                     where, v);
            return -1;
        }
        *(enum tadd_log_level *)p = (enum tadd_log_level)level;
        return 0;
    }
    if (d->type == SET_EXECUTOR) {
        if (strcmp(v, "local") != 0 && strcmp(v, "slurm") != 0) {
            snprintf(err, errlen, "%s: \"%s\" is not one of local, slurm",
                     where, v);
            return -1;
        }
        snprintf(p, sizeof(s->executor), "%s", v);
        return 0;
    }
    if (strlen(v) >= PATH_MAX || v[0] == '\0') {
        tadd_msgf(err, errlen, "%s: expected a path", where);
        return -1;
    }
    snprintf(p, PATH_MAX, "%s", v);
    return 0;
}

int tadd_settings_apply_text(struct tadd_settings *s, const char *key,
                             const char *value, char *err, size_t errlen)
{
    const struct setting *d = settings_find(key);
    char *end;
    double v;

    if (!d) {
        tadd_msgf(err, errlen, "unknown setting \"%s\"", key);
        return -1;
    }
    if (d->type == SET_PATH || d->type == SET_LEVEL ||
        d->type == SET_EXECUTOR)
        return settings_store_text(s, d, value, key, err, errlen);
    errno = 0;
    v = strtod(value, &end);
    if (errno != 0 || end == value || *end != '\0') {
        tadd_msgf(err, errlen, "%s: \"%s\" is not a number", key, value);
        return -1;
    }
    return settings_store_number(s, d, v, key, err, errlen);
}

int tadd_settings_apply_json(struct tadd_settings *s, const char *text,
                             const char *name, char *err, size_t errlen)
{
    struct tadd_settings next = *s;
    cJSON *root = cJSON_Parse(text);
    const cJSON *item;
    char where[256];
    int rc = -1;

    if (!root) {
        tadd_msgf(err, errlen, "%s: not valid JSON (near \"%.20s\")", name,
                 cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
        return -1;
    }
    if (!cJSON_IsObject(root)) {
        tadd_msgf(err, errlen, "%s: expected a JSON object", name);
        goto cleanup;
    }
    cJSON_ArrayForEach(item, root) {
        const struct setting *d = settings_find(item->string);

        snprintf(where, sizeof(where), "%s: %s", name, item->string);
        if (!d && strcmp(item->string, "slurm") == 0) {
            if (tadd_slurm_settings_apply_json(&next.slurm, item, where, err,
                                               errlen) != 0)
                goto cleanup;
            continue;
        }
        if (!d) {
            tadd_msgf(err, errlen, "%s: unknown key", where);
            goto cleanup;
        }
        if (d->type == SET_PATH || d->type == SET_LEVEL ||
            d->type == SET_EXECUTOR) {
            if (!cJSON_IsString(item)) {
                tadd_msgf(err, errlen, "%s: expected a string", where);
                goto cleanup;
            }
            if (settings_store_text(&next, d, item->valuestring, where, err,
                                    errlen) != 0)
                goto cleanup;
        } else {
            if (!cJSON_IsNumber(item)) {
                tadd_msgf(err, errlen, "%s: expected a number", where);
                goto cleanup;
            }
            if (settings_store_number(&next, d, item->valuedouble, where,
                                      err, errlen) != 0)
                goto cleanup;
        }
    }
    *s = next;
    rc = 0;
cleanup:
    cJSON_Delete(root);
    return rc;
}
