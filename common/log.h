/*
 * Leveled logging for the daemon and the worker's human-readable progress.
 * One function writes every line with a fixed prefix:
 *
 *     <pid> <YYYY-mm-dd HH:MM:SS.mmm> <LEVEL> message
 *
 * Library code (the training core, the parsers) never logs: it returns
 * errors and reports through callbacks.
 */
#ifndef TADD_LOG_H
#define TADD_LOG_H

#include <stdio.h>

enum tadd_log_level {
    TADD_LOG_DEBUG = 0,
    TADD_LOG_INFO = 1,
    TADD_LOG_WARN = 2,
    TADD_LOG_ERROR = 3,
};

/* Lines go to f (stderr by default) when level >= min_level. */
void tadd_log_set_output(FILE *f);
void tadd_log_set_level(enum tadd_log_level min_level);

/* Parses "debug", "info", "warn", "error"; returns -1 on anything else. */
int tadd_log_level_parse(const char *s);

void tadd_log(enum tadd_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define tadd_debug(...) tadd_log(TADD_LOG_DEBUG, __VA_ARGS__)
#define tadd_info(...) tadd_log(TADD_LOG_INFO, __VA_ARGS__)
#define tadd_warn(...) tadd_log(TADD_LOG_WARN, __VA_ARGS__)
#define tadd_error(...) tadd_log(TADD_LOG_ERROR, __VA_ARGS__)

#endif
