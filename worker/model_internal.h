/*
 * Inside the transformer engine: the workspace, the dense effective weights
 * of a step and the kernels. Private to worker/model*.c.
 *
 * A batch is processed in chunks of MODEL_LANES sequences. Every activation
 * of a chunk is stored feature-major with the chunk's sequences innermost:
 * element (feature f, position t, sequence s) of a tensor with n positions
 * is lane s of the lane vector at index f * n + t. Every kernel then works
 * on whole lane vectors, one value per sequence, so all arithmetic is
 * vectorised without ever summing across lanes (which would make results
 * depend on the vector width); the only cross-lane sums, those of weight
 * gradients, are done lane by lane in a fixed order.
 *
 * Dimension letters as in model.h, plus N for the positions of a call
 * (the rows whose keys and values are computed) and Q for the query
 * positions of a layer (all N positions except in the last layer).
 */
#ifndef TADD_MODEL_INTERNAL_H
#define TADD_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define MODEL_LANES 16

/* One value per sequence of a chunk: the storage unit of activations. */
typedef float lanes_t __attribute__((vector_size(MODEL_LANES * 4)));

/*
 * The kernels compute on the target's native vectors, MODEL_NV of them per
 * lane vector: a 64-byte generic vector would live in memory on SSE. Lanes
 * never mix, so results do not depend on the native width.
 */
#if defined(__AVX__)
#define MODEL_VW 8
#else
#define MODEL_VW 4
#endif
#define MODEL_NV (MODEL_LANES / MODEL_VW)
typedef float vf_t __attribute__((vector_size(MODEL_VW * 4)));
typedef int32_t vi_t __attribute__((vector_size(MODEL_VW * 4)));

/* The dense weights a step runs on: pointers into the model's params for
 * full-rank tensors, into the workspace for folded ones. */
struct model_eff_layer {
    const float *ln1_w, *ln1_b; /* (C), bias NULL for rmsnorm */
    const float *ln2_w, *ln2_b; /* (C) */
    const float *qkv;           /* (C, 3C) */
    const float *proj;          /* (C, C) */
    const float *fc1;           /* (C, F) */
    const float *fc2;           /* (F, C) */
};

struct model_eff {
    const float *tok;             /* (V, C) embedding and output head */
    const float *pos;             /* (T, C) */
    const float *lnf_w, *lnf_b;   /* (C) */
    struct model_eff_layer *layer; /* (L) */
};

/*
 * Gradients of the dense weights, all inside one float region. While a
 * batch runs, each float has a lane vector in grad_lanes at the same
 * index, holding its sums lane by lane: sequence s of every chunk adds
 * into lane s, and the lanes are summed in order once, at the end of the
 * batch. Summing across lanes once per chunk cost a serial chain of adds
 * per weight and chunk. The token embedding's lookup gradient is the one
 * exception: its sums sit in tok_rows, one row per sequence lane and
 * token, which the lookup's scattered adds reach as whole vectors; they
 * are summed over the lanes in the same order.
 */
struct model_grad_layer {
    float *ln1_w, *ln1_b, *ln2_w, *ln2_b; /* (C) */
    float *qkv;                           /* (C, 3C) */
    float *proj;                          /* (C, C) */
    float *fc1;                           /* (C, F) */
    float *fc2;                           /* (F, C) */
};

struct model_grad {
    float *tok_emb;  /* (V, C) from the embedding lookup */
    float *tok_head; /* (V, C) from the tied output head */
    float *pos;      /* (T, C) */
    float *lnf_w, *lnf_b;
    struct model_grad_layer *layer; /* (L) */
};

/* Activations of one block for one chunk, in lane vectors. The x of block
 * l + 1 is the out of block l. */
struct model_act {
    lanes_t *x;     /* (C, N) block input */
    lanes_t *xhat1; /* (C, N) normalised input */
    lanes_t *rstd1; /* (N) */
    lanes_t *u;     /* (C, N) norm1 output */
    lanes_t *kv;    /* (2C, T) keys then values: the cache across calls */
    lanes_t *uq;    /* (C, Q) u at the query positions, when gathered */
    lanes_t *xq;    /* (C, Q) x at the query positions, when gathered */
    const lanes_t *uq_use, *xq_use; /* uq/xq, or u/x when Q is all of N */
    lanes_t *q;     /* (C, Q) */
    lanes_t *att;   /* (H, Q, T) attention probabilities */
    lanes_t *o;     /* (C, Q) heads concatenated */
    lanes_t *a;     /* (C, Q) x + proj(o) */
    lanes_t *xhat2; /* (C, Q) */
    lanes_t *rstd2; /* (Q) */
    lanes_t *h;     /* (C, Q) norm2 output */
    lanes_t *g;     /* (F, Q) gelu(fc1(h)) */
    lanes_t *gd;    /* (F, Q) gelu'(fc1(h)) */
};

