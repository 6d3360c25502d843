/*
 * Fault injection: a small sweep (2 learning rates x 2 seeds, packs of 2,
 * so two workers one after the other) runs while the daemon, or its
 * workers, are killed with SIGKILL at random moments. In the end every
 * trial finished exactly once, and its results, metrics, checkpoints and
 * summary equal those of a run that was never interrupted, but for the
 * wall-clock fields.
 *
 *   test_faults [--mode MODE] [--kills N] [--steps S] [--seed X]
 *
 * MODE: daemon, worker, both (the kills above); aimed (kills inside a
 * database transaction and inside file writes, from fault points; the
 * suite runs it with more steps, since each aimed kill lands within a
 * fraction of a second); disk-full (the home on a
 * small tmpfs that fills up; needs root, else exit 77); db-locked[=SEC]
 * (another process holds the database's write lock SEC seconds, default
 * 3); lost-metrics (see run_lost_metrics).
 *
 * Defaults (the suite's version): both, 20 kills each, 2000 steps, a seed
 * from the clock, printed so a failure can be replayed. scripts/faults.sh
 * runs it longer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "check.h"
#include "clock.h"
#include "harness.h"

static struct th t;
static long steps = 2000;
static int kills = 20;
static unsigned seed;
static double reference_sec; /* the uninterrupted sweep's wall time */

static char sweep_path[PATH_MAX + 64];

static const char *const dirs[] = {
    "faults/default.lr=0.01/seed_42", "faults/default.lr=0.01/seed_43",
    "faults/default.lr=0.015/seed_42", "faults/default.lr=0.015/seed_43"};

/* Evaluations at 0, 100, ... below steps, and at the last step. */
static long n_evals(void)
{
    return (steps - 1) / 100 + 1 + ((steps - 1) % 100 != 0);
}

static void sleep_sec(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Uniform in [lo, hi), from the test's own seeded stream. */
static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * ((double)rand_r(&seed) / ((double)RAND_MAX + 1));
}

/* Restarts after crashes: many for the kills, the default elsewhere. */
static const char *attempts = "1000";

static void start_daemon(void)
{
    th_daemon_start(&t, "--checkpoint-interval", "100",
                    "--max-models-per-pack", "2", "--attempts", attempts,
                    NULL);
}

static void write_sweep(void)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "{\"name\": \"faults\",\n"
             " \"base\": {\"train_steps\": %ld, \"eval_interval\": 100,\n"
             "          \"batch_size\": 32, \"val_size\": 64,\n"
             "          \"test_size\": 64, \"warmup_steps\": 50},\n"
             " \"grid\": {\"lr\": [0.01, 0.015]},\n"
             " \"seeds\": [42, 43]}\n", steps);
    snprintf(sweep_path, sizeof(sweep_path), "%s",
             th_write(&t, "faults.json", text));
}

static void submit(void)
{
    char *out = NULL;

    CHECK_INT_EQ(th_ctl(&t, &out, "submit", sweep_path, NULL), 0);
    free(out);
}

/* Seconds a wait for the sweep may take. */
static const char *wait_timeout = "300";

static int wait_sweep(void)
{
    char *out = NULL;
    int rc = th_ctl(&t, &out, "wait", "faults", "--timeout", wait_timeout,
                    NULL);

    if (rc != 0)
        fprintf(stderr, "wait: %s\n", out);
    free(out);
    return rc;
}

static int finished(void)
{
    return th_db_int(&t, "SELECT COUNT(*) FROM trials WHERE state = 'done'",
                     0) == 4 &&
           th_db_int(&t, "SELECT COUNT(*) FROM packs WHERE state = 'done'",
                     0) == 2;
}

/* The worker's pid from the running pack's handle "pid:N", or 0. */
static pid_t worker_pid(void)
{
    char *h = th_db_text(&t, "SELECT handle FROM packs WHERE state = "
                             "'running' AND handle LIKE 'pid:%'");
    long pid = 0;

    if (h && strncmp(h, "pid:", 4) == 0)
        pid = strtol(h + 4, NULL, 10);
    free(h);
    return (pid_t)pid;
}

