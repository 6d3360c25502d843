#include "report.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "packfile.h"
#include "queue.h"

#define REPORT_LOG_TAIL (64 * 1024) /* bytes of a worker log sent back */
#define REPORT_FINISHED_SHOWN 10    /* finished sweeps in status */

/* The current row as an object keyed by column name: integers and reals
 * as numbers, text as strings, NULL as null. */
static cJSON *report_row(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    int n = sqlite3_column_count(st);

    if (!o)
        return NULL;
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        cJSON *v;

        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            v = cJSON_CreateNumber((double)sqlite3_column_int64(st, i));
            break;
        case SQLITE_FLOAT:
            v = cJSON_CreateNumber(sqlite3_column_double(st, i));
            break;
        case SQLITE_NULL:
            v = cJSON_CreateNull();
            break;
        default:
            v = cJSON_CreateString(tadd_db_text(st, i));
        }
        if (!v || !cJSON_AddItemToObject(o, name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

/* Every row of a prepared query as an array of objects (st is
 * finalized). NULL on error. */
static cJSON *report_rows(struct tadd_db *db, sqlite3_stmt *st)
{
    cJSON *arr;
    int rc;

    if (!st)
        return NULL;
    arr = cJSON_CreateArray();
    while (arr && (rc = tadd_db_step(db, st)) == 1) {
        cJSON *row = report_row(st);
        if (!row || !cJSON_AddItemToArray(arr, row)) {
            cJSON_Delete(row);
            rc = -1;
            break;
        }
    }
    sqlite3_finalize(st);
    if (!arr || rc != 0) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

/* Answers a failed database read. */
static void report_db_failed(struct tadd_daemon *d, struct tadd_conn *c)
{
    tadd_conn_reply_error(c, "internal", "%s",
                          d->db->err[0] ? d->db->err : "out of memory");
    tadd_db_clear_error(d->db);
}

int tadd_report_find_sweep(struct tadd_daemon *d, struct tadd_conn *c,
                           const cJSON *req, int64_t *sweep_id)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "sweep");

    if (!cJSON_IsString(name) || !name->valuestring[0]) {
        tadd_conn_reply_error(c, "bad_request",
                              "sweep: expected the sweep's name");
        return -1;
    }
    if (tadd_db_int(d->db, sweep_id, 0,
                    "SELECT id FROM sweeps WHERE name = ?", "t",
                    name->valuestring) != 0) {
        report_db_failed(d, c);
        return -1;
    }
    if (*sweep_id == 0) {
        tadd_conn_reply_error(c, "not_found", "no sweep named \"%s\"",
                              name->valuestring);
        return -1;
    }
    return 0;
}

#define REPORT_PROGRESS_SQL                                                 \
    "SELECT s.name AS sweep, s.description, s.priority, s.submitted_at, "   \
    "g.trials, g.queued, g.running, g.done, g.diverged, g.failed, "         \
    "g.cancelled, g.successes, g.finished, "                                \
    "(SELECT COUNT(*) FROM configs WHERE sweep_id = s.id) AS configs "      \
    "FROM sweeps s JOIN sweep_progress g ON g.sweep = s.name "

/* A progress row's "finished" as a JSON boolean, as the protocol says. */
static void report_fix_finished(cJSON *row)
{
    cJSON *f = cJSON_GetObjectItemCaseSensitive(row, "finished");

    if (f)
        cJSON_ReplaceItemInObjectCaseSensitive(row, "finished",
                                               cJSON_CreateBool(f->valueint));
}

/* The same for every row of an array. */
static void report_fix_flags(cJSON *rows)
{
    cJSON *row;

    cJSON_ArrayForEach(row, rows)
        report_fix_finished(row);
}

cJSON *tadd_report_progress(struct tadd_daemon *d, int64_t sweep_id)
{
    sqlite3_stmt *st = tadd_db_query(d->db, REPORT_PROGRESS_SQL
                                     "WHERE s.id = ?",
                                     "i", sweep_id);
    cJSON *o = NULL;

    if (!st)
        return NULL;
    if (tadd_db_step(d->db, st) == 1)
        o = report_row(st);
    sqlite3_finalize(st);
    if (o)
        report_fix_finished(o);
    return o;
}

int tadd_report_finished(struct tadd_daemon *d, int64_t sweep_id)
{
    int64_t finished = 0;

    if (tadd_db_int(d->db, &finished, 0,
                    "SELECT finished FROM sweep_progress g JOIN sweeps s "
                    "ON s.name = g.sweep WHERE s.id = ?",
                    "i", sweep_id) != 0)
        return -1;
    return finished == 1;
}

static cJSON *report_daemon(struct tadd_daemon *d)
{
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    cJSON_AddStringToObject(o, "version", TADD_VERSION);
    cJSON_AddStringToObject(o, "home", d->home);
    cJSON_AddStringToObject(o, "db", d->db_path);
    cJSON_AddNumberToObject(o, "uptime", tadd_queue_now() - d->started_at);
    cJSON_AddNumberToObject(o, "workers", d->set.workers);
    cJSON_AddNumberToObject(o, "threads", d->set.threads);
    cJSON_AddNumberToObject(o, "max_models_per_pack",
                            d->set.max_models_per_pack);
    cJSON_AddNumberToObject(o, "attempts", d->set.attempts);
    cJSON_AddNumberToObject(o, "checkpoint_interval",
                            (double)d->set.checkpoint_interval);
    cJSON_AddStringToObject(o, "executor", d->ex->ops->name);
    if (d->calibration[0])
        cJSON_AddStringToObject(o, "sized_from", d->calibration);
    cJSON_AddBoolToObject(o, "stopping", d->stopping);
    return o;
}

/* One running pack: the scheduler's view plus its sweep and configs. */
static cJSON *report_running_pack(struct tadd_daemon *d,
                                  const struct tadd_sched_info *in)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *configs;
    sqlite3_stmt *st;

    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "pack", (double)in->pack_id);
    st = tadd_db_query(d->db, "SELECT name FROM sweeps WHERE id = ?", "i",
                       in->sweep_id);
    if (st && tadd_db_step(d->db, st) == 1)
        cJSON_AddStringToObject(o, "sweep", tadd_db_text(st, 0));
    sqlite3_finalize(st);
    st = tadd_db_query(d->db,
                       "SELECT c.name AS config, COUNT(*) AS models "
                       "FROM pack_members m JOIN trials t ON t.id = "
                       "m.trial_id JOIN configs c ON c.id = t.config_id "
                       "WHERE m.pack_id = ? GROUP BY c.id ORDER BY c.idx",
                       "i", in->pack_id);
    configs = report_rows(d->db, st);
    if (configs)
        cJSON_AddItemToObject(o, "configs", configs);
    cJSON_AddStringToObject(o, "phase", in->phase);
    if (in->where[0])
        cJSON_AddStringToObject(o, "where", in->where);
    cJSON_AddNumberToObject(o, "step", (double)in->step);
    cJSON_AddNumberToObject(o, "train_steps", (double)in->train_steps);
    cJSON_AddNumberToObject(o, "seconds", in->seconds);
    cJSON_AddNumberToObject(o, "steps_per_sec", in->steps_per_sec);
    if (in->eta >= 0)
        cJSON_AddNumberToObject(o, "eta", in->eta);
    else
        cJSON_AddNullToObject(o, "eta");
    cJSON_AddNumberToObject(o, "attempts", in->attempts);
    return o;
}

