/*
 * The slurm executor against a real single-node Slurm started for this
 * test (scripts/slurm-local.sh), running the real tadd-worker on tiny
 * packs:
 *
 *   a pack runs to its end, its lines arrive in order, and its files
 *     equal a local run's bit for bit but for wall-clock time;
 *   stop() cancels the job, the worker saves its state;
 *   scancel from outside is an abnormal end with the reason named;
 *   a failing sbatch (no such partition) ends the run with its message;
 *   after the submitting process is killed with SIGKILL, adopt finds the
 *     job by its name (no job id was recorded) and follows it to its end
 *     without a second submission;
 *   adopt of a job that ended meanwhile replays its lines and its end.
 *
 * Without Slurm's programs, or not as root, it exits 77 (SKIP) saying
 * why.
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
#include <uv.h>

#include "check.h"
#include "executor_slurm.h"
#include "fsutil.h"
#include "slurm_job.h"

static char cluster[512];
static char home[512];
static char worker[1024];
static char script[1024];

/* ---- the cluster ---- */

static void cluster_stop(void)
{
    char cmd[2048];

    if (!cluster[0])
        return;
    snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1", script,
             cluster);
    if (system(cmd) != 0)
        fprintf(stderr, "could not stop the cluster in %s\n", cluster);
    cluster[0] = '\0';
    if (home[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", home);
    }
}

/* Starts the cluster and points this process at it; exits 77 when it
 * cannot be started here. */
static void cluster_start(void)
{
    char cmd[2048];
    char line[1024];
    FILE *p;
    int status;

    snprintf(cmd, sizeof(cmd), "'%s' check", script);
    p = popen(cmd, "r");
    REQUIRE(p != NULL);
    line[0] = '\0';
    if (!fgets(line, sizeof(line), p))
        line[0] = '\0';
    status = pclose(p);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        printf("SKIP: Slurm cannot be started here: %s", line);
        exit(77);
    }
    REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(cluster, sizeof(cluster), "/tmp/tadd-slurm-ex.%ld",
             (long)getpid());
    atexit(cluster_stop);
    snprintf(cmd, sizeof(cmd), "'%s' start '%s'", script, cluster);
    p = popen(cmd, "r");
    REQUIRE(p != NULL);
    while (fgets(line, sizeof(line), p)) {
        char *q;
        /* export NAME='value' */
        if (strncmp(line, "export SLURM_CONF='", 19) != 0)
            continue;
        q = strrchr(line, '\'');
        REQUIRE(q && q > line + 19);
        *q = '\0';
        setenv("SLURM_CONF", line + 19, 1);
    }
    status = pclose(p);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(stderr, "slurm-local.sh start failed\n");
        exit(1);
    }
    REQUIRE(getenv("SLURM_CONF") != NULL);
}

/* ---- packs ---- */

/* Writes <home>/sw/packs/<id>/pack.json for seeds 5 and 6 of a tiny
 * config; models train into <home>/sw/<tag>/s5 and s6. */
static void pack_write(int id, const char *tag, int steps)
{
    char dir[1024], path[1100], err[256], text[2048];
    int n;

    snprintf(dir, sizeof(dir), "%s/sw/packs/%d", home, id);
    REQUIRE(tadd_mkdir_p(dir, 0700, err, sizeof(err)) == 0);
    n = snprintf(text, sizeof(text),
                 "{\"config\": {\"train_steps\": %d, \"eval_interval\": 20, "
                 "\"batch_size\": 32, \"val_size\": 64, \"test_size\": 64, "
                 "\"curriculum\": [[1, 3, 20], [1, 6, 20], [1, 10, 20]]}, "
                 "\"checkpoint_interval\": 50, \"models\": ["
                 "{\"seed\": 5, \"dir\": \"sw/%s/s5\", \"warmup_steps\": 10},"
                 "{\"seed\": 6, \"dir\": \"sw/%s/s6\", \"warmup_steps\": 10, "
                 "\"lr\": 0.02}], \"state\": \"sw/packs/%d/resume.state\"}\n",
                 steps, tag, tag, id);
    snprintf(path, sizeof(path), "%s/pack.json", dir);
    REQUIRE(tadd_write_file_atomic(path, text, (size_t)n, err,
                                   sizeof(err)) == 0);
}

