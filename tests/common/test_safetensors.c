/*
 * safetensors reader and writer: the golden files written by an independent
 * implementation, hostile and truncated inputs, and writer -> reader round
 * trips.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "fsutil.h"
#include "safetensors.h"
#include "check.h"

static const char *golden_cases[] = {
    "baseline_896", "full_rank_1128", "low_rank_512_fixed",
    "rmsnorm_shareA_tieKV_456", "two_layer_two_head",
};

static char *golden_path(const char *case_name, const char *file)
{
    const char *dir = getenv("TADD_GOLDEN_DIR");
    size_t len;
    char *p;

    REQUIRE(dir != NULL);
    len = strlen(dir) + strlen(case_name) + strlen(file) + 3;
    p = malloc(len);
    REQUIRE(p != NULL);
    if (case_name[0])
        snprintf(p, len, "%s/%s/%s", dir, case_name, file);
    else
        snprintf(p, len, "%s/%s", dir, file);
    return p;
}

static cJSON *load_json(const char *path)
{
    char err[TADD_ERR_LEN];
    char *text = NULL;
    size_t len;
    cJSON *j;

    if (tadd_read_file(path, 1 << 20, &text, &len, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        REQUIRE(0);
    }
    j = cJSON_Parse(text);
    free(text);
    REQUIRE(j != NULL);
    return j;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/*
 * Checks one tensor's floats against the file's raw bytes, located by a
 * header search independent of the parser: the data offsets are read back
 * from the tensor's position in the raw file.
 */
static void check_raw_bytes(const char *path, const struct tadd_st_file *f)
{
    char err[TADD_ERR_LEN];
    char *raw = NULL;
    size_t len;
    uint64_t hlen = 0;

    REQUIRE(tadd_read_file(path, 1 << 24, &raw, &len, err,
                           sizeof(err)) == 0);
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | (unsigned char)raw[i];
    CHECK_INT_EQ(hlen % 8, 0);
    /* The tensors are contiguous in these files; the sum of their sizes
     * must fill the data section exactly. */
    {
        int64_t total = 0;
        for (int i = 0; i < f->n_tensors; i++)
            total += f->tensors[i].numel * 4;
        CHECK_INT_EQ(total, (int64_t)(len - 8 - hlen));
    }
    /* The first tensor of the header starts at offset 0 in these files. */
    {
        const char *first = strchr(raw + 8, '"');
        char name[128];
        const char *q;
        const struct tadd_st_tensor *t;
        REQUIRE(first != NULL);
        q = strchr(first + 1, '"');
        REQUIRE(q != NULL && (size_t)(q - first - 1) < sizeof(name));
        memcpy(name, first + 1, (size_t)(q - first - 1));
        name[q - first - 1] = '\0';
        t = tadd_st_find(f, name);
        REQUIRE(t != NULL);
        CHECK(memcmp(t->data, raw + 8 + hlen, (size_t)t->numel * 4) == 0);
    }
    free(raw);
}

