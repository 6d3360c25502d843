/*
 * The running daemon: what the request handlers share.
 */
#ifndef TADD_DAEMON_H
#define TADD_DAEMON_H

#include <limits.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "db.h"
#include "executor.h"
#include "scheduler.h"
#include "server.h"
#include "settings.h"

struct tadd_waiter;

struct tadd_daemon {
    uv_loop_t *loop;
    struct tadd_settings set;
    char home[PATH_MAX];      /* absolute */
    char sock_path[PATH_MAX];
    char db_path[PATH_MAX];
    char worker_path[PATH_MAX];
    struct tadd_db *db;
    struct tadd_executor *ex;
    struct tadd_scheduler *sched;
    struct tadd_server *srv;
    struct tadd_waiter *waiters; /* clients waiting for a sweep */
    double started_at;           /* Unix seconds */
    int stopping;                /* shutdown under way */
    char calibration[1024];      /* how the sizes were measured, or "" */
};

/* A request handler: answers c (at once, or later for a wait). */
typedef void (*tadd_request_fn)(struct tadd_daemon *d, struct tadd_conn *c,
                                const cJSON *req);

/* Dispatches a request by its "cmd" (requests.c). */
void tadd_request_dispatch(struct tadd_daemon *d, struct tadd_conn *c,
                           const cJSON *req);

/* A trial of sweep_id changed: answers the clients waiting for it when it
 * is finished. */
void tadd_waiters_notify(struct tadd_daemon *d, int64_t sweep_id);

/* c is closing: forgets its waits. */
void tadd_waiters_drop_conn(struct tadd_daemon *d, struct tadd_conn *c);

/* Answers every waiting client with an error (the daemon is stopping). */
void tadd_waiters_fail_all(struct tadd_daemon *d, const char *why);

/* Starts the shutdown: workers stop, then the loop ends (main.c). */
void tadd_daemon_stop(struct tadd_daemon *d, const char *why);

#endif
