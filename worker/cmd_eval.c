/*
 * tadd-worker eval and predict: held-out exact match of checkpoints, and
 * one model's answer to one pair.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checkpoint.h"
#include "data.h"
#include "eval.h"
#include "model.h"
#include "pool.h"
#include "worker_cmds.h"

#include <unistd.h>

#define EVAL_MAX_SEEDS 64
#define EVAL_MAX_FAILURES 10
#define EVAL_BATCH 1000

static const long default_seeds[] = {41,  100, 200,  300,  400,
                                     500, 999, 1234, 7777, 31415};

struct eval_args {
    int n_ckpts;
    char **ckpts;
    int n_seeds;
    long seeds[EVAL_MAX_SEEDS];
    long n;
    long threads; /* 0: the online processors, at most one per seed */
    int json;
};

static int eval_parse_seeds(const char *list, struct eval_args *a)
{
    char *copy = strdup(list), *save = NULL, *tok;
    int rc = copy ? 0 : -1;

    a->n_seeds = 0;
    for (tok = copy ? strtok_r(copy, ",", &save) : NULL; rc == 0 && tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (a->n_seeds == EVAL_MAX_SEEDS ||
            worker_parse_long(tok, 0, 1L << 53, &a->seeds[a->n_seeds]) != 0)
            rc = -1;
        else
            a->n_seeds++;
    }
    free(copy);
    return rc == 0 && a->n_seeds > 0 ? 0 : -1;
}

static int eval_parse_args(int argc, char **argv, struct eval_args *a)
{
    memset(a, 0, sizeof *a);
    a->n = 10000;
    a->n_seeds = 10;
    memcpy(a->seeds, default_seeds, sizeof default_seeds);
    a->ckpts = calloc((size_t)argc + 1, sizeof *a->ckpts);
    if (!a->ckpts)
        return -1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
            if (eval_parse_seeds(argv[++i], a) != 0) {
                worker_report_error("--seeds: expected a comma-separated "
                                    "list of non-negative integers");
                return -1;
            }
        } else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            if (worker_parse_long(argv[++i], 1, 100000000, &a->n) != 0) {
                worker_report_error("--n: must be 1 to 100000000");
                return -1;
            }
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (worker_parse_long(argv[++i], 1, 1024, &a->threads) != 0) {
                worker_report_error("--threads: must be 1 to 1024");
                return -1;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "tadd-worker eval: unknown option %s\n",
                    argv[i]);
            return -1;
        } else {
            a->ckpts[a->n_ckpts++] = argv[i];
        }
    }
    if (a->n_ckpts == 0) {
        fputs("usage: tadd-worker eval CKPT... [--seeds LIST] [--n N] "
              "[--threads N] [--json]\n", stderr);
        return -1;
    }
    return 0;
}

static cJSON *eval_failure_json(const struct tadd_eval_failure *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "a", (double)f->a);
    cJSON_AddNumberToObject(o, "b", (double)f->b);
    cJSON_AddNumberToObject(o, "prediction", (double)f->predicted);
    cJSON_AddNumberToObject(o, "truth", (double)f->truth);
    return o;
}

/* One seed's set, evaluated by whichever thread takes it. */
struct eval_set {
    long seed;
    struct tadd_eval_result res;
    struct tadd_eval_failure failures[EVAL_MAX_FAILURES];
    int failed;
    char err[TADD_ERR_LEN];
};

struct eval_job {
    const struct eval_args *a;
    const struct tadd_model *m;
    struct tadd_workspace **ws; /* (threads) */
    struct tadd_pair **pairs;   /* (threads) of (n) */
    struct eval_set *sets;      /* (n_seeds) */
};

static void eval_set_task(void *arg, int thread, int index)
{
    struct eval_job *j = arg;
    struct eval_set *set = &j->sets[index];
    size_t n = (size_t)j->a->n;

    tadd_data_eval_pairs(j->pairs[thread], n, (uint64_t)set->seed);
    set->failed = tadd_eval_pairs(&set->res, set->failures,
                                  EVAL_MAX_FAILURES, j->m, j->ws[thread],
                                  EVAL_BATCH, j->pairs[thread], n, set->err,
                                  sizeof set->err) != 0;
}

