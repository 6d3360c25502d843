#include "scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "packfile.h"
#include "queue.h"
#include "text.h"

#define SCHED_RESTART_DELAY_MS 1000
#define SCHED_REASON_LEN 1024
#define SCHED_STDERR_TAIL 3 /* lines of stderr kept in a failure reason */
/* A pack's end the database would not take (disk full, a lock held too
 * long) is written again after 1 s, then twice as long each time up to
 * 30 s: soon after space returns, without flooding the log meanwhile. */
#define SCHED_SETTLE_FIRST_MS 1000
/* How long a worker event waits for a database lock before it is kept
 * for later. */
#define SCHED_EVENT_BUSY_MS 200
#define SCHED_SETTLE_MAX_MS 30000

/* Why a worker is being stopped. */
enum sched_stop { STOP_NONE = 0, STOP_SHUTDOWN, STOP_CANCEL };

/*
 * How a pack whose worker is gone ends in the database. The pack is held
 * (and its trials stay running) until that write succeeds, so that the
 * daemon and the database never disagree about it.
 */
enum sched_settle {
    SETTLE_NONE = 0,
    SETTLE_DONE,    /* every trial has its result */
    SETTLE_FAILED,  /* settle_reason */
    SETTLE_REQUEUE, /* resumes later: settle_reason */
    SETTLE_STOP,    /* stopped on request: sched_after_stop */
};

/* A worker event line kept until the database takes it. */
struct sched_line {
    struct sched_line *next;
    size_t len;
    char text[];
};

struct sched_pack {
    struct tadd_scheduler *s;
    struct tadd_packfile pf;
    struct tadd_exec_run *run; /* NULL while waiting to restart */
    uv_timer_t timer;          /* restart delay, or stop timeout */
    enum sched_stop stop;
    int saw_end;
    int saw_stopped;
    char error[512];       /* the worker's last error event */
    off_t log_offset;      /* stderr log size when this run started */
    long step;             /* last step reported */
    long step0;            /* step this run started from */
    uint64_t t0;           /* uv_now at this run's start event */
    uint64_t t_step;       /* uv_now at the last step report */
    uint64_t t_launch;     /* uv_now at launch */
    int attempts;
    enum sched_settle settle;      /* what is left to write, once gone */
    char settle_reason[SCHED_REASON_LEN + 64];
    unsigned settle_delay_ms;      /* the last wait before a new write */
    struct sched_line *backlog;    /* events the database refused, oldest
                                    * first, to record before any other */
    struct sched_line **backlog_end;
    int backlog_len;
    uint64_t backlog_retry_at;     /* uv_now before which it waits */
    unsigned backlog_delay_ms;     /* the last wait between tries */
    struct sched_pack *next;
};

struct tadd_scheduler {
    uv_loop_t *loop;
    struct tadd_db *db;
    struct tadd_executor *ex;
    const struct tadd_settings *set;
    const char *home;
    struct tadd_scheduler_callbacks cb;
    void *ctx;
    struct sched_pack *packs; /* oldest first */
    int n_packs;
    int shutting_down;
    int halted; /* a pack's start could not be recorded */
};

static void sched_launch(struct sched_pack *sp, int restart);
static void sched_stop(struct sched_pack *sp, enum sched_stop why);

struct tadd_scheduler *tadd_scheduler_new(uv_loop_t *loop,
                                          struct tadd_db *db,
                                          struct tadd_executor *ex,
                                          const struct tadd_settings *set,
                                          const char *home,
                                          const struct tadd_scheduler_callbacks
                                              *cb,
                                          void *ctx)
{
    struct tadd_scheduler *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->loop = loop;
    s->db = db;
    s->ex = ex;
    s->set = set;
    s->home = home;
    s->cb = *cb;
    s->ctx = ctx;
    return s;
}

void tadd_scheduler_free(struct tadd_scheduler *s)
{
    free(s);
}

int tadd_scheduler_busy(const struct tadd_scheduler *s)
{
    return s->n_packs;
}

static void sched_db_error(struct tadd_scheduler *s, const char *what)
{
    tadd_error("%s: %s", what, s->db->err);
    tadd_db_clear_error(s->db);
}

static void sched_changed(struct tadd_scheduler *s, int64_t sweep_id)
{
    if (s->cb.on_change)
        s->cb.on_change(s->ctx, sweep_id);
}

/* ---- the pack list ---- */

static void sched_pack_freed(uv_handle_t *h)
{
    struct sched_pack *sp = h->data;

    while (sp->backlog) {
        struct sched_line *l = sp->backlog;
        sp->backlog = l->next;
        free(l);
    }
    tadd_packfile_free(&sp->pf);
    free(sp);
}

/* Unlinks sp and frees it once its timer is closed. */
static void sched_pack_drop(struct sched_pack *sp)
{
    struct tadd_scheduler *s = sp->s;
    struct sched_pack **pp = &s->packs;

    while (*pp && *pp != sp)
        pp = &(*pp)->next;
    if (*pp)
        *pp = sp->next;
    s->n_packs--;
    uv_timer_stop(&sp->timer);
    uv_close((uv_handle_t *)&sp->timer, sched_pack_freed);
    if (s->shutting_down && s->n_packs == 0 && s->cb.on_idle)
        s->cb.on_idle(s->ctx);
}

static struct sched_pack *sched_find(struct tadd_scheduler *s,
                                     int64_t pack_id)
{
    for (struct sched_pack *sp = s->packs; sp; sp = sp->next)
        if (sp->pf.pack_id == pack_id)
            return sp;
    return NULL;
}

/* The wait before the next try of a refused database write, after one
 * of last ms (0 for the first): doubling, within the bounds. */
