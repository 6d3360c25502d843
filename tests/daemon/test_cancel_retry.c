/*
 * cancel, retry and failures:
 *   - cancelling one config of a sweep cancels its queued pack at once;
 *     cancelling the rest stops the running worker; what was recorded
 *     stays; the sweep then counts as done for wait;
 *   - retry resumes both packs and every trial finishes, with one metrics
 *     row per evaluation;
 *   - a worker that cannot write a model's folder fails its pack after
 *     the allowed restarts, and show and logs give the reason with the
 *     worker's own words; once the cause is gone, retry finishes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"

#define TINY                                                                \
    "\"eval_interval\": 100, \"batch_size\": 32, \"val_size\": 64, "        \
    "\"test_size\": 64, \"warmup_steps\": 20"

/* Two configs of different d_ff: two packs, and one worker runs at a
 * time, so the second waits in the queue. */
static const char cr_text[] =
    "{\"name\": \"cr\", \"base\": {\"train_steps\": 1500, " TINY "},\n"
    " \"variants\": [{\"name\": \"a\"}, {\"name\": \"b\", \"d_ff\": 16}],\n"
    " \"seeds\": [42, 43]}\n";

static const char bad_text[] =
    "{\"name\": \"broken\", \"base\": {\"train_steps\": 200, " TINY "},\n"
    " \"seeds\": [5]}\n";

static void check_cancel_and_retry(struct th *t)
{
    const char *file = th_write(t, "cr.json", cr_text);
    char *out = NULL;
    int64_t kept;
    int rc;

    CHECK_INT_EQ(th_ctl(t, NULL, "submit", file, NULL), 0);
    CHECK(th_db_wait(t, "SELECT MAX(checkpoint_step) FROM packs WHERE "
                        "state = 'running'",
                     200, 30.0) >= 200);

    rc = th_ctl(t, &out, "cancel", "cr", "b", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "cancelled 2 trials; 0 workers stopping");
    free(out);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM packs WHERE state = "
                              "'cancelled'",
                           -1),
                 1);
    rc = th_ctl(t, &out, "cancel", "cr", "nope", NULL);
    CHECK_INT_EQ(rc, 1);
    CHECK_STR_HAS(out, "no config \"nope\"");
    free(out);

    rc = th_ctl(t, &out, "cancel", "cr", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "cancelled 2 trials; 1 workers stopping");
    free(out);
    rc = th_ctl(t, &out, "wait", "cr", "--timeout", "30", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "4 cancelled");
    free(out);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM trials WHERE state = "
                              "'cancelled' AND reason = 'cancelled on "
                              "request'",
                           -1),
                 4);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM packs WHERE state = "
                              "'cancelled' AND handle IS NULL",
                           -1),
                 2);
    /* What the first pack recorded before it stopped is kept. */
    kept = th_db_int(t, "SELECT COUNT(*) FROM metrics", -1);
    CHECK(kept >= 2 * 3);
    rc = th_ctl(t, &out, "show", "cr", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "cancelled on request");
    free(out);

    rc = th_ctl(t, &out, "retry", "cr", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "requeued 4 trials (2 packs)");
    free(out);
    rc = th_ctl(t, &out, "wait", "cr", "--timeout", "60", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "4 trials: 4 done");
    free(out);
    /* Evaluations at 0, 100, ..., 1400 and the last step: 16 each, none
     * twice although the first pack ran in two parts. */
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM metrics m JOIN "
                              "trial_results r ON r.trial_id = m.trial_id "
                              "WHERE r.sweep = 'cr'",
                           -1),
                 4 * 16);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM trials WHERE state = "
                              "'done' AND reason IS NULL AND attempts = 0",
                           -1),
                 4);
}

static void check_failure(struct th *t)
{
    const char *file = th_write(t, "broken.json", bad_text);
    char blocker[PATH_MAX + 64];
    char *out = NULL;
    FILE *f;
    int rc;

    /* A plain file where the model's folder must go. */
    snprintf(blocker, sizeof(blocker), "%s/broken", t->home);
    REQUIRE(mkdir(blocker, 0700) == 0);
    snprintf(blocker, sizeof(blocker), "%s/broken/default", t->home);
    REQUIRE(mkdir(blocker, 0700) == 0);
    snprintf(blocker, sizeof(blocker), "%s/broken/default/seed_5",
             t->home);
    f = fopen(blocker, "w");
    REQUIRE(f != NULL);
    fclose(f);

    CHECK_INT_EQ(th_ctl(t, NULL, "submit", file, NULL), 0);
    rc = th_ctl(t, &out, "wait", "broken", "--timeout", "30", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "1 failed");
    free(out);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM packs WHERE state = "
                              "'failed'",
                           -1),
                 1);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM trial_results WHERE "
                              "sweep = 'broken' AND state = 'failed' AND "
                              "reason LIKE 'worker exited with status%' "
                              "AND reason LIKE '%seed_5%'",
                           -1),
                 1);
    rc = th_ctl(t, &out, "show", "broken", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "failed");
    CHECK_STR_HAS(out, "worker exited with status");
    free(out);
    rc = th_ctl(t, &out, "logs", "broken", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "pack 3: failed - worker exited with status");
    free(out);

    CHECK(unlink(blocker) == 0);
    rc = th_ctl(t, &out, "retry", "broken", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "requeued 1 trials (1 packs)");
    free(out);
    rc = th_ctl(t, &out, "wait", "broken", "--timeout", "30", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "1 trials: 1 done");
    free(out);
}

int main(void)
{
    struct th t;

    th_init(&t, "cancel");
    th_daemon_start(&t, "--checkpoint-interval", "100", "--attempts", "1",
                    NULL);
    check_cancel_and_retry(&t);
    check_failure(&t);

    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
