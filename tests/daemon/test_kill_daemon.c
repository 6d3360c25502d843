/*
 * The daemon interrupted mid-sweep, twice: first stopped with SIGTERM (its
 * worker saves its state), then killed with SIGKILL (its worker is left
 * behind and must be reclaimed). Each restart resumes the pack from its
 * state; in the end every trial finished exactly once and the checkpoints
 * and metrics (but elapsed_sec) equal an uninterrupted run's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "harness.h"
#include "recovery.h"

int main(void)
{
    struct th t;
    const char *file;
    char *out = NULL;
    int rc;

    th_init(&t, "killd");
    file = recovery_reference(&t);

    th_daemon_start(&t, "--checkpoint-interval", "100", NULL);
    rc = th_ctl(&t, &out, "submit", file, NULL);
    CHECK_INT_EQ(rc, 0);
    free(out);

    /* A clean stop: the pack goes back to the queue with its state. */
    recovery_wait_checkpoint(&t, 300);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM packs WHERE state = "
                               "'queued'",
                           -1),
                 1);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials WHERE state = "
                               "'queued'",
                           -1),
                 4);

    /* A crash: nothing gets a chance to clean up. */
    th_daemon_start(&t, "--checkpoint-interval", "100", NULL);
    recovery_wait_checkpoint(&t, 700);
    th_daemon_kill9(&t);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM packs WHERE state = "
                               "'running'",
                           -1),
                 1);

    th_daemon_start(&t, "--checkpoint-interval", "100", NULL);
    rc = th_ctl(&t, &out, "wait", "rec", "--timeout", "60", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "4 trials: 4 done");
    free(out);
    /* Resumed twice, never counted as a crash of the worker. */
    CHECK_INT_EQ(th_db_int(&t, "SELECT starts FROM packs", -1), 3);
    CHECK_INT_EQ(th_db_int(&t, "SELECT SUM(attempts) FROM trials", -1), 0);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM events WHERE kind = "
                               "'pack' AND reason LIKE 'daemon restarted%'",
                           -1),
                 1);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM events WHERE kind = "
                               "'pack' AND reason LIKE 'daemon stopped%'",
                           -1),
                 1);
    check_failures += recovery_check(&t);

    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
