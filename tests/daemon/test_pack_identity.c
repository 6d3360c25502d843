/*
 * A seed trained alone (a sweep of one trial, a pack of one) and the same
 * seed packed with five other models of two configs (a second sweep) give
 * identical checkpoints and metrics: the daemon's packing cannot change a
 * result.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "harness.h"

#define TINY_BASE                                                           \
    "\"train_steps\": 400, \"eval_interval\": 100, \"batch_size\": 32, "    \
    "\"val_size\": 64, \"test_size\": 64, \"warmup_steps\": 40"

static const char alone_text[] =
    "{\"name\": \"alone\", \"base\": {" TINY_BASE ", \"lr\": 0.015},\n"
    " \"seeds\": [42]}\n";

static const char packed_text[] =
    "{\"name\": \"packed\", \"base\": {" TINY_BASE "},\n"
    " \"grid\": {\"lr\": [0.01, 0.015]},\n"
    " \"seeds\": [41, 42, 43]}\n";

int main(void)
{
    struct th t;
    const char *alone, *packed;
    char a[PATH_MAX * 2], b[PATH_MAX * 2];
    char *out = NULL;
    char *rows_a, *rows_b;
    int rc;

    th_init(&t, "pack");
    th_daemon_start(&t, NULL);
    alone = th_write(&t, "alone.json", alone_text);
    rc = th_ctl(&t, &out, "submit", alone, NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "1 configs, 1 trials, 1 packs");
    free(out);
    packed = th_write(&t, "packed.json", packed_text);
    rc = th_ctl(&t, &out, "submit", packed, NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "2 configs, 6 trials, 1 packs");
    free(out);
    CHECK_INT_EQ(th_ctl(&t, NULL, "wait", "alone", "--timeout", "50", NULL),
                 0);
    CHECK_INT_EQ(th_ctl(&t, NULL, "wait", "packed", "--timeout", "50", NULL),
                 0);

    /* A pack of one and a pack of six mixing two learning rates. */
    CHECK_INT_EQ(th_db_int(&t, "SELECT n_models FROM packs WHERE sweep_id = "
                               "(SELECT id FROM sweeps WHERE name = "
                               "'alone')",
                           -1),
                 1);
    CHECK_INT_EQ(th_db_int(&t, "SELECT n_models FROM packs WHERE sweep_id = "
                               "(SELECT id FROM sweeps WHERE name = "
                               "'packed')",
                           -1),
                 6);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials WHERE state = "
                               "'done'",
                           -1),
                 7);
    /* Seed 42 of lr 0.015 is the fifth model, after lr 0.01's three. */
    CHECK_INT_EQ(th_db_int(&t, "SELECT m.idx FROM pack_members m JOIN "
                               "trial_results r ON r.trial_id = m.trial_id "
                               "WHERE r.sweep = 'packed' AND r.config = "
                               "'default.lr=0.015' AND r.seed = 42",
                           -1),
                 4);

    snprintf(a, sizeof(a), "%s/alone/default/seed_42", t.home);
    snprintf(b, sizeof(b), "%s/packed/default.lr=0.015/seed_42", t.home);
    CHECK(th_same_model(a, b));
    /* And the database agrees. */
    rows_a = th_db_text(&t, "SELECT step, train_loss, val_exact, grad_norm, "
                            "lr FROM metrics_named WHERE sweep = 'alone' "
                            "ORDER BY step");
    rows_b = th_db_text(&t, "SELECT step, train_loss, val_exact, grad_norm, "
                            "lr FROM metrics_named WHERE sweep = 'packed' "
                            "AND config = 'default.lr=0.015' AND seed = 42 "
                            "ORDER BY step");
    CHECK(rows_a[0] != '\0');
    CHECK_STR_EQ(rows_a, rows_b);
    free(rows_a);
    free(rows_b);
    /* A different learning rate does give a different model. */
    snprintf(b, sizeof(b), "%s/packed/default.lr=0.01/seed_42/"
                           "last.safetensors",
             t.home);
    snprintf(a, sizeof(a), "%s/alone/default/seed_42/last.safetensors",
             t.home);
    CHECK(!th_same_file(a, b));

    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