static void spec_of(struct tadd_exec_spec *spec, int id, char *pack,
                    char *log)
{
    memset(spec, 0, sizeof(*spec));
    sprintf(pack, "sw/packs/%d/pack.json", id);
    sprintf(log, "sw/packs/%d/worker.log", id);
    spec->pack_id = id;
    spec->pack_path = pack;
    spec->log_path = log;
    spec->threads = 1;
}

/* ---- following a run ---- */

/* What one run reported. */
struct seen {
    int lines;
    int exited;
    int handles;
    char handle[TADD_EXEC_HANDLE_LEN];
    char first[32];     /* the first event */
    long first_step;    /* its step */
    char last[32];      /* the last event */
    int evals, checkpoints, stopped, ends, bad_order;
    long last_step;
    struct tadd_exec_exit ex;
    /* Called on each event, for a test to act on. */
    void (*on_event)(struct seen *s, const char *event, long step);
    struct tadd_executor *executor;
    struct tadd_exec_run *run;
    int acted;
};

static void seen_line(void *ctx, struct tadd_exec_run *run, const char *line,
                      size_t len)
{
    struct seen *s = ctx;
    cJSON *ev = cJSON_ParseWithLength(line, len);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "event");
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(ev, "step");
    long st = cJSON_IsNumber(step) ? (long)step->valuedouble : -1;

    (void)run;
    CHECK(cJSON_IsString(name));
    if (cJSON_IsString(name)) {
        const char *e = name->valuestring;

        if (s->lines == 0) {
            snprintf(s->first, sizeof(s->first), "%s", e);
            s->first_step = st;
        }
        snprintf(s->last, sizeof(s->last), "%s", e);
        s->evals += strcmp(e, "eval") == 0;
        s->checkpoints += strcmp(e, "checkpoint") == 0;
        s->stopped += strcmp(e, "stopped") == 0;
        s->ends += strcmp(e, "end") == 0;
        /* Steps never go back within one job's lines. */
        if (st >= 0) {
            if (st < s->last_step)
                s->bad_order++;
            s->last_step = st;
        }
        if (s->on_event)
            s->on_event(s, e, st);
    }
    s->lines++;
    cJSON_Delete(ev);
}

static void seen_exit(void *ctx, struct tadd_exec_run *run,
                      const struct tadd_exec_exit *ex)
{
    struct seen *s = ctx;

    (void)run;
    s->exited++;
    s->ex = *ex;
}

static void seen_handle(void *ctx, struct tadd_exec_run *run,
                        const char *handle)
{
    struct seen *s = ctx;

    (void)run;
    s->handles++;
    snprintf(s->handle, sizeof(s->handle), "%s", handle);
}

static const struct tadd_exec_callbacks seen_cb = {
    .on_line = seen_line,
    .on_exit = seen_exit,
    .on_handle = seen_handle,
};

static int watchdog_fired;

static void watchdog(uv_timer_t *t)
{
    (void)t;
    watchdog_fired = 1;
    uv_stop(t->loop);
}

/* Runs loop until s has exited or seconds pass. */
static void run_until_exit(uv_loop_t *loop, struct seen *s, double seconds)
{
    uv_timer_t t;

    watchdog_fired = 0;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, watchdog, (uint64_t)(seconds * 1000), 0);
    while (!s->exited && !watchdog_fired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    if (!s->exited)
        CHECK_FAIL_("the run did not end within %.0f s", seconds);
}

