/*
 * The local executor: each pack's worker is a child process of the daemon.
 *
 * The worker is started with uv_spawn from an argument vector in the home
 * folder, in a session of its own (so that a terminal's Ctrl-C reaches the
 * daemon alone, which then stops the workers in order). Its stdout is a
 * pipe read line by line; its stderr is appended to the pack's log file.
 * The handle recorded for a run is "pid:<pid>".
 */
#define _GNU_SOURCE /* asprintf */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "linebuf.h"
#include "log.h"
#include "text.h"

/* A stdout line longer than this is cut off; the worker's largest line,
 * an eval of a 4096-model pack, stays well below it. */
#define LOCAL_LINE_MAX (8u << 20)
/* How much nicer than the daemon its workers run. */
#define LOCAL_WORKER_NICE 10

struct local_executor {
    struct tadd_executor base;
    uv_loop_t *loop;
    char *worker_path;
    char *home;
};

struct tadd_exec_run {
    struct local_executor *ex;
    uv_process_t proc;
    uv_pipe_t out;
    struct tadd_exec_callbacks cb;
    void *ctx;
    struct tadd_linebuf lines; /* stdout, cut into lines */
    int exited;      /* exit_cb has run */
    int out_closed;  /* stdout reached EOF or an error */
    int stops;       /* stop() calls so far */
    int open_handles;
    struct tadd_exec_exit result;
};

static void local_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void local_handle_closed(uv_handle_t *h)
{
    struct tadd_exec_run *run = h->data;

    if (--run->open_handles == 0) {
        tadd_linebuf_free(&run->lines);
        free(run);
    }
}

/* Reports the end once both the process has exited and its stdout is
 * drained, so that every line arrives before the exit. */
static void local_maybe_finish(struct tadd_exec_run *run)
{
    if (!run->exited || !run->out_closed)
        return;
    run->result.stop_requested = run->stops > 0;
    run->cb.on_exit(run->ctx, run, &run->result);
    uv_close((uv_handle_t *)&run->proc, local_handle_closed);
    uv_close((uv_handle_t *)&run->out, local_handle_closed);
}

static void local_on_line(void *user, const char *line, size_t len)
{
    struct tadd_exec_run *run = user;

    run->cb.on_line(run->ctx, run, line, len);
}

static void local_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tadd_exec_run *run = s->data;

    if (nread > 0 &&
        tadd_linebuf_feed(&run->lines, buf->base, (size_t)nread,
                          local_on_line, run) > 0)
        tadd_warn("worker pid %d: dropping a stdout line over %u bytes",
                  run->proc.pid, LOCAL_LINE_MAX);
    free(buf->base);
    if (nread < 0) {
        tadd_linebuf_flush(&run->lines, local_on_line, run);
        uv_read_stop(s);
        run->out_closed = 1;
        local_maybe_finish(run);
    }
}

static void local_exited(uv_process_t *p, int64_t status, int sig)
{
    struct tadd_exec_run *run = p->data;

    run->result.exit_status = status;
    run->result.term_signal = sig;
    run->exited = 1;
    local_maybe_finish(run);
}

static int local_start(struct tadd_executor *base,
                       const struct tadd_exec_spec *spec,
                       const struct tadd_exec_callbacks *cb, void *ctx,
                       struct tadd_exec_run **out, char *handle, char *err,
                       size_t errlen)
{
    struct local_executor *ex = (struct local_executor *)base;
    struct tadd_exec_run *run = NULL;
    uv_process_options_t opt;
    uv_stdio_container_t stdio[3];
    char threads[16];
    char *args[10];
    char *log_abs = NULL;
    int log_fd = -1;
    int rc;

    *out = NULL;
    run = calloc(1, sizeof(*run));
    if (run)
        tadd_linebuf_init(&run->lines, LOCAL_LINE_MAX);
    if (!run || asprintf(&log_abs, "%s/%s", ex->home, spec->log_path) < 0) {
        tadd_msgf(err, errlen, "out of memory");
        free(run);
        return -1;
    }
    log_fd = open(log_abs, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        tadd_msgf(err, errlen, "cannot open worker log %s: %s", log_abs,
                 strerror(errno));
        goto fail;
    }
    run->ex = ex;
    run->cb = *cb;
    run->ctx = ctx;
    run->proc.data = run;
    run->out.data = run;
    if (uv_pipe_init(ex->loop, &run->out, 0) != 0) {
        tadd_msgf(err, errlen, "cannot create a pipe for the worker");
        goto fail;
    }
    run->open_handles = 1;

    snprintf(threads, sizeof(threads), "%d", spec->threads);
    args[0] = ex->worker_path;
    args[1] = "train";
    args[2] = "--pack";
    args[3] = (char *)spec->pack_path;
    args[4] = "--threads";
    args[5] = threads;
    args[6] = NULL;
    if (spec->progress_path) {
        args[6] = "--progress";
        args[7] = (char *)spec->progress_path;
        args[8] = NULL;
    }

    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&run->out;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = log_fd;

    memset(&opt, 0, sizeof(opt));
    opt.file = ex->worker_path;
    opt.args = args;
    opt.cwd = ex->home;
    opt.exit_cb = local_exited;
    opt.stdio = stdio;
    opt.stdio_count = 3;
    opt.flags = UV_PROCESS_DETACHED;

    rc = uv_spawn(ex->loop, &run->proc, &opt);
    close(log_fd);
    log_fd = -1;
    if (rc != 0) {
        tadd_msgf(err, errlen, "cannot start %s: %s", ex->worker_path,
                 uv_strerror(rc));
        /* uv_spawn leaves the process handle initialised even on failure;
         * both handles are closed and the run freed by their callbacks. */
        run->open_handles = 2;
        uv_close((uv_handle_t *)&run->proc, local_handle_closed);
        uv_close((uv_handle_t *)&run->out, local_handle_closed);
        free(log_abs);
        return -1;
    }
    run->open_handles = 2;
    /* Workers yield to the daemon, so that requests are answered soon
     * while they use every core; alone on the machine they lose nothing.
     * Relative to the daemon's own nice value, which may be raised. */
    {
        int nice = getpriority(PRIO_PROCESS, 0) + LOCAL_WORKER_NICE;
        (void)setpriority(PRIO_PROCESS, (id_t)run->proc.pid,
                          nice > 19 ? 19 : nice);
    }
    rc = uv_read_start((uv_stream_t *)&run->out, local_alloc, local_read);
    if (rc != 0) {
        /* Without stdout the run cannot be followed: end it; exit_cb
         * still reports the end. */
        tadd_error("worker pid %d: cannot read its stdout: %s",
                   run->proc.pid, uv_strerror(rc));
        run->out_closed = 1;
        uv_process_kill(&run->proc, SIGKILL);
    }
    snprintf(handle, TADD_EXEC_HANDLE_LEN, "pid:%d", run->proc.pid);
    free(log_abs);
    *out = run;
    return 0;
fail:
    if (log_fd >= 0)
        close(log_fd);
    free(log_abs);
    if (run && run->open_handles) {
        uv_close((uv_handle_t *)&run->out, local_handle_closed);
        return -1;
    }
    free(run);
    return -1;
}

