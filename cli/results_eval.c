/*
 * eval and predict through tadd-worker; see results_eval.h.
 */
#include "results_eval.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_NAME "tadd-worker"

/* 1 when path is a file this process may execute. */
static int eval_is_program(const char *path)
{
    return access(path, X_OK) == 0;
}

/* dir/rel/tadd-worker into out when it is a program; 1 when found. */
static int eval_try(char *out, size_t outlen, const char *dir,
                    const char *rel)
{
    int n = snprintf(out, outlen, "%s%s/" WORKER_NAME, dir, rel);
    return n > 0 && (size_t)n < outlen && eval_is_program(out);
}

int taddctl_find_worker(char *out, size_t outlen, char *err, size_t errlen)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        if (eval_try(out, outlen, exe, "") ||
            eval_try(out, outlen, exe, "/../worker"))
            return 0;
    }
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "");
    char *save = NULL;
    int found = 0;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL;
         dir && !found; dir = strtok_r(NULL, ":", &save))
        found = eval_try(out, outlen, dir, "");
    free(copy);
    if (found)
        return 0;
    snprintf(err, errlen, "cannot find " WORKER_NAME " next to taddctl or "
             "on PATH");
    return -1;
}

int taddctl_worker_exec(const char *verb, int argc, char **argv)
{
    char worker[PATH_MAX], err[512];
    char **args = calloc((size_t)argc + 2, sizeof *args);

    if (!args) {
        fprintf(stderr, "taddctl %s: out of memory\n", verb);
        return 1;
    }
    if (taddctl_find_worker(worker, sizeof worker, err, sizeof err) < 0) {
        fprintf(stderr, "taddctl %s: %s\n", verb, err);
        free(args);
        return 1;
    }
    args[0] = worker;
    args[1] = (char *)verb;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    args[argc + 1] = NULL;
    fflush(stdout);
    execv(worker, args);
    fprintf(stderr, "taddctl %s: cannot run %s: %s\n", verb, worker,
            strerror(errno));
    free(args);
    return 1;
}
