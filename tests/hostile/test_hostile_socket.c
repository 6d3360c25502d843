/*
 * Hostile requests on the daemon's socket: each case is a row of
 * docs/hostile-inputs.md. A request gets a one-line error reply with the
 * row's code and message (or the row's documented effect), and the
 * daemon goes on answering everyone after it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "clock.h"
#include "doc_rows.h"
#include "harness.h"

#define REQUEST_MAX (1 << 20)

struct buf {
    char *p;
    size_t len, cap;
};

struct rcase {
    const char *id;
    const char *line;            /* the request, newline included */
    void (*make)(struct buf *b); /* or the function that builds it */
    const char *code;            /* the error code, NULL: ok */
    const char *message;         /* part of the message */
    int closes;                  /* the daemon closes the connection */
    double max_sec;              /* answered within (0: 10 s) */
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        REQUIRE(b->p != NULL);
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void make_oversized(struct buf *b)
{
    buf_str(b, "{\"v\": 1, \"cmd\": \"ping\", \"pad\": \"");
    while (b->len < REQUEST_MAX + 16)
        buf_str(b, "xxxxxxxxxxxxxxxx");
    buf_str(b, "\"}\n");
}

static void make_big_submit(struct buf *b)
{
    buf_str(b, "{\"v\": 1, \"cmd\": \"submit\", \"text\": \"{\\\"name\\\": "
               "\\\"big\\\", \\\"description\\\": \\\"");
    while (b->len < 2 * REQUEST_MAX)
        buf_str(b, "dddddddddddddddd");
    buf_str(b, "\\\"}\"}\n");
}

/* A sweep of 40,000 keys in one object, inside the request limit: refused
 * at once (the pairwise duplicate check took seconds on it). */
static void make_many_keys(struct buf *b)
{
    char key[32];

    buf_str(b, "{\"v\": 1, \"cmd\": \"submit\", \"text\": \"{");
    for (int i = 0; i < 40000; i++) {
        snprintf(key, sizeof(key), "\\\"k%d\\\":1,", i);
        buf_str(b, key);
    }
    buf_str(b, "\\\"name\\\": \\\"keys\\\"}\"}\n");
}

static void make_garbage(struct buf *b)
{
    uint32_t x = 2024;

    /* A fixed pseudo-random stream with a newline now and then; no line
     * is a JSON object. Ends in a newline so every line is complete. */
    for (int i = 0; i < 4096; i++) {
        unsigned char c;
        x = x * 1103515245u + 12345u;
        c = (unsigned char)(x >> 16);
        if (c == '{')
            c = '}';
        buf_add(b, &c, 1);
    }
    buf_str(b, "\n");
}

/* A tiny sweep the daemon really queues (and trains in a moment). */
#define TAKEN_SWEEP                                                         \
    "{\"v\": 1, \"cmd\": \"submit\", \"text\": \"{\\\"name\\\": "           \
    "\\\"taken\\\", \\\"seeds\\\": [1], \\\"base\\\": "                   \
    "{\\\"train_steps\\\": 20, \\\"warmup_steps\\\": 2, "                     \
    "\\\"eval_interval\\\": 10, \\\"batch_size\\\": 8, "                      \
    "\\\"val_size\\\": 8, \\\"test_size\\\": 8}}\"}\n"

static void make_taken_again(struct buf *b)
{
    buf_str(b, TAKEN_SWEEP);
}

/* Submits the sweep "taken" that R25 to R28 refer to. */
static void submit_taken(struct th *t)
{
    int fd = th_connect(t);
    char *reply;

    REQUIRE(fd >= 0);
    CHECK_INT_EQ(th_send(fd, TAKEN_SWEEP, strlen(TAKEN_SWEEP)), 0);
    reply = th_read_line(fd, 10.0);
    CHECK(reply && strstr(reply, "\"ok\":true"));
    free(reply);
    close(fd);
}

