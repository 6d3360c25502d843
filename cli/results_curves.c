/*
 * Reading a sweep's curves from its folder; see results_curves.h.
 */
#include "results_curves.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "fsutil.h"
#include "text.h"

#define CURVES_FILE_MAX (64u << 20)
#define CURVES_PATH_MAX 4096

/* dir/name into path (CURVES_PATH_MAX bytes); 0, or -1 when too long. */
static int curves_join(char *path, const char *dir, const char *name,
                       char *err, size_t errlen)
{
    int n = snprintf(path, CURVES_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= CURVES_PATH_MAX) {
        tadd_msgf(err, errlen, "%s/%s: path too long", dir, name);
        return -1;
    }
    return 0;
}

/* Index of column name in a header line of len bytes, or -1. */
static int curves_column(const char *header, size_t len, const char *name)
{
    size_t want = strlen(name);
    int col = 0;
    const char *p = header, *end = header + len;

    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        size_t n = (size_t)(stop - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n == want && memcmp(p, name, n) == 0)
            return col;
        if (!comma)
            break;
        p = comma + 1;
        col++;
    }
    return -1;
}

/* Field col of a line of len bytes, as a number; 0, or -1 if malformed. */
static int curves_field(const char *line, size_t len, int col, double *out)
{
    const char *p = line, *end = line + len;
    for (int i = 0; i < col; i++) {
        p = memchr(p, ',', (size_t)(end - p));
        if (!p)
            return -1;
        p++;
    }
    char buf[64];
    const char *stop = memchr(p, ',', (size_t)(end - p));
    size_t n = (size_t)((stop ? stop : end) - p);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *tail;
    errno = 0;
    *out = strtod(buf, &tail);
    if (errno == ERANGE || (*tail && *tail != '\r'))
        return -1;
    return 0;
}

