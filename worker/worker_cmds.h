/*
 * The tadd-worker commands beside train and init (eval and predict read
 * checkpoints, calibrate times training steps), and the helpers main.c
 * shares with them.
 */
#ifndef TADD_WORKER_CMDS_H
#define TADD_WORKER_CMDS_H

#include <stddef.h>

#include "config.h"

int worker_cmd_eval(int argc, char **argv);
int worker_cmd_predict(int argc, char **argv);
int worker_cmd_calibrate(int argc, char **argv);

/* A config file as init and calibrate read it: defaults, then its keys,
 * validated; err names the file. */
int worker_read_config(const char *path, struct tadd_config *cfg, char *err,
                       size_t errlen);

/* An error event on stdout and the message on stderr. */
void worker_report_error(const char *msg);

/* Parses a decimal integer in [min, max]; 0 or -1. */
int worker_parse_long(const char *s, long min, long max, long *out);

#endif
