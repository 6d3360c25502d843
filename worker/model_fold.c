/*
 * Folding a model's parametrisations into dense effective weights, and
 * mapping the effective weights' gradients back onto the trained tensors.
 *
 *   low-rank          W = A B (+ W_fixed)   dA = dW B^T, dB = A^T dW
 *   positional        P = A B               likewise
 *   shareA_tieKV      W = [A Bq | A Bkv | A Bkv]
 *                     dA = dWq Bq^T + (dWk + dWv) Bkv^T,
 *                     dBq = A^T dWq, dBkv = A^T (dWk + dWv)
 *   tied output head  d token_emb = embedding part + head part
 *
 * Products are summed in double and rounded once.
 */
#include "model_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One trained or fixed tensor of the model, found by name. */
struct pref {
    const float *data; /* NULL when the model has no such tensor */
    size_t offset;     /* into params (trainable tensors) */
};

static struct pref pref_find(const struct tadd_model *m, const char *fmt,
                             ...)
{
    char name[TADD_TENSOR_NAME_LEN];
    const struct tadd_tensor_info *t;
    struct pref r = {NULL, 0};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    t = tadd_model_find(m, name);
    if (t) {
        r.data = (t->trainable ? m->params : m->fixed) + t->offset;
        r.offset = t->offset;
    }
    return r;
}

/* A linear layer's tensors: weight, or A and B (+ W_fixed). */
struct lin_ref {
    struct pref w, a, b, fixed;
};

static struct lin_ref lin_find(const struct tadd_model *m, int l,
                               const char *layer)
{
    struct lin_ref r;
    r.w = pref_find(m, "blocks.%d.%s.weight", l, layer);
    r.a = pref_find(m, "blocks.%d.%s.A", l, layer);
    r.b = pref_find(m, "blocks.%d.%s.B", l, layer);
    r.fixed = pref_find(m, "blocks.%d.%s.W_fixed", l, layer);
    return r;
}

/* out (n, k) = a (n, r) b (r, k) (+ fixed), with row strides lda, ldb,
 * ldo. */
static void matmul_fold(float *out, size_t ldo, const float *a, size_t lda,
                        const float *b, size_t ldb, const float *fixed,
                        size_t ldf, int n, int r, int k)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            double s = 0.0;
            for (int q = 0; q < r; q++)
                s += (double)a[(size_t)i * lda + q] *
                     (double)b[(size_t)q * ldb + j];
            if (fixed)
                s += (double)fixed[(size_t)i * ldf + j];
            out[(size_t)i * ldo + j] = (float)s;
        }
}

/* Folds one linear layer [in, out] into store unless it is full rank. */
static const float *lin_fold(const struct lin_ref *r, float *store, int in,
                             int out, int rank)
{
    if (rank == 0)
        return r->w.data;
    matmul_fold(store, (size_t)out, r->a.data, (size_t)rank, r->b.data,
                (size_t)out, r->fixed.data, (size_t)out, in, rank, out);
    return store;
}

/* Floats of folded storage for one block. */
static size_t block_store_floats(const struct tadd_model_config *cfg)
{
    size_t d = (size_t)cfg->d_model, f = (size_t)cfg->d_ff;
    return 3 * d * d + d * d + d * f + f * d;
}

