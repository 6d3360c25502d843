#include "data.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define PAIR_FREE UINT64_MAX

static const uint64_t pow10_table[TADD_OPERAND_DIGITS + 1] = {
    1ULL,          10ULL,          100ULL,         1000ULL,
    10000ULL,      100000ULL,      1000000ULL,     10000000ULL,
    100000000ULL,  1000000000ULL,  10000000000ULL,
};

/* splitmix64's finaliser over both operands: operands below 2^34 are far
 * from uniform over 64 bits, so they need mixing before masking. */
static uint64_t pair_hash(uint64_t a, uint64_t b)
{
    uint64_t z = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The slot holding (a, b), or the free slot where it would go. */
static struct tadd_pair *pairset_slot(struct tadd_pair *slots, size_t cap,
                                      uint64_t a, uint64_t b)
{
    size_t mask = cap - 1;
    size_t i = (size_t)pair_hash(a, b) & mask;

    /* Load stays at most one half, so a free slot always ends the probe. */
    while (slots[i].a != PAIR_FREE && (slots[i].a != a || slots[i].b != b))
        i = (i + 1) & mask;
    return &slots[i];
}

static int pairset_grow(struct tadd_pairset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    struct tadd_pair *slots = malloc(cap * sizeof *slots);

    if (!slots)
        return -1;
    for (size_t i = 0; i < cap; i++)
        slots[i].a = PAIR_FREE;
    for (size_t i = 0; i < s->cap; i++) {
        const struct tadd_pair *p = &s->slots[i];
        if (p->a != PAIR_FREE)
            *pairset_slot(slots, cap, p->a, p->b) = *p;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int tadd_pairset_insert(struct tadd_pairset *s, uint64_t a, uint64_t b)
{
    assert(a < TADD_OPERAND_LIMIT && b < TADD_OPERAND_LIMIT);
    if ((s->count + 1) * 2 > s->cap && pairset_grow(s) < 0)
        return -1;
    struct tadd_pair *slot = pairset_slot(s->slots, s->cap, a, b);
    if (slot->a != PAIR_FREE)
        return 0;
    slot->a = a;
    slot->b = b;
    s->count++;
    return 1;
}

int tadd_pairset_contains(const struct tadd_pairset *s, uint64_t a,
                          uint64_t b)
{
    if (!s || s->count == 0)
        return 0;
    return pairset_slot(s->slots, s->cap, a, b)->a != PAIR_FREE;
}

void tadd_pairset_free(struct tadd_pairset *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}

int tadd_heldout_build(struct tadd_heldout *h, uint64_t seed, int val_size,
                       int test_size, char *err, size_t errlen)
{
    struct tadd_rng r;
    struct tadd_rng_divisor limit;
    size_t total;

    memset(h, 0, sizeof *h);
    if (val_size < 0 || test_size < 0) {
        snprintf(err, errlen, "held-out sizes must be >= 0 (val_size %d, "
                 "test_size %d)", val_size, test_size);
        return -1;
    }
    total = (size_t)val_size + (size_t)test_size;
    h->pairs = malloc((total ? total : 1) * sizeof *h->pairs);
    if (!h->pairs)
        goto oom;

    tadd_rng_divisor_init(&limit, TADD_OPERAND_LIMIT);
    tadd_rng_seed(&r, seed, TADD_STREAM_HELDOUT, 0);
    for (size_t i = 0; i < total; i++) {
        int added;
        uint64_t a, b;
        do {
            a = tadd_rng_below_by(&r, &limit);
            b = tadd_rng_below_by(&r, &limit);
            added = tadd_pairset_insert(&h->set, a, b);
            if (added < 0)
                goto oom;
        } while (!added);
        h->pairs[i].a = a;
        h->pairs[i].b = b;
    }
    h->val_size = val_size;
    h->test_size = test_size;
    return 0;

oom:
    snprintf(err, errlen, "out of memory for %zu held-out pairs", total);
    tadd_heldout_free(h);
    return -1;
}

void tadd_heldout_free(struct tadd_heldout *h)
{
    free(h->pairs);
    tadd_pairset_free(&h->set);
    memset(h, 0, sizeof *h);
}

const struct tadd_pair *tadd_heldout_val(const struct tadd_heldout *h)
{
    return h->pairs;
}

const struct tadd_pair *tadd_heldout_test(const struct tadd_heldout *h)
{
    return h->pairs + h->val_size;
}

int tadd_heldout_contains(const struct tadd_heldout *h, uint64_t a,
                          uint64_t b)
{
    return tadd_pairset_contains(&h->set, a, b);
}

/* Writes the 10 digits of v, most significant first: out (10). */
static void write_operand(uint8_t *out, uint64_t v)
{
    for (int i = TADD_OPERAND_DIGITS - 1; i >= 0; i--) {
        out[i] = (uint8_t)(v % 10);
        v /= 10;
    }
}

void tadd_data_encode_prompt(uint8_t *prompt, uint64_t a, uint64_t b)
{
    assert(a < TADD_OPERAND_LIMIT && b < TADD_OPERAND_LIMIT);
    write_operand(prompt, a);
    prompt[10] = TADD_TOK_PLUS;
    write_operand(prompt + 11, b);
    prompt[21] = TADD_TOK_EQUALS;
}

void tadd_data_answer_digits(uint8_t *digits, uint64_t a, uint64_t b)
{
    uint64_t sum = a + b;

    assert(a < TADD_OPERAND_LIMIT && b < TADD_OPERAND_LIMIT);
    for (int i = 0; i < TADD_ANSWER_DIGITS; i++) {
        digits[i] = (uint8_t)(sum % 10);
        sum /= 10;
    }
}

void tadd_data_encode(uint8_t *x, int8_t *y, uint64_t a, uint64_t b)
{
    uint8_t seq[TADD_SEQ_LEN]; /* (T + 1) */

    tadd_data_encode_prompt(seq, a, b);
    tadd_data_answer_digits(seq + TADD_PROMPT_LEN, a, b);
    seq[TADD_SEQ_LEN - 1] = TADD_TOK_EOS;

    memcpy(x, seq, TADD_CONTEXT);
    if (!y)
        return;
    for (int t = 0; t < TADD_CONTEXT; t++)
        y[t] = t < TADD_FIRST_ANSWER_POS ? TADD_LABEL_IGNORE
                                         : (int8_t)seq[t + 1];
}

void tadd_data_encode_pairs(uint8_t *x, int8_t *y,
                            const struct tadd_pair *pairs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tadd_data_encode(x + i * TADD_CONTEXT,
                         y ? y + i * TADD_CONTEXT : NULL, pairs[i].a,
                         pairs[i].b);
}

uint64_t tadd_data_read_answer(const uint8_t *tokens, int n)
{
    uint64_t value = 0, scale = 1;

    for (int i = 0; i < n && i < TADD_ANSWER_DIGITS; i++) {
        if (tokens[i] > 9)
            break;
        value += tokens[i] * scale;
        scale *= 10;
    }
    return value;
}

int tadd_data_phase_at(const struct tadd_train_config *t, long step)
{
    long end = 0;

    assert(t->n_phases >= 1);
    for (int k = 0; k < t->n_phases - 1; k++) {
        end += t->curriculum[k].steps;
        if (step < end)
            return k;
    }
    return t->n_phases - 1;
}

static int check_curriculum(const struct tadd_train_config *t, char *err,
                            size_t errlen)
{
    if (t->n_phases < 1 || t->n_phases > TADD_MAX_PHASES) {
        snprintf(err, errlen, "curriculum: %d phases, need 1 to %d",
                 t->n_phases, TADD_MAX_PHASES);
        return -1;
    }
    for (int k = 0; k < t->n_phases; k++) {
        const struct tadd_phase *ph = &t->curriculum[k];
        if (ph->min_digits < 1 || ph->max_digits > TADD_OPERAND_DIGITS ||
            ph->min_digits > ph->max_digits) {
            snprintf(err, errlen, "curriculum[%d]: digits %d..%d, need "
                     "1 <= min_digits <= max_digits <= %d", k,
                     ph->min_digits, ph->max_digits, TADD_OPERAND_DIGITS);
            return -1;
        }
    }
    if (t->batch_size < 1) {
        snprintf(err, errlen, "batch_size %d, need >= 1", t->batch_size);
        return -1;
    }
    return 0;
}

int tadd_data_train_batch(uint8_t *x, int8_t *y, struct tadd_pair *pairs,
                          const struct tadd_train_config *t,
                          const struct tadd_pairset *exclude, uint64_t seed,
                          long step, char *err, size_t errlen)
{
    struct tadd_rng r;

    if (check_curriculum(t, err, errlen) < 0)
        return -1;
    const struct tadd_phase *ph = &t->curriculum[tadd_data_phase_at(t, step)];
    struct tadd_rng_divisor span, operand[TADD_OPERAND_DIGITS + 1];

    tadd_rng_divisor_init(&span, (uint64_t)(ph->max_digits -
                                            ph->min_digits + 1));
    for (int n = ph->min_digits; n <= ph->max_digits; n++)
        tadd_rng_divisor_init(&operand[n], pow10_table[n]);
    tadd_rng_seed(&r, seed, TADD_STREAM_BATCH, (uint64_t)step);
    for (int i = 0; i < t->batch_size; i++) {
        uint64_t a, b;
        int draws = 0;
        do {
            if (draws++ == TADD_DATA_MAX_REDRAWS) {
                snprintf(err, errlen, "step %ld: sample %d collided with "
                         "the held-out pairs %d times (digits %d..%d)",
                         step, i, TADD_DATA_MAX_REDRAWS, ph->min_digits,
                         ph->max_digits);
                return -1;
            }
            int n = ph->min_digits + (int)tadd_rng_below_by(&r, &span);
            a = tadd_rng_below_by(&r, &operand[n]);
            b = tadd_rng_below_by(&r, &operand[n]);
        } while (tadd_pairset_contains(exclude, a, b));
        tadd_data_encode(x + (size_t)i * TADD_CONTEXT,
                         y + (size_t)i * TADD_CONTEXT, a, b);
        if (pairs) {
            pairs[i].a = a;
            pairs[i].b = b;
        }
    }
    return 0;
}

void tadd_data_eval_pairs(struct tadd_pair *out, size_t n, uint64_t seed)
{
    struct tadd_rng r;
    struct tadd_rng_divisor limit;

    tadd_rng_divisor_init(&limit, TADD_OPERAND_LIMIT);
    tadd_rng_seed(&r, seed, TADD_STREAM_EVAL, 0);
    for (size_t i = 0; i < n; i++) {
        out[i].a = tadd_rng_below_by(&r, &limit);
        out[i].b = tadd_rng_below_by(&r, &limit);
    }
}
