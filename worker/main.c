/*
 * tadd-worker: trains a pack of models, makes a fresh model, evaluates and
 * queries checkpoints. docs/worker-protocol.md is the contract with taddd.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <cjson/cJSON.h>

#include "checkpoint.h"
#include "config.h"
#include "fsutil.h"
#include "model.h"
#include "pack.h"
#include "train.h"
#include "faultpoint.h"
#include "worker_cmds.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fputs("usage: tadd-worker train --pack FILE [--threads N] "
          "[--progress FILE]\n"
          "       tadd-worker init --config FILE --seed S --out CKPT\n"
          "       tadd-worker eval CKPT... [--seeds LIST] [--n N] [--json]\n"
          "       tadd-worker predict CKPT A B [--json]\n"
          "       tadd-worker calibrate [--config FILE] [--max-threads N] "
          "[--max-models N] [--seconds S]\n",
          f);
}

/* Prints a one-line JSON error event on stdout and the message on stderr,
 * so both the daemon and a person see it. */
void worker_report_error(const char *msg)
{
    cJSON *e = cJSON_CreateObject();
    char *text;

    cJSON_AddStringToObject(e, "event", "error");
    cJSON_AddStringToObject(e, "message", msg);
    text = cJSON_PrintUnformatted(e);
    if (text)
        printf("%s\n", text);
    fflush(stdout);
    fprintf(stderr, "tadd-worker: %s\n", msg);
    free(text);
    cJSON_Delete(e);
}

int worker_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

struct train_output {
    FILE *progress;
};

static void train_print_human(const cJSON *event)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(event, "event");
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(event, "step");
    const cJSON *models, *m;
    double best = 0;
    int n = 0, grokked = 0;

    if (!cJSON_IsString(name) || strcmp(name->valuestring, "eval") != 0)
        return;
    models = cJSON_GetObjectItemCaseSensitive(event, "models");
    cJSON_ArrayForEach(m, models) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "val_exact");
        if (!cJSON_IsNumber(v))
            continue;
        n++;
        if (v->valuedouble > best)
            best = v->valuedouble;
        if (v->valuedouble > 0.99)
            grokked++;
    }
    fprintf(stderr, "step %d: %d models evaluated, best val_exact %.4f, "
            "%d above 0.99\n", step ? step->valueint : -1, n, best,
            grokked);
}

static void train_emit(void *user, const cJSON *event)
{
    struct train_output *out = user;
    char *text = cJSON_PrintUnformatted(event);

    if (!text)
        return;
    printf("%s\n", text);
    fflush(stdout);
    if (out->progress) {
        fprintf(out->progress, "%s\n", text);
        fflush(out->progress);
    }
    free(text);
    train_print_human(event);
}

static int cmd_train(int argc, char **argv)
{
    const char *pack_path = NULL, *progress_path = NULL;
    struct tadd_train_options opt = {0};
    struct train_output out = {0};
    struct tadd_pack pack;
    struct sigaction sa;
    char err[TADD_ERR_LEN];
    long threads = 1;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--pack") == 0 && i + 1 < argc) {
            pack_path = argv[++i];
        } else if (strcmp(argv[i], "--progress") == 0 && i + 1 < argc) {
            progress_path = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (worker_parse_long(argv[++i], 1, 1024, &threads) != 0) {
                worker_report_error("--threads: must be 1 to 1024");
                return 1;
            }
        } else {
            usage(stderr);
            return 1;
        }
    }
    if (!pack_path) {
        usage(stderr);
        return 1;
    }
    if (tadd_pack_load(pack_path, &pack, err, sizeof err) != 0) {
        worker_report_error(err);
        return 1;
    }
    if (progress_path) {
        out.progress = fopen(progress_path, "a");
        if (!out.progress) {
            snprintf(err, sizeof err, "%s: cannot open: %s", progress_path,
                     strerror(errno));
            worker_report_error(err);
            tadd_pack_free(&pack);
            return 2;
        }
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    opt.threads = (int)threads;
    opt.stop = &stop_requested;
    opt.emit = train_emit;
    opt.user = &out;
    rc = tadd_train_pack(&pack, &opt, err, sizeof err);
    if (rc != TADD_TRAIN_OK)
        worker_report_error(err);
    if (out.progress)
        fclose(out.progress);
    tadd_pack_free(&pack);
    return rc;
}

int worker_read_config(const char *path, struct tadd_config *cfg, char *err,
                       size_t errlen)
{
    char *text, msg[TADD_ERR_LEN];
    size_t len;
    cJSON *json;
    int rc;

    if (tadd_read_file(path, 1u << 20, &text, &len, err, errlen) != 0)
        return -1;
    json = cJSON_Parse(text);
    free(text);
    if (!json) {
        snprintf(err, errlen, "%s: not valid JSON", path);
        return -1;
    }
    tadd_config_defaults(cfg);
    rc = tadd_config_apply_json(cfg, json, "", msg, sizeof msg);
    cJSON_Delete(json);
    if (rc == 0)
        rc = tadd_model_config_validate(&cfg->model, msg, sizeof msg);
    if (rc != 0)
        snprintf(err, errlen, "%.200s: %.300s", path, msg);
    return rc;
}

static int cmd_init(int argc, char **argv)
{
    const char *config = NULL, *out = NULL, *seed_text = NULL;
    struct tadd_config cfg;
    struct tadd_model model;
    struct tadd_rng rng;
    char err[TADD_ERR_LEN];
    long seed;
    int rc;

    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--config") == 0)
            config = argv[i + 1];
        else if (strcmp(argv[i], "--seed") == 0)
            seed_text = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
        else
            break;
    }
    if (!config || !out || !seed_text || argc % 2 != 0) {
        usage(stderr);
        return 1;
    }
    if (worker_parse_long(seed_text, 0, LONG_MAX, &seed) != 0) {
        worker_report_error("--seed: must be a non-negative integer");
        return 1;
    }
    if (worker_read_config(config, &cfg, err, sizeof err) != 0) {
        worker_report_error(err);
        return 1;
    }
    if (tadd_model_create(&model, &cfg.model) != 0) {
        worker_report_error("out of memory");
        return 2;
    }
    tadd_rng_seed(&rng, (uint64_t)seed, TADD_STREAM_INIT, 0);
    tadd_model_init(&model, &rng);
    rc = tadd_checkpoint_save(&model, NULL, out, err, sizeof err);
    if (rc != 0)
        worker_report_error(err);
    tadd_model_destroy(&model);
    return rc == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
    /* Threads are the pack's business: a model's products run on the
     * thread that owns it, which keeps results independent of the
     * thread count. */
    openblas_set_num_threads(1);
    tadd_fault_init("tadd-worker");
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "train") == 0)
        return cmd_train(argc - 2, argv + 2);
    if (strcmp(argv[1], "init") == 0)
        return cmd_init(argc - 2, argv + 2);
    if (strcmp(argv[1], "eval") == 0)
        return worker_cmd_eval(argc - 2, argv + 2);
    if (strcmp(argv[1], "predict") == 0)
        return worker_cmd_predict(argc - 2, argv + 2);
    if (strcmp(argv[1], "calibrate") == 0)
        return worker_cmd_calibrate(argc - 2, argv + 2);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 1;
}
