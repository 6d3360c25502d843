#include "resume.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "safetensors.h"

#define RESUME_FORMAT "tadd-resume/1"

static const char *const status_names[] = {"training", "done", "diverged"};

const char *tadd_model_status_name(enum tadd_model_status s)
{
    return s <= TADD_MODEL_DIVERGED ? status_names[s] : "unknown";
}

/* Doubles travel as strings of 17 significant digits, so that they read
 * back bit for bit whatever the JSON library does with numbers. */
static int resume_put_double(cJSON *obj, const char *key, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    return cJSON_AddStringToObject(obj, key, buf) ? 0 : -1;
}

static int resume_put_long(cJSON *obj, const char *key, long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    return cJSON_AddStringToObject(obj, key, buf) ? 0 : -1;
}

static cJSON *resume_progress_json(const struct tadd_model_progress *p)
{
    cJSON *o = cJSON_CreateObject();
    char seed[32];
    int rc = o ? 0 : -1;

    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
    if (rc == 0 && !cJSON_AddStringToObject(o, "seed", seed))
        rc = -1;
    if (rc == 0)
        rc = resume_put_long(o, "status", (long)p->status);
    if (rc == 0)
        rc = resume_put_double(o, "best_val_exact", p->best_val_exact);
    if (rc == 0)
        rc = resume_put_long(o, "best_step", p->best_step);
    if (rc == 0)
        rc = resume_put_long(o, "first_success_step", p->first_success_step);
    if (rc == 0)
        rc = resume_put_double(o, "first_success_elapsed",
                               p->first_success_elapsed);
    if (rc == 0)
        rc = resume_put_long(o, "diverged_step", p->diverged_step);
    if (rc == 0)
        rc = resume_put_double(o, "loss_sum", p->loss_sum);
    if (rc == 0)
        rc = resume_put_long(o, "loss_count", p->loss_count);
    if (rc == 0)
        rc = resume_put_double(o, "last_val_exact", p->last_val_exact);
    if (rc == 0)
        rc = resume_put_double(o, "last_val_token_acc",
                               p->last_val_token_acc);
    if (rc == 0)
        rc = resume_put_long(o, "last_eval_step", p->last_eval_step);
    if (rc != 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static char *resume_meta_text(const struct tadd_resume_state *st)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *models = cJSON_AddArrayToObject(root, "models");
    char *text = NULL;
    int rc = root && models ? 0 : -1;

    if (rc == 0 && !cJSON_AddStringToObject(root, "format", RESUME_FORMAT))
        rc = -1;
    if (rc == 0)
        rc = resume_put_long(root, "step", st->step);
    if (rc == 0)
        rc = resume_put_double(root, "elapsed", st->elapsed);
    if (rc == 0 && st->kernels[0] &&
        !cJSON_AddStringToObject(root, "kernels", st->kernels))
        rc = -1;
    for (int i = 0; rc == 0 && i < st->n_models; i++) {
        cJSON *p = resume_progress_json(&st->models[i].progress);
        if (!p)
            rc = -1;
        else
            cJSON_AddItemToArray(models, p);
    }
    if (rc == 0)
        text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

int tadd_resume_save(const struct tadd_resume_state *st, const char *path,
                     char *err, size_t errlen)
{
    struct tadd_st_writer *w = tadd_st_writer_new();
    char *meta = resume_meta_text(st);
    int rc = w && meta ? 0 : -1;

    if (rc == 0)
        rc = tadd_st_writer_meta(w, "tadd_state", meta);
    for (int i = 0; rc == 0 && i < st->n_models; i++) {
        const struct tadd_resume_model *m = &st->models[i];
        const float *arrays[4] = {m->params, m->adam_m, m->adam_v, m->best};
        const char *names[4] = {"params", "adam_m", "adam_v", "best"};
        int64_t shape[1] = {(int64_t)m->n_params};
        for (int a = 0; rc == 0 && a < 4; a++) {
            char name[48];
            snprintf(name, sizeof name, "m%d.%s", i, names[a]);
            rc = tadd_st_writer_add(w, name, 1, shape, arrays[a]);
        }
    }
    if (rc != 0)
        snprintf(err, errlen, "%s: out of memory building the state", path);
    else
        rc = tadd_st_writer_save(w, path, err, errlen);
    free(meta);
    tadd_st_writer_free(w);
    return rc;
}

/* Reads a string-encoded number; -1 when absent or malformed. */
static int resume_get_double(const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char *end;

    if (!cJSON_IsString(v))
        return -1;
    *out = strtod(v->valuestring, &end);
    return *end == '\0' && end != v->valuestring ? 0 : -1;
}

static int resume_get_long(const cJSON *obj, const char *key, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char *end;

    if (!cJSON_IsString(v))
        return -1;
    *out = strtol(v->valuestring, &end, 10);
    return *end == '\0' && end != v->valuestring ? 0 : -1;
}

static int resume_progress_parse(const cJSON *o,
                                 struct tadd_model_progress *p)
{
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(o, "seed");
    long status = 0;
    char *end;
    int rc = cJSON_IsString(seed) ? 0 : -1;

    if (rc == 0) {
        p->seed = strtoull(seed->valuestring, &end, 10);
        rc = *end == '\0' ? 0 : -1;
    }
    if (rc == 0)
        rc = resume_get_long(o, "status", &status);
    if (rc == 0 && (status < 0 || status > TADD_MODEL_DIVERGED))
        rc = -1;
    p->status = (enum tadd_model_status)status;
    if (rc == 0)
        rc = resume_get_double(o, "best_val_exact", &p->best_val_exact);
    if (rc == 0)
        rc = resume_get_long(o, "best_step", &p->best_step);
    if (rc == 0)
        rc = resume_get_long(o, "first_success_step",
                             &p->first_success_step);
    if (rc == 0)
        rc = resume_get_double(o, "first_success_elapsed",
                               &p->first_success_elapsed);
    if (rc == 0)
        rc = resume_get_long(o, "diverged_step", &p->diverged_step);
    if (rc == 0)
        rc = resume_get_double(o, "loss_sum", &p->loss_sum);
    if (rc == 0)
        rc = resume_get_long(o, "loss_count", &p->loss_count);
    if (rc == 0)
        rc = resume_get_double(o, "last_val_exact", &p->last_val_exact);
    if (rc == 0)
        rc = resume_get_double(o, "last_val_token_acc",
                               &p->last_val_token_acc);
    if (rc == 0)
        rc = resume_get_long(o, "last_eval_step", &p->last_eval_step);
    return rc;
}

static int resume_parse_meta(struct tadd_resume_state *st, const char *text,
                             const char *path, char *err, size_t errlen)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *fmt, *models, *m, *kernels;
    int rc = root ? 0 : -1, i = 0;

    fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    kernels = cJSON_GetObjectItemCaseSensitive(root, "kernels");
    models = cJSON_GetObjectItemCaseSensitive(root, "models");
    if (rc == 0 && (!cJSON_IsString(fmt) ||
                    strcmp(fmt->valuestring, RESUME_FORMAT) != 0))
        rc = -1;
    if (rc == 0)
        rc = resume_get_long(root, "step", &st->step);
    if (rc == 0)
        rc = resume_get_double(root, "elapsed", &st->elapsed);
    if (rc == 0 && (st->step < 0 || !isfinite(st->elapsed)))
        rc = -1;
    st->kernels[0] = '\0';
    if (rc == 0 && kernels) {
        if (!cJSON_IsString(kernels) ||
            strlen(kernels->valuestring) >= sizeof st->kernels)
            rc = -1;
        else
            strcpy(st->kernels, kernels->valuestring);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: malformed tadd_state metadata", path);
        goto out;
    }
    if (!cJSON_IsArray(models) ||
        cJSON_GetArraySize(models) != st->n_models) {
        snprintf(err, errlen, "%s: holds a different number of models "
                 "than the pack", path);
        rc = -1;
        goto out;
    }
    cJSON_ArrayForEach(m, models) {
        struct tadd_model_progress p;
        if (resume_progress_parse(m, &p) != 0) {
            snprintf(err, errlen, "%s: malformed progress of model %d",
                     path, i);
            rc = -1;
            goto out;
        }
        if (p.seed != st->models[i].progress.seed) {
            snprintf(err, errlen, "%s: model %d has seed %llu, the pack "
                     "says %llu", path, i, (unsigned long long)p.seed,
                     (unsigned long long)st->models[i].progress.seed);
            rc = -1;
            goto out;
        }
        st->models[i].progress = p;
        i++;
    }
out:
    cJSON_Delete(root);
    return rc;
}

int tadd_resume_load(struct tadd_resume_state *st, const char *path,
                     char *err, size_t errlen)
{
    struct tadd_st_file f;
    const char *meta;
    int rc;

    rc = tadd_st_read(path, &f, err, errlen);
    if (rc != 0)
        return rc;
    meta = tadd_st_meta(&f, "tadd_state");
    if (!meta) {
        snprintf(err, errlen, "%s: not a resume state (no tadd_state)",
                 path);
        rc = -1;
    }
    if (rc == 0)
        rc = resume_parse_meta(st, meta, path, err, errlen);
    for (int i = 0; rc == 0 && i < st->n_models; i++) {
        struct tadd_resume_model *m = &st->models[i];
        float *arrays[4] = {m->params, m->adam_m, m->adam_v, m->best};
        const char *names[4] = {"params", "adam_m", "adam_v", "best"};
        for (int a = 0; rc == 0 && a < 4; a++) {
            char name[48];
            const struct tadd_st_tensor *t;
            snprintf(name, sizeof name, "m%d.%s", i, names[a]);
            t = tadd_st_find(&f, name);
            if (!t || t->ndim != 1 || t->numel != (int64_t)m->n_params) {
                snprintf(err, errlen, "%s: tensor %s is missing or does "
                         "not fit the pack's model", path, name);
                rc = -1;
            } else {
                memcpy(arrays[a], t->data, m->n_params * sizeof(float));
            }
        }
    }
    tadd_st_free(&f);
    return rc;
}
