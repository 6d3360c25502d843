/*
 * Error messages in caller-provided buffers: the convention of every
 * function in the project that can fail with something to say.
 */
#ifndef TADD_ERRBUF_H
#define TADD_ERRBUF_H

#include <stddef.h>

/* Formats a message into err (errlen bytes, truncated to fit); writes
 * nothing when err is NULL or errlen is 0. Cannot fail. */
void tadd_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
