/*
 * The passes of the transformer over a batch: training step, teacher-forced
 * argmax and greedy decoding, each a loop over chunks of MODEL_LANES
 * sequences (padded with empty sequences at the end of the batch).
 *
 * A chunk's forward covers the positions [r0, r0 + N) of every block and
 * appends their keys and values to each block's cache; queries run at all
 * N positions except in the last block, which runs them only where an
 * output is wanted (the labelled positions of a training step, the answer
 * positions of an evaluation, the newest position while decoding). Keys
 * and values are still needed at every position, so the last block's
 * attention input is computed everywhere.
 *
 * Weight gradients are summed over a chunk before they are added to the
 * shard's, and over a shard before they are added to the batch's, which
 * keeps float sums short; chunks run in shard order and shards are added
 * in batch order, so the result depends only on the batch.
 */
#include "model_internal.h"
#include "model_transpose.h"

#include <assert.h>
#include <string.h>

#define L MODEL_LANES
#define T TADD_CONTEXT
#define V TADD_VOCAB

_Static_assert(T == 33, "positions_all lists 33 positions");

/* 0, 1, ..., T - 1: the query positions of a block that queries all. */
static const int *positions_all(void)
{
    static const int all[T] = {
        0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    };
    return all;
}

#define VW MODEL_VW
#define NV MODEL_NV

