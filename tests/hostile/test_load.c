/*
 * Load: many clients poll `status` while four workers train and report.
 * No request may go unanswered, every answer must be a good status
 * reply, and no worker report may be lost (the metrics table ends with
 * every evaluation of every model). Prints the latency percentiles.
 *
 *   test_load [--clients N] [--seconds S] [--idle 1]
 *
 * Defaults: 50 clients, 8 s. With --idle 1 no sweep runs: the figures of
 * the daemon alone, to compare with.
 *
 * Half the clients keep one connection; the other half connect afresh for
 * every request, so accepting is loaded too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "harness.h"

#define MAX_CLIENTS 512
#define MAX_SAMPLES 200000

static struct th t;
static int n_clients = 50;
static double seconds = 8;
static int idle;

struct client {
    pthread_t thread;
    int index;
    long sent, answered, bad;
    double *lat; /* (MAX_SAMPLES / n_clients) seconds per request */
    long n_lat, cap_lat;
};

static struct client clients[MAX_CLIENTS];
static volatile int stop_clients;

static const char request[] = "{\"v\": 1, \"cmd\": \"status\"}\n";

static void *client_run(void *arg)
{
    struct client *c = arg;
    int fresh = c->index % 2 == 1;
    int fd = -1;

    while (!stop_clients) {
        double t0;
        char *reply;
        if (fd < 0)
            fd = th_connect(&t);
        if (fd < 0) {
            /* A refused connection is a lost request too. */
            c->sent++;
            c->bad++;
            continue;
        }
        t0 = tadd_monotonic_seconds();
        c->sent++;
        if (th_send(fd, request, sizeof(request) - 1) != 0) {
            c->bad++;
            close(fd);
            fd = -1;
            continue;
        }
        reply = th_read_line(fd, 30.0);
        if (reply) {
            double dt = tadd_monotonic_seconds() - t0;
            c->answered++;
            if (!strstr(reply, "\"ok\":true") || !strstr(reply, "\"queue\""))
                c->bad++;
            if (c->n_lat < c->cap_lat)
                c->lat[c->n_lat++] = dt;
            free(reply);
        }
        if (!reply || fresh) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
    long i = (long)ceil(p / 100.0 * (double)n) - 1;

    if (n == 0)
        return NAN;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

int main(int argc, char **argv)
{
    static double all[MAX_SAMPLES];
    long sent = 0, answered = 0, bad = 0, n = 0;
    char *out = NULL;
    const char *file;
    double t0, p99;
    int64_t evals0, evals1;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--clients") == 0)
            n_clients = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--idle") == 0)
            idle = atoi(argv[i + 1]);
    }
    REQUIRE(n_clients >= 1 && n_clients <= MAX_CLIENTS && seconds > 0);

    th_init(&t, "load");
    /* Four packs at once, each reporting every 50 steps, for longer
     * than the clients poll. */
    file = th_write(&t, "load.json",
                    "{\"name\": \"load\", \"base\": {\"train_steps\": 6000, "
                    "\"eval_interval\": 50, \"batch_size\": 32, "
                    "\"val_size\": 64, \"test_size\": 64, "
                    "\"warmup_steps\": 50}, \"grid\": {\"lr\": [0.01, "
                    "0.02]}, \"seeds\": [1, 2, 3, 4]}\n");
    th_daemon_start(&t, "--workers", "4", "--max-models-per-pack", "2",
                    NULL);
    if (!idle) {
        CHECK_INT_EQ(th_ctl(&t, &out, "submit", file, NULL), 0);
        free(out);
        REQUIRE(th_db_wait(&t, "SELECT COUNT(*) FROM packs WHERE state = "
                               "'running' AND step > 0", 4, 60) == 4);
    }

    for (int i = 0; i < n_clients; i++) {
        clients[i].index = i;
        clients[i].cap_lat = MAX_SAMPLES / n_clients;
        clients[i].lat = calloc((size_t)clients[i].cap_lat, sizeof(double));
        REQUIRE(clients[i].lat != NULL);
        REQUIRE(pthread_create(&clients[i].thread, NULL, client_run,
                               &clients[i]) == 0);
    }
    evals0 = th_db_int(&t, "SELECT COUNT(*) FROM metrics", -1);
    t0 = tadd_monotonic_seconds();
    while (tadd_monotonic_seconds() - t0 < seconds)
        usleep(100000);
    /* The workers reported while the clients polled. */
    evals1 = th_db_int(&t, "SELECT COUNT(*) FROM metrics", -1);
    stop_clients = 1;
    for (int i = 0; i < n_clients; i++) {
        struct client *c = &clients[i];
        pthread_join(c->thread, NULL);
        sent += c->sent;
        answered += c->answered;
        bad += c->bad;
        for (long k = 0; k < c->n_lat && n < MAX_SAMPLES; k++)
            all[n++] = c->lat[k];
        free(c->lat);
    }
    qsort(all, (size_t)n, sizeof(all[0]), cmp_double);
    p99 = pct(all, n, 99);
    printf("load: %d clients, %.1f s, %ld requests, %ld answered, %ld bad, "
           "%.0f requests/s\n",
           n_clients, seconds, sent, answered, bad, (double)answered /
           seconds);
    printf("load: latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  "
           "max %.2f\n",
           1e3 * pct(all, n, 50), 1e3 * pct(all, n, 90), 1e3 * p99,
           1e3 * pct(all, n, 99.9), 1e3 * (n ? all[n - 1] : NAN));
    printf("load: %lld evaluations recorded meanwhile\n",
           (long long)(evals1 - evals0));
    CHECK(idle || evals1 - evals0 >= 8);
    CHECK_INT_EQ(answered, sent);
    CHECK_INT_EQ(bad, 0);
    CHECK(answered >= n_clients);
    /* A stall of the event loop shows here; generous for slow checkers. */
    CHECK(p99 < 5.0);

    /* No worker report lost under the load: 121 evaluations per model. */
    if (!idle) {
        CHECK_INT_EQ(th_ctl(&t, &out, "wait", "load", "--timeout", "120",
                            NULL), 0);
        free(out);
        CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM trials WHERE "
                                   "state = 'done'", -1), 8);
        CHECK_INT_EQ(th_db_int(&t, "SELECT COUNT(*) FROM metrics", -1),
                     8 * 121);
    }
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