/*
 * An optional whole-number field of a request in [lo, hi]: 0 with *out set
 * (left alone when the field is absent), or -1 once the error naming the
 * field (what, e.g. "pack: expected a pack id") is sent. A fraction or a
 * number beyond int64 would otherwise be cut or overflow in the cast.
 */
static int report_get_int(struct tadd_conn *c, const cJSON *req,
                          const char *key, int64_t lo, int64_t hi,
                          const char *what, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
    double x;

    if (!v)
        return 0;
    x = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
    if (!cJSON_IsNumber(v) || x != floor(x) || x < (double)lo ||
        x > (double)hi) {
        tadd_conn_reply_error(c, "bad_request", "%s", what);
        return -1;
    }
    *out = (int64_t)x;
    return 0;
}

void tadd_report_status(struct tadd_daemon *d, struct tadd_conn *c,
                        const cJSON *req)
{
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(req, "all");
    cJSON *reply = tadd_reply_new();
    cJSON *running = cJSON_CreateArray();
    cJSON *queue = cJSON_CreateObject();
    cJSON *sweeps;
    struct tadd_sched_info *info = NULL;
    int n = 0;
    int64_t packs = 0, trials = 0;

    /* A mistyped flag is refused: "all": "yes" must not mean false. */
    if (all && !cJSON_IsBool(all)) {
        cJSON_Delete(reply);
        cJSON_Delete(running);
        cJSON_Delete(queue);
        tadd_conn_reply_error(c, "bad_request",
                              "all: expected true or false");
        return;
    }
    if (!reply || !running || !queue ||
        tadd_scheduler_info(d->sched, &info, &n) != 0)
        goto fail;
    cJSON_AddItemToObject(reply, "daemon", report_daemon(d));
    if (tadd_db_int(d->db, &packs, 0,
                    "SELECT COUNT(*) FROM packs WHERE state = 'queued'",
                    NULL) != 0 ||
        tadd_db_int(d->db, &trials, 0,
                    "SELECT COUNT(*) FROM trials WHERE state = 'queued'",
                    NULL) != 0)
        goto fail;
    cJSON_AddNumberToObject(queue, "packs", (double)packs);
    cJSON_AddNumberToObject(queue, "trials", (double)trials);
    cJSON_AddItemToObject(reply, "queue", queue);
    queue = NULL;
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(running, report_running_pack(d, &info[i]));
    cJSON_AddItemToObject(reply, "running", running);
    running = NULL;
    /* Every unfinished sweep, and the latest finished ones. */
    sweeps = report_rows(
        d->db, tadd_db_query(d->db,
                             REPORT_PROGRESS_SQL
                             "WHERE g.finished = 0 OR ? OR s.id IN (SELECT "
                             "s2.id FROM sweeps s2 JOIN sweep_progress g2 "
                             "ON g2.sweep = s2.name WHERE g2.finished = 1 "
                             "ORDER BY s2.id DESC LIMIT ?) ORDER BY s.id",
                             "ii", (int64_t)cJSON_IsTrue(all),
                             (int64_t)REPORT_FINISHED_SHOWN));
    if (!sweeps)
        goto fail;
    report_fix_flags(sweeps);
    cJSON_AddItemToObject(reply, "sweeps", sweeps);
    free(info);
    tadd_conn_reply(c, reply);
    return;
fail:
    free(info);
    cJSON_Delete(reply);
    cJSON_Delete(running);
    cJSON_Delete(queue);
    report_db_failed(d, c);
}

