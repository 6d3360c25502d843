/*
 * A model's tensor table, its storage and its initialisation.
 *
 * Table order (the order of params, of the initialisation draws and of
 * checkpoints written by this project):
 *
 *   token_emb.weight
 *   pos_emb.weight                       or pos_emb.A, pos_emb.B
 *   for each block l:
 *     blocks.l.ln1.weight, blocks.l.ln1.bias (layernorm only)
 *     blocks.l.ln2.weight, blocks.l.ln2.bias (layernorm only)
 *     blocks.l.attn.qkv.weight             or .A, .B
 *                                          or qkv_A, qkv_Bq, qkv_Bkv
 *     blocks.l.attn.proj.weight            or .A, .B
 *     blocks.l.mlp.fc1.weight              or .A, .B
 *     blocks.l.mlp.fc2.weight              or .A, .B
 *   ln_f.weight, ln_f.bias (layernorm only)
 *
 * then, in the same block and layer order, every W_fixed in use.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for a layer's name prefix such as "blocks.12.attn.proj". */
#define PREFIX_LEN 40

/* A growing table; entries is NULL while only counting. */
struct table {
    struct tadd_tensor_info *entries;
    int n;
    size_t n_params;
    size_t n_fixed;
};

static void table_add(struct table *tb, const char *name, int ndim,
                      int64_t d0, int64_t d1, int trainable)
{
    size_t numel = (size_t)d0 * (size_t)(ndim == 2 ? d1 : 1);

    if (tb->entries) {
        struct tadd_tensor_info *e = &tb->entries[tb->n];
        memset(e, 0, sizeof(*e));
        snprintf(e->name, sizeof(e->name), "%s", name);
        e->ndim = ndim;
        e->shape[0] = d0;
        e->shape[1] = ndim == 2 ? d1 : 0;
        e->numel = numel;
        e->trainable = trainable;
        e->offset = trainable ? tb->n_params : tb->n_fixed;
    }
    if (trainable)
        tb->n_params += numel;
    else
        tb->n_fixed += numel;
    tb->n++;
}

static void table_norm(struct table *tb, const char *prefix,
                       const struct tadd_model_config *cfg)
{
    char name[TADD_TENSOR_NAME_LEN];
    int64_t d = cfg->d_model;

    snprintf(name, sizeof(name), "%s.weight", prefix);
    table_add(tb, name, 1, d, 0, 1);
    if (cfg->norm == TADD_NORM_LAYERNORM) {
        snprintf(name, sizeof(name), "%s.bias", prefix);
        table_add(tb, name, 1, d, 0, 1);
    }
}

/* A linear layer [in, out] of rank r: full weight, or the two factors. */
static void table_linear(struct table *tb, const char *prefix, int64_t in,
                         int64_t out, int64_t r)
{
    char name[TADD_TENSOR_NAME_LEN];

    if (r == 0) {
        snprintf(name, sizeof(name), "%s.weight", prefix);
        table_add(tb, name, 2, in, out, 1);
        return;
    }
    snprintf(name, sizeof(name), "%s.A", prefix);
    table_add(tb, name, 2, in, r, 1);
    snprintf(name, sizeof(name), "%s.B", prefix);
    table_add(tb, name, 2, r, out, 1);
}

static void table_fixed(struct table *tb, const char *prefix, int64_t in,
                        int64_t out)
{
    char name[TADD_TENSOR_NAME_LEN];

    snprintf(name, sizeof(name), "%s.W_fixed", prefix);
    table_add(tb, name, 2, in, out, 0);
}

static void table_block(struct table *tb, const struct tadd_model_config *cfg,
                        int l)
{
    char p[PREFIX_LEN];
    char name[TADD_TENSOR_NAME_LEN];
    int64_t d = cfg->d_model, f = cfg->d_ff, r = cfg->qkv_rank;

    snprintf(p, sizeof(p), "blocks.%d.ln1", l);
    table_norm(tb, p, cfg);
    snprintf(p, sizeof(p), "blocks.%d.ln2", l);
    table_norm(tb, p, cfg);

    if (cfg->qkv_tie == TADD_QKV_TIE_SHAREA_TIEKV) {
        snprintf(name, sizeof(name), "blocks.%d.attn.qkv_A", l);
        table_add(tb, name, 2, d, r, 1);
        snprintf(name, sizeof(name), "blocks.%d.attn.qkv_Bq", l);
        table_add(tb, name, 2, r, d, 1);
        snprintf(name, sizeof(name), "blocks.%d.attn.qkv_Bkv", l);
        table_add(tb, name, 2, r, d, 1);
    } else {
        snprintf(p, sizeof(p), "blocks.%d.attn.qkv", l);
        table_linear(tb, p, d, 3 * d, r);
    }
    snprintf(p, sizeof(p), "blocks.%d.attn.proj", l);
    table_linear(tb, p, d, d, cfg->attn_out_rank);
    snprintf(p, sizeof(p), "blocks.%d.mlp.fc1", l);
    table_linear(tb, p, d, f, cfg->ffn_rank);
    snprintf(p, sizeof(p), "blocks.%d.mlp.fc2", l);
    table_linear(tb, p, f, d, cfg->ffn_rank);
}

static void table_block_fixed(struct table *tb,
                              const struct tadd_model_config *cfg, int l)
{
    char p[PREFIX_LEN];
    int64_t d = cfg->d_model, f = cfg->d_ff;

    if (cfg->fixed_full_rank_attn) {
        if (cfg->qkv_tie == TADD_QKV_TIE_NONE && cfg->qkv_rank > 0) {
            snprintf(p, sizeof(p), "blocks.%d.attn.qkv", l);
            table_fixed(tb, p, d, 3 * d);
        }
        if (cfg->attn_out_rank > 0) {
            snprintf(p, sizeof(p), "blocks.%d.attn.proj", l);
            table_fixed(tb, p, d, d);
        }
    }
    if (cfg->fixed_full_rank_mlp && cfg->ffn_rank > 0) {
        snprintf(p, sizeof(p), "blocks.%d.mlp.fc1", l);
        table_fixed(tb, p, d, f);
        snprintf(p, sizeof(p), "blocks.%d.mlp.fc2", l);
        table_fixed(tb, p, f, d);
    }
}

