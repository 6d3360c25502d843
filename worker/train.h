/*
 * Training a pack: every model of a pack file, stepped in lockstep, each
 * from its own seed's data, evaluated, checkpointed and resumable
 * (docs/worker-protocol.md).
 *
 * The loop does not print. Everything it has to say is an event (a JSON
 * object with an "event" key) handed to the caller's callback, which owns
 * neither the object nor its memory after returning.
 */
#ifndef TADD_TRAIN_H
#define TADD_TRAIN_H

#include <signal.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "pack.h"

/* Exit statuses of the worker, returned by tadd_train_pack. */
enum {
    TADD_TRAIN_OK = 0,        /* finished, or stopped on request */
    TADD_TRAIN_BAD_INPUT = 1, /* pack, config or state refused */
    TADD_TRAIN_RUNTIME = 2,   /* a file could not be written, OOM */
};

typedef void (*tadd_train_emit)(void *user, const cJSON *event);

struct tadd_train_options {
    int threads;
    /* Set from a signal handler; checked after every step. */
    volatile sig_atomic_t *stop;
    tadd_train_emit emit;
    void *user;
};

/*
 * Trains pack to its end or until *stop is set (the state is then saved).
 * Returns TADD_TRAIN_OK or an error status with a message in err.
 */
int tadd_train_pack(const struct tadd_pack *pack,
                    const struct tadd_train_options *opt, char *err,
                    size_t errlen);

#endif
