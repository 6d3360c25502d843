/*
 * The socket protocol itself (docs/protocol.md): envelope errors, an
 * unknown command, an oversized request, pipelined requests, several
 * clients while a sweep runs and one of them waits, the socket's and the
 * home's permissions, and the refusal of another user's connection.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "harness.h"

#define REQUEST_MAX (1 << 20)

static const char sweep_text[] =
    "{\"name\": \"busy\", \"base\": {\"train_steps\": 3000, "
    "\"eval_interval\": 250, \"batch_size\": 32, \"val_size\": 64, "
    "\"test_size\": 64, \"warmup_steps\": 50}, \"seeds\": [1, 2]}\n";

/* Sends one line and parses the reply; NULL when none came. */
static cJSON *ask(int fd, const char *line)
{
    char *reply;
    cJSON *j;

    if (th_send(fd, line, strlen(line)) != 0)
        return NULL;
    reply = th_read_line(fd, 10.0);
    j = reply ? cJSON_Parse(reply) : NULL;
    free(reply);
    return j;
}

static const char *error_code(const cJSON *reply)
{
    const cJSON *e = cJSON_GetObjectItem(reply, "error");

    return cJSON_GetStringValue(cJSON_GetObjectItem(e, "code"));
}

static int is_ok(const cJSON *reply)
{
    return cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok")) &&
           cJSON_GetNumberValue(cJSON_GetObjectItem(reply, "v")) == 1;
}

static void check_envelope_errors(struct th *t)
{
    static const struct {
        const char *line;
        const char *code;
    } cases[] = {
        {"{\"v\": 1, \"cmd\": \"frobnicate\"}\n", "unknown_command"},
        {"{\"v\": 2, \"cmd\": \"ping\"}\n", "bad_version"},
        {"{\"cmd\": \"ping\"}\n", "bad_version"},
        {"{\"v\": 1}\n", "bad_request"},
        {"{\"v\": 1, \"cmd\": 7}\n", "bad_request"},
        {"this is not json\n", "bad_request"},
        {"[1, 2, 3]\n", "bad_request"},
        {"{\"v\": 1, \"cmd\": \"show\"}\n", "bad_request"},
        {"{\"v\": 1, \"cmd\": \"show\", \"sweep\": \"nope\"}\n", "not_found"},
        {"{\"v\": 1, \"cmd\": \"submit\", \"text\": 5}\n", "bad_request"},
    };
    int fd = th_connect(t);

    REQUIRE(fd >= 0);
    /* Errors leave the connection usable. */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *r = ask(fd, cases[i].line);

        CHECK(r != NULL);
        CHECK(cJSON_IsFalse(cJSON_GetObjectItem(r, "ok")));
        CHECK_STR_EQ(error_code(r), cases[i].code);
        CHECK(cJSON_GetStringValue(cJSON_GetObjectItem(
                  cJSON_GetObjectItem(r, "error"), "message")) != NULL);
        cJSON_Delete(r);
    }
    {
        cJSON *r = ask(fd, "{\"v\": 1, \"cmd\": \"ping\"}\n");
        CHECK(is_ok(r));
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "pid")) ==
              (double)t->daemon);
        cJSON_Delete(r);
    }
    close(fd);
}

/* Two requests in one write get two replies, in order. */
static void check_pipelined(struct th *t)
{
    static const char two[] = "{\"v\": 1, \"cmd\": \"ping\"}\n"
                              "{\"v\": 1, \"cmd\": \"nope\"}\n";
    int fd = th_connect(t);
    char *a, *b;

    REQUIRE(fd >= 0);
    CHECK_INT_EQ(th_send(fd, two, sizeof(two) - 1), 0);
    a = th_read_line(fd, 10.0);
    b = th_read_line(fd, 10.0);
    CHECK_STR_HAS(a, "\"pid\"");
    CHECK_STR_HAS(b, "unknown_command");
    free(a);
    free(b);
    close(fd);
}

static void check_sizes(struct th *t)
{
    char *big = malloc(REQUEST_MAX + 64);
    const char head[] = "{\"v\": 1, \"cmd\": \"ping\", \"pad\": \"";
    size_t n = strlen(head);
    char *reply;
    cJSON *r;
    int fd;

    REQUIRE(big != NULL);
    /* Exactly at the limit: answered. */
    memcpy(big, head, n);
    memset(big + n, 'x', REQUEST_MAX - n - 2);
    memcpy(big + REQUEST_MAX - 2, "\"}\n", 3);
    fd = th_connect(t);
    REQUIRE(fd >= 0);
    CHECK_INT_EQ(th_send(fd, big, REQUEST_MAX + 1), 0);
    reply = th_read_line(fd, 10.0);
    r = cJSON_Parse(reply);
    CHECK(is_ok(r));
    cJSON_Delete(r);
    free(reply);
    close(fd);

    /* One byte over, and no newline in sight: refused, then closed. */
    memset(big, ' ', REQUEST_MAX + 1);
    fd = th_connect(t);
    REQUIRE(fd >= 0);
    CHECK_INT_EQ(th_send(fd, big, REQUEST_MAX + 1), 0);
    reply = th_read_line(fd, 10.0);
    CHECK_STR_HAS(reply, "\"too_large\"");
    CHECK(th_closed(fd, 10.0));
    free(reply);
    close(fd);
    free(big);
}

