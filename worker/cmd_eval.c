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
#include "worker_cmds.h"

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
              "[--json]\n", stderr);
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

/* Evaluates one checkpoint on every seed's set and prints the report. */
static int eval_checkpoint(const struct eval_args *a, const char *path)
{
    struct tadd_eval_failure failures[EVAL_MAX_FAILURES];
    struct tadd_model m;
    struct tadd_workspace *ws = NULL;
    struct tadd_pair *pairs = NULL;
    char err[TADD_ERR_LEN];
    cJSON *root = NULL, *per_seed, *fails, *agg;
    size_t total = 0, errors = 0, digits = 0;
    int n_fail = 0, rc = -1;

    if (tadd_checkpoint_load(path, &m, err, sizeof err) != 0) {
        worker_report_error(err);
        return 1;
    }
    ws = tadd_workspace_new(&m.cfg, EVAL_BATCH);
    pairs = malloc((size_t)a->n * sizeof *pairs);
    root = cJSON_CreateObject();
    if (!ws || !pairs || !root) {
        worker_report_error("out of memory");
        goto out;
    }
    cJSON_AddStringToObject(root, "checkpoint", path);
    cJSON_AddNumberToObject(root, "params", (double)m.n_params);
    cJSON_AddItemToObject(root, "model_config",
                          tadd_model_config_to_json(&m.cfg));
    agg = cJSON_AddObjectToObject(root, "aggregate");
    per_seed = cJSON_AddArrayToObject(root, "per_seed");
    fails = cJSON_AddArrayToObject(root, "failures");
    for (int s = 0; s < a->n_seeds; s++) {
        struct tadd_eval_result res;
        cJSON *o;
        tadd_data_eval_pairs(pairs, (size_t)a->n, (uint64_t)a->seeds[s]);
        if (tadd_eval_pairs(&res, failures, EVAL_MAX_FAILURES - n_fail, &m,
                            ws, EVAL_BATCH, pairs, (size_t)a->n, err,
                            sizeof err) != 0) {
            worker_report_error(err);
            goto out;
        }
        for (int f = 0; f < res.n_failures; f++)
            cJSON_AddItemToArray(fails, eval_failure_json(&failures[f]));
        n_fail += res.n_failures;
        total += res.n_pairs;
        errors += res.n_errors;
        digits += res.digits_correct;
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seed", (double)a->seeds[s]);
        cJSON_AddNumberToObject(o, "n", (double)res.n_pairs);
        cJSON_AddNumberToObject(o, "errors", (double)res.n_errors);
        cJSON_AddNumberToObject(o, "exact_match", res.exact);
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
    free(pairs);
    tadd_workspace_free(ws);
    tadd_model_destroy(&m);
    return rc == 0 ? 0 : 2;
}

int worker_cmd_eval(int argc, char **argv)
{
    struct eval_args a;
    int rc = 0;

    if (eval_parse_args(argc, argv, &a) != 0) {
        free(a.ckpts);
        return 1;
    }
    for (int i = 0; i < a.n_ckpts; i++) {
        int r = eval_checkpoint(&a, a.ckpts[i]);
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
