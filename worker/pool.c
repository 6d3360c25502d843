#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

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
    pthread_cond_t done_cv; /* a helper finished its share */
    unsigned long generation;
    int shutdown;
    int busy; /* helpers still working on this generation */
    tadd_pool_task task;
    void *arg;
    int n;
    atomic_int next;
};

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

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->shutdown && pool->generation == seen)
            pthread_cond_wait(&pool->work_cv, &pool->lock);
        if (pool->shutdown)
            break;
        seen = pool->generation;
        pthread_mutex_unlock(&pool->lock);
        pool_drain(pool, self->id);
        pthread_mutex_lock(&pool->lock);
        if (--pool->busy == 0)
            pthread_cond_signal(&pool->done_cv);
    }
    pthread_mutex_unlock(&pool->lock);
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
    pool->busy = pool->n_threads - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->lock);

    pool_drain(pool, 0);

    pthread_mutex_lock(&pool->lock);
    while (pool->busy > 0)
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
    pool->shutdown = 1;
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
