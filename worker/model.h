/*
 * The decoder-only transformer of SPEC section 2, for one model.
 *
 * Dimension letters used in shape comments:
 *   B batch, T context (33), V vocabulary (14), C d_model, F d_ff,
 *   H n_head, R a rank, P answer positions (12), L n_layer.
 *
 * A model's trainable parameters are one float array carved by a size table
 * of named tensors (the SPEC section 6 names, for example
 * "blocks.0.mlp.fc1.A"); the fixed, never-trained W_fixed terms live in a
 * second array with their own table entries. Gradients and optimizer
 * moments reuse the trainable layout.
 *
 * The forward pass first folds every parametrisation (low-rank factors,
 * fixed terms, the shared-A tied qkv, the low-rank positional embedding)
 * into dense effective weights, and the backward pass maps the effective
 * weights' gradients back onto the factors.
 *
 * Nothing here allocates during a step, prints, or keeps global state: a
 * model and its workspace belong to one thread at a time.
 */
#ifndef TADD_MODEL_H
#define TADD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rng.h"

#define TADD_TENSOR_NAME_LEN 64

struct tadd_tensor_info {
    char name[TADD_TENSOR_NAME_LEN]; /* SPEC section 6 name */
    int ndim;                        /* 1 or 2 */
    int64_t shape[2];
    size_t offset; /* in floats, into params (trainable) or fixed */
    size_t numel;
    int trainable; /* 0 for W_fixed */
};

struct tadd_model {
    struct tadd_model_config cfg;
    int n_tensors;
    struct tadd_tensor_info *tensors; /* trainable first, then fixed */
    size_t n_params;                  /* trainable floats */
    size_t n_fixed;                   /* W_fixed floats */
    float *params;                    /* (n_params) */
    float *fixed;                     /* (n_fixed) */
};

/* Opaque per-thread scratch: activations, effective weights, gradients of
 * the effective weights, for batches of up to max_batch sequences. Batches
 * are processed in fixed-size chunks, so its size does not grow with
 * max_batch; one workspace serves any model of its config. */
struct tadd_workspace;

/* Trainable scalars of a config (SPEC section 2's count); cannot fail for a
 * validated config. */
size_t tadd_model_param_count(const struct tadd_model_config *cfg);

/*
 * Builds the size table and allocates zeroed params and fixed arrays.
 * Returns 0, or -1 on OOM (m is then empty). cfg must be validated.
 */
int tadd_model_create(struct tadd_model *m,
                      const struct tadd_model_config *cfg);
void tadd_model_destroy(struct tadd_model *m);

/* The table entry of that name, or NULL. */
const struct tadd_tensor_info *tadd_model_find(const struct tadd_model *m,
                                               const char *name);

/* Pointer to a tensor's data in params or fixed. */
float *tadd_model_tensor_data(struct tadd_model *m,
                              const struct tadd_tensor_info *t);

/*
 * SPEC section 2's initialisation, drawing normals from r in table order
 * (every trainable tensor, then every fixed one, each row-major; the
 * order itself is listed at the top of model.c). Norm weights (1) and
 * biases (0) are constants and draw nothing.
 */
void tadd_model_init(struct tadd_model *m, struct tadd_rng *r);

/* A workspace for models of cfg; NULL on OOM. */
struct tadd_workspace *tadd_workspace_new(const struct tadd_model_config *cfg,
                                          int max_batch);
void tadd_workspace_free(struct tadd_workspace *ws);

/*
 * Forward and backward on a batch of B <= max_batch sequences.
 *   x      (B, T) input ids
 *   y      (B, T) label ids, negative where ignored
 *   grads  (n_params) overwritten with d(mean loss)/d(params); may be NULL
 *          for a forward pass only
 *   logits (B, T, V) written when not NULL
 * Returns the mean cross-entropy over the labelled positions.
 */
double tadd_model_step(const struct tadd_model *m, struct tadd_workspace *ws,
                       const uint8_t *x, const int8_t *y, int B,
                       float *grads, float *logits);

/*
 * A training batch is cut into shards of TADD_MODEL_SHARD_SEQS sequences,
 * the last one shorter when B is not a multiple. Each shard's gradient is
 * summed on its own and the shards' sums are then added in shard order.
 * The cut depends on B alone, so the gradient is the same whether one
 * thread computes every shard (tadd_model_step) or several threads share
 * them (tadd_model_shard_grad, then tadd_model_shard_sum): this is how a
 * pack of fewer models than threads keeps every thread busy.
 */
#define TADD_MODEL_SHARD_SEQS 256

/* Shards of a batch of B sequences. */
int tadd_model_shard_count(int B);

/* What every shard needs to know of the whole batch: the positions where
 * some sequence has a label, and how many labels it has. */
struct tadd_batch_plan {
    int nq;
    int qpos[TADD_CONTEXT]; /* (nq), ascending */
    long count;
};

/* The plan of the labels y (B, T), negative where ignored. */
void tadd_model_plan_batch(struct tadd_batch_plan *plan, const int8_t *y,
                           int B);

/* Floats of one shard's partial gradient for workspaces like ws. */
size_t tadd_model_shard_floats(const struct tadd_workspace *ws);

/*
 * Forward and backward of shard `shard` of the batch (x, y, B as for
 * tadd_model_step, plan its plan): partial (shard_floats) gets its
 * sequences' share of the gradient of the batch's mean loss, in the
 * workspace's own layout. Returns their share of the mean loss. Touches
 * only ws and partial, so shards of one model may run at once on separate
 * workspaces.
 */
double tadd_model_shard_grad(const struct tadd_model *m,
                             struct tadd_workspace *ws, const uint8_t *x,
                             const int8_t *y, int B,
                             const struct tadd_batch_plan *plan, int shard,
                             float *partial);

/*
 * grads (n_params) = d(mean loss)/d(params) from the n shards' partials,
 * laid one after another in partials (n * shard_floats), and their loss
 * shares; returns the mean loss. The same bits as tadd_model_step.
 */
double tadd_model_shard_sum(const struct tadd_model *m,
                            struct tadd_workspace *ws, const float *partials,
                            const double *shares, int n, float *grads);

/*
 * Teacher-forced argmax at the 12 answer positions, for evaluation.
 *   x     (B, T) input ids (prompt and the true answer)
 *   pred  (B, P) argmax ids at positions 21..32
 */
void tadd_model_argmax_answer(const struct tadd_model *m,
                              struct tadd_workspace *ws, const uint8_t *x,
                              int B, uint8_t *pred);

/*
 * Greedy decoding of n_new <= 12 tokens after each 22-token prompt, one
 * position at a time over a key/value cache; ties go to the lowest id.
 *   prompt (B, 22) ids
 *   out    (B, n_new) generated ids
 */
void tadd_model_greedy(const struct tadd_model *m, struct tadd_workspace *ws,
                       const uint8_t *prompt, int B, int n_new,
                       uint8_t *out);

/* The engine copy the passes run on: "avx2-fma" or "generic" (forced by
 * TADD_KERNELS=generic in the environment). The copies differ in the
 * rounding of multiply-adds; each is deterministic on its own. */
const char *tadd_model_kernels(void);

/* Runs the passes on the copy named (as tadd_model_kernels says it) from
 * now on, before any pass runs concurrently. Returns 0, or -1 when this
 * processor lacks that copy, which then stays unchanged. */
int tadd_model_use_kernels(const char *name);

#endif
