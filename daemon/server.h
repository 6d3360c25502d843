/*
 * The daemon's socket server: a Unix stream socket that takes JSON
 * requests, one object per line, from clients of the daemon's own user
 * (docs/protocol.md).
 *
 * The server frames and checks the envelope (JSON object, "v" equal to
 * TADD_PROTOCOL_VERSION, "cmd" a string, at most TADD_REQUEST_MAX bytes)
 * and answers envelope errors itself; a good request goes to the request
 * callback. A connection handles one request at a time: the callback may
 * answer at once or keep the connection and answer later (a client waiting
 * for a sweep), and the next request on that connection is read only after
 * the answer.
 */
#ifndef TADD_SERVER_H
#define TADD_SERVER_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "protocol.h"

struct tadd_server;
struct tadd_conn;

struct tadd_server_callbacks {
    /* req is the whole request object, owned by the server and freed
     * after the call returns. */
    void (*on_request)(void *ctx, struct tadd_conn *c, const cJSON *req);
    /* The connection is going away; an answer still owed is dropped. */
    void (*on_close)(void *ctx, struct tadd_conn *c);
};

/*
 * Binds path (which must not exist, or be a stale socket the caller owns)
 * with mode 0600 and starts listening. Returns NULL with a message in err.
 */
struct tadd_server *tadd_server_new(uv_loop_t *loop, const char *path,
                                    const struct tadd_server_callbacks *cb,
                                    void *ctx, char *err, size_t errlen);

/* A new reply object holding "v" and "ok": true; NULL on OOM. */
cJSON *tadd_reply_new(void);

/*
 * Sends reply (made by tadd_reply_new; consumed, NULL counts as out of
 * memory) and goes on with the connection's next request. After
 * tadd_conn_close_after the connection closes once the reply is written.
 */
void tadd_conn_reply(struct tadd_conn *c, cJSON *reply);

/* Sends {"ok": false, "error": {"code": code, "message": ...}}. */
void tadd_conn_reply_error(struct tadd_conn *c, const char *code,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Closes the connection after the next reply is written. */
void tadd_conn_close_after(struct tadd_conn *c);

/* Number of open connections. */
int tadd_server_connections(const struct tadd_server *s);

/* Stops listening, closes every connection and removes the socket file;
 * the server is freed once libuv has closed its handles. */
void tadd_server_close(struct tadd_server *s);

#endif
