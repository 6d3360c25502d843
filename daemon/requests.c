/*
 * The request table and the requests that change the queue: submit,
 * cancel, retry, wait and shutdown. docs/protocol.md describes each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "queue.h"
#include "report.h"
#include "submit.h"
#include "sweep.h"
#include "sweep_results.h"

struct tadd_waiter {
    struct tadd_conn *c;
    int64_t sweep_id;
    struct tadd_waiter *next;
};

static void req_ping(struct tadd_daemon *d, struct tadd_conn *c,
                     const cJSON *req);
static void req_submit(struct tadd_daemon *d, struct tadd_conn *c,
                       const cJSON *req);
static void req_cancel(struct tadd_daemon *d, struct tadd_conn *c,
                       const cJSON *req);
static void req_retry(struct tadd_daemon *d, struct tadd_conn *c,
                      const cJSON *req);
static void req_wait(struct tadd_daemon *d, struct tadd_conn *c,
                     const cJSON *req);
static void req_shutdown(struct tadd_daemon *d, struct tadd_conn *c,
                         const cJSON *req);

/* Every request the daemon answers; a new one is a line here. */
static const struct {
    const char *cmd;
    tadd_request_fn fn;
} request_table[] = {
    {"ping", req_ping},
    {"submit", req_submit},
    {"status", tadd_report_status},
    {"list", tadd_report_list},
    {"show", tadd_report_show},
    {"logs", tadd_report_logs},
    {"cancel", req_cancel},
    {"retry", req_retry},
    {"wait", req_wait},
    {"shutdown", req_shutdown},
    {"results", tadd_sweep_results_request},
    {"compare", tadd_sweep_compare_request},
};

void tadd_request_dispatch(struct tadd_daemon *d, struct tadd_conn *c,
                           const cJSON *req)
{
    const char *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd")
                          ->valuestring;

    for (size_t i = 0; i < sizeof(request_table) / sizeof(request_table[0]);
         i++) {
        if (strcmp(request_table[i].cmd, cmd) == 0) {
            tadd_db_clear_error(d->db);
            request_table[i].fn(d, c, req);
            return;
        }
    }
    tadd_conn_reply_error(c, "unknown_command",
                          "cmd: unknown command \"%.64s\"", cmd);
}

static void req_ping(struct tadd_daemon *d, struct tadd_conn *c,
                     const cJSON *req)
{
    cJSON *reply = tadd_reply_new();

    (void)req;
    if (reply) {
        cJSON_AddNumberToObject(reply, "pid", (double)getpid());
        cJSON_AddStringToObject(reply, "version", TADD_VERSION);
        cJSON_AddNumberToObject(reply, "protocol", TADD_PROTOCOL_VERSION);
        cJSON_AddStringToObject(reply, "home", d->home);
        cJSON_AddStringToObject(reply, "db", d->db_path);
    }
    tadd_conn_reply(c, reply);
}

static int req_refuse_when_stopping(struct tadd_daemon *d,
                                    struct tadd_conn *c)
{
    if (!d->stopping)
        return 0;
    tadd_conn_reply_error(c, "shutting_down", "the daemon is shutting down");
    return 1;
}

