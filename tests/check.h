/*
 * Assertion macros for the project's tests. Each test program is one area;
 * a failed check prints the file, the line, the expression and both values,
 * and the program exits non-zero at the end (CHECK_DONE) or at once
 * (REQUIRE).
 */
#ifndef TADD_TESTS_CHECK_H
#define TADD_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK_FAIL_(...)                                                    \
    do {                                                                    \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                     \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        check_failures++;                                                   \
    } while (0)

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond))                                                        \
            CHECK_FAIL_("check failed: %s", #cond);                         \
    } while (0)

#define REQUIRE(cond)                                                       \
    do {                                                                    \
        if (!(cond)) {                                                      \
            CHECK_FAIL_("requirement failed: %s", #cond);                   \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                  \
    do {                                                                    \
        long long a_ = (long long)(a), b_ = (long long)(b);                 \
        if (a_ != b_)                                                       \
            CHECK_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);          \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                  \
    do {                                                                    \
        const char *a_ = (a), *b_ = (b);                                    \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                              \
            CHECK_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b,               \
                        a_ ? a_ : "(null)", b_ ? b_ : "(null)");            \
    } while (0)

/* Substring check, for error messages. */
#define CHECK_STR_HAS(hay, needle)                                          \
    do {                                                                    \
        const char *h_ = (hay), *n_ = (needle);                             \
        if (!h_ || !strstr(h_, n_))                                         \
            CHECK_FAIL_("%s contains %s: \"%s\" lacks \"%s\"", #hay,        \
                        #needle, h_ ? h_ : "(null)", n_);                   \
    } while (0)

/* |a - b| <= abs_tol + rel_tol * |b| */
#define CHECK_NEAR(a, b, abs_tol, rel_tol)                                  \
    do {                                                                    \
        double a_ = (double)(a), b_ = (double)(b);                          \
        if (!(fabs(a_ - b_) <= (abs_tol) + (rel_tol) * fabs(b_)))           \
            CHECK_FAIL_("%s ~ %s: %.9g vs %.9g (diff %.3g)", #a, #b, a_,    \
                        b_, fabs(a_ - b_));                                 \
    } while (0)

#define CHECK_DONE()                                                        \
    do {                                                                    \
        if (check_failures) {                                               \
            fprintf(stderr, "%d check(s) failed\n", check_failures);        \
            return 1;                                                       \
        }                                                                   \
        return 0;                                                           \
    } while (0)

#endif
