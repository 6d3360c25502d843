/*
 * The Slurm output parsers, on output captured from a real Slurm 22.05
 * cluster (tests/slurm/data, made with scripts/slurm-local.sh: jobs that
 * completed, were cancelled, failed with status 3, were killed by
 * SIGKILL, ran out of time, run and pend), and on the malformed lines a
 * parser must refuse.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fsutil.h"
#include "slurm_parse.h"

static char *data(const char *name)
{
    const char *root = getenv("TADD_SOURCE_ROOT");
    char path[4096];
    char err[256];
    char *text = NULL;
    size_t len;

    REQUIRE(root != NULL);
    snprintf(path, sizeof(path), "%s/tests/slurm/data/%s", root, name);
    if (tadd_read_file(path, 1 << 20, &text, &len, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return text;
}

static void test_states(void)
{
    CHECK_INT_EQ(tadd_slurm_state_class("PENDING"), TADD_SLURM_LIVE);
    CHECK_INT_EQ(tadd_slurm_state_class("RUNNING"), TADD_SLURM_LIVE);
    CHECK_INT_EQ(tadd_slurm_state_class("COMPLETING"), TADD_SLURM_LIVE);
    CHECK_INT_EQ(tadd_slurm_state_class("SUSPENDED"), TADD_SLURM_LIVE);
    CHECK_INT_EQ(tadd_slurm_state_class("COMPLETED"), TADD_SLURM_COMPLETED);
    CHECK_INT_EQ(tadd_slurm_state_class("FAILED"), TADD_SLURM_ENDED);
    CHECK_INT_EQ(tadd_slurm_state_class("NODE_FAIL"), TADD_SLURM_ENDED);
    CHECK_INT_EQ(tadd_slurm_state_class("TIMEOUT"), TADD_SLURM_ENDED);
    CHECK_INT_EQ(tadd_slurm_state_class("PREEMPTED"), TADD_SLURM_ENDED);
    CHECK_INT_EQ(tadd_slurm_state_class("OUT_OF_MEMORY"), TADD_SLURM_ENDED);
    /* sacct with slurmdbd names who cancelled. */
    CHECK_INT_EQ(tadd_slurm_state_class("CANCELLED by 1000"),
                 TADD_SLURM_ENDED);
    CHECK_INT_EQ(tadd_slurm_state_class("CANCELLED+"), TADD_SLURM_ENDED);
    /* An unknown word is waited on, never resubmitted. */
    CHECK_INT_EQ(tadd_slurm_state_class("SOMETHING_NEW"), TADD_SLURM_LIVE);
    CHECK_INT_EQ(tadd_slurm_state_known("SOMETHING_NEW"), 0);
    CHECK_INT_EQ(tadd_slurm_state_known("RUNNINGX"), 0);
    CHECK_INT_EQ(tadd_slurm_state_known("TIMEOUT"), 1);
}

static void test_sbatch(void)
{
    char *out = data("sbatch_parsable.txt");
    char err[256];
    int64_t id = 0;

    CHECK_INT_EQ(tadd_slurm_parse_sbatch(out, &id, err, sizeof(err)), 0);
    CHECK_INT_EQ(id, 7);
    /* A federated or multi-cluster answer names the cluster. */
    CHECK_INT_EQ(tadd_slurm_parse_sbatch("4242;gpu\n", &id, err,
                                         sizeof(err)), 0);
    CHECK_INT_EQ(id, 4242);
    CHECK_INT_EQ(tadd_slurm_parse_sbatch("", &id, err, sizeof(err)), -1);
    CHECK_INT_EQ(tadd_slurm_parse_sbatch("Submitted batch job 5\n", &id, err,
                                         sizeof(err)), -1);
    CHECK_STR_HAS(err, "Submitted batch job 5");
    CHECK_INT_EQ(tadd_slurm_parse_sbatch("12x\n", &id, err, sizeof(err)), -1);
    CHECK_INT_EQ(tadd_slurm_parse_sbatch("0\n", &id, err, sizeof(err)), -1);
    free(out);
}

static const struct tadd_slurm_job *find(const struct tadd_slurm_job *jobs,
                                         size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (jobs[i].id == id)
            return &jobs[i];
    return NULL;
}

