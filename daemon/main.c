/*
 * taddd: the sweep daemon. Keeps the queue in SQLite, runs packs through
 * workers, answers taddctl on a Unix socket in the home folder.
 *
 * Runs in the foreground (for systemd, or `taddd &`); --daemonize detaches
 * and returns once the socket is listening.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calibration.h"
#include "daemon.h"
#include "executor_slurm.h"
#include "faultpoint.h"
#include "fsutil.h"
#include "home.h"
#include "log.h"
#include "queue.h"
#include "sweep_results.h"
#include "text.h"

struct daemon_args {
    const char *home;
    const char *config;
    int daemonize;
};

static void daemon_usage(FILE *f)
{
    fputs("usage: taddd [--home DIR] [--config FILE] [--daemonize]\n"
          "             [--workers N] [--threads N] [--max-models-per-pack N]\n"
          "             [--attempts N] [--checkpoint-interval STEPS]\n"
          "             [--stop-timeout SEC] [--log-level LEVEL]\n"
          "             [--worker PATH] [--executor local|slurm]\n"
          "\n"
          "The tadd sweep daemon. The home folder (default: $TADD_HOME, else\n"
          "runs/ in the working directory) holds the database, the socket,\n"
          "the log taddd.log and every sweep's files.\n"
          "\n"
          "  --home DIR        the home folder\n"
          "  --config FILE     settings file (default: HOME/taddd.json if "
          "present)\n"
          "  --daemonize       detach; return once the daemon listens\n"
          "  --workers N       packs trained at once\n"
          "  --threads N       threads per worker\n"
          "  --max-models-per-pack N   models in one worker\n"
          "                    (these three, when not given: measured on\n"
          "                    this machine by the worker; with slurm, or\n"
          "                    if that fails, 1, CPUs / workers and 8)\n"
          "  --attempts N      restarts after a worker crashes (default 3)\n"
          "  --checkpoint-interval STEPS   steps between resume states "
          "(default 1000)\n"
          "  --stop-timeout SEC   wait for a stopping worker before killing "
          "it (60)\n"
          "  --log-level LEVEL debug, info, warn or error (default info)\n"
          "  --worker PATH     the tadd-worker program (default: next to "
          "taddd)\n"
          "  --executor NAME   local (default) or slurm: packs as batch "
          "jobs (docs/slurm.md)\n"
          "  --version, --help\n",
          f);
}

/* Long flags that are settings, by the setting's name. */
static const struct {
    const char *flag;
    const char *key;
} daemon_setting_flags[] = {
    {"workers", "workers"},
    {"threads", "threads"},
    {"max-models-per-pack", "max_models_per_pack"},
    {"attempts", "attempts"},
    {"checkpoint-interval", "checkpoint_interval"},
    {"stop-timeout", "stop_timeout"},
    {"log-level", "log_level"},
    {"worker", "worker"},
    {"executor", "executor"},
};

#define N_SETTING_FLAGS                                                     \
    (sizeof(daemon_setting_flags) / sizeof(daemon_setting_flags[0]))

/* Command line settings are applied after the config file, so they are
 * kept as pairs until then. */
struct daemon_flag_value {
    const char *key;
    const char *value;
};

static int daemon_parse_args(int argc, char **argv, struct daemon_args *a,
                             struct daemon_flag_value *vals, int *n_vals)
{
    struct option opts[N_SETTING_FLAGS + 6];
    int n = 0, c, idx;

