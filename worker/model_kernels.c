/*
 * The transformer's kernels on lane vectors (see model_internal.h for the
 * layout). Each forward sits beside its backward. Every sum runs in a
 * fixed order, so a sequence's results do not depend on which chunk or
 * lane it lands in, on the vector width, or on anything else running.
 */
#include "model_internal.h"

#include <math.h>
#include <string.h>

#define L MODEL_LANES

/* Helpers take and return lane vectors through pointers: passing 64-byte
 * vectors by value would depend on the vector ABI of the target. */

#define LANES_SPLAT(v) ((lanes_t){0} + (v))

/* *m = max(*m, *b) lane by lane. */
static inline void lanes_max(lanes_t *m, const lanes_t *b)
{
    lanes_i_t gt = *b > *m;
    *m = (lanes_t)((gt & (lanes_i_t)*b) | (~gt & (lanes_i_t)*m));
}

/* The lanes of *v summed in lane order. */
static inline float lanes_sum(const lanes_t *v)
{
    float s = (*v)[0];
    for (int i = 1; i < L; i++)
        s += (*v)[i];
    return s;
}

static inline void lanes_sqrt(lanes_t *v)
{
    for (int i = 0; i < L; i++)
        (*v)[i] = sqrtf((*v)[i]);
}

static inline void lanes_exp(lanes_t *v)
{
    for (int i = 0; i < L; i++)
        (*v)[i] = expf((*v)[i]);
}

void mk_linear(lanes_t *out, size_t ldo, const lanes_t *in, size_t ldi,
               const float *w, size_t wsk, size_t wsm, int K, int M, int n,
               int accumulate)
{
    for (int m = 0; m < M; m++) {
        const float *wm = w + (size_t)m * wsm;
        lanes_t *om = out + (size_t)m * ldo;
        for (int t = 0; t < n; t++) {
            lanes_t acc = in[t] * wm[0];
            for (int k = 1; k < K; k++)
                acc += in[(size_t)k * ldi + t] * wm[(size_t)k * wsk];
            om[t] = accumulate ? om[t] + acc : acc;
        }
    }
}

void mk_linear_backward_weight(float *dw, size_t dsk, size_t dsm,
                               const lanes_t *in, size_t ldi,
                               const lanes_t *dout, size_t ldo, int K, int M,
                               int n)
{
    for (int k = 0; k < K; k++) {
        const lanes_t *ik = in + (size_t)k * ldi;
        for (int m = 0; m < M; m++) {
            const lanes_t *dm = dout + (size_t)m * ldo;
            lanes_t acc = ik[0] * dm[0];
            for (int t = 1; t < n; t++)
                acc += ik[t] * dm[t];
            dw[(size_t)k * dsk + (size_t)m * dsm] += lanes_sum(&acc);
        }
    }
}

void mk_norm_forward(lanes_t *out, lanes_t *xhat, lanes_t *rstd,
                     const lanes_t *x, const float *w, const float *b, int C,
                     int n)
{
    const float inv_c = 1.0f / (float)C;

    for (int t = 0; t < n; t++) {
        lanes_t mean = LANES_SPLAT(0.0f), var = LANES_SPLAT(0.0f), r;
        if (b) {
            for (int c = 0; c < C; c++)
                mean += x[c * n + t];
            mean *= inv_c;
        }
        for (int c = 0; c < C; c++) {
            lanes_t z = x[c * n + t] - mean;
            var += z * z;
        }
        var *= inv_c;
        /* Layernorm's eps is 1e-5 on the biased variance, rmsnorm's 1e-8
         * on the mean square. */
        r = var + (b ? 1e-5f : 1e-8f);
        lanes_sqrt(&r);
        r = 1.0f / r;
        rstd[t] = r;
        for (int c = 0; c < C; c++) {
            lanes_t xh = (x[c * n + t] - mean) * r;
            xhat[c * n + t] = xh;
            out[c * n + t] = b ? xh * w[c] + b[c] : xh * w[c];
        }
    }
}

void mk_norm_backward(lanes_t *dx, float *dw, float *db, const lanes_t *dy,
                      const lanes_t *xhat, const lanes_t *rstd,
                      const float *w, int C, int n)
{
    const float inv_c = 1.0f / (float)C;

    for (int t = 0; t < n; t++) {
        lanes_t m1 = LANES_SPLAT(0.0f), m2 = LANES_SPLAT(0.0f);
        for (int c = 0; c < C; c++) {
            lanes_t g = dy[c * n + t] * w[c];
            m1 += g;
            m2 += g * xhat[c * n + t];
        }
        m1 *= inv_c;
        m2 *= inv_c;
        /* rmsnorm subtracts no mean, so its gradient has no m1 term. */
        if (!db)
            m1 = LANES_SPLAT(0.0f);
        for (int c = 0; c < C; c++) {
            lanes_t g = dy[c * n + t] * w[c];
            dx[c * n + t] += (g - m1 - xhat[c * n + t] * m2) * rstd[t];
        }
    }
    for (int c = 0; c < C; c++) {
        lanes_t sw = dy[c * n] * xhat[c * n], sb = dy[c * n];
        for (int t = 1; t < n; t++) {
            sw += dy[c * n + t] * xhat[c * n + t];
            sb += dy[c * n + t];
        }
        dw[c] += lanes_sum(&sw);
        if (db)
            db[c] += lanes_sum(&sb);
    }
}