static void close_all(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Ends an executor the way taddd does: handles closed, then destroy. */
static void executor_end(uv_loop_t *loop, struct tadd_executor *ex)
{
    uv_walk(loop, close_all, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    ex->ops->destroy(ex);
    CHECK_INT_EQ(uv_loop_close(loop), 0);
}

static struct tadd_executor *executor_new(uv_loop_t *loop,
                                          const char *partition)
{
    struct tadd_slurm_settings set;
    struct tadd_executor *ex;
    char err[512];

    tadd_slurm_settings_defaults(&set);
    set.cpus_per_pack = 1;
    set.poll_interval = 0.3;
    if (partition)
        snprintf(set.partition, sizeof(set.partition), "%s", partition);
    REQUIRE(uv_loop_init(loop) == 0);
    ex = tadd_executor_slurm_new(loop, worker, home, &set, err, sizeof(err));
    if (!ex)
        fprintf(stderr, "%s\n", err);
    REQUIRE(ex != NULL);
    return ex;
}

static long handle_id(const char *handle)
{
    return strncmp(handle, "slurm:", 6) == 0 ? atol(handle + 6) : 0;
}

/* ---- comparing files ---- */

static char *slurp(const char *path)
{
    char err[256];
    char *text = NULL;
    size_t len;

    if (tadd_read_file(path, 64 << 20, &text, &len, err, sizeof(err)) != 0) {
        CHECK_FAIL_("%s", err);
        return NULL;
    }
    return text;
}

/* metrics.csv without its last column (elapsed_sec). */
static void strip_last_column(char *text)
{
    char *w = text;

    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        char *end = nl ? nl : line + strlen(line);
        char *comma = end;

        while (comma > line && *comma != ',')
            comma--;
        if (comma == line)
            comma = end;
        memmove(w, line, (size_t)(comma - line));
        w += comma - line;
        if (nl)
            *w++ = '\n';
        line = nl ? nl + 1 : end;
    }
    *w = '\0';
}

static void same_files(const char *a, const char *b, const char *name,
                       int strip)
{
    char pa[1200], pb[1200];
    char *ta, *tb;

    snprintf(pa, sizeof(pa), "%s/%s", a, name);
    snprintf(pb, sizeof(pb), "%s/%s", b, name);
    ta = slurp(pa);
    tb = slurp(pb);
    if (ta && tb) {
        if (strip) {
            strip_last_column(ta);
            strip_last_column(tb);
        }
        if (strcmp(ta, tb) != 0)
            CHECK_FAIL_("%s and %s differ", pa, pb);
    }
    free(ta);
    free(tb);
}

/* Files are compared as bytes; safetensors may hold NULs, so cmp. */
static void same_bytes(const char *a, const char *b, const char *name)
{
    char cmd[2600];

    snprintf(cmd, sizeof(cmd), "cmp -s '%s/%s' '%s/%s'", a, name, b, name);
    if (system(cmd) != 0)
        CHECK_FAIL_("%s/%s and %s/%s differ", a, name, b, name);
}

/* ---- the scenarios ---- */

static void test_to_the_end(void)
{
    uv_loop_t loop;
    struct tadd_executor *ex = executor_new(&loop, NULL);
    struct tadd_exec_spec spec;
    struct tadd_exec_run *run = NULL;
    struct seen s = {0};
    char pack[256], log[256], handle[TADD_EXEC_HANDLE_LEN], err[512];
    char desc[128], path[1200], a[1100], b[1100], cmd[3000];

    pack_write(1, "slurm", 400);
    spec_of(&spec, 1, pack, log);
    REQUIRE(ex->ops->start(ex, &spec, &seen_cb, &s, &run, handle, err,
                           sizeof(err)) == 0);
    CHECK_STR_EQ(handle, "slurm:submitting");
    ex->ops->describe(ex, run, desc, sizeof(desc));
    CHECK_STR_EQ(desc, "submitting to Slurm");
    run_until_exit(&loop, &s, 60);
    CHECK_INT_EQ(s.handles, 1);
    CHECK(handle_id(s.handle) > 0);
    CHECK_STR_EQ(s.first, "start");
    CHECK_INT_EQ(s.first_step, 0);
    CHECK_STR_EQ(s.last, "end");
    CHECK_INT_EQ(s.ends, 1);
    CHECK_INT_EQ(s.evals, 21); /* steps 0, 20, ..., 400 */
    CHECK_INT_EQ(s.bad_order, 0);
    CHECK_INT_EQ(s.ex.exit_status, 0);
    CHECK_INT_EQ(s.ex.term_signal, 0);
    CHECK_INT_EQ(s.ex.stop_requested, 0);
    CHECK_STR_EQ(s.ex.reason, "");

    /* The job script and the job's own progress file are in the pack's
     * folder. */
    snprintf(path, sizeof(path), "%s/sw/packs/1/job.sh", home);
    CHECK(tadd_path_exists(path));
    snprintf(path, sizeof(path), "%s/sw/packs/1/progress.%ld.jsonl", home,
             handle_id(s.handle));
    CHECK(tadd_path_exists(path));
    executor_end(&loop, ex);

    /* The same pack trained here, without Slurm. */
    pack_write(2, "local", 400);
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && '%s' train --pack sw/packs/2/pack.json > /dev/null "
             "2>&1", home, worker);
    REQUIRE(system(cmd) == 0);
    for (int seed = 5; seed <= 6; seed++) {
        snprintf(a, sizeof(a), "%s/sw/slurm/s%d", home, seed);
        snprintf(b, sizeof(b), "%s/sw/local/s%d", home, seed);
        same_files(a, b, "metrics.csv", 1);
        same_bytes(a, b, "best.safetensors");
        same_bytes(a, b, "last.safetensors");
    }
}