static unsigned sched_next_delay(unsigned last)
{
    if (last == 0)
        return SCHED_SETTLE_FIRST_MS;
    return 2 * last > SCHED_SETTLE_MAX_MS ? SCHED_SETTLE_MAX_MS : 2 * last;
}

/* ---- worker lines ---- */

/* A number field of a worker event, NaN when absent or null. */
static double sched_num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static long sched_long(const cJSON *obj, const char *key, long dflt)
{
    double v = sched_num(obj, key);

    return isnan(v) ? dflt : (long)v;
}

/* The trial a model entry of an event is about, or 0 when its index is
 * not one of the pack's. */
static int64_t sched_trial(const struct sched_pack *sp, const cJSON *m)
{
    long idx = sched_long(m, "index", -1);

    if (idx < 0 || idx >= sp->pf.n_models)
        return 0;
    return sp->pf.trial_ids[idx];
}

static void sched_note_step(struct sched_pack *sp, long step)
{
    if (step < 0)
        return;
    sp->step = step;
    sp->t_step = uv_now(sp->s->loop);
}

static int sched_record_eval(struct sched_pack *sp, const cJSON *ev)
{
    struct tadd_db *db = sp->s->db;
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(ev, "models");
    const cJSON *m;
    long step = sched_long(ev, "step", -1);
    double elapsed = sched_num(ev, "elapsed");
    int rc;

    if (step < 0 || !cJSON_IsArray(models))
        return 0;
    rc = tadd_db_begin(db);
    cJSON_ArrayForEach(m, models) {
        int64_t trial = sched_trial(sp, m);

        if (rc != 0 || trial == 0)
            continue;
        /* A step seen again after a resume replaces its earlier row. A
         * trial cancelled meanwhile keeps it too: its worker saves its
         * state after this evaluation, so a retry resumes past it and
         * never sends it again. */
        rc = tadd_db_run(db,
                         "INSERT OR REPLACE INTO metrics (trial_id, step, "
                         "train_loss, val_exact, val_token_acc, grad_norm, "
                         "lr, elapsed_sec) SELECT ?, ?, ?, ?, ?, ?, ?, ? "
                         "WHERE (SELECT state FROM trials WHERE id = ?) IN "
                         "('running', 'cancelled')",
                         "iiddddddi", trial, (int64_t)step,
                         sched_num(m, "train_loss"), sched_num(m, "val_exact"),
                         sched_num(m, "val_token_acc"),
                         sched_num(m, "grad_norm"), sched_num(m, "lr"),
                         elapsed, trial);
        if (rc == 0)
            rc = tadd_queue_trial_progress(db, trial, step,
                                           sched_num(m, "best_val_exact"),
                                           sched_long(m, "best_step", -1));
    }
    if (rc == 0)
        rc = tadd_db_run(db, "UPDATE packs SET step = ? WHERE id = ?", "ii",
                         (int64_t)step, sp->pf.pack_id);
    if (rc == 0)
        rc = tadd_db_commit(db);
    if (rc != 0)
        tadd_db_rollback(db);
    return rc;
}

static int sched_record_end(struct sched_pack *sp, const cJSON *ev)
{
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(ev, "models");
    const cJSON *m;
    long step = sched_long(ev, "step", -1);
    double elapsed = sched_num(ev, "elapsed");

    cJSON_ArrayForEach(m, models) {
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(m, "status");
        const cJSON *success = cJSON_GetObjectItemCaseSensitive(m, "success");
        int64_t trial = sched_trial(sp, m);
        struct tadd_trial_result r;

        if (trial == 0)
            continue;
        r.diverged = cJSON_IsString(status) &&
                     strcmp(status->valuestring, "diverged") == 0;
        r.step = step;
        r.params = sched_long(m, "params", -1);
        r.best_val_exact = sched_num(m, "best_val_exact");
        r.best_step = sched_long(m, "best_step", -1);
        r.success = cJSON_IsTrue(success);
        r.first_success_step = sched_long(m, "first_success_step", -1);
        r.first_success_elapsed = sched_num(m, "first_success_elapsed");
        /* The worker writes -1 for "never". */
        if (r.first_success_step < 0)
            r.first_success_elapsed = NAN;
        r.test_exact = sched_num(m, "test_exact");
        r.elapsed_sec = elapsed;
        if (tadd_queue_trial_finished(sp->s->db, trial, &r) != 0)
            return -1;
    }
    return tadd_db_run(sp->s->db, "UPDATE packs SET step = ? WHERE id = ?",
                       "ii", (int64_t)step, sp->pf.pack_id);
}

/*
 * What a worker event changes in the database; 0 also for events that
 * change nothing there. Recording an event again after a refusal gives
 * the same rows: evaluations replace their rows, ends only finish trials
 * still running.
 */
static int sched_record_event(struct sched_pack *sp, const cJSON *ev,
                              const char *e)
{
    struct tadd_scheduler *s = sp->s;

    if (strcmp(e, "eval") == 0)
        return sched_record_eval(sp, ev);
    if (strcmp(e, "diverged") == 0) {
        int64_t trial = sched_trial(sp, ev);
        return trial ? tadd_queue_trial_diverged(s->db, trial,
                                                 sched_long(ev, "step", -1))
                     : 0;
    }
    if (strcmp(e, "checkpoint") == 0) {
        long step = sched_long(ev, "step", -1);
        return tadd_db_run(s->db,
                           "UPDATE packs SET step = ?, checkpoint_step = ? "
                           "WHERE id = ?",
                           "iii", (int64_t)step, (int64_t)step,
                           sp->pf.pack_id);
    }
    if (strcmp(e, "end") == 0)
        return sched_record_end(sp, ev);
    return 0;
}