static const struct rcase cases[] = {
    {"R01", NULL, make_oversized, "too_large",
     "a request may hold at most 1048576 bytes", 1, 0},
    {"R02", "hello\n", NULL, "bad_request",
     "the request is not a JSON object", 0, 0},
    {"R03", "{\"v\": 2, \"cmd\": \"ping\"}\n", NULL, "bad_version",
     "v: this daemon speaks protocol version 1", 0, 0},
    {"R04", "{\"cmd\": \"ping\"}\n", NULL, "bad_version",
     "v: this daemon speaks protocol version 1", 0, 0},
    {"R05", "{\"v\": \"1\", \"cmd\": \"ping\"}\n", NULL, "bad_version",
     "v: this daemon speaks protocol version 1", 0, 0},
    {"R06", "{\"v\": 1, \"cmd\": \"rm -rf /\"}\n", NULL, "unknown_command",
     "cmd: unknown command \"rm -rf /\"", 0, 0},
    {"R07", "{\"v\": 1, \"cmd\": 7}\n", NULL, "bad_request",
     "cmd: expected the command's name, a string", 0, 0},
    {"R08", "[{\"v\": 1, \"cmd\": \"ping\"}]\n", NULL, "bad_request",
     "the request is not a JSON object", 0, 0},
    {"R09", "{\"v\": 1, \"cmd\": \"submit\", \"text\": "
            "\"{\\\"name\\\": \\\"../evil\\\"}\"}\n", NULL, "bad_sweep",
     "name: must be a name of 1 to 64 characters", 0, 0},
    {"R10", "{\"v\": 1, \"cmd\": \"submit\", \"text\": "
            "\"{\\\"name\\\": \\\"tadd.db\\\"}\"}\n", NULL, "bad_sweep",
     "name: \"tadd.db\" is reserved for the home folder's own files", 0, 0},
    {"R11", "{\"v\": 1, \"cmd\": \"submit\", \"text\": "
            "\"{\\\"name\\\": \\\"v\\\", \\\"variants\\\": [{\\\"name\\\": "
            "\\\"../../x\\\"}]}\"}\n", NULL, "bad_sweep",
     "variants[0].name: must be a name", 0, 0},
    {"R12", "{\"v\": 1, \"cmd\": \"show\", \"sweep\": \"../../etc\"}\n", NULL,
     "not_found", "no sweep named \"../../etc\"", 0, 0},
    {"R13", "{\"v\": 1, \"cmd\": \"results\", \"sweep\": \"../x\", "
            "\"format\": \"csv\"}\n", NULL, "not_found",
     "no sweep named \"../x\"", 0, 0},
    {"R14", "{\"v\": 1, \"cmd\": \"submit\", \"text\": 5}\n", NULL,
     "bad_request", "text: expected the sweep file's JSON text", 0, 0},
    {"R15", NULL, make_big_submit, "too_large",
     "a request may hold at most 1048576 bytes", 1, 0},
    {"R16", NULL, make_many_keys, "bad_sweep", "k0: unknown key", 0, 0},
    {"R17", NULL, make_garbage, "bad_request",
     "the request is not a JSON object", 0, 0},
    {"R23", "{\"v\": 1, \"cmd\": \"submit\", \"dry_run\": true, \"text\": "
            "\"{\\\"name\\\": \\\"a\\\", \\\"variants\\\": [{\\\"name\\\": "
            "\\\"packs\\\"}]}\"}\n", NULL, "bad_sweep",
     "config \"packs\": the name is reserved for the sweep folder's own "
     "files", 0, 0},
    {"R24", "{\"v\": 1, \"cmd\": \"submit\", \"dry_run\": true, \"text\": "
            "\"{\\\"name\\\": \\\"b\\\", \\\"baseline\\\": {\\\"sweep\\\": "
            "\\\"nosuch\\\", \\\"config\\\": \\\"x\\\"}}\"}\n", NULL,
     "bad_sweep", "baseline: sweep \"nosuch\" has no config \"x\"", 0, 0},
    {"R25", NULL, make_taken_again, "exists",
     "a sweep named \"taken\" was already submitted", 0, 0},
    {"R26", "{\"v\": 1, \"cmd\": \"cancel\", \"sweep\": \"taken\", "
            "\"config\": \"../x\"}\n", NULL, "not_found",
     "config: the sweep has no config \"../x\"", 0, 0},
    {"R27", "{\"v\": 1, \"cmd\": \"logs\", \"sweep\": \"taken\", "
            "\"pack\": \"1; rm -rf /\"}\n", NULL, "bad_request",
     "pack: expected a pack id", 0, 0},
    {"R28", "{\"v\": 1, \"cmd\": \"compare\", \"sweep\": \"taken\", "
            "\"a\": \"../../etc/passwd\", \"b\": \"default\"}\n", NULL,
     "not_found", "a: the sweep has no config \"../../etc/passwd\"", 0, 0},
    {"R29", "{\"v\": 1, \"cmd\": \"ping\"} trailing words\n", NULL,
     "bad_request", "text after the request object at byte 25", 0, 0},
    {"R30", "{\"v\": 1, \"cmd\": \"ping\"}\0{\"v\": 1, \"cmd\": "
            "\"shutdown\"}\n", NULL, "bad_request",
     "the request holds a NUL byte at byte 24", 0, 0},
    {"R31", "{\"v\": 1, \"cmd\": \"ping\", \"cmd\": \"shutdown\"}\n", NULL,
     "bad_request", "cmd: given twice", 0, 0},
    {"R32", "{\"v\": 1, \"cmd\": \"status\", \"all\": \"yes\"}\n", NULL,
     "bad_request", "all: expected true or false", 0, 0},
    {"R33", "{\"v\": 1, \"cmd\": \"submit\", \"dry_run\": 1, \"text\": "
            "\"{\\\"name\\\": \\\"d\\\"}\"}\n", NULL, "bad_request",
     "dry_run: expected true or false", 0, 0},
    {"R34", "{\"v\": 1, \"cmd\": \"logs\", \"sweep\": \"taken\", "
            "\"tail\": 2.5}\n", NULL, "bad_request",
     "tail: expected a positive whole number of events", 0, 0},
    {"R35", "{\"v\": 1, \"cmd\": \"logs\", \"sweep\": \"taken\", "
            "\"pack\": 1e300}\n", NULL, "bad_request",
     "pack: expected a pack id", 0, 0},
};

