/*
 * SPEC section 4's rules on constructed results: each rule passing and
 * failing, ties, and a baseline with no success.
 */
#include "check.h"

#include "verdict.h"

static const struct tadd_verdict_input base = {
    .params = 896, .n = 8, .k = 4, .median_seconds = 300.0,
};

static struct tadd_verdict judge(long params, int n, int k, double sec,
                                 const struct tadd_verdict_input *b)
{
    struct tadd_verdict v;
    struct tadd_verdict_input c = {
        .params = params, .n = n, .k = k, .median_seconds = sec,
    };
    tadd_verdict_judge(&v, &c, b);
    return v;
}

static void test_rule1(void)
{
    struct tadd_verdict v = judge(512, 8, 5, 900.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_PASS);
    CHECK_INT_EQ(v.rule, 1);
    CHECK_STR_EQ(v.reason,
                 "rule 1: 512 < 896 params and rate 5/8 = 0.62 > 0.5");

    /* Exactly one half is not more than one half. */
    v = judge(512, 8, 4, 100.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_INT_EQ(v.rule, 0);
    CHECK_STR_HAS(v.reason,
                  "rule 1: 512 < 896 params but rate 4/8 = 0.50 <= 0.5");
    CHECK_STR_HAS(v.reason, "rule 2: 512 params, not the same as 896");
    CHECK_STR_HAS(v.reason, "rule 3: 512 params, not the same as 896");

    v = judge(512, 8, 3, 100.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason,
                  "rule 1: 512 < 896 params but rate 3/8 = 0.38 <= 0.5");

    /* Rule 1 ignores the baseline's rate: 5/8 beats a perfect baseline. */
    struct tadd_verdict_input perfect = base;
    perfect.k = 8;
    v = judge(784, 8, 5, 100.0, &perfect);
    CHECK_INT_EQ(v.result, TADD_VERDICT_PASS);
    CHECK_INT_EQ(v.rule, 1);

    /* More params fail every rule, whatever the rate. */
    v = judge(1128, 8, 8, 10.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "rule 1: 1128 params, not fewer than 896");
    CHECK_STR_HAS(v.reason, "rule 2: 1128 params, not the same as 896");
}

static void test_rule2(void)
{
    struct tadd_verdict v = judge(896, 8, 5, 900.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_PASS);
    CHECK_INT_EQ(v.rule, 2);
    CHECK_STR_EQ(v.reason, "rule 2: same 896 params and rate 5/8 > 4/8");

    v = judge(896, 8, 3, 10.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "rule 1: 896 params, not fewer than 896");
    CHECK_STR_HAS(v.reason, "rule 2: same 896 params but rate 3/8 < 4/8");
    CHECK_STR_HAS(v.reason, "rule 3: rate 3/8, not the same as 4/8");

    /* Rates compare as fractions: 9/16 > 4/8, 8/16 ties with 4/8. */
    v = judge(896, 16, 9, 900.0, &base);
    CHECK_INT_EQ(v.rule, 2);
    v = judge(896, 16, 8, 900.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "rule 2: same 896 params but rate 8/16 = 4/8");
}

static void test_rule3(void)
{
    struct tadd_verdict v = judge(896, 8, 4, 250.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_PASS);
    CHECK_INT_EQ(v.rule, 3);
    CHECK_STR_EQ(v.reason, "rule 3: same 896 params, same rate 4/8 and median "
                           "time to success 250.0 s < 300.0 s");

    /* A tie on time is not less time. */
    v = judge(896, 8, 4, 300.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "rule 2: same 896 params but rate 4/8 = 4/8");
    CHECK_STR_HAS(v.reason, "median time to success 300.0 s = 300.0 s");

    v = judge(896, 8, 4, 301.0, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "but median time to success 301.0 s > 300.0 s");

    /* Same rate over a different n (8/16 = 4/8) still reaches rule 3. */
    v = judge(896, 16, 8, 200.0, &base);
    CHECK_INT_EQ(v.rule, 3);

    v = judge(896, 8, 4, NAN, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "the config's time to success is unknown");
}

static void test_zero_success_baseline(void)
{
    const struct tadd_verdict_input zero = {
        .params = 896, .n = 8, .k = 0, .median_seconds = NAN,
    };
    struct tadd_verdict v = judge(896, 8, 0, NAN, &zero);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "rule 2: same 896 params but rate 0/8 = 0/8");
    CHECK_STR_HAS(v.reason, "the baseline has no success, so there is no "
                            "time to success to compare");

    /* Any success beats a baseline of none by rule 2. */
    v = judge(896, 8, 1, 500.0, &zero);
    CHECK_INT_EQ(v.rule, 2);

    /* Rule 1 still needs more than half. */
    v = judge(500, 8, 1, 500.0, &zero);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    v = judge(500, 8, 8, 500.0, &zero);
    CHECK_INT_EQ(v.rule, 1);
}

static void test_unjudged(void)
{
    struct tadd_verdict v = judge(896, 0, 0, NAN, &base);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "the config has no trials");

    struct tadd_verdict_input empty = base;
    empty.n = 0;
    empty.k = 0;
    v = judge(896, 8, 8, 1.0, &empty);
    CHECK_INT_EQ(v.result, TADD_VERDICT_FAIL);
    CHECK_STR_HAS(v.reason, "the baseline has no trials");

    v = judge(0, 8, 8, 1.0, &base);
    CHECK_STR_HAS(v.reason, "the config's params are unknown");

    tadd_verdict_set_baseline(&v);
    CHECK_INT_EQ(v.result, TADD_VERDICT_BASELINE);
    CHECK_STR_EQ(v.reason, "baseline");
    CHECK_STR_EQ(tadd_verdict_result_name(v.result), "baseline");
    tadd_verdict_set_none(&v);
    CHECK_STR_EQ(tadd_verdict_result_name(v.result), "none");
}

int main(void)
{
    test_rule1();
    test_rule2();
    test_rule3();
    test_zero_success_baseline();
    test_unjudged();
    CHECK_DONE();
}
