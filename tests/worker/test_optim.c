/*
 * The optimizer: the learning-rate schedule against the golden vectors,
 * clipping and AdamW against double references computed here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "optim.h"

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)len + 1);
        if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
            free(buf);
            buf = NULL;
        }
        if (buf)
            buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

static cJSON *load_golden(const char *name)
{
    const char *dir = getenv("TADD_GOLDEN_DIR");
    char path[4096];

    REQUIRE(dir != NULL);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = read_text(path);
    if (!text)
        fprintf(stderr, "cannot read %s\n", path);
    REQUIRE(text != NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    REQUIRE(root != NULL);
    return root;
}

static void test_lr_golden(void)
{
    cJSON *root = load_golden("lr_schedule.json");
    struct tadd_lr_schedule sch = {
        .lr = cJSON_GetObjectItem(root, "lr")->valuedouble,
        .warmup_steps =
            (long)cJSON_GetObjectItem(root, "warmup_steps")->valuedouble,
        .train_steps =
            (long)cJSON_GetObjectItem(root, "train_steps")->valuedouble,
        .min_lr_ratio =
            cJSON_GetObjectItem(root, "min_lr_ratio")->valuedouble,
    };
    const cJSON *values = cJSON_GetObjectItem(root, "values");
    const cJSON *row;
    int n = 0;

    REQUIRE(cJSON_IsArray(values));
    cJSON_ArrayForEach(row, values) {
        long step = (long)cJSON_GetArrayItem(row, 0)->valuedouble;
        double want = cJSON_GetArrayItem(row, 1)->valuedouble;
        CHECK_NEAR(tadd_lr_schedule_at(&sch, step), want, 0.0, 1e-9);
        n++;
    }
    CHECK(n >= 10);
    cJSON_Delete(root);
}

static void test_lr_shape(void)
{
    struct tadd_lr_schedule sch = {0.01, 10, 110, 0.1};

    /* Monotone up through warmup, then monotone down to the floor. */
    for (long s = 1; s < 10; s++)
        CHECK(tadd_lr_schedule_at(&sch, s) > tadd_lr_schedule_at(&sch, s - 1));
    CHECK_NEAR(tadd_lr_schedule_at(&sch, 9), 0.01, 0.0, 1e-12);
    CHECK_NEAR(tadd_lr_schedule_at(&sch, 10), 0.01, 0.0, 1e-12);
    for (long s = 11; s < 110; s++)
        CHECK(tadd_lr_schedule_at(&sch, s) < tadd_lr_schedule_at(&sch, s - 1));
    CHECK_NEAR(tadd_lr_schedule_at(&sch, 60), 0.0055, 0.0, 1e-12);
    CHECK_NEAR(tadd_lr_schedule_at(&sch, 110), 0.001, 0.0, 1e-12);
    CHECK_NEAR(tadd_lr_schedule_at(&sch, 5000), 0.001, 0.0, 1e-12);

    /* Without warmup the first step already has the peak rate. */
    struct tadd_lr_schedule flat = {0.02, 0, 100, 0.5};
    CHECK_NEAR(tadd_lr_schedule_at(&flat, 0), 0.02, 0.0, 1e-12);
}

static void test_clip(void)
{
    float g[4] = {3.0f, -4.0f, 0.0f, 12.0f}; /* norm 13 */
    float h[4];

    CHECK_NEAR(tadd_grad_norm(g, 4), 13.0, 0.0, 1e-12);

    for (int i = 0; i < 4; i++)
        h[i] = g[i];
    double norm = tadd_grad_clip(h, 4, 1.0);
    CHECK_NEAR(norm, 13.0, 0.0, 1e-12);
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(h[i], g[i] * (1.0 / (13.0 + 1e-6)), 0.0, 1e-7);
    CHECK_NEAR(tadd_grad_norm(h, 4), 13.0 / (13.0 + 1e-6), 0.0, 1e-7);

    /* Under the limit nothing changes, bit for bit. */
    for (int i = 0; i < 4; i++)
        h[i] = g[i];
    CHECK_NEAR(tadd_grad_clip(h, 4, 20.0), 13.0, 0.0, 1e-12);
    for (int i = 0; i < 4; i++)
        CHECK(h[i] == g[i]);

    /* A zero gradient stays zero. */
    float z[3] = {0.0f, 0.0f, 0.0f};
    CHECK_NEAR(tadd_grad_clip(z, 3, 1.0), 0.0, 0.0, 0.0);
    for (int i = 0; i < 3; i++)
        CHECK(z[i] == 0.0f);
}

