/*
 * Evaluation of one model on a list of pairs (SPEC section 3): exact match
 * and token accuracy of greedy decoding, and the first failures.
 *
 * Greedy decoding is the definition; the teacher-forced argmax is a fast
 * way to find the exact pairs. When the argmax at every one of the 11
 * digit positions equals the true digit, greedy decoding would feed the
 * true digits back and so emits them too: that pair is exact with all 11
 * digits right, and is not decoded. Only the other pairs are decoded
 * greedily, 11 tokens each, gathered into full batches. A model that is
 * mostly right therefore costs about one forward pass per pair.
 *
 * Dimension letters: B batch (the workspace's max_batch), T context (33).
 */
#ifndef TADD_EVAL_H
#define TADD_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "model.h"

struct tadd_eval_failure {
    uint64_t a;
    uint64_t b;
    uint64_t predicted; /* the generated answer read per SPEC section 1 */
    uint64_t truth;     /* a + b */
};

struct tadd_eval_result {
    size_t n_pairs;
    size_t n_exact;        /* all 11 generated digits right */
    size_t n_errors;       /* n_pairs - n_exact */
    size_t digits_correct; /* matching digit positions, of 11 n_pairs */
    double exact;          /* n_exact / n_pairs, 0 without pairs */
    double token_acc;      /* digits_correct / (11 n_pairs), 0 likewise */
    int n_failures;        /* failures written, at most max_failures */
};

/*
 * Evaluates m on pairs (n). ws must come from tadd_workspace_new for m's
 * config with max_batch >= batch; pairs are processed batch at a time.
 * failures (max_failures) receives the first failing pairs in list order;
 * it may be NULL when max_failures is 0.
 * Returns 0, or -1 with a message in err (bad arguments, OOM).
 */
int tadd_eval_pairs(struct tadd_eval_result *res,
                    struct tadd_eval_failure *failures, int max_failures,
                    const struct tadd_model *m, struct tadd_workspace *ws,
                    int batch, const struct tadd_pair *pairs, size_t n,
                    char *err, size_t errlen);

#endif
