/*
 * The task's data (SPEC sections 1 and 3): the encoding of a pair, a
 * model's held-out pairs, its training batches, the evaluation sets of
 * `tadd-worker eval`, and reading a generated answer back as a number.
 *
 * Dimension letters: B batch, T context (33), N pairs.
 *
 * Sequence of a pair (a, b), 34 tokens, from which x = tokens 0..32 and
 * y = tokens 1..33 with y[0..20] = -1 (ignored):
 *
 *     pos  0..9   a, 10 digits, most significant first
 *     pos  10     '+'
 *     pos  11..20 b, likewise
 *     pos  21     '='
 *     pos  22..32 a + b, 11 digits, least significant first
 *     pos  33     <EOS>
 *
 * Results depend on the exact order of draws, so it is fixed here. Every
 * bound below goes through tadd_rng_below (rejection, no modulo bias).
 *
 * Held-out pairs of a model with seed S: one generator
 * tadd_rng_seed(S, TADD_STREAM_HELDOUT, 0); for each of val_size then
 * test_size pairs, in order: a = below(10^10), b = below(10^10); a pair
 * equal to one drawn before is discarded and both operands drawn again.
 *
 * Training batch of step s: one generator tadd_rng_seed(S,
 * TADD_STREAM_BATCH, s); the curriculum phase of s (below) gives
 * (min, max); for each of the B samples in order:
 *     n = min + below(max - min + 1)
 *     a = below(10^n)
 *     b = below(10^n)
 * and if (a, b) is one of the model's held-out pairs the sample is drawn
 * again from n on, from the same generator.
 *
 * Curriculum phase of step s: phase k covers steps
 * [steps_0 + ... + steps_{k-1}, steps_0 + ... + steps_k); steps at or past
 * the last boundary belong to the last phase.
 *
 * Evaluation set of seed E: one generator tadd_rng_seed(E,
 * TADD_STREAM_EVAL, 0); for each pair, a = below(10^10), b = below(10^10);
 * duplicates are kept.
 */
#ifndef TADD_DATA_H
#define TADD_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TADD_OPERAND_DIGITS 10
#define TADD_OPERAND_LIMIT 10000000000ULL /* 10^10, operands lie below */
#define TADD_SEQ_LEN 34
#define TADD_LABEL_IGNORE (-1)

/* A sample that keeps colliding this often with the held-out set means
 * the curriculum's range is (nearly) covered by it: an error, not a hang. */
#define TADD_DATA_MAX_REDRAWS 10000

struct tadd_pair {
    uint64_t a;
    uint64_t b;
};

/* A set of pairs: open addressing with linear probing, growing at half
 * load. A zeroed struct is an empty set. */
struct tadd_pairset {
    size_t count;
    size_t cap;              /* 0 or a power of two */
    struct tadd_pair *slots; /* (cap), a == UINT64_MAX marks a free slot */
};

/*
 * Adds (a, b), both < 10^10. Returns 1 when added, 0 when already
 * present, -1 on OOM (the set is then unchanged).
 */
int tadd_pairset_insert(struct tadd_pairset *s, uint64_t a, uint64_t b);

/* 1 when (a, b) is in s, else 0. s may be NULL (the empty set). */
int tadd_pairset_contains(const struct tadd_pairset *s, uint64_t a,
                          uint64_t b);

void tadd_pairset_free(struct tadd_pairset *s);

/* A model's validation and test pairs, all distinct. */
struct tadd_heldout {
    int val_size;
    int test_size;
    struct tadd_pair *pairs; /* (val_size + test_size), validation first */
    struct tadd_pairset set; /* the same pairs, for membership */
};

/*
 * Draws the held-out pairs of seed (see the top of this file).
 * Returns 0, or -1 with a message in err (bad sizes, OOM); h is then empty.
 */
int tadd_heldout_build(struct tadd_heldout *h, uint64_t seed, int val_size,
                       int test_size, char *err, size_t errlen);

void tadd_heldout_free(struct tadd_heldout *h);

/* The validation pairs (val_size) and test pairs (test_size). */
const struct tadd_pair *tadd_heldout_val(const struct tadd_heldout *h);
const struct tadd_pair *tadd_heldout_test(const struct tadd_heldout *h);

/* 1 when (a, b) is one of h's pairs. */
int tadd_heldout_contains(const struct tadd_heldout *h, uint64_t a,
                          uint64_t b);

/*
 * Encodes one pair, a and b < 10^10 (asserted).
 *   x  (T) input ids
 *   y  (T) labels, TADD_LABEL_IGNORE at positions 0..20; may be NULL
 */
void tadd_data_encode(uint8_t *x, int8_t *y, uint64_t a, uint64_t b);

/* Encodes N pairs: x (N, T), y (N, T) or NULL. */
void tadd_data_encode_pairs(uint8_t *x, int8_t *y,
                            const struct tadd_pair *pairs, size_t n);

/* The 22-token prompt of a pair: prompt (22). */
void tadd_data_encode_prompt(uint8_t *prompt, uint64_t a, uint64_t b);

/* The 11 answer digits of a + b, least significant first: digits (11). */
void tadd_data_answer_digits(uint8_t *digits, uint64_t a, uint64_t b);

/*
 * Reads n generated tokens as a number (SPEC section 1): the tokens before
 * the first non-digit, at most 11, least significant first; missing
 * higher digits are 0. Cannot fail.
 */
uint64_t tadd_data_read_answer(const uint8_t *tokens, int n);

/* The curriculum phase index of step (see above); t->n_phases >= 1. */
int tadd_data_phase_at(const struct tadd_train_config *t, long step);

/*
 * The training batch of (seed, step), B = t->batch_size samples.
 *   x      (B, T) input ids
 *   y      (B, T) labels
 *   pairs  (B) the drawn pairs; may be NULL
 * exclude holds the model's held-out pairs (NULL for none).
 * Returns 0, or -1 with a message in err when the curriculum is malformed
 * or a sample could not avoid exclude within TADD_DATA_MAX_REDRAWS draws.
 */
int tadd_data_train_batch(uint8_t *x, int8_t *y, struct tadd_pair *pairs,
                          const struct tadd_train_config *t,
                          const struct tadd_pairset *exclude, uint64_t seed,
                          long step, char *err, size_t errlen);

/* The n pairs of evaluation set seed: out (n). Cannot fail. */
void tadd_data_eval_pairs(struct tadd_pair *out, size_t n, uint64_t seed);

#endif