    for (size_t i = 0; i < N_SETTING_FLAGS; i++)
        opts[n++] = (struct option){daemon_setting_flags[i].flag,
                                    required_argument, NULL, 1000 + (int)i};
    opts[n++] = (struct option){"home", required_argument, NULL, 'H'};
    opts[n++] = (struct option){"config", required_argument, NULL, 'c'};
    opts[n++] = (struct option){"daemonize", no_argument, NULL, 'd'};
    opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    opts[n++] = (struct option){"version", no_argument, NULL, 'V'};
    opts[n] = (struct option){NULL, 0, NULL, 0};
    memset(a, 0, sizeof(*a));
    *n_vals = 0;
    while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        switch (c) {
        case 'H':
            a->home = optarg;
            break;
        case 'c':
            a->config = optarg;
            break;
        case 'd':
            a->daemonize = 1;
            break;
        case 'h':
            daemon_usage(stdout);
            exit(0);
        case 'V':
            printf("taddd %s (protocol %d)\n", TADD_VERSION,
                   TADD_PROTOCOL_VERSION);
            exit(0);
        default:
            if (c >= 1000 && c < 1000 + (int)N_SETTING_FLAGS) {
                vals[*n_vals].key = daemon_setting_flags[c - 1000].key;
                vals[(*n_vals)++].value = optarg;
                break;
            }
            daemon_usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "taddd: unexpected argument \"%s\"\n", argv[optind]);
        daemon_usage(stderr);
        return -1;
    }
    return 0;
}

/*
 * Makes the home folder absolute, creating it private (0700) when it does
 * not exist. An existing home must already be a folder of this user with
 * no group or other bits: it is refused rather than made private, since
 * chmod on a folder given by mistake (/tmp, a shared 1777 folder, a
 * project folder) would lock its other users out.
 */
static int daemon_home(struct tadd_daemon *d, const char *home, char *err,
                       size_t errlen)
{
    struct stat st;
    int existed = stat(home, &st) == 0;

    if (tadd_mkdir_p(home, 0700, err, errlen) != 0)
        return -1;
    if (!realpath(home, d->home)) {
        tadd_msgf(err, errlen, "home %s: %s", home, strerror(errno));
        return -1;
    }
    if (stat(d->home, &st) != 0 || !S_ISDIR(st.st_mode)) {
        tadd_msgf(err, errlen, "home %s is not a folder", d->home);
        return -1;
    }
    /* Checked for a home just made too: another user may have made it
     * first in a shared parent. */
    if (st.st_uid != geteuid()) {
        tadd_msgf(err, errlen,
                  "home %s belongs to uid %ld, not to this user (uid %ld): "
                  "choose another --home",
                  d->home, (long)st.st_uid, (long)geteuid());
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        tadd_msgf(err, errlen,
                  "home %s has mode %04o, open to other users; the daemon "
                  "keeps its socket and database in a private folder: run "
                  "chmod 700 %s, or choose another --home",
                  d->home, (unsigned)(st.st_mode & 07777), d->home);
        return -1;
    }
    /* mkdir under a umask such as 0277 leaves the owner without rights. */
    if (!existed && (st.st_mode & 0700) != 0700 &&
        chmod(d->home, 0700) != 0) {
        tadd_msgf(err, errlen, "home %s: cannot make it 0700: %s", d->home,
                  strerror(errno));
        return -1;
    }
    if (tadd_pathf(d->sock_path, sizeof(d->sock_path), "%s/%s", d->home,
                   TADD_HOME_SOCKET) != 0 ||
        tadd_pathf(d->db_path, sizeof(d->db_path), "%s/%s", d->home,
                   TADD_HOME_DB) != 0) {
        tadd_msgf(err, errlen, "home %s: path too long", d->home);
        return -1;
    }
    return 0;
}

static int daemon_settings(struct tadd_daemon *d, const char *config,
                           const struct daemon_flag_value *vals, int n_vals,
                           char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    char *text = NULL;
    size_t len;

    tadd_settings_defaults(&d->set);
    if (config)
        snprintf(path, sizeof(path), "%s", config);
    else
        snprintf(path, sizeof(path), "%s/%s", d->home, TADD_HOME_SETTINGS);
    if (config || tadd_path_exists(path)) {
        if (tadd_read_file(path, 1 << 20, &text, &len, err, errlen) != 0)
            return -1;
        if (tadd_settings_apply_json(&d->set, text, path, err, errlen) !=
            0) {
            free(text);
            return -1;
        }
        free(text);
    }
    for (int i = 0; i < n_vals; i++)
        if (tadd_settings_apply_text(&d->set, vals[i].key, vals[i].value, err,
                                     errlen) != 0)
            return -1;
    return 0;
}

