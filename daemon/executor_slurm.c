/*
 * The slurm executor: each pack's worker is a Slurm batch job.
 *
 * start writes the job script into the pack's folder (slurm_job.c) and
 * runs sbatch --parsable on it; the job's worker appends its stdout events
 * to progress.<job id>.jsonl there, which the daemon reads over the shared
 * file system. Every Slurm command is spawned with uv_spawn from an
 * argument vector (no shell) and read asynchronously, so the loop never
 * waits on the controller; only adopt, which runs before the daemon
 * serves anything, waits for one.
 *
 * A run's phases:
 *
 *   start ----> SUBMITTING --sbatch printed the id--> TRACKED --ended--+
 *                   |                                    ^             |
 *                   +--sbatch failed--+                  |             v
 *                                     v                  |        drained,
 *   adopt("slurm:<id>") --------------|------------------+        on_exit,
 *   adopt(other) --a live job has the pack's name--------+        freed
 *                                     |
 *                                     +--> on_exit (status -1), freed
 *
 * While TRACKED, the tail timer hands the new complete lines of the
 * progress file to on_line, and the poll timer runs one squeue for every
 * tracked job; a job squeue shows ended, or does not show, is looked up
 * with scontrol show job, then sacct -c (the jobcomp file, for clusters
 * without slurmdbd), then sacct. An ended job's file is read to its end
 * and the end reported. A job no command knows SLURM_LOST_POLLS polls in a
 * row is reported lost.
 *
 * Invariants:
 *   1. on_exit is called once per run, after its last line, and the run
 *      is freed when it returns.
 *   2. At most one command that refers to a run is in flight (run->cmd,
 *      or run->in_round while the round's squeue runs); runs are finished
 *      only from those commands' callbacks or before any is started, so
 *      no command outlives its run. scancel commands refer to no run.
 *   3. A job is cancelled only through stop(); the daemon never submits a
 *      second job for a run.
 *
 * Handles: "slurm:<job id>" once sbatch has answered, "slurm:submitting"
 * before.
 */
#include "executor_slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "linebuf.h"
#include "log.h"
#include "slurm_parse.h"

#define SLURM_CMD_TIMEOUT_MS 60000  /* a command hung on the controller */
#define SLURM_CMD_OUT_MAX (4u << 20) /* bytes kept of a command's output */
#define SLURM_LINE_MAX (8u << 20)    /* as the local executor's */
#define SLURM_TAIL_MAX_MS 1000       /* longest wait between file reads */
#define SLURM_SOON_MS 500            /* a poll after a stop or an adoption */
#define SLURM_LOST_POLLS 3
#define SLURM_READ_CHUNK 65536

enum slurm_phase { PHASE_SUBMITTING, PHASE_TRACKED };

/* Which lookup of an ended or unseen job runs. */
enum slurm_detail { DETAIL_SCONTROL, DETAIL_SACCT_COMP, DETAIL_SACCT };

struct slurm_cmd;
typedef void (*slurm_cmd_fn)(struct slurm_cmd *c);

/* Bytes a command printed. */
struct slurm_buf {
    char *p;
    size_t len, cap;
    int cut; /* more than SLURM_CMD_OUT_MAX came */
};

/* One Slurm command in flight. */
struct slurm_cmd {
    uv_process_t proc;
    uv_pipe_t out, err;
    uv_timer_t timer;
    struct slurm_buf obuf, ebuf;
    int64_t status;
    int sig;
    int exited, out_done, err_done, reported;
    int open_handles;
    slurm_cmd_fn done;
    void *data;
    enum slurm_detail detail;
    char what[16];            /* the program, for messages */
    struct slurm_cmd **list;  /* the list holding it, or NULL */
    struct slurm_cmd *next;
};

struct slurm_executor {
    struct tadd_executor base;
    uv_loop_t *loop;
    char *worker_path;
    char *home;
    struct tadd_slurm_settings *set;
    char uid[24];
    uv_timer_t poll_timer;
    uv_timer_t tail_timer;
    int timers_on;
    int round_busy;          /* the round's squeue is in flight */
    int squeue_failing;      /* warned about squeue failing */
    struct tadd_exec_run *runs;
    struct slurm_cmd *cmds;  /* every command in flight */
};

struct tadd_exec_run {
    struct slurm_executor *ex;
    struct tadd_exec_callbacks cb;
    void *ctx;
    enum slurm_phase phase;
    int64_t pack_id;
    int64_t job_id;                    /* 0 until known */
    char job_name[64];
    char pack_dir[PATH_MAX];           /* relative to the home */
    char progress[PATH_MAX * 2 + 64];  /* absolute, once job_id is known */
    off_t offset;                      /* bytes of it already handed on */
    char state[TADD_SLURM_STATE_LEN];  /* Slurm's last word on the job */
    char reason[TADD_SLURM_REASON_LEN];
    struct tadd_linebuf lines;         /* the progress file, in lines */
    int read_failing; /* warned that the progress file cannot be read */
    int stops;        /* stop() calls so far */
    int stops_sent;   /* of them, passed on to scancel */
    int unseen;       /* polls in a row no command knew the job */
    int in_round;     /* part of the squeue round in flight */
    struct slurm_cmd *cmd;
    struct tadd_exec_run *next;
};

/* ---- commands ---- */

