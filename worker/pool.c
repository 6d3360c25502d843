#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "clock.h"

/*
 * A training step is three runs, two of them tens of microseconds long,
 * and waking a sleeping thread costs about as much on a virtual machine.
 * So a thread that runs out of work first watches for the next run (or
 * for the last helper to finish) for POOL_SPIN_SECONDS, and only then
 * sleeps on a condition variable: short enough that a helper waiting
 * through the main thread's evaluations and checkpoints soon gives its
 * core back. A pack of one model on two threads ran 4% faster this way,
 * one of eight models 1%.
 */
#define POOL_SPIN_SECONDS 2e-4

struct pool_thread {
    struct tadd_pool *pool;
    int id;
};

struct tadd_pool {
    int n_threads;
    pthread_t *threads;
    struct pool_thread *args;
    pthread_mutex_t lock;
    pthread_cond_t work_cv; /* a new generation of work, or shutdown */
    pthread_cond_t done_cv; /* the last helper finished its share */
    atomic_ulong generation; /* raised, under lock, for each run */
    atomic_int shutdown;
    atomic_int busy; /* helpers still working on this generation */
    tadd_pool_task task;
    void *arg;
    int n;
    atomic_int next;
};

static inline void pool_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Whether a run newer than generation seen has begun. */
static int pool_new_run(struct tadd_pool *pool, unsigned long seen)
{
    return atomic_load_explicit(&pool->generation, memory_order_acquire) !=
           seen;
}

/* Whether every helper finished its share of the run. */
static int pool_helpers_done(struct tadd_pool *pool, unsigned long unused)
{
    (void)unused;
    return atomic_load_explicit(&pool->busy, memory_order_acquire) == 0;
}

/* Spins until ready(pool, arg), for POOL_SPIN_SECONDS at most; returns 1
 * when it became ready. */
static int pool_watch(struct tadd_pool *pool,
                      int (*ready)(struct tadd_pool *, unsigned long),
                      unsigned long arg)
{
    double end = tadd_monotonic_seconds() + POOL_SPIN_SECONDS;

    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (ready(pool, arg))
                return 1;
            pool_relax();
        }
        if (tadd_monotonic_seconds() > end)
            return 0;
    }
}

static void pool_drain(struct tadd_pool *pool, int thread)
{
    for (;;) {
        int i = atomic_fetch_add(&pool->next, 1);
        if (i >= pool->n)
            return;
        pool->task(pool->arg, thread, i);
    }
}

static void *pool_main(void *p)
{
    struct pool_thread *self = p;
    struct tadd_pool *pool = self->pool;
    unsigned long seen = 0;

    for (;;) {
        if (!pool_watch(pool, pool_new_run, seen)) {
            pthread_mutex_lock(&pool->lock);
            while (!atomic_load(&pool->shutdown) &&
                   atomic_load(&pool->generation) == seen)
                pthread_cond_wait(&pool->work_cv, &pool->lock);
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->shutdown))
            break;
        seen = atomic_load(&pool->generation);
        pool_drain(pool, self->id);
        if (atomic_fetch_sub(&pool->busy, 1) == 1) {
            /* Under the lock, so that a run about to sleep on done_cv
             * cannot miss it. */
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->done_cv);
            pthread_mutex_unlock(&pool->lock);
        }
    }
    return NULL;
}

struct tadd_pool *tadd_pool_new(int n_threads)
{
    struct tadd_pool *pool;
    int started = 0;

    if (n_threads < 1)
        return NULL;
    pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->n_threads = n_threads;
    pool->threads = calloc((size_t)n_threads, sizeof *pool->threads);
    pool->args = calloc((size_t)n_threads, sizeof *pool->args);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_cv, NULL);
    pthread_cond_init(&pool->done_cv, NULL);
    if (!pool->threads || !pool->args)
        goto fail;
    for (int t = 1; t < n_threads; t++) {
        pool->args[t].pool = pool;
        pool->args[t].id = t;
        if (pthread_create(&pool->threads[t], NULL, pool_main,
                           &pool->args[t]) != 0)
            goto fail;
        started = t;
    }
    return pool;
fail:
    pool->n_threads = started + 1;
    tadd_pool_free(pool);
    return NULL;
}

void tadd_pool_run(struct tadd_pool *pool, tadd_pool_task task, void *arg,
                   int n)
{
    pthread_mutex_lock(&pool->lock);
    pool->task = task;
    pool->arg = arg;
    pool->n = n;
    atomic_store(&pool->next, 0);
    atomic_store(&pool->busy, pool->n_threads - 1);
    atomic_fetch_add(&pool->generation, 1);
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->lock);

    pool_drain(pool, 0);

    if (pool_watch(pool, pool_helpers_done, 0))
        return;
    pthread_mutex_lock(&pool->lock);
    while (atomic_load(&pool->busy) > 0)
        pthread_cond_wait(&pool->done_cv, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

int tadd_pool_threads(const struct tadd_pool *pool)
{
    return pool->n_threads;
}

void tadd_pool_free(struct tadd_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->shutdown, 1);
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->lock);
    for (int t = 1; t < pool->n_threads; t++)
        pthread_join(pool->threads[t], NULL);
    pthread_cond_destroy(&pool->done_cv);
    pthread_cond_destroy(&pool->work_cv);
    pthread_mutex_destroy(&pool->lock);
    free(pool->args);
    free(pool->threads);
    free(pool);
}
