/*
 * The scheduler: runs queued packs through an executor, up to `workers`
 * at a time, turns the workers' stdout lines into database rows, restarts
 * a worker that ends abnormally (up to `attempts` times) and stops them
 * all on shutdown.
 */
#ifndef TADD_SCHEDULER_H
#define TADD_SCHEDULER_H

#include <stdint.h>

#include <uv.h>

#include "db.h"
#include "executor.h"
#include "settings.h"

struct tadd_scheduler;

struct tadd_scheduler_callbacks {
    /* Some trial of sweep_id changed state. */
    void (*on_change)(void *ctx, int64_t sweep_id);
    /* Shutdown asked and the last worker is gone. */
    void (*on_idle)(void *ctx);
};

/* What status shows of a running pack. */
struct tadd_sched_info {
    int64_t pack_id;
    int64_t sweep_id;
    long step;
    long train_steps;
    double seconds;       /* since this worker started */
    double steps_per_sec; /* since this worker started; 0 when unknown */
    double eta;           /* seconds left; < 0 when unknown */
    int attempts;         /* abnormal exits so far */
    const char *phase;    /* "running", "restarting", "stopping" or
                             "recording" (its end not written yet) */
    char where[128];      /* the executor's account ("Slurm job 12
                             RUNNING"), or "" */
};

/* Returns NULL on OOM. settings and home must outlive the scheduler. */
struct tadd_scheduler *tadd_scheduler_new(uv_loop_t *loop,
                                          struct tadd_db *db,
                                          struct tadd_executor *ex,
                                          const struct tadd_settings *set,
                                          const char *home,
                                          const struct tadd_scheduler_callbacks
                                              *cb,
                                          void *ctx);

/*
 * At start: every pack a previous daemon left running is adopted by an
 * executor that can (a batch job still queued or running is followed,
 * not submitted again), or else reclaimed (a leftover worker is asked to
 * save and stop) and queued again, to resume from its state. Returns 0,
 * or -1 with a message.
 */
int tadd_scheduler_recover(struct tadd_scheduler *s, char *err,
                           size_t errlen);

/* Starts queued packs while workers are free. */
void tadd_scheduler_kick(struct tadd_scheduler *s);

/* Stops a running pack whose trials were all cancelled. */
void tadd_scheduler_cancel_pack(struct tadd_scheduler *s, int64_t pack_id);

/* Stops every worker (they save their state); on_idle follows once all
 * are gone, at once when none runs. */
void tadd_scheduler_shutdown(struct tadd_scheduler *s);

/* The running packs, oldest first, in a new array (*n of them); status
 * strings stay valid until the loop runs again. Returns 0 or -1 on OOM. */
int tadd_scheduler_info(struct tadd_scheduler *s,
                        struct tadd_sched_info **out, int *n);

/* Number of packs held (running, restarting or stopping). */
int tadd_scheduler_busy(const struct tadd_scheduler *s);

/* Frees the scheduler once it is idle. */
void tadd_scheduler_free(struct tadd_scheduler *s);

#endif
