#include "format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double ctl_num(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *ctl_str(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : dflt;
}

void ctl_print_json(const cJSON *obj)
{
    char *text = cJSON_Print(obj);

    if (text) {
        puts(text);
        free(text);
    }
}

void ctl_fmt_duration(double s, char *buf, size_t len)
{
    long t;

    if (!(s >= 0)) {
        snprintf(buf, len, "-");
        return;
    }
    t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

void ctl_fmt_time(double unix_seconds, char *buf, size_t len)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;

    if (!localtime_r(&t, &tm) ||
        strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, len, "-");
}

void ctl_fmt_bar(long step, long total, int width, char *buf, size_t len)
{
    int filled = 0;
    size_t n = 0;

    if (total > 0 && step > 0)
        filled = (int)((double)step / (double)total * width + 1e-9);
    if (filled > width)
        filled = width;
    if (len < (size_t)width + 3) {
        if (len)
            buf[0] = '\0';
        return;
    }
    buf[n++] = '[';
    for (int i = 0; i < width; i++)
        buf[n++] = i < filled ? '#' : '.';
    buf[n++] = ']';
    buf[n] = '\0';
}

void ctl_fmt_frac(double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.4f", v);
}

struct ctl_table {
    int n_cols;
    int n_rows, cap;
    char **cells; /* (cap * n_cols) */
};

struct ctl_table *ctl_table_new(int n_cols)
{
    struct ctl_table *t = calloc(1, sizeof(*t));

    if (!t) {
        fputs("taddctl: out of memory\n", stderr);
        exit(1);
    }
    t->n_cols = n_cols;
    return t;
}

void ctl_table_row(struct ctl_table *t, const char *const *cells)
{
    if (t->n_rows == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        char **p = realloc(t->cells, (size_t)cap * (size_t)t->n_cols *
                                         sizeof(char *));
        if (!p) {
            fputs("taddctl: out of memory\n", stderr);
            exit(1);
        }
        t->cells = p;
        t->cap = cap;
    }
    for (int c = 0; c < t->n_cols; c++) {
        char *s = strdup(cells[c] ? cells[c] : "");
        if (!s) {
            fputs("taddctl: out of memory\n", stderr);
            exit(1);
        }
        t->cells[t->n_rows * t->n_cols + c] = s;
    }
    t->n_rows++;
}

void ctl_table_print(const struct ctl_table *t, int indent)
{
    int *w = calloc((size_t)t->n_cols, sizeof(int));

    if (!w)
        return;
    for (int r = 0; r < t->n_rows; r++)
        for (int c = 0; c < t->n_cols; c++) {
            int n = (int)strlen(t->cells[r * t->n_cols + c]);
            if (n > w[c])
                w[c] = n;
        }
    for (int r = 0; r < t->n_rows; r++) {
        printf("%*s", indent, "");
        for (int c = 0; c < t->n_cols; c++) {
            const char *s = t->cells[r * t->n_cols + c];
            /* The last column is not padded: no trailing blanks. */
            if (c == t->n_cols - 1)
                printf("%s", s);
            else
                printf("%-*s  ", w[c], s);
        }
        putchar('\n');
    }
    free(w);
}

void ctl_table_free(struct ctl_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void ctl_print_sweep_line(const cJSON *s)
{
    printf("sweep %s: %.0f trials: %.0f done, %.0f diverged, %.0f failed, "
           "%.0f cancelled, %.0f running, %.0f queued; %.0f succeeded\n",
           ctl_str(s, "sweep", "?"), ctl_num(s, "trials", 0),
           ctl_num(s, "done", 0), ctl_num(s, "diverged", 0),
           ctl_num(s, "failed", 0), ctl_num(s, "cancelled", 0),
           ctl_num(s, "running", 0), ctl_num(s, "queued", 0),
           ctl_num(s, "successes", 0));
}
