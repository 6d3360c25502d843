/*
 * A fixed set of threads that run one task over the indices 0..n-1 and
 * wait for all of them: the models of a pack during a step or an
 * evaluation.
 *
 * Indices are handed out one at a time from a shared counter, so which
 * thread runs which index varies from run to run. Tasks must therefore
 * compute index i's result from index i's data alone, with scratch space
 * chosen by the thread number: then the results never depend on the number
 * of threads or on timing.
 */
#ifndef TADD_POOL_H
#define TADD_POOL_H

/* thread is 0..n_threads-1, index 0..n-1. */
typedef void (*tadd_pool_task)(void *arg, int thread, int index);

struct tadd_pool;

/* Starts n_threads - 1 helper threads (the caller is thread 0). Returns
 * NULL when a thread cannot be created or memory runs out. */
struct tadd_pool *tadd_pool_new(int n_threads);

/* Runs task for every index in 0..n-1 and returns when all are done. */
void tadd_pool_run(struct tadd_pool *pool, tadd_pool_task task, void *arg,
                   int n);

int tadd_pool_threads(const struct tadd_pool *pool);

void tadd_pool_free(struct tadd_pool *pool);

#endif