/* While a sweep runs, one client waits for it and others are served. */
static void check_concurrent_clients(struct th *t)
{
    const char *file = th_write(t, "busy.json", sweep_text);
    cJSON *r;
    char *reply;
    int waiter, other, quitter;

    CHECK_INT_EQ(th_ctl(t, NULL, "submit", file, NULL), 0);
    CHECK(th_db_wait(t, "SELECT COUNT(*) FROM packs WHERE state = "
                        "'running'",
                     1, 20.0) == 1);
    waiter = th_connect(t);
    quitter = th_connect(t);
    other = th_connect(t);
    REQUIRE(waiter >= 0 && other >= 0 && quitter >= 0);
    /* The wait and a request behind it on the same connection. */
    {
        static const char two[] =
            "{\"v\": 1, \"cmd\": \"wait\", \"sweep\": \"busy\"}\n"
            "{\"v\": 1, \"cmd\": \"ping\"}\n";
        CHECK_INT_EQ(th_send(waiter, two, sizeof(two) - 1), 0);
    }
    /* A client that waits and goes away must not disturb the daemon. */
    {
        static const char w[] =
            "{\"v\": 1, \"cmd\": \"wait\", \"sweep\": \"busy\"}\n";
        CHECK_INT_EQ(th_send(quitter, w, sizeof(w) - 1), 0);
        close(quitter);
    }
    r = ask(other, "{\"v\": 1, \"cmd\": \"status\"}\n");
    CHECK(is_ok(r));
    CHECK_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(r, "running")), 1);
    cJSON_Delete(r);
    r = ask(other, "{\"v\": 1, \"cmd\": \"show\", \"sweep\": \"busy\"}\n");
    CHECK(is_ok(r));
    cJSON_Delete(r);
    /* taddctl works alongside too. */
    CHECK_INT_EQ(th_ctl(t, NULL, "status", NULL), 0);
    CHECK(th_read_line(waiter, 0.2) == NULL);

    reply = th_read_line(waiter, 60.0);
    r = cJSON_Parse(reply);
    CHECK(is_ok(r));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "sweep"),
                                           "finished")));
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM trials WHERE state = "
                              "'done'",
                           -1),
                 2);
    cJSON_Delete(r);
    free(reply);
    reply = th_read_line(waiter, 10.0);
    CHECK_STR_HAS(reply, "\"pid\"");
    free(reply);
    close(waiter);
    close(other);
}

static void check_permissions(struct th *t)
{
    char path[PATH_MAX + 16];
    struct stat st;

    CHECK(stat(t->home, &st) == 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0700);
    snprintf(path, sizeof(path), "%s/taddd.sock", t->home);
    CHECK(stat(path, &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/tadd.db", t->home);
    CHECK(stat(path, &st) == 0);
    CHECK_INT_EQ(st.st_mode & 0077, 0);
}

/*
 * A client of another uid is closed without an answer, even when the
 * file modes would let it in: the SO_PEERCRED check stands alone. Needs
 * root to become another user.
 */
static void check_other_user(struct th *t)
{
    char path[PATH_MAX + 16];
    pid_t pid;
    int status;

    if (geteuid() != 0) {
        fprintf(stderr, "note: not root, the other-user check cannot run\n");
        return;
    }
    snprintf(path, sizeof(path), "%s/taddd.sock", t->home);
    CHECK(chmod(t->root, 0711) == 0);
    CHECK(chmod(t->home, 0711) == 0);
    CHECK(chmod(path, 0666) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd;
        char *reply;

        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        fd = th_connect(t);
        if (fd < 0)
            _exit(4);
        th_send(fd, "{\"v\": 1, \"cmd\": \"ping\"}\n", 24);
        reply = th_read_line(fd, 5.0);
        _exit(reply == NULL ? 0 : 1);
    }
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_INT_EQ(WEXITSTATUS(status), 0);
    {
        char *log;

        snprintf(path, sizeof(path), "%s/taddd.log", t->home);
        log = th_read(path);
        CHECK_STR_HAS(log, "refused a client of uid 65534");
        free(log);
        snprintf(path, sizeof(path), "%s/taddd.sock", t->home);
    }
    CHECK(chmod(path, 0600) == 0);
    CHECK(chmod(t->home, 0700) == 0);
    CHECK(chmod(t->root, 0700) == 0);
}

int main(void)
{
    struct th t;

    th_init(&t, "proto");
    th_daemon_start(&t, NULL);
    check_permissions(&t);
    check_envelope_errors(&t);
    check_pipelined(&t);
    check_sizes(&t);
    check_other_user(&t);
    check_concurrent_clients(&t);
    /* Still answering after all that. */
    CHECK_INT_EQ(th_ctl(&t, NULL, "ping", NULL), 0);

    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