void model_fold(const struct tadd_model *m, struct tadd_workspace *ws)
{
    const struct tadd_model_config *cfg = &m->cfg;
    const int C = cfg->d_model, F = cfg->d_ff;
    struct model_eff *e = &ws->eff;

    e->tok = pref_find(m, "token_emb.weight").data;
    if (cfg->pos_rank == 0) {
        e->pos = pref_find(m, "pos_emb.weight").data;
    } else {
        struct pref a = pref_find(m, "pos_emb.A");
        struct pref b = pref_find(m, "pos_emb.B");
        matmul_fold(ws->pos_store, (size_t)C, a.data, (size_t)cfg->pos_rank,
                    b.data, (size_t)C, NULL, 0, TADD_CONTEXT, cfg->pos_rank,
                    C);
        e->pos = ws->pos_store;
    }
    e->lnf_w = pref_find(m, "ln_f.weight").data;
    e->lnf_b = pref_find(m, "ln_f.bias").data;
    e->layer = ws->eff_layers;

    for (int l = 0; l < cfg->n_layer; l++) {
        struct model_eff_layer *el = &e->layer[l];
        float *store = ws->lin_store + (size_t)l * block_store_floats(cfg);
        float *s_qkv = store, *s_proj = s_qkv + 3 * C * C;
        float *s_fc1 = s_proj + C * C, *s_fc2 = s_fc1 + C * F;
        struct lin_ref proj = lin_find(m, l, "attn.proj");
        struct lin_ref fc1 = lin_find(m, l, "mlp.fc1");
        struct lin_ref fc2 = lin_find(m, l, "mlp.fc2");

        el->ln1_w = pref_find(m, "blocks.%d.ln1.weight", l).data;
        el->ln1_b = pref_find(m, "blocks.%d.ln1.bias", l).data;
        el->ln2_w = pref_find(m, "blocks.%d.ln2.weight", l).data;
        el->ln2_b = pref_find(m, "blocks.%d.ln2.bias", l).data;
        if (cfg->qkv_tie == TADD_QKV_TIE_SHAREA_TIEKV) {
            struct pref a = pref_find(m, "blocks.%d.attn.qkv_A", l);
            struct pref bq = pref_find(m, "blocks.%d.attn.qkv_Bq", l);
            struct pref bkv = pref_find(m, "blocks.%d.attn.qkv_Bkv", l);
            size_t ld = 3 * (size_t)C;
            int r = cfg->qkv_rank;
            matmul_fold(s_qkv, ld, a.data, (size_t)r, bq.data, (size_t)C,
                        NULL, 0, C, r, C);
            matmul_fold(s_qkv + C, ld, a.data, (size_t)r, bkv.data,
                        (size_t)C, NULL, 0, C, r, C);
            matmul_fold(s_qkv + 2 * C, ld, a.data, (size_t)r, bkv.data,
                        (size_t)C, NULL, 0, C, r, C);
            el->qkv = s_qkv;
        } else {
            struct lin_ref qkv = lin_find(m, l, "attn.qkv");
            el->qkv = lin_fold(&qkv, s_qkv, C, 3 * C, cfg->qkv_rank);
        }
        el->proj = lin_fold(&proj, s_proj, C, C, cfg->attn_out_rank);
        el->fc1 = lin_fold(&fc1, s_fc1, C, F, cfg->ffn_rank);
        el->fc2 = lin_fold(&fc2, s_fc2, F, C, cfg->ffn_rank);
        assert(el->qkv && el->proj && el->fc1 && el->fc2 && el->ln1_w);
    }
    assert(e->tok && e->pos && e->lnf_w);
}

/*
 * Gradients of the factors of W = A B from dw (in, out):
 *   da (in, r) = dw B^T, db (r, out) = A^T dw.
 * dw2, when non-NULL, is a second gradient added to dw first (the tied
 * keys and values); ldw is the row stride of dw and dw2.
 */
static void factor_grads(float *da, float *db, const float *a,
                         const float *b, const float *dw, const float *dw2,
                         size_t ldw, int in, int r, int out)
{
    for (int i = 0; i < in; i++)
        for (int q = 0; q < r; q++) {
            double s = 0.0;
            for (int j = 0; j < out; j++) {
                double g = (double)dw[(size_t)i * ldw + j];
                if (dw2)
                    g += (double)dw2[(size_t)i * ldw + j];
                s += g * (double)b[(size_t)q * out + j];
            }
            da[(size_t)i * r + q] += (float)s;
        }
    for (int q = 0; q < r; q++)
        for (int j = 0; j < out; j++) {
            double s = 0.0;
            for (int i = 0; i < in; i++) {
                double g = (double)dw[(size_t)i * ldw + j];
                if (dw2)
                    g += (double)dw2[(size_t)i * ldw + j];
                s += (double)a[(size_t)i * r + q] * g;
            }
            db[(size_t)q * out + j] += (float)s;
        }
}

static void copy_grad(float *grads, struct pref p, const float *g, size_t n)
{
    if (p.data)
        memcpy(grads + p.offset, g, n * sizeof(float));
}