static void stop_at_first_eval(struct seen *s, const char *event, long step)
{
    if (strcmp(event, "eval") == 0 && step >= 20 && !s->acted) {
        s->acted = 1;
        CHECK_INT_EQ(s->executor->ops->stop(s->executor, s->run), 0);
    }
}

static void test_stop(void)
{
    uv_loop_t loop;
    struct tadd_executor *ex = executor_new(&loop, NULL);
    struct tadd_exec_spec spec;
    struct seen s = {0};
    char pack[256], log[256], handle[TADD_EXEC_HANDLE_LEN], err[512];
    char path[1200];

    pack_write(3, "stop", 20000);
    spec_of(&spec, 3, pack, log);
    s.on_event = stop_at_first_eval;
    s.executor = ex;
    REQUIRE(ex->ops->start(ex, &spec, &seen_cb, &s, &s.run, handle, err,
                           sizeof(err)) == 0);
    run_until_exit(&loop, &s, 60);
    CHECK_INT_EQ(s.acted, 1);
    CHECK_INT_EQ(s.ex.stop_requested, 1);
    CHECK_STR_EQ(s.ex.reason, "");
    CHECK_INT_EQ(s.ends, 0);
    /* The worker saw SIGTERM, saved its state and said so. */
    CHECK_INT_EQ(s.stopped, 1);
    CHECK_STR_EQ(s.last, "stopped");
    snprintf(path, sizeof(path), "%s/sw/packs/3/resume.state", home);
    CHECK(tadd_path_exists(path));
    executor_end(&loop, ex);
}

static void scancel_at_checkpoint(struct seen *s, const char *event,
                                  long step)
{
    char cmd[128];

    (void)step;
    if (strcmp(event, "checkpoint") == 0 && !s->acted) {
        s->acted = 1;
        snprintf(cmd, sizeof(cmd), "scancel %ld", handle_id(s->handle));
        CHECK(system(cmd) == 0);
    }
}

