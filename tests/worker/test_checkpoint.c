/*
 * Checkpoints: every golden weights file (written by an independent
 * implementation) loads; a model saved and loaded again is the same model;
 * the resume state round-trips its progress exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "checkpoint.h"
#include "resume.h"
#include "safetensors.h"

static const char *const cases[] = {
    "baseline_896", "full_rank_1128", "low_rank_512_fixed",
    "rmsnorm_shareA_tieKV_456", "two_layer_two_head",
};

static void check_same_model(const struct tadd_model *a,
                             const struct tadd_model *b)
{
    CHECK_INT_EQ(a->n_params, b->n_params);
    CHECK_INT_EQ(a->n_fixed, b->n_fixed);
    CHECK_INT_EQ(a->n_tensors, b->n_tensors);
    if (a->n_params == b->n_params)
        CHECK(memcmp(a->params, b->params, a->n_params * 4) == 0);
    if (a->n_fixed == b->n_fixed && a->n_fixed)
        CHECK(memcmp(a->fixed, b->fixed, a->n_fixed * 4) == 0);
}

static void test_golden_roundtrip(const char *dir, const char *tmp)
{
    char path[1024], out[1024], err[TADD_ERR_LEN];
    struct tadd_model m, again;
    struct tadd_checkpoint_meta meta = {0};
    struct tadd_train_config train;
    struct tadd_config cfg;
    struct tadd_st_file f;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s/weights.safetensors", dir,
                 cases[i]);
        if (tadd_checkpoint_load(path, &m, err, sizeof err) != 0) {
            CHECK_FAIL_("%s: %s", cases[i], err);
            continue;
        }
        REQUIRE(tadd_st_read(path, &f, err, sizeof err) == 0);
        CHECK_INT_EQ(f.n_tensors, m.n_tensors);
        tadd_st_free(&f);

        tadd_config_defaults(&cfg);
        train = cfg.train;
        meta.trained = 1;
        meta.train = &train;
        meta.seed = 42;
        meta.step = 1234;
        meta.val_exact = 0.5;
        snprintf(out, sizeof out, "%s/%s.safetensors", tmp, cases[i]);
        CHECK(tadd_checkpoint_save(&m, &meta, out, err, sizeof err) == 0);
        CHECK(tadd_checkpoint_load(out, &again, err, sizeof err) == 0);
        check_same_model(&m, &again);
        REQUIRE(tadd_st_read(out, &f, err, sizeof err) == 0);
        CHECK_STR_EQ(tadd_st_meta(&f, "format"), "tadd-checkpoint/1");
        CHECK_STR_EQ(tadd_st_meta(&f, "seed"), "42");
        CHECK_STR_EQ(tadd_st_meta(&f, "step"), "1234");
        CHECK(tadd_st_meta(&f, "train_config") != NULL);
        tadd_st_free(&f);
        tadd_model_destroy(&again);
        tadd_model_destroy(&m);
        unlink(out);
    }
}

static void test_resume_roundtrip(const char *tmp)
{
    enum { N = 5 };
    float arrays[2][4][N];
    struct tadd_resume_model models[2], back[2];
    struct tadd_resume_state st = {0}, in = {0};
    char path[1024], err[TADD_ERR_LEN];
    float got[2][4][N];

    memset(models, 0, sizeof models);
    for (int i = 0; i < 2; i++) {
        for (int a = 0; a < 4; a++)
            for (int k = 0; k < N; k++)
                arrays[i][a][k] = (float)(i * 100 + a * 10 + k) / 7.0f;
        models[i].n_params = N;
        models[i].params = arrays[i][0];
        models[i].adam_m = arrays[i][1];
        models[i].adam_v = arrays[i][2];
        models[i].best = arrays[i][3];
        models[i].progress.seed = 40 + (uint64_t)i;
        models[i].progress.status = i ? TADD_MODEL_DIVERGED
                                      : TADD_MODEL_TRAINING;
        models[i].progress.best_val_exact = 0.1 + i;
        models[i].progress.best_step = 500;
        models[i].progress.first_success_step = -1;
        models[i].progress.first_success_elapsed = 1.0 / 3.0;
        models[i].progress.diverged_step = i ? 777 : -1;
        models[i].progress.loss_sum = 2.718281828459045;
        models[i].progress.loss_count = 17;
        models[i].progress.last_val_exact = 0.3;
        models[i].progress.last_val_token_acc = 0.7;
        models[i].progress.last_eval_step = 500;
    }
    st.step = 600;
    st.elapsed = 12.5;
    snprintf(st.kernels, sizeof st.kernels, "avx2-fma");
    st.n_models = 2;
    st.models = models;
    snprintf(path, sizeof path, "%s/pack.state", tmp);
    REQUIRE(tadd_resume_save(&st, path, err, sizeof err) == 0);

    memset(back, 0, sizeof back);
    for (int i = 0; i < 2; i++) {
        back[i].n_params = N;
        back[i].params = got[i][0];
        back[i].adam_m = got[i][1];
        back[i].adam_v = got[i][2];
        back[i].best = got[i][3];
        back[i].progress.seed = 40 + (uint64_t)i;
    }
    in.n_models = 2;
    in.models = back;
    CHECK(tadd_resume_load(&in, path, err, sizeof err) == 0);
    CHECK_INT_EQ(in.step, 600);
    CHECK(in.elapsed == 12.5);
    CHECK_STR_EQ(in.kernels, "avx2-fma");
    CHECK(memcmp(got, arrays, sizeof got) == 0);
    for (int i = 0; i < 2; i++) {
        const struct tadd_model_progress *g = &back[i].progress;
        const struct tadd_model_progress *w = &models[i].progress;
        CHECK_INT_EQ(g->status, w->status);
        CHECK(g->best_val_exact == w->best_val_exact);
        CHECK_INT_EQ(g->best_step, w->best_step);
        CHECK_INT_EQ(g->first_success_step, w->first_success_step);
        CHECK(g->first_success_elapsed == w->first_success_elapsed);
        CHECK_INT_EQ(g->diverged_step, w->diverged_step);
        CHECK(g->loss_sum == w->loss_sum);
        CHECK_INT_EQ(g->loss_count, w->loss_count);
        CHECK(g->last_val_exact == w->last_val_exact);
        CHECK(g->last_val_token_acc == w->last_val_token_acc);
        CHECK_INT_EQ(g->last_eval_step, w->last_eval_step);
    }

    /* A state that does not say which engine copy trained it (written
     * before the field existed) loads, its copy unknown. */
    st.kernels[0] = '\0';
    REQUIRE(tadd_resume_save(&st, path, err, sizeof err) == 0);
    snprintf(in.kernels, sizeof in.kernels, "stale");
    CHECK(tadd_resume_load(&in, path, err, sizeof err) == 0);
    CHECK_STR_EQ(in.kernels, "");

    /* A state for other seeds is refused, naming the file. */
    back[1].progress.seed = 99;
    CHECK(tadd_resume_load(&in, path, err, sizeof err) != 0);
    CHECK_STR_HAS(err, "seed");
    CHECK_STR_HAS(err, path);
    back[1].progress.seed = 41;
    unlink(path);
}