/* 1 when event e changes the database. */
static int sched_event_records(const char *e)
{
    return strcmp(e, "eval") == 0 || strcmp(e, "diverged") == 0 ||
           strcmp(e, "checkpoint") == 0 || strcmp(e, "end") == 0;
}

/*
 * Records the backlog, oldest first, up to the first refusal. Returns 0
 * when it is empty, -1 (the database's error cleared) when lines remain.
 */
static int sched_flush_backlog(struct sched_pack *sp)
{
    struct tadd_scheduler *s = sp->s;
    int had = sp->backlog_len;

    while (sp->backlog) {
        struct sched_line *l = sp->backlog;
        cJSON *ev = cJSON_ParseWithLength(l->text, l->len);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "event");
        int rc = cJSON_IsString(name)
                     ? sched_record_event(sp, ev, name->valuestring)
                     : 0;

        cJSON_Delete(ev);
        if (rc != 0) {
            tadd_db_clear_error(s->db);
            return -1;
        }
        sp->backlog = l->next;
        if (!sp->backlog)
            sp->backlog_end = &sp->backlog;
        sp->backlog_len--;
        free(l);
    }
    if (had)
        tadd_info("pack %lld: %d worker events the database had refused "
                  "are recorded now", (long long)sp->pf.pack_id, had);
    return 0;
}

/* Keeps line for a later try; the order of events is kept. */
static void sched_backlog_add(struct sched_pack *sp, const char *line,
                              size_t len)
{
    struct sched_line *l = malloc(sizeof(*l) + len);

    if (!sp->backlog_end)
        sp->backlog_end = &sp->backlog;
    if (!l) {
        /* The progress file still has it: the next start replays it. */
        tadd_error("pack %lld: out of memory keeping a worker event",
                   (long long)sp->pf.pack_id);
        return;
    }
    l->next = NULL;
    l->len = len;
    memcpy(l->text, line, len);
    *sp->backlog_end = l;
    sp->backlog_end = &l->next;
    if (sp->backlog_len++ == 0)
        tadd_warn("pack %lld: the database refused a worker event (%s); "
                  "keeping events to record them when it takes them",
                  (long long)sp->pf.pack_id, sp->s->db->err);
}

static void sched_on_line(void *ctx, struct tadd_exec_run *run,
                          const char *line, size_t len)
{
    struct sched_pack *sp = ctx;
    struct tadd_scheduler *s = sp->s;
    cJSON *ev = cJSON_ParseWithLength(line, len);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "event");
    const char *e;

    (void)run;
    if (!cJSON_IsString(name)) {
        tadd_warn("pack %lld: ignoring a worker line that is not an event: "
                  "%.200s", (long long)sp->pf.pack_id, line);
        cJSON_Delete(ev);
        return;
    }
    e = name->valuestring;
    /* What the event tells about the run, kept here at once. */
    if (strcmp(e, "start") == 0) {
        const cJSON *kernels = cJSON_GetObjectItemCaseSensitive(ev,
                                                                "kernels");
        const cJSON *changed = cJSON_GetObjectItemCaseSensitive(
            ev, "kernels_changed");
        sp->step0 = sched_long(ev, "step", 0);
        sp->t0 = uv_now(s->loop);
        sched_note_step(sp, sp->step0);
        tadd_info("pack %lld: worker started at step %ld (%s kernels)",
                  (long long)sp->pf.pack_id, sp->step0,
                  cJSON_IsString(kernels) ? kernels->valuestring : "unknown");
        /* The researcher has to know: from here on, the pack's results
         * differ from those of a run that was never interrupted. */
        if (cJSON_IsString(changed) && cJSON_IsString(kernels))
            tadd_warn("pack %lld: resumed at step %ld on the %s kernels; "
                      "the %s kernels that trained its state are missing "
                      "on this machine, so its results are no longer "
                      "bit-identical to an uninterrupted run",
                      (long long)sp->pf.pack_id, sp->step0,
                      kernels->valuestring, changed->valuestring);
    } else if (strcmp(e, "eval") == 0 || strcmp(e, "checkpoint") == 0 ||
               strcmp(e, "stopped") == 0) {
        sched_note_step(sp, sched_long(ev, "step", -1));
        sp->saw_stopped |= strcmp(e, "stopped") == 0;
    } else if (strcmp(e, "diverged") == 0) {
        tadd_info("pack %lld: model %ld (seed %ld) diverged at step %ld",
                  (long long)sp->pf.pack_id, sched_long(ev, "index", -1),
                  sched_long(ev, "seed", -1), sched_long(ev, "step", -1));
    } else if (strcmp(e, "end") == 0) {
        sp->saw_end = 1;
        sched_note_step(sp, sched_long(ev, "step", -1));
    } else if (strcmp(e, "error") == 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ev, "message");

        snprintf(sp->error, sizeof(sp->error), "%s",
                 cJSON_IsString(msg) ? msg->valuestring : "(no message)");
        tadd_warn("pack %lld: worker error: %s", (long long)sp->pf.pack_id,
                  sp->error);
    } else {
        tadd_debug("pack %lld: unknown worker event \"%s\"",
                   (long long)sp->pf.pack_id, e);
    }
    /* What it changes in the database, in the order the worker sent it:
     * behind any events still waiting for the database. */
    if (sched_event_records(e)) {
        uint64_t now = uv_now(s->loop);
        /* Refused events are kept and tried again, so a short wait for a
         * lock is enough; while some wait, the database is tried again
         * only after a pause growing to SCHED_SETTLE_MAX_MS, so that
         * requests are not held up behind tries. */
        if (sp->backlog && now < sp->backlog_retry_at) {
            sched_backlog_add(sp, line, len);
        } else {
            tadd_db_busy_wait(s->db, SCHED_EVENT_BUSY_MS);
            if (sched_flush_backlog(sp) != 0 ||
                sched_record_event(sp, ev, e) != 0) {
                sched_backlog_add(sp, line, len);
                tadd_db_clear_error(s->db);
                sp->backlog_delay_ms = sched_next_delay(sp->backlog_delay_ms);
                sp->backlog_retry_at = now + sp->backlog_delay_ms;
            } else {
                sp->backlog_delay_ms = 0;
            }
            tadd_db_busy_wait(s->db, TADD_DB_BUSY_MS);
        }
        if (strcmp(e, "checkpoint") != 0)
            sched_changed(s, sp->pf.sweep_id);
    }
    cJSON_Delete(ev);
}

