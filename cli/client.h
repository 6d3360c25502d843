/*
 * taddctl's side of docs/protocol.md: one connection to the daemon's
 * socket, a request out, a reply back.
 */
#ifndef TADD_CLIENT_H
#define TADD_CLIENT_H

#include <cjson/cJSON.h>

#include "ctl.h"

struct ctl_conn {
    int fd;
    char *buf; /* bytes read past the last reply */
    size_t len, cap;
};

/*
 * Connects to the daemon of ctl->home. Returns 0, or CTL_ERROR after
 * printing why (no daemon, a stale socket, permissions).
 */
int ctl_connect(const struct ctl *ctl, struct ctl_conn *conn);

void ctl_disconnect(struct ctl_conn *conn);

/*
 * Sends req (its "v" is set here; req stays the caller's) and reads the
 * reply into *reply. timeout_ms < 0 waits forever. Returns CTL_OK with a
 * reply whose "ok" is true; on an error reply prints its message (prefixed
 * with context when not NULL) and returns CTL_ERROR, leaving the reply in
 * *reply too; CTL_TIMEOUT when no reply came in time.
 */
int ctl_call(const struct ctl *ctl, struct ctl_conn *conn, cJSON *req,
             cJSON **reply, int timeout_ms, const char *context);

/* Connects, calls, disconnects: the usual single request. */
int ctl_request(const struct ctl *ctl, cJSON *req, cJSON **reply,
                const char *context);

/* A new request object {"cmd": cmd}; exits on OOM. */
cJSON *ctl_new_request(const char *cmd);

/* Waits until the daemon closes the connection (it has stopped); returns
 * CTL_OK, or CTL_TIMEOUT after timeout_ms (< 0: forever). */
int ctl_wait_closed(struct ctl_conn *conn, int timeout_ms);

#endif
