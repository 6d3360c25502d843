/*
 * The task's data: encoding against the golden batch, held-out pairs,
 * training batches (determinism, curriculum, held-out exclusion),
 * evaluation sets and reading answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "data.h"

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)len + 1);
        if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
            free(buf);
            buf = NULL;
        }
        if (buf)
            buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

static cJSON *load_golden(const char *name)
{
    const char *dir = getenv("TADD_GOLDEN_DIR");
    char path[4096];

    REQUIRE(dir != NULL);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = read_text(path);
    if (!text)
        fprintf(stderr, "cannot read %s\n", path);
    REQUIRE(text != NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    REQUIRE(root != NULL);
    return root;
}

static void test_encode_golden(void)
{
    cJSON *root = load_golden("batch.json");
    const cJSON *pairs = cJSON_GetObjectItem(root, "pairs");
    const cJSON *xs = cJSON_GetObjectItem(root, "x");
    const cJSON *ys = cJSON_GetObjectItem(root, "y");
    int n = cJSON_GetArraySize(pairs);

    REQUIRE(n == 8);
    REQUIRE(cJSON_GetArraySize(xs) == n && cJSON_GetArraySize(ys) == n);
    for (int i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetArrayItem(pairs, i);
        uint64_t a = (uint64_t)cJSON_GetArrayItem(p, 0)->valuedouble;
        uint64_t b = (uint64_t)cJSON_GetArrayItem(p, 1)->valuedouble;
        const cJSON *gx = cJSON_GetArrayItem(xs, i);
        const cJSON *gy = cJSON_GetArrayItem(ys, i);
        uint8_t x[TADD_CONTEXT];
        int8_t y[TADD_CONTEXT];

        REQUIRE(cJSON_GetArraySize(gx) == TADD_CONTEXT);
        REQUIRE(cJSON_GetArraySize(gy) == TADD_CONTEXT);
        tadd_data_encode(x, y, a, b);
        for (int t = 0; t < TADD_CONTEXT; t++) {
            int want_x = cJSON_GetArrayItem(gx, t)->valueint;
            int want_y = cJSON_GetArrayItem(gy, t)->valueint;
            if (want_y == -100)
                want_y = TADD_LABEL_IGNORE;
            CHECK_INT_EQ(x[t], want_x);
            CHECK_INT_EQ(y[t], want_y);
        }

        /* The prompt and the answer digits are the same sequence's
         * parts, and reading the answer gives the sum back. */
        uint8_t prompt[TADD_PROMPT_LEN], digits[TADD_ANSWER_DIGITS];
        tadd_data_encode_prompt(prompt, a, b);
        tadd_data_answer_digits(digits, a, b);
        CHECK(memcmp(prompt, x, TADD_PROMPT_LEN) == 0);
        CHECK(memcmp(digits, x + TADD_PROMPT_LEN, 11) == 0);
        CHECK_INT_EQ(tadd_data_read_answer(digits, 11), a + b);
    }
    cJSON_Delete(root);
}

static void test_encode_pairs(void)
{
    struct tadd_pair pairs[3] = {{1, 2}, {9999999999ULL, 5}, {42, 0}};
    uint8_t x[3 * TADD_CONTEXT], x1[TADD_CONTEXT];
    int8_t y[3 * TADD_CONTEXT], y1[TADD_CONTEXT];

    tadd_data_encode_pairs(x, y, pairs, 3);
    for (int i = 0; i < 3; i++) {
        tadd_data_encode(x1, y1, pairs[i].a, pairs[i].b);
        CHECK(memcmp(x + i * TADD_CONTEXT, x1, TADD_CONTEXT) == 0);
        CHECK(memcmp(y + i * TADD_CONTEXT, y1, TADD_CONTEXT) == 0);
    }
    /* y may be left out. */
    memset(x, 0xff, sizeof x);
    tadd_data_encode_pairs(x, NULL, pairs, 3);
    tadd_data_encode(x1, NULL, 42, 0);
    CHECK(memcmp(x + 2 * TADD_CONTEXT, x1, TADD_CONTEXT) == 0);
}

