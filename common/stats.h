/*
 * Small-sample statistics for success counts: the 95% Wilson score
 * interval of a rate, the two-sided Fisher exact test of two rates, and
 * medians. k of 8 seeds is a small sample; these say how small.
 */
#ifndef TADD_STATS_H
#define TADD_STATS_H

/* The 0.975 quantile of the standard normal distribution. */
#define TADD_Z_95 1.959963984540054

/*
 * 95% Wilson score interval for k successes out of n trials, written to
 * *lo and *hi (0 <= lo <= k/n <= hi <= 1). With n == 0 nothing is known
 * and the interval is [0, 1]. Requires 0 <= k <= n; cannot fail.
 */
void tadd_stats_wilson95(int k, int n, double *lo, double *hi);

/*
 * Two-sided Fisher exact test of k1 of n1 against k2 of n2: the sum of the
 * hypergeometric probabilities of every 2x2 table with the same margins
 * whose probability is at most the observed table's (within a relative
 * tolerance of 1e-7, so that tables tied with it in exact arithmetic count
 * despite rounding). Returns the p-value in [0, 1]; 1 when either sample
 * is empty. Requires 0 <= k1 <= n1 and 0 <= k2 <= n2.
 */
double tadd_stats_fisher_two_sided(int k1, int n1, int k2, int n2);

/*
 * Median of the n values of x (x is reordered in place); the mean of the
 * two middle values when n is even. Returns NAN when n == 0.
 */
double tadd_stats_median(double *x, int n);

#endif
