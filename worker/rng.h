/*
 * The project's random numbers: xoshiro256** seeded through splitmix64.
 *
 * A generator is keyed by (seed, stream, index) so that every consumer gets
 * its own independent sequence without sharing state:
 *
 *     TADD_STREAM_INIT     index 0      weights of a model
 *     TADD_STREAM_HELDOUT  index 0      validation then test pairs
 *     TADD_STREAM_BATCH    index step   the training batch of that step
 *     TADD_STREAM_EVAL     index 0      `tadd-worker eval` test sets
 *
 * Because a step's batch depends only on (seed, step), a model's data is the
 * same alone or in any pack, and resuming needs no generator state.
 */
#ifndef TADD_RNG_H
#define TADD_RNG_H

#include <stdint.h>

enum tadd_rng_stream {
    TADD_STREAM_INIT = 1,
    TADD_STREAM_HELDOUT = 2,
    TADD_STREAM_BATCH = 3,
    TADD_STREAM_EVAL = 4,
};

struct tadd_rng {
    uint64_t s[4];
};

/* Cannot fail. */
void tadd_rng_seed(struct tadd_rng *r, uint64_t seed, uint64_t stream,
                   uint64_t index);

uint64_t tadd_rng_next(struct tadd_rng *r);

/* Uniform in [0, n), without modulo bias; n > 0. */
uint64_t tadd_rng_below(struct tadd_rng *r, uint64_t n);

/*
 * The constants of tadd_rng_below for one n, worked out once: a 64-bit
 * division costs tens of cycles, and drawing a training batch needs three
 * bounded draws per sample.
 */
struct tadd_rng_divisor {
    uint64_t n;
    uint64_t limit;   /* draws at or above it are rejected */
    uint64_t inverse; /* UINT64_MAX / n */
};

/* n > 0. Cannot fail. */
void tadd_rng_divisor_init(struct tadd_rng_divisor *d, uint64_t n);

/* v % d->n, without a division. */
uint64_t tadd_rng_divisor_mod(uint64_t v, const struct tadd_rng_divisor *d);

/* The same draw as tadd_rng_below(r, d->n): same value, same state. */
uint64_t tadd_rng_below_by(struct tadd_rng *r,
                           const struct tadd_rng_divisor *d);

/* Uniform in [0, 1) with 53 random bits. */
double tadd_rng_uniform(struct tadd_rng *r);

/*
 * Standard normal by the Box-Muller transform; each call consumes two
 * uniforms and returns one value, so the sequence has no hidden spare.
 */
double tadd_rng_normal(struct tadd_rng *r);

#endif