static void test_read_answer(void)
{
    const uint8_t full[11] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1};
    const uint8_t stop[11] = {3, 2, TADD_TOK_EOS, 5, 5, 5, 5, 5, 5, 5, 5};
    const uint8_t plus[11] = {TADD_TOK_PLUS, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const uint8_t longer[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7};

    CHECK_INT_EQ(tadd_data_read_answer(full, 11), 10123456789ULL);
    CHECK_INT_EQ(tadd_data_read_answer(stop, 11), 23);
    CHECK_INT_EQ(tadd_data_read_answer(plus, 11), 0);
    /* At most 11 digits are read even when more follow. */
    CHECK_INT_EQ(tadd_data_read_answer(longer, 12), 11111111111ULL);
    /* Fewer tokens than 11: missing higher digits are 0. */
    CHECK_INT_EQ(tadd_data_read_answer(full, 3), 789);
    CHECK_INT_EQ(tadd_data_read_answer(full, 0), 0);
}

static void test_pairset(void)
{
    struct tadd_pairset s = {0};
    enum { N = 20000 };

    CHECK(!tadd_pairset_contains(&s, 0, 0));
    CHECK(!tadd_pairset_contains(NULL, 0, 0));
    for (uint64_t i = 0; i < N; i++)
        CHECK_INT_EQ(tadd_pairset_insert(&s, i * 7919, i % 97), 1);
    CHECK_INT_EQ(s.count, N);
    CHECK(s.cap >= 2 * N);
    for (uint64_t i = 0; i < N; i += 13)
        CHECK_INT_EQ(tadd_pairset_insert(&s, i * 7919, i % 97), 0);
    CHECK_INT_EQ(s.count, N);
    for (uint64_t i = 0; i < N; i++) {
        CHECK(tadd_pairset_contains(&s, i * 7919, i % 97));
        /* The operands swapped, or b shifted, are other pairs. */
        CHECK(!tadd_pairset_contains(&s, i * 7919, i % 97 + 100));
    }
    CHECK(!tadd_pairset_contains(&s, 9999999999ULL, 9999999999ULL));
    tadd_pairset_free(&s);
    CHECK_INT_EQ(s.count, 0);
    CHECK(!tadd_pairset_contains(&s, 0, 0));
}

static void test_heldout(void)
{
    struct tadd_heldout h1, h2, h3, hs;
    char err[TADD_ERR_LEN];

    REQUIRE(tadd_heldout_build(&h1, 42, 5000, 10000, err, sizeof err) == 0);
    REQUIRE(tadd_heldout_build(&h2, 42, 5000, 10000, err, sizeof err) == 0);
    REQUIRE(tadd_heldout_build(&h3, 43, 5000, 10000, err, sizeof err) == 0);
    CHECK_INT_EQ(h1.val_size, 5000);
    CHECK_INT_EQ(h1.test_size, 10000);

    /* All distinct, in range, and found by the membership test. */
    CHECK_INT_EQ(h1.set.count, 15000);
    uint64_t max_a = 0, max_b = 0;
    for (int i = 0; i < 15000; i++) {
        CHECK(h1.pairs[i].a < TADD_OPERAND_LIMIT);
        CHECK(h1.pairs[i].b < TADD_OPERAND_LIMIT);
        CHECK(tadd_heldout_contains(&h1, h1.pairs[i].a, h1.pairs[i].b));
        if (h1.pairs[i].a > max_a)
            max_a = h1.pairs[i].a;
        if (h1.pairs[i].b > max_b)
            max_b = h1.pairs[i].b;
    }
    /* Uniform over 10 digits: the largest of 15000 draws is close to
     * the top of the range. */
    CHECK(max_a > 9990000000ULL && max_b > 9990000000ULL);
    CHECK(tadd_heldout_val(&h1) == h1.pairs);
    CHECK(tadd_heldout_test(&h1) == h1.pairs + 5000);

    /* Same seed, same pairs; another seed, other pairs. */
    CHECK(memcmp(h1.pairs, h2.pairs, 15000 * sizeof *h1.pairs) == 0);
    int same = 0;
    for (int i = 0; i < 15000; i++) {
        if (tadd_heldout_contains(&h1, h3.pairs[i].a, h3.pairs[i].b))
            same++;
    }
    CHECK_INT_EQ(same, 0);

    /* Validation then test from one stream: the split moves, the order
     * of draws does not. */
    REQUIRE(tadd_heldout_build(&hs, 42, 15000, 0, err, sizeof err) == 0);
    CHECK(memcmp(h1.pairs, hs.pairs, 15000 * sizeof *h1.pairs) == 0);
    CHECK_INT_EQ(hs.test_size, 0);
    tadd_heldout_free(&hs);

    CHECK_INT_EQ(tadd_heldout_build(&hs, 1, -1, 5, err, sizeof err), -1);
    CHECK_STR_HAS(err, "val_size -1");
    CHECK(hs.pairs == NULL);

    tadd_heldout_free(&h1);
    tadd_heldout_free(&h2);
    tadd_heldout_free(&h3);
    tadd_heldout_free(&hs);
}

