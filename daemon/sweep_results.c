/*
 * Results requests and files; see sweep_results.h.
 */
#include "sweep_results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "log.h"
#include "queue.h"
#include "report.h"
#include "text.h"

#define SR_PATH_MAX 4096

/* What the sweeps table says about one sweep. */
struct sr_sweep {
    int64_t id;
    char name[256];
    char baseline_sweep[256];  /* "" without baseline */
    char baseline_config[256];
    double threshold;
};

/* Trial rows and the names they point to. */
struct sr_rows {
    int n, cap;
    struct tadd_trial_row *rows;
    char **names; /* (n), owned */
};

static void sr_rows_free(struct sr_rows *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->names[i]);
    free(r->names);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

/* Loads a sweep's row by id, or by name when id is 0. */
static int sr_sweep_load(struct tadd_db *db, int64_t id, const char *name,
                         struct sr_sweep *s, char *err, size_t errlen)
{
    sqlite3_stmt *st = tadd_db_query(
        db, "SELECT id, name, COALESCE(baseline_sweep, ''), "
            "COALESCE(baseline_config, ''), success_threshold FROM sweeps "
            "WHERE id = ? OR (? = 0 AND name = ?)",
        "iit", id, id, name);
    int rc = st ? tadd_db_step(db, st) : -1;

    if (rc == 1) {
        s->id = sqlite3_column_int64(st, 0);
        snprintf(s->name, sizeof s->name, "%s", tadd_db_text(st, 1));
        snprintf(s->baseline_sweep, sizeof s->baseline_sweep, "%s",
                 tadd_db_text(st, 2));
        snprintf(s->baseline_config, sizeof s->baseline_config, "%s",
                 tadd_db_text(st, 3));
        s->threshold = sqlite3_column_double(st, 4);
    }
    sqlite3_finalize(st);
    if (rc < 0)
        tadd_msgf(err, errlen, "%s", db->err);
    else if (rc == 0)
        tadd_msgf(err, errlen, "no sweep named \"%s\"", name ? name : "?");
    return rc == 1 ? 0 : -1;
}

static enum tadd_trial_outcome sr_outcome(const char *state)
{
    if (strcmp(state, "queued") == 0)
        return TADD_TRIAL_WAITING;
    if (strcmp(state, "running") == 0)
        return TADD_TRIAL_RUNNING;
    if (strcmp(state, "done") == 0)
        return TADD_TRIAL_DONE;
    if (strcmp(state, "diverged") == 0)
        return TADD_TRIAL_DIVERGED;
    return TADD_TRIAL_LOST; /* failed, cancelled */
}

static double sr_col_num(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(st, col);
}

static long sr_col_long(sqlite3_stmt *st, int col, long dflt)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return dflt;
    return (long)sqlite3_column_int64(st, col);
}

/*
 * Every trial of the sweep (of one config when config is not NULL), in
 * the sweep's config order then by seed. The first success step of a
 * trial that has not reported one is its first evaluation above the
 * threshold; the seconds per step those of its pack's last evaluation.
 * A done trial is never looked up in its metrics rows: its first
 * success came with its worker's end event, and scanning the rows of
 * every unsuccessful done trial made large sweeps slow.
 */
#define SR_ROWS_SQL                                                         \
    "SELECT c.name, t.seed, COALESCE(t.params, c.params), t.state, "        \
    "t.best_val_exact, t.best_step, "                                       \
    "COALESCE(t.success, t.best_val_exact > ?1, 0), "                       \
    "CASE WHEN t.first_success_step >= 0 OR t.state = 'done' "            \
    "THEN t.first_success_step ELSE "                                       \
    "(SELECT MIN(m.step) FROM metrics m WHERE m.trial_id = t.id AND "       \
    "m.val_exact > ?1) END, "                                               \
    "CASE WHEN t.first_success_elapsed >= 0 OR t.state = 'done' "         \
    "THEN t.first_success_elapsed "                                         \
    "ELSE (SELECT m.elapsed_sec FROM metrics m WHERE m.trial_id = t.id "    \
    "AND m.val_exact > ?1 ORDER BY m.step LIMIT 1) END, "                   \
    "(SELECT m.elapsed_sec / m.step FROM metrics m WHERE m.trial_id = t.id "\
    "AND m.step > 0 AND m.elapsed_sec > 0 ORDER BY m.step DESC LIMIT 1) "   \
    "FROM trials t JOIN configs c ON c.id = t.config_id "                   \
    "WHERE c.sweep_id = ?2 AND (?3 IS NULL OR c.name = ?3) "                \
    "ORDER BY c.idx, t.seed"