/* Line length, for cases whose text holds a NUL byte. */
static size_t line_len(const char *line)
{
    const char *p = line;

    while (!(p[0] == '\n' && (p[1] == '\0')))
        p++;
    return (size_t)(p - line) + 1;
}

/* Sends one case and checks every reply line it gets. */
static void run_case(struct th *t, const struct rcase *c)
{
    struct buf in = {0};
    double t0, sec, limit = c->max_sec > 0 ? c->max_sec : 10;
    int fd = th_connect(t);
    int replies = 0;
    size_t lines = 0;

    REQUIRE(fd >= 0);
    if (c->make)
        c->make(&in);
    else
        buf_add(&in, c->line, line_len(c->line));
    /* The daemon answers every line but those of blanks only (spaces and
     * carriage returns, which it trims from the end). */
    for (size_t i = 0, start = 0; i < in.len; i++) {
        size_t end = i;
        if (in.p[i] != '\n')
            continue;
        while (end > start && (in.p[end - 1] == ' ' || in.p[end - 1] == '\r'))
            end--;
        lines += end > start;
        start = i + 1;
    }
    t0 = tadd_monotonic_seconds();
    /* The daemon may close after an oversized line before reading the
     * rest, so a failed send is no failure by itself. */
    th_send(fd, in.p, in.len);
    for (;;) {
        char *reply = th_read_line(fd, limit);
        cJSON *r, *e;
        const char *code, *msg;
        if (!reply)
            break;
        replies++;
        r = cJSON_Parse(reply);
        e = cJSON_GetObjectItem(r, "error");
        code = cJSON_GetStringValue(cJSON_GetObjectItem(e, "code"));
        msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
        if (!r || cJSON_GetNumberValue(cJSON_GetObjectItem(r, "v")) != 1)
            CHECK_FAIL_("%s: reply is not a v1 object: %s", c->id, reply);
        else if (!code || strcmp(code, c->code) != 0 ||
                 !cJSON_IsFalse(cJSON_GetObjectItem(r, "ok")))
            CHECK_FAIL_("%s: expected error %s, got: %.300s", c->id,
                        c->code, reply);
        else if (c->message && (!msg || !strstr(msg, c->message)))
            CHECK_FAIL_("%s: message lacks \"%s\": %.300s", c->id,
                        c->message, reply);
        cJSON_Delete(r);
        free(reply);
        if ((size_t)replies >= lines || c->closes)
            break;
    }
    sec = tadd_monotonic_seconds() - t0;
    if (replies == 0)
        CHECK_FAIL_("%s: no reply", c->id);
    if (sec > limit)
        CHECK_FAIL_("%s: answered in %.2f s, more than %.0f s", c->id, sec,
                    limit);
    if (c->closes && !th_closed(fd, 5.0))
        CHECK_FAIL_("%s: the connection stayed open", c->id);
    printf("%s: %d replies in %.3f s\n", c->id, replies, sec);
    close(fd);
    free(in.p);
}