/*
 * Evaluates one checkpoint on every seed's set, the sets spread over
 * threads, and prints the report. Each set's counts depend on that set
 * alone and are combined in seed order, so the report does not depend on
 * the thread count.
 */
static int eval_checkpoint(const struct eval_args *a, const char *path,
                           int threads)
{
    struct tadd_eval_failure failures[EVAL_MAX_FAILURES];
    struct tadd_model m;
    struct eval_job job = {0};
    struct tadd_pool *pool = NULL;
    char err[TADD_ERR_LEN];
    cJSON *root = NULL, *per_seed, *fails, *agg;
    size_t total = 0, errors = 0, digits = 0;
    int n_fail = 0, rc = -1, ok = 1;

    if (tadd_checkpoint_load(path, &m, err, sizeof err) != 0) {
        worker_report_error(err);
        return 1;
    }
    job.a = a;
    job.m = &m;
    job.ws = calloc((size_t)threads, sizeof *job.ws);
    job.pairs = calloc((size_t)threads, sizeof *job.pairs);
    job.sets = calloc((size_t)a->n_seeds, sizeof *job.sets);
    pool = tadd_pool_new(threads);
    root = cJSON_CreateObject();
    ok = job.ws && job.pairs && job.sets && pool && root;
    for (int t = 0; ok && t < threads; t++) {
        job.ws[t] = tadd_workspace_new(&m.cfg, EVAL_BATCH);
        job.pairs[t] = malloc((size_t)a->n * sizeof **job.pairs);
        ok = job.ws[t] && job.pairs[t];
    }
    if (!ok) {
        worker_report_error("out of memory");
        goto out;
    }
    for (int s = 0; s < a->n_seeds; s++)
        job.sets[s].seed = a->seeds[s];
    tadd_pool_run(pool, eval_set_task, &job, a->n_seeds);

    cJSON_AddStringToObject(root, "checkpoint", path);
    cJSON_AddNumberToObject(root, "params", (double)m.n_params);
    cJSON_AddItemToObject(root, "model_config",
                          tadd_model_config_to_json(&m.cfg));
    agg = cJSON_AddObjectToObject(root, "aggregate");
    per_seed = cJSON_AddArrayToObject(root, "per_seed");
    fails = cJSON_AddArrayToObject(root, "failures");
    for (int s = 0; s < a->n_seeds; s++) {
        const struct eval_set *set = &job.sets[s];
        const struct tadd_eval_result *res = &set->res;
        cJSON *o;
        if (set->failed) {
            worker_report_error(set->err);
            goto out;
        }
        /* The first failures in seed order, as many as fit. */
        for (int f = 0; f < res->n_failures && n_fail < EVAL_MAX_FAILURES;
             f++) {
            failures[n_fail++] = set->failures[f];
            cJSON_AddItemToArray(fails, eval_failure_json(&set->failures[f]));
        }
        total += res->n_pairs;
        errors += res->n_errors;
        digits += res->digits_correct;
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seed", (double)set->seed);
        cJSON_AddNumberToObject(o, "n", (double)res->n_pairs);
        cJSON_AddNumberToObject(o, "errors", (double)res->n_errors);
        cJSON_AddNumberToObject(o, "exact_match", res->exact);
        cJSON_AddItemToArray(per_seed, o);
    }
    cJSON_AddNumberToObject(agg, "total", (double)total);
    cJSON_AddNumberToObject(agg, "errors", (double)errors);
    cJSON_AddNumberToObject(agg, "exact_match",
                            (double)(total - errors) / (double)total);
    cJSON_AddNumberToObject(agg, "token_accuracy",
                            (double)digits / (11.0 * (double)total));
    if (a->json) {
        char *text = cJSON_PrintUnformatted(root);
        if (text)
            printf("%s\n", text);
        free(text);
    } else {
        printf("%s: %zu params, exact match %.5f (%zu errors / %zu), "
               "token accuracy %.5f\n", path, m.n_params,
               (double)(total - errors) / (double)total, errors, total,
               (double)digits / (11.0 * (double)total));
        for (int f = 0; f < n_fail; f++)
            printf("  %llu + %llu: predicted %llu, truth %llu\n",
                   (unsigned long long)failures[f].a,
                   (unsigned long long)failures[f].b,
                   (unsigned long long)failures[f].predicted,
                   (unsigned long long)failures[f].truth);
    }
    rc = 0;
out:
    cJSON_Delete(root);
    tadd_pool_free(pool);
    for (int t = 0; t < threads; t++) {
        if (job.ws)
            tadd_workspace_free(job.ws[t]);
        if (job.pairs)
            free(job.pairs[t]);
    }
    free(job.ws);
    free(job.pairs);
    free(job.sets);
    tadd_model_destroy(&m);
    return rc == 0 ? 0 : 2;
}

