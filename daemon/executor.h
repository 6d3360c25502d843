/*
 * Executors: where and how a pack's worker runs.
 *
 * The daemon decides what runs (the queue, docs/worker-protocol.md's pack
 * file); an executor decides where: a child process on this machine
 * (executor_local.c, uv_spawn) or a batch job on a Slurm cluster
 * (executor_slurm.c). The daemon sees only this interface:
 *
 *   start   launch `tadd-worker train --pack FILE` for one pack; from then
 *           on every line the worker prints on stdout reaches on_line, in
 *           order, and its end reaches on_exit exactly once, after the
 *           last line.
 *   stop    ask the worker to save its state and stop (SIGTERM for a
 *           local process); on_exit still follows.
 *   reclaim at daemon start, before anything is launched: make sure a run
 *           recorded by a previous daemon (its handle) is no longer
 *           going, so that two workers never write one pack's files.
 *   adopt   (optional, instead of reclaim) at daemon start: follow such a
 *           run as if start had launched it, for executors whose runs
 *           outlive the daemon (batch jobs).
 *
 * All calls and callbacks happen on the daemon's event loop thread. Paths
 * in a spec are relative to the home folder, which is also the worker's
 * working directory, so that a home can be moved between runs.
 */
#ifndef TADD_EXECUTOR_H
#define TADD_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define TADD_EXEC_HANDLE_LEN 64

/* What one pack run needs to know. */
struct tadd_exec_spec {
    int64_t pack_id;
    const char *pack_path; /* the pack file, relative to the home */
    const char *log_path;  /* where the worker's stderr goes (appended) */
    /* Where the worker appends a copy of its stdout lines (--progress),
     * or NULL. A line the daemon had no time to read before it died is
     * there, so a later daemon can still record it. */
    const char *progress_path;
    int threads; /* --threads for the worker */
};

/* How a run ended. */
struct tadd_exec_exit {
    int64_t exit_status; /* meaningful when term_signal == 0 */
    int term_signal;     /* the signal that ended it, or 0 */
    int stop_requested;  /* 1 when stop() was called for this run */
    /* Not empty when the executor knows the end was abnormal whatever
     * the status says (a batch system's account: a job cancelled from
     * outside, out of time, its node lost); names the cause. */
    char reason[256];
};

struct tadd_exec_run;

struct tadd_exec_callbacks {
    /* One stdout line without its newline; line[len] is NUL. */
    void (*on_line)(void *ctx, struct tadd_exec_run *run, const char *line,
                    size_t len);
    /* The run is over; run is freed when this returns. */
    void (*on_exit)(void *ctx, struct tadd_exec_run *run,
                    const struct tadd_exec_exit *ex);
    /* Optional: the run's handle changed after start returned (a batch
     * job got its id); the daemon records it in place of the first. */
    void (*on_handle)(void *ctx, struct tadd_exec_run *run,
                      const char *handle);
};

struct tadd_executor;

struct tadd_executor_ops {
    const char *name;

    /*
     * Launches the worker for spec. On success returns 0, sets *out, and
     * writes into handle (TADD_EXEC_HANDLE_LEN bytes) a string the daemon
     * records so that reclaim can find the run after a restart. Returns
     * -1 with a message in err when nothing was launched.
     */
    int (*start)(struct tadd_executor *ex, const struct tadd_exec_spec *spec,
                 const struct tadd_exec_callbacks *cb, void *ctx,
                 struct tadd_exec_run **out, char *handle, char *err,
                 size_t errlen);

    /* Asks the run to save its state and stop. Returns 0 or -1. */
    int (*stop)(struct tadd_executor *ex, struct tadd_exec_run *run);

    /*
     * Ends a run recorded by an earlier daemon (handle from start, the
     * same spec), asking it to save its state first, and returns once it
     * is gone. Returns 0 (also when nothing was left), or -1 with a
     * message when it could not be ended.
     */
    int (*reclaim)(struct tadd_executor *ex, const char *handle,
                   const struct tadd_exec_spec *spec, char *err,
                   size_t errlen);

    /*
     * Optional; when set, the daemon calls it instead of reclaim. Follows
     * the run recorded as handle (same spec) as start would have: its
     * lines from its beginning, then its end, reach cb. Returns 1 and
     * sets *out when there is a run to follow (also one that has ended
     * since and is yet to report it), 0 when there is none (the pack is
     * queued again), or -1 with a message when it cannot tell.
     */
    int (*adopt)(struct tadd_executor *ex, const char *handle,
                 const struct tadd_exec_spec *spec,
                 const struct tadd_exec_callbacks *cb, void *ctx,
                 struct tadd_exec_run **out, char *err, size_t errlen);

    /* Optional: where the run is now, for status ("job 12 RUNNING"). */
    void (*describe)(struct tadd_executor *ex, struct tadd_exec_run *run,
                     char *buf, size_t len);

    /* Frees the executor; no run may be left. */
    void (*destroy)(struct tadd_executor *ex);
};

struct tadd_executor {
    const struct tadd_executor_ops *ops;
};

/*
 * The local executor: workers are child processes of the daemon started
 * with uv_spawn from worker_path (absolute), in the home folder home.
 * Returns NULL with a message in err on failure.
 */
struct tadd_executor *tadd_executor_local_new(uv_loop_t *loop,
                                              const char *worker_path,
                                              const char *home, char *err,
                                              size_t errlen);

#endif
