#include "train_files.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checkpoint.h"
#include "fsutil.h"

/* A metrics file grows by about 80 bytes per evaluation. */
#define METRICS_MAX_BYTES (256u << 20)

static char *files_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/*
 * Keeps the header and the complete rows of steps below keep_before; a
 * torn last line (a crash while appending) is dropped with the rest.
 */
static size_t files_keep_rows(char *text, size_t len, long keep_before)
{
    size_t out = 0, pos = 0;
    int header = 1;

    while (pos < len) {
        char *nl = memchr(text + pos, '\n', len - pos);
        size_t line_len;
        if (!nl)
            break;
        line_len = (size_t)(nl - (text + pos)) + 1;
        if (!header) {
            char *end;
            long step = strtol(text + pos, &end, 10);
            if (end == text + pos || *end != ',' || step >= keep_before)
                break;
        }
        memmove(text + out, text + pos, line_len);
        out += line_len;
        pos += line_len;
        header = 0;
    }
    return out;
}

int tadd_metrics_open(struct tadd_metrics_file *m, const char *dir,
                      long keep_before, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int rc = 0;

    m->f = NULL;
    m->path = files_join(dir, "metrics.csv");
    if (!m->path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (keep_before > 0 && tadd_path_exists(m->path)) {
        rc = tadd_read_file(m->path, METRICS_MAX_BYTES, &text, &len, err,
                            errlen);
        if (rc == 0)
            len = files_keep_rows(text, len, keep_before);
    }
    if (rc == 0 && len == 0) {
        free(text);
        text = strdup(TADD_METRICS_HEADER);
        len = text ? strlen(text) : 0;
        if (!text) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0)
        rc = tadd_write_file_atomic(m->path, text, len, err, errlen);
    free(text);
    if (rc == 0) {
        m->f = fopen(m->path, "a");
        if (!m->f) {
            snprintf(err, errlen, "%s: cannot open: %s", m->path,
                     strerror(errno));
            rc = -1;
        }
    }
    return rc;
}

int tadd_metrics_append(struct tadd_metrics_file *m,
                        const struct tadd_metrics_row *r, char *err,
                        size_t errlen)
{
    int n = fprintf(m->f, "%ld,%.9g,%.9g,%.9g,%.9g,%.9g,%.3f\n", r->step,
                    r->train_loss, r->val_exact, r->val_token_acc,
                    r->grad_norm, r->lr, r->elapsed_sec);
    if (n < 0 || fflush(m->f) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", m->path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int tadd_metrics_sync(struct tadd_metrics_file *m, char *err, size_t errlen)
{
    if (fflush(m->f) != 0 || fsync(fileno(m->f)) != 0) {
        snprintf(err, errlen, "%s: cannot sync: %s", m->path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

void tadd_metrics_close(struct tadd_metrics_file *m)
{
    if (m->f)
        fclose(m->f);
    free(m->path);
    m->f = NULL;
    m->path = NULL;
}

int tadd_files_write_weights(const struct tadd_model *m,
                             const struct tadd_pack_model *pm,
                             const char *name, long step, double val_exact,
                             char *err, size_t errlen)
{
    struct tadd_checkpoint_meta meta;
    char *path = files_join(pm->dir, name);
    int rc;

    if (!path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    meta.trained = 1;
    meta.train = &pm->cfg.train;
    meta.seed = pm->seed;
    meta.step = step;
    meta.val_exact = val_exact;
    rc = tadd_checkpoint_save(m, &meta, path, err, errlen);
    free(path);
    return rc;
}

static void files_number_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *files_summary_json(const struct tadd_model *m,
                                 const struct tadd_pack_model *pm,
                                 const struct tadd_model_progress *p,
                                 double test_exact,
                                 const struct tadd_pack *pack,
                                 long final_step, double elapsed)
{
    cJSON *o = cJSON_CreateObject();
    int evaluated = p->best_step >= 0;

    cJSON_AddNumberToObject(o, "seed", (double)pm->seed);
    cJSON_AddNumberToObject(o, "params", (double)m->n_params);
    cJSON_AddStringToObject(o, "status", tadd_model_status_name(p->status));
    files_number_or_null(o, "best_val_exact",
                         evaluated ? p->best_val_exact : NAN);
    cJSON_AddNumberToObject(o, "best_step", (double)p->best_step);
    cJSON_AddBoolToObject(o, "success", p->first_success_step >= 0);
    cJSON_AddNumberToObject(o, "success_threshold", pack->success_threshold);
    cJSON_AddNumberToObject(o, "first_success_step",
                            (double)p->first_success_step);
    files_number_or_null(o, "first_success_elapsed_sec",
                         p->first_success_step >= 0
                             ? p->first_success_elapsed
                             : NAN);
    cJSON_AddNumberToObject(o, "final_step", (double)final_step);
    files_number_or_null(o, "final_val_exact", p->last_val_exact);
    files_number_or_null(o, "test_exact", test_exact);
    cJSON_AddNumberToObject(o, "diverged_step", (double)p->diverged_step);
    cJSON_AddNumberToObject(o, "elapsed_sec", elapsed);
    cJSON_AddNumberToObject(o, "pack_models", pack->n_models);
    cJSON_AddItemToObject(o, "model_config",
                          tadd_model_config_to_json(&pm->cfg.model));
    cJSON_AddItemToObject(o, "train_config",
                          tadd_train_config_to_json(&pm->cfg.train));
    return o;
}

int tadd_files_write_summary(const struct tadd_model *m,
                             const struct tadd_pack_model *pm,
                             const struct tadd_model_progress *p,
                             double test_exact, const struct tadd_pack *pack,
                             long final_step, double elapsed, char *err,
                             size_t errlen)
{
    cJSON *o = files_summary_json(m, pm, p, test_exact, pack, final_step,
                                  elapsed);
    char *text = o ? cJSON_Print(o) : NULL;
    char *path = files_join(pm->dir, "summary.json");
    int rc = -1;

    if (!text || !path) {
        snprintf(err, errlen, "out of memory writing summary.json");
    } else {
        size_t len = strlen(text);
        text[len] = '\n'; /* cJSON's terminator becomes a final newline */
        rc = tadd_write_file_atomic(path, text, len + 1, err, errlen);
    }
    free(path);
    free(text);
    cJSON_Delete(o);
    return rc;
}