struct tadd_workspace {
    struct tadd_model_config cfg;
    int max_batch;
    void *block; /* the one allocation everything below is carved from */

    /* Folded weights of the model of the current call. */
    float *pos_store;          /* (T, C) low-rank positional embedding */
    float *lin_store;          /* per layer (C,3C) (C,C) (C,F) (F,C) */
    struct model_eff eff;
    struct model_eff_layer *eff_layers;

    struct model_grad grad;
    float *grad_store;   /* every float of grad */
    lanes_t *grad_lanes; /* (grad_floats) the per-lane sums of a batch */
    float *tok_rows;     /* (LANES, V, C) those of token_emb, by rows */
    size_t grad_floats;
    float *shard_partial; /* (grad_floats) one shard's sums, see model.h */

    /* The chunk: token ids and labels, (T, LANES) each. */
    uint8_t *ids;
    int8_t *labels; /* per query position, negative where ignored */

    struct model_act *act; /* (L) */
    lanes_t **x;           /* (L + 1) block inputs; x[L] the output */
    lanes_t *xhatf, *rstdf, *nf; /* final norm: (C, Q), (Q), (C, Q) */
    lanes_t *logits;             /* (V, Q) */
    lanes_t *dlogits;            /* (V, Q) */

    /* Backward scratch, shared by the blocks. */
    lanes_t *dx;   /* (C, T) gradient of a block's output */
    lanes_t *dxin; /* (C, T) gradient of a block's input */
    lanes_t *da;   /* (C, T) */
    lanes_t *dg;   /* (F, T) */
    lanes_t *dh;   /* (C, T) */
    lanes_t *dout; /* (C, T) gradient of the attention output */
    lanes_t *dq;   /* (C, T) */
    lanes_t *dkv;  /* (2C, T) */
    lanes_t *du;   /* (C, T) */
    lanes_t *duq;  /* (C, T) */
    lanes_t *ds;   /* (H, Q, T) score gradients */
};

/*
 * The kernels and the passes over a batch (model_kernels.c, model_step.c)
 * are compiled once for each instruction set the build targets, with
 * MODEL_ISA_SUFFIX naming the copy; model_dispatch.c picks one at run
 * time. The vector width never changes results (see MODEL_VW above);
 * fused multiply-adds do: the AVX2 copy is built with FMA and its kernels
 * round each multiply-add once, the portable copy twice.
 */
#ifndef MODEL_ISA_SUFFIX
#define MODEL_ISA_SUFFIX _generic
#endif
#define MODEL_PASTE2(a, b) a##b
#define MODEL_PASTE(a, b) MODEL_PASTE2(a, b)
#define MODEL_ISA(name) MODEL_PASTE(name, MODEL_ISA_SUFFIX)

#define mk_linear MODEL_ISA(mk_linear)
#define mk_linear_backward_weight MODEL_ISA(mk_linear_backward_weight)
#define mk_norm_forward MODEL_ISA(mk_norm_forward)
#define mk_norm_backward MODEL_ISA(mk_norm_backward)
#define mk_gelu_forward MODEL_ISA(mk_gelu_forward)
#define mk_attention_forward MODEL_ISA(mk_attention_forward)
#define mk_attention_backward MODEL_ISA(mk_attention_backward)
#define mk_cross_entropy MODEL_ISA(mk_cross_entropy)

/* The passes (model_step.c), one copy per instruction set; model.h's
 * tadd_model_step, tadd_model_shard_grad, tadd_model_argmax_answer and
 * tadd_model_greedy call the chosen copy with the same arguments. */
