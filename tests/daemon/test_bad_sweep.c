/*
 * Wrong sweep files: each is refused with the path of the offending key
 * (or what else is wrong), taddctl exits 1, and nothing reaches the
 * database, dry run or not. A good file afterwards is still accepted.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "harness.h"

struct bad_case {
    const char *text;
    const char *message; /* what the error must say */
};

static const struct bad_case bad_cases[] = {
    {"{\"name\": \"b1\", \"nmae\": 1}", "nmae: unknown key"},
    {"{\"name\": \"b2\", \"variants\": [{\"name\": \"a\"}, {\"name\": \"b\", "
     "\"lr\": \"fast\"}]}",
     "variants[1].lr: "},
    {"{\"name\": \"b3\", \"grid\": {\"batch_size\": [32, -5]}}",
     "grid.batch_size[1]: "},
    {"{\"name\": \"b4\", \"seeds\": {\"start\": 1, \"count\": 0}}",
     "seeds.count: "},
    {"{\"name\": \"b5\", \"base\": {\"d_model\": 7, \"n_head\": 2}}",
     "n_head"},
    {"{\"name\": \"b6\", \"base\": {\"norm\": \"batchnorm\"}}",
     "base.norm: "},
    {"{\"name\": \"b7\", \"base\": {\"lr\": 0.01}, \"grid\": {\"lr\": "
     "[0.01, 0.02]}, \"baseline\": \"missing\"}",
     "baseline: no config named \"missing\""},
    {"{\"name\": \"b8\", \"baseline\": {\"sweep\": \"ghost\", \"config\": "
     "\"default\"}}",
     "baseline: sweep \"ghost\" has no config \"default\""},
    {"{\"name\": \"b9\",", "JSON syntax error"},
    {"{\"description\": \"no name\"}", "name: missing"},
    {"{\"name\": \"bad name!\"}", "name: "},
    {"{\"name\": \"taddd.log\"}", "name: \"taddd.log\" is reserved"},
    {"[1, 2]", "must be a JSON object"},
    {"{\"name\": \"b10\", \"variants\": [{\"name\": \"summary.json\"}]}",
     "config \"summary.json\": the name is reserved"},
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static void check_nothing_stored(struct th *t)
{
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM sweeps", -1), 0);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM configs", -1), 0);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM trials", -1), 0);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM packs", -1), 0);
    CHECK_INT_EQ(th_db_int(t, "SELECT COUNT(*) FROM events", -1), 0);
}

int main(void)
{
    struct th t;
    char *out = NULL;
    const char *file;
    int rc;

    th_init(&t, "bad");
    th_daemon_start(&t, NULL);
    for (size_t i = 0; i < N_BAD; i++) {
        file = th_write(&t, "bad.json", bad_cases[i].text);
        rc = th_ctl(&t, &out, "submit", file, NULL);
        CHECK_INT_EQ(rc, 1);
        CHECK_STR_HAS(out, "bad.json: ");
        CHECK_STR_HAS(out, bad_cases[i].message);
        free(out);
        rc = th_ctl(&t, &out, "submit", file, "--dry-run", NULL);
        CHECK_INT_EQ(rc, 1);
        CHECK_STR_HAS(out, bad_cases[i].message);
        free(out);
    }
    check_nothing_stored(&t);

    /* Files taddctl cannot send. */
    rc = th_ctl(&t, &out, "submit", "/nonexistent/sweep.json", NULL);
    CHECK_INT_EQ(rc, 1);
    CHECK_STR_HAS(out, "/nonexistent/sweep.json");
    free(out);
    rc = th_ctl(&t, &out, "submit", NULL);
    CHECK_INT_EQ(rc, 2);
    CHECK_STR_HAS(out, "missing argument");
    free(out);
    check_nothing_stored(&t);

    /* The daemon is unharmed: a good file's dry run shows its expansion,
     * and the file then goes in and runs. */
    file = th_write(&t, "good.json",
                    "{\"name\": \"good\", \"base\": {\"train_steps\": 100, "
                    "\"eval_interval\": 50, \"batch_size\": 32, "
                    "\"val_size\": 64, \"test_size\": 64, \"warmup_steps\": "
                    "10}, \"grid\": {\"d_ff\": [16, 28]}, \"seeds\": "
                    "{\"start\": 7, \"count\": 3}}");
    rc = th_ctl(&t, &out, "submit", file, "--dry-run", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "default.d_ff=16");
    CHECK_STR_HAS(out, "824");
    CHECK_STR_HAS(out, "seeds: 7 8 9");
    free(out);
    check_nothing_stored(&t);
    rc = th_ctl(&t, &out, "submit", file, NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "2 configs, 6 trials, 2 packs");
    free(out);
    CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials", -1), 6);
    CHECK_INT_EQ(th_ctl(&t, NULL, "wait", "good", "--timeout", "50", NULL),
                 0);

    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
