/*
 * Verbs that change the queue: submit, cancel, retry, wait.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "format.h"
#include "fsutil.h"
#include "protocol.h"

static int ctl_submit(struct ctl *ctl, int argc, char **argv);
static int ctl_cancel(struct ctl *ctl, int argc, char **argv);
static int ctl_retry(struct ctl *ctl, int argc, char **argv);
static int ctl_wait(struct ctl *ctl, int argc, char **argv);

static const struct ctl_verb sweep_verbs[] = {
    {"submit", "FILE [--dry-run] [--json]",
     "queue a sweep file's configs x seeds",
     "The file is checked completely before anything is queued; a wrong\n"
     "key is reported with its path (variants[1].lr). A sweep's name may be\n"
     "used once per home.\n"
     "\n"
     "  --dry-run   show the configs, seeds and packs; queue nothing\n"
     "  --json      print the daemon's reply\n",
     ctl_submit},
    {"cancel", "SWEEP [CONFIG] [--json]",
     "stop a sweep's (or one config's) trials, keeping their records",
     "Queued and running trials become cancelled; their metrics and files\n"
     "stay. A worker whose models are all cancelled saves its state and\n"
     "stops; one shared with other configs goes on. `retry` resumes\n"
     "cancelled trials.\n",
     ctl_cancel},
    {"retry", "SWEEP [--json]",
     "requeue a sweep's failed and cancelled trials",
     "Each pack resumes from its last saved state.\n", ctl_retry},
    {"wait", "SWEEP [--timeout SEC] [--json]",
     "return when every trial has a result or a recorded failure",
     "Exits 0 once the sweep is done, whatever its trials' outcomes; 3 when\n"
     "--timeout passes first; 1 when the daemon stops meanwhile.\n",
     ctl_wait},
};

const struct ctl_group ctl_sweep_group = {
    "Sweeps", sweep_verbs, sizeof(sweep_verbs) / sizeof(sweep_verbs[0]),
};

static void ctl_print_plan(const cJSON *plan)
{
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(plan, "configs");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(plan, "seeds");
    const cJSON *packs = cJSON_GetObjectItemCaseSensitive(plan, "packs");
    const cJSON *c, *s;
    struct ctl_table *t = ctl_table_new(2);
    static const char *const head[] = {"CONFIG", "PARAMS"};
    int i = 0;

    ctl_table_row(t, head);
    cJSON_ArrayForEach(c, configs) {
        char params[32];
        const char *row[2];

        snprintf(params, sizeof(params), "%.0f", ctl_num(c, "params", 0));
        row[0] = ctl_str(c, "name", "?");
        row[1] = params;
        ctl_table_row(t, row);
    }
    ctl_table_print(t, 2);
    ctl_table_free(t);
    printf("seeds:");
    cJSON_ArrayForEach(s, seeds)
        printf(" %.0f", s->valuedouble);
    printf("\npacks:\n");
    cJSON_ArrayForEach(c, packs) {
        const cJSON *m;
        const char *last = "";

        printf("  %d:", ++i);
        /* Consecutive models of one config print as "config x N". */
        {
            int run = 0;
            cJSON_ArrayForEach(m, cJSON_GetObjectItem(c, "models")) {
                const char *name = ctl_str(m, "config", "?");
                if (run && strcmp(name, last) != 0) {
                    printf(" %s x%d", last, run);
                    run = 0;
                }
                last = name;
                run++;
            }
            if (run)
                printf(" %s x%d", last, run);
        }
        putchar('\n');
    }
}