/* 1 when path is an executable regular file. */
static int daemon_is_program(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, X_OK) == 0;
}

/*
 * The worker program: the setting, else tadd-worker next to taddd (an
 * install), else ../worker/tadd-worker (the build tree), else on PATH.
 */
static int daemon_find_worker(struct tadd_daemon *d, char *err,
                              size_t errlen)
{
    char exe[PATH_MAX];
    char cand[PATH_MAX * 2];
    ssize_t n;

    if (d->set.worker[0]) {
        if (!daemon_is_program(d->set.worker) ||
            !realpath(d->set.worker, d->worker_path)) {
            tadd_msgf(err, errlen, "worker %s is not an executable file",
                     d->set.worker);
            return -1;
        }
        return 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;

        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(cand, sizeof(cand), "%s/tadd-worker", exe);
        if (daemon_is_program(cand) && realpath(cand, d->worker_path))
            return 0;
        snprintf(cand, sizeof(cand), "%s/../worker/tadd-worker", exe);
        if (daemon_is_program(cand) && realpath(cand, d->worker_path))
            return 0;
    }
    {
        const char *path = getenv("PATH");
        char *copy = strdup(path ? path : "");
        char *save = NULL;

        for (char *dir = strtok_r(copy, ":", &save); dir;
             dir = strtok_r(NULL, ":", &save)) {
            snprintf(cand, sizeof(cand), "%s/tadd-worker", dir);
            if (daemon_is_program(cand) && realpath(cand, d->worker_path)) {
                free(copy);
                return 0;
            }
        }
        free(copy);
    }
    snprintf(err, errlen,
             "cannot find tadd-worker next to taddd or on PATH; give "
             "--worker PATH");
    return -1;
}

/*
 * Takes the home's lock so that one daemon serves a home. Returns the
 * lock's descriptor (kept open for the daemon's life), or -1 with a
 * message.
 */
static int daemon_lock(struct tadd_daemon *d, char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    char pid[32];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", d->home, TADD_HOME_LOCK);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        tadd_msgf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        n = read(fd, pid, sizeof(pid) - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        tadd_msgf(err, errlen, "taddd is already running for %s (pid %s)",
                 d->home, pid[0] ? pid : "unknown");
        close(fd);
        return -1;
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        tadd_msgf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Detaches from the terminal. The parent waits on a pipe until the child
 * reports that it listens (a byte 0) or fails (its message), and exits
 * with the matching status. Returns the pipe's write end in the child.
 */
static int daemon_detach(void)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) != 0) {
        perror("taddd: pipe");
        exit(1);
    }
    pid = fork();
    if (pid < 0) {
        perror("taddd: fork");
        exit(1);
    }
    if (pid > 0) {
        char msg[1024];
        ssize_t n, got = 0;

        close(fds[1]);
        while ((n = read(fds[0], msg + got, sizeof(msg) - 1 - (size_t)got)) >
               0)
            got += n;
        msg[got] = '\0';
        if (got >= 1 && msg[0] == '\0') {
            printf("taddd started (pid %s)\n", msg + 1);
            exit(0);
        }
        fprintf(stderr, "taddd: %s\n", got > 0 ? msg : "failed to start");
        exit(1);
    }
    close(fds[0]);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    setsid();
    return fds[1];
}

static void daemon_report_ready(int *fd)
{
    char msg[32];
    int n;

    if (*fd < 0)
        return;
    n = snprintf(msg + 1, sizeof(msg) - 1, "%ld", (long)getpid());
    msg[0] = '\0';
    if (write(*fd, msg, (size_t)n + 1) < 0)
        tadd_warn("cannot tell the starting shell that taddd runs");
    close(*fd);
    *fd = -1;
    /* Standard streams go nowhere once detached. */
    {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            if (null > 2)
                close(null);
        }
    }
}