static void test_scancel_from_outside(void)
{
    uv_loop_t loop;
    struct tadd_executor *ex = executor_new(&loop, NULL);
    struct tadd_exec_spec spec;
    struct seen s = {0};
    char pack[256], log[256], handle[TADD_EXEC_HANDLE_LEN], err[512];
    char want[128], path[1100];
    char *text;

    pack_write(4, "scancel", 20000);
    spec_of(&spec, 4, pack, log);
    s.on_event = scancel_at_checkpoint;
    REQUIRE(ex->ops->start(ex, &spec, &seen_cb, &s, &s.run, handle, err,
                           sizeof(err)) == 0);
    run_until_exit(&loop, &s, 60);
    CHECK_INT_EQ(s.acted, 1);
    CHECK_INT_EQ(s.ex.stop_requested, 0);
    snprintf(want, sizeof(want), "Slurm job %ld CANCELLED from outside",
             handle_id(s.handle));
    CHECK_STR_HAS(s.ex.reason, want);
    CHECK_INT_EQ(s.stopped, 1);
    /* Slurm's own word on it lands in the worker's log. */
    snprintf(path, sizeof(path), "%s/sw/packs/4/worker.log", home);
    text = slurp(path);
    CHECK_STR_HAS(text, "CANCELLED");
    free(text);
    executor_end(&loop, ex);
}

static void test_sbatch_fails(void)
{
    uv_loop_t loop;
    struct tadd_executor *ex = executor_new(&loop, "nosuch");
    struct tadd_exec_spec spec;
    struct seen s = {0};
    char pack[256], log[256], handle[TADD_EXEC_HANDLE_LEN], err[512];

    pack_write(5, "nosuch", 400);
    spec_of(&spec, 5, pack, log);
    REQUIRE(ex->ops->start(ex, &spec, &seen_cb, &s, &s.run, handle, err,
                           sizeof(err)) == 0);
    run_until_exit(&loop, &s, 30);
    CHECK_INT_EQ(s.lines, 0);
    CHECK_INT_EQ(s.handles, 0);
    CHECK_INT_EQ(s.ex.exit_status, -1);
    CHECK_STR_HAS(s.ex.reason, "sbatch failed");
    CHECK_STR_HAS(s.ex.reason, "partition");
    executor_end(&loop, ex);
}

/* In a child: submits pack 6, writes the job id to fd once known, and
 * kills itself with SIGKILL at the first eval past step 0. */
static int child_fd = -1;

static void child_die_at_eval(struct seen *s, const char *event, long step)
{
    if (strcmp(event, "eval") == 0 && step >= 20) {
        dprintf(child_fd, "%ld\n", handle_id(s->handle));
        kill(getpid(), SIGKILL);
    }
}

static void child_submit_and_die(int fd)
{
    uv_loop_t loop;
    struct tadd_executor *ex = executor_new(&loop, NULL);
    struct tadd_exec_spec spec;
    struct seen s = {0};
    char pack[256], log[256], handle[TADD_EXEC_HANDLE_LEN], err[512];

    child_fd = fd;
    spec_of(&spec, 6, pack, log);
    s.on_event = child_die_at_eval;
    if (ex->ops->start(ex, &spec, &seen_cb, &s, &s.run, handle, err,
                       sizeof(err)) != 0)
        _exit(3);
    run_until_exit(&loop, &s, 60);
    _exit(4);
}

/* Number of jobs named name that Slurm ever knew (squeue -t all). */
static int jobs_named(const char *name)
{
    char cmd[512];
    char line[256];
    FILE *p;
    int n = 0;

    snprintf(cmd, sizeof(cmd), "squeue -h -t all -n '%s' -o %%i", name);
    p = popen(cmd, "r");
    REQUIRE(p != NULL);
    while (fgets(line, sizeof(line), p))
        n++;
    pclose(p);
    return n;
}

