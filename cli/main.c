/*
 * taddctl: the command line over taddd's socket.
 *
 *     taddctl [--home DIR] VERB [ARGS...]
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "home.h"
#include "protocol.h"

/* Every verb group; a new group is a file and a line here. */
static const struct ctl_group *const ctl_groups[] = {
    &ctl_sweep_group,
    &ctl_status_group,
    &ctl_results_group,
    &ctl_daemon_group,
};

#define CTL_N_GROUPS (sizeof(ctl_groups) / sizeof(ctl_groups[0]))

void ctl_error(const struct ctl *ctl, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", ctl ? ctl->prog : "taddctl");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void ctl_usage(FILE *f)
{
    fputs("usage: taddctl [--home DIR] COMMAND [ARGS...]\n"
          "\n"
          "Talks to taddd, the sweep daemon of the home folder DIR (default:\n"
          "$TADD_HOME, else runs/ in the working directory). Start the daemon\n"
          "with `taddd --home DIR --daemonize`.\n",
          f);
    for (size_t g = 0; g < CTL_N_GROUPS; g++) {
        fprintf(f, "\n%s:\n", ctl_groups[g]->title);
        for (int i = 0; i < ctl_groups[g]->n_verbs; i++) {
            const struct ctl_verb *v = &ctl_groups[g]->verbs[i];
            char head[64];

            snprintf(head, sizeof(head), "%s %s", v->name, v->args);
            /* A long synopsis gets the summary on a line of its own. */
            if (strlen(head) > 26)
                fprintf(f, "  %s\n  %-26s %s\n", head, "", v->summary);
            else
                fprintf(f, "  %-26s %s\n", head, v->summary);
        }
    }
    fputs("\n`taddctl COMMAND --help` describes a command. Reading commands\n"
          "take --json. Exit status: 0 success, 1 error, 2 bad usage, 3 a\n"
          "wait that timed out.\n",
          f);
}

void ctl_verb_usage(const struct ctl *ctl, const struct ctl_verb *verb,
                    FILE *f)
{
    fprintf(f, "usage: %s %s %s\n\n%s\n", ctl->prog, verb->name, verb->args,
            verb->summary);
    if (verb->help && verb->help[0])
        fprintf(f, "\n%s", verb->help);
}

int ctl_parse(const struct ctl *ctl, const struct ctl_verb *verb, int argc,
              char **argv, int *json, const struct ctl_flag *extra,
              const char **pos, int min_pos, int max_pos)
{
    struct option opts[16];
    int n_opts = 0, n_extra = 0, n_pos = 0, c;

    opts[n_opts++] = (struct option){"help", no_argument, NULL, 'h'};
    if (json) {
        *json = 0;
        opts[n_opts++] = (struct option){"json", no_argument, NULL, 'j'};
    }
    for (; extra && extra[n_extra].name && n_opts < 15; n_extra++)
        opts[n_opts++] = (struct option){
            extra[n_extra].name,
            extra[n_extra].has_arg ? required_argument : no_argument, NULL,
            1000 + n_extra};
    opts[n_opts] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    opterr = 0;
    /* GNU getopt moves positional arguments after the options, so flags
     * may come anywhere. */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') {
            ctl_verb_usage(ctl, verb, stdout);
            return CTL_HELP_SHOWN;
        } else if (c == 'j') {
            *json = 1;
        } else if (c >= 1000 && c < 1000 + n_extra) {
            *extra[c - 1000].value = extra[c - 1000].has_arg ? optarg : "1";
        } else {
            ctl_error(ctl, "%s: unknown option %s", verb->name,
                      argv[optind - 1]);
            ctl_verb_usage(ctl, verb, stderr);
            return CTL_USAGE;
        }
    }
    while (optind < argc) {
        if (n_pos >= max_pos) {
            ctl_error(ctl, "%s: unexpected argument \"%s\"", verb->name,
                      argv[optind]);
            ctl_verb_usage(ctl, verb, stderr);
            return CTL_USAGE;
        }
        pos[n_pos++] = argv[optind++];
    }
    if (n_pos < min_pos) {
        ctl_error(ctl, "%s: missing argument (%s)", verb->name, verb->args);
        ctl_verb_usage(ctl, verb, stderr);
        return CTL_USAGE;
    }
    for (int i = n_pos; i < max_pos; i++)
        pos[i] = NULL;
    return CTL_OK;
}

static const struct ctl_verb *ctl_find_verb(const char *name)
{
    for (size_t g = 0; g < CTL_N_GROUPS; g++)
        for (int i = 0; i < ctl_groups[g]->n_verbs; i++)
            if (strcmp(ctl_groups[g]->verbs[i].name, name) == 0)
                return &ctl_groups[g]->verbs[i];
    return NULL;
}

int main(int argc, char **argv)
{
    struct ctl ctl;
    const struct ctl_verb *verb;
    const char *home_flag = NULL;
    int i = 1;
    int rc;

    memset(&ctl, 0, sizeof(ctl));
    ctl.prog = "taddctl";
    /* Global options come before the command. */
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) {
            home_flag = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--home=", 7) == 0) {
            home_flag = argv[i] + 7;
            i++;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            ctl_usage(stdout);
            return CTL_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("taddctl %s (protocol %d)\n", TADD_VERSION,
                   TADD_PROTOCOL_VERSION);
            return CTL_OK;
        } else {
            ctl_error(&ctl, "unknown option %s", argv[i]);
            ctl_usage(stderr);
            return CTL_USAGE;
        }
    }
    if (i >= argc) {
        ctl_usage(stderr);
        return CTL_USAGE;
    }
    ctl.home = tadd_home_choose(home_flag);
    if (snprintf(ctl.sock_path, sizeof(ctl.sock_path), "%s/%s", ctl.home,
                 TADD_HOME_SOCKET) >= (int)sizeof(ctl.sock_path)) {
        ctl_error(&ctl, "home path too long");
        return CTL_USAGE;
    }
    verb = ctl_find_verb(argv[i]);
    if (!verb) {
        ctl_error(&ctl, "unknown command \"%s\"", argv[i]);
        ctl_usage(stderr);
        return CTL_USAGE;
    }
    rc = verb->run(&ctl, argc - i, argv + i);
    return rc == CTL_HELP_SHOWN ? CTL_OK : rc;
}
