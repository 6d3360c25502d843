#include "eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buffers of one evaluation, each for one batch. */
struct eval_buffers {
    uint8_t *x;          /* (B, T) encoded pairs */
    uint8_t *pred;       /* (B, 12) teacher-forced argmax */
    uint8_t *prompts;    /* (B, 22) prompts of the pairs left to decode */
    uint8_t *out;        /* (B, 11) their greedy tokens */
    size_t *pending;     /* (B) their indices into the pair list */
    int n_pending;
};

static int buffers_alloc(struct eval_buffers *b, int batch)
{
    size_t n = (size_t)batch;

    memset(b, 0, sizeof *b);
    b->x = malloc(n * TADD_CONTEXT);
    b->pred = malloc(n * TADD_ANSWER_POSITIONS);
    b->prompts = malloc(n * TADD_PROMPT_LEN);
    b->out = malloc(n * TADD_ANSWER_DIGITS);
    b->pending = malloc(n * sizeof *b->pending);
    if (!b->x || !b->pred || !b->prompts || !b->out || !b->pending)
        return -1;
    return 0;
}

static void buffers_free(struct eval_buffers *b)
{
    free(b->x);
    free(b->pred);
    free(b->prompts);
    free(b->out);
    free(b->pending);
}

/* Decodes the pending pairs greedily and scores them. */
static void eval_flush(struct tadd_eval_result *res,
                       struct tadd_eval_failure *failures, int max_failures,
                       const struct tadd_model *m, struct tadd_workspace *ws,
                       const struct tadd_pair *pairs, struct eval_buffers *b)
{
    if (b->n_pending == 0)
        return;
    tadd_model_greedy(m, ws, b->prompts, b->n_pending, TADD_ANSWER_DIGITS,
                      b->out);
    for (int j = 0; j < b->n_pending; j++) {
        const struct tadd_pair *p = &pairs[b->pending[j]];
        const uint8_t *gen = b->out + (size_t)j * TADD_ANSWER_DIGITS;
        uint8_t truth[TADD_ANSWER_DIGITS];
        int right = 0;

        tadd_data_answer_digits(truth, p->a, p->b);
        for (int d = 0; d < TADD_ANSWER_DIGITS; d++)
            right += gen[d] == truth[d];
        res->digits_correct += (size_t)right;
        /* Greedy decoding is the definition of exact; the argmax filter
         * only spares the decoding of pairs that are surely exact. */
        if (right == TADD_ANSWER_DIGITS) {
            res->n_exact++;
            continue;
        }
        if (res->n_failures < max_failures) {
            struct tadd_eval_failure *f = &failures[res->n_failures++];
            f->a = p->a;
            f->b = p->b;
            f->predicted = tadd_data_read_answer(gen, TADD_ANSWER_DIGITS);
            f->truth = p->a + p->b;
        }
    }
    b->n_pending = 0;
}

/* Scores one chunk of pairs by the argmax; queues the others. */
static void eval_chunk(struct tadd_eval_result *res,
                       struct tadd_eval_failure *failures, int max_failures,
                       const struct tadd_model *m, struct tadd_workspace *ws,
                       int batch, const struct tadd_pair *pairs,
                       size_t first, int count, struct eval_buffers *b)
{
    tadd_data_encode_pairs(b->x, NULL, pairs + first, (size_t)count);
    tadd_model_argmax_answer(m, ws, b->x, count, b->pred);
    for (int i = 0; i < count; i++) {
        const uint8_t *x = b->x + (size_t)i * TADD_CONTEXT;
        const uint8_t *pred = b->pred + (size_t)i * TADD_ANSWER_POSITIONS;

        /* x holds the true digits at positions 22..32, which are what
         * positions 21..31 must predict. */
        if (memcmp(pred, x + TADD_PROMPT_LEN, TADD_ANSWER_DIGITS) == 0) {
            res->n_exact++;
            res->digits_correct += TADD_ANSWER_DIGITS;
            continue;
        }
        if (b->n_pending == batch)
            eval_flush(res, failures, max_failures, m, ws, pairs, b);
        memcpy(b->prompts + (size_t)b->n_pending * TADD_PROMPT_LEN, x,
               TADD_PROMPT_LEN);
        b->pending[b->n_pending++] = first + (size_t)i;
    }
}

int tadd_eval_pairs(struct tadd_eval_result *res,
                    struct tadd_eval_failure *failures, int max_failures,
                    const struct tadd_model *m, struct tadd_workspace *ws,
                    int batch, const struct tadd_pair *pairs, size_t n,
                    char *err, size_t errlen)
{
    struct eval_buffers b;
    int rc = -1;

    memset(res, 0, sizeof *res);
    if (batch < 1) {
        snprintf(err, errlen, "eval: batch %d, need >= 1", batch);
        return -1;
    }
    if (max_failures < 0 || (max_failures > 0 && !failures)) {
        snprintf(err, errlen, "eval: no room for %d failures",
                 max_failures);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (pairs[i].a >= TADD_OPERAND_LIMIT ||
            pairs[i].b >= TADD_OPERAND_LIMIT) {
            snprintf(err, errlen, "eval: pair %zu (%llu, %llu) has an "
                     "operand of more than 10 digits", i,
                     (unsigned long long)pairs[i].a,
                     (unsigned long long)pairs[i].b);
            return -1;
        }
    }
    if (buffers_alloc(&b, batch) < 0) {
        snprintf(err, errlen, "eval: out of memory for batch %d", batch);
        goto cleanup;
    }

    for (size_t first = 0; first < n; first += (size_t)batch) {
        size_t left = n - first;
        int count = left < (size_t)batch ? (int)left : batch;
        eval_chunk(res, failures, max_failures, m, ws, batch, pairs, first,
                   count, &b);
    }
    eval_flush(res, failures, max_failures, m, ws, pairs, &b);

    res->n_pairs = n;
    res->n_errors = n - res->n_exact;
    if (n > 0) {
        res->exact = (double)res->n_exact / (double)n;
        res->token_acc = (double)res->digits_correct /
                         ((double)n * TADD_ANSWER_DIGITS);
    }
    rc = 0;

cleanup:
    buffers_free(&b);
    return rc;
}
