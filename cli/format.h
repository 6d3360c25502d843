/*
 * Output helpers for taddctl's verbs: JSON field access with defaults,
 * durations, times, progress bars and aligned tables.
 */
#ifndef TADD_FORMAT_H
#define TADD_FORMAT_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* A number field, dflt when absent or null. */
double ctl_num(const cJSON *obj, const char *key, double dflt);

/* A string field, dflt when absent or not a string. */
const char *ctl_str(const cJSON *obj, const char *key, const char *dflt);

/* Prints obj as indented JSON and a newline on stdout. */
void ctl_print_json(const cJSON *obj);

/* "3h07m", "12m05s", "41s"; "-" for a negative value. */
void ctl_fmt_duration(double seconds, char *buf, size_t len);

/* Local time "2026-02-26 14:03:27" of Unix seconds. */
void ctl_fmt_time(double unix_seconds, char *buf, size_t len);

/* "[########............]" of width cells for step out of total. */
void ctl_fmt_bar(long step, long total, int width, char *buf, size_t len);

/* A number with up to 4 decimals, "-" when NaN. */
void ctl_fmt_frac(double v, char *buf, size_t len);

/* Prints one line summing up a sweep's progress object (the "sweep" of a
 * wait, show or status reply). */
void ctl_print_sweep_line(const cJSON *s);

/*
 * An aligned table: add rows of cells (the first row is the header), then
 * print; columns are padded to their widest cell, indent spaces first.
 */
struct ctl_table;

struct ctl_table *ctl_table_new(int n_cols);
/* Adds a row of n_cols strings (copied). Exits on OOM. */
void ctl_table_row(struct ctl_table *t, const char *const *cells);
void ctl_table_print(const struct ctl_table *t, int indent);
void ctl_table_free(struct ctl_table *t);

#endif
