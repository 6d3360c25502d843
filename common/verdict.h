/*
 * The comparison rules of SPEC section 4: a config is judged against the
 * sweep's baseline config (with a variant baseline, that variant's config
 * at the same grid point; results.h picks it) and passes when any of
 * these holds:
 *
 *   1. fewer params than the baseline and rate > 0.5;
 *   2. the same params and a higher rate than the baseline;
 *   3. the same params, the same rate, and a lower median time to success.
 *
 * Otherwise it fails. At most one rule can pass (the three differ in how
 * params and rates compare). Rates are compared as exact fractions
 * (k1 * n2 against k2 * n1), so 4/8 and 8/16 tie. Rule 3 compares median
 * seconds to success strictly: equal medians do not pass. How the seconds
 * are attributed when configs share a pack is defined in results.h.
 *
 * The verdict names the rule that passed, or gives one sentence per rule
 * saying why it failed, for example
 *
 *     rule 1: 512 < 896 params but rate 3/8 = 0.38 <= 0.5
 */
#ifndef TADD_VERDICT_H
#define TADD_VERDICT_H

#define TADD_VERDICT_REASON_LEN 640

enum tadd_verdict_result {
    TADD_VERDICT_NONE = 0, /* the sweep has no baseline */
    TADD_VERDICT_BASELINE, /* this config is the baseline */
    TADD_VERDICT_PASS,
    TADD_VERDICT_FAIL,
};

/* What the rules look at, for the config and for the baseline. */
struct tadd_verdict_input {
    long params;           /* trainable params; <= 0 when unknown */
    int n;                 /* models counted */
    int k;                 /* of which succeeded, 0 <= k <= n */
    double median_seconds; /* to success, over the k; NAN when unknown */
};

struct tadd_verdict {
    enum tadd_verdict_result result;
    int rule; /* the rule that passed (1-3), 0 otherwise */
    char reason[TADD_VERDICT_REASON_LEN];
};

/* Judges cfg against base by the three rules; cannot fail. */
void tadd_verdict_judge(struct tadd_verdict *out,
                        const struct tadd_verdict_input *cfg,
                        const struct tadd_verdict_input *base);

/* The verdict of the baseline itself ("baseline"). */
void tadd_verdict_set_baseline(struct tadd_verdict *out);

/* The verdict of every config of a sweep without baseline. */
void tadd_verdict_set_none(struct tadd_verdict *out);

/* "none", "baseline", "pass" or "fail". */
const char *tadd_verdict_result_name(enum tadd_verdict_result r);

#endif