static void table_fill(struct table *tb, const struct tadd_model_config *cfg)
{
    int64_t d = cfg->d_model;

    table_add(tb, "token_emb.weight", 2, TADD_VOCAB, d, 1);
    if (cfg->pos_rank == 0) {
        table_add(tb, "pos_emb.weight", 2, TADD_CONTEXT, d, 1);
    } else {
        table_add(tb, "pos_emb.A", 2, TADD_CONTEXT, cfg->pos_rank, 1);
        table_add(tb, "pos_emb.B", 2, cfg->pos_rank, d, 1);
    }
    for (int l = 0; l < cfg->n_layer; l++)
        table_block(tb, cfg, l);
    table_norm(tb, "ln_f", cfg);
    for (int l = 0; l < cfg->n_layer; l++)
        table_block_fixed(tb, cfg, l);
}

/* Trainable scalars of a linear layer [in, out] of rank r. */
static size_t linear_count(size_t in, size_t out, size_t r)
{
    return r == 0 ? in * out : r * (in + out);
}

size_t tadd_model_param_count(const struct tadd_model_config *cfg)
{
    size_t d = (size_t)cfg->d_model, f = (size_t)cfg->d_ff;
    size_t rq = (size_t)cfg->qkv_rank, rp = (size_t)cfg->pos_rank;
    size_t norm = cfg->norm == TADD_NORM_LAYERNORM ? 2 * d : d;
    size_t block = 2 * norm;
    size_t n;

    if (cfg->qkv_tie == TADD_QKV_TIE_SHAREA_TIEKV)
        block += d * rq + 2 * rq * d;
    else
        block += linear_count(d, 3 * d, rq);
    block += linear_count(d, d, (size_t)cfg->attn_out_rank);
    block += linear_count(d, f, (size_t)cfg->ffn_rank);
    block += linear_count(f, d, (size_t)cfg->ffn_rank);

    n = TADD_VOCAB * d; /* token embedding, also the output head */
    n += rp == 0 ? TADD_CONTEXT * d : rp * (TADD_CONTEXT + d);
    n += (size_t)cfg->n_layer * block;
    n += norm; /* ln_f */
    return n;
}

int tadd_model_create(struct tadd_model *m,
                      const struct tadd_model_config *cfg)
{
    struct table tb = {0};

    memset(m, 0, sizeof(*m));
    table_fill(&tb, cfg); /* counting pass */

    m->cfg = *cfg;
    m->tensors = calloc((size_t)tb.n, sizeof(*m->tensors));
    m->params = calloc(tb.n_params, sizeof(float));
    /* One spare float keeps calloc from being asked for zero bytes. */
    m->fixed = calloc(tb.n_fixed + 1, sizeof(float));
    if (!m->tensors || !m->params || !m->fixed) {
        tadd_model_destroy(m);
        return -1;
    }

    tb = (struct table){.entries = m->tensors};
    table_fill(&tb, cfg);
    m->n_tensors = tb.n;
    m->n_params = tb.n_params;
    m->n_fixed = tb.n_fixed;
    return 0;
}

void tadd_model_destroy(struct tadd_model *m)
{
    free(m->tensors);
    free(m->params);
    free(m->fixed);
    memset(m, 0, sizeof(*m));
}

const struct tadd_tensor_info *tadd_model_find(const struct tadd_model *m,
                                               const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

float *tadd_model_tensor_data(struct tadd_model *m,
                              const struct tadd_tensor_info *t)
{
    return (t->trainable ? m->params : m->fixed) + t->offset;
}

static int name_ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0;
}

/*
 * SPEC section 2's rule for one tensor, read from its name and shape:
 * returns the standard deviation of its normal draws, or 0 with *value set
 * for a constant tensor (norm weights and biases).
 */
static double init_std(const struct tadd_tensor_info *t, float *value)
{
    if (t->ndim == 1) {
        *value = name_ends_with(t->name, ".weight") ? 1.0f : 0.0f;
        return 0.0;
    }
    if (strncmp(t->name, "pos_emb.", 8) == 0)
        return 0.02; /* full or low-rank positional embedding */
    /* Low-rank factors A [in, r] and B [r, out], the shared-A tied qkv
     * included: N(0, sqrt(2 / (rows + cols))). */
    if (name_ends_with(t->name, ".A") || name_ends_with(t->name, ".B") ||
        name_ends_with(t->name, ".qkv_A") ||
        name_ends_with(t->name, ".qkv_Bq") ||
        name_ends_with(t->name, ".qkv_Bkv"))
        return sqrt(2.0 / (double)(t->shape[0] + t->shape[1]));
    return 0.02; /* token embedding, full weights, W_fixed */
}

void tadd_model_init(struct tadd_model *m, struct tadd_rng *r)
{
    /* The table lists trainable tensors before fixed ones, so walking it
     * in order is the documented draw order. */
    for (int i = 0; i < m->n_tensors; i++) {
        const struct tadd_tensor_info *t = &m->tensors[i];
        float *data = tadd_model_tensor_data(m, t);
        float value = 0.0f;
        double std = init_std(t, &value);

        for (size_t j = 0; j < t->numel; j++)
            data[j] = std > 0.0 ? (float)(std * tadd_rng_normal(r)) : value;
    }
}