static void req_submit(struct tadd_daemon *d, struct tadd_conn *c,
                       const cJSON *req)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(req, "text");
    const cJSON *dry = cJSON_GetObjectItemCaseSensitive(req, "dry_run");
    struct tadd_sweep sw;
    struct tadd_plan plan;
    const char *code = "bad_sweep";
    char err[1024];
    cJSON *reply = NULL;

    memset(&sw, 0, sizeof(sw));
    memset(&plan, 0, sizeof(plan));
    if (req_refuse_when_stopping(d, c))
        return;
    if (!cJSON_IsString(text)) {
        tadd_conn_reply_error(c, "bad_request",
                              "text: expected the sweep file's JSON text");
        return;
    }
    if (dry && !cJSON_IsBool(dry)) {
        tadd_conn_reply_error(c, "bad_request",
                              "dry_run: expected true or false");
        return;
    }
    if (tadd_sweep_parse(text->valuestring, strlen(text->valuestring), &sw,
                         err, sizeof(err)) != 0) {
        tadd_conn_reply_error(c, "bad_sweep", "%s", err);
        goto cleanup;
    }
    if (tadd_plan_make(&plan, &sw, d->set.max_models_per_pack) != 0) {
        tadd_conn_reply_error(c, "internal", "out of memory");
        goto cleanup;
    }
    if (tadd_submit_check(d->db, &sw, &code, err, sizeof(err)) != 0 ||
        (!cJSON_IsTrue(dry) &&
         tadd_submit_store(d->db, &sw, &plan, text->valuestring, &code, err,
                           sizeof(err)) != 0)) {
        tadd_conn_reply_error(c, code, "%s", err);
        goto cleanup;
    }
    reply = tadd_reply_new();
    if (reply) {
        cJSON *p = tadd_plan_to_json(&plan, &sw);
        cJSON_AddBoolToObject(reply, "dry_run", cJSON_IsTrue(dry));
        cJSON_AddStringToObject(reply, "sweep", sw.name);
        cJSON_AddNumberToObject(reply, "configs", sw.n_configs);
        cJSON_AddNumberToObject(reply, "trials",
                                (double)tadd_sweep_n_trials(&sw));
        cJSON_AddNumberToObject(reply, "packs", plan.n_packs);
        if (cJSON_IsTrue(dry))
            cJSON_AddItemToObject(reply, "plan", p);
        else
            cJSON_Delete(p);
    }
    if (!cJSON_IsTrue(dry))
        tadd_info("sweep %s submitted: %d configs, %ld trials, %d packs",
                  sw.name, sw.n_configs, tadd_sweep_n_trials(&sw),
                  plan.n_packs);
    tadd_conn_reply(c, reply);
    if (!cJSON_IsTrue(dry))
        tadd_scheduler_kick(d->sched);
cleanup:
    tadd_plan_free(&plan);
    tadd_sweep_free(&sw);
}

static void req_cancel(struct tadd_daemon *d, struct tadd_conn *c,
                       const cJSON *req)
{
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(req, "config");
    int64_t sweep_id, config_id = 0;
    int64_t *stop = NULL;
    int n_stop = 0, n_trials = 0;
    cJSON *reply;

    if (tadd_report_find_sweep(d, c, req, &sweep_id) != 0)
        return;
    if (config && !cJSON_IsNull(config)) {
        if (!cJSON_IsString(config)) {
            tadd_conn_reply_error(c, "bad_request",
                                  "config: expected a config name");
            return;
        }
        if (tadd_db_int(d->db, &config_id, 0,
                        "SELECT id FROM configs WHERE sweep_id = ? AND "
                        "name = ?",
                        "it", sweep_id, config->valuestring) != 0)
            goto db_error;
        if (config_id == 0) {
            tadd_conn_reply_error(c, "not_found",
                                  "config: the sweep has no config \"%s\"",
                                  config->valuestring);
            return;
        }
    }
    if (tadd_queue_cancel(d->db, sweep_id, config_id, &stop, &n_stop,
                          &n_trials) != 0)
        goto db_error;
    for (int i = 0; i < n_stop; i++)
        tadd_scheduler_cancel_pack(d->sched, stop[i]);
    free(stop);
    tadd_info("cancelled %d trials; stopping %d workers", n_trials, n_stop);
    reply = tadd_reply_new();
    if (reply) {
        cJSON_AddNumberToObject(reply, "cancelled", n_trials);
        cJSON_AddNumberToObject(reply, "stopping", n_stop);
    }
    tadd_conn_reply(c, reply);
    tadd_waiters_notify(d, sweep_id);
    return;
db_error:
    tadd_conn_reply_error(c, "internal", "%s", d->db->err);
}

