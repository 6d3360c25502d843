/*
 * The optimizer of SPEC section 3, for one model: the learning-rate
 * schedule, global-norm gradient clipping and AdamW as torch.optim.AdamW
 * computes it.
 *
 * Everything works on plain float arrays of n elements laid out like the
 * model's trainable parameters (params, grads and both moments share one
 * layout), so one call covers a whole model. Arithmetic is done in double
 * and stored as float, one element after the other in index order, with no
 * threads: the result depends only on the inputs.
 */
#ifndef TADD_OPTIM_H
#define TADD_OPTIM_H

#include <stddef.h>

#define TADD_ADAMW_BETA1 0.9
#define TADD_ADAMW_BETA2 0.999
#define TADD_ADAMW_EPS 1e-8

/* Added to the norm before dividing, as SPEC section 3 writes it. */
#define TADD_CLIP_EPS 1e-6

struct tadd_lr_schedule {
    double lr;           /* peak learning rate */
    long warmup_steps;   /* linear warmup length, 0 for none */
    long train_steps;    /* end of the cosine */
    double min_lr_ratio; /* floor as a fraction of lr */
};

/*
 * The learning rate at step s (counted from 0):
 *   s < warmup              lr * (s + 1) / warmup
 *   s >= train_steps        lr * min_lr_ratio
 *   otherwise               lr_min + (lr - lr_min) * (1 + cos(pi * p)) / 2
 *                           with p = (s - warmup) / (train_steps - warmup)
 * Cannot fail.
 */
double tadd_lr_schedule_at(const struct tadd_lr_schedule *sch, long step);

/* L2 norm of g (n), summed in double in index order. Cannot fail. */
double tadd_grad_norm(const float *g, size_t n);

/*
 * Scales g (n) in place by min(1, max_norm / (norm + 1e-6)).
 * Returns the norm before clipping. Cannot fail.
 */
double tadd_grad_clip(float *g, size_t n, double max_norm);

struct tadd_adamw {
    double beta1;
    double beta2;
    double eps;
    double weight_decay;
};

/* SPEC's betas and eps with the given weight decay. */
void tadd_adamw_init(struct tadd_adamw *opt, double weight_decay);

/*
 * One AdamW step, element by element:
 *   p -= lr * wd * p                          (decoupled weight decay)
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g * g
 *   p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 *
 *   p, m, v  (n) updated in place; m and v start at zero
 *   g        (n) the (clipped) gradient
 *   t        the step count, 1 for the first step
 * Cannot fail.
 */
void tadd_adamw_step(float *p, float *m, float *v, const float *g, size_t n,
                     const struct tadd_adamw *opt, double lr, long t);

#endif
