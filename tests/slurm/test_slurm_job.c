/*
 * How a pack becomes a Slurm job: the executor's settings, the job
 * script (run here by /bin/sh against a stand-in worker that records its
 * arguments and working folder), and the sbatch argument vector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "fsutil.h"
#include "slurm_job.h"

/* Applies JSON text; returns the result, message in err. */
static int apply(struct tadd_slurm_settings *s, const char *text, char *err,
                 size_t errlen)
{
    cJSON *obj = cJSON_Parse(text);
    int rc;

    REQUIRE(obj != NULL);
    rc = tadd_slurm_settings_apply_json(s, obj, "taddd.json: slurm", err,
                                        errlen);
    cJSON_Delete(obj);
    return rc;
}

static void test_settings(void)
{
    struct tadd_slurm_settings s;
    char err[512];

    tadd_slurm_settings_defaults(&s);
    CHECK_INT_EQ(s.cpus_per_pack, 8);
    CHECK_NEAR(s.poll_interval, 10.0, 0, 0);
    CHECK_STR_EQ(s.partition, "");
    CHECK_INT_EQ(apply(&s,
                       "{\"partition\": \"debug,short\", \"cpus_per_pack\": "
                       "2, \"time_limit\": \"1-02:30:00\", "
                       "\"sbatch_options\": [\"--qos=short\", \"--mem=4G\", "
                       "\"-A\", \"lab\"], \"poll_interval\": 0.5}",
                       err, sizeof(err)),
                 -1);
    /* A value given as an element of its own. */
    CHECK_STR_HAS(err, "taddd.json: slurm.sbatch_options[3]");
    CHECK_STR_HAS(err, "one argument");
    /* Nothing applied on error. */
    CHECK_STR_EQ(s.partition, "");
    CHECK_INT_EQ(s.cpus_per_pack, 8);

    CHECK_INT_EQ(apply(&s,
                       "{\"partition\": \"debug,short\", \"cpus_per_pack\": "
                       "2, \"time_limit\": \"1-02:30:00\", "
                       "\"sbatch_options\": [\"--qos=short\", \"--mem=4G\", "
                       "\"-Alab\"], \"poll_interval\": 0.5}",
                       err, sizeof(err)),
                 0);
    CHECK_STR_EQ(s.partition, "debug,short");
    CHECK_INT_EQ(s.cpus_per_pack, 2);
    CHECK_STR_EQ(s.time_limit, "1-02:30:00");
    CHECK_INT_EQ(s.n_sbatch_options, 3);
    CHECK_STR_EQ(s.sbatch_options[2], "-Alab");
    CHECK_NEAR(s.poll_interval, 0.5, 0, 0);

    CHECK_INT_EQ(apply(&s, "{\"partitions\": \"x\"}", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "slurm.partitions: unknown key");
    CHECK_INT_EQ(apply(&s, "{\"partition\": \"a b\"}", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "slurm.partition");
    CHECK_INT_EQ(apply(&s, "{\"partition\": 3}", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "expected a string");
    CHECK_INT_EQ(apply(&s, "{\"cpus_per_pack\": 0}", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "slurm.cpus_per_pack");
    CHECK_INT_EQ(apply(&s, "{\"cpus_per_pack\": 1.5}", err, sizeof(err)), -1);
    CHECK_INT_EQ(apply(&s, "{\"poll_interval\": 0}", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "slurm.poll_interval");
    CHECK_INT_EQ(apply(&s, "{\"time_limit\": \"2h\"}", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "not a Slurm time");
    CHECK_INT_EQ(apply(&s, "{\"sbatch_options\": \"--qos=x\"}", err,
                       sizeof(err)), -1);
    CHECK_STR_HAS(err, "expected a list");
    CHECK_INT_EQ(apply(&s, "{\"sbatch_options\": [1]}", err, sizeof(err)),
                 -1);
    CHECK_STR_HAS(err, "sbatch_options[0]: expected a string");
    CHECK_INT_EQ(apply(&s, "[]", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "expected an object");
}

/* 0 when the option is accepted, else -1 and the message in err. */
static int option(const char *opt, char *err, size_t errlen)
{
    struct tadd_slurm_settings s;
    char text[512];

    tadd_slurm_settings_defaults(&s);
    snprintf(text, sizeof(text), "{\"sbatch_options\": [\"%s\"]}", opt);
    return apply(&s, text, err, errlen);
}

static void test_refused_options(void)
{
    char err[512];

    CHECK_INT_EQ(option("--output=x.log", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "--output");
    CHECK_STR_HAS(err, "progress file");
    /* Abbreviations sbatch would take, and short forms. */
    CHECK_INT_EQ(option("--outp=x", err, sizeof(err)), -1);
    CHECK_INT_EQ(option("-ox.log", err, sizeof(err)), -1);
    CHECK_INT_EQ(option("-e", err, sizeof(err)), -1);
    CHECK_INT_EQ(option("--array=1-4", err, sizeof(err)), -1);
    CHECK_INT_EQ(option("--requeue", err, sizeof(err)), -1);
    CHECK_INT_EQ(option("--job-name=mine", err, sizeof(err)), -1);
    CHECK_INT_EQ(option("-c4", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "cpus_per_pack");
    CHECK_INT_EQ(option("--time=10", err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "time_limit");
    CHECK_INT_EQ(option("--partition=x", err, sizeof(err)), -1);
    CHECK_INT_EQ(option("--", err, sizeof(err)), -1);
    CHECK_INT_EQ(option("x", err, sizeof(err)), -1);
    /* Options the daemon leaves to the user. */
    CHECK_INT_EQ(option("--qos=short", err, sizeof(err)), 0);
    CHECK_INT_EQ(option("--mem=4G", err, sizeof(err)), 0);
    CHECK_INT_EQ(option("--exclusive", err, sizeof(err)), 0);
    CHECK_INT_EQ(option("--reservation=r1", err, sizeof(err)), 0);
    CHECK_INT_EQ(option("--constraint=avx2", err, sizeof(err)), 0);
    CHECK_INT_EQ(option("-Alab", err, sizeof(err)), 0);
    CHECK_INT_EQ(option("--no-requeue", err, sizeof(err)), 0);
}

static void test_time(void)
{
    const char *good[] = {"30", "30:00", "4:00:00", "2-12", "2-12:30",
                          "2-12:30:00", "UNLIMITED", "INFINITE"};
    const char *bad[] = {"", "2h", "1:2:3:4", "-4", "2-", "1-2:3:4:5",
                         "1:", ":30", "a-1", "unlimited"};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!tadd_slurm_time_valid(good[i]))
            CHECK_FAIL_("time \"%s\" refused", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tadd_slurm_time_valid(bad[i]))
            CHECK_FAIL_("time \"%s\" accepted", bad[i]);
}

static void test_names(void)
{
    char a[64], b[64], c[64], p[256];

    tadd_slurm_job_name(a, sizeof(a), "/home/u/runs", 7);
    tadd_slurm_job_name(b, sizeof(b), "/home/u/runs", 7);
    tadd_slurm_job_name(c, sizeof(c), "/home/u/runs2", 7);
    CHECK_STR_EQ(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK_INT_EQ(strncmp(a, "tadd-", 5), 0);
    CHECK_INT_EQ(strlen(a), strlen("tadd-12345678-7"));
    CHECK_STR_HAS(a, "-7");
    tadd_slurm_progress_path(p, sizeof(p), "s/packs/3", 1234);
    CHECK_STR_EQ(p, "s/packs/3/progress.1234.jsonl");
}

/*
 * Runs the job script with sh, as the batch step would, against a worker
 * that writes its working folder and arguments, one per line, to the file
 * $ARGS_OUT. The home has a space and a quote in its name.
 */
static void test_script(void)
{
    char tmpl[] = "/tmp/tadd-slurm-job.XXXXXX";
    char *tmp = mkdtemp(tmpl);
    char home[512], worker[600], script[600], out[600], cmd[2048];
    char err[512];
    char *text = NULL, *got = NULL;
    size_t len;
    FILE *f;
    struct tadd_slurm_script sc;
    int status;

    REQUIRE(tmp != NULL);
    snprintf(home, sizeof(home), "%s/my home's runs", tmp);
    REQUIRE(mkdir(home, 0700) == 0);
    snprintf(worker, sizeof(worker), "%s/fake worker", tmp);
    snprintf(out, sizeof(out), "%s/args.txt", tmp);
    f = fopen(worker, "w");
    REQUIRE(f != NULL);
    fprintf(f, "#!/bin/sh\npwd > \"$ARGS_OUT\"\n"
               "for a in \"$@\"; do printf '%%s\\n' \"$a\" >> \"$ARGS_OUT\"; "
               "done\nexit 0\n");
    fclose(f);
    REQUIRE(chmod(worker, 0700) == 0);

    sc.pack_id = 3;
    sc.home = home;
    sc.worker_path = worker;
    sc.pack_path = "sw/packs/3/pack.json";
    sc.pack_dir = "sw/packs/3";
    sc.threads = 4;
    REQUIRE(tadd_slurm_script_text(&sc, &text, err, sizeof(err)) == 0);
    CHECK_INT_EQ(strncmp(text, "#!/bin/sh\n", 10), 0);
    CHECK_STR_HAS(text, "tadd pack 3");
    snprintf(script, sizeof(script), "%s/job.sh", tmp);
    REQUIRE(tadd_write_file_atomic(script, text, strlen(text), err,
                                   sizeof(err)) == 0);

    snprintf(cmd, sizeof(cmd),
             "cd / && SLURM_JOB_ID=77 ARGS_OUT='%s' /bin/sh '%s'", out,
             script);
    status = system(cmd);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    REQUIRE(tadd_read_file(out, 1 << 16, &got, &len, err, sizeof(err)) == 0);
    {
        char want[2048];
        snprintf(want, sizeof(want),
                 "%s\ntrain\n--pack\nsw/packs/3/pack.json\n--threads\n4\n"
                 "--progress\nsw/packs/3/progress.77.jsonl\n",
                 home);
        CHECK_STR_EQ(got, want);
    }
    free(got);

    /* Outside a job the script refuses to run rather than write a
     * progress file the daemon would never read. */
    unlink(out);
    snprintf(cmd, sizeof(cmd),
             "env -u SLURM_JOB_ID ARGS_OUT='%s' /bin/sh '%s' 2>/dev/null",
             out, script);
    status = system(cmd);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    CHECK(!tadd_path_exists(out));

    free(text);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
}

static void test_sbatch_argv(void)
{
    struct tadd_slurm_settings s;
    struct tadd_slurm_submit sub = {
        .job_name = "tadd-0000abcd-3",
        .home = "/h",
        .log_path = "/h/sw/packs/3/worker.log",
        .script_path = "/h/sw/packs/3/job.sh",
    };
    char **argv = NULL;
    char err[256];
    char joined[2048] = "";
    int n = 0;

    tadd_slurm_settings_defaults(&s);
    REQUIRE(tadd_slurm_sbatch_argv(&s, &sub, &argv, err, sizeof(err)) == 0);
    for (; argv[n]; n++) {
        strcat(joined, argv[n]);
        strcat(joined, " ");
    }
    CHECK_STR_EQ(joined,
                 "sbatch --parsable --job-name=tadd-0000abcd-3 --chdir=/h "
                 "--output=/dev/null --error=/h/sw/packs/3/worker.log "
                 "--open-mode=append --no-requeue --nodes=1 --ntasks=1 "
                 "--cpus-per-task=8 /h/sw/packs/3/job.sh ");
    tadd_slurm_argv_free(argv);

    snprintf(s.partition, sizeof(s.partition), "debug");
    snprintf(s.time_limit, sizeof(s.time_limit), "30");
    s.n_sbatch_options = 2;
    snprintf(s.sbatch_options[0], TADD_SLURM_OPTION_LEN, "--qos=a b");
    snprintf(s.sbatch_options[1], TADD_SLURM_OPTION_LEN, "--mem=1G");
    REQUIRE(tadd_slurm_sbatch_argv(&s, &sub, &argv, err, sizeof(err)) == 0);
    for (n = 0; argv[n]; n++)
        ;
    CHECK_INT_EQ(n, 16);
    CHECK_STR_EQ(argv[11], "--partition=debug");
    CHECK_STR_EQ(argv[12], "--time=30");
    /* One argument each, spaces and all: no shell in between. */
    CHECK_STR_EQ(argv[13], "--qos=a b");
    CHECK_STR_EQ(argv[14], "--mem=1G");
    CHECK_STR_EQ(argv[15], "/h/sw/packs/3/job.sh");
    tadd_slurm_argv_free(argv);
}

int main(void)
{
    test_settings();
    test_refused_options();
    test_time();
    test_names();
    test_script();
    test_sbatch_argv();
    CHECK_DONE();
}