static int sr_rows_add(struct sr_rows *r, sqlite3_stmt *st)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 64;
        void *rows = realloc(r->rows, (size_t)cap * sizeof *r->rows);
        if (!rows)
            return -1;
        r->rows = rows;
        void *names = realloc(r->names, (size_t)cap * sizeof *r->names);
        if (!names)
            return -1;
        r->names = names;
        r->cap = cap;
    }
    char *name = strdup(tadd_db_text(st, 0));
    if (!name)
        return -1;
    struct tadd_trial_row *t = &r->rows[r->n];
    r->names[r->n++] = name;
    t->config = name;
    t->seed = (long)sqlite3_column_int64(st, 1);
    t->params = sr_col_long(st, 2, 0);
    t->outcome = sr_outcome(tadd_db_text(st, 3));
    t->best_val_exact = sr_col_num(st, 4);
    t->best_step = sr_col_long(st, 5, -1);
    t->success = sqlite3_column_int(st, 6) != 0;
    t->success_step = t->success ? sr_col_long(st, 7, -1) : -1;
    t->success_elapsed = t->success ? sr_col_num(st, 8) : NAN;
    t->sec_per_step = sr_col_num(st, 9);
    return 0;
}

static int sr_rows_load(struct tadd_db *db, const struct sr_sweep *s,
                        const char *config, struct sr_rows *out, char *err,
                        size_t errlen)
{
    sqlite3_stmt *st = tadd_db_query(db, SR_ROWS_SQL, "dit", s->threshold,
                                     s->id, config);
    int rc;

    if (!st) {
        tadd_msgf(err, errlen, "%s", db->err);
        return -1;
    }
    while ((rc = tadd_db_step(db, st)) == 1) {
        if (sr_rows_add(out, st) < 0) {
            tadd_msgf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    if (rc < 0 && db->err[0])
        tadd_msgf(err, errlen, "%s", db->err);
    sqlite3_finalize(st);
    return rc;
}

/* 1 when the sweep has a config of that name, 0 when not, -1 on error. */
static int sr_has_config(struct tadd_db *db, int64_t sweep_id,
                         const char *name, char *err, size_t errlen)
{
    sqlite3_stmt *st = tadd_db_query(
        db, "SELECT 1 FROM configs WHERE sweep_id = ? AND name = ?", "it",
        sweep_id, name);
    int rc = st ? tadd_db_step(db, st) : -1;

    sqlite3_finalize(st);
    if (rc < 0)
        tadd_msgf(err, errlen, "%s", db->err);
    return rc;
}

int tadd_sweep_results_compute(struct tadd_daemon *d, int64_t sweep_id,
                               struct tadd_results *out, char *err,
                               size_t errlen)
{
    struct sr_sweep s, base;
    struct sr_rows rows = { 0 }, base_rows = { 0 };
    struct tadd_results_options opt = { 0 };
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (sr_sweep_load(d->db, sweep_id, NULL, &s, err, errlen) < 0 ||
        sr_rows_load(d->db, &s, NULL, &rows, err, errlen) < 0)
        goto cleanup;
    opt.sweep = s.name;
    opt.success_threshold = s.threshold;
    if (s.baseline_config[0])
        opt.baseline_config = s.baseline_config;
    if (s.baseline_config[0] && strcmp(s.baseline_sweep, s.name) == 0) {
        /* The sweep file's parser stored a variant's name when no config
         * has it: each config is then judged at its own grid point. */
        int has = sr_has_config(d->db, s.id, s.baseline_config, err, errlen);
        if (has < 0)
            goto cleanup;
        opt.baseline_is_variant = !has;
    } else if (s.baseline_config[0]) {
        /* Its own threshold judged its trials' success. */
        if (sr_sweep_load(d->db, 0, s.baseline_sweep, &base, err,
                          errlen) < 0 ||
            sr_rows_load(d->db, &base, s.baseline_config, &base_rows, err,
                         errlen) < 0)
            goto cleanup;
        opt.baseline_sweep = s.baseline_sweep;
        opt.baseline_rows = base_rows.rows;
        opt.n_baseline_rows = base_rows.n;
    }
    rc = tadd_results_compute(rows.rows, rows.n, &opt, out, err, errlen);
cleanup:
    sr_rows_free(&rows);
    sr_rows_free(&base_rows);
    return rc;
}

/* Answers a failed computation. */
static void sr_reply_failed(struct tadd_daemon *d, struct tadd_conn *c,
                            const char *err)
{
    tadd_conn_reply_error(c, "internal", "%s", err);
    tadd_db_clear_error(d->db);
}

void tadd_sweep_results_request(struct tadd_daemon *d, struct tadd_conn *c,
                                const cJSON *req)
{
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(req, "format");
    const char *fmt = cJSON_IsString(format) ? format->valuestring : "json";
    struct tadd_results r;
    char err[1024];
    int64_t sweep_id;

    if (format && !cJSON_IsNull(format) &&
        !(cJSON_IsString(format) && (strcmp(fmt, "json") == 0 ||
                                     strcmp(fmt, "csv") == 0 ||
                                     strcmp(fmt, "table") == 0))) {
        tadd_conn_reply_error(c, "bad_request",
                              "format: expected \"json\", \"csv\" or "
                              "\"table\"");
        return;
    }
    if (tadd_report_find_sweep(d, c, req, &sweep_id) != 0)
        return;
    if (tadd_sweep_results_compute(d, sweep_id, &r, err, sizeof err) < 0) {
        sr_reply_failed(d, c, err);
        return;
    }
    cJSON *reply = tadd_reply_new();
    cJSON *json = tadd_results_to_json(&r);
    char *text = NULL;
    if (strcmp(fmt, "csv") == 0)
        text = tadd_results_to_csv(&r);
    else if (strcmp(fmt, "table") == 0)
        text = tadd_results_to_table(&r);
    tadd_results_free(&r);
    if (!reply || !json || (strcmp(fmt, "json") != 0 && !text)) {
        cJSON_Delete(reply);
        cJSON_Delete(json);
        free(text);
        tadd_conn_reply_error(c, "internal", "out of memory");
        return;
    }
    cJSON_AddItemToObject(reply, "results", json);
    if (text)
        cJSON_AddStringToObject(reply, "text", text);
    free(text);
    tadd_conn_reply(c, reply);
}

/* --- compare --------------------------------------------------------- */

/* One side of a seed's comparison, or null without that trial. */
static cJSON *sr_trial_json(const struct tadd_trial_row *t)
{
    if (!t)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    double secs = tadd_trial_seconds_to_success(t);
    cJSON_AddStringToObject(o, "state", tadd_trial_outcome_name(t->outcome));
    if (isfinite(t->best_val_exact))
        cJSON_AddNumberToObject(o, "best_val_exact", t->best_val_exact);
    else
        cJSON_AddNullToObject(o, "best_val_exact");
    cJSON_AddNumberToObject(o, "best_step", (double)t->best_step);
    cJSON_AddBoolToObject(o, "success", t->success);
    if (t->success_step >= 0)
        cJSON_AddNumberToObject(o, "steps_to_success",
                                (double)t->success_step);
    else
        cJSON_AddNullToObject(o, "steps_to_success");
    if (isfinite(secs))
        cJSON_AddNumberToObject(o, "seconds_to_success", secs);
    else
        cJSON_AddNullToObject(o, "seconds_to_success");
    return o;
}

static const struct tadd_trial_row *sr_find_seed(const struct sr_rows *r,
                                                 long seed)
{
    for (int i = 0; i < r->n; i++)
        if (r->rows[i].seed == seed)
            return &r->rows[i];
    return NULL;
}

static const struct tadd_config_result *
sr_find_config(const struct tadd_results *r, const char *name)
{
    for (int i = 0; i < r->n_configs; i++)
        if (!r->configs[i].sweep && strcmp(r->configs[i].config, name) == 0)
            return &r->configs[i];
    return NULL;
}

static int sr_seed_cmp(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The seeds per config pair, in order, each once. */
static cJSON *sr_compare_seeds(const struct sr_rows *a,
                               const struct sr_rows *b)
{
    long *seeds = calloc((size_t)(a->n + b->n) + 1, sizeof *seeds);
    int n = 0;
    cJSON *arr = cJSON_CreateArray();

    if (!seeds || !arr)
        goto fail;
    for (int i = 0; i < a->n; i++)
        seeds[n++] = a->rows[i].seed;
    for (int i = 0; i < b->n; i++)
        if (!sr_find_seed(a, b->rows[i].seed))
            seeds[n++] = b->rows[i].seed;
    qsort(seeds, (size_t)n, sizeof *seeds, sr_seed_cmp);
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            goto fail;
        }
        cJSON_AddNumberToObject(o, "seed", (double)seeds[i]);
        cJSON_AddItemToObject(o, "a", sr_trial_json(sr_find_seed(a,
                                                                 seeds[i])));
        cJSON_AddItemToObject(o, "b", sr_trial_json(sr_find_seed(b,
                                                                 seeds[i])));
    }
    free(seeds);
    return arr;
fail:
    free(seeds);
    cJSON_Delete(arr);
    return NULL;
}

/* The result object of one config within the sweep's results. */
static cJSON *sr_config_json(const struct tadd_results *r, const char *name)
{
    cJSON *all = tadd_results_to_json(r);
    cJSON *configs = cJSON_GetObjectItemCaseSensitive(all, "configs");
    cJSON *item, *found = NULL;

    cJSON_ArrayForEach(item, configs) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(item, "config");
        if (!cJSON_GetObjectItemCaseSensitive(item, "sweep") &&
            cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
            found = cJSON_DetachItemViaPointer(configs, item);
            break;
        }
    }
    cJSON_Delete(all);
    return found;
}