/* Kills the daemon at random moments, restarting it each time. */
static void run_daemon_kills(void)
{
    double t0 = tadd_monotonic_seconds();
    int early = -1;

    start_daemon();
    submit();
    for (int k = 0; k < kills; k++) {
        /* Moments right after a start hit the daemon's own recovery. */
        sleep_sec(k % 4 == 0 ? uniform(0, 0.05) : uniform(0.05, 0.8));
        if (early < 0 && finished())
            early = k;
        th_daemon_kill9(&t);
        start_daemon();
    }
    if (early >= 0)
        printf("daemon: the sweep finished before kill %d\n", early + 1);
    CHECK_INT_EQ(wait_sweep(), 0);
    printf("daemon: %d kills, finished in %.1f s\n", kills,
           tadd_monotonic_seconds() - t0);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
}

/*
 * Kills the running worker at random moments; the daemon restarts it.
 * A worker lives up to 0.4 s, or less where the uninterrupted sweep is so
 * quick that lives that long would finish it before the kills are done:
 * on average all lives together then add up to 0.8 of the reference.
 */
static void run_worker_kills(void)
{
    double t0 = tadd_monotonic_seconds(), longest = 1.6 * reference_sec / kills;
    int done = 0;

    if (longest > 0.4)
        longest = 0.4;

    start_daemon();
    submit();
    while (done < kills) {
        pid_t pid = 0;
        double until = tadd_monotonic_seconds() + 20;
        while (!pid && !finished() && tadd_monotonic_seconds() < until) {
            pid = worker_pid();
            if (!pid)
                sleep_sec(0.01);
        }
        if (!pid)
            break;
        sleep_sec(uniform(0, longest));
        if (kill(pid, SIGKILL) == 0)
            done++;
    }
    if (done < kills)
        printf("worker: the sweep finished after %d kills\n", done);
    /* Fewer than half of the kills asked for tests too little. */
    CHECK(done * 2 >= kills);
    CHECK_INT_EQ(wait_sweep(), 0);
    printf("worker: %d kills, finished in %.1f s\n", done,
           tadd_monotonic_seconds() - t0);
    CHECK(th_db_int(&t, "SELECT SUM(attempts) FROM packs", -1) >= done / 2);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
}

/* Files named like tadd_write_file_atomic's temporaries ("*.tmp.*")
 * under the sweep's folder. */
static int count_temp_files(void)
{
    char cmd[PATH_MAX + 128], line[64];
    FILE *p;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "find '%s/faults' -name '*.tmp.*' | wc -l",
             t.home);
    p = popen(cmd, "r");
    if (p && fgets(line, sizeof(line), p))
        n = atoi(line);
    if (p)
        pclose(p);
    return n;
}

/* Waits up to timeout_s for pid to stop at a fault point; 0 when it
 * did not (it exited, or it got past the point's chosen pass). */
static int wait_stopped(pid_t pid, double timeout_s)
{
    double until = tadd_monotonic_seconds() + timeout_s;

    while (tadd_monotonic_seconds() < until) {
        if (th_stopped(pid))
            return 1;
        if (kill(pid, 0) != 0)
            return 0;
        sleep_sec(0.005);
    }
    return 0;
}

/* Sets TADD_FAULT_STOP for the next daemon (and so its workers). */
static void fault_stop_at(const char *program, const char *point, int pass)
{
    char spec[128];

    snprintf(spec, sizeof(spec), "%s:%s:%d", program, point, pass);
    REQUIRE(setenv("TADD_FAULT_STOP", spec, 1) == 0);
}

/*
 * Kills aimed at the moments random ones rarely hit (faultpoint.h): the
 * daemon stopped inside a database transaction, its statements done and
 * COMMIT not yet run; then workers stopped inside a checkpoint or state
 * file write, the data in the temporary file and neither fsync nor rename
 * done. Each is SIGKILLed there; the daemon is started again each time.
 */