static int ctl_submit(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    const char *dry = NULL;
    const struct ctl_flag flags[] = {{"dry-run", 0, &dry}, {NULL, 0, NULL}};
    char err[512];
    char *text = NULL;
    size_t len;
    cJSON *req, *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &sweep_verbs[0], argc, argv, &json, flags, pos, 1,
                   1);
    if (rc != CTL_OK)
        return rc;
    if (tadd_read_file(pos[0], TADD_REQUEST_MAX / 2, &text, &len, err,
                       sizeof(err)) != 0) {
        ctl_error(ctl, "%s", err);
        return CTL_ERROR;
    }
    if (strlen(text) != len) {
        ctl_error(ctl, "%s: holds a NUL byte; a sweep file is JSON text",
                  pos[0]);
        free(text);
        return CTL_ERROR;
    }
    req = ctl_new_request("submit");
    cJSON_AddStringToObject(req, "text", text);
    cJSON_AddBoolToObject(req, "dry_run", dry != NULL);
    free(text);
    rc = ctl_request(ctl, req, &reply, pos[0]);
    cJSON_Delete(req);
    if (rc == CTL_OK) {
        if (json) {
            ctl_print_json(reply);
        } else {
            printf("%s sweep %s: %.0f configs, %.0f trials, %.0f packs\n",
                   dry ? "dry run of" : "submitted",
                   ctl_str(reply, "sweep", "?"), ctl_num(reply, "configs", 0),
                   ctl_num(reply, "trials", 0), ctl_num(reply, "packs", 0));
            if (dry)
                ctl_print_plan(cJSON_GetObjectItem(reply, "plan"));
        }
    }
    cJSON_Delete(reply);
    return rc;
}

static int ctl_cancel(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[2];
    cJSON *req, *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &sweep_verbs[1], argc, argv, &json, NULL, pos, 1, 2);
    if (rc != CTL_OK)
        return rc;
    req = ctl_new_request("cancel");
    cJSON_AddStringToObject(req, "sweep", pos[0]);
    if (pos[1])
        cJSON_AddStringToObject(req, "config", pos[1]);
    rc = ctl_request(ctl, req, &reply, NULL);
    cJSON_Delete(req);
    if (rc == CTL_OK) {
        if (json)
            ctl_print_json(reply);
        else
            printf("cancelled %.0f trials; %.0f workers stopping\n",
                   ctl_num(reply, "cancelled", 0),
                   ctl_num(reply, "stopping", 0));
    }
    cJSON_Delete(reply);
    return rc;
}

static int ctl_retry(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    cJSON *req, *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &sweep_verbs[2], argc, argv, &json, NULL, pos, 1, 1);
    if (rc != CTL_OK)
        return rc;
    req = ctl_new_request("retry");
    cJSON_AddStringToObject(req, "sweep", pos[0]);
    rc = ctl_request(ctl, req, &reply, NULL);
    cJSON_Delete(req);
    if (rc == CTL_OK) {
        if (json)
            ctl_print_json(reply);
        else
            printf("requeued %.0f trials (%.0f packs)\n",
                   ctl_num(reply, "requeued", 0), ctl_num(reply, "packs", 0));
    }
    cJSON_Delete(reply);
    return rc;
}

static int ctl_wait(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    const char *timeout = NULL;
    const struct ctl_flag flags[] = {{"timeout", 1, &timeout},
                                     {NULL, 0, NULL}};
    struct ctl_conn conn;
    cJSON *req, *reply = NULL;
    int json, rc, timeout_ms = -1;

    rc = ctl_parse(ctl, &sweep_verbs[3], argc, argv, &json, flags, pos, 1,
                   1);
    if (rc != CTL_OK)
        return rc;
    if (timeout) {
        char *end;
        double t = strtod(timeout, &end);
        if (*end || !(t >= 0) || t > 1e6) {
            ctl_error(ctl, "wait: --timeout expects seconds, got \"%s\"",
                      timeout);
            return CTL_USAGE;
        }
        timeout_ms = (int)(t * 1000.0);
    }
    rc = ctl_connect(ctl, &conn);
    if (rc != CTL_OK)
        return rc;
    req = ctl_new_request("wait");
    cJSON_AddStringToObject(req, "sweep", pos[0]);
    rc = ctl_call(ctl, &conn, req, &reply, timeout_ms, NULL);
    cJSON_Delete(req);
    ctl_disconnect(&conn);
    if (rc == CTL_TIMEOUT)
        ctl_error(ctl, "wait: sweep %s not done after %s s", pos[0],
                  timeout);
    if (rc == CTL_OK) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(reply, "sweep");
        if (json)
            ctl_print_json(reply);
        else
            ctl_print_sweep_line(s);
    }
    cJSON_Delete(reply);
    return rc;
}