void tadd_sweep_compare_request(struct tadd_daemon *d, struct tadd_conn *c,
                                const cJSON *req)
{
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(req, "a");
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(req, "b");
    struct sr_sweep s;
    struct sr_rows a = { 0 }, b = { 0 };
    struct tadd_results r;
    char err[1024];
    int64_t sweep_id;
    int have_results = 0;

    if (!cJSON_IsString(ca) || !cJSON_IsString(cb)) {
        tadd_conn_reply_error(c, "bad_request", "%s: expected a config name",
                              cJSON_IsString(ca) ? "b" : "a");
        return;
    }
    if (tadd_report_find_sweep(d, c, req, &sweep_id) != 0)
        return;
    if (sr_sweep_load(d->db, sweep_id, NULL, &s, err, sizeof err) < 0 ||
        sr_rows_load(d->db, &s, ca->valuestring, &a, err, sizeof err) < 0 ||
        sr_rows_load(d->db, &s, cb->valuestring, &b, err, sizeof err) < 0 ||
        tadd_sweep_results_compute(d, sweep_id, &r, err, sizeof err) < 0) {
        sr_reply_failed(d, c, err);
        goto cleanup;
    }
    have_results = 1;
    if (!sr_find_config(&r, ca->valuestring) ||
        !sr_find_config(&r, cb->valuestring)) {
        tadd_conn_reply_error(c, "not_found",
                              "%s: the sweep has no config \"%s\"",
                              sr_find_config(&r, ca->valuestring) ? "b" : "a",
                              sr_find_config(&r, ca->valuestring)
                                  ? cb->valuestring : ca->valuestring);
        goto cleanup;
    }
    cJSON *reply = tadd_reply_new();
    cJSON *ja = sr_config_json(&r, ca->valuestring);
    cJSON *jb = sr_config_json(&r, cb->valuestring);
    cJSON *seeds = sr_compare_seeds(&a, &b);
    if (!reply || !ja || !jb || !seeds) {
        cJSON_Delete(reply);
        cJSON_Delete(ja);
        cJSON_Delete(jb);
        cJSON_Delete(seeds);
        tadd_conn_reply_error(c, "internal", "out of memory");
        goto cleanup;
    }
    cJSON_AddStringToObject(reply, "sweep", s.name);
    cJSON_AddItemToObject(reply, "a", ja);
    cJSON_AddItemToObject(reply, "b", jb);
    cJSON_AddItemToObject(reply, "seeds", seeds);
    tadd_conn_reply(c, reply);
cleanup:
    if (have_results)
        tadd_results_free(&r);
    sr_rows_free(&a);
    sr_rows_free(&b);
}

