/*
 * A pack stopped with the daemon and resumed where the engine copy that
 * trained its state is missing (TADD_KERNELS=generic makes the processor
 * count as having no AVX2): the sweep still finishes, and taddd.log says
 * which copies ran and that the pack's results are no longer
 * bit-identical to an uninterrupted run. Where the processor has only the
 * portable copy there is nothing to change and the test is skipped.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "recovery.h"

static char *read_log(struct th *t)
{
    char path[PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/taddd.log", t->home);
    return th_read(path);
}

int main(void)
{
    struct th t;
    const char *file;
    char *out = NULL, *log;
    int rc;

    th_init(&t, "kernres");
    file = th_write(&t, "rec.json", RECOVERY_SWEEP);
    unsetenv("TADD_KERNELS");
    CHECK_INT_EQ(recovery_submit(&t, file), 0);
    recovery_wait_checkpoint(&t, 200);

    log = read_log(&t);
    REQUIRE(log);
    if (strstr(log, "(generic kernels)")) {
        free(log);
        printf("kernels resume: this processor has only the portable "
               "kernels; nothing to test\n");
        CHECK_INT_EQ(th_daemon_stop(&t), 0);
        th_cleanup(&t, check_failures);
        return 77;
    }
    CHECK_STR_HAS(log, "(avx2-fma kernels)");
    free(log);

    /* Stopped, the worker saves its state; started again without the
     * copy that trained it. */
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    setenv("TADD_KERNELS", "generic", 1);
    recovery_daemon_start(&t);
    rc = th_ctl(&t, &out, "wait", "rec", "--timeout", "60", NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_HAS(out, "4 trials: 4 done");
    free(out);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    unsetenv("TADD_KERNELS");

    log = read_log(&t);
    REQUIRE(log);
    CHECK_STR_HAS(log, "(generic kernels)");
    CHECK_STR_HAS(log, "on the generic kernels; the avx2-fma kernels that "
                       "trained its state are missing");
    CHECK_STR_HAS(log, "no longer bit-identical to an uninterrupted run");
    free(log);
    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
