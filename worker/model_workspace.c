/*
 * The per-thread workspace: one aligned allocation carved into the folded
 * weights, the gradients of the dense weights and the activations of one
 * chunk. Its size depends on the config alone: batches are processed a
 * chunk at a time, so max_batch only bounds what callers may pass.
 */
#include "model_internal.h"

#include <stdlib.h>
#include <string.h>

#define WS_ALIGN 64

/* Hands out aligned pieces of a block; with base NULL it only measures. */
struct carver {
    char *base;
    size_t used;
};

static void *carve(struct carver *cv, size_t bytes)
{
    void *p;

    cv->used = (cv->used + WS_ALIGN - 1) / WS_ALIGN * WS_ALIGN;
    p = cv->base ? cv->base + cv->used : NULL;
    cv->used += bytes;
    return p;
}

static lanes_t *carve_lanes(struct carver *cv, size_t n)
{
    return carve(cv, n * sizeof(lanes_t));
}

static float *carve_floats(struct carver *cv, size_t n)
{
    return carve(cv, n * sizeof(float));
}

static void carve_act(struct carver *cv, struct model_act *a,
                      const struct tadd_model_config *cfg)
{
    size_t T = TADD_CONTEXT, C = (size_t)cfg->d_model;
    size_t F = (size_t)cfg->d_ff, H = (size_t)cfg->n_head;

    a->xhat1 = carve_lanes(cv, C * T);
    a->rstd1 = carve_lanes(cv, T);
    a->u = carve_lanes(cv, C * T);
    a->kv = carve_lanes(cv, 2 * C * T);
    a->uq = carve_lanes(cv, C * T);
    a->xq = carve_lanes(cv, C * T);
    a->q = carve_lanes(cv, C * T);
    a->att = carve_lanes(cv, H * T * T);
    a->o = carve_lanes(cv, C * T);
    a->a = carve_lanes(cv, C * T);
    a->xhat2 = carve_lanes(cv, C * T);
    a->rstd2 = carve_lanes(cv, T);
    a->h = carve_lanes(cv, C * T);
    a->g = carve_lanes(cv, F * T);
    a->gd = carve_lanes(cv, F * T);
}

static void carve_grad_layer(struct carver *cv, struct model_grad_layer *g,
                             const struct tadd_model_config *cfg)
{
    size_t C = (size_t)cfg->d_model, F = (size_t)cfg->d_ff;

    g->ln1_w = carve_floats(cv, C);
    g->ln1_b = carve_floats(cv, C);
    g->ln2_w = carve_floats(cv, C);
    g->ln2_b = carve_floats(cv, C);
    g->qkv = carve_floats(cv, 3 * C * C);
    g->proj = carve_floats(cv, C * C);
    g->fc1 = carve_floats(cv, C * F);
    g->fc2 = carve_floats(cv, F * C);
}

/* Lays the whole workspace out over cv (measuring when cv->base is
 * NULL); ws's arrays of per-layer structs must already exist. */
static void carve_all(struct carver *cv, struct tadd_workspace *ws)
{
    const struct tadd_model_config *cfg = &ws->cfg;
    size_t T = TADD_CONTEXT, C = (size_t)cfg->d_model;
    size_t F = (size_t)cfg->d_ff, V = TADD_VOCAB;
    int nl = cfg->n_layer;
    size_t grad_start;

    ws->pos_store = carve_floats(cv, T * C);
    ws->lin_store = carve_floats(cv, model_fold_store_floats(cfg));

    /* The gradients come one after the other so that a single memset
     * clears them; carve_floats pads each to the alignment. */
    grad_start = cv->used = (cv->used + WS_ALIGN - 1) / WS_ALIGN * WS_ALIGN;
    ws->grad_store = (float *)(cv->base ? cv->base + grad_start : NULL);
    ws->grad.tok_emb = carve_floats(cv, V * C);
    ws->grad.tok_head = carve_floats(cv, V * C);
    ws->grad.pos = carve_floats(cv, T * C);
    ws->grad.lnf_w = carve_floats(cv, C);
    ws->grad.lnf_b = carve_floats(cv, C);
    for (int l = 0; l < nl; l++)
        carve_grad_layer(cv, &ws->grad.layer[l], cfg);
    ws->grad_floats = (cv->used - grad_start) / sizeof(float);
    ws->grad_lanes = carve_lanes(cv, ws->grad_floats);
    ws->tok_rows = carve_floats(cv, (size_t)MODEL_LANES * V * C);
    ws->shard_partial = carve_floats(cv, ws->grad_floats);

    ws->ids = carve(cv, T * MODEL_LANES);
    ws->labels = carve(cv, T * MODEL_LANES);
    for (int l = 0; l <= nl; l++)
        ws->x[l] = carve_lanes(cv, C * T);
    for (int l = 0; l < nl; l++) {
        carve_act(cv, &ws->act[l], cfg);
        ws->act[l].x = ws->x[l];
    }
    ws->xhatf = carve_lanes(cv, C * T);
    ws->rstdf = carve_lanes(cv, T);
    ws->nf = carve_lanes(cv, C * T);
    ws->logits = carve_lanes(cv, V * T);
    ws->dlogits = carve_lanes(cv, V * T);

    ws->dx = carve_lanes(cv, C * T);
    ws->dxin = carve_lanes(cv, C * T);
    ws->da = carve_lanes(cv, C * T);
    ws->dg = carve_lanes(cv, F * T);
    ws->dh = carve_lanes(cv, C * T);
    ws->dout = carve_lanes(cv, C * T);
    ws->dq = carve_lanes(cv, C * T);
    ws->dkv = carve_lanes(cv, 2 * C * T);
    ws->du = carve_lanes(cv, C * T);
    ws->duq = carve_lanes(cv, C * T);
    ws->ds = carve_lanes(cv, (size_t)cfg->n_head * T * T);
}

struct tadd_workspace *tadd_workspace_new(const struct tadd_model_config *cfg,
                                          int max_batch)
{
    struct tadd_workspace *ws = calloc(1, sizeof(*ws));
    struct carver cv = {NULL, 0};
    size_t nl;

    if (!ws)
        return NULL;
    ws->cfg = *cfg;
    ws->max_batch = max_batch;
    nl = (size_t)cfg->n_layer;
    ws->eff_layers = calloc(nl, sizeof(*ws->eff_layers));
    ws->grad.layer = calloc(nl, sizeof(*ws->grad.layer));
    ws->act = calloc(nl, sizeof(*ws->act));
    ws->x = calloc(nl + 1, sizeof(*ws->x));
    if (!ws->eff_layers || !ws->grad.layer || !ws->act || !ws->x)
        goto fail;

    carve_all(&cv, ws);
    cv.used = (cv.used + WS_ALIGN - 1) / WS_ALIGN * WS_ALIGN;
    ws->block = aligned_alloc(WS_ALIGN, cv.used);
    if (!ws->block)
        goto fail;
    /* Zeroed so that no lane ever holds uninitialised bits. */
    memset(ws->block, 0, cv.used);
    cv = (struct carver){ws->block, 0};
    carve_all(&cv, ws);
    return ws;

fail:
    tadd_workspace_free(ws);
    return NULL;
}

void tadd_workspace_free(struct tadd_workspace *ws)
{
    if (!ws)
        return;
    free(ws->block);
    free(ws->eff_layers);
    free(ws->grad.layer);
    free(ws->act);
    free(ws->x);
    free(ws);
}