/* A state whose engine copy is not a short string is malformed. */
static void test_resume_bad_kernels(const char *tmp)
{
    static const char *const bad[] = {
        "5", "\"a-name-far-too-long-for-any-copy\"", "null"};
    float zero[1] = {0};
    int64_t shape[1] = {1};
    char path[1024], meta[512], err[TADD_ERR_LEN];

    snprintf(path, sizeof path, "%s/bad.state", tmp);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tadd_st_writer *w = tadd_st_writer_new();
        struct tadd_resume_model m = {0};
        struct tadd_resume_state in = {0};
        float p[1], mo[1], v[1], b[1];
        const char *names[4] = {"m0.params", "m0.adam_m", "m0.adam_v",
                                "m0.best"};

        REQUIRE(w);
        snprintf(meta, sizeof meta,
                 "{\"format\":\"tadd-resume/1\",\"step\":\"1\","
                 "\"elapsed\":\"0\",\"kernels\":%s,\"models\":[]}",
                 bad[i]);
        REQUIRE(tadd_st_writer_meta(w, "tadd_state", meta) == 0);
        for (int a = 0; a < 4; a++)
            REQUIRE(tadd_st_writer_add(w, names[a], 1, shape, zero) == 0);
        REQUIRE(tadd_st_writer_save(w, path, err, sizeof err) == 0);
        tadd_st_writer_free(w);
        m.n_params = 1;
        m.params = p;
        m.adam_m = mo;
        m.adam_v = v;
        m.best = b;
        in.n_models = 0;
        in.models = &m;
        CHECK(tadd_resume_load(&in, path, err, sizeof err) != 0);
        CHECK_STR_HAS(err, "malformed tadd_state");
        CHECK_STR_HAS(err, path);
    }
    unlink(path);
}

int main(void)
{
    const char *golden = getenv("TADD_GOLDEN_DIR");
    char tmp[] = "/tmp/tadd-ckpt.XXXXXX";

    REQUIRE(golden != NULL);
    REQUIRE(mkdtemp(tmp) != NULL);
    test_golden_roundtrip(golden, tmp);
    test_resume_roundtrip(tmp);
    test_resume_bad_kernels(tmp);
    rmdir(tmp);
    CHECK_DONE();
}