static void daemon_report_failure(int fd, const char *msg)
{
    if (fd >= 0) {
        if (write(fd, msg, strlen(msg)) < 0)
            fprintf(stderr, "taddd: %s\n", msg);
        return;
    }
    fprintf(stderr, "taddd: %s\n", msg);
}

/* ---- the loop ---- */

static struct tadd_daemon daemon_state;
static uv_signal_t daemon_sigterm, daemon_sigint;
static uv_timer_t daemon_exit_timer;

static void daemon_on_request(void *ctx, struct tadd_conn *c,
                              const cJSON *req)
{
    tadd_request_dispatch(ctx, c, req);
}

static void daemon_on_close(void *ctx, struct tadd_conn *c)
{
    tadd_waiters_drop_conn(ctx, c);
}

static void daemon_on_change(void *ctx, int64_t sweep_id)
{
    tadd_waiters_notify(ctx, sweep_id);
    tadd_sweep_results_changed(ctx, sweep_id);
}

static void daemon_close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void daemon_exit_now(uv_timer_t *timer)
{
    struct tadd_daemon *d = timer->data;

    tadd_server_close(d->srv);
    d->srv = NULL;
    uv_close((uv_handle_t *)&daemon_sigterm, NULL);
    uv_close((uv_handle_t *)&daemon_sigint, NULL);
    uv_close((uv_handle_t *)timer, NULL);
}

/*
 * Every worker is gone: close the socket and the signal handlers, and the
 * loop ends once the last handle is closed. This runs inside a worker's
 * exit callback, whose handles are still being closed, so the closing
 * happens on the next turn of the loop.
 */
static void daemon_on_idle(void *ctx)
{
    struct tadd_daemon *d = ctx;

    tadd_info("all workers stopped; exiting");
    daemon_exit_timer.data = d;
    uv_timer_start(&daemon_exit_timer, daemon_exit_now, 0, 0);
}

void tadd_daemon_stop(struct tadd_daemon *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    tadd_info("stopping (%s): %d workers to stop", why,
              tadd_scheduler_busy(d->sched));
    tadd_waiters_fail_all(d, "the daemon stopped before the sweep finished");
    tadd_scheduler_shutdown(d->sched);
}

