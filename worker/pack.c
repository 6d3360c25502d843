#include "pack.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fsutil.h"
#include "jsonkeys.h"

/* A pack file is small: a few hundred bytes per model. */
#define PACK_MAX_BYTES (16u << 20)

/* Seeds are JSON numbers; above 2^53 they would not be exact. */
#define PACK_MAX_SEED 9007199254740991.0

static int pack_err(char *err, size_t errlen, const char *name,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Writes "<file>: <message>" into err; returns -1 for the caller. */
static int pack_err(char *err, size_t errlen, const char *name,
                    const char *fmt, ...)
{
    char what[TADD_ERR_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %.*s", name, (int)sizeof what, what);
    return -1;
}

/* Refuses an object that gives a key twice: which value wins would be
 * the JSON reader's choice, not the user's. path names obj in messages. */
static int pack_check_keys(const cJSON *obj, const char *path,
                           const char *name, char *err, size_t errlen)
{
    char msg[TADD_ERR_LEN];

    if (tadd_json_check_unique_keys(obj, path, msg, sizeof msg) != 0)
        return pack_err(err, errlen, name, "%s", msg);
    return 0;
}

static int pack_parse_config(const cJSON *obj, const char *name,
                             struct tadd_config *cfg, char *err,
                             size_t errlen)
{
    char msg[TADD_ERR_LEN];
    const cJSON *item;

    tadd_config_defaults(cfg);
    if (!obj)
        return 0;
    if (!cJSON_IsObject(obj))
        return pack_err(err, errlen, name, "%s: must be an object", "config");
    cJSON_ArrayForEach(item, obj) {
        if (strcmp(item->string, "seed") == 0 ||
            tadd_config_is_per_model_field(item->string)) {
            return pack_err(err, errlen, name,
                            "config.%s: a per-model field, give it in "
                            "models[]", item->string);
        }
    }
    if (tadd_config_apply_json(cfg, obj, "config", msg, sizeof msg) != 0)
        return pack_err(err, errlen, name, "%s", msg);
    return 0;
}

static int pack_parse_model(const cJSON *obj, int index, const char *name,
                            const struct tadd_config *shared,
                            struct tadd_pack_model *pm, char *err,
                            size_t errlen)
{
    char path[64], msg[TADD_ERR_LEN];
    const cJSON *item;
    int have_seed = 0;

    snprintf(path, sizeof path, "models[%d]", index);
    if (!cJSON_IsObject(obj))
        return pack_err(err, errlen, name, "%s: must be an object", path);
    if (pack_check_keys(obj, path, name, err, errlen) != 0)
        return -1;
    pm->cfg = *shared;
    cJSON_ArrayForEach(item, obj) {
        const char *key = item->string;
        if (strcmp(key, "seed") == 0) {
            double s = item->valuedouble;
            if (!cJSON_IsNumber(item) || s < 0 || s > PACK_MAX_SEED ||
                s != floor(s)) {
                return pack_err(err, errlen, name,
                                "%s.seed: must be an integer in [0, 2^53)",
                                path);
            }
            pm->seed = (uint64_t)s;
            have_seed = 1;
        } else if (strcmp(key, "dir") == 0) {
            if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
                return pack_err(err, errlen, name,
                                "%s.dir: must be a non-empty string", path);
            }
            free(pm->dir);
            pm->dir = strdup(item->valuestring);
            if (!pm->dir)
                return pack_err(err, errlen, name, "%s", "out of memory");
        } else if (tadd_config_is_per_model_field(key)) {
            if (tadd_config_apply_field(&pm->cfg, key, item, path, msg,
                                        sizeof msg) != 0)
                return pack_err(err, errlen, name, "%s", msg);
        } else {
            return pack_err(err, errlen, name, "%s.%s: unknown key", path,
                            key);
        }
    }
    if (!have_seed)
        return pack_err(err, errlen, name, "%s.seed: missing", path);
    if (!pm->dir)
        return pack_err(err, errlen, name, "%s.dir: missing", path);
    if (tadd_config_validate(&pm->cfg, msg, sizeof msg) != 0)
        return pack_err(err, errlen, name, "%s: %s", path, msg);
    return 0;
}

static int pack_parse_top(const cJSON *root, const char *name,
                          struct tadd_pack *pack, char *err, size_t errlen)
{
    const cJSON *item, *models = NULL, *config = NULL;
    struct tadd_config shared;
    int i;

    if (!cJSON_IsObject(root))
        return pack_err(err, errlen, name, "%s", "must be a JSON object");
    if (pack_check_keys(root, "", name, err, errlen) != 0)
        return -1;
    pack->checkpoint_interval = 1000;
    pack->success_threshold = 0.99;
    cJSON_ArrayForEach(item, root) {
        const char *key = item->string;
        if (strcmp(key, "config") == 0) {
            config = item;
        } else if (strcmp(key, "models") == 0) {
            models = item;
        } else if (strcmp(key, "checkpoint_interval") == 0) {
            double v = item->valuedouble;
            if (!cJSON_IsNumber(item) || v < 1 || v > 1e9 || v != floor(v))
                return pack_err(err, errlen, name, "%s",
                                "checkpoint_interval: must be an integer "
                                "in [1, 1e9]");
            pack->checkpoint_interval = (long)v;
        } else if (strcmp(key, "success_threshold") == 0) {
            double v = item->valuedouble;
            if (!cJSON_IsNumber(item) || !(v > 0 && v <= 1))
                return pack_err(err, errlen, name, "%s",
                                "success_threshold: must be in (0, 1]");
            pack->success_threshold = v;
        } else if (strcmp(key, "state") == 0) {
            if (!cJSON_IsString(item) || item->valuestring[0] == '\0')
                return pack_err(err, errlen, name, "%s",
                                "state: must be a non-empty string");
            pack->state_path = strdup(item->valuestring);
            if (!pack->state_path)
                return pack_err(err, errlen, name, "%s", "out of memory");
        } else {
            return pack_err(err, errlen, name, "%s: unknown key", key);
        }
    }
    if (pack_parse_config(config, name, &shared, err, errlen) != 0)
        return -1;
    if (!models)
        return pack_err(err, errlen, name, "%s", "models: missing");
    if (!cJSON_IsArray(models))
        return pack_err(err, errlen, name, "%s", "models: must be a list");
    pack->n_models = cJSON_GetArraySize(models);
    if (pack->n_models < 1 || pack->n_models > TADD_PACK_MAX_MODELS)
        return pack_err(err, errlen, name, "%s",
                        "models: must hold 1 to 4096 models");
    pack->models = calloc((size_t)pack->n_models, sizeof *pack->models);
    if (!pack->models)
        return pack_err(err, errlen, name, "%s", "out of memory");
    i = 0;
    cJSON_ArrayForEach(item, models) {
        if (pack_parse_model(item, i, name, &shared, &pack->models[i], err,
                             errlen) != 0)
            return -1;
        i++;
    }
    if (!pack->state_path) {
        size_t n = strlen(name) + sizeof ".state";
        pack->state_path = malloc(n);
        if (!pack->state_path)
            return pack_err(err, errlen, name, "%s", "out of memory");
        snprintf(pack->state_path, n, "%s.state", name);
    }
    return 0;
}

int tadd_pack_parse(const char *text, const char *name,
                    struct tadd_pack *pack, char *err, size_t errlen)
{
    cJSON *root;
    int rc;

    memset(pack, 0, sizeof *pack);
    root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        char msg[96];
        snprintf(msg, sizeof msg, "not valid JSON near \"%.40s\"",
                 at ? at : "");
        return pack_err(err, errlen, name, "%s", msg);
    }
    rc = pack_parse_top(root, name, pack, err, errlen);
    cJSON_Delete(root);
    if (rc != 0)
        tadd_pack_free(pack);
    return rc;
}

int tadd_pack_load(const char *path, struct tadd_pack *pack, char *err,
                   size_t errlen)
{
    char *text;
    size_t len;
    int rc;

    memset(pack, 0, sizeof *pack);
    if (tadd_read_file(path, PACK_MAX_BYTES, &text, &len, err, errlen) != 0)
        return -1;
    if (strlen(text) != len) {
        free(text);
        return pack_err(err, errlen, path, "%s", "holds a NUL byte");
    }
    rc = tadd_pack_parse(text, path, pack, err, errlen);
    free(text);
    return rc;
}

void tadd_pack_free(struct tadd_pack *pack)
{
    for (int i = 0; i < pack->n_models && pack->models; i++)
        free(pack->models[i].dir);
    free(pack->models);
    free(pack->state_path);
    memset(pack, 0, sizeof *pack);
}
