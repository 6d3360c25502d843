/*
 * The queue: every state change of packs and trials, each one a single
 * transaction that also writes its event row. queue.c holds the state
 * machine; nothing else in the daemon changes a state column.
 *
 * Functions return 0 or -1 with the message in db->err.
 */
#ifndef TADD_QUEUE_H
#define TADD_QUEUE_H

#include <stdint.h>

#include "db.h"

/* A model's outcome from the worker's end event. Values the worker did
 * not report are NaN (doubles) or -1 (counts) and are stored as NULL. */
struct tadd_trial_result {
    int diverged; /* status "diverged" rather than "done" */
    long step;
    long params;
    double best_val_exact;
    long best_step;
    int success;
    long first_success_step;
    double first_success_elapsed;
    double test_exact;
    double elapsed_sec;
};

/* Seconds since the epoch, as stored in the database. */
double tadd_queue_now(void);

/* Appends an event row (inside the caller's transaction, if any). */
int tadd_queue_event(struct tadd_db *db, int64_t sweep_id, const char *kind,
                     int64_t ref_id, const char *state, const char *reason);

/* The next pack to run: queued, highest sweep priority, then oldest.
 * *pack_id is 0 when nothing is queued. */
int tadd_queue_next_pack(struct tadd_db *db, int64_t *pack_id);

/* queued -> running, with the executor's handle; its queued trials become
 * running. */
int tadd_queue_pack_started(struct tadd_db *db, int64_t pack_id,
                            const char *handle);

/* A running pack was launched again after an abnormal exit (one more
 * attempt, for the pack and its running trials). */
int tadd_queue_pack_restarted(struct tadd_db *db, int64_t pack_id,
                              const char *handle, const char *reason);

/* Counts an abnormal exit against the pack and its running trials. */
int tadd_queue_pack_attempt(struct tadd_db *db, int64_t pack_id,
                            const char *reason);

/* running -> queued: the worker stopped (daemon shutdown, or a daemon that
 * died) and will resume from its state; running trials become queued. */
int tadd_queue_pack_requeue(struct tadd_db *db, int64_t pack_id,
                            const char *reason);

/* running -> done. A member still running got no result: it fails. */
int tadd_queue_pack_done(struct tadd_db *db, int64_t pack_id);

/* -> failed; its queued and running trials fail with reason. */
int tadd_queue_pack_failed(struct tadd_db *db, int64_t pack_id,
                           const char *reason);

/* -> cancelled, once no member is live any more. */
int tadd_queue_pack_cancelled(struct tadd_db *db, int64_t pack_id,
                              const char *reason);

/* A running trial reported an evaluation: step and best so far. */
int tadd_queue_trial_progress(struct tadd_db *db, int64_t trial_id,
                              long step, double best_val_exact,
                              long best_step);

/* running -> diverged at step. */
int tadd_queue_trial_diverged(struct tadd_db *db, int64_t trial_id,
                              long step);

/* running -> done or diverged, with its results. */
int tadd_queue_trial_finished(struct tadd_db *db, int64_t trial_id,
                              const struct tadd_trial_result *r);

/*
 * Cancels the queued and running trials of a sweep, or of one config of it
 * (config_id > 0). Queued packs left without live trials are cancelled at
 * once; running ones are returned in *stop (malloc'ed, *n_stop of them)
 * for the caller to stop. *n_trials counts the trials cancelled.
 */
int tadd_queue_cancel(struct tadd_db *db, int64_t sweep_id,
                      int64_t config_id, int64_t **stop, int *n_stop,
                      int *n_trials);

/*
 * Requeues a sweep's failed and cancelled trials: their packs go back to
 * queued with no attempts counted (a pack still running takes its trials
 * back at once). The worker resumes each pack from its last state.
 */
int tadd_queue_retry(struct tadd_db *db, int64_t sweep_id, int *n_trials,
                     int *n_packs);

#endif
