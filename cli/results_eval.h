/*
 * Running tadd-worker from taddctl, for `taddctl eval` and `taddctl
 * predict`: checkpoints are judged by the worker's own code, so those
 * verbs hand their arguments to tadd-worker (docs/worker-protocol.md) by
 * exec, with an argument vector, never a shell. tadd-worker is looked for
 * next to taddctl, then in ../worker beside it (the build tree), then on
 * PATH, as taddd looks for it.
 */
#ifndef TADD_RESULTS_EVAL_H
#define TADD_RESULTS_EVAL_H

#include <stddef.h>

/*
 * Replaces this process with `tadd-worker VERB argv[1]...` (argv[0] is
 * taddctl's verb). Returns only on failure, with exit status 1, after
 * saying why on stderr.
 */
int taddctl_worker_exec(const char *verb, int argc, char **argv);

/*
 * Finds tadd-worker as above and writes its path to out (outlen bytes).
 * Returns 0, or -1 with a message in err.
 */
int taddctl_find_worker(char *out, size_t outlen, char *err, size_t errlen);

#endif