/* --- files ----------------------------------------------------------- */

/* Writes <home>/<sweep>/<file> from text. */
static int sr_write(struct tadd_daemon *d, const char *sweep,
                    const char *file, const char *text, char *err,
                    size_t errlen)
{
    char dir[SR_PATH_MAX], path[SR_PATH_MAX];

    if (tadd_pathf(dir, sizeof dir, "%s/%s", d->home, sweep) != 0 ||
        tadd_pathf(path, sizeof path, "%s/%s", dir, file) != 0) {
        tadd_msgf(err, errlen, "%s/%s: path too long", d->home, sweep);
        return -1;
    }
    if (tadd_mkdir_p(dir, 0700, err, errlen) != 0)
        return -1;
    return tadd_write_file_atomic(path, text, strlen(text), err, errlen);
}

int tadd_sweep_results_write(struct tadd_daemon *d, int64_t sweep_id,
                             char *err, size_t errlen)
{
    struct tadd_results r;
    int finished = tadd_report_finished(d, sweep_id);
    char *json_text = NULL, *csv = NULL;
    int rc = -1;

    if (finished < 0) {
        tadd_msgf(err, errlen, "%s", d->db->err);
        return -1;
    }
    if (tadd_sweep_results_compute(d, sweep_id, &r, err, errlen) < 0)
        return -1;
    cJSON *json = tadd_results_to_json(&r);
    if (json) {
        cJSON_AddBoolToObject(json, "finished", finished);
        cJSON_AddNumberToObject(json, "updated_at", tadd_queue_now());
        json_text = cJSON_Print(json);
    }
    csv = tadd_results_to_csv(&r);
    if (!json_text || !csv)
        tadd_msgf(err, errlen, "out of memory");
    else if (sr_write(d, r.sweep, "summary.json", json_text, err,
                      errlen) == 0 &&
             sr_write(d, r.sweep, "results.csv", csv, err, errlen) == 0)
        rc = 0;
    cJSON_Delete(json);
    free(json_text);
    free(csv);
    tadd_results_free(&r);
    return rc;
}