void mk_gelu_forward(lanes_t *z_g, lanes_t *gd, size_t count)
{
    const float inv_sqrt2 = 0.70710678118654752f;
    const float inv_sqrt_2pi = 0.39894228040143268f;

    for (size_t i = 0; i < count; i++) {
        lanes_t z = z_g[i], cdf, pdf;
        /* Phi(z) = erfc(-z / sqrt 2) / 2 keeps its relative precision in
         * the negative tail, where 1 + erf would cancel. */
        for (int s = 0; s < L; s++)
            cdf[s] = 0.5f * erfcf(-z[s] * inv_sqrt2);
        z_g[i] = z * cdf;
        if (gd) {
            pdf = -0.5f * z * z;
            lanes_exp(&pdf);
            gd[i] = cdf + z * (pdf * inv_sqrt_2pi);
        }
    }
}

void mk_attention_forward(lanes_t *o, lanes_t *att, const lanes_t *q,
                          const lanes_t *kv, const int *qpos, int nq, int C,
                          int H)
{
    const int T = TADD_CONTEXT, hd = C / H;
    const float scale = 1.0f / sqrtf((float)hd);

    for (int h = 0; h < H; h++) {
        const lanes_t *qh = q + (size_t)h * hd * nq;
        const lanes_t *kh = kv + (size_t)h * hd * T;
        const lanes_t *vh = kv + (size_t)(C + h * hd) * T;
        lanes_t *oh = o + (size_t)h * hd * nq;
        for (int p = 0; p < nq; p++) {
            lanes_t *s = att + ((size_t)h * nq + p) * T;
            lanes_t mx, sum;
            int tq = qpos[p];
            for (int j = 0; j <= tq; j++) {
                lanes_t acc = qh[p] * kh[j];
                for (int c = 1; c < hd; c++)
                    acc += qh[c * nq + p] * kh[c * T + j];
                s[j] = acc * scale;
            }
            mx = s[0];
            for (int j = 1; j <= tq; j++)
                lanes_max(&mx, &s[j]);
            sum = LANES_SPLAT(0.0f);
            for (int j = 0; j <= tq; j++) {
                s[j] -= mx;
                lanes_exp(&s[j]);
                sum += s[j];
            }
            for (int j = 0; j <= tq; j++)
                s[j] /= sum;
            for (int c = 0; c < hd; c++) {
                lanes_t acc = s[0] * vh[c * T];
                for (int j = 1; j <= tq; j++)
                    acc += s[j] * vh[c * T + j];
                oh[c * nq + p] = acc;
            }
        }
    }
}

void mk_attention_backward(lanes_t *dq, lanes_t *dkv, lanes_t *ds,
                           const lanes_t *dout, const lanes_t *att,
                           const lanes_t *q, const lanes_t *kv,
                           const int *qpos, int nq, int C, int H)
{
    const int T = TADD_CONTEXT, hd = C / H;
    const float scale = 1.0f / sqrtf((float)hd);

    for (int h = 0; h < H; h++) {
        const lanes_t *qh = q + (size_t)h * hd * nq;
        const lanes_t *kh = kv + (size_t)h * hd * T;
        const lanes_t *vh = kv + (size_t)(C + h * hd) * T;
        const lanes_t *doh = dout + (size_t)h * hd * nq;
        lanes_t *dqh = dq + (size_t)h * hd * nq;
        lanes_t *dkh = dkv + (size_t)h * hd * T;
        lanes_t *dvh = dkv + (size_t)(C + h * hd) * T;
        for (int p = 0; p < nq; p++) {
            const lanes_t *pr = att + ((size_t)h * nq + p) * T;
            lanes_t dot = LANES_SPLAT(0.0f);
            int tq = qpos[p];
            for (int j = 0; j <= tq; j++) {
                lanes_t dp = doh[p] * vh[j];
                for (int c = 1; c < hd; c++)
                    dp += doh[c * nq + p] * vh[c * T + j];
                ds[j] = dp;
                dot += pr[j] * dp;
            }
            /* Softmax backward, with the score scale folded in. */
            for (int j = 0; j <= tq; j++)
                ds[j] = pr[j] * (ds[j] - dot) * scale;
            for (int c = 0; c < hd; c++) {
                lanes_t acc = ds[0] * kh[c * T];
                for (int j = 1; j <= tq; j++)
                    acc += ds[j] * kh[c * T + j];
                dqh[c * nq + p] = acc;
            }
            for (int c = 0; c < hd; c++) {
                lanes_t qc = qh[c * nq + p], dc = doh[c * nq + p];
                for (int j = 0; j <= tq; j++) {
                    dkh[c * T + j] += ds[j] * qc;
                    dvh[c * T + j] += pr[j] * dc;
                }
            }
        }
    }
}

double mk_cross_entropy(lanes_t *dlogits, const lanes_t *logits,
                        const int8_t *labels, int nq, int V, float scale)
{
    double loss = 0.0;

    for (int p = 0; p < nq; p++) {
        const int8_t *y = labels + (size_t)p * L;
        lanes_t mx = logits[p], sum = LANES_SPLAT(0.0f);
        for (int v = 1; v < V; v++)
            lanes_max(&mx, &logits[v * nq + p]);
        for (int v = 0; v < V; v++) {
            lanes_t e = logits[v * nq + p] - mx;
            lanes_exp(&e);
            dlogits[v * nq + p] = e;
            sum += e;
        }
        for (int v = 0; v < V; v++)
            dlogits[v * nq + p] /= sum;
        for (int s = 0; s < L; s++) {
            if (y[s] < 0) {
                for (int v = 0; v < V; v++)
                    dlogits[v * nq + p][s] = 0.0f;
                continue;
            }
            loss += (double)mx[s] + log((double)sum[s]) -
                    (double)logits[y[s] * nq + p][s];
            dlogits[y[s] * nq + p][s] -= 1.0f;
            for (int v = 0; v < V; v++)
                dlogits[v * nq + p][s] *= scale;
        }
    }
    return loss;
}
