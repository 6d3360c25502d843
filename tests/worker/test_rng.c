/*
 * The bounded draws: tadd_rng_below and tadd_rng_below_by give exactly the
 * values and generator states of the plain definition (reject the top
 * partial block of the 64-bit range, then take the remainder), and the
 * division-free remainder is exact at the edges of its range.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "rng.h"

/* The definition itself, with a division per draw. */
static uint64_t below_reference(struct tadd_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n), v;

    do
        v = tadd_rng_next(r);
    while (v >= limit);
    return v % n;
}

static void check_mod_edges(uint64_t n)
{
    struct tadd_rng_divisor d;
    const uint64_t edges[] = {
        0, 1, n - 1, n, n + 1, 2 * n - 1, 2 * n, UINT64_MAX, UINT64_MAX - 1,
        UINT64_MAX - n, UINT64_MAX / n * n, UINT64_MAX / n * n - 1,
    };

    tadd_rng_divisor_init(&d, n);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        if (tadd_rng_divisor_mod(edges[i], &d) != edges[i] % n)
            CHECK_FAIL_("%llu mod %llu: %llu, want %llu",
                        (unsigned long long)edges[i], (unsigned long long)n,
                        (unsigned long long)tadd_rng_divisor_mod(edges[i],
                                                                 &d),
                        (unsigned long long)(edges[i] % n));
}

static void check_draws(uint64_t n, uint64_t seed)
{
    struct tadd_rng a, b, c;
    struct tadd_rng_divisor d;
    int bad = 0;

    tadd_rng_divisor_init(&d, n);
    tadd_rng_seed(&a, seed, 7, n);
    b = a;
    c = a;
    for (int i = 0; i < 2000; i++) {
        uint64_t want = below_reference(&a, n);
        bad += tadd_rng_below_by(&b, &d) != want;
        bad += tadd_rng_below(&c, n) != want;
    }
    CHECK_INT_EQ(bad, 0);
    CHECK(memcmp(&a, &b, sizeof a) == 0 && memcmp(&a, &c, sizeof a) == 0);
}

int main(void)
{
    const uint64_t fixed[] = {
        1, 2, 3, 7, 10, 11, 1000, 10000000000ULL, 1ULL << 32,
        (1ULL << 32) + 1, 1ULL << 63, (1ULL << 63) + 1, UINT64_MAX - 1,
        UINT64_MAX,
    };
    struct tadd_rng r;

    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        check_mod_edges(fixed[i]);
        check_draws(fixed[i], i);
    }
    /* Divisors of every width, and remainders of random values. */
    tadd_rng_seed(&r, 5, 9, 0);
    for (int i = 0; i < 4000; i++) {
        uint64_t n = tadd_rng_next(&r) >> (i % 64);
        struct tadd_rng_divisor d;
        if (n == 0)
            continue;
        check_mod_edges(n);
        tadd_rng_divisor_init(&d, n);
        for (int k = 0; k < 50; k++) {
            uint64_t v = tadd_rng_next(&r);
            if (tadd_rng_divisor_mod(v, &d) != v % n)
                CHECK_FAIL_("%llu mod %llu", (unsigned long long)v,
                            (unsigned long long)n);
        }
        if (i % 100 == 0)
            check_draws(n, (uint64_t)i);
    }
    CHECK_DONE();
}