static void set_curriculum(struct tadd_train_config *t, int batch)
{
    memset(t, 0, sizeof *t);
    t->batch_size = batch;
    t->n_phases = 3;
    t->curriculum[0] = (struct tadd_phase){1, 3, 2000};
    t->curriculum[1] = (struct tadd_phase){1, 6, 5000};
    t->curriculum[2] = (struct tadd_phase){1, 10, 20000};
}

static void test_phase_at(void)
{
    struct tadd_train_config t;

    set_curriculum(&t, 8);
    CHECK_INT_EQ(tadd_data_phase_at(&t, 0), 0);
    CHECK_INT_EQ(tadd_data_phase_at(&t, 1999), 0);
    CHECK_INT_EQ(tadd_data_phase_at(&t, 2000), 1);
    CHECK_INT_EQ(tadd_data_phase_at(&t, 6999), 1);
    CHECK_INT_EQ(tadd_data_phase_at(&t, 7000), 2);
    CHECK_INT_EQ(tadd_data_phase_at(&t, 26999), 2);
    /* Past the last boundary the last phase goes on. */
    CHECK_INT_EQ(tadd_data_phase_at(&t, 27000), 2);
    CHECK_INT_EQ(tadd_data_phase_at(&t, 1000000), 2);

    t.n_phases = 1;
    CHECK_INT_EQ(tadd_data_phase_at(&t, 0), 0);
    CHECK_INT_EQ(tadd_data_phase_at(&t, 5000), 0);
}

enum { BATCH = 512 };

static uint8_t xa[BATCH * TADD_CONTEXT], xb[BATCH * TADD_CONTEXT];
static int8_t ya[BATCH * TADD_CONTEXT], yb[BATCH * TADD_CONTEXT];
static struct tadd_pair pa[BATCH], pb[BATCH];

static void test_batch_deterministic(void)
{
    struct tadd_train_config t;
    struct tadd_heldout h;
    char err[TADD_ERR_LEN];

    set_curriculum(&t, BATCH);
    REQUIRE(tadd_heldout_build(&h, 7, 500, 500, err, sizeof err) == 0);

    long steps[] = {0, 1, 1999, 2000, 6999, 7000, 29999, 40000};
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        REQUIRE(tadd_data_train_batch(xa, ya, pa, &t, &h.set, 7, steps[k],
                                      err, sizeof err) == 0);
        /* Another step's batch in between changes nothing. */
        REQUIRE(tadd_data_train_batch(xb, yb, pb, &t, &h.set, 7, 12345,
                                      err, sizeof err) == 0);
        REQUIRE(tadd_data_train_batch(xb, yb, pb, &t, &h.set, 7, steps[k],
                                      err, sizeof err) == 0);
        CHECK(memcmp(xa, xb, sizeof xa) == 0);
        CHECK(memcmp(ya, yb, sizeof ya) == 0);
        CHECK(memcmp(pa, pb, sizeof pa) == 0);

        /* x and y are the encoding of the reported pairs. */
        uint8_t x1[TADD_CONTEXT];
        int8_t y1[TADD_CONTEXT];
        for (int i = 0; i < BATCH; i += 37) {
            tadd_data_encode(x1, y1, pa[i].a, pa[i].b);
            CHECK(memcmp(xa + i * TADD_CONTEXT, x1, TADD_CONTEXT) == 0);
            CHECK(memcmp(ya + i * TADD_CONTEXT, y1, TADD_CONTEXT) == 0);
        }

        /* Other seed or other step: another batch. */
        REQUIRE(tadd_data_train_batch(xb, yb, pb, &t, &h.set, 8, steps[k],
                                      err, sizeof err) == 0);
        CHECK(memcmp(pa, pb, sizeof pa) != 0);
        REQUIRE(tadd_data_train_batch(xb, yb, pb, &t, &h.set, 7,
                                      steps[k] + 1, err, sizeof err) == 0);
        CHECK(memcmp(pa, pb, sizeof pa) != 0);
    }

    /* pairs may be left out; x and y stay the same. */
    REQUIRE(tadd_data_train_batch(xa, ya, pa, &t, &h.set, 7, 3, err,
                                  sizeof err) == 0);
    REQUIRE(tadd_data_train_batch(xb, yb, NULL, &t, &h.set, 7, 3, err,
                                  sizeof err) == 0);
    CHECK(memcmp(xa, xb, sizeof xa) == 0);
    tadd_heldout_free(&h);
}

