#define _GNU_SOURCE /* struct ucred */
#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "request_parse.h"
#include "text.h"

struct tadd_conn {
    struct tadd_server *srv;
    uv_pipe_t pipe;
    char *buf;        /* (cap) bytes of input not yet handled */
    size_t len, cap;
    int busy;         /* a request is being answered */
    int processing;   /* conn_process is on the stack */
    int closing;
    int close_after;  /* close once the pending write is done */
    int writes;       /* writes in flight */
    struct tadd_conn *prev, *next;
};

struct tadd_server {
    uv_loop_t *loop;
    uv_pipe_t listener;
    struct tadd_server_callbacks cb;
    void *ctx;
    char *path;
    struct tadd_conn *conns;
    int n_conns;
    int closing;
};

struct conn_write {
    uv_write_t req;
    struct tadd_conn *c;
    char *text;
};

static void conn_close(struct tadd_conn *c);
static void conn_process(struct tadd_conn *c);

static void conn_freed(uv_handle_t *h)
{
    struct tadd_conn *c = h->data;

    free(c->buf);
    free(c);
}

static void conn_close(struct tadd_conn *c)
{
    struct tadd_server *s = c->srv;

    if (c->closing)
        return;
    c->closing = 1;
    if (s->cb.on_close)
        s->cb.on_close(s->ctx, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    uv_close((uv_handle_t *)&c->pipe, conn_freed);
}

static void conn_written(uv_write_t *req, int status)
{
    struct conn_write *w = (struct conn_write *)req;
    struct tadd_conn *c = w->c;

    free(w->text);
    free(w);
    c->writes--;
    if (status < 0 || (c->close_after && c->writes == 0))
        conn_close(c);
}

/* Queues text (consumed) followed by a newline. */
static void conn_send(struct tadd_conn *c, char *text)
{
    struct conn_write *w = calloc(1, sizeof(*w));
    size_t n = strlen(text);
    uv_buf_t b;

    if (!w) {
        free(text);
        conn_close(c);
        return;
    }
    /* print gives one line: cJSON_PrintUnformatted escapes newlines. */
    text[n] = '\n';
    w->c = c;
    w->text = text;
    b = uv_buf_init(text, (unsigned)(n + 1));
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, conn_written) !=
        0) {
        free(text);
        free(w);
        conn_close(c);
        return;
    }
    c->writes++;
}

cJSON *tadd_reply_new(void)
{
    cJSON *reply = cJSON_CreateObject();

    if (!reply)
        return NULL;
    if (!cJSON_AddNumberToObject(reply, "v", TADD_PROTOCOL_VERSION) ||
        !cJSON_AddTrueToObject(reply, "ok")) {
        cJSON_Delete(reply);
        return NULL;
    }
    return reply;
}

void tadd_conn_reply(struct tadd_conn *c, cJSON *reply)
{
    char *text = reply ? cJSON_PrintUnformatted(reply) : NULL;
    char *line;
    size_t n;

    cJSON_Delete(reply);
    c->busy = 0;
    if (c->closing) {
        free(text);
        return;
    }
    if (!text) {
        tadd_error("socket: out of memory for a reply");
        conn_close(c);
        return;
    }
    /* Room for the newline conn_send appends. */
    n = strlen(text);
    line = realloc(text, n + 2);
    if (!line) {
        free(text);
        conn_close(c);
        return;
    }
    line[n + 1] = '\0';
    conn_send(c, line);
    /* A deferred answer frees the connection for its next request; an
     * immediate one is followed by conn_process's own loop. */
    conn_process(c);
}

void tadd_conn_reply_error(struct tadd_conn *c, const char *code,
                           const char *fmt, ...)
{
    cJSON *reply = tadd_reply_new();
    cJSON *e = cJSON_CreateObject();
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!reply || !e) {
        cJSON_Delete(reply);
        cJSON_Delete(e);
        conn_close(c);
        return;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(reply, "ok",
                                           cJSON_CreateFalse());
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddItemToObject(reply, "error", e);
    tadd_conn_reply(c, reply);
}

void tadd_conn_close_after(struct tadd_conn *c)
{
    c->close_after = 1;
}

static void conn_too_large(struct tadd_conn *c)
{
    c->busy = 1;
    tadd_conn_close_after(c);
    c->len = 0;
    tadd_conn_reply_error(c, "too_large",
                          "a request may hold at most %u bytes",
                          TADD_REQUEST_MAX);
}

/*
 * Handles the complete lines in the buffer while no answer is pending.
 * Each line is parsed and removed from the buffer before it is handed on,
 * so a handler that answers at once (and so re-enters here) finds the
 * buffer consistent.
 */