int worker_cmd_eval(int argc, char **argv)
{
    struct eval_args a;
    int rc = 0, threads;

    if (eval_parse_args(argc, argv, &a) != 0) {
        free(a.ckpts);
        return 1;
    }
    threads = (int)a.threads;
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (int)cpus : 1;
    }
    if (threads > a.n_seeds)
        threads = a.n_seeds;
    for (int i = 0; i < a.n_ckpts; i++) {
        int r = eval_checkpoint(&a, a.ckpts[i], threads);
        if (r > rc)
            rc = r;
    }
    free(a.ckpts);
    return rc;
}

static int predict_operand(const char *s, uint64_t *out)
{
    long v;
    /* 10^10 - 1 fits a long on every platform this builds on. */
    if (worker_parse_long(s, 0, 9999999999L, &v) != 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int worker_cmd_predict(int argc, char **argv)
{
    const char *path = NULL, *sa = NULL, *sb = NULL;
    uint8_t prompt[TADD_PROMPT_LEN], out[TADD_ANSWER_POSITIONS];
    uint8_t truth[TADD_ANSWER_DIGITS];
    struct tadd_workspace *ws;
    struct tadd_model m;
    char err[TADD_ERR_LEN];
    uint64_t a, b, pred;
    int json = 0, correct = 1;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (!path)
            path = argv[i];
        else if (!sa)
            sa = argv[i];
        else if (!sb)
            sb = argv[i];
        else
            path = NULL, i = argc; /* too many arguments */
    }
    if (!path || !sa || !sb) {
        fputs("usage: tadd-worker predict CKPT A B [--json]\n", stderr);
        return 1;
    }
    if (predict_operand(sa, &a) != 0 || predict_operand(sb, &b) != 0) {
        worker_report_error("A and B must be integers in [0, 10^10)");
        return 1;
    }
    if (tadd_checkpoint_load(path, &m, err, sizeof err) != 0) {
        worker_report_error(err);
        return 1;
    }
    ws = tadd_workspace_new(&m.cfg, 1);
    if (!ws) {
        worker_report_error("out of memory");
        tadd_model_destroy(&m);
        return 2;
    }
    tadd_data_encode_prompt(prompt, a, b);
    tadd_model_greedy(&m, ws, prompt, 1, TADD_ANSWER_POSITIONS, out);
    pred = tadd_data_read_answer(out, TADD_ANSWER_POSITIONS);
    tadd_data_answer_digits(truth, a, b);
    for (int i = 0; i < TADD_ANSWER_DIGITS; i++)
        correct = correct && out[i] == truth[i];
    if (json)
        printf("{\"a\":%llu,\"b\":%llu,\"prediction\":%llu,"
               "\"truth\":%llu,\"correct\":%s}\n", (unsigned long long)a,
               (unsigned long long)b, (unsigned long long)pred,
               (unsigned long long)(a + b), correct ? "true" : "false");
    else
        printf("%llu + %llu = %llu (%s; truth %llu)\n",
               (unsigned long long)a, (unsigned long long)b,
               (unsigned long long)pred, correct ? "correct" : "wrong",
               (unsigned long long)(a + b));
    tadd_workspace_free(ws);
    tadd_model_destroy(&m);
    return 0;
}
