#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void tadd_rng_seed(struct tadd_rng *r, uint64_t seed, uint64_t stream,
                   uint64_t index)
{
    /* Mix the three keys one after the other so that (1, 2, 3) and
     * (2, 1, 3) give unrelated generators. */
    uint64_t x = seed;
    uint64_t k = splitmix64(&x);
    x = k ^ stream;
    k = splitmix64(&x);
    x = k ^ index;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t tadd_rng_next(struct tadd_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void tadd_rng_divisor_init(struct tadd_rng_divisor *d, uint64_t n)
{
    d->n = n;
    /* Reject the top partial block of the 64-bit range. */
    d->limit = UINT64_MAX - (UINT64_MAX % n);
    d->inverse = UINT64_MAX / n;
}

/*
 * With q = v / n, the high word of v * inverse is q or q - 1: inverse is
 * at most 2^64 / n and above 2^64 / n - 1, so v * inverse / 2^64 lies in
 * (v / n - 1, v / n] for every v < 2^64. One subtraction corrects it.
 */
uint64_t tadd_rng_divisor_mod(uint64_t v, const struct tadd_rng_divisor *d)
{
    uint64_t q = (uint64_t)(((unsigned __int128)v * d->inverse) >> 64);
    uint64_t rem = v - q * d->n;

    return rem >= d->n ? rem - d->n : rem;
}

uint64_t tadd_rng_below_by(struct tadd_rng *r,
                           const struct tadd_rng_divisor *d)
{
    uint64_t v;

    do
        v = tadd_rng_next(r);
    while (v >= d->limit);
    return tadd_rng_divisor_mod(v, d);
}

uint64_t tadd_rng_below(struct tadd_rng *r, uint64_t n)
{
    struct tadd_rng_divisor d;

    tadd_rng_divisor_init(&d, n);
    return tadd_rng_below_by(r, &d);
}

double tadd_rng_uniform(struct tadd_rng *r)
{
    return (double)(tadd_rng_next(r) >> 11) * 0x1.0p-53;
}

double tadd_rng_normal(struct tadd_rng *r)
{
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    double u1 = 1.0 - tadd_rng_uniform(r);
    double u2 = tadd_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