static void run_aimed_kills(void)
{
    int in_tx = 0, in_write = 0, aimed = kills / 2 > 0 ? kills / 2 : 1;
    double t0 = tadd_monotonic_seconds();

    start_daemon();
    submit();
    th_daemon_kill9(&t);
    for (int k = 0; k < aimed && !finished(); k++) {
        /* Every daemon start commits a few transactions of its own
         * recovery, then one or more per worker event. */
        fault_stop_at("taddd", "db-commit", (int)uniform(1, 16));
        start_daemon();
        if (wait_stopped(t.daemon, 20))
            in_tx++;
        th_daemon_kill9(&t);
    }
    unsetenv("TADD_FAULT_STOP");
    for (int k = 0; k < aimed && !finished(); k++) {
        pid_t pid = 0;
        double until;
        /* A worker writes best.safetensors at improving evaluations, and
         * last.safetensors and its state every 100 steps here. */
        fault_stop_at("tadd-worker", "file-write", (int)uniform(1, 6));
        start_daemon();
        unsetenv("TADD_FAULT_STOP");
        until = tadd_monotonic_seconds() + 20;
        while (!pid && !finished() && tadd_monotonic_seconds() < until) {
            pid = worker_pid();
            if (!pid)
                sleep_sec(0.005);
        }
        if (pid && wait_stopped(pid, 20))
            in_write++;
        /* The worker too, stopped or not: a stopped one left behind
         * would hold the next daemon's reclaim for half a minute. */
        if (pid)
            kill(pid, SIGKILL);
        th_daemon_kill9(&t);
    }
    printf("aimed: %d kills inside a transaction, %d inside a file write, "
           "%.1f s\n", in_tx, in_write, tadd_monotonic_seconds() - t0);
    /* Most passes chosen must be reached before the sweep ends. */
    CHECK(in_tx * 2 >= aimed);
    CHECK(in_write * 2 >= aimed);
    start_daemon();
    CHECK_INT_EQ(wait_sweep(), 0);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    /* A write killed before its rename leaves its temporary file; the
     * worker that takes over the folder removes such leftovers. */
    CHECK_INT_EQ(count_temp_files(), 0);
}

/* Data rows of a metrics.csv, -1 when it cannot be read. */
static int csv_rows(const char *dir)
{
    char path[PATH_MAX * 2];
    char *text;
    int n = -1;

    snprintf(path, sizeof(path), "%s/%s/metrics.csv", t.home, dir);
    text = th_read(path);
    if (text) {
        n = 0;
        for (char *p = text; *p; p++)
            n += *p == '\n';
        n--; /* the header */
    }
    free(text);
    return n;
}

/*
 * Evaluations the daemon never read: it is frozen (SIGSTOP) while the
 * worker runs 300 steps and saves a state past them, then killed. The
 * next daemon resumes from that state, so the worker does not send those
 * evaluations again; they must still reach the metrics table (from the
 * worker's progress file). Every row of each metrics.csv is in the table.
 */
static void run_lost_metrics(void)
{
    int before, after = 0, in_db;
    double until;

    start_daemon();
    submit();
    REQUIRE(th_db_wait(&t, "SELECT MAX(checkpoint_step) FROM packs WHERE "
                           "state = 'running'", 200, 60) >= 200);
    before = csv_rows(dirs[0]);
    REQUIRE(kill(t.daemon, SIGSTOP) == 0);
    until = tadd_monotonic_seconds() + 60;
    while (tadd_monotonic_seconds() < until &&
           (after = csv_rows(dirs[0])) < before + 3)
        sleep_sec(0.02);
    th_daemon_kill9(&t);
    REQUIRE(after >= before + 3);
    start_daemon();
    CHECK_INT_EQ(wait_sweep(), 0);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    in_db = (int)th_db_int(&t, "SELECT COUNT(*) FROM metrics_named WHERE "
                               "config = 'default.lr=0.01' AND seed = 42",
                           -1);
    printf("lost-metrics: %s/metrics.csv has %d rows, the database %d\n",
           dirs[0], csv_rows(dirs[0]), in_db);
    CHECK_INT_EQ(in_db, csv_rows(dirs[0]));
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM metrics", -1),
                 4 * n_evals());
}

