/*
 * Bounded formatting of messages (errors in caller buffers) and paths.
 */
#ifndef TADD_TEXT_H
#define TADD_TEXT_H

#include <stddef.h>

/* Formats a message into buf (len bytes); a message too long is cut, which
 * is harmless for a message. Cannot fail. */
void tadd_msgf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends to the message in buf, same contract. */
void tadd_msg_append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats a path into buf. Returns 0, or -1 when it does not fit (a path
 * must never be cut). */
int tadd_pathf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
