#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tadd_msgf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

void tadd_msg_append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used;
    va_list ap;

    if (!buf || len == 0)
        return;
    used = strnlen(buf, len - 1);
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

int tadd_pathf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            buf[0] = '\0';
        return -1;
    }
    return 0;
}