static uint64_t pow10u(int n)
{
    uint64_t v = 1;
    while (n-- > 0)
        v *= 10;
    return v;
}

static void test_batch_curriculum(void)
{
    struct tadd_train_config t;
    char err[TADD_ERR_LEN];

    set_curriculum(&t, BATCH);
    /* Steps at the start, middle and end of each phase, and past it. */
    struct { long step; int max_digits; } cases[] = {
        {0, 3},     {1000, 3},  {1999, 3},  {2000, 6},   {4500, 6},
        {6999, 6},  {7000, 10}, {20000, 10}, {26999, 10}, {27000, 10},
        {90000, 10},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        uint64_t limit = pow10u(cases[k].max_digits);
        uint64_t top = pow10u(cases[k].max_digits - 1);
        uint64_t max_op = 0;
        int one_digit = 0;

        REQUIRE(tadd_data_train_batch(xa, ya, pa, &t, NULL, 99,
                                      cases[k].step, err, sizeof err) == 0);
        for (int i = 0; i < BATCH; i++) {
            uint64_t m = pa[i].a > pa[i].b ? pa[i].a : pa[i].b;
            if (m > max_op)
                max_op = m;
            if (m < 10)
                one_digit++;
        }
        if (max_op >= limit)
            fprintf(stderr, "step %ld: operand %llu >= 10^%d\n",
                    cases[k].step, (unsigned long long)max_op,
                    cases[k].max_digits);
        CHECK(max_op < limit);
        /* max_digits does occur: n = max in about 1/(max - min + 1) of
         * the samples, and then the operand has max digits 9 in 10. */
        CHECK(max_op >= top);
        /* min_digits occurs too: with n = 1 both operands are below 10. */
        CHECK(one_digit > 0);
    }

    /* A phase of exactly one width: every operand has at most that many
     * digits, and with 512 samples some have exactly that many. */
    t.n_phases = 1;
    t.curriculum[0] = (struct tadd_phase){4, 4, 10};
    REQUIRE(tadd_data_train_batch(xa, ya, pa, &t, NULL, 5, 0, err,
                                  sizeof err) == 0);
    int four = 0;
    for (int i = 0; i < BATCH; i++) {
        CHECK(pa[i].a < 10000 && pa[i].b < 10000);
        four += pa[i].a >= 1000;
    }
    CHECK(four > BATCH / 2);
}

static void test_batch_excludes_heldout(void)
{
    struct tadd_train_config t;
    struct tadd_pairset ex = {0};
    char err[TADD_ERR_LEN];

    /* Half of all one-digit pairs are held out, so a one-digit phase
     * collides about every other draw. */
    for (uint64_t a = 0; a < 10; a++)
        for (uint64_t b = 0; b < 10; b++)
            if ((a + b) % 2 == 0)
                REQUIRE(tadd_pairset_insert(&ex, a, b) == 1);
    memset(&t, 0, sizeof t);
    t.batch_size = BATCH;
    t.n_phases = 1;
    t.curriculum[0] = (struct tadd_phase){1, 1, 100};

    for (long step = 0; step < 20; step++) {
        int hits_without = 0;

        REQUIRE(tadd_data_train_batch(xa, ya, pa, &t, &ex, 3, step, err,
                                      sizeof err) == 0);
        for (int i = 0; i < BATCH; i++) {
            CHECK(pa[i].a < 10 && pa[i].b < 10);
            CHECK(!tadd_pairset_contains(&ex, pa[i].a, pa[i].b));
        }
        /* Without the exclusion the same step does draw held-out pairs,
         * so the redraw above really happened. */
        REQUIRE(tadd_data_train_batch(xb, yb, pb, &t, NULL, 3, step, err,
                                      sizeof err) == 0);
        for (int i = 0; i < BATCH; i++)
            hits_without += tadd_pairset_contains(&ex, pb[i].a, pb[i].b);
        CHECK(hits_without > BATCH / 4);
        /* The first sample is the same in both when it did not collide. */
        if (!tadd_pairset_contains(&ex, pb[0].a, pb[0].b))
            CHECK(pa[0].a == pb[0].a && pa[0].b == pb[0].b);
    }

    /* All one-digit pairs held out: the batch cannot be drawn. */
    for (uint64_t a = 0; a < 10; a++)
        for (uint64_t b = 0; b < 10; b++)
            REQUIRE(tadd_pairset_insert(&ex, a, b) >= 0);
    CHECK_INT_EQ(tadd_data_train_batch(xa, ya, pa, &t, &ex, 3, 0, err,
                                       sizeof err), -1);
    CHECK_STR_HAS(err, "held-out");

    /* The real held-out set (10-digit pairs) next to a 10-digit phase. */
    struct tadd_heldout h;
    REQUIRE(tadd_heldout_build(&h, 11, 5000, 10000, err, sizeof err) == 0);
    t.curriculum[0] = (struct tadd_phase){10, 10, 100};
    for (long step = 0; step < 50; step++) {
        REQUIRE(tadd_data_train_batch(xa, ya, pa, &t, &h.set, 11, step,
                                      err, sizeof err) == 0);
        for (int i = 0; i < BATCH; i++)
            CHECK(!tadd_heldout_contains(&h, pa[i].a, pa[i].b));
    }
    tadd_heldout_free(&h);
    tadd_pairset_free(&ex);
}