static void req_retry(struct tadd_daemon *d, struct tadd_conn *c,
                      const cJSON *req)
{
    int64_t sweep_id;
    int n_trials = 0, n_packs = 0;
    cJSON *reply;

    if (req_refuse_when_stopping(d, c) ||
        tadd_report_find_sweep(d, c, req, &sweep_id) != 0)
        return;
    if (tadd_queue_retry(d->db, sweep_id, &n_trials, &n_packs) != 0) {
        tadd_conn_reply_error(c, "internal", "%s", d->db->err);
        return;
    }
    tadd_info("retry: %d trials requeued in %d packs", n_trials, n_packs);
    reply = tadd_reply_new();
    if (reply) {
        cJSON_AddNumberToObject(reply, "requeued", n_trials);
        cJSON_AddNumberToObject(reply, "packs", n_packs);
    }
    tadd_conn_reply(c, reply);
    tadd_scheduler_kick(d->sched);
}

/* Answers c with the sweep's counts. */
static void req_wait_answer(struct tadd_daemon *d, struct tadd_conn *c,
                            int64_t sweep_id)
{
    cJSON *reply = tadd_reply_new();
    cJSON *progress = tadd_report_progress(d, sweep_id);

    if (!reply || !progress) {
        cJSON_Delete(reply);
        cJSON_Delete(progress);
        tadd_conn_reply_error(c, "internal", "%s", d->db->err);
        return;
    }
    cJSON_AddItemToObject(reply, "sweep", progress);
    tadd_conn_reply(c, reply);
}

static void req_wait(struct tadd_daemon *d, struct tadd_conn *c,
                     const cJSON *req)
{
    struct tadd_waiter *w;
    int64_t sweep_id;
    int finished;

    if (tadd_report_find_sweep(d, c, req, &sweep_id) != 0)
        return;
    finished = tadd_report_finished(d, sweep_id);
    if (finished < 0) {
        tadd_conn_reply_error(c, "internal", "%s", d->db->err);
        return;
    }
    if (finished) {
        req_wait_answer(d, c, sweep_id);
        return;
    }
    if (req_refuse_when_stopping(d, c))
        return;
    w = calloc(1, sizeof(*w));
    if (!w) {
        tadd_conn_reply_error(c, "internal", "out of memory");
        return;
    }
    w->c = c;
    w->sweep_id = sweep_id;
    w->next = d->waiters;
    d->waiters = w;
}

void tadd_waiters_notify(struct tadd_daemon *d, int64_t sweep_id)
{
    struct tadd_waiter **pp = &d->waiters;
    int finished = -2;

    while (*pp) {
        struct tadd_waiter *w = *pp;

        if (w->sweep_id != sweep_id) {
            pp = &w->next;
            continue;
        }
        if (finished == -2)
            finished = tadd_report_finished(d, sweep_id);
        if (finished != 1) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        req_wait_answer(d, w->c, sweep_id);
        free(w);
    }
}

void tadd_waiters_drop_conn(struct tadd_daemon *d, struct tadd_conn *c)
{
    struct tadd_waiter **pp = &d->waiters;

    while (*pp) {
        struct tadd_waiter *w = *pp;
        if (w->c == c) {
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

void tadd_waiters_fail_all(struct tadd_daemon *d, const char *why)
{
    while (d->waiters) {
        struct tadd_waiter *w = d->waiters;
        d->waiters = w->next;
        tadd_conn_reply_error(w->c, "shutting_down", "%s", why);
        free(w);
    }
}

static void req_shutdown(struct tadd_daemon *d, struct tadd_conn *c,
                         const cJSON *req)
{
    cJSON *reply = tadd_reply_new();

    (void)req;
    if (reply)
        cJSON_AddNumberToObject(reply, "stopping",
                                tadd_scheduler_busy(d->sched));
    /* The connection stays open: it closes when the daemon is gone, which
     * tells the client that every worker has saved its state. */
    tadd_conn_reply(c, reply);
    tadd_daemon_stop(d, "shutdown requested");
}
