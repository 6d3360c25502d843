/*
 * Reading verbs: status, list, show, logs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "format.h"

static int ctl_status(struct ctl *ctl, int argc, char **argv);
static int ctl_list(struct ctl *ctl, int argc, char **argv);
static int ctl_show(struct ctl *ctl, int argc, char **argv);
static int ctl_logs(struct ctl *ctl, int argc, char **argv);

static const struct ctl_verb status_verbs[] = {
    {"status", "[--all] [--json]",
     "the daemon, the queue, running packs with progress, sweeps so far",
     "Shows every unfinished sweep and the latest finished ones; --all\n"
     "shows every sweep. Progress and ETA come from the steps the worker\n"
     "reported since it started.\n",
     ctl_status},
    {"list", "[--json]", "every sweep of the home with its counts", "",
     ctl_list},
    {"show", "SWEEP [--json]",
     "per config and seed: state, step, best val exact, success", "",
     ctl_show},
    {"logs", "SWEEP [--tail N] [--pack ID] [--json]",
     "a sweep's state changes with their reasons; a worker's stderr",
     "  --tail N    only the last N events\n"
     "  --pack ID   also print the end of that pack's worker log\n",
     ctl_logs},
};

const struct ctl_group ctl_status_group = {
    "Reading", status_verbs, sizeof(status_verbs) / sizeof(status_verbs[0]),
};

/* Sends a request built by the verb and prints the reply as JSON when
 * asked; returns the reply for the verb's own printing otherwise. */
static int ctl_read(struct ctl *ctl, cJSON *req, int json, cJSON **reply)
{
    int rc = ctl_request(ctl, req, reply, NULL);

    cJSON_Delete(req);
    if (rc == CTL_OK && json)
        ctl_print_json(*reply);
    return rc;
}

static void ctl_print_daemon(const cJSON *d, const cJSON *queue)
{
    char up[32];

    ctl_fmt_duration(ctl_num(d, "uptime", -1), up, sizeof(up));
    printf("taddd %s (pid %.0f), home %s, up %s%s\n",
           ctl_str(d, "version", "?"), ctl_num(d, "pid", 0),
           ctl_str(d, "home", "?"), up,
           cJSON_IsTrue(cJSON_GetObjectItem(d, "stopping")) ? ", stopping"
                                                            : "");
    printf("  %.0f workers x %.0f threads, packs of up to %.0f models, "
           "up to %.0f restarts after a crash, %s executor\n",
           ctl_num(d, "workers", 0), ctl_num(d, "threads", 0),
           ctl_num(d, "max_models_per_pack", 0), ctl_num(d, "attempts", 0),
           ctl_str(d, "executor", "?"));
    if (cJSON_IsString(cJSON_GetObjectItem(d, "sized_from")))
        printf("  sized from measurement: %s\n",
               ctl_str(d, "sized_from", ""));
    printf("queue: %.0f packs, %.0f trials waiting\n",
           ctl_num(queue, "packs", 0), ctl_num(queue, "trials", 0));
}

static void ctl_print_running(const cJSON *running)
{
    const cJSON *p;

    if (cJSON_GetArraySize(running) == 0) {
        printf("running: nothing\n");
        return;
    }
    printf("running:\n");
    cJSON_ArrayForEach(p, running) {
        const cJSON *c;
        char bar[40], eta[32], took[32];
        long step = (long)ctl_num(p, "step", 0);
        long total = (long)ctl_num(p, "train_steps", 0);
        double rate = ctl_num(p, "steps_per_sec", 0);

        printf("  pack %.0f of %s (%s", ctl_num(p, "pack", 0),
               ctl_str(p, "sweep", "?"), ctl_str(p, "phase", "?"));
        /* Where a batch executor runs it: "Slurm job 12 RUNNING". */
        if (cJSON_IsString(cJSON_GetObjectItem(p, "where")))
            printf(", %s", ctl_str(p, "where", ""));
        printf("):");
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(p, "configs"))
            printf(" %s x%.0f", ctl_str(c, "config", "?"),
                   ctl_num(c, "models", 0));
        putchar('\n');
        ctl_fmt_bar(step, total, 30, bar, sizeof(bar));
        ctl_fmt_duration(ctl_num(p, "eta", -1), eta, sizeof(eta));
        ctl_fmt_duration(ctl_num(p, "seconds", -1), took, sizeof(took));
        printf("    %s %3.0f%%  step %ld/%ld  ", bar,
               total > 0 ? 100.0 * (double)step / (double)total : 0.0, step,
               total);
        if (rate > 0)
            printf("%.1f steps/s  ETA %s", rate, eta);
        else
            printf("ETA -");
        printf("  (running %s", took);
        if (ctl_num(p, "attempts", 0) > 0)
            printf(", %.0f restarts", ctl_num(p, "attempts", 0));
        printf(")\n");
    }
}

