/*
 * The passes of model.h, each sent to the copy of the engine compiled for
 * the best instruction set this processor has (see model_internal.h).
 *
 * The AVX2 copy fuses multiply-adds, so its numbers differ from the
 * portable copy's in the last bits; each copy on its own gives the same
 * bits alone or in any pack, with any thread count. A resumed run goes on
 * with the copy that trained it (tadd_model_use_kernels), which keeps it
 * bit-identical to an uninterrupted one. TADD_KERNELS=generic in the
 * environment makes the processor count as having no AVX2, which is how
 * the tests reach the portable copy.
 */
#include "model_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum model_isa { ISA_GENERIC, ISA_AVX2 };

static const char *const isa_names[] = {"generic", "avx2-fma"};

static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static enum model_isa isa_best = ISA_GENERIC; /* what this processor has */
static enum model_isa isa_chosen = ISA_GENERIC;

static void choose_isa(void)
{
    const char *forced = getenv("TADD_KERNELS");

    if (forced && strcmp(forced, "generic") == 0)
        return;
#if defined(TADD_MODEL_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        isa_best = ISA_AVX2;
#endif
    isa_chosen = isa_best;
}

static enum model_isa isa(void)
{
    pthread_once(&isa_once, choose_isa);
    return isa_chosen;
}

const char *tadd_model_kernels(void)
{
    return isa_names[isa()];
}

int tadd_model_use_kernels(const char *name)
{
    isa();
    for (int i = 0; i <= (int)isa_best; i++)
        if (strcmp(name, isa_names[i]) == 0) {
            isa_chosen = (enum model_isa)i;
            return 0;
        }
    return -1;
}

double tadd_model_step(const struct tadd_model *m, struct tadd_workspace *ws,
                       const uint8_t *x, const int8_t *y, int B,
                       float *grads, float *logits)
{
#if defined(TADD_MODEL_AVX2)
    if (isa() == ISA_AVX2)
        return model_step_avx2(m, ws, x, y, B, grads, logits);
#endif
    return model_step_generic(m, ws, x, y, B, grads, logits);
}

double tadd_model_shard_grad(const struct tadd_model *m,
                             struct tadd_workspace *ws, const uint8_t *x,
                             const int8_t *y, int B,
                             const struct tadd_batch_plan *plan, int shard,
                             float *partial)
{
#if defined(TADD_MODEL_AVX2)
    if (isa() == ISA_AVX2)
        return model_shard_grad_avx2(m, ws, x, y, B, plan, shard, partial);
#endif
    return model_shard_grad_generic(m, ws, x, y, B, plan, shard, partial);
}

void tadd_model_argmax_answer(const struct tadd_model *m,
                              struct tadd_workspace *ws, const uint8_t *x,
                              int B, uint8_t *pred)
{
#if defined(TADD_MODEL_AVX2)
    if (isa() == ISA_AVX2) {
        model_argmax_answer_avx2(m, ws, x, B, pred);
        return;
    }
#endif
    model_argmax_answer_generic(m, ws, x, B, pred);
}

void tadd_model_greedy(const struct tadd_model *m, struct tadd_workspace *ws,
                       const uint8_t *prompt, int B, int n_new,
                       uint8_t *out)
{
#if defined(TADD_MODEL_AVX2)
    if (isa() == ISA_AVX2) {
        model_greedy_avx2(m, ws, prompt, B, n_new, out);
        return;
    }
#endif
    model_greedy_generic(m, ws, prompt, B, n_new, out);
}
