#define _GNU_SOURCE /* nftw flags */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "fsutil.h"

#define TH_MAX_ARGS 64

/* Setup failures end the test at once: nothing after them can pass. */
static void th_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void th_fatal(const char *fmt, ...)
{
    va_list ap;

    fputs("harness: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void th_sleep(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void th_program(char *out, const char *build, const char *rel)
{
    if (snprintf(out, PATH_MAX, "%s/%s", build, rel) >= PATH_MAX)
        th_fatal("path too long: %s/%s", build, rel);
    if (access(out, X_OK) != 0)
        th_fatal("%s is missing: build the tree first", out);
}

void th_init(struct th *t, const char *name)
{
    const char *build = getenv("TADD_BUILD_ROOT");

    memset(t, 0, sizeof(*t));
    if (!build)
        th_fatal("TADD_BUILD_ROOT is not set (run through meson test)");
    th_program(t->taddd, build, "daemon/taddd");
    th_program(t->taddctl, build, "cli/taddctl");
    th_program(t->worker, build, "worker/tadd-worker");
    /* Under /tmp: the socket path must stay short. */
    if (snprintf(t->root, sizeof(t->root), "/tmp/tadd-%.32s-XXXXXX", name) <
            0 ||
        !mkdtemp(t->root))
        th_fatal("mkdtemp: %s", strerror(errno));
    th_use_home(t, "home");
    /* A test killed by its timeout must not leave a daemon behind. */
    signal(SIGPIPE, SIG_IGN);
}

void th_use_home(struct th *t, const char *name)
{
    if (snprintf(t->home, sizeof(t->home), "%s/%.32s", t->root, name) < 0)
        th_fatal("snprintf failed");
}

/* fork + exec of argv; stdout and stderr of the child go to out_fd (or
 * /dev/null when < 0). */
static pid_t th_spawn(char *const *argv, int out_fd)
{
    pid_t pid = fork();

    if (pid < 0)
        th_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(out_fd >= 0 ? out_fd : null, 1);
        dup2(out_fd >= 0 ? out_fd : null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

int th_stopped(pid_t pid)
{
    return tadd_proc_state((long)pid) == 'T';
}

void th_daemon_start(struct th *t, ...)
{
    char *argv[TH_MAX_ARGS];
    int n = 0, fd;
    double until;
    va_list ap;

    if (t->daemon)
        th_fatal("a daemon is already running");
    argv[n++] = t->taddd;
    argv[n++] = "--home";
    argv[n++] = t->home;
    argv[n++] = "--worker";
    argv[n++] = t->worker;
    /* Fixed sizes: measured ones would vary with the machine's load. A
     * test's own flags come later and win. */
    argv[n++] = "--threads";
    argv[n++] = "1";
    argv[n++] = "--workers";
    argv[n++] = "1";
    argv[n++] = "--max-models-per-pack";
    argv[n++] = "8";
    va_start(ap, t);
    for (char *a; (a = va_arg(ap, char *)) && n < TH_MAX_ARGS - 1;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    t->daemon = th_spawn(argv, -1);
    until = tadd_monotonic_seconds() + 15.0;
    while (tadd_monotonic_seconds() < until) {
        int status;

        if (waitpid(t->daemon, &status, WNOHANG) == t->daemon) {
            t->daemon = 0;
            th_dump_log(t);
            th_fatal("taddd exited at start (status %d)",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        fd = th_connect(t);
        if (fd >= 0) {
            close(fd);
            return;
        }
        /* Stopped at a fault point (faultpoint.h): it will not listen,
         * and the test wants it that way. */
        if (th_stopped(t->daemon))
            return;
        th_sleep(0.02);
    }
    th_fatal("taddd did not listen within 15 s");
}

static int th_reap(struct th *t, double timeout_s)
{
    double until = tadd_monotonic_seconds() + timeout_s;
    int status;

    while (tadd_monotonic_seconds() < until) {
        pid_t r = waitpid(t->daemon, &status, WNOHANG);
        if (r == t->daemon) {
            t->daemon = 0;
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            return 128 + WTERMSIG(status);
        }
        th_sleep(0.02);
    }
    return -1;
}

int th_daemon_wait(struct th *t, double timeout_s)
{
    return t->daemon ? th_reap(t, timeout_s) : -1;
}

int th_daemon_stop(struct th *t)
{
    int rc;

    if (!t->daemon)
        return -1;
    kill(t->daemon, SIGTERM);
    rc = th_reap(t, 60.0);
    if (rc < 0) {
        kill(t->daemon, SIGKILL);
        th_reap(t, 10.0);
        th_fatal("taddd did not stop within 60 s of SIGTERM");
    }
    return rc;
}

void th_daemon_kill9(struct th *t)
{
    if (!t->daemon)
        return;
    kill(t->daemon, SIGKILL);
    if (th_reap(t, 10.0) < 0)
        th_fatal("taddd survived SIGKILL");
}

int th_ctl(struct th *t, char **out, ...)
{
    char *argv[TH_MAX_ARGS];
    char path[PATH_MAX + 16];
    int n = 0, fd, status;
    pid_t pid;
    va_list ap;

    argv[n++] = t->taddctl;
    argv[n++] = "--home";
    argv[n++] = t->home;
    va_start(ap, out);
    for (char *a; (a = va_arg(ap, char *)) && n < TH_MAX_ARGS - 1;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    snprintf(path, sizeof(path), "%s/ctl.out", t->root);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        th_fatal("%s: %s", path, strerror(errno));
    pid = th_spawn(argv, fd);
    close(fd);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out) {
        *out = th_read(path);
        if (!*out)
            *out = strdup("");
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *th_write(struct th *t, const char *name, const char *text)
{
    static char path[PATH_MAX + 64];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", t->root, name);
    f = fopen(path, "w");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0)
        th_fatal("cannot write %s", path);
    return path;
}

static sqlite3 *th_db_open(struct th *t)
{
    char path[PATH_MAX + 16];
    sqlite3 *db = NULL;

    snprintf(path, sizeof(path), "%s/tadd.db", t->home);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        th_fatal("cannot open %s: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

int64_t th_db_int(struct th *t, const char *sql, int64_t dflt)
{
    sqlite3 *db = th_db_open(t);
    sqlite3_stmt *st = NULL;
    int64_t v = dflt;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        th_fatal("bad test query \"%s\": %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

char *th_db_text(struct th *t, const char *sql)
{
    sqlite3 *db = th_db_open(t);
    sqlite3_stmt *st = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        th_fatal("out of memory");
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        th_fatal("bad test query \"%s\": %s", sql, sqlite3_errmsg(db));
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *s = sqlite3_column_text(st, i);
            fprintf(f, "%s%s", i ? "|" : "", s ? (const char *)s : "NULL");
        }
        fputc('\n', f);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    fclose(f);
    return buf;
}

int64_t th_db_wait(struct th *t, const char *sql, int64_t want,
                   double timeout_s)
{
    double until = tadd_monotonic_seconds() + timeout_s;
    int64_t v;

    do {
        v = th_db_int(t, sql, -1);
        if (v >= want)
            return v;
        th_sleep(0.02);
    } while (tadd_monotonic_seconds() < until);
    return v;
}

int th_connect(struct th *t)
{
    struct sockaddr_un sa;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/taddd.sock",
                 t->home) >= (int)sizeof(sa.sun_path))
        th_fatal("socket path too long");
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int th_send(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int th_poll_in(int fd, double until)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    double left = until - tadd_monotonic_seconds();

    if (left < 0)
        left = 0;
    return poll(&p, 1, (int)(left * 1000.0));
}

char *th_read_line(int fd, double timeout_s)
{
    double until = tadd_monotonic_seconds() + timeout_s;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);

    while (buf) {
        char c;
        ssize_t n;

        if (th_poll_in(fd, until) <= 0)
            break;
        n = recv(fd, &c, 1, 0);
        if (n <= 0)
            break;
        if (c == '\n') {
            buf[len] = '\0';
            return buf;
        }
        if (len + 2 > cap) {
            char *p = realloc(buf, cap * 2);
            if (!p)
                break;
            buf = p;
            cap *= 2;
        }
        buf[len++] = c;
    }
    free(buf);
    return NULL;
}

int th_closed(int fd, double timeout_s)
{
    double until = tadd_monotonic_seconds() + timeout_s;
    char buf[256];

    while (tadd_monotonic_seconds() < until) {
        ssize_t n;

        if (th_poll_in(fd, until) <= 0)
            return 0;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            return 1;
    }
    return 0;
}

char *th_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

int th_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    char *x, *y;
    int same;

    if (stat(a, &sa) != 0 || stat(b, &sb) != 0 || sa.st_size != sb.st_size)
        return 0;
    x = th_read(a);
    y = th_read(b);
    same = x && y && memcmp(x, y, (size_t)sa.st_size) == 0;
    free(x);
    free(y);
    return same;
}

/* Cuts the last column of every line of a CSV text in place. */
static void th_drop_last_column(char *s)
{
    char *w = s;

    while (*s) {
        char *eol = strchr(s, '\n');
        char *end = eol ? eol : s + strlen(s);
        char *comma = end;

        while (comma > s && *comma != ',')
            comma--;
        if (comma == s)
            comma = end;
        memmove(w, s, (size_t)(comma - s));
        w += comma - s;
        if (eol)
            *w++ = '\n';
        s = eol ? eol + 1 : end;
    }
    *w = '\0';
}

int th_same_metrics(const char *a, const char *b)
{
    char *x = th_read(a), *y = th_read(b);
    int same = 0;

    if (x && y) {
        th_drop_last_column(x);
        th_drop_last_column(y);
        same = strcmp(x, y) == 0 && strchr(x, '\n') != NULL;
    }
    free(x);
    free(y);
    return same;
}

int th_same_model(const char *dir_a, const char *dir_b)
{
    static const char *const files[] = {"best.safetensors",
                                        "last.safetensors", "metrics.csv"};
    char a[PATH_MAX * 2], b[PATH_MAX * 2];
    int same = 1;

    for (int i = 0; i < 3; i++) {
        int ok;

        snprintf(a, sizeof(a), "%s/%s", dir_a, files[i]);
        snprintf(b, sizeof(b), "%s/%s", dir_b, files[i]);
        ok = i < 2 ? th_same_file(a, b) : th_same_metrics(a, b);
        if (!ok) {
            fprintf(stderr, "harness: %s differs from %s\n", b, a);
            same = 0;
        }
    }
    return same;
}

void th_dump_log(struct th *t)
{
    char path[PATH_MAX + 16];
    char *log;
    size_t n;

    snprintf(path, sizeof(path), "%s/taddd.log", t->home);
    log = th_read(path);
    if (!log)
        return;
    n = strlen(log);
    fprintf(stderr, "--- end of %s ---\n%s\n", path,
            n > 4000 ? log + n - 4000 : log);
    free(log);
}

static int th_remove(const char *path, const struct stat *st, int flag,
                     struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void th_cleanup(struct th *t, int failed)
{
    if (t->daemon)
        th_daemon_stop(t);
    if (failed) {
        th_dump_log(t);
        fprintf(stderr, "harness: kept %s\n", t->root);
        return;
    }
    if (t->root[0])
        nftw(t->root, th_remove, 16, FTW_DEPTH | FTW_PHYS);
}
