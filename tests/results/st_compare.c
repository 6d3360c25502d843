/*
 * st_compare A B: reads two checkpoints with the project's own
 * safetensors reader and exits 0 only when they hold the same tensors
 * (names, shapes, bit-identical float32 data) and equal model_config
 * metadata, as parsed by the project's config reader. Used by
 * test_convert.py to check converted checkpoints against golden ones.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "safetensors.h"

static int model_of(const struct tadd_st_file *f, const char *path,
                    struct tadd_model_config *m)
{
    char err[512];
    const char *text = tadd_st_meta(f, "model_config");
    const char *format = tadd_st_meta(f, "format");
    if (!format || strcmp(format, "tadd-checkpoint/1") != 0) {
        fprintf(stderr, "%s: format is %s\n", path, format ? format : "-");
        return -1;
    }
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    struct tadd_config defaults;
    tadd_config_defaults(&defaults);
    *m = defaults.model;
    int rc = j ? tadd_model_config_from_json(m, j, "model_config", err,
                                             sizeof err) : -1;
    if (rc < 0)
        fprintf(stderr, "%s: model_config: %s\n", path, j ? err : "absent");
    cJSON_Delete(j);
    return rc;
}

int main(int argc, char **argv)
{
    struct tadd_st_file a = { 0 }, b = { 0 };
    struct tadd_model_config ma, mb;
    char err[512];
    int bad = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: st_compare A B\n");
        return 2;
    }
    if (tadd_st_read(argv[1], &a, err, sizeof err) < 0 ||
        tadd_st_read(argv[2], &b, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (model_of(&a, argv[1], &ma) < 0 || model_of(&b, argv[2], &mb) < 0)
        return 1;
    if (memcmp(&ma, &mb, sizeof ma) != 0) {
        fprintf(stderr, "model_config differs\n");
        bad = 1;
    }
    if (a.n_tensors != b.n_tensors) {
        fprintf(stderr, "%d tensors against %d\n", a.n_tensors,
                b.n_tensors);
        bad = 1;
    }
    for (int i = 0; i < a.n_tensors; i++) {
        const struct tadd_st_tensor *x = &a.tensors[i];
        const struct tadd_st_tensor *y = tadd_st_find(&b, x->name);
        if (!y) {
            fprintf(stderr, "%s: only in %s\n", x->name, argv[1]);
            bad = 1;
            continue;
        }
        if (x->ndim != y->ndim ||
            memcmp(x->shape, y->shape, sizeof x->shape[0] * x->ndim) ||
            memcmp(x->data, y->data, sizeof(float) * (size_t)x->numel)) {
            fprintf(stderr, "%s: shape or data differ\n", x->name);
            bad = 1;
        }
    }
    tadd_st_free(&a);
    tadd_st_free(&b);
    return bad;
}
