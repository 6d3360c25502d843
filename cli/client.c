#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "protocol.h"

/* A reply can list every trial of a large sweep. */
#define CTL_REPLY_MAX (256u << 20)

cJSON *ctl_new_request(const char *cmd)
{
    cJSON *req = cJSON_CreateObject();

    if (!req || !cJSON_AddStringToObject(req, "cmd", cmd)) {
        fputs("taddctl: out of memory\n", stderr);
        exit(CTL_ERROR);
    }
    return req;
}

int ctl_connect(const struct ctl *ctl, struct ctl_conn *conn)
{
    struct sockaddr_un sa;
    int fd;

    memset(conn, 0, sizeof(*conn));
    conn->fd = -1;
    if (strlen(ctl->sock_path) >= sizeof(sa.sun_path)) {
        ctl_error(ctl, "socket path %s is too long; use a shorter --home",
                  ctl->sock_path);
        return CTL_ERROR;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ctl_error(ctl, "socket: %s", strerror(errno));
        return CTL_ERROR;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, ctl->sock_path, strlen(ctl->sock_path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;

        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            ctl_error(ctl,
                      "taddd is not running for home %s (%s %s); start it "
                      "with: taddd --home %s --daemonize",
                      ctl->home, e == ENOENT ? "no socket" : "stale socket",
                      ctl->sock_path, ctl->home);
        else
            ctl_error(ctl, "cannot connect to %s: %s", ctl->sock_path,
                      strerror(e));
        return CTL_ERROR;
    }
    conn->fd = fd;
    return CTL_OK;
}

void ctl_disconnect(struct ctl_conn *conn)
{
    if (conn->fd >= 0)
        close(conn->fd);
    free(conn->buf);
    memset(conn, 0, sizeof(*conn));
    conn->fd = -1;
}

static int ctl_send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static long ctl_now_ms(void)
{
    return (long)(tadd_monotonic_seconds() * 1000.0);
}

/* Waits for input until deadline (< 0: none). Returns 1 when readable, 0
 * on timeout, -1 on error. */
static int ctl_wait_input(int fd, long deadline)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    for (;;) {
        int timeout = -1;
        int rc;

        if (deadline >= 0) {
            long left = deadline - ctl_now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        rc = poll(&p, 1, timeout);
        if (rc < 0 && errno == EINTR)
            continue;
        return rc < 0 ? -1 : rc > 0;
    }
}

/* Reads one line into a new string. Returns 1 with *line, 0 when the
 * daemon closed the connection first, -1 on error, -2 on timeout. */
static int ctl_read_line(struct ctl_conn *conn, char **line, int timeout_ms)
{
    long deadline = timeout_ms < 0 ? -1 : ctl_now_ms() + timeout_ms;

    for (;;) {
        char *nl = conn->len ? memchr(conn->buf, '\n', conn->len) : NULL;
        ssize_t n;
        int rc;

        if (nl) {
            size_t k = (size_t)(nl - conn->buf);
            *line = malloc(k + 1);
            if (!*line)
                return -1;
            memcpy(*line, conn->buf, k);
            (*line)[k] = '\0';
            memmove(conn->buf, nl + 1, conn->len - k - 1);
            conn->len -= k + 1;
            return 1;
        }
        if (conn->len + 65536 > conn->cap) {
            size_t cap = conn->cap ? conn->cap * 2 : 65536;
            char *p;
            if (cap > CTL_REPLY_MAX)
                return -1;
            p = realloc(conn->buf, cap);
            if (!p)
                return -1;
            conn->buf = p;
            conn->cap = cap;
        }
        rc = ctl_wait_input(conn->fd, deadline);
        if (rc == 0)
            return -2;
        if (rc < 0)
            return -1;
        n = recv(conn->fd, conn->buf + conn->len, conn->cap - conn->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        conn->len += (size_t)n;
    }
}

int ctl_call(const struct ctl *ctl, struct ctl_conn *conn, cJSON *req,
             cJSON **reply, int timeout_ms, const char *context)
{
    const cJSON *ok, *err;
    char *text, *line = NULL;
    int rc;

    *reply = NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(req, "v");
    cJSON_AddNumberToObject(req, "v", TADD_PROTOCOL_VERSION);
    text = cJSON_PrintUnformatted(req);
    if (!text) {
        ctl_error(ctl, "out of memory");
        return CTL_ERROR;
    }
    rc = ctl_send_all(conn->fd, text, strlen(text));
    if (rc == 0)
        rc = ctl_send_all(conn->fd, "\n", 1);
    free(text);
    if (rc != 0) {
        ctl_error(ctl, "sending to taddd: %s", strerror(errno));
        return CTL_ERROR;
    }
    rc = ctl_read_line(conn, &line, timeout_ms);
    if (rc == -2)
        return CTL_TIMEOUT;
    if (rc <= 0) {
        ctl_error(ctl, "taddd closed the connection without a reply");
        return CTL_ERROR;
    }
    *reply = cJSON_Parse(line);
    free(line);
    if (!*reply) {
        ctl_error(ctl, "taddd sent a reply that is not JSON");
        return CTL_ERROR;
    }
    ok = cJSON_GetObjectItemCaseSensitive(*reply, "ok");
    if (cJSON_IsTrue(ok))
        return CTL_OK;
    err = cJSON_GetObjectItemCaseSensitive(*reply, "error");
    {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
        const char *m = cJSON_IsString(msg) ? msg->valuestring
                                            : "taddd refused the request";
        if (context)
            ctl_error(ctl, "%s: %s", context, m);
        else
            ctl_error(ctl, "%s", m);
    }
    return CTL_ERROR;
}

int ctl_request(const struct ctl *ctl, cJSON *req, cJSON **reply,
                const char *context)
{
    struct ctl_conn conn;
    int rc = ctl_connect(ctl, &conn);

    *reply = NULL;
    if (rc != CTL_OK)
        return rc;
    rc = ctl_call(ctl, &conn, req, reply, -1, context);
    ctl_disconnect(&conn);
    return rc;
}

int ctl_wait_closed(struct ctl_conn *conn, int timeout_ms)
{
    long deadline = timeout_ms < 0 ? -1 : ctl_now_ms() + timeout_ms;
    char buf[4096];

    for (;;) {
        int rc = ctl_wait_input(conn->fd, deadline);
        ssize_t n;

        if (rc == 0)
            return CTL_TIMEOUT;
        if (rc < 0)
            return CTL_OK;
        n = recv(conn->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return CTL_OK;
    }
}