static void test_golden_case(const char *case_name, const cJSON *index)
{
    char err[TADD_ERR_LEN] = "";
    struct tadd_st_file w, e;
    struct tadd_model_config from_file, from_meta;
    char *wpath = golden_path(case_name, "weights.safetensors");
    char *epath = golden_path(case_name, "expected.safetensors");
    char *cpath = golden_path(case_name, "config.json");
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(index, case_name);
    const struct tadd_st_tensor *logits, *loss, *tok;
    cJSON *cj, *mj;
    int64_t trainable = 0;
    int n_grads = 0;

    if (tadd_st_read(wpath, &w, err, sizeof(err)) != 0)
        fprintf(stderr, "%s\n", err);
    REQUIRE(w.n_tensors > 0);
    if (tadd_st_read(epath, &e, err, sizeof(err)) != 0)
        fprintf(stderr, "%s\n", err);
    REQUIRE(e.n_tensors > 0);
    check_raw_bytes(wpath, &w);
    check_raw_bytes(epath, &e);

    /* config.json and the checkpoint's model_config describe the same
     * model. */
    cj = load_json(cpath);
    CHECK_INT_EQ(tadd_model_config_from_json(&from_file, cj, "config.json",
                                             err, sizeof(err)), 0);
    CHECK_STR_EQ(tadd_st_meta(&w, "format"), "tadd-checkpoint/1");
    REQUIRE(tadd_st_meta(&w, "model_config") != NULL);
    mj = cJSON_Parse(tadd_st_meta(&w, "model_config"));
    REQUIRE(mj != NULL);
    CHECK_INT_EQ(tadd_model_config_from_json(&from_meta, mj, "model_config",
                                             err, sizeof(err)), 0);
    CHECK(memcmp(&from_file, &from_meta, sizeof(from_file)) == 0);
    CHECK_STR_EQ(tadd_st_meta(&e, "case"), case_name);

    tok = tadd_st_find(&w, "token_emb.weight");
    REQUIRE(tok != NULL);
    CHECK_INT_EQ(tok->ndim, 2);
    CHECK_INT_EQ(tok->shape[0], TADD_VOCAB);
    CHECK_INT_EQ(tok->shape[1], from_file.d_model);

    /* Trainable scalars: every tensor but the fixed terms, which must
     * match the independent implementation's count. */
    for (int i = 0; i < w.n_tensors; i++) {
        const struct tadd_st_tensor *t = &w.tensors[i];
        char gname[160];
        const struct tadd_st_tensor *g;
        if (ends_with(t->name, "W_fixed"))
            continue;
        trainable += t->numel;
        snprintf(gname, sizeof(gname), "grad.%s", t->name);
        g = tadd_st_find(&e, gname);
        CHECK(g != NULL);
        if (g) {
            n_grads++;
            CHECK_INT_EQ(g->ndim, t->ndim);
            CHECK_INT_EQ(g->numel, t->numel);
        }
    }
    REQUIRE(entry != NULL);
    CHECK_INT_EQ(trainable,
                 cJSON_GetObjectItemCaseSensitive(entry, "params")->valueint);
    CHECK(n_grads > 5);

    logits = tadd_st_find(&e, "logits");
    REQUIRE(logits != NULL);
    CHECK_INT_EQ(logits->ndim, 3);
    CHECK_INT_EQ(logits->shape[0], 8);
    CHECK_INT_EQ(logits->shape[1], TADD_CONTEXT);
    CHECK_INT_EQ(logits->shape[2], TADD_VOCAB);
    loss = tadd_st_find(&e, "loss");
    REQUIRE(loss != NULL);
    CHECK_INT_EQ(loss->numel, 1);
    CHECK_NEAR(loss->data[0],
               cJSON_GetObjectItemCaseSensitive(entry, "loss")->valuedouble,
               1e-6, 1e-6);
    CHECK(tadd_st_find(&e, "no.such.tensor") == NULL);
    CHECK(tadd_st_meta(&e, "no_such_key") == NULL);

    cJSON_Delete(cj);
    cJSON_Delete(mj);
    tadd_st_free(&w);
    tadd_st_free(&e);
    free(wpath);
    free(epath);
    free(cpath);
}

static void test_golden(void)
{
    char *ipath = golden_path("", "index.json");
    cJSON *index = load_json(ipath);

    for (size_t i = 0; i < sizeof(golden_cases) / sizeof(golden_cases[0]);
         i++)
        test_golden_case(golden_cases[i], index);
    cJSON_Delete(index);
    free(ipath);
}

/* A file image: 8-byte length, header text (unpadded), then data_len bytes
 * of a recognisable pattern. */
static unsigned char *make_file(const char *header, size_t data_len,
                                size_t *len)
{
    size_t hlen = strlen(header);
    unsigned char *buf = malloc(8 + hlen + data_len + 1);

    REQUIRE(buf != NULL);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + hlen + i] = (unsigned char)(i * 7 + 1);
    *len = 8 + hlen + data_len;
    return buf;
}

