#include "train_step.h"

#include <math.h>

int tadd_train_step(const struct tadd_trainee *trainee,
                    const struct tadd_train_config *t, long step, double lr,
                    const struct tadd_step_scratch *scratch, double *loss,
                    double *grad_norm, char *err, size_t errlen)
{
    struct tadd_model *m = trainee->model;
    size_t n = m->n_params;

    if (tadd_data_train_batch(scratch->x, scratch->y, NULL, t,
                              trainee->exclude, trainee->seed, step, err,
                              errlen) != 0)
        return TADD_STEP_NO_BATCH;
    *loss = tadd_model_step(m, scratch->ws, scratch->x, scratch->y,
                            t->batch_size, trainee->grads, NULL);
    *grad_norm = isfinite(*loss)
                     ? tadd_grad_clip(trainee->grads, n, t->grad_clip)
                     : NAN;
    if (!isfinite(*loss) || !isfinite(*grad_norm))
        return TADD_STEP_DIVERGED;
    tadd_adamw_step(m->params, trainee->adam_m, trainee->adam_v,
                    trainee->grads, n, trainee->opt, lr, step + 1);
    return TADD_STEP_UPDATED;
}