#define MODEL_PASSES(sfx)                                                    \
    double model_step##sfx(const struct tadd_model *m,                       \
                           struct tadd_workspace *ws, const uint8_t *x,      \
                           const int8_t *y, int B, float *grads,             \
                           float *logits);                                   \
    double model_shard_grad##sfx(const struct tadd_model *m,                 \
                                 struct tadd_workspace *ws,                  \
                                 const uint8_t *x, const int8_t *y, int B,   \
                                 const struct tadd_batch_plan *plan,         \
                                 int shard, float *partial);                 \
    void model_argmax_answer##sfx(const struct tadd_model *m,                \
                                  struct tadd_workspace *ws,                 \
                                  const uint8_t *x, int B, uint8_t *pred);   \
    void model_greedy##sfx(const struct tadd_model *m,                       \
                           struct tadd_workspace *ws, const uint8_t *prompt, \
                           int B, int n_new, uint8_t *out);
MODEL_PASSES(_generic)
MODEL_PASSES(_avx2)

/* Kernels (model_kernels.c). ld* are feature strides in lane vectors. */

/*
 * out[m * ldo + t] (+)= sum_k w[k * wsk + m * wsm] * in[k * ldi + t]
 * for m < M, t < n; the sum runs over k in order and is then added to out
 * when accumulate is set.
 */
void mk_linear(lanes_t *out, size_t ldo, const lanes_t *in, size_t ldi,
               const float *w, size_t wsk, size_t wsm, int K, int M, int n,
               int accumulate);

/* dw[k * dsk + m * dsm] += sum over t < n of in[k * ldi + t] *
 * dout[m * ldo + t], lane by lane. */
void mk_linear_backward_weight(lanes_t *dw, size_t dsk, size_t dsm,
                               const lanes_t *in, size_t ldi,
                               const lanes_t *dout, size_t ldo, int K, int M,
                               int n);

/* Layernorm (b non-NULL) or rmsnorm over the C features of n positions:
 * out, xhat (C, n), rstd (n) from x (C, n). */
void mk_norm_forward(lanes_t *out, lanes_t *xhat, lanes_t *rstd,
                     const lanes_t *x, const float *w, const float *b, int C,
                     int n);

/* dx (C, n) += the input gradient; dw, db (C) += the weight gradients,
 * lane by lane. db is NULL exactly for rmsnorm, which has no bias and no
 * mean. */
void mk_norm_backward(lanes_t *dx, lanes_t *dw, lanes_t *db,
                      const lanes_t *dy,
                      const lanes_t *xhat, const lanes_t *rstd,
                      const float *w, int C, int n);

/* g = gelu(z) in place over count lane vectors; gd = gelu'(z) when
 * non-NULL. */
void mk_gelu_forward(lanes_t *z_g, lanes_t *gd, size_t count);

/*
 * Causal attention of H heads for the queries q (C, nq) at the absolute
 * positions qpos (nq), over keys and values kv (2C, T) at positions up to
 * each query's own. att (H, nq, T) gets the probabilities, o (C, nq) the
 * concatenated head outputs.
 */
void mk_attention_forward(lanes_t *o, lanes_t *att, const lanes_t *q,
                          const lanes_t *kv, const int *qpos, int nq, int C,
                          int H);

/* dq (C, nq) written, dkv (2C, T) accumulated; ds (H, nq, T) scratch.
 * qpos must ascend. */
void mk_attention_backward(lanes_t *dq, lanes_t *dkv, lanes_t *ds,
                           const lanes_t *dout, const lanes_t *att,
                           const lanes_t *q, const lanes_t *kv,
                           const int *qpos, int nq, int C, int H);

/*
 * Cross-entropy of logits (V, nq) against labels (nq, LANES), negative
 * where ignored. dlogits (V, nq) gets scale * d(sum of losses)/d(logits),
 * zero at ignored places. Returns the sum of the losses.
 */
double mk_cross_entropy(lanes_t *dlogits, const lanes_t *logits,
                        const int8_t *labels, int nq, int V, float scale);

/* Shards (model_shards.c). */

/* acc (n) = part when first, else acc + part, float by float: the one
 * way shard sums are added, whoever adds them. */
void model_shards_add(float *acc, const float *part, size_t n, int first);

/* Folding (model_fold.c). */

/* Floats of ws->lin_store that a config needs. */
size_t model_fold_store_floats(const struct tadd_model_config *cfg);

/* Points ws->eff at m's weights, folding every factored tensor. */
void model_fold(const struct tadd_model *m, struct tadd_workspace *ws);

/* Maps ws->grad onto grads (n_params), laid out like m->params. */
void model_unfold_grads(const struct tadd_model *m,
                        const struct tadd_workspace *ws, float *grads);

#endif
