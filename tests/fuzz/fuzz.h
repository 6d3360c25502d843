/*
 * The fuzz targets of the project's parsers. Each target file defines
 * tadd_fuzz_run for one parser; fuzz_entry.c turns it into a libFuzzer
 * target (the fuzz build) and replay.c into a program that feeds it saved
 * inputs (the normal build, so the regression corpora run with any
 * compiler).
 */
#ifndef TADD_FUZZ_H
#define TADD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Feeds data (size bytes, not NUL-terminated) to the target's parser and
 * checks what must hold of any result: a refusal leaves an empty output
 * and a message, an acceptance leaves a well-formed one. A broken
 * invariant aborts with a message, which libFuzzer and the replay both
 * count as a failure. Writes "ok" or the parser's message into msg and
 * returns the parser's status (0 or -1).
 */
int tadd_fuzz_run(const uint8_t *data, size_t size, char *msg,
                  size_t msglen);

/* The target's name, as its folder under tests/fuzz is called. */
extern const char tadd_fuzz_target[];

#define FUZZ_ASSERT(cond)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,      \
                    __LINE__, #cond);                                       \
            abort();                                                        \
        }                                                                   \
    } while (0)

#endif
