/*
 * Wilson intervals, Fisher exact p-values and medians against reference
 * values computed independently (exact fractions with Python's
 * math.comb for Fisher; the roots of the Wilson quadratic for Wilson).
 */
#include "check.h"

#include "stats.h"

static void test_wilson(void)
{
    double lo, hi;

    tadd_stats_wilson95(0, 8, &lo, &hi);
    CHECK_NEAR(lo, 0.0, 0.0, 0.0);
    CHECK_NEAR(hi, 0.324407564884, 1e-10, 0);

    tadd_stats_wilson95(3, 8, &lo, &hi);
    CHECK_NEAR(lo, 0.136844285824, 1e-10, 0);
    CHECK_NEAR(hi, 0.694257605397, 1e-10, 0);

    tadd_stats_wilson95(8, 8, &lo, &hi);
    CHECK_NEAR(lo, 0.675592435116, 1e-10, 0);
    CHECK_NEAR(hi, 1.0, 0.0, 0.0);

    tadd_stats_wilson95(4, 8, &lo, &hi);
    CHECK_NEAR(lo, 0.215216062214, 1e-10, 0);
    CHECK_NEAR(hi, 0.784783937786, 1e-10, 0);

    tadd_stats_wilson95(7, 64, &lo, &hi);
    CHECK_NEAR(lo, 0.054001133444, 1e-10, 0);
    CHECK_NEAR(hi, 0.208986413269, 1e-10, 0);

    tadd_stats_wilson95(1, 1, &lo, &hi);
    CHECK_NEAR(lo, 0.206549314377, 1e-10, 0);
    CHECK_NEAR(hi, 1.0, 0.0, 0.0);

    /* Nothing observed: the whole unit interval. */
    tadd_stats_wilson95(0, 0, &lo, &hi);
    CHECK_NEAR(lo, 0.0, 0.0, 0.0);
    CHECK_NEAR(hi, 1.0, 0.0, 0.0);
}

static void test_fisher(void)
{
    CHECK_NEAR(tadd_stats_fisher_two_sided(3, 8, 8, 8),
               0.02564102564102564, 0, 1e-9);
    CHECK_NEAR(tadd_stats_fisher_two_sided(0, 8, 8, 8),
               1.554001554001554e-4, 0, 1e-9);
    CHECK_NEAR(tadd_stats_fisher_two_sided(4, 8, 4, 8), 1.0, 1e-12, 0);
    /* 3/8 and 5/8 are mirror tables of equal probability: the tolerance
     * must count both or the p-value drops to about 0.43. */
    CHECK_NEAR(tadd_stats_fisher_two_sided(3, 8, 5, 8),
               0.6192696192696193, 0, 1e-9);
    CHECK_NEAR(tadd_stats_fisher_two_sided(5, 8, 3, 8),
               0.6192696192696193, 0, 1e-9);
    CHECK_NEAR(tadd_stats_fisher_two_sided(1, 8, 6, 8),
               0.04055944055944056, 0, 1e-9);
    /* Unequal sample sizes, and the order of the samples. */
    CHECK_NEAR(tadd_stats_fisher_two_sided(2, 10, 7, 12),
               0.09907120743034056, 0, 1e-9);
    CHECK_NEAR(tadd_stats_fisher_two_sided(7, 12, 2, 10),
               0.09907120743034056, 0, 1e-9);
    CHECK_NEAR(tadd_stats_fisher_two_sided(20, 40, 30, 40),
               0.036834833076223074, 0, 1e-9);
    CHECK_NEAR(tadd_stats_fisher_two_sided(0, 8, 0, 8), 1.0, 1e-12, 0);
    CHECK_NEAR(tadd_stats_fisher_two_sided(0, 0, 3, 8), 1.0, 0, 0);
}

static void test_median(void)
{
    double odd[] = { 5, 1, 3 };
    double even[] = { 4, 1, 3, 2 };
    double one[] = { 7.5 };

    CHECK_NEAR(tadd_stats_median(odd, 3), 3.0, 0, 0);
    CHECK_NEAR(tadd_stats_median(even, 4), 2.5, 0, 0);
    CHECK_NEAR(tadd_stats_median(one, 1), 7.5, 0, 0);
    CHECK(isnan(tadd_stats_median(one, 0)));
}

int main(void)
{
    test_wilson();
    test_fisher();
    test_median();
    CHECK_DONE();
}
