/*
 * Scheduling order: with one worker, queued packs start by their sweep's
 * priority, then by age, so a later sweep of higher priority overtakes
 * the rest of an earlier one (but does not interrupt its running pack).
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "harness.h"

#define TINY                                                                \
    "\"train_steps\": 300, \"eval_interval\": 100, \"batch_size\": 32, "    \
    "\"val_size\": 64, \"test_size\": 64, \"warmup_steps\": 20"

/* Two packs (d_ff differs), priority 0. */
static const char low_text[] =
    "{\"name\": \"low\", \"base\": {" TINY "},\n"
    " \"grid\": {\"d_ff\": [28, 16]}, \"seeds\": [1, 2]}\n";

static const char high_text[] =
    "{\"name\": \"high\", \"priority\": 5, \"base\": {" TINY "},\n"
    " \"seeds\": [3]}\n";

int main(void)
{
    struct th t;
    char *order;

    th_init(&t, "prio");
    th_daemon_start(&t, NULL);
    CHECK_INT_EQ(th_ctl(&t, NULL, "submit", th_write(&t, "low.json",
                                                     low_text),
                        NULL),
                 0);
    CHECK_INT_EQ(th_ctl(&t, NULL, "submit", th_write(&t, "high.json",
                                                     high_text),
                        NULL),
                 0);
    CHECK_INT_EQ(th_ctl(&t, NULL, "wait", "low", "--timeout", "50", NULL),
                 0);
    CHECK_INT_EQ(th_ctl(&t, NULL, "wait", "high", "--timeout", "50", NULL),
                 0);
    CHECK_INT_EQ(th_db_int(&t, "SELECT priority FROM sweeps WHERE name = "
                               "'high'",
                           -1),
                 5);
    /* Packs 1 and 2 are low's, 3 is high's: 1 was running when high came,
     * then 3 went before 2. */
    order = th_db_text(&t, "SELECT ref_id FROM events WHERE kind = 'pack' "
                           "AND state = 'running' ORDER BY id");
    CHECK_STR_EQ(order, "1\n3\n2\n");
    free(order);

    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
