/*
 * The state machine of packs and trials.
 *
 * A pack is one worker's job; a trial is one model (config x seed) and
 * belongs to exactly one pack for its whole life (pack_members).
 *
 *  pack:                 started               done
 *            queued ------------------> running -----> done
 *              ^  \                     |  |  ^
 *              |   \ cancel        requeue  |  | restarted (attempts+1)
 *              |    \                   |  |  |
 *              |     v                  v  |--+
 *              |   cancelled <------ queued    \ failed
 *              |       |     cancel             v
 *              +-------+----------------------- failed
 *                    retry
 *
 *  trial:  queued --(pack started)--> running --(end)--> done | diverged
 *          running --(diverged event)--> diverged
 *          running --(pack requeued)--> queued
 *          queued | running --(pack failed)--> failed
 *          queued | running --(cancel)--> cancelled
 *          failed | cancelled --(retry)--> queued, or running when its
 *                                          pack is running
 *
 * Transitions and the functions doing them:
 *   pack queued -> running            tadd_queue_pack_started
 *   pack running -> running           tadd_queue_pack_restarted
 *   pack running -> queued            tadd_queue_pack_requeue
 *   pack running -> done              tadd_queue_pack_done
 *   pack * -> failed                  tadd_queue_pack_failed
 *   pack queued|running -> cancelled  tadd_queue_cancel (queued ones),
 *                                     tadd_queue_pack_cancelled (running)
 *   pack failed|cancelled -> queued   tadd_queue_retry
 *   trial running -> done|diverged    tadd_queue_trial_finished,
 *                                     tadd_queue_trial_diverged
 *
 * Invariants (checked by queue_check in debug builds):
 *   1. A trial is running only while its pack is running.
 *   2. A queued pack has no running trial.
 *   3. A done, failed or cancelled pack has no queued or running trial.
 *   4. Every state change writes one event row in the same transaction.
 */
#include "queue.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

double tadd_queue_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

int tadd_queue_event(struct tadd_db *db, int64_t sweep_id, const char *kind,
                     int64_t ref_id, const char *state, const char *reason)
{
    return tadd_db_run(db,
                       "INSERT INTO events (at, sweep_id, kind, ref_id, "
                       "state, reason) VALUES (?, ?, ?, ?, ?, ?)",
                       "dititt", tadd_queue_now(), sweep_id, kind, ref_id,
                       state, reason ? reason : "");
}

#ifndef NDEBUG
/* Invariants 1-3 for one pack; aborts when one is broken, since that means
 * a transition above is wrong. */
static void queue_check(struct tadd_db *db, int64_t pack_id)
{
    int64_t bad = 0;

    if (tadd_db_int(db, &bad, 0,
                    "SELECT COUNT(*) FROM packs p "
                    "JOIN pack_members m ON m.pack_id = p.id "
                    "JOIN trials t ON t.id = m.trial_id "
                    "WHERE p.id = ? AND ("
                    " (t.state = 'running' AND p.state <> 'running') OR"
                    " (t.state = 'queued' AND p.state NOT IN "
                    "  ('queued', 'running')))",
                    "i", pack_id) != 0)
        return;
    assert(bad == 0);
}
#else
static void queue_check(struct tadd_db *db, int64_t pack_id)
{
    (void)db;
    (void)pack_id;
}
#endif

static int queue_pack_sweep(struct tadd_db *db, int64_t pack_id,
                            int64_t *sweep_id)
{
    return tadd_db_int(db, sweep_id, 0,
                       "SELECT sweep_id FROM packs WHERE id = ?", "i",
                       pack_id);
}

/*
 * Moves the members of pack_id in state from_a or from_b (from_b may be
 * NULL) to state to, with reason, an event per trial, and optionally one
 * more attempt.
 */
