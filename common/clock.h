/*
 * The one clock for measuring durations: monotonic, so that a change of
 * the wall clock never makes a wait or a timing jump.
 */
#ifndef TADD_CLOCK_H
#define TADD_CLOCK_H

/* Seconds since an arbitrary fixed moment, to the nanosecond. */
double tadd_monotonic_seconds(void);

#endif