void tadd_report_list(struct tadd_daemon *d, struct tadd_conn *c,
                      const cJSON *req)
{
    cJSON *reply = tadd_reply_new();
    cJSON *sweeps;

    (void)req;
    sweeps = report_rows(d->db, tadd_db_query(d->db, REPORT_PROGRESS_SQL
                                              "ORDER BY s.id",
                                              NULL));
    if (!reply || !sweeps) {
        cJSON_Delete(reply);
        cJSON_Delete(sweeps);
        report_db_failed(d, c);
        return;
    }
    report_fix_flags(sweeps);
    cJSON_AddItemToObject(reply, "sweeps", sweeps);
    tadd_conn_reply(c, reply);
}

/* The configs of a sweep with their trials nested. */
static cJSON *report_configs(struct tadd_daemon *d, int64_t sweep_id)
{
    cJSON *configs = report_rows(
        d->db,
        tadd_db_query(d->db,
                      "SELECT c.id, c.name, c.params, r.trials AS n_trials, "
                      "r.finished, r.done, r.diverged, r.failed, r.cancelled, "
                      "r.successes, r.best_val_exact "
                      "FROM configs c JOIN config_results r ON "
                      "r.sweep = (SELECT name FROM sweeps WHERE id = ?) "
                      "AND r.config = c.name "
                      "WHERE c.sweep_id = ? ORDER BY c.idx",
                      "ii", sweep_id, sweep_id));
    cJSON *cfg;

    if (!configs)
        return NULL;
    cJSON_ArrayForEach(cfg, configs) {
        cJSON *id = cJSON_DetachItemFromObject(cfg, "id");
        cJSON *trials = report_rows(
            d->db,
            tadd_db_query(d->db,
                          "SELECT t.seed, t.state, t.step, p.train_steps, "
                          "t.best_val_exact, t.best_step, t.success, "
                          "t.test_exact, t.first_success_step, "
                          "t.attempts, t.reason, m.pack_id AS pack, t.dir "
                          "FROM trials t JOIN pack_members m ON "
                          "m.trial_id = t.id JOIN packs p ON p.id = "
                          "m.pack_id WHERE t.config_id = ? ORDER BY t.id",
                          "i", (int64_t)(id ? id->valuedouble : 0)));
        cJSON_Delete(id);
        if (!trials) {
            cJSON_Delete(configs);
            return NULL;
        }
        cJSON_AddItemToObject(cfg, "trials", trials);
    }
    return configs;
}

