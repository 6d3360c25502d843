/*
 * Wilson interval, Fisher exact test and medians; see stats.h.
 */
#include "stats.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

void tadd_stats_wilson95(int k, int n, double *lo, double *hi)
{
    assert(k >= 0 && k <= n);
    if (n <= 0) {
        *lo = 0.0;
        *hi = 1.0;
        return;
    }
    double z2 = TADD_Z_95 * TADD_Z_95;
    double p = (double)k / n;
    double denom = 1.0 + z2 / n;
    double centre = (p + z2 / (2.0 * n)) / denom;
    double half = TADD_Z_95 *
                  sqrt(p * (1.0 - p) / n + z2 / (4.0 * (double)n * n)) /
                  denom;
    /* At k == 0 and k == n the bound is exact in theory but rounding can
     * push it a hair outside [0, 1] or past the rate. */
    *lo = k == 0 ? 0.0 : fmax(0.0, centre - half);
    *hi = k == n ? 1.0 : fmin(1.0, centre + half);
}

/* log of the binomial coefficient C(n, r). */
static double stats_log_choose(int n, int r)
{
    return lgamma(n + 1.0) - lgamma(r + 1.0) - lgamma(n - r + 1.0);
}

/* log probability of x successes in the first row, margins fixed. */
static double stats_log_hyper(int x, int n1, int n2, int total_k)
{
    return stats_log_choose(n1, x) + stats_log_choose(n2, total_k - x) -
           stats_log_choose(n1 + n2, total_k);
}

double tadd_stats_fisher_two_sided(int k1, int n1, int k2, int n2)
{
    assert(k1 >= 0 && k1 <= n1);
    assert(k2 >= 0 && k2 <= n2);
    if (n1 == 0 || n2 == 0)
        return 1.0;
    int total_k = k1 + k2;
    int x_lo = total_k > n2 ? total_k - n2 : 0;
    int x_hi = total_k < n1 ? total_k : n1;
    double p_obs = exp(stats_log_hyper(k1, n1, n2, total_k));
    double limit = p_obs * (1.0 + 1e-7);
    double sum = 0.0;
    for (int x = x_lo; x <= x_hi; x++) {
        double p = exp(stats_log_hyper(x, n1, n2, total_k));
        if (p <= limit)
            sum += p;
    }
    return sum > 1.0 ? 1.0 : sum;
}

static int stats_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tadd_stats_median(double *x, int n)
{
    if (n <= 0)
        return NAN;
    qsort(x, (size_t)n, sizeof *x, stats_cmp_double);
    if (n % 2)
        return x[n / 2];
    return 0.5 * (x[n / 2 - 1] + x[n / 2]);
}