static void lin_unfold(float *grads, const struct lin_ref *r, const float *dw,
                       int in, int out, int rank)
{
    if (rank == 0) {
        copy_grad(grads, r->w, dw, (size_t)in * out);
        return;
    }
    factor_grads(grads + r->a.offset, grads + r->b.offset, r->a.data,
                 r->b.data, dw, NULL, (size_t)out, in, rank, out);
}

void model_unfold_grads(const struct tadd_model *m,
                        const struct tadd_workspace *ws, float *grads)
{
    const struct tadd_model_config *cfg = &m->cfg;
    const int C = cfg->d_model, F = cfg->d_ff, T = TADD_CONTEXT;
    const struct model_grad *g = &ws->grad;
    struct pref tok = pref_find(m, "token_emb.weight");

    /* Factor gradients are accumulated into, so start from zero. */
    memset(grads, 0, m->n_params * sizeof(float));
    for (int i = 0; i < TADD_VOCAB * C; i++)
        grads[tok.offset + i] = g->tok_emb[i] + g->tok_head[i];
    if (cfg->pos_rank == 0) {
        copy_grad(grads, pref_find(m, "pos_emb.weight"), g->pos,
                  (size_t)T * C);
    } else {
        struct pref a = pref_find(m, "pos_emb.A");
        struct pref b = pref_find(m, "pos_emb.B");
        factor_grads(grads + a.offset, grads + b.offset, a.data, b.data,
                     g->pos, NULL, (size_t)C, T, cfg->pos_rank, C);
    }
    copy_grad(grads, pref_find(m, "ln_f.weight"), g->lnf_w, (size_t)C);
    copy_grad(grads, pref_find(m, "ln_f.bias"), g->lnf_b, (size_t)C);

    for (int l = 0; l < cfg->n_layer; l++) {
        const struct model_grad_layer *gl = &g->layer[l];
        struct lin_ref proj = lin_find(m, l, "attn.proj");
        struct lin_ref fc1 = lin_find(m, l, "mlp.fc1");
        struct lin_ref fc2 = lin_find(m, l, "mlp.fc2");

        copy_grad(grads, pref_find(m, "blocks.%d.ln1.weight", l), gl->ln1_w,
                  (size_t)C);
        copy_grad(grads, pref_find(m, "blocks.%d.ln1.bias", l), gl->ln1_b,
                  (size_t)C);
        copy_grad(grads, pref_find(m, "blocks.%d.ln2.weight", l), gl->ln2_w,
                  (size_t)C);
        copy_grad(grads, pref_find(m, "blocks.%d.ln2.bias", l), gl->ln2_b,
                  (size_t)C);
        if (cfg->qkv_tie == TADD_QKV_TIE_SHAREA_TIEKV) {
            struct pref a = pref_find(m, "blocks.%d.attn.qkv_A", l);
            struct pref bq = pref_find(m, "blocks.%d.attn.qkv_Bq", l);
            struct pref bkv = pref_find(m, "blocks.%d.attn.qkv_Bkv", l);
            size_t ld = 3 * (size_t)C;
            int r = cfg->qkv_rank;
            factor_grads(grads + a.offset, grads + bq.offset, a.data,
                         bq.data, gl->qkv, NULL, ld, C, r, C);
            factor_grads(grads + a.offset, grads + bkv.offset, a.data,
                         bkv.data, gl->qkv + C, gl->qkv + 2 * C, ld, C, r,
                         C);
        } else {
            struct lin_ref qkv = lin_find(m, l, "attn.qkv");
            lin_unfold(grads, &qkv, gl->qkv, C, 3 * C, cfg->qkv_rank);
        }
        lin_unfold(grads, &proj, gl->proj, C, C, cfg->attn_out_rank);
        lin_unfold(grads, &fc1, gl->fc1, C, F, cfg->ffn_rank);
        lin_unfold(grads, &fc2, gl->fc2, F, C, cfg->ffn_rank);
    }
}

size_t model_fold_store_floats(const struct tadd_model_config *cfg)
{
    return (size_t)cfg->n_layer * block_store_floats(cfg);
}
