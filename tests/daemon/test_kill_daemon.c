/*
 * The daemon interrupted mid-sweep, twice: first stopped with SIGTERM (its
 * worker saves its state), then killed with SIGKILL while it had fallen
 * behind on its worker's output (the worker is left behind and must be
 * reclaimed, and the evaluations it printed that the daemon never read
 * must still be recorded). Each restart resumes the pack from its state;
 * in the end every trial finished exactly once and the checkpoints and
 * metrics (but elapsed_sec) equal an uninterrupted run's.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "harness.h"
#include "recovery.h"

/* The step of the last checkpoint event in the pack's progress file (the
 * worker's copy of its stdout), or -1. */
static long progress_checkpoint(struct th *t)
{
    char path[PATH_MAX + 64];
    char *text, *p;
    long step = -1;

    snprintf(path, sizeof(path), "%s/rec/packs/1/progress.jsonl", t->home);
    text = th_read(path);
    for (p = text; p && (p = strstr(p, "{\"event\":\"checkpoint\""));
         p++) {
        const char *at = strstr(p, "\"step\":");
        if (at)
            step = strtol(at + 7, NULL, 10);
    }
    free(text);
    return step;
}

int main(void)
{
    struct th t;
    const char *file;
    char *out = NULL;
    int rc;

    th_init(&t, "killd");
    file = recovery_reference(&t);

    CHECK_INT_EQ(recovery_submit(&t, file), 0);

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

    /*
     * A crash at the worst moment: the daemon is frozen while its worker
     * prints an evaluation and then saves a state past it, and is killed
     * before it reads that line. No later run prints it again.
     */
    recovery_daemon_start(&t);
    recovery_wait_checkpoint(&t, 500);
    {
        long frozen_at = th_db_int(&t, "SELECT checkpoint_step FROM packs",
                                   -1);
        struct timespec pause = {0, 20 * 1000 * 1000};
        int waited = 0;

        REQUIRE(kill(t.daemon, SIGSTOP) == 0);
        while (progress_checkpoint(&t) < frozen_at + 200 && waited < 3000) {
            nanosleep(&pause, NULL);
            waited++;
        }
        CHECK(progress_checkpoint(&t) >= frozen_at + 200);
        CHECK(progress_checkpoint(&t) < RECOVERY_TRAIN_STEPS);
        /* The database has not seen those steps. */
        CHECK_INT_EQ(th_db_int(&t, "SELECT checkpoint_step FROM packs", -1),
                     frozen_at);
    }
    th_daemon_kill9(&t);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM packs WHERE state = "
                               "'running'",
                           -1),
                 1);

    recovery_daemon_start(&t);
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