/* Runs argv; returns its exit status, or -1. Output goes to /dev/null. */
static int run_quiet(char *const argv[])
{
    pid_t pid = fork();
    int status;

    REQUIRE(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The checkpoint reads back and evaluates. */
static int ckpt_usable(const char *dir, const char *name)
{
    char path[PATH_MAX * 2];
    char *argv[] = {t.worker, "eval", path, "--n", "10", "--seeds", "1",
                    NULL};

    snprintf(path, sizeof(path), "%s/%s/%s", t.home, dir, name);
    return run_quiet(argv) == 0;
}

/* The whole database passes SQLite's own check. */
static void check_db_intact(const char *when)
{
    char *r = th_db_text(&t, "PRAGMA integrity_check");

    if (!r || strcmp(r, "ok\n") != 0)
        CHECK_FAIL_("%s: database integrity_check: %s", when,
                    r ? r : "(nothing)");
    free(r);
}

/*
 * The home on a small tmpfs that is filled up after the first
 * checkpoints: the worker and the database cannot write. The daemon must
 * say why, keep the last checkpoints and the database intact, and finish
 * the sweep once space returns, with the reference's results.
 */
static int run_disk_full(void)
{
    char filler[PATH_MAX + 16], state[PATH_MAX * 2];
    char *before, *after, *reason;
    double until, t_back;
    int fd, full = 0;
    int64_t id;

    REQUIRE(mkdir(t.home, 0700) == 0);
    if (mount("tmpfs", t.home, "tmpfs", 0, "size=16m,mode=0700") != 0) {
        /* Mounting needs root (CAP_SYS_ADMIN); say so, do not pass. */
        fprintf(stderr, "note: cannot mount a tmpfs (%s): disk-full not "
                        "tested\n", strerror(errno));
        return 77;
    }
    start_daemon();
    submit();
    REQUIRE(th_db_wait(&t, "SELECT MAX(checkpoint_step) FROM packs WHERE "
                           "state = 'running'", 200, 60) >= 200);
    id = th_db_int(&t, "SELECT id FROM packs WHERE state = 'running'", -1);
    snprintf(state, sizeof(state), "%s/faults/packs/%lld/resume.state",
             t.home, (long long)id);

    /* Fill every byte left. */
    snprintf(filler, sizeof(filler), "%s/filler", t.home);
    fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    {
        static char chunk[4096];
        while (write(fd, chunk, sizeof(chunk)) > 0)
            ;
        full = errno == ENOSPC;
    }
    close(fd);
    REQUIRE(full);

    /* The worker finds out at its next write and exits; the database
     * cannot take the news either, so the log says why. The daemon gives
     * the pack up after its attempts (3, the default). */
    until = tadd_monotonic_seconds() + 60;
    reason = NULL;
    while (tadd_monotonic_seconds() < until) {
        char log[PATH_MAX + 16];
        char *text, *hit;
        snprintf(log, sizeof(log), "%s/taddd.log", t.home);
        text = th_read(log);
        hit = text ? strstr(text, "No space left on device") : NULL;
        if (hit) {
            char *bol = hit;
            while (bol > text && bol[-1] != '\n')
                bol--;
            reason = strndup(bol, (size_t)(strchrnul(hit, '\n') - bol));
        }
        free(text);
        if (reason)
            break;
        sleep_sec(0.1);
    }
    printf("disk-full: the log says: %.400s\n", reason ? reason : "");
    if (!reason)
        CHECK_FAIL_("disk-full: no clear error in taddd.log");
    free(reason);
    /* Give the daemon time to spend its attempts, then look. */
    sleep_sec(5);
    CHECK_INT_EQ(th_ctl(&t, NULL, "ping", NULL), 0);
    {
        char *out = NULL;
        CHECK_INT_EQ(th_ctl(&t, &out, "status", NULL), 0);
        printf("disk-full: status while full:\n%s", out);
        free(out);
    }

    /* While full, nothing written before is damaged. */
    before = th_read(state);
    REQUIRE(before != NULL);
    sleep_sec(3);
    after = th_read(state);
    CHECK(after != NULL && strcmp(before, after) == 0);
    free(before);
    free(after);
    /* The first pack trains the first config's two seeds. */
    for (int i = 0; i < 2; i++) {
        CHECK(ckpt_usable(dirs[i], "last.safetensors"));
        CHECK(ckpt_usable(dirs[i], "best.safetensors"));
    }
    check_db_intact("disk full");

    /* While full, the pack given up is held with its trials running,
     * here and in the database alike, until its failure is recorded. */
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials WHERE state = "
                               "'running'", -1), 2);
    {
        char log[PATH_MAX + 16];
        char *text;
        snprintf(log, sizeof(log), "%s/taddd.log", t.home);
        text = th_read(log);
        CHECK(text != NULL);
        if (text)
            CHECK_STR_HAS(text, "pack 1: cannot record how its worker "
                                "ended: ");
        free(text);
    }

    /* Space comes back. The daemon records the failure at its next try
     * (at most 30 s later), retry queues the pack again, and the sweep
     * goes on from the saved state. */
    REQUIRE(unlink(filler) == 0);
    t_back = tadd_monotonic_seconds();
    CHECK_INT_EQ(th_db_wait(&t, "SELECT COUNT(*) FROM packs WHERE state = "
                                "'failed'", 1, 40), 1);
    printf("disk-full: the failure was recorded %.1f s after space came "
           "back\n", tadd_monotonic_seconds() - t_back);
    {
        char *out = NULL;
        int rc = th_ctl(&t, &out, "retry", "faults", NULL);
        printf("disk-full: retry (exit %d): %s", rc, out);
        CHECK_INT_EQ(rc, 0);
        free(out);
    }
    if (wait_sweep() != 0) {
        CHECK_FAIL_("disk-full: the sweep did not finish within %s s of "
                    "the retry", wait_timeout);
        /* Whether a restart recovers it, for the failure's report: a
         * new daemon resumes the packs left running. */
        CHECK_INT_EQ(th_daemon_stop(&t), 0);
        start_daemon();
        CHECK_INT_EQ(wait_sweep(), 0);
        printf("disk-full: finished after a restart of the daemon\n");
    }
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    check_db_intact("after the sweep");
    return 0;
}