static int queue_members_move(struct tadd_db *db, int64_t sweep_id,
                              int64_t pack_id, const char *from_a,
                              const char *from_b, const char *to,
                              const char *reason, int add_attempt)
{
    sqlite3_stmt *st;
    int rc;

    st = tadd_db_query(db,
                       "SELECT t.id FROM pack_members m "
                       "JOIN trials t ON t.id = m.trial_id "
                       "WHERE m.pack_id = ? AND t.state IN (?, ?) "
                       "ORDER BY m.idx",
                       "itt", pack_id, from_a, from_b ? from_b : from_a);
    if (!st)
        return -1;
    while ((rc = tadd_db_step(db, st)) == 1) {
        int64_t id = sqlite3_column_int64(st, 0);

        if (tadd_db_run(db,
                        "UPDATE trials SET state = ?, reason = ?, "
                        "attempts = attempts + ?, updated_at = ? "
                        "WHERE id = ?",
                        "ttidi", to, reason, (int64_t)add_attempt,
                        tadd_queue_now(), id) != 0 ||
            tadd_queue_event(db, sweep_id, "trial", id, to, reason) != 0) {
            rc = -1;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Sets a pack's state and writes its event. */
static int queue_pack_set(struct tadd_db *db, int64_t sweep_id,
                          int64_t pack_id, const char *state,
                          const char *reason)
{
    if (tadd_db_run(db,
                    "UPDATE packs SET state = ?, reason = ?, "
                    "finished_at = CASE WHEN ? IN ('done', 'failed', "
                    "'cancelled') THEN ? ELSE NULL END WHERE id = ?",
                    "tttdi", state, reason, state, tadd_queue_now(),
                    pack_id) != 0)
        return -1;
    return tadd_queue_event(db, sweep_id, "pack", pack_id, state, reason);
}

/* Runs body(db, args) inside one transaction; the first error wins and
 * rolls everything back. */
#define QUEUE_TX(db, pack_id, body)                                         \
    do {                                                                    \
        int tx_rc_ = tadd_db_begin(db);                                     \
        if (tx_rc_ == 0)                                                    \
            tx_rc_ = (body);                                                \
        if (tx_rc_ == 0)                                                    \
            tx_rc_ = tadd_db_commit(db);                                    \
        if (tx_rc_ != 0) {                                                  \
            tadd_db_rollback(db);                                           \
            return -1;                                                      \
        }                                                                   \
        if ((pack_id) > 0)                                                  \
            queue_check(db, pack_id);                                       \
        return 0;                                                           \
    } while (0)

int tadd_queue_next_pack(struct tadd_db *db, int64_t *pack_id)
{
    return tadd_db_int(db, pack_id, 0,
                       "SELECT p.id FROM packs p "
                       "JOIN sweeps s ON s.id = p.sweep_id "
                       "WHERE p.state = 'queued' "
                       "ORDER BY s.priority DESC, p.id ASC LIMIT 1",
                       NULL);
}

static int queue_started(struct tadd_db *db, int64_t pack_id,
                         const char *handle)
{
    int64_t sweep_id = 0;
    int rc = queue_pack_sweep(db, pack_id, &sweep_id);

    if (rc == 0)
        rc = tadd_db_run(db,
                         "UPDATE packs SET starts = starts + 1, handle = ?, "
                         "started_at = ? WHERE id = ?",
                         "tdi", handle, tadd_queue_now(), pack_id);
    if (rc == 0)
        rc = queue_pack_set(db, sweep_id, pack_id, "running", handle);
    if (rc == 0)
        rc = queue_members_move(db, sweep_id, pack_id, "queued", NULL,
                                "running", NULL, 0);
    return rc;
}

int tadd_queue_pack_started(struct tadd_db *db, int64_t pack_id,
                            const char *handle)
{
    QUEUE_TX(db, pack_id, queue_started(db, pack_id, handle));
}

static int queue_restarted(struct tadd_db *db, int64_t pack_id,
                           const char *handle, const char *reason)
{
    int64_t sweep_id = 0;
    int rc = queue_pack_sweep(db, pack_id, &sweep_id);

    if (rc == 0)
        rc = tadd_db_run(db,
                         "UPDATE packs SET starts = starts + 1, handle = ? "
                         "WHERE id = ?",
                         "ti", handle, pack_id);
    if (rc == 0)
        rc = tadd_queue_event(db, sweep_id, "pack", pack_id, "restarted",
                              reason);
    return rc;
}

int tadd_queue_pack_restarted(struct tadd_db *db, int64_t pack_id,
                              const char *handle, const char *reason)
{
    QUEUE_TX(db, pack_id, queue_restarted(db, pack_id, handle, reason));
}

static int queue_attempt(struct tadd_db *db, int64_t pack_id,
                         const char *reason)
{
    int64_t sweep_id = 0;
    int rc = queue_pack_sweep(db, pack_id, &sweep_id);

    if (rc == 0)
        rc = tadd_db_run(db,
                         "UPDATE packs SET attempts = attempts + 1, "
                         "reason = ?, handle = NULL WHERE id = ?",
                         "ti", reason, pack_id);
    if (rc == 0)
        rc = tadd_db_run(db,
                         "UPDATE trials SET attempts = attempts + 1, "
                         "reason = ?, updated_at = ? WHERE state = "
                         "'running' AND id IN (SELECT trial_id FROM "
                         "pack_members WHERE pack_id = ?)",
                         "tdi", reason, tadd_queue_now(), pack_id);
    if (rc == 0)
        rc = tadd_queue_event(db, sweep_id, "pack", pack_id, "crashed",
                              reason);
    return rc;
}

int tadd_queue_pack_attempt(struct tadd_db *db, int64_t pack_id,
                            const char *reason)
{
    QUEUE_TX(db, pack_id, queue_attempt(db, pack_id, reason));
}

/*
 * Ends a pack's run: its handle is cleared, its state becomes pack_state
 * (with pack_reason), and its members in state from_a or from_b (NULL for
 * none) move to member_state with member_reason. Runs inside the caller's
 * transaction.
 */
static int queue_pack_end(struct tadd_db *db, int64_t pack_id,
                          const char *pack_state, const char *pack_reason,
                          const char *from_a, const char *from_b,
                          const char *member_state,
                          const char *member_reason)
{
    int64_t sweep_id = 0;
    int rc = queue_pack_sweep(db, pack_id, &sweep_id);

    if (rc == 0)
        rc = tadd_db_run(db, "UPDATE packs SET handle = NULL WHERE id = ?",
                         "i", pack_id);
    if (rc == 0)
        rc = queue_pack_set(db, sweep_id, pack_id, pack_state, pack_reason);
    if (rc == 0)
        rc = queue_members_move(db, sweep_id, pack_id, from_a, from_b,
                                member_state, member_reason, 0);
    return rc;
}

static int queue_requeue(struct tadd_db *db, int64_t pack_id,
                         const char *reason)
{
    return queue_pack_end(db, pack_id, "queued", reason, "running", NULL,
                          "queued", reason);
}

int tadd_queue_pack_requeue(struct tadd_db *db, int64_t pack_id,
                            const char *reason)
{
    QUEUE_TX(db, pack_id, queue_requeue(db, pack_id, reason));
}

static int queue_done(struct tadd_db *db, int64_t pack_id)
{
    return queue_pack_end(db, pack_id, "done", NULL, "running", "queued",
                          "failed",
                          "the worker finished without a result for this "
                          "model");
}

int tadd_queue_pack_done(struct tadd_db *db, int64_t pack_id)
{
    QUEUE_TX(db, pack_id, queue_done(db, pack_id));
}

static int queue_failed(struct tadd_db *db, int64_t pack_id,
                        const char *reason)
{
    return queue_pack_end(db, pack_id, "failed", reason, "running",
                          "queued", "failed", reason);
}

int tadd_queue_pack_failed(struct tadd_db *db, int64_t pack_id,
                           const char *reason)
{
    QUEUE_TX(db, pack_id, queue_failed(db, pack_id, reason));
}

static int queue_cancelled(struct tadd_db *db, int64_t pack_id,
                           const char *reason)
{
    /* Members are already cancelled; any left live are cancelled too so
     * that invariant 3 holds whatever happened in between. */
    return queue_pack_end(db, pack_id, "cancelled", reason, "running",
                          "queued", "cancelled", reason);
}

int tadd_queue_pack_cancelled(struct tadd_db *db, int64_t pack_id,
                              const char *reason)
{
    QUEUE_TX(db, pack_id, queue_cancelled(db, pack_id, reason));
}

int tadd_queue_trial_progress(struct tadd_db *db, int64_t trial_id,
                              long step, double best_val_exact,
                              long best_step)
{
    return tadd_db_run(db,
                       "UPDATE trials SET step = ?, best_val_exact = ?, "
                       "best_step = ?, updated_at = ? "
                       "WHERE id = ? AND state = 'running'",
                       "idIdi", (int64_t)step, best_val_exact,
                       (int64_t)best_step, tadd_queue_now(), trial_id);
}

static int queue_trial_sweep(struct tadd_db *db, int64_t trial_id,
                             int64_t *sweep_id)
{
    return tadd_db_int(db, sweep_id, 0,
                       "SELECT c.sweep_id FROM trials t JOIN configs c "
                       "ON c.id = t.config_id WHERE t.id = ?",
                       "i", trial_id);
}

static int queue_diverged(struct tadd_db *db, int64_t trial_id, long step)
{
    int64_t sweep_id = 0;
    char reason[96];
    int rc = queue_trial_sweep(db, trial_id, &sweep_id);

    snprintf(reason, sizeof(reason),
             "training loss became NaN or infinite at step %ld", step);
    if (rc == 0)
        rc = tadd_db_run(db,
                         "UPDATE trials SET state = 'diverged', step = ?, "
                         "success = 0, reason = ?, updated_at = ? "
                         "WHERE id = ? AND state = 'running'",
                         "itdi", (int64_t)step, reason, tadd_queue_now(),
                         trial_id);
    if (rc == 0 && tadd_db_changes(db) > 0)
        rc = tadd_queue_event(db, sweep_id, "trial", trial_id, "diverged",
                              reason);
    return rc;
}

int tadd_queue_trial_diverged(struct tadd_db *db, int64_t trial_id,
                              long step)
{
    QUEUE_TX(db, 0, queue_diverged(db, trial_id, step));
}

static int queue_finished(struct tadd_db *db, int64_t trial_id,
                          const struct tadd_trial_result *r)
{
    const char *state = r->diverged ? "diverged" : "done";
    const char *reason =
        r->diverged ? "training loss became NaN or infinite" : NULL;
    int64_t sweep_id = 0;
    int rc = queue_trial_sweep(db, trial_id, &sweep_id);

    /* A diverged trial may already be marked so by its diverged event;
     * the end event then adds its final numbers, and the step and reason
     * of the divergence stay. */
    if (rc == 0)
        rc = tadd_db_run(db,
                         "UPDATE trials SET state = ?, "
                         "step = CASE WHEN state = 'diverged' THEN step "
                         "ELSE ? END, "
                         "params = ?, best_val_exact = ?, best_step = ?, "
                         "success = ?, first_success_step = ?, "
                         "first_success_elapsed = ?, test_exact = ?, "
                         "elapsed_sec = ?, "
                         "reason = CASE WHEN state = 'diverged' THEN reason "
                         "ELSE ? END, updated_at = ? "
                         "WHERE id = ? AND state IN ('running', 'diverged')",
                         "tiidIiIdddtdi", state, (int64_t)r->step,
                         (int64_t)r->params, r->best_val_exact,
                         (int64_t)r->best_step, (int64_t)r->success,
                         (int64_t)r->first_success_step,
                         r->first_success_elapsed, r->test_exact,
                         r->elapsed_sec, reason, tadd_queue_now(), trial_id);
    if (rc == 0 && tadd_db_changes(db) > 0)
        rc = tadd_queue_event(db, sweep_id, "trial", trial_id, state,
                              reason);
    return rc;
}

int tadd_queue_trial_finished(struct tadd_db *db, int64_t trial_id,
                              const struct tadd_trial_result *r)
{
    QUEUE_TX(db, 0, queue_finished(db, trial_id, r));
}

/* Collects the pack ids a query returns into a new array. */
static int queue_collect(struct tadd_db *db, sqlite3_stmt *st,
                         int64_t **ids, int *n)
{
    int64_t *v = NULL;
    int cap = 0;
    int rc;

    *ids = NULL;
    *n = 0;
    while ((rc = tadd_db_step(db, st)) == 1) {
        if (*n == cap) {
            int64_t *p;
            cap = cap ? 2 * cap : 16;
            p = realloc(v, (size_t)cap * sizeof(*v));
            if (!p) {
                snprintf(db->err, sizeof(db->err), "out of memory");
                rc = -1;
                break;
            }
            v = p;
        }
        v[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc < 0) {
        free(v);
        *n = 0;
        return -1;
    }
    *ids = v;
    return 0;
}

static int queue_cancel(struct tadd_db *db, int64_t sweep_id,
                        int64_t config_id, int64_t **stop, int *n_stop,
                        int *n_trials)
{
    static const char reason[] = "cancelled on request";
    int64_t *packs = NULL;
    int n_packs = 0;
    sqlite3_stmt *st;
    int rc;

    st = tadd_db_query(db,
                       "SELECT DISTINCT m.pack_id FROM trials t "
                       "JOIN configs c ON c.id = t.config_id "
                       "JOIN pack_members m ON m.trial_id = t.id "
                       "WHERE c.sweep_id = ? AND (? = 0 OR c.id = ?) "
                       "AND t.state IN ('queued', 'running') "
                       "ORDER BY m.pack_id",
                       "iii", sweep_id, config_id, config_id);
    if (!st || queue_collect(db, st, &packs, &n_packs) != 0)
        return -1;
    rc = tadd_db_run(db,
                     "INSERT INTO events (at, sweep_id, kind, ref_id, "
                     "state, reason) "
                     "SELECT ?, ?, 'trial', t.id, 'cancelled', ? "
                     "FROM trials t JOIN configs c ON c.id = t.config_id "
                     "WHERE c.sweep_id = ? AND (? = 0 OR c.id = ?) "
                     "AND t.state IN ('queued', 'running') ORDER BY t.id",
                     "ditiii", tadd_queue_now(), sweep_id, reason, sweep_id,
                     config_id, config_id);
    if (rc == 0)
        rc = tadd_db_run(db,
                         "UPDATE trials SET state = 'cancelled', "
                         "reason = ?, updated_at = ? "
                         "WHERE state IN ('queued', 'running') AND "
                         "config_id IN (SELECT id FROM configs WHERE "
                         "sweep_id = ? AND (? = 0 OR id = ?))",
                         "tdiii", reason, tadd_queue_now(), sweep_id,
                         config_id, config_id);
    if (rc == 0)
        *n_trials = tadd_db_changes(db);
    *n_stop = 0;
    for (int i = 0; rc == 0 && i < n_packs; i++) {
        int64_t live = 0, running = 0;

        rc = tadd_db_int(db, &live, 0,
                         "SELECT COUNT(*) FROM pack_members m JOIN trials t "
                         "ON t.id = m.trial_id WHERE m.pack_id = ? AND "
                         "t.state IN ('queued', 'running')",
                         "i", packs[i]);
        if (rc == 0)
            rc = tadd_db_int(db, &running, 0,
                             "SELECT state = 'running' FROM packs "
                             "WHERE id = ?",
                             "i", packs[i]);
        /* A pack shared with configs still live goes on: a worker cannot
         * drop one model from a running pack. */
        if (rc != 0 || live > 0)
            continue;
        if (running)
            packs[(*n_stop)++] = packs[i];
        else
            rc = queue_pack_set(db, sweep_id, packs[i], "cancelled",
                                reason);
    }
    if (rc != 0) {
        free(packs);
        return -1;
    }
    *stop = packs;
    return 0;
}

int tadd_queue_cancel(struct tadd_db *db, int64_t sweep_id,
                      int64_t config_id, int64_t **stop, int *n_stop,
                      int *n_trials)
{
    *stop = NULL;
    *n_stop = 0;
    *n_trials = 0;
    QUEUE_TX(db, 0,
             queue_cancel(db, sweep_id, config_id, stop, n_stop, n_trials));
}

static int queue_retry(struct tadd_db *db, int64_t sweep_id, int *n_trials,
                       int *n_packs)
{
    static const char reason[] = "retry requested";
    int64_t *packs = NULL;
    int n = 0;
    sqlite3_stmt *st;
    int rc;

    st = tadd_db_query(db,
                       "SELECT DISTINCT m.pack_id FROM trials t "
                       "JOIN configs c ON c.id = t.config_id "
                       "JOIN pack_members m ON m.trial_id = t.id "
                       "WHERE c.sweep_id = ? AND "
                       "t.state IN ('failed', 'cancelled') "
                       "ORDER BY m.pack_id",
                       "i", sweep_id);
    if (!st || queue_collect(db, st, &packs, &n) != 0)
        return -1;
    rc = 0;
    *n_trials = 0;
    *n_packs = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        int64_t running = 0, queued = 0;

        rc = tadd_db_int(db, &running, 0,
                         "SELECT state = 'running' FROM packs WHERE id = ?",
                         "i", packs[i]);
        if (rc == 0)
            rc = tadd_db_int(db, &queued, 0,
                             "SELECT state = 'queued' FROM packs "
                             "WHERE id = ?",
                             "i", packs[i]);
        if (rc == 0 && !running && !queued) {
            rc = tadd_db_run(db,
                             "UPDATE packs SET attempts = 0 WHERE id = ?",
                             "i", packs[i]);
            if (rc == 0)
                rc = queue_pack_set(db, sweep_id, packs[i], "queued",
                                    reason);
            (*n_packs)++;
        }
        /* A trial whose pack still runs is trained by it at once. */
        if (rc == 0)
            rc = tadd_db_run(db,
                             "INSERT INTO events (at, sweep_id, kind, "
                             "ref_id, state, reason) "
                             "SELECT ?, ?, 'trial', t.id, ?, ? "
                             "FROM trials t JOIN pack_members m "
                             "ON m.trial_id = t.id WHERE m.pack_id = ? AND "
                             "t.state IN ('failed', 'cancelled') "
                             "ORDER BY m.idx",
                             "ditti", tadd_queue_now(), sweep_id,
                             running ? "running" : "queued", reason,
                             packs[i]);
        if (rc == 0)
            rc = tadd_db_run(db,
                             "UPDATE trials SET state = ?, attempts = 0, "
                             "reason = NULL, updated_at = ? "
                             "WHERE state IN ('failed', 'cancelled') AND "
                             "id IN (SELECT trial_id FROM pack_members "
                             "WHERE pack_id = ?)",
                             "tdi", running ? "running" : "queued",
                             tadd_queue_now(), packs[i]);
        if (rc == 0)
            *n_trials += tadd_db_changes(db);
    }
    free(packs);
    return rc;
}

int tadd_queue_retry(struct tadd_db *db, int64_t sweep_id, int *n_trials,
                     int *n_packs)
{
    QUEUE_TX(db, 0, queue_retry(db, sweep_id, n_trials, n_packs));
}
