#include "linebuf.h"

#include <stdlib.h>
#include <string.h>

void tadd_linebuf_init(struct tadd_linebuf *lb, size_t max)
{
    memset(lb, 0, sizeof *lb);
    lb->max = max;
}

static int linebuf_reserve(struct tadd_linebuf *lb, size_t need)
{
    size_t cap = lb->cap ? lb->cap : 4096;
    char *p;

    if (need <= lb->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    p = realloc(lb->buf, cap);
    if (!p)
        return -1;
    lb->buf = p;
    lb->cap = cap;
    return 0;
}

void tadd_linebuf_flush(struct tadd_linebuf *lb, tadd_line_fn fn,
                        void *user)
{
    if (!lb->discarding && lb->len > 0) {
        lb->buf[lb->len] = '\0';
        fn(user, lb->buf, lb->len);
    }
    lb->discarding = 0;
    lb->len = 0;
}

int tadd_linebuf_feed(struct tadd_linebuf *lb, const char *p, size_t n,
                      tadd_line_fn fn, void *user)
{
    int dropped = 0;

    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t chunk = nl ? (size_t)(nl - p) : n;

        if (!lb->discarding) {
            if (lb->len + chunk > lb->max ||
                linebuf_reserve(lb, lb->len + chunk + 1) != 0) {
                lb->discarding = 1;
                lb->len = 0;
                dropped++;
            } else {
                memcpy(lb->buf + lb->len, p, chunk);
                lb->len += chunk;
            }
        }
        if (!nl)
            break;
        tadd_linebuf_flush(lb, fn, user);
        p = nl + 1;
        n -= chunk + 1;
    }
    return dropped;
}

void tadd_linebuf_free(struct tadd_linebuf *lb)
{
    free(lb->buf);
    lb->buf = NULL;
    lb->len = lb->cap = 0;
}