/*
 * Another process holds the database's write lock (BEGIN EXCLUSIVE, as
 * the sqlite3 shell would) for hold seconds while the worker reports. The
 * daemon must wait and retry: no report lost, the sweep as the
 * reference's.
 */
static void run_db_locked(double hold)
{
    char path[PATH_MAX + 16];
    double worst = 0, t_lock;
    pid_t pid;
    int status, pfd[2];

    start_daemon();
    submit();
    REQUIRE(th_db_wait(&t, "SELECT MAX(checkpoint_step) FROM packs WHERE "
                           "state = 'running'", 100, 60) >= 100);
    snprintf(path, sizeof(path), "%s/tadd.db", t.home);
    REQUIRE(pipe(pfd) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        int rc;
        close(pfd[0]);
        if (sqlite3_open(path, &db) != SQLITE_OK)
            _exit(2);
        sqlite3_busy_timeout(db, 10000);
        rc = sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            _exit(3);
        (void)!write(pfd[1], "L", 1);
        sleep_sec(hold);
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(db);
        _exit(rc == SQLITE_OK ? 0 : 4);
    }
    close(pfd[1]);
    {
        char c;
        REQUIRE(read(pfd[0], &c, 1) == 1);
    }
    close(pfd[0]);
    t_lock = tadd_monotonic_seconds();
    /* Requests meanwhile: the daemon answers once it has the lock. */
    while (tadd_monotonic_seconds() < t_lock + hold + 1) {
        double a = tadd_monotonic_seconds();
        CHECK_INT_EQ(th_ctl(&t, NULL, "status", NULL), 0);
        if (tadd_monotonic_seconds() - a > worst)
            worst = tadd_monotonic_seconds() - a;
    }
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("db-locked: held %.0f s; slowest status meanwhile %.2f s\n", hold,
           worst);
    CHECK_INT_EQ(wait_sweep(), 0);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    check_db_intact("after the lock");
    /* Held past the daemon's 30 s wait: the event it was recording was
     * refused, kept, and recorded after the lock went (check_against
     * then finds every row). */
    if (hold > 30) {
        char log[PATH_MAX + 16];
        char *text;
        snprintf(log, sizeof(log), "%s/taddd.log", t.home);
        text = th_read(log);
        CHECK(text && strstr(text, "the database refused a worker event"));
        CHECK(text && strstr(text, "refused are recorded now"));
        free(text);
    }
}