/* Parses header + data and expects a refusal whose message has want. */
static void expect_bad(const char *header, size_t data_len, const char *want)
{
    char err[TADD_ERR_LEN] = "";
    struct tadd_st_file f;
    size_t len;
    unsigned char *buf = make_file(header, data_len, &len);
    int rc = tadd_st_parse(buf, len, "bad.safetensors", &f, err,
                           sizeof(err));

    CHECK_INT_EQ(rc, -1);
    CHECK_STR_HAS(err, "bad.safetensors");
    CHECK_STR_HAS(err, want);
    CHECK_INT_EQ(f.n_tensors, 0);
    CHECK(f.tensors == NULL);
    free(buf);
}

static void expect_good(const char *header, size_t data_len, int n_tensors)
{
    char err[TADD_ERR_LEN] = "";
    struct tadd_st_file f;
    size_t len;
    unsigned char *buf = make_file(header, data_len, &len);
    int rc = tadd_st_parse(buf, len, "good.safetensors", &f, err,
                           sizeof(err));

    if (rc != 0)
        fprintf(stderr, "unexpected refusal: %s\n", err);
    CHECK_INT_EQ(rc, 0);
    CHECK_INT_EQ(f.n_tensors, n_tensors);
    tadd_st_free(&f);
    free(buf);
}

