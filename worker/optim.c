#include "optim.h"

#include <assert.h>
#include <math.h>

double tadd_lr_schedule_at(const struct tadd_lr_schedule *sch, long step)
{
    double lr_min = sch->lr * sch->min_lr_ratio;

    if (step < sch->warmup_steps)
        return sch->lr * (double)(step + 1) / (double)sch->warmup_steps;
    if (step >= sch->train_steps)
        return lr_min;
    /* Here warmup <= step < train_steps, so the span is positive. */
    double span = (double)(sch->train_steps - sch->warmup_steps);
    double progress = (double)(step - sch->warmup_steps) / span;
    return lr_min + (sch->lr - lr_min) * 0.5 * (1.0 + cos(M_PI * progress));
}

double tadd_grad_norm(const float *g, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)g[i] * (double)g[i];
    return sqrt(sum);
}

double tadd_grad_clip(float *g, size_t n, double max_norm)
{
    double norm = tadd_grad_norm(g, n);
    double scale = max_norm / (norm + TADD_CLIP_EPS);

    if (scale < 1.0) {
        for (size_t i = 0; i < n; i++)
            g[i] = (float)((double)g[i] * scale);
    }
    return norm;
}

void tadd_adamw_init(struct tadd_adamw *opt, double weight_decay)
{
    opt->beta1 = TADD_ADAMW_BETA1;
    opt->beta2 = TADD_ADAMW_BETA2;
    opt->eps = TADD_ADAMW_EPS;
    opt->weight_decay = weight_decay;
}

void tadd_adamw_step(float *p, float *m, float *v, const float *g, size_t n,
                     const struct tadd_adamw *opt, double lr, long t)
{
    assert(t >= 1);
    double b1 = opt->beta1, b2 = opt->beta2;
    double bc1 = 1.0 - pow(b1, (double)t);
    double bc2_sqrt = sqrt(1.0 - pow(b2, (double)t));
    double decay = 1.0 - lr * opt->weight_decay;
    double step_size = lr / bc1;

    for (size_t i = 0; i < n; i++) {
        double gi = g[i];
        double pi = (double)p[i] * decay;
        double mi = b1 * (double)m[i] + (1.0 - b1) * gi;
        double vi = b2 * (double)v[i] + (1.0 - b2) * gi * gi;
        /* torch divides sqrt(v) by sqrt(1 - beta2^t) before adding eps. */
        double denom = sqrt(vi) / bc2_sqrt + opt->eps;
        m[i] = (float)mi;
        v[i] = (float)vi;
        p[i] = (float)(pi - step_size * mi / denom);
    }
}
