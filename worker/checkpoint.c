#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "safetensors.h"

static int ckpt_add_meta_json(struct tadd_st_writer *w, const char *key,
                              cJSON *json)
{
    char *text;
    int rc;

    if (!json)
        return -1;
    text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (!text)
        return -1;
    rc = tadd_st_writer_meta(w, key, text);
    free(text);
    return rc;
}

static int ckpt_add_meta(struct tadd_st_writer *w,
                         const struct tadd_checkpoint_meta *meta)
{
    char buf[64];
    int rc;

    rc = ckpt_add_meta_json(w, "train_config",
                            tadd_train_config_to_json(meta->train));
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)meta->seed);
    if (rc == 0)
        rc = tadd_st_writer_meta(w, "seed", buf);
    snprintf(buf, sizeof buf, "%ld", meta->step);
    if (rc == 0)
        rc = tadd_st_writer_meta(w, "step", buf);
    snprintf(buf, sizeof buf, "%.17g", meta->val_exact);
    if (rc == 0)
        rc = tadd_st_writer_meta(w, "val_exact", buf);
    return rc;
}

int tadd_checkpoint_save(const struct tadd_model *m,
                         const struct tadd_checkpoint_meta *meta,
                         const char *path, char *err, size_t errlen)
{
    struct tadd_st_writer *w = tadd_st_writer_new();
    int rc = w ? 0 : -1;

    if (rc == 0)
        rc = tadd_st_writer_meta(w, "format", TADD_CHECKPOINT_FORMAT);
    if (rc == 0)
        rc = ckpt_add_meta_json(w, "model_config",
                                tadd_model_config_to_json(&m->cfg));
    if (rc == 0 && meta && meta->trained)
        rc = ckpt_add_meta(w, meta);
    for (int i = 0; rc == 0 && i < m->n_tensors; i++) {
        const struct tadd_tensor_info *t = &m->tensors[i];
        const float *base = t->trainable ? m->params : m->fixed;
        rc = tadd_st_writer_add(w, t->name, t->ndim, t->shape,
                                base + t->offset);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: out of memory building the checkpoint",
                 path);
    } else {
        rc = tadd_st_writer_save(w, path, err, errlen);
    }
    tadd_st_writer_free(w);
    return rc;
}

static int ckpt_config(const struct tadd_st_file *f, const char *path,
                       struct tadd_model_config *cfg, char *err,
                       size_t errlen)
{
    const char *format = tadd_st_meta(f, "format");
    const char *text = tadd_st_meta(f, "model_config");
    char msg[TADD_ERR_LEN];
    cJSON *json;
    int rc;

    if (format && strcmp(format, TADD_CHECKPOINT_FORMAT) != 0) {
        snprintf(err, errlen, "%s: __metadata__.format is \"%.64s\", "
                 "expected \"%s\"", path, format, TADD_CHECKPOINT_FORMAT);
        return -1;
    }
    if (!text) {
        snprintf(err, errlen, "%s: no model_config in __metadata__", path);
        return -1;
    }
    json = cJSON_Parse(text);
    if (!json) {
        snprintf(err, errlen, "%s: __metadata__.model_config is not JSON",
                 path);
        return -1;
    }
    rc = tadd_model_config_from_json(cfg, json, "model_config", msg,
                                     sizeof msg);
    cJSON_Delete(json);
    if (rc == 0)
        rc = tadd_model_config_validate(cfg, msg, sizeof msg);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, msg);
    return rc;
}

static int ckpt_copy_tensors(const struct tadd_st_file *f, const char *path,
                             struct tadd_model *m, char *err, size_t errlen)
{
    for (int i = 0; i < m->n_tensors; i++) {
        const struct tadd_tensor_info *t = &m->tensors[i];
        const struct tadd_st_tensor *st = tadd_st_find(f, t->name);
        if (!st) {
            snprintf(err, errlen, "%s: missing tensor %s", path, t->name);
            return -1;
        }
        int same = st->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++)
            same = st->shape[d] == t->shape[d];
        if (!same) {
            snprintf(err, errlen, "%s: tensor %s has the wrong shape for "
                     "its model_config", path, t->name);
            return -1;
        }
        memcpy(tadd_model_tensor_data(m, t), st->data,
               t->numel * sizeof(float));
    }
    for (int i = 0; i < f->n_tensors; i++) {
        if (!tadd_model_find(m, f->tensors[i].name)) {
            snprintf(err, errlen, "%s: unexpected tensor %.80s for its "
                     "model_config", path, f->tensors[i].name);
            return -1;
        }
    }
    return 0;
}

int tadd_checkpoint_load(const char *path, struct tadd_model *m, char *err,
                         size_t errlen)
{
    struct tadd_st_file f;
    struct tadd_model_config cfg;
    int rc;

    memset(m, 0, sizeof *m);
    rc = tadd_st_read(path, &f, err, errlen);
    if (rc != 0)
        return rc;
    rc = ckpt_config(&f, path, &cfg, err, errlen);
    if (rc == 0 && tadd_model_create(m, &cfg) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    }
    if (rc == 0)
        rc = ckpt_copy_tensors(&f, path, m, err, errlen);
    if (rc != 0)
        tadd_model_destroy(m);
    tadd_st_free(&f);
    return rc;
}