/* A sweep table: name, trial counts, successes so far out of all
 * trials. */
static void ctl_print_sweeps(const cJSON *sweeps, int with_time)
{
    static const char *const head[] = {
        "SWEEP",  "CONFIGS", "TRIALS",  "DONE",  "DIVERGED", "FAILED",
        "CANCELLED", "RUNNING", "QUEUED", "SUCCESS", "STATE", "SUBMITTED"};
    static const char *const counts[] = {"configs", "trials", "done",
                                         "diverged", "failed", "cancelled",
                                         "running", "queued"};
    struct ctl_table *t = ctl_table_new(with_time ? 12 : 11);
    const cJSON *s;

    ctl_table_row(t, head);
    cJSON_ArrayForEach(s, sweeps) {
        char v[9][32], when[32];
        const char *row[12];

        for (int i = 0; i < 8; i++) {
            snprintf(v[i], sizeof(v[i]), "%.0f", ctl_num(s, counts[i], 0));
            row[i + 1] = v[i];
        }
        snprintf(v[8], sizeof(v[8]), "%.0f/%.0f", ctl_num(s, "successes", 0),
                 ctl_num(s, "trials", 0));
        ctl_fmt_time(ctl_num(s, "submitted_at", 0), when, sizeof(when));
        row[0] = ctl_str(s, "sweep", "?");
        row[9] = v[8];
        row[10] = cJSON_IsTrue(cJSON_GetObjectItem(s, "finished"))
                      ? "finished"
                  : ctl_num(s, "running", 0) > 0 ? "running"
                                                 : "waiting";
        row[11] = when;
        ctl_table_row(t, row);
    }
    ctl_table_print(t, 2);
    ctl_table_free(t);
}

static int ctl_status(struct ctl *ctl, int argc, char **argv)
{
    const char *all = NULL;
    const struct ctl_flag flags[] = {{"all", 0, &all}, {NULL, 0, NULL}};
    cJSON *req, *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &status_verbs[0], argc, argv, &json, flags, NULL, 0,
                   0);
    if (rc != CTL_OK)
        return rc;
    req = ctl_new_request("status");
    cJSON_AddBoolToObject(req, "all", all != NULL);
    rc = ctl_read(ctl, req, json, &reply);
    if (rc == CTL_OK && !json) {
        const cJSON *sweeps = cJSON_GetObjectItem(reply, "sweeps");

        ctl_print_daemon(cJSON_GetObjectItem(reply, "daemon"),
                         cJSON_GetObjectItem(reply, "queue"));
        ctl_print_running(cJSON_GetObjectItem(reply, "running"));
        if (cJSON_GetArraySize(sweeps) > 0) {
            printf("sweeps:\n");
            ctl_print_sweeps(sweeps, 0);
        } else {
            printf("sweeps: none\n");
        }
    }
    cJSON_Delete(reply);
    return rc;
}

static int ctl_list(struct ctl *ctl, int argc, char **argv)
{
    cJSON *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &status_verbs[1], argc, argv, &json, NULL, NULL, 0,
                   0);
    if (rc != CTL_OK)
        return rc;
    rc = ctl_read(ctl, ctl_new_request("list"), json, &reply);
    if (rc == CTL_OK && !json) {
        const cJSON *sweeps = cJSON_GetObjectItem(reply, "sweeps");
        if (cJSON_GetArraySize(sweeps) == 0)
            printf("no sweeps in this home\n");
        else
            ctl_print_sweeps(sweeps, 1);
    }
    cJSON_Delete(reply);
    return rc;
}

/* One trial's row of show. */
static void ctl_show_trial(struct ctl_table *t, const cJSON *tr)
{
    char seed[32], step[48], best[32], at[32], tries[16];
    const cJSON *success = cJSON_GetObjectItem(tr, "success");
    const char *row[8];

    snprintf(seed, sizeof(seed), "%.0f", ctl_num(tr, "seed", 0));
    snprintf(step, sizeof(step), "%.0f/%.0f", ctl_num(tr, "step", 0),
             ctl_num(tr, "train_steps", 0));
    ctl_fmt_frac(ctl_num(tr, "best_val_exact", NAN), best, sizeof(best));
    if (cJSON_IsNumber(cJSON_GetObjectItem(tr, "best_step")))
        snprintf(at, sizeof(at), "%.0f", ctl_num(tr, "best_step", 0));
    else
        snprintf(at, sizeof(at), "-");
    snprintf(tries, sizeof(tries), "%.0f", ctl_num(tr, "attempts", 0));
    row[0] = seed;
    row[1] = ctl_str(tr, "state", "?");
    row[2] = step;
    row[3] = best;
    row[4] = at;
    row[5] = cJSON_IsNumber(success) ? (success->valueint ? "yes" : "no")
                                     : "-";
    row[6] = tries;
    row[7] = ctl_str(tr, "reason", "");
    ctl_table_row(t, row);
}

