/*
 * A small sweep from submit to finish through a real taddd and
 * tadd-worker: the reply counts, the database rows, the files of SPEC
 * section 6, and what status, show, list, logs and wait print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "harness.h"

static const char sweep_text[] =
    "{\"name\": \"tiny\", \"description\": \"two configs, two seeds\",\n"
    " \"base\": {\"train_steps\": 200, \"eval_interval\": 50,\n"
    "          \"batch_size\": 32, \"val_size\": 64, \"test_size\": 64,\n"
    "          \"warmup_steps\": 20},\n"
    " \"variants\": [{\"name\": \"ln\"}, {\"name\": \"rms\", \"norm\": "
    "\"rmsnorm\"}],\n"
    " \"seeds\": [42, 43], \"baseline\": \"ln\"}\n";

/* Every file SPEC section 6 names for one model. */
static void check_model_files(struct th *t, const char *config, int seed)
{
    static const char *const names[] = {"metrics.csv", "summary.json",
                                        "best.safetensors",
                                        "last.safetensors"};
    char path[PATH_MAX * 2];

    for (int i = 0; i < 4; i++) {
        struct stat st;

        snprintf(path, sizeof(path), "%s/tiny/%s/seed_%d/%s", t->home,
                 config, seed, names[i]);
        CHECK(stat(path, &st) == 0 && st.st_size > 0);
    }
}

/* The database's metrics rows of a trial equal its metrics.csv (printed
 * with 9 significant digits), column by column but elapsed_sec. */
static void check_metrics_match_csv(struct th *t, const char *config,
                                    int seed)
{
    char path[PATH_MAX * 2];
    char sql[512];
    char *csv, *rows, *line, *save = NULL;
    char *row, *save_row = NULL;
    int n_csv = 0, n_db = 0;
    double v[64][6];

    snprintf(path, sizeof(path), "%s/tiny/%s/seed_%d/metrics.csv", t->home,
             config, seed);
    csv = th_read(path);
    REQUIRE(csv != NULL);
    CHECK_STR_HAS(csv, "step,train_loss,val_exact,val_token_acc,grad_norm,"
                       "lr,elapsed_sec");
    for (line = strtok_r(csv, "\n", &save); line && n_csv < 64;
         line = strtok_r(NULL, "\n", &save)) {
        double *r = v[n_csv];
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &r[0], &r[1], &r[2],
                   &r[3], &r[4], &r[5]) == 6)
            n_csv++;
    }
    snprintf(sql, sizeof(sql),
             "SELECT step, train_loss, val_exact, val_token_acc, grad_norm, "
             "lr FROM metrics_named WHERE sweep = 'tiny' AND config = '%s' "
             "AND seed = %d ORDER BY step",
             config, seed);
    rows = th_db_text(t, sql);
    for (row = strtok_r(rows, "\n", &save_row); row;
         row = strtok_r(NULL, "\n", &save_row), n_db++) {
        double d[6];

        REQUIRE(sscanf(row, "%lf|%lf|%lf|%lf|%lf|%lf", &d[0], &d[1], &d[2],
                       &d[3], &d[4], &d[5]) == 6);
        if (n_db >= n_csv)
            continue;
        for (int k = 0; k < 6; k++)
            CHECK_NEAR(d[k], v[n_db][k], 1e-12, 1e-8);
    }
    /* Evaluations at steps 0, 50, 100, 150 and after the last step. */
    CHECK_INT_EQ(n_csv, 5);
    CHECK_INT_EQ(n_db, n_csv);
    free(csv);
    free(rows);
}