/* summary.json without its wall-clock fields, as canonical text. */
static char *summary_text(const char *dir)
{
    static const char *const clock[] = {"elapsed_sec",
                                        "first_success_elapsed_sec"};
    char path[PATH_MAX * 2];
    char *text, *out;
    cJSON *j;

    snprintf(path, sizeof(path), "%s/summary.json", dir);
    text = th_read(path);
    j = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!j)
        return NULL;
    for (size_t i = 0; i < sizeof(clock) / sizeof(clock[0]); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(j, clock[i]);
    out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

static const char trial_sql[] =
    "SELECT c.name, t.seed, t.state, t.step, t.best_val_exact, t.best_step, "
    "t.success, t.params, t.test_exact, t.first_success_step "
    "FROM trials t JOIN configs c ON c.id = t.config_id "
    "ORDER BY c.name, t.seed";
static const char metrics_sql[] =
    "SELECT config, seed, step, train_loss, val_exact, val_token_acc, "
    "grad_norm, lr FROM metrics_named ORDER BY config, seed, step";

/* The run in the current home against the reference in ref. */
static void check_against(const char *ref, const char *what)
{
    char run[PATH_MAX];
    char *run_trials, *run_metrics, *ref_trials, *ref_metrics;

    /* Every trial finished, once; every evaluation recorded once. */
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials WHERE state = "
                               "'done'", -1), 4);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM events WHERE kind = "
                               "'trial' AND state = 'done'", -1), 4);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(DISTINCT ref_id) FROM events "
                               "WHERE kind = 'trial' AND state = 'done'",
                           -1), 4);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM events WHERE kind = "
                               "'pack' AND state = 'done'", -1), 2);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM metrics", -1),
                 4 * n_evals());

    run_trials = th_db_text(&t, trial_sql);
    run_metrics = th_db_text(&t, metrics_sql);
    snprintf(run, sizeof(run), "%s", t.home);
    th_use_home(&t, ref);
    ref_trials = th_db_text(&t, trial_sql);
    ref_metrics = th_db_text(&t, metrics_sql);
    if (strcmp(run_trials, ref_trials) != 0)
        CHECK_FAIL_("%s: trial results differ:\n%s\nreference:\n%s", what,
                    run_trials, ref_trials);
    if (strcmp(run_metrics, ref_metrics) != 0)
        CHECK_FAIL_("%s: metrics rows differ from the reference", what);
    for (int i = 0; i < 4; i++) {
        char a[PATH_MAX * 2], b[PATH_MAX * 2];
        char *sa, *sb;
        snprintf(a, sizeof(a), "%s/%s", run, dirs[i]);
        snprintf(b, sizeof(b), "%s/%s", t.home, dirs[i]);
        if (!th_same_model(a, b))
            CHECK_FAIL_("%s: %s differs from the reference", what, dirs[i]);
        sa = summary_text(a);
        sb = summary_text(b);
        if (!sa || !sb || strcmp(sa, sb) != 0)
            CHECK_FAIL_("%s: %s/summary.json differs:\n%s\n%s", what,
                        dirs[i], sa ? sa : "(none)", sb ? sb : "(none)");
        cJSON_free(sa);
        cJSON_free(sb);
    }
    free(run_trials);
    free(run_metrics);
    free(ref_trials);
    free(ref_metrics);
    th_use_home(&t, run + strlen(t.root) + 1);
}

