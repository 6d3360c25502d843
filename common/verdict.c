/*
 * SPEC section 4's comparison rules; see verdict.h.
 */
#include "verdict.h"

#include <math.h>
#include <stdio.h>

#define RULE_LEN 200

/* <0, 0, >0 as k1/n1 is below, equal to, above k2/n2 (n1, n2 > 0). */
static int verdict_rate_cmp(int k1, int n1, int k2, int n2)
{
    long long a = (long long)k1 * n2, b = (long long)k2 * n1;
    return (a > b) - (a < b);
}

static const char *verdict_cmp_sign(int c, const char *less,
                                    const char *equal, const char *more)
{
    return c < 0 ? less : c == 0 ? equal : more;
}

/* Rule 1: fewer params and rate > 0.5. Returns 1 when it passes. */
static int verdict_rule1(const struct tadd_verdict_input *c,
                         const struct tadd_verdict_input *b, char *s)
{
    if (c->params >= b->params) {
        snprintf(s, RULE_LEN, "rule 1: %ld params, not fewer than %ld",
                 c->params, b->params);
        return 0;
    }
    double rate = (double)c->k / c->n;
    /* 2k > n is rate > 0.5 without rounding. */
    int pass = 2LL * c->k > c->n;
    snprintf(s, RULE_LEN, "rule 1: %ld < %ld params %s rate %d/%d = %.2f %s",
             c->params, b->params, pass ? "and" : "but", c->k, c->n, rate,
             pass ? "> 0.5" : "<= 0.5");
    return pass;
}

/* Rule 2: same params and a higher rate. */
static int verdict_rule2(const struct tadd_verdict_input *c,
                         const struct tadd_verdict_input *b, char *s)
{
    if (c->params != b->params) {
        snprintf(s, RULE_LEN, "rule 2: %ld params, not the same as %ld",
                 c->params, b->params);
        return 0;
    }
    int cmp = verdict_rate_cmp(c->k, c->n, b->k, b->n);
    snprintf(s, RULE_LEN, "rule 2: same %ld params %s rate %d/%d %s %d/%d",
             c->params, cmp > 0 ? "and" : "but", c->k, c->n,
             verdict_cmp_sign(cmp, "<", "=", ">"), b->k, b->n);
    return cmp > 0;
}

/* Rule 3: same params, same rate, less median time to success. */
static int verdict_rule3(const struct tadd_verdict_input *c,
                         const struct tadd_verdict_input *b, char *s)
{
    if (c->params != b->params) {
        snprintf(s, RULE_LEN, "rule 3: %ld params, not the same as %ld",
                 c->params, b->params);
        return 0;
    }
    if (verdict_rate_cmp(c->k, c->n, b->k, b->n) != 0) {
        snprintf(s, RULE_LEN, "rule 3: rate %d/%d, not the same as %d/%d",
                 c->k, c->n, b->k, b->n);
        return 0;
    }
    /* Same rate with a baseline of no success means neither succeeded. */
    if (b->k == 0) {
        snprintf(s, RULE_LEN,
                 "rule 3: same rate %d/%d but the baseline has no success,"
                 " so there is no time to success to compare", c->k, c->n);
        return 0;
    }
    if (isnan(c->median_seconds) || isnan(b->median_seconds)) {
        snprintf(s, RULE_LEN,
                 "rule 3: same rate %d/%d but the %s time to success is "
                 "unknown", c->k, c->n,
                 isnan(c->median_seconds) ? "config's" : "baseline's");
        return 0;
    }
    int cmp = (c->median_seconds > b->median_seconds) -
              (c->median_seconds < b->median_seconds);
    snprintf(s, RULE_LEN,
             "rule 3: same %ld params, same rate %d/%d %s median time to "
             "success %.1f s %s %.1f s", c->params, c->k, c->n,
             cmp < 0 ? "and" : "but", c->median_seconds,
             verdict_cmp_sign(cmp, "<", "=", ">"), b->median_seconds);
    return cmp < 0;
}

/* A verdict that no rule can be applied to, for the reason given. */
static void verdict_unjudged(struct tadd_verdict *out, const char *why)
{
    out->result = TADD_VERDICT_FAIL;
    out->rule = 0;
    snprintf(out->reason, sizeof out->reason, "no rule applies: %s", why);
}

void tadd_verdict_judge(struct tadd_verdict *out,
                        const struct tadd_verdict_input *cfg,
                        const struct tadd_verdict_input *base)
{
    const char *unjudged = NULL;
    if (cfg->n <= 0)
        unjudged = "the config has no trials";
    else if (base->n <= 0)
        unjudged = "the baseline has no trials";
    else if (cfg->params <= 0)
        unjudged = "the config's params are unknown";
    else if (base->params <= 0)
        unjudged = "the baseline's params are unknown";
    if (unjudged) {
        verdict_unjudged(out, unjudged);
        return;
    }

    int (*const rules[3])(const struct tadd_verdict_input *,
                          const struct tadd_verdict_input *, char *) = {
        verdict_rule1, verdict_rule2, verdict_rule3,
    };
    char why[3][RULE_LEN];
    for (int i = 0; i < 3; i++) {
        if (rules[i](cfg, base, why[i])) {
            out->result = TADD_VERDICT_PASS;
            out->rule = i + 1;
            snprintf(out->reason, sizeof out->reason, "%s", why[i]);
            return;
        }
    }
    out->result = TADD_VERDICT_FAIL;
    out->rule = 0;
    snprintf(out->reason, sizeof out->reason, "%s; %s; %s", why[0], why[1],
             why[2]);
}

void tadd_verdict_set_baseline(struct tadd_verdict *out)
{
    out->result = TADD_VERDICT_BASELINE;
    out->rule = 0;
    snprintf(out->reason, sizeof out->reason, "baseline");
}

void tadd_verdict_set_none(struct tadd_verdict *out)
{
    out->result = TADD_VERDICT_NONE;
    out->rule = 0;
    snprintf(out->reason, sizeof out->reason, "no baseline in this sweep");
}

const char *tadd_verdict_result_name(enum tadd_verdict_result r)
{
    switch (r) {
    case TADD_VERDICT_NONE: return "none";
    case TADD_VERDICT_BASELINE: return "baseline";
    case TADD_VERDICT_PASS: return "pass";
    case TADD_VERDICT_FAIL: return "fail";
    }
    return "?";
}
