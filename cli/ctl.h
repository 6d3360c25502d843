/*
 * taddctl: verbs, verb groups and what every verb shares.
 *
 * A verb group is one file (verbs_sweep.c, verbs_status.c, ...) exporting
 * a struct ctl_group; main.c lists the groups in one table, so a new group
 * is a new file and a line there.
 *
 * Exit statuses: 0 success, 1 an error (the daemon refused, is not
 * running, a file is wrong), 2 bad usage, 3 a wait that timed out.
 */
#ifndef TADD_CTL_H
#define TADD_CTL_H

#include <limits.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#define CTL_OK 0
#define CTL_ERROR 1
#define CTL_USAGE 2
#define CTL_TIMEOUT 3

struct ctl {
    const char *prog;  /* "taddctl" */
    const char *home;  /* as given: --home, TADD_HOME or runs */
    char sock_path[PATH_MAX];
};

struct ctl_verb {
    const char *name;
    const char *args;    /* argument synopsis, "SWEEP [CONFIG]" */
    const char *summary; /* one line for the command list */
    const char *help;    /* the verb's options and details */
    int (*run)(struct ctl *ctl, int argc, char **argv);
};

struct ctl_group {
    const char *title;
    const struct ctl_verb *verbs;
    int n_verbs;
};

extern const struct ctl_group ctl_sweep_group;
extern const struct ctl_group ctl_status_group;
extern const struct ctl_group ctl_daemon_group;
extern const struct ctl_group ctl_results_group;

/* Prints "taddctl: message" on stderr. */
void ctl_error(const struct ctl *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parses a verb's arguments: --json (when json is not NULL), --help, and
 * the verb's own flags in extra (getopt_long style, NULL when none; their
 * values land through on_flag). Positional arguments go to pos (at most
 * max_pos, at least min_pos). Returns CTL_OK, or an exit status to return
 * at once (after --help: -1, meaning exit 0).
 */
struct ctl_flag {
    const char *name;
    int has_arg; /* 0 or 1 */
    const char **value; /* where the value (or "1") goes */
};

int ctl_parse(const struct ctl *ctl, const struct ctl_verb *verb, int argc,
              char **argv, int *json, const struct ctl_flag *extra,
              const char **pos, int min_pos, int max_pos);

/* Prints a verb's usage and help to f. */
void ctl_verb_usage(const struct ctl *ctl, const struct ctl_verb *verb,
                    FILE *f);

#define CTL_HELP_SHOWN (-1)

#endif