static void slurm_buf_add(struct slurm_buf *b, const char *p, size_t n)
{
    if (b->len + n > SLURM_CMD_OUT_MAX) {
        b->cut = 1;
        n = SLURM_CMD_OUT_MAX - b->len;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *q;
        while (cap < b->len + n + 1)
            cap *= 2;
        q = realloc(b->p, cap);
        if (!q) {
            b->cut = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* The text of b, "" when nothing came. */
static const char *slurm_buf_text(const struct slurm_buf *b)
{
    return b->p ? b->p : "";
}

static void slurm_cmd_closed(uv_handle_t *h)
{
    struct slurm_cmd *c = h->data;

    if (--c->open_handles > 0)
        return;
    if (c->list) {
        struct slurm_cmd **pp = c->list;
        while (*pp && *pp != c)
            pp = &(*pp)->next;
        if (*pp)
            *pp = c->next;
    }
    free(c->obuf.p);
    free(c->ebuf.p);
    free(c);
}

static void slurm_cmd_close(struct slurm_cmd *c)
{
    uv_close((uv_handle_t *)&c->proc, slurm_cmd_closed);
    uv_close((uv_handle_t *)&c->out, slurm_cmd_closed);
    uv_close((uv_handle_t *)&c->err, slurm_cmd_closed);
    uv_close((uv_handle_t *)&c->timer, slurm_cmd_closed);
}

/* Reports the command once it has exited and both pipes are drained. */
static void slurm_cmd_maybe_done(struct slurm_cmd *c)
{
    if (!c->exited || !c->out_done || !c->err_done || c->reported)
        return;
    c->reported = 1;
    uv_timer_stop(&c->timer);
    c->done(c);
    slurm_cmd_close(c);
}

static void slurm_cmd_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void slurm_cmd_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct slurm_cmd *c = s->data;
    int is_out = s == (uv_stream_t *)&c->out;

    if (nread > 0)
        slurm_buf_add(is_out ? &c->obuf : &c->ebuf, buf->base,
                      (size_t)nread);
    free(buf->base);
    if (nread < 0) {
        uv_read_stop(s);
        if (is_out)
            c->out_done = 1;
        else
            c->err_done = 1;
        slurm_cmd_maybe_done(c);
    }
}

static void slurm_cmd_exited(uv_process_t *p, int64_t status, int sig)
{
    struct slurm_cmd *c = p->data;

    c->status = status;
    c->sig = sig;
    c->exited = 1;
    slurm_cmd_maybe_done(c);
}

static void slurm_cmd_overdue(uv_timer_t *t)
{
    struct slurm_cmd *c = t->data;

    tadd_warn("%s did not answer within %d s; killing it", c->what,
              SLURM_CMD_TIMEOUT_MS / 1000);
    uv_process_kill(&c->proc, SIGKILL);
}

/*
 * Starts argv[0] (found on PATH) with its output collected; done runs
 * once it has ended, and the command is freed after it returns. list, if
 * not NULL, holds the command while it lives. Returns the command, or
 * NULL with a message in err when it could not be started (done is then
 * never called).
 */
static struct slurm_cmd *slurm_cmd_start(uv_loop_t *loop,
                                         struct slurm_cmd **list,
                                         char *const *argv, slurm_cmd_fn done,
                                         void *data, char *err, size_t errlen)
{
    struct slurm_cmd *c = calloc(1, sizeof(*c));
    uv_process_options_t opt;
    uv_stdio_container_t stdio[3];
    int rc;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(c->what, sizeof(c->what), "%s", argv[0]);
    c->done = done;
    c->data = data;
    c->proc.data = c->out.data = c->err.data = c->timer.data = c;
    uv_pipe_init(loop, &c->out, 0);
    uv_pipe_init(loop, &c->err, 0);
    uv_timer_init(loop, &c->timer);
    c->open_handles = 4;
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&c->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&c->err;
    memset(&opt, 0, sizeof(opt));
    opt.file = argv[0];
    opt.args = (char **)argv;
    opt.exit_cb = slurm_cmd_exited;
    opt.stdio = stdio;
    opt.stdio_count = 3;
    rc = uv_spawn(loop, &c->proc, &opt);
    if (rc != 0) {
        snprintf(err, errlen, "cannot run %s: %s", argv[0], uv_strerror(rc));
        /* The handles are closed and c freed by their callbacks. */
        slurm_cmd_close(c);
        return NULL;
    }
    if (uv_read_start((uv_stream_t *)&c->out, slurm_cmd_alloc,
                      slurm_cmd_read) != 0)
        c->out_done = 1;
    if (uv_read_start((uv_stream_t *)&c->err, slurm_cmd_alloc,
                      slurm_cmd_read) != 0)
        c->err_done = 1;
    uv_timer_start(&c->timer, slurm_cmd_overdue, SLURM_CMD_TIMEOUT_MS, 0);
    if (list) {
        c->list = list;
        c->next = *list;
        *list = c;
    }
    return c;
}

/* 1 when the command exited with status 0. */
static int slurm_cmd_ok(const struct slurm_cmd *c)
{
    return c->sig == 0 && c->status == 0;
}

/* The first line of what the command printed on stderr, for messages. */
static void slurm_cmd_stderr_line(const struct slurm_cmd *c, char *buf,
                                  size_t len)
{
    const char *t = slurm_buf_text(&c->ebuf);
    const char *last = t;

    /* The last non-empty line says why; sbatch prints its context
     * first. */
    for (const char *p = t; *p; p++)
        if (p[0] == '\n' && p[1] && p[1] != '\n')
            last = p + 1;
    snprintf(buf, len, "%.*s", (int)strcspn(last, "\n"), last);
    if (!buf[0]) {
        if (c->sig)
            snprintf(buf, len, "%s killed by signal %d", c->what, c->sig);
        else
            snprintf(buf, len, "%s exited with status %" PRId64, c->what,
                     c->status);
    }
}

/* 1 when the controller said it does not know the job. */
static int slurm_cmd_job_unknown(const struct slurm_cmd *c)
{
    return strstr(slurm_buf_text(&c->ebuf), "Invalid job id") != NULL;
}

/* What slurm_cmd_run_sync collects. */
struct slurm_sync {
    int ran;
    int64_t status;
    int sig;
    char *out;
    char *err;
};

static char *slurm_strdup_or_empty(const char *s)
{
    char *p = strdup(s);
    return p ? p : calloc(1, 1);
}

static void slurm_sync_done(struct slurm_cmd *c)
{
    struct slurm_sync *r = c->data;

    r->ran = 1;
    r->status = c->status;
    r->sig = c->sig;
    r->out = slurm_strdup_or_empty(slurm_buf_text(&c->obuf));
    r->err = slurm_strdup_or_empty(slurm_buf_text(&c->ebuf));
}

/*
 * Runs a command to its end on a loop of its own, for the moments before
 * the daemon's loop serves anyone. Returns 0 with r filled (free r->out
 * and r->err), or -1 with a message when it could not be run.
 */
static int slurm_cmd_run_sync(char *const *argv, struct slurm_sync *r,
                              char *err, size_t errlen)
{
    uv_loop_t loop;
    int started;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    if (uv_loop_init(&loop) != 0) {
        snprintf(err, errlen, "cannot create an event loop");
        return -1;
    }
    started = slurm_cmd_start(&loop, NULL, argv, slurm_sync_done, r, err,
                              errlen) != NULL;
    /* Runs the command, or the closing of its handles when it could not
     * be started. */
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (started) {
        rc = r->ran && r->out && r->err ? 0 : -1;
        if (rc != 0)
            snprintf(err, errlen, "out of memory running %s", argv[0]);
    }
    if (rc != 0) {
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
    }
    return rc;
}

/* ---- timers ---- */

static void slurm_poll_tick(uv_timer_t *t);
static void slurm_tail_tick(uv_timer_t *t);

static uint64_t slurm_poll_ms(const struct slurm_executor *ex)
{
    return (uint64_t)(ex->set->poll_interval * 1000.0);
}

static void slurm_timers_start(struct slurm_executor *ex)
{
    uint64_t poll = slurm_poll_ms(ex);
    uint64_t tail = poll < SLURM_TAIL_MAX_MS ? poll : SLURM_TAIL_MAX_MS;

    if (ex->timers_on)
        return;
    ex->timers_on = 1;
    uv_timer_start(&ex->poll_timer, slurm_poll_tick, poll, poll);
    uv_timer_start(&ex->tail_timer, slurm_tail_tick, tail, tail);
}

static void slurm_timers_stop(struct slurm_executor *ex)
{
    if (!ex->timers_on)
        return;
    ex->timers_on = 0;
    uv_timer_stop(&ex->poll_timer);
    uv_timer_stop(&ex->tail_timer);
}

/* Brings the next poll forward to SLURM_SOON_MS from now, so that a stop
 * or an adoption is seen through without a whole poll interval. */
static void slurm_poll_soon(struct slurm_executor *ex)
{
    uint64_t poll = slurm_poll_ms(ex);

    slurm_timers_start(ex);
    if (uv_timer_get_due_in(&ex->poll_timer) > SLURM_SOON_MS)
        uv_timer_start(&ex->poll_timer, slurm_poll_tick, SLURM_SOON_MS, poll);
}

/* ---- progress lines ---- */

static void slurm_on_line(void *user, const char *line, size_t len)
{
    struct tadd_exec_run *run = user;

    run->cb.on_line(run->ctx, run, line, len);
}

/*
 * Hands on what the progress file gained since the last read. The file
 * is opened afresh each time: on NFS, an open is what makes another
 * node's writes visible. all: read to the end, not just a tick's worth,
 * and emit a last line that lacks its newline (the job has ended).
 */
static void slurm_tail_read(struct tadd_exec_run *run, int all)
{
    char *buf;
    size_t budget = all ? SIZE_MAX : (4u << 20);
    int fd;

    if (run->phase != PHASE_TRACKED)
        return;
    fd = open(run->progress, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        /* No file yet: the job has not started. */
        if (errno != ENOENT && !run->read_failing) {
            tadd_warn("pack %" PRId64 ": cannot read %s: %s", run->pack_id,
                      run->progress, strerror(errno));
            run->read_failing = 1;
        }
        return;
    }
    run->read_failing = 0;
    buf = malloc(SLURM_READ_CHUNK);
    while (buf && budget > 0) {
        ssize_t n = pread(fd, buf, SLURM_READ_CHUNK, run->offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        run->offset += n;
        budget = (size_t)n > budget ? 0 : budget - (size_t)n;
        if (tadd_linebuf_feed(&run->lines, buf, (size_t)n, slurm_on_line,
                              run) > 0)
            tadd_warn("pack %" PRId64 ": dropping a progress line over "
                      "%u bytes", run->pack_id, SLURM_LINE_MAX);
    }
    free(buf);
    close(fd);
    if (all)
        tadd_linebuf_flush(&run->lines, slurm_on_line, run);
}

static void slurm_tail_tick(uv_timer_t *t)
{
    struct slurm_executor *ex = t->data;

    struct tadd_exec_run *next;

    for (struct tadd_exec_run *run = ex->runs; run; run = next) {
        next = run->next;
        slurm_tail_read(run, 0);
    }
}

/* ---- the end of a run ---- */

static void slurm_run_unlink(struct tadd_exec_run *run)
{
    struct slurm_executor *ex = run->ex;
    struct tadd_exec_run **pp = &ex->runs;

    while (*pp && *pp != run)
        pp = &(*pp)->next;
    if (*pp)
        *pp = run->next;
    if (!ex->runs)
        slurm_timers_stop(ex);
}

/* Reports the run's end (after the rest of its lines) and frees it. */
static void slurm_run_report(struct tadd_exec_run *run,
                             const struct tadd_exec_exit *result)
{
    slurm_tail_read(run, 1);
    slurm_run_unlink(run);
    run->cb.on_exit(run->ctx, run, result);
    tadd_linebuf_free(&run->lines);
    free(run);
}

/* The job has ended as job says. */
static void slurm_run_ended(struct tadd_exec_run *run,
                            const struct tadd_slurm_job *job)
{
    struct tadd_exec_exit result;
    char reason[sizeof(result.reason)];

    tadd_slurm_job_exit(job, run->stops > 0, &result, reason,
                        sizeof(reason));
    snprintf(result.reason, sizeof(result.reason), "%s", reason);
    tadd_info("pack %" PRId64 ": Slurm job %" PRId64 " ended %s, exit code "
              "%d:%d", run->pack_id, run->job_id, job->state,
              job->exit_code, job->exit_signal);
    slurm_run_report(run, &result);
}

/* The run ends without a job: sbatch failed, or the job is lost. */
static void slurm_run_failed(struct tadd_exec_run *run, int64_t status,
                             const char *why)
{
    struct tadd_exec_exit result;

    memset(&result, 0, sizeof(result));
    result.exit_status = status;
    result.stop_requested = run->stops > 0;
    snprintf(result.reason, sizeof(result.reason), "%s", why);
    tadd_warn("pack %" PRId64 ": %s", run->pack_id, why);
    slurm_run_report(run, &result);
}

/* ---- cancelling ---- */

static void slurm_scancel_done(struct slurm_cmd *c)
{
    char msg[256];

    if (slurm_cmd_ok(c))
        return;
    slurm_cmd_stderr_line(c, msg, sizeof(msg));
    tadd_warn("scancel: %s", msg);
}

/* Passes stop requests on to Slurm once the job id is known. */
static void slurm_run_send_stops(struct tadd_exec_run *run)
{
    struct slurm_executor *ex = run->ex;
    char id[32];
    char err[256];
    char *argv[6];
    int n = 0;

    if (run->phase != PHASE_TRACKED || run->stops_sent >= run->stops)
        return;
    snprintf(id, sizeof(id), "%" PRId64, run->job_id);
    argv[n++] = "scancel";
    /* The first request ends the job the way Slurm ends any: SIGTERM to
     * all its processes, so the worker saves its state, then SIGKILL
     * after KillWait. A second means the worker did not stop in time. */
    if (run->stops >= 2) {
        argv[n++] = "--signal=KILL";
        argv[n++] = "--full";
    }
    argv[n++] = id;
    argv[n] = NULL;
    run->stops_sent = run->stops;
    tadd_info("pack %" PRId64 ": scancel%s %s", run->pack_id,
              run->stops >= 2 ? " --signal=KILL" : "", id);
    if (!slurm_cmd_start(ex->loop, &ex->cmds, argv, slurm_scancel_done, NULL,
                         err, sizeof(err)))
        tadd_error("pack %" PRId64 ": %s", run->pack_id, err);
    slurm_poll_soon(ex);
}

/* ---- polling ---- */

static void slurm_run_seen(struct tadd_exec_run *run,
                           const struct tadd_slurm_job *job)
{
    run->unseen = 0;
    if (strcmp(run->state, job->state) != 0)
        tadd_info("pack %" PRId64 ": Slurm job %" PRId64 " %s%s%s%s",
                  run->pack_id, run->job_id, job->state,
                  job->reason[0] && strcmp(job->reason, "None") ? " (" : "",
                  strcmp(job->reason, "None") ? job->reason : "",
                  job->reason[0] && strcmp(job->reason, "None") ? ")" : "");
    snprintf(run->state, sizeof(run->state), "%s", job->state);
    snprintf(run->reason, sizeof(run->reason), "%s", job->reason);
}

static void slurm_detail_start(struct tadd_exec_run *run,
                               enum slurm_detail detail);

static void slurm_detail_done(struct slurm_cmd *c)
{
    struct tadd_exec_run *run = c->data;
    struct tadd_slurm_job job;
    char err[512];
    const char *out = slurm_buf_text(&c->obuf);
    int found = 0;

    run->cmd = NULL;
    if (c->detail == DETAIL_SCONTROL) {
        if (!slurm_cmd_ok(c) && !slurm_cmd_job_unknown(c)) {
            /* The controller did not answer: ask again next poll. */
            slurm_cmd_stderr_line(c, err, sizeof(err));
            tadd_warn("pack %" PRId64 ": scontrol show job %" PRId64 ": %s",
                      run->pack_id, run->job_id, err);
            return;
        }
        if (slurm_cmd_ok(c))
            found = tadd_slurm_parse_scontrol(out, run->job_id, &job, err,
                                              sizeof(err));
    } else if (slurm_cmd_ok(c)) {
        found = tadd_slurm_parse_sacct(out, run->job_id, &job, err,
                                       sizeof(err));
    }
    if (found < 0) {
        tadd_warn("pack %" PRId64 ": %s", run->pack_id, err);
        found = 0;
    }
    if (found && tadd_slurm_state_class(job.state) == TADD_SLURM_LIVE) {
        slurm_run_seen(run, &job);
        return;
    }
    if (found) {
        slurm_run_ended(run, &job);
        return;
    }
    if (c->detail != DETAIL_SACCT) {
        slurm_detail_start(run, (enum slurm_detail)(c->detail + 1));
        return;
    }
    if (++run->unseen >= SLURM_LOST_POLLS) {
        snprintf(err, sizeof(err),
                 "Slurm job %" PRId64 " is lost: squeue, scontrol and sacct "
                 "have not known it for %d polls", run->job_id,
                 SLURM_LOST_POLLS);
        slurm_run_failed(run, 0, err);
    }
}

/* Looks the job up with scontrol, sacct -c or sacct. On failure to start
 * the command, the next poll tries again. */
static void slurm_detail_start(struct tadd_exec_run *run,
                               enum slurm_detail detail)
{
    struct slurm_executor *ex = run->ex;
    char id[32];
    char err[256];
    char *scontrol[] = {"scontrol", "show", "job", id, NULL};
    char *sacct_comp[] = {"sacct", "-c", "-n", "-P", "-o",
                          "jobid,state,exitcode", "-j", id, NULL};
    char *sacct[] = {"sacct", "-n", "-P", "-o", "jobid,state,exitcode",
                     "-j", id, NULL};
    char **argv = detail == DETAIL_SCONTROL     ? scontrol
                  : detail == DETAIL_SACCT_COMP ? sacct_comp
                                                : sacct;

    snprintf(id, sizeof(id), "%" PRId64, run->job_id);
    run->cmd = slurm_cmd_start(ex->loop, &ex->cmds, argv, slurm_detail_done,
                               run, err, sizeof(err));
    if (run->cmd)
        run->cmd->detail = detail;
    else
        tadd_error("pack %" PRId64 ": %s", run->pack_id, err);
}

static void slurm_squeue_done(struct slurm_cmd *c)
{
    struct slurm_executor *ex = c->data;
    struct tadd_slurm_job *jobs = NULL;
    int64_t *ids = NULL;
    size_t n_ids = 0, n_jobs = 0;
    char err[512];
    int ok = slurm_cmd_ok(c);
    int unknown = !ok && slurm_cmd_job_unknown(c);
    struct tadd_exec_run *next;

    ex->round_busy = 0;
    for (struct tadd_exec_run *run = ex->runs; run; run = run->next)
        n_ids += run->in_round;
    ids = calloc(n_ids + 1, sizeof(*ids));
    jobs = calloc(n_ids + 1, sizeof(*jobs));
    n_ids = 0;
    for (struct tadd_exec_run *run = ex->runs; run && ids; run = run->next)
        if (run->in_round)
            ids[n_ids++] = run->job_id;
    if (!ok && !unknown) {
        slurm_cmd_stderr_line(c, err, sizeof(err));
        if (!ex->squeue_failing)
            tadd_warn("squeue: %s; asking again every %.1f s", err,
                      ex->set->poll_interval);
        ex->squeue_failing = 1;
    } else if (ok && ids && jobs &&
               tadd_slurm_parse_squeue(slurm_buf_text(&c->obuf), ids, n_ids,
                                       jobs, n_ids, &n_jobs, err,
                                       sizeof(err)) != 0) {
        tadd_warn("%s", err);
        ok = 0;
        unknown = 0;
    } else if (ex->squeue_failing) {
        tadd_info("squeue answers again");
        ex->squeue_failing = 0;
    }
    /* A run finished below is unlinked: take next first. */
    for (struct tadd_exec_run *run = ex->runs; run; run = next) {
        const struct tadd_slurm_job *j = NULL;

        next = run->next;
        if (!run->in_round)
            continue;
        run->in_round = 0;
        if (!ok && !unknown)
            continue;
        for (size_t i = 0; i < n_jobs; i++)
            if (jobs[i].id == run->job_id)
                j = &jobs[i];
        if (j && tadd_slurm_state_class(j->state) == TADD_SLURM_LIVE) {
            slurm_run_seen(run, j);
            continue;
        }
        /* Ended, or gone from the controller's list: its exit code and
         * final state come from scontrol or sacct. */
        slurm_detail_start(run, DETAIL_SCONTROL);
    }
    free(ids);
    free(jobs);
}

static void slurm_poll_tick(uv_timer_t *t)
{
    struct slurm_executor *ex = t->data;
    char *list = NULL;
    size_t len = 0, cap = 0;
    char err[256];
    int n = 0;

    if (ex->round_busy)
        return;
    for (struct tadd_exec_run *run = ex->runs; run; run = run->next) {
        char id[24];
        int k;

        if (run->phase != PHASE_TRACKED || run->cmd)
            continue;
        k = snprintf(id, sizeof(id), "%s%" PRId64, n ? "," : "",
                     run->job_id);
        if (len + (size_t)k + 1 > cap) {
            char *p;
            cap = cap ? cap * 2 : 256;
            p = realloc(list, cap);
            if (!p) {
                free(list);
                tadd_error("out of memory polling Slurm");
                return;
            }
            list = p;
        }
        memcpy(list + len, id, (size_t)k + 1);
        len += (size_t)k;
        run->in_round = 1;
        n++;
    }
    if (n == 0) {
        free(list);
        return;
    }
    {
        char *argv[] = {"squeue", "-h", "-t", "all", "-j", list, "-o",
                        "%i|%T|%r", NULL};

        if (slurm_cmd_start(ex->loop, &ex->cmds, argv, slurm_squeue_done, ex,
                            err, sizeof(err))) {
            ex->round_busy = 1;
        } else {
            tadd_error("%s", err);
            for (struct tadd_exec_run *run = ex->runs; run; run = run->next)
                run->in_round = 0;
        }
    }
    free(list);
}

/* ---- starting ---- */

/* The job id is known: the run is tracked from now on. announce: the
 * daemon does not have the id yet. */
static void slurm_run_track(struct tadd_exec_run *run, int64_t job_id,
                            int announce)
{
    char handle[TADD_EXEC_HANDLE_LEN];
    char rel[PATH_MAX + 64];

    run->job_id = job_id;
    run->phase = PHASE_TRACKED;
    tadd_slurm_progress_path(rel, sizeof(rel), run->pack_dir, job_id);
    snprintf(run->progress, sizeof(run->progress), "%s/%s", run->ex->home,
             rel);
    snprintf(handle, sizeof(handle), "slurm:%" PRId64, job_id);
    if (announce && run->cb.on_handle)
        run->cb.on_handle(run->ctx, run, handle);
    /* A first look soon, so that status shows the job's state (a job
     * that can never start says why: "PENDING (PartitionConfig)"). */
    slurm_poll_soon(run->ex);
}

static void slurm_sbatch_done(struct slurm_cmd *c)
{
    struct tadd_exec_run *run = c->data;
    char err[512];
    char why[600];
    int64_t id;

    run->cmd = NULL;
    if (!slurm_cmd_ok(c)) {
        slurm_cmd_stderr_line(c, err, sizeof(err));
        snprintf(why, sizeof(why), "sbatch failed: %s", err);
        slurm_run_failed(run, -1, why);
        return;
    }
    if (tadd_slurm_parse_sbatch(slurm_buf_text(&c->obuf), &id, err,
                                sizeof(err)) != 0) {
        slurm_run_failed(run, -1, err);
        return;
    }
    tadd_info("pack %" PRId64 ": submitted as Slurm job %" PRId64
              " (%s)", run->pack_id, id, run->job_name);
    slurm_run_track(run, id, 1);
    slurm_run_send_stops(run);
}

/* A new run for spec, not yet linked. Returns NULL on OOM or a pack path
 * without a folder. */
static struct tadd_exec_run *slurm_run_new(struct slurm_executor *ex,
                                           const struct tadd_exec_spec *spec,
                                           const struct tadd_exec_callbacks
                                               *cb,
                                           void *ctx, char *err,
                                           size_t errlen)
{
    struct tadd_exec_run *run;
    const char *slash = strrchr(spec->pack_path, '/');

    if (!slash || (size_t)(slash - spec->pack_path) >= PATH_MAX) {
        snprintf(err, errlen, "pack file %s is not inside a pack folder",
                 spec->pack_path);
        return NULL;
    }
    run = calloc(1, sizeof(*run));
    if (run)
        tadd_linebuf_init(&run->lines, SLURM_LINE_MAX);
    if (!run) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    run->ex = ex;
    run->cb = *cb;
    run->ctx = ctx;
    run->pack_id = spec->pack_id;
    snprintf(run->pack_dir, sizeof(run->pack_dir), "%.*s",
             (int)(slash - spec->pack_path), spec->pack_path);
    tadd_slurm_job_name(run->job_name, sizeof(run->job_name), ex->home,
                        spec->pack_id);
    return run;
}

static void slurm_run_link(struct tadd_exec_run *run)
{
    run->next = run->ex->runs;
    run->ex->runs = run;
}

/* Writes the pack's job script; returns its absolute path in path. */
static int slurm_write_script(struct slurm_executor *ex,
                              const struct tadd_exec_run *run,
                              const struct tadd_exec_spec *spec, char *path,
                              size_t path_len, char *err, size_t errlen)
{
    struct tadd_slurm_script sc = {
        .pack_id = spec->pack_id,
        .home = ex->home,
        .worker_path = ex->worker_path,
        .pack_path = spec->pack_path,
        .pack_dir = run->pack_dir,
        .threads = ex->set->cpus_per_pack,
    };
    char *text = NULL;
    int rc;

    snprintf(path, path_len, "%s/%s/job.sh", ex->home, run->pack_dir);
    if (tadd_slurm_script_text(&sc, &text, err, errlen) != 0)
        return -1;
    rc = tadd_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

static int slurm_start(struct tadd_executor *base,
                       const struct tadd_exec_spec *spec,
                       const struct tadd_exec_callbacks *cb, void *ctx,
                       struct tadd_exec_run **out, char *handle, char *err,
                       size_t errlen)
{
    struct slurm_executor *ex = (struct slurm_executor *)base;
    struct tadd_exec_run *run;
    struct tadd_slurm_submit sub;
    char script[PATH_MAX + 32];
    char log_abs[PATH_MAX * 2];
    char **argv = NULL;
    int rc = -1;

    *out = NULL;
    run = slurm_run_new(ex, spec, cb, ctx, err, errlen);
    if (!run)
        return -1;
    if (slurm_write_script(ex, run, spec, script, sizeof(script), err,
                           errlen) != 0)
        goto cleanup;
    snprintf(log_abs, sizeof(log_abs), "%s/%s", ex->home, spec->log_path);
    sub.job_name = run->job_name;
    sub.home = ex->home;
    sub.log_path = log_abs;
    sub.script_path = script;
    if (tadd_slurm_sbatch_argv(ex->set, &sub, &argv, err, errlen) != 0)
        goto cleanup;
    run->phase = PHASE_SUBMITTING;
    run->cmd = slurm_cmd_start(ex->loop, &ex->cmds, argv, slurm_sbatch_done,
                               run, err, errlen);
    if (!run->cmd)
        goto cleanup;
    slurm_run_link(run);
    snprintf(handle, TADD_EXEC_HANDLE_LEN, "slurm:submitting");
    *out = run;
    run = NULL;
    rc = 0;
cleanup:
    tadd_slurm_argv_free(argv);
    free(run);
    return rc;
}

static int slurm_stop(struct tadd_executor *base, struct tadd_exec_run *run)
{
    (void)base;
    run->stops++;
    /* While sbatch runs there is no id yet: sbatch_done sends it. */
    slurm_run_send_stops(run);
    return 0;
}

/* The job id in a "slurm:<id>" handle, or 0. */
static int64_t slurm_handle_id(const char *handle)
{
    int64_t id = 0;
    char err[128];

    if (!handle || strncmp(handle, "slurm:", 6) != 0 ||
        tadd_slurm_parse_sbatch(handle + 6, &id, err, sizeof(err)) != 0)
        return 0;
    return id;
}

/*
 * A live job of this user named like the pack's jobs, for a pack whose
 * job id was never recorded (the daemon stopped while sbatch ran).
 * Returns 0 with *id (0 when there is none), or -1 with a message.
 */
static int slurm_find_by_name(struct slurm_executor *ex,
                              const struct tadd_exec_run *run, int64_t *id,
                              char *err, size_t errlen)
{
    char *argv[] = {"squeue", "-h", "-u", ex->uid, "-n",
                    (char *)run->job_name, "-o", "%i|%T|%r", NULL};
    struct tadd_slurm_job jobs[16];
    struct slurm_sync r;
    size_t n = 0;
    int rc;

    *id = 0;
    if (slurm_cmd_run_sync(argv, &r, err, errlen) != 0)
        return -1;
    if (r.sig != 0 || r.status != 0) {
        snprintf(err, errlen, "squeue -n %s: %.*s", run->job_name,
                 (int)strcspn(r.err, "\n"), r.err);
        rc = -1;
    } else {
        rc = tadd_slurm_parse_squeue(r.out, NULL, 0, jobs, 16, &n, err,
                                     errlen);
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (tadd_slurm_state_class(jobs[i].state) == TADD_SLURM_LIVE &&
            jobs[i].id > *id)
            *id = jobs[i].id;
    free(r.out);
    free(r.err);
    return rc;
}

static int slurm_adopt(struct tadd_executor *base, const char *handle,
                       const struct tadd_exec_spec *spec,
                       const struct tadd_exec_callbacks *cb, void *ctx,
                       struct tadd_exec_run **out, char *err, size_t errlen)
{
    struct slurm_executor *ex = (struct slurm_executor *)base;
    struct tadd_exec_run *run;
    int64_t id = slurm_handle_id(handle);
    int recorded = id != 0;

    *out = NULL;
    if (handle && strncmp(handle, "pid:", 4) == 0) {
        long pid = strtol(handle + 4, NULL, 10);
        /* A worker of the local executor may still write this pack. */
        if (pid > 1 && kill((pid_t)pid, 0) == 0) {
            snprintf(err, errlen,
                     "pack %" PRId64 " was left running by the local "
                     "executor as pid %ld; end it, or start taddd with the "
                     "local executor once", spec->pack_id, pid);
            return -1;
        }
        return 0;
    }
    run = slurm_run_new(ex, spec, cb, ctx, err, errlen);
    if (!run)
        return -1;
    if (id == 0 && slurm_find_by_name(ex, run, &id, err, errlen) != 0) {
        free(run);
        return -1;
    }
    if (id == 0) {
        free(run);
        return 0;
    }
    tadd_info("pack %" PRId64 ": following Slurm job %" PRId64
              " submitted by an earlier daemon", spec->pack_id, id);
    slurm_run_link(run);
    slurm_run_track(run, id, !recorded);
    *out = run;
    return 1;
}

/* 1 when a job's state is live per a synchronous squeue; -1 when squeue
 * fails. */
static int slurm_job_live_sync(int64_t id, char *err, size_t errlen)
{
    char ids[32];
    char *argv[] = {"squeue", "-h", "-t", "all", "-j", ids, "-o", "%i|%T|%r",
                    NULL};
    struct tadd_slurm_job job;
    struct slurm_sync r;
    size_t n = 0;
    int live = -1;

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    if (slurm_cmd_run_sync(argv, &r, err, errlen) != 0)
        return -1;
    if (r.sig == 0 && r.status != 0 && strstr(r.err, "Invalid job id"))
        live = 0;
    else if (r.sig == 0 && r.status == 0 &&
             tadd_slurm_parse_squeue(r.out, &id, 1, &job, 1, &n, err,
                                     errlen) == 0)
        live = n == 1 &&
               tadd_slurm_state_class(job.state) == TADD_SLURM_LIVE;
    else if (r.status != 0)
        snprintf(err, errlen, "squeue: %.*s", (int)strcspn(r.err, "\n"),
                 r.err);
    free(r.out);
    free(r.err);
    return live;
}

/* Without adopt, a daemon would end an earlier daemon's job: it is
 * cancelled (the worker saves its state) and waited for. */
static int slurm_reclaim(struct tadd_executor *base, const char *handle,
                         const struct tadd_exec_spec *spec, char *err,
                         size_t errlen)
{
    int64_t id = slurm_handle_id(handle);
    char ids[32];
    char *argv[] = {"scancel", ids, NULL};
    struct slurm_sync r;
    int live;

    (void)base;
    if (id == 0)
        return 0;
    snprintf(ids, sizeof(ids), "%" PRId64, id);
    if (slurm_cmd_run_sync(argv, &r, err, errlen) != 0)
        return -1;
    free(r.out);
    free(r.err);
    for (int waited = 0; waited < 120; waited++) {
        live = slurm_job_live_sync(id, err, errlen);
        if (live <= 0)
            return live;
        usleep(500000);
    }
    snprintf(err, errlen, "Slurm job %" PRId64 " of pack %" PRId64
             " does not end after scancel", id, spec->pack_id);
    return -1;
}

static void slurm_describe(struct tadd_executor *base,
                           struct tadd_exec_run *run, char *buf, size_t len)
{
    (void)base;
    if (run->phase == PHASE_SUBMITTING) {
        snprintf(buf, len, "submitting to Slurm");
        return;
    }
    if (!run->state[0]) {
        snprintf(buf, len, "Slurm job %" PRId64, run->job_id);
        return;
    }
    if (run->reason[0] && strcmp(run->reason, "None") != 0)
        snprintf(buf, len, "Slurm job %" PRId64 " %s (%s)", run->job_id,
                 run->state, run->reason);
    else
        snprintf(buf, len, "Slurm job %" PRId64 " %s", run->job_id,
                 run->state);
}

static void slurm_destroy(struct tadd_executor *base)
{
    struct slurm_executor *ex = (struct slurm_executor *)base;

    if (!ex)
        return;
    /* The loop has closed every handle; commands still listed never
     * reported and are freed here. */
    while (ex->cmds) {
        struct slurm_cmd *c = ex->cmds;
        ex->cmds = c->next;
        free(c->obuf.p);
        free(c->ebuf.p);
        free(c);
    }
    while (ex->runs) {
        struct tadd_exec_run *run = ex->runs;
        ex->runs = run->next;
        tadd_linebuf_free(&run->lines);
        free(run);
    }
    free(ex->set);
    free(ex->worker_path);
    free(ex->home);
    free(ex);
}

static const struct tadd_executor_ops slurm_ops = {
    .name = "slurm",
    .start = slurm_start,
    .stop = slurm_stop,
    .reclaim = slurm_reclaim,
    .adopt = slurm_adopt,
    .describe = slurm_describe,
    .destroy = slurm_destroy,
};

/* 1 when name is an executable file in a folder of PATH. */
static int slurm_on_path(const char *name)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin");
    char *save = NULL;
    char cand[PATH_MAX];
    int found = 0;

    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL;
         dir && !found; dir = strtok_r(NULL, ":", &save)) {
        snprintf(cand, sizeof(cand), "%s/%s", dir, name);
        found = access(cand, X_OK) == 0;
    }
    free(copy);
    return found;
}

struct tadd_executor *tadd_executor_slurm_new(uv_loop_t *loop,
                                              const char *worker_path,
                                              const char *home,
                                              const struct tadd_slurm_settings
                                                  *set,
                                              char *err, size_t errlen)
{
    static const char *const progs[] = {"sbatch", "squeue", "scontrol",
                                        "sacct", "scancel"};
    struct slurm_executor *ex;

    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        if (!slurm_on_path(progs[i])) {
            snprintf(err, errlen,
                     "the slurm executor needs %s, which is not on PATH "
                     "(Debian: apt-get install slurm-client)", progs[i]);
            return NULL;
        }
    }
    ex = calloc(1, sizeof(*ex));
    if (!ex) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ex->base.ops = &slurm_ops;
    ex->loop = loop;
    ex->worker_path = strdup(worker_path);
    ex->home = strdup(home);
    ex->set = malloc(sizeof(*ex->set));
    if (!ex->worker_path || !ex->home || !ex->set) {
        snprintf(err, errlen, "out of memory");
        slurm_destroy(&ex->base);
        return NULL;
    }
    *ex->set = *set;
    snprintf(ex->uid, sizeof(ex->uid), "%ld", (long)getuid());
    ex->poll_timer.data = ex->tail_timer.data = ex;
    uv_timer_init(loop, &ex->poll_timer);
    uv_timer_init(loop, &ex->tail_timer);
    return &ex->base;
}
