/*
 * The worker killed with SIGKILL mid-sweep: the daemon records the crash
 * with its signal, restarts the worker from its state, and the sweep ends
 * with every trial finished exactly once and the checkpoints and metrics
 * (but elapsed_sec) of an uninterrupted run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "check.h"
#include "harness.h"
#include "recovery.h"

/* The worker's pid from the pack's executor handle "pid:N". */
static pid_t worker_pid(struct th *t)
{
    char *h = th_db_text(t, "SELECT handle FROM packs WHERE state = "
                            "'running'");
    long pid = 0;

    if (h && strncmp(h, "pid:", 4) == 0)
        pid = strtol(h + 4, NULL, 10);
    free(h);
    return (pid_t)pid;
}

int main(void)
{
    struct th t;
    const char *file;
    char *out = NULL;
    pid_t pid;
    int rc;

    th_init(&t, "killw");
    file = recovery_reference(&t);

    CHECK_INT_EQ(recovery_submit(&t, file), 0);

    recovery_wait_checkpoint(&t, 400);
    pid = worker_pid(&t);
    REQUIRE(pid > 1);
    REQUIRE(kill(pid, SIGKILL) == 0);

    rc = th_ctl(&t, &out, "wait", "rec", "--timeout", "60", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "4 trials: 4 done");
    free(out);

    /* One crash, counted against the pack and its trials, with its
     * signal; then a second start from the saved state. */
    CHECK_INT_EQ(th_db_int(&t, "SELECT attempts FROM packs", -1), 1);
    CHECK_INT_EQ(th_db_int(&t, "SELECT starts FROM packs", -1), 2);
    CHECK_INT_EQ(th_db_int(&t, "SELECT SUM(attempts) FROM trials", -1), 4);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM events WHERE kind = "
                               "'pack' AND state = 'crashed' AND reason "
                               "LIKE 'worker killed by signal 9%'",
                           -1),
                 1);
    CHECK(worker_pid(&t) == 0);
    rc = th_ctl(&t, &out, "logs", "rec", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "crashed - worker killed by signal 9");
    CHECK_STR_HAS(out, "restarted");
    free(out);
    check_failures += recovery_check(&t);

    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