static void daemon_on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    tadd_daemon_stop(&daemon_state, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static FILE *daemon_open_log(const struct tadd_daemon *d, char *err,
                             size_t errlen)
{
    char path[PATH_MAX + 32];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", d->home, TADD_HOME_LOG);
    f = fopen(path, "ae");
    if (!f)
        tadd_msgf(err, errlen, "cannot open log %s: %s", path,
                 strerror(errno));
    return f;
}

int main(int argc, char **argv)
{
    static const struct tadd_server_callbacks server_cb = {
        .on_request = daemon_on_request,
        .on_close = daemon_on_close,
    };
    static const struct tadd_scheduler_callbacks sched_cb = {
        .on_change = daemon_on_change,
        .on_idle = daemon_on_idle,
    };
    struct tadd_daemon *d = &daemon_state;
    struct daemon_flag_value *vals = calloc((size_t)argc, sizeof(*vals));
    struct daemon_args args;
    char err[1024];

    tadd_fault_init("taddd");
    FILE *log = NULL;
    int n_vals = 0;
    int ready_fd = -1;
    int lock_fd = -1;
    int rc = 1;

    /* Each flag takes at least one argument, so argc bounds them. */
    if (!vals || daemon_parse_args(argc, argv, &args, vals, &n_vals) != 0) {
        free(vals);
        return 2;
    }
    /* Everything the daemon creates is private to its user. */
    umask(077);
    signal(SIGPIPE, SIG_IGN);
    if (daemon_home(d, tadd_home_choose(args.home), err, sizeof(err)) != 0 ||
        daemon_settings(d, args.config, vals, n_vals, err, sizeof(err)) !=
            0 ||
        daemon_find_worker(d, err, sizeof(err)) != 0) {
        fprintf(stderr, "taddd: %s\n", err);
        free(vals);
        return 1;
    }
    if (args.daemonize)
        ready_fd = daemon_detach();
    lock_fd = daemon_lock(d, err, sizeof(err));
    if (lock_fd < 0 || !(log = daemon_open_log(d, err, sizeof(err))))
        goto fail;
    tadd_log_set_output(log);
    tadd_log_set_level(d->set.log_level);
    if (tadd_calibrate_settings(&d->set, d->home, d->worker_path,
                                d->calibration, sizeof(d->calibration), err,
                                sizeof(err)) != 0)
        tadd_warn("%s; using the fixed defaults", err);
    else if (d->calibration[0])
        tadd_info("sized from measurement: %s", d->calibration);
    tadd_settings_finish(&d->set);
    tadd_info("taddd %s starting: home %s, %d workers x %d threads, packs "
              "of up to %d models, %d attempts, worker %s",
              TADD_VERSION, d->home, d->set.workers, d->set.threads,
              d->set.max_models_per_pack, d->set.attempts, d->worker_path);
    d->loop = uv_default_loop();
    d->started_at = tadd_queue_now();
    if (tadd_db_open(&d->db, d->db_path, err, sizeof(err)) != 0)
        goto fail;
    if (strcmp(d->set.executor, "slurm") == 0)
        d->ex = tadd_executor_slurm_new(d->loop, d->worker_path, d->home,
                                        &d->set.slurm, err, sizeof(err));
    else
        d->ex = tadd_executor_local_new(d->loop, d->worker_path, d->home,
                                        err, sizeof(err));
    if (!d->ex)
        goto fail;
    d->sched = tadd_scheduler_new(d->loop, d->db, d->ex, &d->set, d->home,
                                  &sched_cb, d);
    if (!d->sched) {
        tadd_msgf(err, sizeof(err), "out of memory");
        goto fail;
    }
    if (tadd_scheduler_recover(d->sched, err, sizeof(err)) != 0)
        goto fail;
    /* The lock is held: a socket file left by a dead daemon is stale. */
    unlink(d->sock_path);
    d->srv = tadd_server_new(d->loop, d->sock_path, &server_cb, d, err,
                             sizeof(err));
    if (!d->srv)
        goto fail;
    uv_timer_init(d->loop, &daemon_exit_timer);
    uv_signal_init(d->loop, &daemon_sigterm);
    uv_signal_init(d->loop, &daemon_sigint);
    uv_signal_start(&daemon_sigterm, daemon_on_signal, SIGTERM);
    uv_signal_start(&daemon_sigint, daemon_on_signal, SIGINT);
    tadd_info("listening on %s", d->sock_path);
    daemon_report_ready(&ready_fd);
    tadd_scheduler_kick(d->sched);
    uv_run(d->loop, UV_RUN_DEFAULT);
    rc = 0;
    tadd_info("taddd stopped");
    goto cleanup;
fail:
    tadd_error("%s", err);
    daemon_report_failure(ready_fd, err);
cleanup:
    if (d->srv)
        tadd_server_close(d->srv);
    if (d->loop) {
        uv_walk(d->loop, daemon_close_handle, NULL);
        uv_run(d->loop, UV_RUN_DEFAULT);
        uv_loop_close(d->loop);
    }
    if (d->sched)
        tadd_scheduler_free(d->sched);
    if (d->ex)
        d->ex->ops->destroy(d->ex);
    tadd_db_close(d->db);
    if (lock_fd >= 0)
        close(lock_fd);
    if (ready_fd >= 0)
        close(ready_fd);
    if (log)
        fclose(log);
    free(vals);
    return rc;
}
