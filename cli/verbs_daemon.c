/*
 * Verbs about the daemon itself: ping, shutdown.
 */
#include <stdio.h>

#include "client.h"
#include "ctl.h"
#include "format.h"

static int ctl_ping(struct ctl *ctl, int argc, char **argv);
static int ctl_shutdown(struct ctl *ctl, int argc, char **argv);

static const struct ctl_verb daemon_verbs[] = {
    {"ping", "[--json]", "check that taddd answers; print its pid and home",
     "", ctl_ping},
    {"shutdown", "[--no-wait] [--json]",
     "stop taddd; workers save their state and resume at its next start",
     "Waits until the daemon has stopped every worker and exited, unless\n"
     "--no-wait.\n",
     ctl_shutdown},
};

const struct ctl_group ctl_daemon_group = {
    "Daemon", daemon_verbs, sizeof(daemon_verbs) / sizeof(daemon_verbs[0]),
};

static int ctl_ping(struct ctl *ctl, int argc, char **argv)
{
    cJSON *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &daemon_verbs[0], argc, argv, &json, NULL, NULL, 0,
                   0);
    if (rc != CTL_OK)
        return rc;
    {
        cJSON *req = ctl_new_request("ping");
        rc = ctl_request(ctl, req, &reply, NULL);
        cJSON_Delete(req);
    }
    if (rc == CTL_OK) {
        if (json)
            ctl_print_json(reply);
        else
            printf("taddd %s (pid %.0f) serves %s\n",
                   ctl_str(reply, "version", "?"), ctl_num(reply, "pid", 0),
                   ctl_str(reply, "home", "?"));
    }
    cJSON_Delete(reply);
    return rc;
}

static int ctl_shutdown(struct ctl *ctl, int argc, char **argv)
{
    const char *no_wait = NULL;
    const struct ctl_flag flags[] = {{"no-wait", 0, &no_wait},
                                     {NULL, 0, NULL}};
    struct ctl_conn conn;
    cJSON *req, *reply = NULL;
    int json, rc;

    rc = ctl_parse(ctl, &daemon_verbs[1], argc, argv, &json, flags, NULL, 0,
                   0);
    if (rc != CTL_OK)
        return rc;
    rc = ctl_connect(ctl, &conn);
    if (rc != CTL_OK)
        return rc;
    req = ctl_new_request("shutdown");
    rc = ctl_call(ctl, &conn, req, &reply, -1, NULL);
    cJSON_Delete(req);
    if (rc == CTL_OK) {
        if (json)
            ctl_print_json(reply);
        else
            printf("taddd is stopping (%.0f workers saving their state)\n",
                   ctl_num(reply, "stopping", 0));
        /* The daemon closes every connection as it exits. */
        if (!no_wait) {
            ctl_wait_closed(&conn, -1);
            if (!json)
                printf("taddd stopped\n");
        }
    }
    cJSON_Delete(reply);
    ctl_disconnect(&conn);
    return rc;
}
