
/*
 * The processor's FP32 peak: every thread runs independent chains of
 * 256-bit fused multiply-adds (2 FLOPs per lane) held in registers, with
 * no memory traffic, for a fixed number of iterations; the rate is FLOPs
 * over the wall time of the slowest thread. The same again with a
 * separate multiply and add per lane, which is what the engine compiles
 * to (it never contracts, for reproducible sums).
 *
 *     fma_peak [--threads N] [--seconds S]
 *
 * Prints one line of JSON per thread count from 1 to N (default: the
 * online processors).
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

/* Independent accumulators: enough to cover the FMA latency (4 cycles)
 * times the FMA units (2) on recent x86 cores, with room to spare. */
#define CHAINS 12

struct job {
    long iters;
    int fused;
    float sink;
};

__attribute__((target("avx2,fma"))) static void *run(void *p)
{
    struct job *j = p;
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);

    for (int i = 0; i < CHAINS; i++)
        acc[i] = _mm256_set1_ps((float)i);
    if (j->fused) {
        for (long it = 0; it < j->iters; it++)
            _Pragma("GCC unroll 16") for (int i = 0; i < CHAINS; i++)
                acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    } else {
        /* x = x * a + b as two instructions; a product and a sum per
         * lane, the same 2 FLOPs. */
        for (long it = 0; it < j->iters; it++)
            _Pragma("GCC unroll 16") for (int i = 0; i < CHAINS; i++)
                acc[i] = _mm256_add_ps(_mm256_mul_ps(acc[i], a), b);
    }
    for (int i = 1; i < CHAINS; i++)
        acc[0] = _mm256_add_ps(acc[0], acc[i]);
    j->sink = _mm256_cvtss_f32(acc[0]);
    return NULL;
}

/* GFLOP/s of n threads, each doing iters iterations. */
static double measure(int n, long iters, int fused)
{
    pthread_t *th = calloc((size_t)n, sizeof *th);
    struct job *jobs = calloc((size_t)n, sizeof *jobs);
    double t0, t1;

    if (!th || !jobs) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    t0 = tadd_monotonic_seconds();
    for (int i = 0; i < n; i++) {
        jobs[i].iters = iters;
        jobs[i].fused = fused;
        if (pthread_create(&th[i], NULL, run, &jobs[i]) != 0) {
            fprintf(stderr, "cannot start thread %d\n", i);
            exit(1);
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    t1 = tadd_monotonic_seconds();
    free(th);
    free(jobs);
    return (double)n * (double)iters * CHAINS * 8 * 2 / (t1 - t0) * 1e-9;
}

int main(int argc, char **argv)
{
    int max_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    double seconds = 1.0;
    long iters;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            max_threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else {
            fprintf(stderr, "usage: fma_peak [--threads N] "
                            "[--seconds S]\n");
            return 2;
        }
    }
    if (max_threads < 1 || seconds <= 0) {
        fprintf(stderr, "fma_peak: need --threads >= 1, --seconds > 0\n");
        return 2;
    }
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "fma_peak: this processor has no AVX2 FMA\n");
        return 1;
    }
    /* Size the run from a short probe, then keep the best of 3. */
    iters = (long)(measure(1, 1000000, 1) * 1e9 * seconds /
                   (CHAINS * 8 * 2));
    for (int n = 1; n <= max_threads; n++) {
        double fma = 0, muladd = 0;
        for (int r = 0; r < 3; r++) {
            double f = measure(n, iters, 1), m = measure(n, iters, 0);
            fma = f > fma ? f : fma;
            muladd = m > muladd ? m : muladd;
        }
        printf("{\"threads\": %d, \"fma_gflops\": %.1f, "
               "\"mul_add_gflops\": %.1f}\n", n, fma, muladd);
    }
    return 0;
}