static void check_json_output(struct th *t, const char *verb,
                              const char *arg)
{
    char *out = NULL;
    cJSON *j;
    int rc = arg ? th_ctl(t, &out, verb, arg, "--json", NULL)
                 : th_ctl(t, &out, verb, "--json", NULL);

    CHECK_INT_EQ(rc, 0);
    j = cJSON_Parse(out);
    CHECK(j != NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    cJSON_Delete(j);
    free(out);
}

int main(void)
{
    struct th t;
    const char *file;
    char *out = NULL;
    char *text;
    int rc;

    th_init(&t, "basic");
    file = th_write(&t, "tiny.json", sweep_text);
    th_daemon_start(&t, NULL);

    rc = th_ctl(&t, &out, "submit", file, "--dry-run", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "dry run of sweep tiny: 2 configs, 4 trials, 2 packs");
    CHECK_STR_HAS(out, "rms");
    CHECK_STR_HAS(out, "872"); /* rmsnorm's parameter count */
    free(out);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM sweeps", -1), 0);

    rc = th_ctl(&t, &out, "submit", file, NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "submitted sweep tiny: 2 configs, 4 trials, 2 packs");
    free(out);

    /* The same name again is refused and adds nothing. */
    rc = th_ctl(&t, &out, "submit", file, NULL);
    CHECK_INT_EQ(rc, 1);
    CHECK_STR_HAS(out, "already submitted");
    free(out);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials", -1), 4);

    rc = th_ctl(&t, &out, "status", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "tiny");
    CHECK_STR_HAS(out, "queue:");
    free(out);

    rc = th_ctl(&t, &out, "wait", "tiny", "--timeout", "50", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "4 trials: 4 done");
    free(out);

    /* The database. */
    CHECK_INT_EQ(th_db_int(&t, "PRAGMA user_version", -1), 1);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials WHERE state = "
                               "'done' AND step = 200",
                           -1),
                 4);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM packs WHERE state = "
                               "'done'",
                           -1),
                 2);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials WHERE "
                               "best_val_exact IS NULL OR success IS NULL "
                               "OR params IS NULL OR test_exact IS NULL",
                           -1),
                 0);
    CHECK_INT_EQ(th_db_int(&t, "SELECT SUM(params) FROM trials", -1),
                 2 * 896 + 2 * 872);
    CHECK_INT_EQ(th_db_int(&t, "SELECT finished FROM sweep_progress", -1),
                 1);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM events WHERE kind = "
                               "'trial' AND state = 'done'",
                           -1),
                 4);
    text = th_db_text(&t, "PRAGMA journal_mode");
    CHECK_STR_HAS(text, "wal");
    free(text);

    /* The files. */
    check_model_files(&t, "ln", 42);
    check_model_files(&t, "ln", 43);
    check_model_files(&t, "rms", 42);
    check_model_files(&t, "rms", 43);
    check_metrics_match_csv(&t, "ln", 42);
    check_metrics_match_csv(&t, "rms", 43);
    {
        char path[PATH_MAX * 2];
        char *summary;

        snprintf(path, sizeof(path), "%s/tiny/rms/seed_43/summary.json",
                 t.home);
        summary = th_read(path);
        CHECK_STR_HAS(summary, "\"params\"");
        CHECK_STR_HAS(summary, "872");
        free(summary);
        snprintf(path, sizeof(path), "%s/tiny/packs/1/pack.json", t.home);
        text = th_read(path);
        CHECK_STR_HAS(text, "\"seed\"");
        CHECK_STR_HAS(text, "tiny/ln/seed_42");
        free(text);
        snprintf(path, sizeof(path), "%s/taddd.log", t.home);
        text = th_read(path);
        CHECK_STR_HAS(text, " INFO ");
        CHECK_STR_HAS(text, "pack 1: done");
        free(text);
    }

    /* What the reading commands print. */
    rc = th_ctl(&t, &out, "show", "tiny", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "ln: 896 params");
    CHECK_STR_HAS(out, "rms: 872 params");
    CHECK_STR_HAS(out, "200/200");
    CHECK_STR_HAS(out, "done");
    CHECK_STR_HAS(out, "43");
    free(out);
    rc = th_ctl(&t, &out, "status", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "finished");
    CHECK_STR_HAS(out, "running: nothing");
    free(out);
    rc = th_ctl(&t, &out, "list", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "tiny");
    free(out);
    rc = th_ctl(&t, &out, "logs", "tiny", "--pack", "2", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "trial rms seed 43: done");
    CHECK_STR_HAS(out, "worker log of pack 2");
    free(out);
    check_json_output(&t, "status", NULL);
    check_json_output(&t, "list", NULL);
    check_json_output(&t, "show", "tiny");
    check_json_output(&t, "logs", "tiny");
    check_json_output(&t, "wait", "tiny");
    check_json_output(&t, "ping", NULL);

    /* Errors: an unknown sweep, a bad flag, --help. */
    rc = th_ctl(&t, &out, "show", "nope", NULL);
    CHECK_INT_EQ(rc, 1);
    CHECK_STR_HAS(out, "no sweep named \"nope\"");
    free(out);
    rc = th_ctl(&t, &out, "show", "tiny", "--bogus", NULL);
    CHECK_INT_EQ(rc, 2);
    free(out);
    rc = th_ctl(&t, &out, "cancel", "--help", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "usage: taddctl cancel SWEEP [CONFIG]");
    free(out);

    /* shutdown stops the daemon; then taddctl says it is not running. */
    rc = th_ctl(&t, &out, "shutdown", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "taddd stopped");
    free(out);
    CHECK_INT_EQ(th_daemon_wait(&t, 10.0), 0);
    rc = th_ctl(&t, &out, "status", NULL);
    CHECK_INT_EQ(rc, 1);
    CHECK_STR_HAS(out, "taddd is not running");
    free(out);

    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