static void test_adopt_after_kill(void)
{
    uv_loop_t loop;
    struct tadd_executor *ex;
    struct tadd_exec_spec spec;
    struct tadd_exec_run *run = NULL;
    struct seen s = {0};
    char pack[256], log[256], err[512], desc[128], name[64];
    char buf[64] = "";
    int fds[2], status;
    long job = 0;
    pid_t pid;
    ssize_t n;

    pack_write(6, "adopt", 1500);
    REQUIRE(pipe(fds) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_submit_and_die(fds[1]);
    }
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    REQUIRE(n > 0);
    job = atol(buf);
    REQUIRE(job > 0);

    /* The daemon died before it could record the job id: only the
     * handle start gave is known, and the job is found by its name. */
    ex = executor_new(&loop, NULL);
    spec_of(&spec, 6, pack, log);
    CHECK_INT_EQ(ex->ops->adopt(ex, "slurm:submitting", &spec, &seen_cb, &s,
                                &run, err, sizeof(err)),
                 1);
    REQUIRE(run != NULL);
    ex->ops->describe(ex, run, desc, sizeof(desc));
    snprintf(buf, sizeof(buf), "Slurm job %ld", job);
    CHECK_STR_HAS(desc, buf);
    run_until_exit(&loop, &s, 60);
    /* Every line from the job's start, then its end. */
    CHECK_STR_EQ(s.first, "start");
    CHECK_INT_EQ(s.first_step, 0);
    CHECK_INT_EQ(s.ends, 1);
    CHECK_INT_EQ(s.bad_order, 0);
    CHECK_INT_EQ(s.ex.exit_status, 0);
    CHECK_STR_EQ(s.ex.reason, "");
    /* The id found is handed to the daemon to record. */
    CHECK_INT_EQ(s.handles, 1);
    CHECK_INT_EQ(handle_id(s.handle), job);
    tadd_slurm_job_name(name, sizeof(name), home, 6);
    CHECK_INT_EQ(jobs_named(name), 1);

    /* Adopting the same job again, now ended: its lines and its end are
     * replayed from its progress file. */
    memset(&s, 0, sizeof(s));
    snprintf(buf, sizeof(buf), "slurm:%ld", job);
    CHECK_INT_EQ(ex->ops->adopt(ex, buf, &spec, &seen_cb, &s, &run, err,
                                sizeof(err)),
                 1);
    run_until_exit(&loop, &s, 30);
    CHECK_INT_EQ(s.handles, 0); /* the daemon has it already */
    CHECK_STR_EQ(s.first, "start");
    CHECK_INT_EQ(s.ends, 1);
    CHECK_INT_EQ(s.ex.exit_status, 0);
    CHECK_STR_EQ(s.ex.reason, "");

    /* Nothing left by that name: nothing to adopt. */
    CHECK_INT_EQ(ex->ops->adopt(ex, "", &spec, &seen_cb, &s, &run, err,
                                sizeof(err)),
                 0);
    /* A live local worker's handle is refused rather than run twice. */
    snprintf(buf, sizeof(buf), "pid:%ld", (long)getpid());
    CHECK_INT_EQ(ex->ops->adopt(ex, buf, &spec, &seen_cb, &s, &run, err,
                                sizeof(err)),
                 -1);
    CHECK_STR_HAS(err, "local executor");
    executor_end(&loop, ex);
}

int main(void)
{
    const char *src = getenv("TADD_SOURCE_ROOT");
    const char *build = getenv("TADD_BUILD_ROOT");
    char tmpl[] = "/tmp/tadd-slurm-home.XXXXXX";

    REQUIRE(src && build);
    snprintf(script, sizeof(script), "%s/scripts/slurm-local.sh", src);
    snprintf(worker, sizeof(worker), "%s/worker/tadd-worker", build);
    REQUIRE(access(worker, X_OK) == 0);
    cluster_start();
    REQUIRE(mkdtemp(tmpl) != NULL);
    snprintf(home, sizeof(home), "%s", tmpl);

    test_to_the_end();
    test_stop();
    test_scancel_from_outside();
    test_sbatch_fails();
    test_adopt_after_kill();
    CHECK_DONE();
}