int tadd_metrics_csv_parse(const char *text, const char *name,
                           struct tadd_seed_curve *out, char *err,
                           size_t errlen)
{
    const char *nl = strchr(text, '\n');
    if (!nl) {
        tadd_msgf(err, errlen, "%s: no header line", name);
        return -1;
    }
    int c_step = curves_column(text, (size_t)(nl - text), "step");
    int c_val = curves_column(text, (size_t)(nl - text), "val_exact");
    if (c_step < 0 || c_val < 0) {
        tadd_msgf(err, errlen, "%s: header lacks the %s column", name,
                  c_step < 0 ? "step" : "val_exact");
        return -1;
    }
    size_t rows = 0;
    for (const char *p = nl + 1; (p = strchr(p, '\n')); p++)
        rows++;
    out->step = calloc(rows + 1, sizeof *out->step);
    out->val_exact = calloc(rows + 1, sizeof *out->val_exact);
    if (!out->step || !out->val_exact) {
        tadd_msgf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    out->n = 0;
    int line_no = 1;
    /* Only complete lines count: the worker may be appending the last. */
    for (const char *p = nl + 1; (nl = strchr(p, '\n')); p = nl + 1) {
        size_t len = (size_t)(nl - p);
        line_no++;
        if (len == 0 || (len == 1 && *p == '\r'))
            continue;
        double step, val;
        if (curves_field(p, len, c_step, &step) < 0 ||
            curves_field(p, len, c_val, &val) < 0 || !isfinite(step)) {
            tadd_msgf(err, errlen, "%s:%d: malformed row", name, line_no);
            return -1;
        }
        out->step[out->n] = step;
        out->val_exact[out->n] = val;
        out->n++;
    }
    return 0;
}

/* Reads one seed folder's files into s. */
static int curves_read_seed(const char *dir, double threshold,
                            struct tadd_seed_curve *s, char *err,
                            size_t errlen)
{
    char path[CURVES_PATH_MAX];
    char *text = NULL;
    int rc = -1;

    if (curves_join(path, dir, "metrics.csv", err, errlen) < 0)
        return -1;
    if (!tadd_path_exists(path))
        return 0; /* not started yet: no curve */
    if (tadd_read_file(path, CURVES_FILE_MAX, &text, NULL, err, errlen) < 0)
        return -1;
    if (tadd_metrics_csv_parse(text, path, s, err, errlen) < 0)
        goto cleanup;
    for (int i = 0; i < s->n; i++)
        if (s->val_exact[i] > threshold)
            s->success = 1;
    free(text);
    text = NULL;

    if (curves_join(path, dir, "summary.json", err, errlen) < 0)
        goto cleanup;
    if (tadd_path_exists(path)) {
        if (tadd_read_file(path, CURVES_FILE_MAX, &text, NULL, err,
                           errlen) < 0)
            goto cleanup;
        cJSON *j = cJSON_Parse(text);
        const cJSON *succ = cJSON_GetObjectItemCaseSensitive(j, "success");
        if (!cJSON_IsBool(succ)) {
            tadd_msgf(err, errlen, "%s: %s", path, j ? "no boolean "
                      "\"success\"" : "not valid JSON");
            cJSON_Delete(j);
            goto cleanup;
        }
        s->finished = 1;
        s->success = cJSON_IsTrue(succ);
        cJSON_Delete(j);
    }
    rc = 0;
cleanup:
    free(text);
    return rc;
}

/* seed_<n> gives 1 and *seed; anything else 0. */
static int curves_seed_name(const char *name, long *seed)
{
    if (strncmp(name, "seed_", 5) != 0 || !name[5])
        return 0;
    char *end;
    errno = 0;
    *seed = strtol(name + 5, &end, 10);
    return !*end && errno == 0;
}

static int curves_seed_cmp(const void *a, const void *b)
{
    long x = ((const struct tadd_seed_curve *)a)->seed;
    long y = ((const struct tadd_seed_curve *)b)->seed;
    return (x > y) - (x < y);
}

static int curves_config_cmp(const void *a, const void *b)
{
    return strcmp(((const struct tadd_config_curves *)a)->name,
                  ((const struct tadd_config_curves *)b)->name);
}

static int curves_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads the seeds of one config folder; c->n_seeds 0 when none. */
static int curves_read_config(const char *dir, double threshold,
                              struct tadd_config_curves *c, char *err,
                              size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int cap = 0, rc = -1;
    char path[CURVES_PATH_MAX];

    if (!d) {
        tadd_msgf(err, errlen, "%s: opendir: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        long seed;
        if (!curves_seed_name(e->d_name, &seed))
            continue;
        if (curves_join(path, dir, e->d_name, err, errlen) < 0)
            goto cleanup;
        if (!curves_is_dir(path))
            continue;
        if (c->n_seeds == cap) {
            int ncap = cap ? 2 * cap : 8;
            void *p = realloc(c->seeds, (size_t)ncap * sizeof *c->seeds);
            if (!p) {
                tadd_msgf(err, errlen, "%s: out of memory", dir);
                goto cleanup;
            }
            c->seeds = p;
            cap = ncap;
        }
        struct tadd_seed_curve *s = &c->seeds[c->n_seeds++];
        memset(s, 0, sizeof *s);
        s->seed = seed;
        if (curves_read_seed(path, threshold, s, err, errlen) < 0)
            goto cleanup;
    }
    if (c->n_seeds > 1)
        qsort(c->seeds, (size_t)c->n_seeds, sizeof *c->seeds,
              curves_seed_cmp);
    rc = 0;
cleanup:
    closedir(d);
    return rc;
}

int tadd_sweep_curves_read(const char *home, const char *sweep,
                           double threshold, struct tadd_sweep_curves *out,
                           char *err, size_t errlen)
{
    char dir[CURVES_PATH_MAX], path[CURVES_PATH_MAX];
    DIR *d = NULL;
    struct dirent *e;
    int cap = 0, rc = -1;

    memset(out, 0, sizeof *out);
    if (!tadd_name_is_safe(sweep)) {
        tadd_msgf(err, errlen, "'%s' is not a sweep name", sweep);
        return -1;
    }
    if (curves_join(dir, home, sweep, err, errlen) < 0)
        return -1;
    d = opendir(dir);
    if (!d) {
        tadd_msgf(err, errlen, "%s: %s (no such sweep under the home?)",
                  dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (curves_join(path, dir, e->d_name, err, errlen) < 0)
            goto cleanup;
        if (!curves_is_dir(path))
            continue;
        struct tadd_config_curves c = { 0 };
        if (curves_read_config(path, threshold, &c, err, errlen) < 0) {
            struct tadd_sweep_curves one = { 1, &c };
            tadd_sweep_curves_free(&one);
            goto cleanup;
        }
        if (c.n_seeds == 0)
            continue;
        c.name = strdup(e->d_name);
        if (out->n_configs == cap) {
            int ncap = cap ? 2 * cap : 16;
            void *p = realloc(out->configs, (size_t)ncap * sizeof c);
            if (p) {
                out->configs = p;
                cap = ncap;
            }
        }
        if (!c.name || out->n_configs == cap) {
            struct tadd_sweep_curves one = { 1, &c };
            tadd_sweep_curves_free(&one);
            tadd_msgf(err, errlen, "%s: out of memory", dir);
            goto cleanup;
        }
        out->configs[out->n_configs++] = c;
    }
    if (out->n_configs == 0) {
        tadd_msgf(err, errlen, "%s: no config folder with seed_* folders",
                  dir);
        goto cleanup;
    }
    qsort(out->configs, (size_t)out->n_configs, sizeof *out->configs,
          curves_config_cmp);
    rc = 0;
cleanup:
    closedir(d);
    if (rc < 0)
        tadd_sweep_curves_free(out);
    return rc;
}

void tadd_sweep_curves_free(struct tadd_sweep_curves *c)
{
    for (int i = 0; c->configs && i < c->n_configs; i++) {
        struct tadd_config_curves *cc = &c->configs[i];
        for (int j = 0; j < cc->n_seeds; j++) {
            free(cc->seeds[j].step);
            free(cc->seeds[j].val_exact);
        }
        free(cc->seeds);
        free(cc->name);
    }
    free(c->configs);
    memset(c, 0, sizeof *c);
}
