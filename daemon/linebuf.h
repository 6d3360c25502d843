/*
 * Cutting a byte stream into lines: a worker's stdout (local executor) or
 * a progress file read piece by piece (Slurm executor). A line longer than
 * the limit is dropped whole, not cut, so a partial JSON object never
 * reaches the caller. Empty lines are skipped.
 */
#ifndef TADD_LINEBUF_H
#define TADD_LINEBUF_H

#include <stddef.h>

struct tadd_linebuf {
    char *buf;      /* (cap) bytes, len of them used */
    size_t len;
    size_t cap;
    size_t max;     /* longest line kept, in bytes */
    int discarding; /* inside a line longer than max */
};

/* Receives a NUL-terminated line of len bytes, newline removed. */
typedef void (*tadd_line_fn)(void *user, const char *line, size_t len);

/* An empty buffer keeping lines of at most max bytes. Cannot fail. */
void tadd_linebuf_init(struct tadd_linebuf *lb, size_t max);

/*
 * Takes n more bytes, handing every completed line to fn. Returns how many
 * lines began to be dropped (over max bytes, or out of memory) during this
 * call, for the caller to report. Cannot fail otherwise.
 */
int tadd_linebuf_feed(struct tadd_linebuf *lb, const char *p, size_t n,
                      tadd_line_fn fn, void *user);

/* At the end of the stream: a last line without its newline still
 * counts. */
void tadd_linebuf_flush(struct tadd_linebuf *lb, tadd_line_fn fn,
                        void *user);

void tadd_linebuf_free(struct tadd_linebuf *lb);

#endif