/* When each sweep's files were last written, daemon time. */
struct sr_stamp {
    int64_t sweep_id;
    double at;
    struct sr_stamp *next;
};
static struct sr_stamp *sr_stamps;

static struct sr_stamp *sr_stamp_of(int64_t sweep_id)
{
    for (struct sr_stamp *s = sr_stamps; s; s = s->next)
        if (s->sweep_id == sweep_id)
            return s;
    struct sr_stamp *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->sweep_id = sweep_id;
    s->at = -INFINITY;
    s->next = sr_stamps;
    sr_stamps = s;
    return s;
}

void tadd_sweep_results_changed(struct tadd_daemon *d, int64_t sweep_id)
{
    struct sr_stamp *stamp = sr_stamp_of(sweep_id);
    double now = tadd_queue_now();
    char err[1024];
    int finished = tadd_report_finished(d, sweep_id);

    if (finished < 0) {
        tadd_warn("results of sweep %lld: %s", (long long)sweep_id,
                  d->db->err);
        tadd_db_clear_error(d->db);
        return;
    }
    if (!finished && stamp && now - stamp->at < TADD_RESULTS_REFRESH_SEC)
        return;
    if (tadd_sweep_results_write(d, sweep_id, err, sizeof err) < 0) {
        tadd_warn("results of sweep %lld: %s", (long long)sweep_id, err);
        tadd_db_clear_error(d->db);
        return;
    }
    if (stamp)
        stamp->at = now;
}