static void conn_process(struct tadd_conn *c)
{
    if (c->processing)
        return;
    c->processing = 1;
    while (!c->busy && !c->closing && !c->close_after) {
        char *nl = memchr(c->buf, '\n', c->len);
        struct tadd_request_error e;
        size_t n;
        cJSON *req;
        int rc;

        if (!nl) {
            if (c->len > TADD_REQUEST_MAX)
                conn_too_large(c);
            break;
        }
        n = (size_t)(nl - c->buf);
        if (n > TADD_REQUEST_MAX) {
            conn_too_large(c);
            break;
        }
        rc = tadd_request_parse(c->buf, n, &req, &e);
        memmove(c->buf, nl + 1, c->len - n - 1);
        c->len -= n + 1;
        if (rc != 0) {
            c->busy = 1;
            tadd_conn_reply_error(c, e.code, "%s", e.message);
        } else if (req) {
            c->busy = 1;
            c->srv->cb.on_request(c->srv->ctx, c, req);
            cJSON_Delete(req);
        }
    }
    c->processing = 0;
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct tadd_conn *c = h->data;
    size_t want = c->len + 65536;

    (void)suggested;
    if (want > c->cap) {
        char *p = realloc(c->buf, want);
        if (!p) {
            buf->base = NULL;
            buf->len = 0;
            return;
        }
        c->buf = p;
        c->cap = want;
    }
    buf->base = c->buf + c->len;
    buf->len = c->cap - c->len;
}

static void conn_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct tadd_conn *c = st->data;

    (void)buf;
    if (nread < 0) {
        /* The client hung up (or the read failed): a waiting request's
         * answer has nowhere to go. */
        if (c->writes == 0 || nread != UV_EOF)
            conn_close(c);
        else
            c->close_after = 1;
        return;
    }
    c->len += (size_t)nread;
    /* An oversized request is answered once; what follows is ignored
     * until the connection closes. */
    if (c->close_after) {
        c->len = 0;
        return;
    }
    if (c->busy) {
        /* While an answer is pending the next request waits in the buffer,
         * but a client may not pile up unbounded input. */
        if (c->len > 2 * (size_t)TADD_REQUEST_MAX)
            conn_close(c);
        return;
    }
    conn_process(c);
}

/* 1 when the peer on fd runs as this process's user. */
static int server_peer_is_us(int fd, long *peer_uid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    *peer_uid = -1;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        len != sizeof(cred))
        return 0;
    *peer_uid = (long)cred.uid;
    return cred.uid == geteuid();
}

static void server_accept(uv_stream_t *listener, int status)
{
    struct tadd_server *s = listener->data;
    struct tadd_conn *c;
    uv_os_fd_t fd;
    long uid = -1;

    if (status < 0) {
        tadd_warn("socket: accept failed: %s", uv_strerror(status));
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->srv = s;
    c->pipe.data = c;
    uv_pipe_init(s->loop, &c->pipe, 0);
    if (uv_accept(listener, (uv_stream_t *)&c->pipe) != 0) {
        uv_close((uv_handle_t *)&c->pipe, conn_freed);
        return;
    }
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 ||
        !server_peer_is_us(fd, &uid)) {
        tadd_warn("socket: refused a client of uid %ld (only uid %ld may "
                  "connect)", uid, (long)geteuid());
        uv_close((uv_handle_t *)&c->pipe, conn_freed);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    if (uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_read) != 0)
        conn_close(c);
}

struct tadd_server *tadd_server_new(uv_loop_t *loop, const char *path,
                                    const struct tadd_server_callbacks *cb,
                                    void *ctx, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct tadd_server *s;
    int rc;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen,
                 "socket path %s is longer than %zu bytes: use a shorter "
                 "home folder",
                 path, sizeof(sa.sun_path) - 1);
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        tadd_msgf(err, errlen, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->cb = *cb;
    s->ctx = ctx;
    s->listener.data = s;
    uv_pipe_init(loop, &s->listener, 0);
    rc = uv_pipe_bind(&s->listener, path);
    /* bind creates the socket with the umask's mode; set it explicitly
     * all the same, before anyone is let in. */
    if (rc == 0 && chmod(path, 0600) != 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 64, server_accept);
    if (rc != 0) {
        tadd_msgf(err, errlen, "cannot listen on %s: %s", path,
                 uv_strerror(rc));
        s->closing = 1;
        uv_close((uv_handle_t *)&s->listener, NULL);
        /* The loop must run once for the close to finish before s goes;
         * the caller exits, so a small leak of s is harmless here. */
        return NULL;
    }
    return s;
}

int tadd_server_connections(const struct tadd_server *s)
{
    return s->n_conns;
}

static void server_listener_closed(uv_handle_t *h)
{
    struct tadd_server *s = h->data;

    free(s->path);
    free(s);
}

void tadd_server_close(struct tadd_server *s)
{
    if (!s || s->closing)
        return;
    s->closing = 1;
    while (s->conns)
        conn_close(s->conns);
    unlink(s->path);
    uv_close((uv_handle_t *)&s->listener, server_listener_closed);
}
