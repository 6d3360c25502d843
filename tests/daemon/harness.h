/*
 * What the daemon tests share: a temporary home, a real taddd started from
 * the build tree, taddctl runs with their output captured, raw socket
 * requests, database queries and file comparisons.
 *
 * Programs come from $TADD_BUILD_ROOT (daemon/taddd, cli/taddctl,
 * worker/tadd-worker). Every helper that can fail reports through the
 * check.h macros, so a test reads as a list of steps.
 */
#ifndef TADD_TESTS_DAEMON_HARNESS_H
#define TADD_TESTS_DAEMON_HARNESS_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

struct th {
    char taddd[PATH_MAX];
    char taddctl[PATH_MAX];
    char worker[PATH_MAX];
    char root[PATH_MAX]; /* the test's temporary folder */
    char home[PATH_MAX]; /* the current home, under root */
    pid_t daemon;        /* the running taddd, or 0 */
};

/* Finds the programs and makes a fresh temporary folder with the home
 * root/home. Exits the test when a program is missing. */
void th_init(struct th *t, const char *name);

/* Switches to another home under the same root (for a second run). */
void th_use_home(struct th *t, const char *name);

/* Starts taddd in the foreground on the current home with --worker,
 * fixed sizes (1 worker, 1 thread, packs of 8) and the extra arguments
 * (NULL-terminated); returns once its socket answers, or once it stopped
 * at a fault point. */
void th_daemon_start(struct th *t, ...);

/* 1 when process pid is stopped (SIGSTOP, as at a fault point). */
int th_stopped(pid_t pid);

/* SIGTERM, then waits for the daemon to exit; returns its exit status. */
int th_daemon_stop(struct th *t);

/* Waits for the daemon to exit by itself (after a shutdown request);
 * returns its exit status, or -1 when it still runs after timeout_s. */
int th_daemon_wait(struct th *t, double timeout_s);

/* SIGKILL, and reaps it. */
void th_daemon_kill9(struct th *t);

/*
 * Runs taddctl --home HOME with the arguments (NULL-terminated); *out
 * (may be NULL) gets stdout and stderr together (caller frees). Returns
 * its exit status, or -1 when it was killed.
 */
int th_ctl(struct th *t, char **out, ...);

/* Writes text to root/name and returns that path (static buffer). */
const char *th_write(struct th *t, const char *name, const char *text);

/* The first column of the first row of sql on the home's database (read
 * only), or dflt. */
int64_t th_db_int(struct th *t, const char *sql, int64_t dflt);

/* Every row of sql as text, columns joined by '|', rows by '\n' (caller
 * frees). */
char *th_db_text(struct th *t, const char *sql);

/* Polls sql until it returns at least want (or timeout_s passes); returns
 * the last value. */
int64_t th_db_wait(struct th *t, const char *sql, int64_t want,
                   double timeout_s);

/* A connection to the daemon's socket, -1 on failure. */
int th_connect(struct th *t);

/* Sends len bytes. Returns 0 or -1. */
int th_send(int fd, const char *buf, size_t len);

/* Reads one reply line within timeout_s (caller frees); NULL when the
 * connection closed or nothing came. */
char *th_read_line(int fd, double timeout_s);

/* 1 when the peer closed the connection (recv gives 0 or an error)
 * within timeout_s. */
int th_closed(int fd, double timeout_s);

/* 1 when both files exist and hold the same bytes. */
int th_same_file(const char *a, const char *b);

/* 1 when two metrics.csv files agree in every column but elapsed_sec
 * (the last). */
int th_same_metrics(const char *a, const char *b);

/* 1 when two model folders hold the same best and last checkpoints and
 * the same metrics but elapsed_sec; prints what differs otherwise. */
int th_same_model(const char *dir_a, const char *dir_b);

/* Reads a whole file (caller frees), NULL when missing. */
char *th_read(const char *path);

/* Prints the end of the home's taddd.log to stderr (for failures). */
void th_dump_log(struct th *t);

/* Stops a daemon still running and removes the temporary folder, unless
 * failed: then the daemon's log is printed and the folder stays for a
 * look. */
void th_cleanup(struct th *t, int failed);

#endif