/* An unaligned native vector from or to floats. */
static inline vf_t load_vf(const float *p)
{
    vf_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store_vf(float *p, vf_t v)
{
    memcpy(p, &v, sizeof v);
}

/*
 * x (C, N) = token_emb[ids] + pos_emb at the positions [r0, r0 + N).
 * Each sequence's row of VW features is looked up and summed whole, and
 * VW such rows are transposed into the lane layout; features past the
 * last whole block go one value at a time.
 */
static void embed_forward(lanes_t *x_, const struct model_eff *e,
                          const uint8_t *ids, int C, int r0, int n)
{
    vf_t *x = (vf_t *)x_;
    const int cw = C / VW * VW;

    for (int i = 0; i < n; i++) {
        const uint8_t *id = ids + (size_t)(r0 + i) * L;
        const float *pos = e->pos + (size_t)(r0 + i) * C;
        for (int c0 = 0; c0 < cw; c0 += VW) {
            vf_t p = load_vf(pos + c0);
            for (int u = 0; u < NV; u++) {
                vf_t r[VW];
                MODEL_UNROLL for (int j = 0; j < VW; j++)
                    r[j] = load_vf(e->tok + (size_t)id[u * VW + j] * C + c0) +
                           p;
                model_transpose(r);
                MODEL_UNROLL for (int k = 0; k < VW; k++)
                    x[((size_t)(c0 + k) * n + i) * NV + u] = r[k];
            }
        }
        for (int s = 0; s < L; s++) {
            const float *tok = e->tok + (size_t)id[s] * C;
            for (int c = cw; c < C; c++)
                ((float *)&x_[c * n + i])[s] = tok[c] + pos[c];
        }
    }
}

/* The lane accumulators of the gradient floats at g (see model_grad). */
static lanes_t *grad_lanes(const struct tadd_workspace *ws, const float *g)
{
    return ws->grad_lanes + (g - ws->grad_store);
}

/*
 * The embedding gradients of a chunk: the positional one into its lane
 * accumulators, the token one into ws->tok_rows, where sequence s of
 * every chunk adds into row (s, id) as whole vectors of VW features,
 * transposed out of the lane layout.
 */
static void embed_backward(struct tadd_workspace *ws, const lanes_t *dx_,
                           const uint8_t *ids, int C)
{
    const vf_t *dx = (const vf_t *)dx_;
    lanes_t *gpos = grad_lanes(ws, ws->grad.pos);
    float *rows = ws->tok_rows;
    const int cw = C / VW * VW;

    for (int t = 0; t < T; t++) {
        const uint8_t *id = ids + (size_t)t * L;
        for (int c0 = 0; c0 < cw; c0 += VW)
            for (int u = 0; u < NV; u++) {
                vf_t r[VW];
                MODEL_UNROLL for (int k = 0; k < VW; k++)
                    r[k] = dx[((size_t)(c0 + k) * T + t) * NV + u];
                model_transpose(r);
                MODEL_UNROLL for (int j = 0; j < VW; j++) {
                    int s = u * VW + j;
                    float *row = rows + ((size_t)s * V + id[s]) * C + c0;
                    store_vf(row, load_vf(row) + r[j]);
                }
            }
        for (int c = cw; c < C; c++) {
            lanes_t d = dx_[c * T + t];
            for (int s = 0; s < L; s++)
                rows[((size_t)s * V + id[s]) * C + c] += d[s];
        }
        for (int c = 0; c < C; c++)
            for (int u = 0; u < NV; u++)
                ((vf_t *)gpos)[((size_t)t * C + c) * NV + u] +=
                    dx[((size_t)c * T + t) * NV + u];
    }
}

/* dst (grad_floats, laid out like grad_store) = the lanes of grad_lanes
 * summed in order, and the token embedding's from the rows of tok_rows,
 * summed in the same order. VW floats at a time are transposed so that
 * their sums run side by side. */
static void grad_reduce_lanes(const struct tadd_workspace *ws, float *dst)
{
    const size_t vc = (size_t)V * ws->cfg.d_model;
    const vf_t *lanes = (const vf_t *)ws->grad_lanes;
    float *tok_emb = dst + (ws->grad.tok_emb - ws->grad_store);
    size_t i = 0;

    for (; i + VW <= ws->grad_floats; i += VW) {
        vf_t r[NV][VW], sum;
        for (int u = 0; u < NV; u++) {
            MODEL_UNROLL for (int k = 0; k < VW; k++)
                r[u][k] = lanes[(i + k) * NV + u];
            model_transpose(r[u]);
        }
        /* r[u][j] holds lane u * VW + j of the VW floats. */
        sum = r[0][0];
        for (int s = 1; s < L; s++)
            sum += r[s / VW][s % VW];
        store_vf(dst + i, sum);
    }
    for (; i < ws->grad_floats; i++) {
        lanes_t v = ws->grad_lanes[i];
        float sum = v[0];
        for (int s = 1; s < L; s++)
            sum += v[s];
        dst[i] = sum;
    }
    for (size_t j = 0; j < vc; j++) {
        float sum = ws->tok_rows[j];
        for (int s = 1; s < L; s++)
            sum += ws->tok_rows[(size_t)s * vc + j];
        tok_emb[j] = sum;
    }
}

/* dst (C, nq) = src (C, n), src covering the positions from r0, at the
 * absolute positions qpos (nq). */
static void gather(lanes_t *dst, const lanes_t *src, const int *qpos,
                   int r0, int C, int n, int nq)
{
    for (int c = 0; c < C; c++)
        for (int p = 0; p < nq; p++)
            dst[c * nq + p] = src[c * n + qpos[p] - r0];
}

/* dst (C, n) += src (C, nq) at the positions qpos (nq), r0 = 0. */
static void scatter_add(lanes_t *dst, const lanes_t *src, const int *qpos,
                        int C, int n, int nq)
{
    for (int c = 0; c < C; c++)
        for (int p = 0; p < nq; p++)
            for (int u = 0; u < NV; u++)
                ((vf_t *)dst)[((size_t)c * n + qpos[p]) * NV + u] +=
                    ((const vf_t *)src)[((size_t)c * nq + p) * NV + u];
}

/*
 * Block l over the positions [r0, r0 + n), queries at qpos (nq), writing
 * the block's output (C, nq) into ws->x[l + 1].
 */
static void block_forward(struct tadd_workspace *ws, int l, int r0, int n,
                          const int *qpos, int nq, int need_grad)
{
    const struct tadd_model_config *cfg = &ws->cfg;
    const int C = cfg->d_model, F = cfg->d_ff, C3 = 3 * cfg->d_model;
    const struct model_eff_layer *w = &ws->eff.layer[l];
    struct model_act *a = &ws->act[l];
    lanes_t *out = ws->x[l + 1];

    mk_norm_forward(a->u, a->xhat1, a->rstd1, a->x, w->ln1_w, w->ln1_b, C,
                    n);
    /* Keys and values go into the cache at their absolute positions. */
    mk_linear(a->kv + r0, T, a->u, (size_t)n, w->qkv + C, (size_t)C3, 1, C,
              2 * C, n, 0);
    if (nq == n) {
        a->uq_use = a->u;
        a->xq_use = a->x;
    } else {
        gather(a->uq, a->u, qpos, r0, C, n, nq);
        gather(a->xq, a->x, qpos, r0, C, n, nq);
        a->uq_use = a->uq;
        a->xq_use = a->xq;
    }
    mk_linear(a->q, (size_t)nq, a->uq_use, (size_t)nq, w->qkv, (size_t)C3, 1,
              C, C, nq, 0);
    mk_attention_forward(a->o, a->att, a->q, a->kv, qpos, nq, C,
                         cfg->n_head);
    memcpy(a->a, a->xq_use, (size_t)C * nq * sizeof(lanes_t));
    mk_linear(a->a, (size_t)nq, a->o, (size_t)nq, w->proj, (size_t)C, 1, C,
              C, nq, 1);
    mk_norm_forward(a->h, a->xhat2, a->rstd2, a->a, w->ln2_w, w->ln2_b, C,
                    nq);
    mk_linear(a->g, (size_t)nq, a->h, (size_t)nq, w->fc1, (size_t)F, 1, C, F,
              nq, 0);
    mk_gelu_forward(a->g, need_grad ? a->gd : NULL, (size_t)F * nq);
    memcpy(out, a->a, (size_t)C * nq * sizeof(lanes_t));
    mk_linear(out, (size_t)nq, a->g, (size_t)nq, w->fc2, (size_t)C, 1, F, C,
              nq, 1);
}

/*
 * Forward of the chunk in ws->ids over the positions [r0, r0 + n), the
 * last block querying at qpos (nq). Leaves logits (V, nq).
 */
static void chunk_forward(struct tadd_workspace *ws, int r0, int n,
                          const int *qpos, int nq, int need_grad)
{
    const struct tadd_model_config *cfg = &ws->cfg;
    const int C = cfg->d_model, nl = cfg->n_layer;
    const int *all = positions_all() + r0;
    const struct model_eff *e = &ws->eff;

    embed_forward(ws->x[0], e, ws->ids, C, r0, n);
    for (int l = 0; l < nl; l++) {
        int last = l == nl - 1;
        block_forward(ws, l, r0, n, last ? qpos : all, last ? nq : n,
                      need_grad);
    }
    mk_norm_forward(ws->nf, ws->xhatf, ws->rstdf, ws->x[nl], e->lnf_w,
                    e->lnf_b, C, nq);
    /* Tied head: logits[v] = sum_c nf[c] token_emb[v][c]. */
    mk_linear(ws->logits, (size_t)nq, ws->nf, (size_t)nq, e->tok, 1,
              (size_t)C, C, V, nq, 0);
}

/* Backward of block l of a training forward (r0 = 0, N = T), from the
 * gradient of its output in ws->dx (C, nq) to that of its input in
 * ws->dxin (C, T). */
static void block_backward(struct tadd_workspace *ws, int l, const int *qpos,
                           int nq)
{
    const struct tadd_model_config *cfg = &ws->cfg;
    const int C = cfg->d_model, F = cfg->d_ff, C3 = 3 * cfg->d_model;
    const struct model_eff_layer *w = &ws->eff.layer[l];
    const struct model_grad_layer *gf = &ws->grad.layer[l];
    struct model_act *a = &ws->act[l];
    size_t q = (size_t)nq;
    struct {
        lanes_t *ln1_w, *ln1_b, *ln2_w, *ln2_b, *qkv, *proj, *fc1, *fc2;
    } g = {
        grad_lanes(ws, gf->ln1_w), w->ln1_b ? grad_lanes(ws, gf->ln1_b) : NULL,
        grad_lanes(ws, gf->ln2_w), w->ln2_b ? grad_lanes(ws, gf->ln2_b) : NULL,
        grad_lanes(ws, gf->qkv),   grad_lanes(ws, gf->proj),
        grad_lanes(ws, gf->fc1),   grad_lanes(ws, gf->fc2),
    };

    /* MLP, its residual passing dx straight through to da. */
    memcpy(ws->da, ws->dx, (size_t)C * q * sizeof(lanes_t));
    mk_linear(ws->dg, q, ws->dx, q, w->fc2, 1, (size_t)C, C, F, nq, 0);
    mk_linear_backward_weight(g.fc2, (size_t)C, 1, a->g, q, ws->dx, q, F,
                              C, nq);
    for (size_t i = 0; i < (size_t)F * q * MODEL_NV; i++)
        ((vf_t *)ws->dg)[i] *= ((const vf_t *)a->gd)[i];
    mk_linear(ws->dh, q, ws->dg, q, w->fc1, 1, (size_t)F, F, C, nq, 0);
    mk_linear_backward_weight(g.fc1, (size_t)F, 1, a->h, q, ws->dg, q, C,
                              F, nq);
    mk_norm_backward(ws->da, g.ln2_w, g.ln2_b, ws->dh,
                     a->xhat2, a->rstd2, w->ln2_w, C, nq);

    /* Attention. */
    mk_linear(ws->dout, q, ws->da, q, w->proj, 1, (size_t)C, C, C, nq, 0);
    mk_linear_backward_weight(g.proj, (size_t)C, 1, a->o, q, ws->da, q, C,
                              C, nq);
    memset(ws->dkv, 0, (size_t)2 * C * T * sizeof(lanes_t));
    mk_attention_backward(ws->dq, ws->dkv, ws->ds, ws->dout, a->att, a->q,
                          a->kv, qpos, nq, C, cfg->n_head);
    mk_linear(ws->du, T, ws->dkv, T, w->qkv + C, 1, (size_t)C3, 2 * C, C, T,
              0);
    mk_linear_backward_weight(g.qkv + C, (size_t)C3, 1, a->u, T, ws->dkv, T,
                              C, 2 * C, T);
    mk_linear(ws->duq, q, ws->dq, q, w->qkv, 1, (size_t)C3, C, C, nq, 0);
    mk_linear_backward_weight(g.qkv, (size_t)C3, 1, a->uq_use, q, ws->dq,
                              q, C, C, nq);
    scatter_add(ws->du, ws->duq, qpos, C, T, nq);

    /* The block input: residual from da, then through norm1. */
    memset(ws->dxin, 0, (size_t)C * T * sizeof(lanes_t));
    scatter_add(ws->dxin, ws->da, qpos, C, T, nq);
    mk_norm_backward(ws->dxin, g.ln1_w, g.ln1_b, ws->du,
                     a->xhat1, a->rstd1, w->ln1_w, C, T);
}

static void chunk_backward(struct tadd_workspace *ws, const int *qpos,
                           int nq)
{
    const struct tadd_model_config *cfg = &ws->cfg;
    const int C = cfg->d_model, nl = cfg->n_layer;
    const struct model_eff *e = &ws->eff;
    size_t q = (size_t)nq;

    /* Tied head: d nf[c] = sum_v dlogits[v] token_emb[v][c]. */
    mk_linear(ws->dh, q, ws->dlogits, q, e->tok, (size_t)C, 1, V, C, nq, 0);
    mk_linear_backward_weight(grad_lanes(ws, ws->grad.tok_head), 1,
                              (size_t)C, ws->nf, q,
                              ws->dlogits, q, C, V, nq);
    memset(ws->dx, 0, (size_t)C * q * sizeof(lanes_t));
    mk_norm_backward(ws->dx, grad_lanes(ws, ws->grad.lnf_w),
                     e->lnf_b ? grad_lanes(ws, ws->grad.lnf_b) : NULL,
                     ws->dh, ws->xhatf, ws->rstdf, e->lnf_w, C, nq);
    for (int l = nl - 1; l >= 0; l--) {
        lanes_t *t;
        int last = l == nl - 1;
        block_backward(ws, l, last ? qpos : positions_all(), last ? nq : T);
        t = ws->dx;
        ws->dx = ws->dxin;
        ws->dxin = t;
    }
    embed_backward(ws, ws->dx, ws->ids, C);
}

/* Copies sequences [b0, b0 + nb) of x (B, T) into ws->ids, padding. */
static void load_ids(struct tadd_workspace *ws, const uint8_t *x, int len,
                     int b0, int nb)
{
    memset(ws->ids, 0, (size_t)T * L);
    for (int s = 0; s < nb; s++)
        for (int t = 0; t < len; t++) {
            assert(x[(size_t)(b0 + s) * len + t] < V);
            ws->ids[(size_t)t * L + s] = x[(size_t)(b0 + s) * len + t];
        }
}

/*
 * Forward, and backward into the lane sums when need_grad, of the
 * sequences [b0, b1) of the batch (x, y), chunk by chunk in batch order,
 * querying at qpos (nq > 0); logits as tadd_model_step's. Returns the sum
 * of their losses.
 */
static double batch_range(struct tadd_workspace *ws, const uint8_t *x,
                          const int8_t *y, int b0, int b1, const int *qpos,
                          int nq, float scale, int need_grad, float *logits)
{
    double loss = 0.0;

    for (int c0 = b0; c0 < b1; c0 += L) {
        int nb = b1 - c0 < L ? b1 - c0 : L;
        load_ids(ws, x, T, c0, nb);
        for (int p = 0; p < nq; p++)
            for (int s = 0; s < L; s++) {
                int8_t lab = s < nb ? y[(size_t)(c0 + s) * T + qpos[p]] : -1;
                assert(lab < V);
                ws->labels[(size_t)p * L + s] = lab;
            }
        chunk_forward(ws, 0, T, qpos, nq, need_grad);
        loss += mk_cross_entropy(ws->dlogits, ws->logits, ws->labels, nq, V,
                                 scale);
        if (logits)
            for (int s = 0; s < nb; s++)
                for (int p = 0; p < nq; p++)
                    for (int v = 0; v < V; v++)
                        logits[((size_t)(c0 + s) * T + qpos[p]) * V + v] =
                            ws->logits[v * nq + p][s];
        if (need_grad)
            chunk_backward(ws, qpos, nq);
    }
    return loss;
}

/*
 * Shard `shard` of the batch into the lane sums, then reduced into
 * partial when that is not NULL; returns its share of the mean loss.
 */
static double shard_pass(struct tadd_workspace *ws, const uint8_t *x,
                         const int8_t *y, int B,
                         const struct tadd_batch_plan *plan, int shard,
                         float *partial, float *logits)
{
    int b0 = shard * TADD_MODEL_SHARD_SEQS;
    int b1 = B - b0 < TADD_MODEL_SHARD_SEQS ? B : b0 + TADD_MODEL_SHARD_SEQS;
    long count = plan->count;
    float scale = count > 0 ? (float)(1.0 / (double)count) : 0.0f;
    double loss = 0.0;

    if (partial) {
        memset(ws->grad_lanes, 0, ws->grad_floats * sizeof(lanes_t));
        memset(ws->tok_rows, 0,
               (size_t)L * V * ws->cfg.d_model * sizeof(float));
    }
    if (plan->nq > 0)
        loss = batch_range(ws, x, y, b0, b1, plan->qpos, plan->nq, scale,
                           partial != NULL, logits);
    if (partial)
        grad_reduce_lanes(ws, partial);
    return count > 0 ? loss / (double)count : 0.0;
}

double MODEL_ISA(model_shard_grad)(const struct tadd_model *m,
                                   struct tadd_workspace *ws,
                                   const uint8_t *x, const int8_t *y, int B,
                                   const struct tadd_batch_plan *plan,
                                   int shard, float *partial)
{
    assert(B <= ws->max_batch && shard < tadd_model_shard_count(B));
    model_fold(m, ws);
    return shard_pass(ws, x, y, B, plan, shard, partial, NULL);
}

/* The shards one after the other on ws, added up as tadd_model_shard_sum
 * adds them. */
double MODEL_ISA(model_step)(const struct tadd_model *m,
                            struct tadd_workspace *ws, const uint8_t *x,
                            const int8_t *y, int B, float *grads,
                            float *logits)
{
    struct tadd_batch_plan plan;
    double loss = 0.0;

    assert(B <= ws->max_batch);
    tadd_model_plan_batch(&plan, y, B);
    /* Logits are wanted everywhere, not only where a label is. */
    if (logits) {
        plan.nq = T;
        memcpy(plan.qpos, positions_all(), sizeof plan.qpos);
    }
    model_fold(m, ws);
    for (int s = 0; s < tadd_model_shard_count(B); s++) {
        loss += shard_pass(ws, x, y, B, &plan, s,
                           grads ? ws->shard_partial : NULL, logits);
        if (grads)
            model_shards_add(ws->grad_store, ws->shard_partial,
                             ws->grad_floats, s == 0);
    }
    if (grads)
        model_unfold_grads(m, ws, grads);
    return loss;
}

/* Index of the largest of V logits at query p, lane s; the first wins
 * ties. */
static uint8_t argmax_at(const lanes_t *logits, int nq, int p, int s)
{
    int best = 0;
    for (int v = 1; v < V; v++)
        if (logits[v * nq + p][s] > logits[best * nq + p][s])
            best = v;
    return (uint8_t)best;
}

void MODEL_ISA(model_argmax_answer)(const struct tadd_model *m,
                                    struct tadd_workspace *ws,
                                    const uint8_t *x, int B, uint8_t *pred)
{
    const int P = TADD_ANSWER_POSITIONS;
    const int *qpos = positions_all() + TADD_FIRST_ANSWER_POS;

    model_fold(m, ws);
    for (int b0 = 0; b0 < B; b0 += L) {
        int nb = B - b0 < L ? B - b0 : L;
        load_ids(ws, x, T, b0, nb);
        chunk_forward(ws, 0, T, qpos, P, 0);
        for (int s = 0; s < nb; s++)
            for (int p = 0; p < P; p++)
                pred[(size_t)(b0 + s) * P + p] = argmax_at(ws->logits, P, p,
                                                           s);
    }
}

void MODEL_ISA(model_greedy)(const struct tadd_model *m,
                             struct tadd_workspace *ws,
                             const uint8_t *prompt, int B, int n_new,
                             uint8_t *out)
{
    const int np = TADD_PROMPT_LEN;
    const int *all = positions_all();

    assert(n_new >= 0 && np - 1 + n_new <= T);
    model_fold(m, ws);
    for (int b0 = 0; b0 < B && n_new > 0; b0 += L) {
        int nb = B - b0 < L ? B - b0 : L;
        load_ids(ws, prompt, np, b0, nb);
        /* The prompt fills the caches; its last position predicts the
         * first new token. Each new token then runs alone. */
        chunk_forward(ws, 0, np, all + np - 1, 1, 0);
        for (int i = 0; i < n_new; i++) {
            int t = np - 1 + i; /* the position that predicted token i */
            if (i > 0)
                chunk_forward(ws, t, 1, all + t, 1, 0);
            for (int s = 0; s < L; s++) {
                uint8_t tok = argmax_at(ws->logits, 1, 0, s);
                if (s < nb)
                    out[(size_t)(b0 + s) * n_new + i] = tok;
                if (t + 1 < T)
                    ws->ids[(size_t)(t + 1) * L + s] = tok;
            }
        }
    }
}