/* torch.optim.AdamW's update written out in double. */
static void adamw_reference(double *p, double *m, double *v, const double *g,
                            int n, double lr, double wd, int t)
{
    for (int i = 0; i < n; i++) {
        p[i] -= lr * wd * p[i];
        m[i] = 0.9 * m[i] + 0.1 * g[i];
        v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
        double mhat = m[i] / (1.0 - pow(0.9, t));
        double vhat = v[i] / (1.0 - pow(0.999, t));
        p[i] -= lr * mhat / (sqrt(vhat) + 1e-8);
    }
}

static void test_adamw_first_step(void)
{
    /* On the first step mhat = g and vhat = g^2, so each parameter moves
     * by lr * sign(g) (up to eps) after the decay. */
    float p[3] = {1.0f, -2.0f, 0.5f};
    float m[3] = {0}, v[3] = {0};
    float g[3] = {0.3f, -0.01f, 0.0f};
    struct tadd_adamw opt;

    tadd_adamw_init(&opt, 0.1);
    CHECK_NEAR(opt.beta1, 0.9, 0, 0);
    CHECK_NEAR(opt.beta2, 0.999, 0, 0);
    CHECK_NEAR(opt.eps, 1e-8, 0, 0);
    tadd_adamw_step(p, m, v, g, 3, &opt, 0.01, 1);
    CHECK_NEAR(p[0], 1.0 * (1 - 0.001) - 0.01, 1e-7, 0);
    CHECK_NEAR(p[1], -2.0 * (1 - 0.001) + 0.01, 1e-7, 0);
    CHECK_NEAR(p[2], 0.5 * (1 - 0.001), 1e-7, 0);
    CHECK_NEAR(m[0], 0.03, 0, 1e-6);
    CHECK_NEAR(v[0], 0.001 * 0.09, 0, 1e-6);
}

static void test_adamw_trajectory(void)
{
    enum { N = 7, STEPS = 25 };
    float p[N], m[N] = {0}, v[N] = {0}, g[N];
    double rp[N], rm[N] = {0}, rv[N] = {0}, rg[N];
    struct tadd_adamw opt;

    tadd_adamw_init(&opt, 0.01);
    for (int i = 0; i < N; i++) {
        p[i] = (float)(0.25 * (i - 3));
        rp[i] = p[i];
    }
    for (int t = 1; t <= STEPS; t++) {
        /* A gradient that changes sign and scale over time, including
         * an exact zero at one position. */
        for (int i = 0; i < N; i++) {
            g[i] = (float)(i == 2 ? 0.0 : sin(0.7 * t + i) * (0.1 + i));
            rg[i] = g[i];
        }
        double lr = 0.015 * (1.0 - 0.02 * t);
        tadd_adamw_step(p, m, v, g, N, &opt, lr, t);
        adamw_reference(rp, rm, rv, rg, N, lr, 0.01, t);
    }
    for (int i = 0; i < N; i++) {
        CHECK_NEAR(p[i], rp[i], 1e-6, 1e-6);
        CHECK_NEAR(m[i], rm[i], 1e-7, 1e-6);
        CHECK_NEAR(v[i], rv[i], 1e-9, 1e-6);
    }
}

int main(void)
{
    test_lr_golden();
    test_lr_shape();
    test_clip();
    test_adamw_first_step();
    test_adamw_trajectory();
    CHECK_DONE();
}