static int local_stop(struct tadd_executor *base, struct tadd_exec_run *run)
{
    /* The first request lets the worker save its state; a second one
     * means it did not stop in time. */
    int sig = run->stops == 0 ? SIGTERM : SIGKILL;

    (void)base;
    run->stops++;
    if (run->exited)
        return 0;
    return uv_process_kill(&run->proc, sig) == 0 ? 0 : -1;
}

/* 1 when pid is a live (not zombie) process whose command line holds
 * needle as one of its arguments. */
static int local_pid_runs(pid_t pid, const char *needle)
{
    char path[64];
    char buf[8192];
    ssize_t n;
    int fd;
    int found = 0;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The state letter follows the parenthesised command name. */
    {
        char *rp = strrchr(buf, ')');
        if (!rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X')
            return 0;
    }
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
        if (strcmp(buf + i, needle) == 0)
            found = 1;
    return found;
}

static void local_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Waits up to ms for pid to be gone; returns 1 when it is. */
static int local_wait_gone(pid_t pid, const char *needle, long ms)
{
    for (long waited = 0; waited < ms; waited += 50) {
        if (!local_pid_runs(pid, needle))
            return 1;
        local_sleep_ms(50);
    }
    return !local_pid_runs(pid, needle);
}

static int local_reclaim(struct tadd_executor *base, const char *handle,
                         const struct tadd_exec_spec *spec, char *err,
                         size_t errlen)
{
    long pid;
    char *end;

    (void)base;
    if (!handle || strncmp(handle, "pid:", 4) != 0)
        return 0;
    pid = strtol(handle + 4, &end, 10);
    if (*end != '\0' || pid <= 1)
        return 0;
    /* The pid may since belong to another process: only a worker running
     * this very pack file is ours to end. */
    if (!local_pid_runs((pid_t)pid, spec->pack_path))
        return 0;
    tadd_info("pack %lld: worker pid %ld from an earlier daemon is still "
              "running; asking it to save and stop",
              (long long)spec->pack_id, pid);
    kill((pid_t)pid, SIGTERM);
    if (local_wait_gone((pid_t)pid, spec->pack_path, 30000))
        return 0;
    tadd_warn("pack %lld: worker pid %ld ignored SIGTERM; killing it",
              (long long)spec->pack_id, pid);
    kill((pid_t)pid, SIGKILL);
    if (local_wait_gone((pid_t)pid, spec->pack_path, 5000))
        return 0;
    tadd_msgf(err, errlen, "worker pid %ld of pack %lld does not go away",
             pid, (long long)spec->pack_id);
    return -1;
}

static void local_destroy(struct tadd_executor *base)
{
    struct local_executor *ex = (struct local_executor *)base;

    if (!ex)
        return;
    free(ex->worker_path);
    free(ex->home);
    free(ex);
}

static const struct tadd_executor_ops local_ops = {
    .name = "local",
    .start = local_start,
    .stop = local_stop,
    .reclaim = local_reclaim,
    .destroy = local_destroy,
};

struct tadd_executor *tadd_executor_local_new(uv_loop_t *loop,
                                              const char *worker_path,
                                              const char *home, char *err,
                                              size_t errlen)
{
    struct local_executor *ex = calloc(1, sizeof(*ex));

    if (!ex) {
        tadd_msgf(err, errlen, "out of memory");
        return NULL;
    }
    ex->base.ops = &local_ops;
    ex->loop = loop;
    ex->worker_path = strdup(worker_path);
    ex->home = strdup(home);
    if (!ex->worker_path || !ex->home) {
        tadd_msgf(err, errlen, "out of memory");
        local_destroy(&ex->base);
        return NULL;
    }
    return &ex->base;
}