static int ctl_show(struct ctl *ctl, int argc, char **argv)
{
    static const char *const head[] = {"SEED", "STATE", "STEP", "BEST_VAL",
                                       "AT_STEP", "SUCCESS", "RESTARTS",
                                       "REASON"};
    const char *pos[1];
    cJSON *req, *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &status_verbs[2], argc, argv, &json, NULL, pos, 1, 1);
    if (rc != CTL_OK)
        return rc;
    req = ctl_new_request("show");
    cJSON_AddStringToObject(req, "sweep", pos[0]);
    rc = ctl_read(ctl, req, json, &reply);
    if (rc == CTL_OK && !json) {
        const cJSON *s = cJSON_GetObjectItem(reply, "sweep");
        const cJSON *c;

        ctl_print_sweep_line(s);
        printf("success: best val exact > %g", ctl_num(s, "success_threshold",
                                                       0.99));
        if (cJSON_IsString(cJSON_GetObjectItem(s, "baseline")))
            printf("; baseline %s/%s", ctl_str(s, "baseline_sweep", "?"),
                   ctl_str(s, "baseline", "?"));
        putchar('\n');
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(reply, "configs")) {
            struct ctl_table *t = ctl_table_new(8);
            const cJSON *tr;

            printf("\n%s: %.0f params, %.0f/%.0f succeeded, %.0f of %.0f "
                   "finished\n",
                   ctl_str(c, "name", "?"), ctl_num(c, "params", 0),
                   ctl_num(c, "successes", 0), ctl_num(c, "n_trials", 0),
                   ctl_num(c, "finished", 0), ctl_num(c, "n_trials", 0));
            ctl_table_row(t, head);
            cJSON_ArrayForEach(tr, cJSON_GetObjectItem(c, "trials"))
                ctl_show_trial(t, tr);
            ctl_table_print(t, 2);
            ctl_table_free(t);
        }
    }
    cJSON_Delete(reply);
    return rc;
}

static int ctl_logs(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    const char *tail = NULL, *pack = NULL;
    const struct ctl_flag flags[] = {
        {"tail", 1, &tail}, {"pack", 1, &pack}, {NULL, 0, NULL}};
    cJSON *req, *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &status_verbs[3], argc, argv, &json, flags, pos, 1,
                   1);
    if (rc != CTL_OK)
        return rc;
    req = ctl_new_request("logs");
    cJSON_AddStringToObject(req, "sweep", pos[0]);
    if (tail) {
        char *end;
        long n = strtol(tail, &end, 10);
        if (*end || n < 1) {
            ctl_error(ctl, "logs: --tail expects a positive count, got "
                           "\"%s\"", tail);
            cJSON_Delete(req);
            return CTL_USAGE;
        }
        cJSON_AddNumberToObject(req, "tail", (double)n);
    }
    if (pack) {
        char *end;
        long n = strtol(pack, &end, 10);
        if (*end || n < 1) {
            ctl_error(ctl, "logs: --pack expects a pack id, got \"%s\"",
                      pack);
            cJSON_Delete(req);
            return CTL_USAGE;
        }
        cJSON_AddNumberToObject(req, "pack", (double)n);
    }
    rc = ctl_read(ctl, req, json, &reply);
    if (rc == CTL_OK && !json) {
        const cJSON *e;

        cJSON_ArrayForEach(e, cJSON_GetObjectItem(reply, "events")) {
            char when[32];
            const char *kind = ctl_str(e, "kind", "?");
            const char *reason = ctl_str(e, "reason", "");

            ctl_fmt_time(ctl_num(e, "at", 0), when, sizeof(when));
            if (strcmp(kind, "trial") == 0)
                printf("%s  trial %s seed %.0f: %s", when,
                       ctl_str(e, "config", "?"), ctl_num(e, "seed", 0),
                       ctl_str(e, "state", "?"));
            else
                printf("%s  %s %.0f: %s", when, kind, ctl_num(e, "ref", 0),
                       ctl_str(e, "state", "?"));
            printf("%s%s\n", reason[0] ? " - " : "", reason);
        }
        if (pack) {
            printf("\n--- worker log of pack %s (end) ---\n%s", pack,
                   ctl_str(reply, "worker_log", ""));
        }
    }
    cJSON_Delete(reply);
    return rc;
}
