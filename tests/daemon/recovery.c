#include "recovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *const recovery_dirs[] = {
    "rec/default.lr=0.01/seed_42", "rec/default.lr=0.01/seed_43",
    "rec/default.lr=0.015/seed_42", "rec/default.lr=0.015/seed_43"};

/* Every metrics row but elapsed_sec, by config, seed and step. */
static const char recovery_metrics_sql[] =
    "SELECT config, seed, step, train_loss, val_exact, val_token_acc, "
    "grad_norm, lr FROM metrics_named ORDER BY config, seed, step";

void recovery_daemon_start(struct th *t)
{
    th_daemon_start(t, "--checkpoint-interval", "100", NULL);
}

int recovery_submit(struct th *t, const char *path)
{
    char *out = NULL;
    int rc;

    recovery_daemon_start(t);
    rc = th_ctl(t, &out, "submit", path, NULL);
    free(out);
    return rc;
}

const char *recovery_reference(struct th *t)
{
    static char path[PATH_MAX + 64];
    char *out = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s", th_write(t, "rec.json",
                                                RECOVERY_SWEEP));
    th_use_home(t, "ref");
    recovery_daemon_start(t);
    rc = th_ctl(t, &out, "submit", path, NULL);
    if (rc != 0)
        fprintf(stderr, "reference submit: %s\n", out);
    free(out);
    rc = th_ctl(t, &out, "wait", "rec", "--timeout", "60", NULL);
    if (rc != 0) {
        fprintf(stderr, "reference wait: %s\n", out);
        th_dump_log(t);
        exit(1);
    }
    free(out);
    th_daemon_stop(t);
    th_use_home(t, "run");
    return path;
}

void recovery_wait_checkpoint(struct th *t, long step)
{
    char sql[256];
    int64_t got;

    snprintf(sql, sizeof(sql),
             "SELECT MAX(checkpoint_step) FROM packs WHERE state = "
             "'running'");
    got = th_db_wait(t, sql, step, 60.0);
    if (got < step || got >= RECOVERY_TRAIN_STEPS) {
        fprintf(stderr, "recovery: the pack's state is at step %lld, not "
                        "in [%ld, %d)\n",
                (long long)got, step, RECOVERY_TRAIN_STEPS);
        th_dump_log(t);
        exit(1);
    }
}

int recovery_check(struct th *t)
{
    char ref_home[PATH_MAX];
    char *ref_rows, *run_rows;

    /* Every trial finished, once. */
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM trials WHERE state = "
                              "'done' AND step = 1200",
                           -1),
                 4);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM events WHERE kind = "
                              "'trial' AND state = 'done'",
                           -1),
                 4);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(DISTINCT ref_id) FROM events "
                              "WHERE kind = 'trial' AND state = 'done'",
                           -1),
                 4);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM events WHERE kind = "
                              "'pack' AND state = 'done'",
                           -1),
                 1);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM metrics", -1),
                 4 * RECOVERY_EVALS);

    /* The same numbers as the run that was never interrupted. */
    run_rows = th_db_text(t, recovery_metrics_sql);
    snprintf(ref_home, sizeof(ref_home), "%s", t->home);
    th_use_home(t, "ref");
    ref_rows = th_db_text(t, recovery_metrics_sql);
    CHECK(strlen(ref_rows) > 0);
    CHECK_STR_EQ(run_rows, ref_rows);
    for (int i = 0; i < 4; i++) {
        char a[PATH_MAX * 2], b[PATH_MAX * 2];

        snprintf(a, sizeof(a), "%s/%s", t->home, recovery_dirs[i]);
        snprintf(b, sizeof(b), "%s/%s", ref_home, recovery_dirs[i]);
        CHECK(th_same_model(a, b));
    }
    th_use_home(t, "run");
    free(run_rows);
    free(ref_rows);
    return check_failures;
}
