/*
 * The tadd-worker commands that read checkpoints (eval, predict), and the
 * helpers main.c shares with them.
 */
#ifndef TADD_WORKER_CMDS_H
#define TADD_WORKER_CMDS_H

int worker_cmd_eval(int argc, char **argv);
int worker_cmd_predict(int argc, char **argv);

/* An error event on stdout and the message on stderr. */
void worker_report_error(const char *msg);

/* Parses a decimal integer in [min, max]; 0 or -1. */
int worker_parse_long(const char *s, long min, long max, long *out);

#endif