/* The daemon still answers a fresh client. */
static void check_alive(struct th *t, const char *after)
{
    int fd = th_connect(t);
    char *reply;

    if (fd < 0) {
        CHECK_FAIL_("after %s: cannot connect: %s", after, strerror(errno));
        return;
    }
    th_send(fd, "{\"v\": 1, \"cmd\": \"ping\"}\n", 24);
    reply = th_read_line(fd, 10.0);
    if (!reply || !strstr(reply, "\"ok\":true"))
        CHECK_FAIL_("after %s: ping got %s", after, reply ? reply : "nothing");
    free(reply);
    close(fd);
}

/* R18: half a request, then the client goes away. */
static void check_half_line(struct th *t)
{
    int fd = th_connect(t);

    REQUIRE(fd >= 0);
    th_send(fd, "{\"v\": 1, \"cmd\": \"sta", 20);
    close(fd);
    check_alive(t, "R18");
}

/* R19: a line of blanks only gets no reply; the next request does. */
static void check_blank_lines(struct th *t)
{
    static const char text[] = "   \r\n\n \n{\"v\": 1, \"cmd\": \"ping\"}\n";
    int fd = th_connect(t);
    char *reply;

    REQUIRE(fd >= 0);
    th_send(fd, text, sizeof(text) - 1);
    reply = th_read_line(fd, 10.0);
    CHECK(reply != NULL && strstr(reply, "\"pid\"") != NULL);
    free(reply);
    reply = th_read_line(fd, 0.5);
    CHECK(reply == NULL);
    free(reply);
    close(fd);
}

/* R20: 200 pings in one write get 200 answers, in order, none lost. */
static void check_pipelined(struct th *t)
{
    struct buf in = {0};
    int fd = th_connect(t), got = 0;

    REQUIRE(fd >= 0);
    for (int i = 0; i < 200; i++)
        buf_str(&in, "{\"v\": 1, \"cmd\": \"ping\"}\n");
    CHECK_INT_EQ(th_send(fd, in.p, in.len), 0);
    for (int i = 0; i < 200; i++) {
        char *reply = th_read_line(fd, 10.0);
        if (!reply)
            break;
        got += strstr(reply, "\"pid\"") != NULL;
        free(reply);
    }
    CHECK_INT_EQ(got, 200);
    free(in.p);
    close(fd);
}

/* R21: 300 clients connected at once, each answered. */
static void check_many_clients(struct th *t)
{
    enum { N = 300 };
    int fds[N], answered = 0;

    for (int i = 0; i < N; i++) {
        fds[i] = th_connect(t);
        if (fds[i] >= 0)
            th_send(fds[i], "{\"v\": 1, \"cmd\": \"ping\"}\n", 24);
    }
    for (int i = 0; i < N; i++) {
        char *reply = fds[i] >= 0 ? th_read_line(fds[i], 10.0) : NULL;
        answered += reply && strstr(reply, "\"pid\"");
        free(reply);
        if (fds[i] >= 0)
            close(fds[i]);
    }
    CHECK_INT_EQ(answered, N);
}