static void test_batch_bad_curriculum(void)
{
    struct tadd_train_config t;
    char err[TADD_ERR_LEN];

    set_curriculum(&t, 4);
    t.curriculum[1] = (struct tadd_phase){5, 3, 100};
    CHECK_INT_EQ(tadd_data_train_batch(xa, ya, NULL, &t, NULL, 1, 0, err,
                                       sizeof err), -1);
    CHECK_STR_HAS(err, "curriculum[1]");

    set_curriculum(&t, 4);
    t.curriculum[2].max_digits = 11;
    CHECK_INT_EQ(tadd_data_train_batch(xa, ya, NULL, &t, NULL, 1, 0, err,
                                       sizeof err), -1);
    CHECK_STR_HAS(err, "curriculum[2]");

    set_curriculum(&t, 4);
    t.n_phases = 0;
    CHECK_INT_EQ(tadd_data_train_batch(xa, ya, NULL, &t, NULL, 1, 0, err,
                                       sizeof err), -1);
    CHECK_STR_HAS(err, "0 phases");

    set_curriculum(&t, 0);
    CHECK_INT_EQ(tadd_data_train_batch(xa, ya, NULL, &t, NULL, 1, 0, err,
                                       sizeof err), -1);
    CHECK_STR_HAS(err, "batch_size 0");
}

static void test_eval_pairs(void)
{
    enum { N = 10000 };
    static struct tadd_pair e1[N], e2[N], e3[N];

    tadd_data_eval_pairs(e1, N, 41);
    tadd_data_eval_pairs(e2, N, 41);
    tadd_data_eval_pairs(e3, N, 100);
    CHECK(memcmp(e1, e2, sizeof e1) == 0);
    int same = 0, small = 0;
    for (int i = 0; i < N; i++) {
        CHECK(e1[i].a < TADD_OPERAND_LIMIT && e1[i].b < TADD_OPERAND_LIMIT);
        same += e1[i].a == e3[i].a && e1[i].b == e3[i].b;
        small += e1[i].a < 1000000000ULL;
    }
    CHECK_INT_EQ(same, 0);
    /* Uniform over 10 digits: about a tenth have a leading zero. */
    CHECK(small > N / 20 && small < N / 5);

    /* A shorter set is a prefix of a longer one from the same seed. */
    tadd_data_eval_pairs(e2, 100, 41);
    CHECK(memcmp(e1, e2, 100 * sizeof *e1) == 0);

    /* The eval stream is not the held-out stream of the same seed. */
    struct tadd_heldout h;
    char err[TADD_ERR_LEN];
    REQUIRE(tadd_heldout_build(&h, 41, 100, 0, err, sizeof err) == 0);
    CHECK(memcmp(h.pairs, e1, 100 * sizeof *e1) != 0);
    tadd_heldout_free(&h);
}

int main(void)
{
    test_encode_golden();
    test_encode_pairs();
    test_read_answer();
    test_pairset();
    test_heldout();
    test_phase_at();
    test_batch_deterministic();
    test_batch_curriculum();
    test_batch_excludes_heldout();
    test_batch_bad_curriculum();
    test_eval_pairs();
    CHECK_DONE();
}
