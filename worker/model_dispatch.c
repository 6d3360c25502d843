/*
 * The passes of model.h, each sent to the copy of the engine compiled for
 * the best instruction set this processor has (see model_internal.h).
 *
 * The copies compute the same bits, so the choice changes speed only; a
 * checkpoint or a resumed run does not depend on the machine's vector
 * units. TADD_KERNELS=generic in the environment forces the portable
 * copy, which is how the tests compare the two.
 */
#include "model_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum model_isa { ISA_GENERIC, ISA_AVX2 };

static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static enum model_isa isa_chosen = ISA_GENERIC;

static void choose_isa(void)
{
    const char *forced = getenv("TADD_KERNELS");

    if (forced && strcmp(forced, "generic") == 0)
        return;
#if defined(TADD_MODEL_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        isa_chosen = ISA_AVX2;
#endif
}

static enum model_isa isa(void)
{
    pthread_once(&isa_once, choose_isa);
    return isa_chosen;
}

const char *tadd_model_kernels(void)
{
    return isa() == ISA_AVX2 ? "avx2" : "generic";
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
