/*
 * Transposing a square block of native vectors, for the passes that move
 * data between the lane layout (one value per sequence in a vector) and
 * rows (one sequence's features in a vector): the embedding lookup and
 * its gradient. Only moves bits, so it never changes a result.
 * Private to worker/model*.c.
 */
#ifndef TADD_MODEL_TRANSPOSE_H
#define TADD_MODEL_TRANSPOSE_H

#include "model_internal.h"

/* Loops over the vectors of a block, unrolled so that they stay in
 * registers. */
#define MODEL_UNROLL _Pragma("GCC unroll 8")

#define MODEL_SHUFFLE(a, b, ...) \
    __builtin_shuffle((a), (b), (vi_t){__VA_ARGS__})

/* r[i][j] becomes r[j][i] for i, j < MODEL_VW. */
static inline void model_transpose(vf_t r[MODEL_VW])
{
#if MODEL_VW == 8
    vf_t t[8], u[8];

    /* Pairs of rows interleaved, then pairs of pairs, then the halves. */
    MODEL_UNROLL for (int i = 0; i < 8; i += 2) {
        t[i] = MODEL_SHUFFLE(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = MODEL_SHUFFLE(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    MODEL_UNROLL for (int i = 0; i < 8; i += 4)
        MODEL_UNROLL for (int k = 0; k < 2; k++) {
            u[i + 2 * k] = MODEL_SHUFFLE(t[i + k], t[i + k + 2], 0, 1, 8, 9,
                                         4, 5, 12, 13);
            u[i + 2 * k + 1] = MODEL_SHUFFLE(t[i + k], t[i + k + 2], 2, 3,
                                             10, 11, 6, 7, 14, 15);
        }
    MODEL_UNROLL for (int k = 0; k < 4; k++) {
        r[k] = MODEL_SHUFFLE(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[k + 4] = MODEL_SHUFFLE(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
#elif MODEL_VW == 4
    vf_t t[4];

    MODEL_UNROLL for (int i = 0; i < 4; i += 2) {
        t[i] = MODEL_SHUFFLE(r[i], r[i + 1], 0, 4, 1, 5);
        t[i + 1] = MODEL_SHUFFLE(r[i], r[i + 1], 2, 6, 3, 7);
    }
    MODEL_UNROLL for (int k = 0; k < 2; k++) {
        r[2 * k] = MODEL_SHUFFLE(t[k], t[k + 2], 0, 1, 4, 5);
        r[2 * k + 1] = MODEL_SHUFFLE(t[k], t[k + 2], 2, 3, 6, 7);
    }
#else
#error "model_transpose: no block for this vector width"
#endif
}

#endif
