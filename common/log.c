#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static FILE *log_out;     /* NULL: stderr */
static int log_min_level = TADD_LOG_INFO;

static const char *const log_level_names[] = {
    [TADD_LOG_DEBUG] = "DEBUG",
    [TADD_LOG_INFO] = "INFO",
    [TADD_LOG_WARN] = "WARN",
    [TADD_LOG_ERROR] = "ERROR",
};

void tadd_log_set_output(FILE *f)
{
    log_out = f;
}

void tadd_log_set_level(enum tadd_log_level min_level)
{
    log_min_level = (int)min_level;
}

int tadd_log_level_parse(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};

    if (!s)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void tadd_log(enum tadd_log_level level, const char *fmt, ...)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    FILE *f = log_out ? log_out : stderr;
    int saved_errno = errno;
    size_t n;
    int m;
    va_list ap;

    if ((int)level < log_min_level)
        return;
    if ((int)level < TADD_LOG_DEBUG || (int)level > TADD_LOG_ERROR)
        level = TADD_LOG_ERROR;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = (size_t)snprintf(line, sizeof(line), "%ld ", (long)getpid());
    n += strftime(line + n, sizeof(line) - n, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ld %s ",
                          (long)(tv.tv_usec / 1000), log_level_names[level]);
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    /* A message longer than the buffer is cut, but the line still ends in
     * a newline so the next one starts cleanly. */
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    line[n] = '\0';
    /* One fwrite of the whole line keeps lines from two threads apart. */
    fwrite(line, 1, n, f);
    fflush(f);
    errno = saved_errno;
}