static void test_malformed(void)
{
    char err[TADD_ERR_LEN] = "";
    struct tadd_st_file f;
    unsigned char small[5] = {1, 0, 0, 0, 0};
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    unsigned char past[12] = {9, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' '};
    const char *ok =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}";

    /* Truncations. */
    CHECK_INT_EQ(tadd_st_parse(small, sizeof(small), "t.st", &f, err,
                               sizeof(err)), -1);
    CHECK_STR_HAS(err, "truncated");
    CHECK_INT_EQ(tadd_st_parse(huge, sizeof(huge), "t.st", &f, err,
                               sizeof(err)), -1);
    CHECK_STR_HAS(err, "past the end");
    CHECK_INT_EQ(tadd_st_parse(past, sizeof(past), "t.st", &f, err,
                               sizeof(err)), -1);
    CHECK_STR_HAS(err, "header length 9");
    {
        size_t len;
        unsigned char *buf = make_file(ok, 32, &len);
        /* Every prefix of a good file is refused without a crash. */
        for (size_t cut = 0; cut < len; cut++) {
            int rc = tadd_st_parse(buf, cut, "cut.st", &f, err, sizeof(err));
            CHECK_INT_EQ(rc, -1);
        }
        CHECK_INT_EQ(tadd_st_parse(buf, len, "cut.st", &f, err,
                                   sizeof(err)), 0);
        CHECK_INT_EQ(f.n_tensors, 2);
        CHECK_INT_EQ(tadd_st_find(&f, "a")->shape[1], 3);
        tadd_st_free(&f);
        free(buf);
    }
    expect_good(ok, 32, 2);
    /* Data missing at the end of the file. */
    expect_bad(ok, 31, "outside the 31 bytes");

    /* JSON trouble. */
    expect_bad("{\"a\":", 0, "not valid JSON");
    expect_bad("[1,2]", 0, "not a JSON object");
    expect_bad("{} x", 0, "after its JSON object");
    expect_bad("\"abc\"", 0, "not a JSON object");
    {
        /* make_file uses strlen, so this one is built by hand. */
        unsigned char buf[8 + 8];
        memset(buf, 0, sizeof(buf));
        buf[0] = 8;
        memcpy(buf + 8, "{\"a\":1", 6);
        buf[14] = '\0';
        buf[15] = '}';
        CHECK_INT_EQ(tadd_st_parse(buf, sizeof(buf), "nul.st", &f, err,
                                   sizeof(err)), -1);
        CHECK_STR_HAS(err, "NUL byte");
    }

    /* Entries. */
    expect_bad("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],"
               "\"data_offsets\":[0,4]}}", 4, "dtype F16 not supported");
    expect_bad("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],"
               "\"data_offsets\":[0,4]}}", 4, "tensor \"a\"");
    expect_bad("{\"a\":{\"dtype\":3,\"shape\":[2],"
               "\"data_offsets\":[0,8]}}", 8, "dtype is not a string");
    expect_bad("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
               "missing \"dtype\"");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8,
               "missing \"shape\"");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8,
               "missing \"data_offsets\"");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,8],\"extra\":1}}", 8,
               "unknown key \"extra\"");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,8]}}", 8, "given twice");
    expect_bad("{\"a\":[1,2]}", 8, "tensor \"a\" is not an object");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],"
               "\"data_offsets\":[0,8]}}", 12, "shape holds 3 floats");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],"
               "\"data_offsets\":[0,8]}}", 16, "data_offsets span 8 bytes");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],"
               "\"data_offsets\":[0,8]}}", 8, "shape[0]");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],"
               "\"data_offsets\":[0,8]}}", 8, "shape[0]");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],"
               "\"data_offsets\":[0,8]}}", 8, "shape[0]");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":2,"
               "\"data_offsets\":[0,8]}}", 8, "shape is not an array");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],"
               "\"data_offsets\":[0,8]}}", 8, "more than 4 dimensions");
    /* A shape whose product overflows 64 bits must not wrap around to a
     * size matching the range. */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,"
               "1073741824],\"data_offsets\":[0,0]}}", 0,
               "shape needs more bytes");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0]}}", 8, "two non-negative integers");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,8,16]}}", 16, "two non-negative");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[-8,0]}}", 8, "two non-negative");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[8,0]}}", 8, "outside");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[8,16]}}", 12, "outside the 12 bytes");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,1e300]}}", 8, "two non-negative");

    /* Ranges against each other. */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[4,12]}}", 12, "overlap");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],"
               "\"data_offsets\":[0,16]},"
               "\"e\":{\"dtype\":\"F32\",\"shape\":[0],"
               "\"data_offsets\":[4,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],"
               "\"data_offsets\":[8,12]}}", 16, "\"a\" and \"b\" overlap");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,8]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[8,16]}}", 16, "tensor \"a\" given twice");
    expect_bad("{\"\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,8]}}", 8, "empty name");
    /* The same bytes for two tensors is an overlap too. */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[0,8]}}", 8, "overlap");

    /* Metadata. */
    expect_bad("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__.k is not");
    expect_bad("{\"__metadata__\":[1]}", 0, "not an object");
    expect_bad("{\"__metadata__\":{},\"__metadata__\":{}}", 0,
               "__metadata__ given twice");
    expect_bad("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
               "__metadata__.k given twice");

    /* Tolerated: no tensors, a scalar, empty tensors, gaps, padding. */
    expect_good("{}", 0, 0);
    expect_good("{\"__metadata__\":{\"format\":\"x\"}}  \n", 0, 0);
    expect_good("{\"s\":{\"dtype\":\"F32\",\"shape\":[],"
                "\"data_offsets\":[0,4]}}", 4, 1);
    expect_good("{\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],"
                "\"data_offsets\":[0,0]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                "\"data_offsets\":[0,4]}}", 4, 2);
    expect_good("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],"
                "\"data_offsets\":[8,12]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                "\"data_offsets\":[0,4]}}", 16, 2);

    /* A file that does not exist is named in the error. */
    CHECK_INT_EQ(tadd_st_read("/nonexistent/x.safetensors", &f, err,
                              sizeof(err)), -1);
    CHECK_STR_HAS(err, "/nonexistent/x.safetensors");
}