/* ---- exits ---- */

/* Appends the last lines the worker wrote to stderr since this run began
 * to reason. */
static void sched_stderr_tail(const struct sched_pack *sp, char *reason,
                              size_t len)
{
    char path[PATH_MAX * 2];
    char buf[2048];
    const char *p;
    off_t size, from;
    ssize_t n;
    int fd, lines = 0;

    snprintf(path, sizeof(path), "%s/%s", sp->s->home, sp->pf.log_path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size = lseek(fd, 0, SEEK_END);
    from = size - (off_t)sizeof(buf) + 1;
    if (from < sp->log_offset)
        from = sp->log_offset;
    if (size <= from || lseek(fd, from, SEEK_SET) < 0) {
        close(fd);
        return;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    p = buf + n;
    while (p > buf && lines < SCHED_STDERR_TAIL) {
        p--;
        if (*p == '\n')
            lines++;
    }
    if (*p == '\n')
        p++;
    if (*p) {
        size_t used = strlen(reason);
        tadd_msg_append(reason, len, "; stderr: %s", p);
        /* One line in status and show. */
        for (char *q = reason + used; *q; q++)
            if (*q == '\n')
                *q = '|';
    }
}

static void sched_describe_exit(const struct sched_pack *sp,
                                const struct tadd_exec_exit *ex,
                                char *reason, size_t len)
{
    if (ex->reason[0])
        snprintf(reason, len, "%s", ex->reason);
    else if (ex->term_signal)
        snprintf(reason, len, "worker killed by signal %d (%s)",
                 ex->term_signal, strsignal(ex->term_signal));
    else if (ex->exit_status < 0)
        snprintf(reason, len, "worker could not be started");
    else if (ex->exit_status == 0)
        snprintf(reason, len,
                 "worker exited with status 0 without finishing");
    else
        snprintf(reason, len, "worker exited with status %lld",
                 (long long)ex->exit_status);
    if (sp->error[0]) {
        size_t used = strlen(reason);
        snprintf(reason + used, len - used, ": %s", sp->error);
    }
    sched_stderr_tail(sp, reason, len);
}

static int sched_live_members(struct tadd_scheduler *s, int64_t pack_id,
                              int64_t *live)
{
    return tadd_db_int(s->db, live, 0,
                       "SELECT COUNT(*) FROM pack_members m JOIN trials t "
                       "ON t.id = m.trial_id WHERE m.pack_id = ? AND "
                       "t.state IN ('queued', 'running')",
                       "i", pack_id);
}

/* The worker stopped on request: it resumes later, or the pack ends as
 * cancelled. */
static int sched_after_stop(struct sched_pack *sp)
{
    struct tadd_scheduler *s = sp->s;
    char reason[128];
    int64_t live = 0;

    if (sp->stop == STOP_CANCEL) {
        if (sched_live_members(s, sp->pf.pack_id, &live) != 0)
            return -1;
        /* A retry may have revived trials while the worker was stopping. */
        if (live == 0)
            return tadd_queue_pack_cancelled(s->db, sp->pf.pack_id,
                                             "cancelled on request");
        return tadd_queue_pack_requeue(s->db, sp->pf.pack_id,
                                       "retried while stopping");
    }
    if (sp->stop == STOP_SHUTDOWN)
        snprintf(reason, sizeof(reason),
                 "daemon stopped at step %ld; resumes from its state",
                 sp->step);
    else
        snprintf(reason, sizeof(reason),
                 "worker stopped by a signal from outside the daemon at "
                 "step %ld; resumes from its state",
                 sp->step);
    return tadd_queue_pack_requeue(s->db, sp->pf.pack_id, reason);
}

/* An abnormal end: count it, then restart or fail. Returns 1 when sp
 * stays for a restart. */
static int sched_after_crash(struct sched_pack *sp,
                             const struct tadd_exec_exit *ex)
{
    struct tadd_scheduler *s = sp->s;
    char reason[SCHED_REASON_LEN];
    char final[SCHED_REASON_LEN + 64];

    sched_describe_exit(sp, ex, reason, sizeof(reason));
    /* Exit status 1 is bad input: the same pack would fail again. */
    if (!ex->term_signal && ex->exit_status == 1) {
        tadd_error("pack %lld: %s", (long long)sp->pf.pack_id, reason);
        sp->settle = SETTLE_FAILED;
        tadd_msgf(sp->settle_reason, sizeof(sp->settle_reason), "%s",
                  reason);
        return 0;
    }
    sp->attempts++;
    if (tadd_queue_pack_attempt(s->db, sp->pf.pack_id, reason) != 0)
        sched_db_error(s, "counting a pack's attempt");
    if (sp->attempts > s->set->attempts || s->shutting_down) {
        if (s->shutting_down) {
            sp->settle = SETTLE_REQUEUE;
            tadd_msgf(sp->settle_reason, sizeof(sp->settle_reason), "%s",
                      reason);
            return 0;
        }
        snprintf(final, sizeof(final), "%s (after %d attempts)", reason,
                 sp->attempts);
        tadd_error("pack %lld failed: %s", (long long)sp->pf.pack_id, final);
        sp->settle = SETTLE_FAILED;
        tadd_msgf(sp->settle_reason, sizeof(sp->settle_reason), "%s", final);
        return 0;
    }
    tadd_warn("pack %lld: %s; restarting from its state (attempt %d of %d)",
              (long long)sp->pf.pack_id, reason, sp->attempts,
              s->set->attempts);
    return 1;
}

static void sched_restart_due(uv_timer_t *t)
{
    struct sched_pack *sp = t->data;

    sched_launch(sp, 1);
}

static void sched_settle(struct sched_pack *sp, int kick);

static void sched_settle_due(uv_timer_t *t)
{
    sched_settle(t->data, 1);
}

/*
 * Writes how sp ended (sp->settle) and lets it go; kick: look for the
 * next pack after. When the database refuses the write, sp is held, its
 * trials still running there and here alike, and the write is tried
 * again later: giving sp up in memory alone would leave its trials
 * running in the database for good, with nothing running them and
 * nothing for retry to requeue.
 */
static void sched_settle(struct sched_pack *sp, int kick)
{
    struct tadd_scheduler *s = sp->s;
    int64_t id = sp->pf.pack_id;
    int rc = 0;

    /* Tried again on a timer when refused, so a short wait for a lock
     * is enough, and requests are not held up behind it. */
    tadd_db_busy_wait(s->db, SCHED_EVENT_BUSY_MS);
    /* The run's own events first: a pack is not done before its
     * trials are. */
    if (sched_flush_backlog(sp) != 0) {
        rc = -1;
        tadd_msgf(s->db->err, sizeof(s->db->err), "%d worker events still "
                  "refused", sp->backlog_len);
    }
    switch (rc == 0 ? sp->settle : SETTLE_NONE) {
    case SETTLE_DONE:
        rc = tadd_queue_pack_done(s->db, id);
        break;
    case SETTLE_FAILED:
        rc = tadd_queue_pack_failed(s->db, id, sp->settle_reason);
        break;
    case SETTLE_REQUEUE:
        rc = tadd_queue_pack_requeue(s->db, id, sp->settle_reason);
        break;
    case SETTLE_STOP:
        rc = sched_after_stop(sp);
        break;
    case SETTLE_NONE:
        break;
    }
    tadd_db_busy_wait(s->db, TADD_DB_BUSY_MS);
    if (rc != 0 && s->shutting_down) {
        /* The daemon must not wait for space to exit: the pack stays
         * running in the database, and the next start resumes it. */
        tadd_error("pack %lld: cannot record how its worker ended: %s; "
                   "the next start resumes it",
                   (long long)id, s->db->err);
        tadd_db_clear_error(s->db);
        sched_pack_drop(sp);
        return;
    }
    if (rc != 0) {
        unsigned delay = sched_next_delay(sp->settle_delay_ms);
        sp->settle_delay_ms = delay;
        tadd_error("pack %lld: cannot record how its worker ended: %s; "
                   "trying again in %u s",
                   (long long)id, s->db->err, delay / 1000);
        tadd_db_clear_error(s->db);
        uv_timer_start(&sp->timer, sched_settle_due, delay, 0);
        return;
    }
    if (sp->settle_delay_ms)
        tadd_info("pack %lld: how its worker ended is recorded at last",
                  (long long)id);
    sp->settle = SETTLE_NONE;
    sched_changed(s, sp->pf.sweep_id);
    sched_pack_drop(sp);
    if (kick)
        tadd_scheduler_kick(s);
}

static void sched_on_exit(void *ctx, struct tadd_exec_run *run,
                          const struct tadd_exec_exit *ex)
{
    struct sched_pack *sp = ctx;
    struct tadd_scheduler *s = sp->s;
    int keep = 0;

    (void)run;
    sp->run = NULL;
    uv_timer_stop(&sp->timer);
    tadd_info("pack %lld: worker exited (status %lld, signal %d) at step %ld",
              (long long)sp->pf.pack_id, (long long)ex->exit_status,
              ex->term_signal, sp->step);
    /* An end the executor calls abnormal (a batch job cancelled from
     * outside, out of time) is a crash whatever the worker said. */
    if (sp->saw_end && !ex->term_signal && ex->exit_status == 0 &&
        !ex->reason[0]) {
        sp->settle = SETTLE_DONE;
        tadd_info("pack %lld: done", (long long)sp->pf.pack_id);
    } else if (sp->stop != STOP_NONE ||
               (sp->saw_stopped && !ex->term_signal &&
                ex->exit_status == 0 && !ex->reason[0])) {
        if (sp->stop == STOP_NONE && s->shutting_down)
            sp->stop = STOP_SHUTDOWN;
        sp->settle = SETTLE_STOP;
    } else {
        keep = sched_after_crash(sp, ex);
    }
    if (keep) {
        sched_changed(s, sp->pf.sweep_id);
        uv_timer_start(&sp->timer, sched_restart_due, SCHED_RESTART_DELAY_MS,
                       0);
        return;
    }
    sched_settle(sp, 1);
}

/* A batch job got its id after start: it replaces the handle recorded,
 * so that a later daemon finds the job, and an event keeps it once the
 * pack is over. */
static void sched_on_handle(void *ctx, struct tadd_exec_run *run,
                            const char *handle)
{
    struct sched_pack *sp = ctx;
    struct tadd_db *db = sp->s->db;

    (void)run;
    tadd_debug("pack %lld: recorded as %s", (long long)sp->pf.pack_id,
               handle);
    if (tadd_db_run(db, "UPDATE packs SET handle = ? WHERE id = ?", "ti",
                    handle, sp->pf.pack_id) != 0 ||
        tadd_queue_event(db, sp->pf.sweep_id, "pack", sp->pf.pack_id,
                         "submitted", handle) != 0)
        sched_db_error(sp->s, "recording a pack's handle");
}

static const struct tadd_exec_callbacks sched_cbs = {
    .on_line = sched_on_line,
    .on_exit = sched_on_exit,
    .on_handle = sched_on_handle,
};

/* ---- launching ---- */

static void sched_spec(const struct tadd_scheduler *s,
                       const struct tadd_packfile *pf,
                       struct tadd_exec_spec *spec)
{
    spec->pack_id = pf->pack_id;
    spec->pack_path = pf->pack_path;
    spec->log_path = pf->log_path;
    spec->progress_path = pf->progress_path;
    spec->threads = s->set->threads;
}

static off_t sched_log_size(const struct sched_pack *sp)
{
    char path[PATH_MAX * 2];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", sp->s->home, sp->pf.log_path);
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Starts (or restarts) sp's worker; on failure counts an attempt like a
 * crash. */
static void sched_launch(struct sched_pack *sp, int restart)
{
    struct tadd_scheduler *s = sp->s;
    struct tadd_exec_spec spec;
    char handle[TADD_EXEC_HANDLE_LEN] = "";
    char err[1024];
    char reason[128];
    int64_t pack_id = sp->pf.pack_id;
    int rc;

    if (s->shutting_down) {
        if (restart &&
            tadd_queue_pack_requeue(s->db, pack_id, "daemon stopped") != 0)
            sched_db_error(s, "requeueing a pack");
        sched_pack_drop(sp);
        return;
    }
    if (!restart) {
        int64_t attempts = 0;
        if (tadd_db_int(s->db, &attempts, 0,
                        "SELECT attempts FROM packs WHERE id = ?", "i",
                        pack_id) != 0)
            sched_db_error(s, "reading a pack's attempts");
        sp->attempts = (int)attempts;
    }
    tadd_packfile_free(&sp->pf);
    if (tadd_packfile_write(s->db, s->home, pack_id,
                            s->set->checkpoint_interval, &sp->pf, err,
                            sizeof(err)) != 0) {
        sp->pf.pack_id = pack_id;
        goto fail;
    }
    sp->saw_end = 0;
    sp->saw_stopped = 0;
    sp->error[0] = '\0';
    sp->log_offset = sched_log_size(sp);
    sched_spec(s, &sp->pf, &spec);
    if (s->ex->ops->start(s->ex, &spec, &sched_cbs, sp, &sp->run, handle,
                          err, sizeof(err)) != 0)
        goto fail;
    sp->t_launch = sp->t0 = sp->t_step = uv_now(s->loop);
    tadd_info("pack %lld: %s %d models (%s)", (long long)pack_id,
              restart ? "restarted" : "started", sp->pf.n_models, handle);
    if (restart) {
        snprintf(reason, sizeof(reason), "attempt %d", sp->attempts + 1);
        rc = tadd_queue_pack_restarted(s->db, pack_id, handle, reason);
    } else {
        rc = tadd_queue_pack_started(s->db, pack_id, handle);
    }
    if (rc != 0) {
        /* The queue would offer this pack again at once: stop it, and
         * start nothing more until someone looks at the database. */
        sched_db_error(s, "recording a pack's start");
        tadd_error("not starting more packs until taddd restarts");
        s->halted = 1;
        sched_stop(sp, STOP_SHUTDOWN);
        return;
    }
    sched_changed(s, sp->pf.sweep_id);
    return;
fail:
    tadd_error("pack %lld: cannot start its worker: %s", (long long)pack_id,
               err);
    if (!restart) {
        /* Nothing ran: the pack must leave 'queued' or it would be picked
         * again at once. */
        if (tadd_queue_pack_started(s->db, pack_id, "") != 0)
            sched_db_error(s, "recording a pack's start");
    }
    {
        struct tadd_exec_exit ex = {.exit_status = -1};
        tadd_msgf(sp->error, sizeof(sp->error), "%s", err);
        sp->log_offset = sched_log_size(sp);
        if (sched_after_crash(sp, &ex)) {
            uv_timer_start(&sp->timer, sched_restart_due,
                           SCHED_RESTART_DELAY_MS, 0);
            return;
        }
    }
    /* From the kick loop (a first start) the loop goes on by itself. */
    sched_settle(sp, restart);
}

void tadd_scheduler_kick(struct tadd_scheduler *s)
{
    while (!s->shutting_down && !s->halted &&
           s->n_packs < s->set->workers) {
        struct sched_pack *sp;
        struct sched_pack **tail;
        int64_t pack_id = 0;

        if (tadd_queue_next_pack(s->db, &pack_id) != 0) {
            sched_db_error(s, "choosing the next pack");
            return;
        }
        if (pack_id == 0)
            return;
        sp = calloc(1, sizeof(*sp));
        if (!sp) {
            tadd_error("out of memory starting pack %lld",
                       (long long)pack_id);
            return;
        }
        sp->s = s;
        sp->pf.pack_id = pack_id;
        sp->timer.data = sp;
        uv_timer_init(s->loop, &sp->timer);
        for (tail = &s->packs; *tail; tail = &(*tail)->next)
            ;
        *tail = sp;
        s->n_packs++;
        sched_launch(sp, 0);
    }
}

/* ---- stopping ---- */

static void sched_stop_overdue(uv_timer_t *t)
{
    struct sched_pack *sp = t->data;

    if (!sp->run)
        return;
    tadd_warn("pack %lld: worker did not stop within %.0f s; killing it",
              (long long)sp->pf.pack_id, sp->s->set->stop_timeout);
    sp->s->ex->ops->stop(sp->s->ex, sp->run);
}

static void sched_stop(struct sched_pack *sp, enum sched_stop why)
{
    struct tadd_scheduler *s = sp->s;
    int rc;

    if (sp->settle != SETTLE_NONE) {
        /* Its worker is gone and its end waits for the database. A cancel
         * changes nothing more; a stopping daemon leaves the pack running
         * in the database, and the next start resumes it. */
        if (why == STOP_SHUTDOWN) {
            tadd_warn("pack %lld: how its worker ended was never recorded; "
                      "the next start resumes it",
                      (long long)sp->pf.pack_id);
            sched_pack_drop(sp);
        }
        return;
    }
    if (!sp->run) {
        /* Waiting for a restart: nothing runs, so settle it now. */
        uv_timer_stop(&sp->timer);
        sp->stop = why;
        rc = why == STOP_CANCEL
                 ? tadd_queue_pack_cancelled(s->db, sp->pf.pack_id,
                                             "cancelled on request")
                 : tadd_queue_pack_requeue(s->db, sp->pf.pack_id,
                                           "daemon stopped");
        if (rc != 0)
            sched_db_error(s, "stopping a pack");
        sched_changed(s, sp->pf.sweep_id);
        sched_pack_drop(sp);
        return;
    }
    if (sp->stop != STOP_NONE) {
        if (why == STOP_SHUTDOWN)
            sp->stop = why;
        return;
    }
    sp->stop = why;
    tadd_info("pack %lld: asking the worker to save and stop",
              (long long)sp->pf.pack_id);
    s->ex->ops->stop(s->ex, sp->run);
    uv_timer_start(&sp->timer, sched_stop_overdue,
                   (uint64_t)(s->set->stop_timeout * 1000.0), 0);
}

void tadd_scheduler_cancel_pack(struct tadd_scheduler *s, int64_t pack_id)
{
    struct sched_pack *sp = sched_find(s, pack_id);

    if (sp) {
        sched_stop(sp, STOP_CANCEL);
        return;
    }
    /* Marked running in the database but not held here: nothing to stop. */
    if (tadd_queue_pack_cancelled(s->db, pack_id, "cancelled on request") !=
        0)
        sched_db_error(s, "cancelling a pack");
}

void tadd_scheduler_shutdown(struct tadd_scheduler *s)
{
    struct sched_pack *sp = s->packs;

    s->shutting_down = 1;
    if (s->n_packs == 0) {
        if (s->cb.on_idle)
            s->cb.on_idle(s->ctx);
        return;
    }
    while (sp) {
        struct sched_pack *next = sp->next;
        sched_stop(sp, STOP_SHUTDOWN);
        sp = next;
    }
}

/*
 * Follows pack_id's run, left by an earlier daemon, through the
 * executor's adopt. Returns 1 when the pack is held again (it stays
 * running), 0 when nothing is left to follow, -1 with a message.
 */
static int sched_adopt(struct tadd_scheduler *s, int64_t pack_id,
                       const char *handle, char *err, size_t errlen)
{
    struct sched_pack *sp = calloc(1, sizeof(*sp));
    struct sched_pack **tail;
    struct tadd_exec_spec spec;
    char reason[160];
    int64_t attempts = 0;
    int rc;

    if (!sp) {
        tadd_msgf(err, errlen, "out of memory");
        return -1;
    }
    sp->s = s;
    sp->timer.data = sp;
    uv_timer_init(s->loop, &sp->timer);
    rc = tadd_db_int(s->db, &attempts, 0,
                     "SELECT attempts FROM packs WHERE id = ?", "i",
                     pack_id);
    if (rc != 0)
        tadd_msgf(err, errlen, "%s", s->db->err);
    /* The same members and paths as the file the job runs on. */
    if (rc == 0)
        rc = tadd_packfile_write(s->db, s->home, pack_id,
                                 s->set->checkpoint_interval, &sp->pf, err,
                                 errlen);
    if (rc == 0) {
        sp->attempts = (int)attempts;
        sp->log_offset = sched_log_size(sp);
        memset(&spec, 0, sizeof(spec));
        sched_spec(s, &sp->pf, &spec);
        rc = s->ex->ops->adopt(s->ex, handle, &spec, &sched_cbs, sp,
                               &sp->run, err, errlen);
    }
    if (rc != 1) {
        uv_close((uv_handle_t *)&sp->timer, sched_pack_freed);
        return rc;
    }
    sp->t_launch = sp->t0 = sp->t_step = uv_now(s->loop);
    for (tail = &s->packs; *tail; tail = &(*tail)->next)
        ;
    *tail = sp;
    s->n_packs++;
    snprintf(reason, sizeof(reason),
             "daemon restarted; following its run %s", handle);
    if (tadd_queue_event(s->db, sp->pf.sweep_id, "pack", pack_id, "adopted",
                         reason) != 0)
        sched_db_error(s, "recording an adoption");
    tadd_info("pack %lld: %s", (long long)pack_id, reason);
    return 1;
}

/*
 * Records the evaluations and divergences in pack_id's progress file (a
 * copy of every line its workers wrote to stdout). A daemon that died may
 * have missed the last lines in the pipe while the worker's saved state
 * moved past them, so that no later run would print them again.
 * Recording a line twice changes nothing. Returns 0, or -1 with a
 * message.
 */
static int sched_replay(struct tadd_scheduler *s, int64_t pack_id, char *err,
                        size_t errlen)
{
    struct sched_pack sp;
    char path[PATH_MAX * 2];
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    FILE *f;
    int rc = 0, lines = 0;

    memset(&sp, 0, sizeof(sp));
    sp.s = s;
    if (tadd_packfile_load(s->db, pack_id, &sp.pf, err, errlen) != 0) {
        tadd_packfile_free(&sp.pf);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", s->home, sp.pf.progress_path);
    f = fopen(path, "re");
    if (!f) {
        tadd_packfile_free(&sp.pf);
        return 0;
    }
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        cJSON *ev = cJSON_ParseWithLength(line, (size_t)n);
        const char *name =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev,
                                                                  "event"));

        /* A last line cut short by a kill does not parse: skipped. */
        if (name && strcmp(name, "eval") == 0) {
            rc = sched_record_eval(&sp, ev);
            lines++;
        } else if (name && strcmp(name, "diverged") == 0) {
            int64_t trial = sched_trial(&sp, ev);
            if (trial)
                rc = tadd_queue_trial_diverged(
                    s->db, trial, sched_long(ev, "step", -1));
            lines++;
        }
        cJSON_Delete(ev);
    }
    free(line);
    fclose(f);
    tadd_packfile_free(&sp.pf);
    if (rc != 0) {
        tadd_msgf(err, errlen, "%s", s->db->err);
        return -1;
    }
    tadd_debug("pack %lld: %d progress lines recorded again",
               (long long)pack_id, lines);
    return 0;
}

int tadd_scheduler_recover(struct tadd_scheduler *s, char *err,
                           size_t errlen)
{
    sqlite3_stmt *st;
    int rc;

    st = tadd_db_query(s->db,
                       "SELECT p.id, p.handle, s.name, p.checkpoint_step "
                       "FROM packs p JOIN sweeps s ON s.id = p.sweep_id "
                       "WHERE p.state = 'running' ORDER BY p.id",
                       NULL);
    if (!st) {
        tadd_msgf(err, errlen, "%s", s->db->err);
        return -1;
    }
    while ((rc = tadd_db_step(s->db, st)) == 1) {
        struct tadd_packfile pf;
        struct tadd_exec_spec spec;
        char reason[160];
        int64_t id = sqlite3_column_int64(st, 0);
        const char *handle = (const char *)sqlite3_column_text(st, 1);

        memset(&pf, 0, sizeof(pf));
        tadd_packfile_paths(&pf, tadd_db_text(st, 2), id);
        sched_spec(s, &pf, &spec);
        if (s->ex->ops->adopt) {
            int adopted = sched_adopt(s, id, handle ? handle : "", err,
                                      errlen);
            if (adopted < 0) {
                sqlite3_finalize(st);
                return -1;
            }
            if (adopted)
                continue;
        } else if (s->ex->ops->reclaim(s->ex, handle, &spec, err, errlen) !=
                   0) {
            sqlite3_finalize(st);
            return -1;
        }
        /* Nothing writes the pack's files any more: what its worker said
         * that the dead daemon did not read is recorded now. */
        if (sched_replay(s, id, err, errlen) != 0) {
            sqlite3_finalize(st);
            return -1;
        }
        snprintf(reason, sizeof(reason),
                 "daemon restarted; resumes from its saved state "
                 "(last checkpoint reported: step %lld)",
                 (long long)sqlite3_column_int64(st, 3));
        if (tadd_queue_pack_requeue(s->db, id, reason) != 0) {
            tadd_msgf(err, errlen, "%s", s->db->err);
            sqlite3_finalize(st);
            return -1;
        }
        tadd_info("pack %lld: %s", (long long)id, reason);
    }
    sqlite3_finalize(st);
    if (rc < 0) {
        tadd_msgf(err, errlen, "%s", s->db->err);
        return -1;
    }
    return 0;
}

int tadd_scheduler_info(struct tadd_scheduler *s,
                        struct tadd_sched_info **out, int *n)
{
    uint64_t now = uv_now(s->loop);
    struct tadd_sched_info *v;
    int i = 0;

    *out = NULL;
    *n = 0;
    v = calloc((size_t)s->n_packs + 1, sizeof(*v));
    if (!v)
        return -1;
    for (struct sched_pack *sp = s->packs; sp; sp = sp->next, i++) {
        struct tadd_sched_info *in = &v[i];
        double run_s = (double)(sp->t_step - sp->t0) / 1000.0;

        in->pack_id = sp->pf.pack_id;
        in->sweep_id = sp->pf.sweep_id;
        in->step = sp->step;
        in->train_steps = sp->pf.train_steps;
        in->seconds = (double)(now - sp->t_launch) / 1000.0;
        in->attempts = sp->attempts;
        in->steps_per_sec = 0;
        in->eta = -1;
        if (sp->step > sp->step0 && run_s > 0) {
            double since = (double)(now - sp->t_step) / 1000.0;
            in->steps_per_sec = (double)(sp->step - sp->step0) / run_s;
            in->eta = (double)(sp->pf.train_steps - sp->step) /
                          in->steps_per_sec -
                      since;
            if (in->eta < 0)
                in->eta = 0;
        }
        in->phase = sp->settle != SETTLE_NONE ? "recording"
                    : !sp->run                ? "restarting"
                    : sp->stop != STOP_NONE   ? "stopping"
                                              : "running";
        if (sp->run && s->ex->ops->describe)
            s->ex->ops->describe(s->ex, sp->run, in->where,
                                 sizeof(in->where));
    }
    *out = v;
    *n = i;
    return 0;
}