static void test_squeue(void)
{
    char *out = data("squeue_all.txt");
    struct tadd_slurm_job jobs[16];
    const struct tadd_slurm_job *j;
    int64_t want[] = {5, 7, 3, 99};
    char err[256];
    size_t n = 0;

    CHECK_INT_EQ(tadd_slurm_parse_squeue(out, NULL, 0, jobs, 16, &n, err,
                                         sizeof(err)), 0);
    CHECK_INT_EQ(n, 7);
    j = find(jobs, n, 2);
    REQUIRE(j);
    CHECK_STR_EQ(j->state, "CANCELLED");
    CHECK_INT_EQ(j->exit_code, -1);
    j = find(jobs, n, 7);
    REQUIRE(j);
    CHECK_STR_EQ(j->state, "PENDING");
    CHECK_STR_EQ(j->reason, "Resources");

    /* Only the jobs asked about are kept; 99 is not in the output. */
    CHECK_INT_EQ(tadd_slurm_parse_squeue(out, want, 4, jobs, 16, &n, err,
                                         sizeof(err)), 0);
    CHECK_INT_EQ(n, 3);
    CHECK(find(jobs, n, 5) && strcmp(find(jobs, n, 5)->state, "TIMEOUT") ==
                                  0);
    CHECK(find(jobs, n, 3) &&
          strcmp(find(jobs, n, 3)->reason, "NonZeroExitCode") == 0);
    CHECK(find(jobs, n, 99) == NULL);
    CHECK(find(jobs, n, 1) == NULL);

    /* cap bounds what is stored. */
    CHECK_INT_EQ(tadd_slurm_parse_squeue(out, NULL, 0, jobs, 2, &n, err,
                                         sizeof(err)), 0);
    CHECK_INT_EQ(n, 2);

    /* Padding from a fixed width and an empty output are fine. */
    CHECK_INT_EQ(tadd_slurm_parse_squeue("5|RUNNING|None   \n", NULL, 0,
                                         jobs, 16, &n, err, sizeof(err)), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(jobs[0].reason, "None");
    CHECK_INT_EQ(tadd_slurm_parse_squeue("", NULL, 0, jobs, 16, &n, err,
                                         sizeof(err)), 0);
    CHECK_INT_EQ(n, 0);

    /* squeue's default format is not what was asked for. */
    CHECK_INT_EQ(tadd_slurm_parse_squeue(
                     "5|RUNNING|None\n  JOBID PARTITION NAME\n", NULL, 0,
                     jobs, 16, &n, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "squeue line 2");
    CHECK_INT_EQ(tadd_slurm_parse_squeue("x|RUNNING|None\n", NULL, 0, jobs,
                                         16, &n, err, sizeof(err)), -1);
    CHECK_INT_EQ(tadd_slurm_parse_squeue("5||None\n", NULL, 0, jobs, 16, &n,
                                         err, sizeof(err)), -1);
    free(out);
}

/* scontrol show job ID for the job, and what it should say. */
static void check_scontrol(int64_t id, const char *state, int code, int sig,
                           const char *reason)
{
    char name[64];
    char err[256];
    char *out;
    struct tadd_slurm_job job;

    snprintf(name, sizeof(name), "scontrol_%lld.txt", (long long)id);
    out = data(name);
    CHECK_INT_EQ(tadd_slurm_parse_scontrol(out, id, &job, err, sizeof(err)),
                 1);
    CHECK_INT_EQ(job.id, id);
    CHECK_STR_EQ(job.state, state);
    CHECK_INT_EQ(job.exit_code, code);
    CHECK_INT_EQ(job.exit_signal, sig);
    CHECK_STR_EQ(job.reason, reason);
    /* Another id is not in this record. */
    CHECK_INT_EQ(tadd_slurm_parse_scontrol(out, id * 10, &job, err,
                                           sizeof(err)), 0);
    free(out);
}

static void test_scontrol(void)
{
    struct tadd_slurm_job job;
    char err[256];
    char *out;

    check_scontrol(1, "COMPLETED", 0, 0, "None");
    check_scontrol(2, "CANCELLED", 0, 0, "None");
    check_scontrol(3, "FAILED", 3, 0, "NonZeroExitCode");
    check_scontrol(4, "FAILED", 0, 9, "JobLaunchFailure");
    check_scontrol(5, "TIMEOUT", 0, 15, "TimeLimit");
    check_scontrol(6, "RUNNING", 0, 0, "None");
    check_scontrol(7, "PENDING", 0, 0, "Resources");

    /* An unknown job: nothing on stdout (the error goes to stderr). */
    out = data("scontrol_unknown.out");
    CHECK_INT_EQ(tadd_slurm_parse_scontrol(out, 999, &job, err,
                                           sizeof(err)), 0);
    free(out);

    /* Several records (-o, one line each): the right one is taken, and
     * JobId=1 is not JobId=12. */
    out = "JobId=12 JobName=a JobState=RUNNING Reason=None ExitCode=0:0\n"
          "JobId=1 JobName=b JobState=FAILED Reason=NonZeroExitCode "
          "ExitCode=2:0\n";
    CHECK_INT_EQ(tadd_slurm_parse_scontrol(out, 1, &job, err, sizeof(err)),
                 1);
    CHECK_STR_EQ(job.state, "FAILED");
    CHECK_INT_EQ(job.exit_code, 2);
    CHECK_INT_EQ(tadd_slurm_parse_scontrol(out, 12, &job, err, sizeof(err)),
                 1);
    CHECK_STR_EQ(job.state, "RUNNING");
    /* A key inside another value does not count: OldJobState= is not
     * JobState=. */
    CHECK_INT_EQ(tadd_slurm_parse_scontrol("JobId=3 OldJobState=RUNNING\n",
                                           3, &job, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "no JobState");
    CHECK_INT_EQ(tadd_slurm_parse_scontrol(
                     "JobId=3 JobState=FAILED ExitCode=x\n", 3, &job, err,
                     sizeof(err)), -1);
    CHECK_STR_HAS(err, "ExitCode=x");
}

static void test_sacct(void)
{
    char *out = data("sacct_c.txt");
    struct tadd_slurm_job job;
    char err[256];

    CHECK_INT_EQ(tadd_slurm_parse_sacct(out, 3, &job, err, sizeof(err)), 1);
    CHECK_STR_EQ(job.state, "FAILED");
    CHECK_INT_EQ(job.exit_code, 3);
    CHECK_INT_EQ(job.exit_signal, 0);
    CHECK_INT_EQ(tadd_slurm_parse_sacct(out, 4, &job, err, sizeof(err)), 1);
    CHECK_INT_EQ(job.exit_signal, 9);
    /* The jobcomp file has TIMEOUT with 0:0 where scontrol says 0:15. */
    CHECK_INT_EQ(tadd_slurm_parse_sacct(out, 5, &job, err, sizeof(err)), 1);
    CHECK_STR_EQ(job.state, "TIMEOUT");
    CHECK_INT_EQ(tadd_slurm_parse_sacct(out, 6, &job, err, sizeof(err)), 0);
    free(out);

    out = data("sacct_c_unknown.txt");
    CHECK_INT_EQ(tadd_slurm_parse_sacct(out, 999, &job, err, sizeof(err)),
                 0);
    free(out);

    /* With slurmdbd: steps, who cancelled, and a requeued job's two
     * lines, of which the last counts. */
    out = "8|CANCELLED by 0|0:15\n8.batch|CANCELLED|0:15\n"
          "9|NODE_FAIL|0:0\n9|COMPLETED|0:0\n9.batch|COMPLETED|0:0\n";
    CHECK_INT_EQ(tadd_slurm_parse_sacct(out, 8, &job, err, sizeof(err)), 1);
    CHECK_STR_EQ(job.state, "CANCELLED by 0");
    CHECK_INT_EQ(job.exit_signal, 15);
    CHECK_INT_EQ(tadd_slurm_parse_sacct(out, 9, &job, err, sizeof(err)), 1);
    CHECK_STR_EQ(job.state, "COMPLETED");
    CHECK_INT_EQ(tadd_slurm_parse_sacct("9 COMPLETED 0:0\n", 9, &job, err,
                                        sizeof(err)), -1);
    CHECK_STR_HAS(err, "sacct line 1");
    CHECK_INT_EQ(tadd_slurm_parse_sacct("9|COMPLETED|zero\n", 9, &job, err,
                                        sizeof(err)), -1);
}

static void test_exit_code(void)
{
    int code = -1, sig = -1;

    CHECK_INT_EQ(tadd_slurm_parse_exit_code("0:15", &code, &sig), 0);
    CHECK_INT_EQ(code, 0);
    CHECK_INT_EQ(sig, 15);
    CHECK_INT_EQ(tadd_slurm_parse_exit_code("2:0", &code, &sig), 0);
    CHECK_INT_EQ(code, 2);
    CHECK_INT_EQ(tadd_slurm_parse_exit_code("2", &code, &sig), -1);
    CHECK_INT_EQ(tadd_slurm_parse_exit_code(":1", &code, &sig), -1);
    CHECK_INT_EQ(tadd_slurm_parse_exit_code("1:", &code, &sig), -1);
    CHECK_INT_EQ(tadd_slurm_parse_exit_code("300:0", &code, &sig), -1);
    CHECK_INT_EQ(tadd_slurm_parse_exit_code("1:2x", &code, &sig), -1);
}

static struct tadd_slurm_job job_of(int64_t id, const char *state, int code,
                                    int sig, const char *reason)
{
    struct tadd_slurm_job j;

    memset(&j, 0, sizeof(j));
    j.id = id;
    snprintf(j.state, sizeof(j.state), "%s", state);
    snprintf(j.reason, sizeof(j.reason), "%s", reason);
    j.exit_code = code;
    j.exit_signal = sig;
    return j;
}

static void test_job_exit(void)
{
    struct tadd_exec_exit ex;
    struct tadd_slurm_job j;
    char reason[256];

    j = job_of(1, "COMPLETED", 0, 0, "None");
    CHECK_INT_EQ(tadd_slurm_job_exit(&j, 0, &ex, reason, sizeof(reason)), 0);
    CHECK_INT_EQ(ex.exit_status, 0);
    CHECK_INT_EQ(ex.term_signal, 0);
    CHECK_STR_EQ(reason, "");

    /* scancel by the daemon: a stop, not a failure. */
    j = job_of(2, "CANCELLED", 0, 0, "None");
    CHECK_INT_EQ(tadd_slurm_job_exit(&j, 1, &ex, reason, sizeof(reason)), 0);
    CHECK_INT_EQ(ex.stop_requested, 1);
    CHECK_STR_EQ(reason, "");
    /* scancel from outside: abnormal although the worker exited 0. */
    CHECK_INT_EQ(tadd_slurm_job_exit(&j, 0, &ex, reason, sizeof(reason)), 1);
    CHECK_INT_EQ(ex.exit_status, 0);
    CHECK_STR_EQ(reason, "Slurm job 2 CANCELLED from outside the daemon");
    j = job_of(2, "CANCELLED by 0", 0, 15, "None");
    CHECK_INT_EQ(tadd_slurm_job_exit(&j, 0, &ex, reason, sizeof(reason)), 1);
    CHECK_INT_EQ(ex.term_signal, 15);
    CHECK_STR_EQ(reason, "Slurm job 2 CANCELLED from outside the daemon "
                         "(exit code 0:15)");

    j = job_of(3, "FAILED", 3, 0, "NonZeroExitCode");
    CHECK_INT_EQ(tadd_slurm_job_exit(&j, 0, &ex, reason, sizeof(reason)), 1);
    CHECK_INT_EQ(ex.exit_status, 3);
    CHECK_STR_EQ(reason, "Slurm job 3 FAILED (exit code 3:0), reason "
                         "NonZeroExitCode");

    j = job_of(5, "TIMEOUT", 0, 15, "TimeLimit");
    CHECK_INT_EQ(tadd_slurm_job_exit(&j, 0, &ex, reason, sizeof(reason)), 1);
    CHECK_INT_EQ(ex.term_signal, SIGTERM);
    CHECK_STR_HAS(reason, "TIMEOUT");
    /* A time limit reached while the daemon was stopping it is still
     * named, and still a requested stop. */
    CHECK_INT_EQ(tadd_slurm_job_exit(&j, 1, &ex, reason, sizeof(reason)), 1);
    CHECK_INT_EQ(ex.stop_requested, 1);

    /* From sacct without an exit code known: no code in the reason. */
    j = job_of(9, "NODE_FAIL", -1, -1, "");
    CHECK_INT_EQ(tadd_slurm_job_exit(&j, 0, &ex, reason, sizeof(reason)), 1);
    CHECK_INT_EQ(ex.exit_status, 0);
    CHECK_INT_EQ(ex.term_signal, 0);
    CHECK_STR_EQ(reason, "Slurm job 9 NODE_FAIL");
}

int main(void)
{
    test_states();
    test_sbatch();
    test_squeue();
    test_scontrol();
    test_sacct();
    test_exit_code();
    test_job_exit();
    CHECK_DONE();
}