/* Makes a private scratch folder under the build tree or /tmp. */
static char *scratch_dir(void)
{
    char tmpl[] = "/tmp/tadd-test-st-XXXXXX";
    char *d = mkdtemp(tmpl);

    REQUIRE(d != NULL);
    return strdup(d);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    REQUIRE(d != NULL);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_roundtrip(void)
{
    char err[TADD_ERR_LEN] = "";
    char *dir = scratch_dir();
    char path[512];
    struct tadd_st_writer *w = tadd_st_writer_new();
    struct tadd_st_file f;
    struct stat st;
    float a[6] = {1.5f, -2.25f, 3.0f, 1e-30f, -0.0f, 65504.0f};
    float b[3] = {0.1f, 0.2f, 0.3f};
    float s = 42.0f;
    int64_t sa[2] = {2, 3}, sb[1] = {3}, bad[1] = {-1};
    char *raw = NULL;
    size_t len;
    uint64_t hlen = 0;

    REQUIRE(w != NULL);
    snprintf(path, sizeof(path), "%s/model.safetensors", dir);
    CHECK_INT_EQ(tadd_st_writer_add(w, "blocks.0.attn.qkv.A", 2, sa, a), 0);
    CHECK_INT_EQ(tadd_st_writer_add(w, "ln_f.weight", 1, sb, b), 0);
    CHECK_INT_EQ(tadd_st_writer_add(w, "scalar", 0, NULL, &s), 0);
    /* Refusals: duplicate name, bad shape, reserved name, no name. */
    CHECK_INT_EQ(tadd_st_writer_add(w, "ln_f.weight", 1, sb, b), -1);
    CHECK_INT_EQ(tadd_st_writer_add(w, "neg", 1, bad, b), -1);
    CHECK_INT_EQ(tadd_st_writer_add(w, "__metadata__", 1, sb, b), -1);
    CHECK_INT_EQ(tadd_st_writer_add(w, "", 1, sb, b), -1);
    CHECK_INT_EQ(tadd_st_writer_add(w, "five", 5, sa, b), -1);
    CHECK_INT_EQ(tadd_st_writer_meta(w, "format", "tadd-checkpoint/1"), 0);
    CHECK_INT_EQ(tadd_st_writer_meta(w, "model_config", "{\"d\": \"x\"}"), 0);
    CHECK_INT_EQ(tadd_st_writer_meta(w, "step", "1"), 0);
    CHECK_INT_EQ(tadd_st_writer_meta(w, "step", "100"), 0);
    /* The caller's buffer may change after add: the writer copied it. */
    a[0] = 99.0f;
    if (tadd_st_writer_save(w, path, err, sizeof(err)) != 0)
        fprintf(stderr, "%s\n", err);
    REQUIRE(tadd_path_exists(path));
    tadd_st_writer_free(w);

    REQUIRE(stat(path, &st) == 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    CHECK_INT_EQ(count_entries(dir), 1);

    REQUIRE(tadd_read_file(path, 1 << 20, &raw, &len, err,
                           sizeof(err)) == 0);
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | (unsigned char)raw[i];
    CHECK_INT_EQ(hlen % 8, 0);
    CHECK_INT_EQ(len, 8 + hlen + (6 + 3 + 1) * 4);
    free(raw);

    REQUIRE(tadd_st_read(path, &f, err, sizeof(err)) == 0);
    CHECK_INT_EQ(f.n_tensors, 3);
    CHECK_STR_EQ(f.tensors[0].name, "blocks.0.attn.qkv.A");
    CHECK_INT_EQ(f.tensors[0].ndim, 2);
    CHECK_INT_EQ(f.tensors[0].shape[0], 2);
    CHECK_INT_EQ(f.tensors[0].shape[1], 3);
    CHECK(f.tensors[0].data[0] == 1.5f);
    CHECK(memcmp(f.tensors[0].data + 1, a + 1, 5 * sizeof(float)) == 0);
    CHECK(memcmp(tadd_st_find(&f, "ln_f.weight")->data, b, sizeof(b)) == 0);
    CHECK_INT_EQ(tadd_st_find(&f, "scalar")->ndim, 0);
    CHECK_INT_EQ(tadd_st_find(&f, "scalar")->numel, 1);
    CHECK(tadd_st_find(&f, "scalar")->data[0] == 42.0f);
    CHECK_STR_EQ(tadd_st_meta(&f, "format"), "tadd-checkpoint/1");
    CHECK_STR_EQ(tadd_st_meta(&f, "model_config"), "{\"d\": \"x\"}");
    CHECK_STR_EQ(tadd_st_meta(&f, "step"), "100");
    CHECK_INT_EQ(f.n_meta, 3);
    tadd_st_free(&f);
    CHECK_INT_EQ(f.n_tensors, 0);

    /* An empty writer gives a valid, empty file, overwriting the old. */
    w = tadd_st_writer_new();
    REQUIRE(w != NULL);
    CHECK_INT_EQ(tadd_st_writer_save(w, path, err, sizeof(err)), 0);
    tadd_st_writer_free(w);
    REQUIRE(tadd_st_read(path, &f, err, sizeof(err)) == 0);
    CHECK_INT_EQ(f.n_tensors, 0);
    CHECK_INT_EQ(f.n_meta, 0);
    tadd_st_free(&f);

    /* A folder that does not exist: an error naming the path, and
     * nothing left behind. */
    w = tadd_st_writer_new();
    REQUIRE(w != NULL);
    CHECK_INT_EQ(tadd_st_writer_add(w, "x", 1, sb, b), 0);
    snprintf(path, sizeof(path), "%s/missing/model.safetensors", dir);
    CHECK_INT_EQ(tadd_st_writer_save(w, path, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "missing/model.safetensors");
    tadd_st_writer_free(w);
    CHECK_INT_EQ(count_entries(dir), 1);

    snprintf(path, sizeof(path), "%s/model.safetensors", dir);
    unlink(path);
    rmdir(dir);
    free(dir);
}

/* Golden weights rewritten by this writer read back identical. */
static void test_golden_rewrite(void)
{
    char err[TADD_ERR_LEN] = "";
    char *wpath = golden_path("two_layer_two_head", "weights.safetensors");
    char *dir = scratch_dir();
    char path[512];
    struct tadd_st_file a, b;
    struct tadd_st_writer *w = tadd_st_writer_new();

    REQUIRE(w != NULL);
    REQUIRE(tadd_st_read(wpath, &a, err, sizeof(err)) == 0);
    for (int i = 0; i < a.n_tensors; i++)
        CHECK_INT_EQ(tadd_st_writer_add(w, a.tensors[i].name,
                                        a.tensors[i].ndim, a.tensors[i].shape,
                                        a.tensors[i].data), 0);
    for (int i = 0; i < a.n_meta; i++)
        CHECK_INT_EQ(tadd_st_writer_meta(w, a.meta_keys[i],
                                         a.meta_values[i]), 0);
    snprintf(path, sizeof(path), "%s/copy.safetensors", dir);
    REQUIRE(tadd_st_writer_save(w, path, err, sizeof(err)) == 0);
    REQUIRE(tadd_st_read(path, &b, err, sizeof(err)) == 0);
    CHECK_INT_EQ(b.n_tensors, a.n_tensors);
    for (int i = 0; i < a.n_tensors && i < b.n_tensors; i++) {
        CHECK_STR_EQ(a.tensors[i].name, b.tensors[i].name);
        CHECK_INT_EQ(a.tensors[i].numel, b.tensors[i].numel);
        CHECK(memcmp(a.tensors[i].shape, b.tensors[i].shape,
                     sizeof(a.tensors[i].shape)) == 0);
        CHECK(memcmp(a.tensors[i].data, b.tensors[i].data,
                     (size_t)a.tensors[i].numel * 4) == 0);
    }
    CHECK_STR_EQ(tadd_st_meta(&b, "model_config"),
                 tadd_st_meta(&a, "model_config"));
    tadd_st_free(&a);
    tadd_st_free(&b);
    tadd_st_writer_free(w);
    unlink(path);
    rmdir(dir);
    free(dir);
    free(wpath);
}

/* A small deterministic generator for the mutation test. */
static uint64_t fuzz_next(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 33;
}

/*
 * Random byte flips, insertions of structural characters and truncations
 * of a golden file: each parse either succeeds with every tensor's data
 * inside the file or fails with a message naming the file. Under
 * valgrind or a sanitizer this also shows that no mutation reads out of
 * bounds or leaks.
 */
static void test_mutations(void)
{
    static const char specials[] = "{}[]\",:0123456789-.e \\";
    char err[TADD_ERR_LEN];
    char *path = golden_path("low_rank_512_fixed", "weights.safetensors");
    char *raw = NULL;
    size_t len;
    uint64_t rng = 12345;
    int ok = 0, refused = 0;

    REQUIRE(tadd_read_file(path, 1 << 20, &raw, &len, err,
                           sizeof(err)) == 0);
    for (int round = 0; round < 3000; round++) {
        unsigned char *buf = malloc(len);
        struct tadd_st_file f;
        size_t n = len;
        int edits = 1 + (int)(fuzz_next(&rng) % 4);
        REQUIRE(buf != NULL);
        memcpy(buf, raw, len);
        for (int e = 0; e < edits; e++) {
            /* Mostly the header, where the parser's decisions are. The
             * two draws are apart so their order is fixed (C leaves the
             * order of a %'s operands open), and an earlier cut to
             * nothing leaves nothing to edit. */
            size_t hdr = 8 + 1928;
            size_t lim = fuzz_next(&rng) % 4 ? hdr : n;
            size_t at;
            if (lim == 0)
                break;
            at = fuzz_next(&rng) % lim;
            switch (fuzz_next(&rng) % 3) {
            case 0:
                buf[at] = (unsigned char)fuzz_next(&rng);
                break;
            case 1:
                buf[at] = (unsigned char)
                    specials[fuzz_next(&rng) % (sizeof(specials) - 1)];
                break;
            default:
                n = at;
                break;
            }
        }
        err[0] = '\0';
        if (tadd_st_parse(buf, n, "mutant", &f, err, sizeof(err)) == 0) {
            int64_t total = 0;
            ok++;
            for (int i = 0; i < f.n_tensors; i++)
                total += f.tensors[i].numel * 4;
            CHECK(total <= (int64_t)n);
            tadd_st_free(&f);
        } else {
            refused++;
            CHECK_STR_HAS(err, "mutant");
            CHECK(f.n_tensors == 0 && f.tensors == NULL);
        }
        free(buf);
    }
    /* Both outcomes occur, or the mutations test nothing. */
    CHECK(ok > 0);
    CHECK(refused > 1000);
    free(raw);
    free(path);
}

/* Escapes and nesting that trip simple JSON handling. */
static void test_json_edges(void)
{
    char *deep = malloc(20000);
    size_t n = 0;

    expect_bad("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],"
               "\"data_offsets\":[0,4]}}", 4, "\\u0000");
    expect_bad("{\"__metadata__\":{\"k\":\"x\\u0000\"}}", 0, "\\u0000");
    /* An escaped backslash before u0000 is ordinary text. */
    expect_good("{\"__metadata__\":{\"k\":\"x\\\\u0000\"}}", 0, 0);
    /* Nesting far past cJSON's limit is refused, not a stack overflow. */
    REQUIRE(deep != NULL);
    n += (size_t)sprintf(deep, "{\"__metadata__\":");
    for (int i = 0; i < 5000; i++)
        deep[n++] = '[';
    for (int i = 0; i < 5000; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    expect_bad(deep, 0, "not valid JSON");
    free(deep);
}

int main(void)
{
    test_golden();
    test_malformed();
    test_roundtrip();
    test_golden_rewrite();
    test_mutations();
    test_json_edges();
    CHECK_DONE();
}