int main(int argc, char **argv)
{
    const char *mode = "both";
    double t0;

    seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--mode") == 0)
            mode = argv[i + 1];
        else if (strcmp(argv[i], "--kills") == 0)
            kills = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0)
            steps = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = (unsigned)strtoul(argv[i + 1], NULL, 10);
    }
    REQUIRE(kills >= 1 && steps >= 200);
    printf("seed %u, %d kills, %ld steps, mode %s\n", seed, kills, steps,
           mode);

    th_init(&t, "faults");
    write_sweep();
    if (strcmp(mode, "lost-metrics") == 0) {
        th_use_home(&t, "lost");
        run_lost_metrics();
        th_cleanup(&t, check_failures);
        CHECK_DONE();
    }
    if (strcmp(mode, "disk-full") == 0 && geteuid() != 0) {
        fprintf(stderr, "note: not root: cannot mount a tmpfs, disk-full "
                        "not tested\n");
        th_cleanup(&t, check_failures);
        return 77;
    }
    t0 = tadd_monotonic_seconds();
    th_use_home(&t, "ref");
    start_daemon();
    submit();
    REQUIRE(wait_sweep() == 0);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    reference_sec = tadd_monotonic_seconds() - t0;
    printf("reference: %.1f s uninterrupted\n", reference_sec);

    if (strcmp(mode, "daemon") == 0 || strcmp(mode, "both") == 0) {
        th_use_home(&t, "daemon");
        run_daemon_kills();
        check_against("ref", "daemon kills");
        if (check_failures)
            th_dump_log(&t);
    }
    if (strcmp(mode, "worker") == 0 || strcmp(mode, "both") == 0) {
        th_use_home(&t, "worker");
        run_worker_kills();
        check_against("ref", "worker kills");
        if (check_failures)
            th_dump_log(&t);
    }
    if (strcmp(mode, "aimed") == 0) {
        th_use_home(&t, "aimed");
        run_aimed_kills();
        check_against("ref", "aimed kills");
        if (check_failures)
            th_dump_log(&t);
    }
    if (strcmp(mode, "disk-full") == 0) {
        int rc;
        th_use_home(&t, "full");
        attempts = "3";
        wait_timeout = "20";
        rc = run_disk_full();
        if (rc == 0)
            check_against("ref", "disk full");
        if (check_failures) {
            char cmd[3 * PATH_MAX];
            th_dump_log(&t);
            /* The home goes with the tmpfs: keep its log for a look. */
            snprintf(cmd, sizeof(cmd), "cp '%s/taddd.log' '%s/full.log'",
                     t.home, t.root);
            (void)!system(cmd);
        }
        if (t.daemon)
            th_daemon_kill9(&t);
        umount2(t.home, MNT_DETACH);
        if (rc == 77) {
            th_cleanup(&t, check_failures);
            return 77;
        }
    }
    if (strncmp(mode, "db-locked", 9) == 0) {
        double hold = mode[9] == '=' ? atof(mode + 10) : 3;
        th_use_home(&t, "locked");
        run_db_locked(hold);
        check_against("ref", "database locked");
        if (check_failures)
            th_dump_log(&t);
    }
    if (check_failures)
        fprintf(stderr, "replay with --seed %u\n", seed);
    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