void tadd_report_show(struct tadd_daemon *d, struct tadd_conn *c,
                      const cJSON *req)
{
    cJSON *reply, *sweep, *configs;
    sqlite3_stmt *st;
    int64_t sweep_id;

    if (tadd_report_find_sweep(d, c, req, &sweep_id) != 0)
        return;
    reply = tadd_reply_new();
    sweep = tadd_report_progress(d, sweep_id);
    configs = report_configs(d, sweep_id);
    if (!reply || !sweep || !configs)
        goto fail;
    st = tadd_db_query(d->db,
                       "SELECT baseline_sweep, baseline_config, "
                       "success_threshold FROM sweeps WHERE id = ?",
                       "i", sweep_id);
    if (!st || tadd_db_step(d->db, st) != 1) {
        sqlite3_finalize(st);
        goto fail;
    }
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        cJSON_AddStringToObject(sweep, "baseline_sweep", tadd_db_text(st, 0));
        cJSON_AddStringToObject(sweep, "baseline", tadd_db_text(st, 1));
    } else {
        cJSON_AddNullToObject(sweep, "baseline");
    }
    cJSON_AddNumberToObject(sweep, "success_threshold",
                            sqlite3_column_double(st, 2));
    sqlite3_finalize(st);
    cJSON_AddItemToObject(reply, "sweep", sweep);
    cJSON_AddItemToObject(reply, "configs", configs);
    tadd_conn_reply(c, reply);
    return;
fail:
    cJSON_Delete(reply);
    cJSON_Delete(sweep);
    cJSON_Delete(configs);
    report_db_failed(d, c);
}

/* The last REPORT_LOG_TAIL bytes of a pack's worker log, or NULL. */
static char *report_worker_log(struct tadd_daemon *d, int64_t sweep_id,
                               int64_t pack_id)
{
    struct tadd_packfile pf;
    char sweep[256] = "";
    char path[PATH_MAX * 2];
    sqlite3_stmt *st;
    char *buf;
    off_t size;
    ssize_t n;
    int fd;

    st = tadd_db_query(d->db, "SELECT name FROM sweeps WHERE id = ?", "i",
                       sweep_id);
    if (st && tadd_db_step(d->db, st) == 1)
        snprintf(sweep, sizeof(sweep), "%s", tadd_db_text(st, 0));
    sqlite3_finalize(st);
    memset(&pf, 0, sizeof(pf));
    tadd_packfile_paths(&pf, sweep, pack_id);
    snprintf(path, sizeof(path), "%s/%s", d->home, pf.log_path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return strdup("");
    size = lseek(fd, 0, SEEK_END);
    if (size > REPORT_LOG_TAIL)
        lseek(fd, size - REPORT_LOG_TAIL, SEEK_SET);
    else
        lseek(fd, 0, SEEK_SET);
    buf = malloc(REPORT_LOG_TAIL + 1);
    n = buf ? read(fd, buf, REPORT_LOG_TAIL) : -1;
    close(fd);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

void tadd_report_logs(struct tadd_daemon *d, struct tadd_conn *c,
                      const cJSON *req)
{
    const cJSON *pack = cJSON_GetObjectItemCaseSensitive(req, "pack");
    cJSON *reply, *events;
    int64_t sweep_id, limit = -1, in_sweep = 0, pack_id = 0;

    if (tadd_report_find_sweep(d, c, req, &sweep_id) != 0)
        return;
    /* 2^53: the largest whole number a JSON double holds exactly. */
    if (report_get_int(c, req, "tail", 1, (int64_t)1 << 53,
                       "tail: expected a positive whole number of events",
                       &limit) != 0 ||
        report_get_int(c, req, "pack", 1, (int64_t)1 << 53,
                       "pack: expected a pack id", &pack_id) != 0)
        return;
    /* The newest `limit` events, oldest first. */
    events = report_rows(
        d->db,
        tadd_db_query(d->db,
                      "SELECT * FROM (SELECT e.id, e.at, e.kind, "
                      "e.ref_id AS ref, c.name AS config, t.seed, e.state, "
                      "e.reason FROM events e "
                      "LEFT JOIN trials t ON e.kind = 'trial' AND t.id = "
                      "e.ref_id LEFT JOIN configs c ON c.id = t.config_id "
                      "WHERE e.sweep_id = ? ORDER BY e.id DESC LIMIT ?) "
                      "ORDER BY id",
                      "ii", sweep_id, limit));
    reply = tadd_reply_new();
    if (!reply || !events) {
        cJSON_Delete(reply);
        cJSON_Delete(events);
        report_db_failed(d, c);
        return;
    }
    cJSON_AddItemToObject(reply, "events", events);
    if (pack) {
        char *log;

        if (tadd_db_int(d->db, &in_sweep, 0,
                        "SELECT COUNT(*) FROM packs WHERE id = ? AND "
                        "sweep_id = ?",
                        "ii", pack_id, sweep_id) != 0 ||
            in_sweep == 0) {
            cJSON_Delete(reply);
            tadd_conn_reply_error(c, "not_found",
                                  "pack: this sweep has no pack %lld",
                                  (long long)pack_id);
            return;
        }
        log = report_worker_log(d, sweep_id, pack_id);
        cJSON_AddStringToObject(reply, "worker_log", log ? log : "");
        free(log);
    }
    tadd_conn_reply(c, reply);
}