/*
 * R22: every sweep of the fuzz corpora, submitted as a dry run, gets
 * either a plan or a bad_sweep error naming what is wrong: no other
 * code, no silence, and the daemon lives on.
 */
static void check_corpus_submits(struct th *t)
{
    static const char *const subs[] = {"seeds", "corpus", "regressions"};
    const char *src = getenv("TADD_SOURCE_ROOT");
    int fd = th_connect(t), sent = 0, planned = 0, refused = 0;

    REQUIRE(src != NULL && fd >= 0);
    for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
        char dir[4096];
        struct dirent *e;
        DIR *d;
        snprintf(dir, sizeof(dir), "%s/tests/fuzz/sweep/%s", src, subs[k]);
        d = opendir(dir);
        if (!d)
            continue;
        while ((e = readdir(d))) {
            char path[4400];
            char *text, *line, *reply;
            cJSON *req, *r;
            const char *code;
            if (e->d_name[0] == '.' || strcmp(e->d_name, "expect.txt") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            text = th_read(path);
            if (!text)
                continue;
            req = cJSON_CreateObject();
            cJSON_AddNumberToObject(req, "v", 1);
            cJSON_AddStringToObject(req, "cmd", "submit");
            cJSON_AddStringToObject(req, "text", text);
            cJSON_AddTrueToObject(req, "dry_run");
            line = cJSON_PrintUnformatted(req);
            REQUIRE(line != NULL);
            line = realloc(line, strlen(line) + 2);
            REQUIRE(line != NULL);
            strcat(line, "\n");
            sent++;
            CHECK_INT_EQ(th_send(fd, line, strlen(line)), 0);
            reply = th_read_line(fd, 10.0);
            r = reply ? cJSON_Parse(reply) : NULL;
            code = cJSON_GetStringValue(cJSON_GetObjectItem(
                cJSON_GetObjectItem(r, "error"), "code"));
            if (r && cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")))
                planned++;
            else if (code && strcmp(code, "bad_sweep") == 0)
                refused++;
            else
                CHECK_FAIL_("R22: %s: got %.300s", path,
                            reply ? reply : "no reply");
            cJSON_Delete(r);
            free(reply);
            cJSON_free(line);
            cJSON_Delete(req);
            free(text);
        }
        closedir(d);
    }
    close(fd);
    printf("R22: %d sweeps submitted as dry runs: %d planned, %d refused\n",
           sent, planned, refused);
    CHECK(sent > 100);
}

static const char *const extra_rows[][2] = {
    {"R18", "ping"},
    {"R19", "ping"},
    {"R20", "200"},
    {"R21", "300"},
    {"R22", "bad_sweep"},
};

int main(void)
{
    int n = (int)(sizeof(cases) / sizeof(cases[0]));
    char *doc = doc_rows_load();
    struct th t;

    th_init(&t, "hsock");
    th_daemon_start(&t, NULL);
    submit_taken(&t);
    for (int i = 0; i < n; i++) {
        const char *texts[2] = {cases[i].code, cases[i].message};
        run_case(&t, &cases[i]);
        check_alive(&t, cases[i].id);
        check_failures += doc_rows_check(doc, cases[i].id, texts, 2);
    }
    check_half_line(&t);
    check_blank_lines(&t);
    check_pipelined(&t);
    check_many_clients(&t);
    check_corpus_submits(&t);
    for (size_t i = 0; i < sizeof(extra_rows) / sizeof(extra_rows[0]); i++)
        check_failures += doc_rows_check(doc, extra_rows[i][0],
                                         &extra_rows[i][1], 1);
    check_alive(&t, "every case");
    free(doc);
    if (check_failures)
        th_dump_log(&t);
    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
