/*
 * Hostile files: sweep files (through tadd_sweep_load, as taddctl and
 * taddd read them), pack files (through `tadd-worker train --pack`) and
 * checkpoints (through `tadd-worker eval`). Each case is a row of
 * docs/hostile-inputs.md: the input is refused, quickly, with a message
 * that names the file and holds the row's text, and for the worker with
 * exit status 1 and nothing written. The test also checks that every
 * case has its row in the document, with the same expected text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "clock.h"
#include "doc_rows.h"
#include "sweep.h"

extern char **environ;

enum via { VIA_SWEEP, VIA_PACK, VIA_CKPT };

/* Builds the hostile input into a buffer; the test writes it to a file. */
struct buf {
    char *p;
    size_t len, cap;
};

struct hcase {
    const char *id;
    enum via via;
    const char *text;            /* the input, when it is a short text */
    void (*make)(struct buf *b); /* or the function that builds it */
    const char *expect;          /* part of the message */
    double max_sec;              /* refused within this time (0: 10 s) */
};

static char tmp_dir[] = "/tmp/tadd-hostile.XXXXXX";
static char worker[4096];
static struct buf good_ckpt; /* a fresh model's checkpoint */

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        REQUIRE(b->p != NULL);
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    REQUIRE(n >= 0 && (size_t)n < sizeof(tmp));
    buf_add(b, tmp, (size_t)n);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    REQUIRE(f != NULL);
    REQUIRE(fwrite(p, 1, n, f) == n);
    REQUIRE(fclose(f) == 0);
}

static void read_file(const char *path, struct buf *b)
{
    char tmp[65536];
    FILE *f = fopen(path, "rb");
    size_t n;

    b->len = 0;
    buf_add(b, "", 0);
    REQUIRE(f != NULL);
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_add(b, tmp, n);
    fclose(f);
}

/*
 * Runs argv with stdout and stderr into out_path; returns the exit
 * status, or 128 + the signal that ended it.
 */
static int run(char *const argv[], const char *out_path)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    REQUIRE(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* ---- sweep files ---- */

static void make_big_grid(struct buf *b)
{
    buf_str(b, "{\"name\": \"huge\", \"grid\": {\"lr\": [");
    for (int i = 0; i < 200; i++)
        buf_printf(b, "%s%g", i ? ", " : "", 0.001 + i * 1e-5);
    buf_str(b, "], \"weight_decay\": [");
    for (int i = 0; i < 200; i++)
        buf_printf(b, "%s%g", i ? ", " : "", i * 1e-4);
    buf_str(b, "]}}");
}

static void make_deep(struct buf *b)
{
    buf_str(b, "{\"name\": \"deep\", \"description\": ");
    for (int i = 0; i < 100000; i++)
        buf_str(b, "[");
    for (int i = 0; i < 100000; i++)
        buf_str(b, "]");
    buf_str(b, "}");
}

static void make_ten_mb(struct buf *b)
{
    buf_str(b, "{\"name\": \"big\", \"description\": \"");
    for (int i = 0; i < 10 * 1024; i++) {
        char kb[1024];
        memset(kb, 'x', sizeof(kb));
        buf_add(b, kb, sizeof(kb));
    }
    buf_str(b, "\"}");
}

static void make_bad_utf8(struct buf *b)
{
    /* A broken two-byte sequence and a lone surrogate. */
    buf_str(b, "{\"name\": \"u\", \"description\": "
               "\"caf\xc3\x28 \xed\xa0\x80\"}");
}

static void make_long_description(struct buf *b)
{
    buf_str(b, "{\"name\": \"d\", \"description\": \"");
    for (int i = 0; i < 5000; i++)
        buf_str(b, "y");
    buf_str(b, "\"}");
}

static void make_many_keys(struct buf *b)
{
    buf_str(b, "{");
    /* 80,000 keys in just under 1 MiB. */
    for (int i = 0; i < 80000; i++)
        buf_printf(b, "\"k%d\":1,", i);
    buf_str(b, "\"name\": \"x\"}");
}

static void make_long_name(struct buf *b)
{
    buf_str(b, "{\"name\": \"n\", \"variants\": [{\"name\": \"");
    for (int i = 0; i < 64; i++)
        buf_str(b, "v");
    buf_str(b, "\"}], \"grid\": {\"lr\": [0.0123456789012345], "
               "\"weight_decay\": [0.0123456789012345], "
               "\"min_lr_ratio\": [0.0123456789012345], "
               "\"grad_clip\": [0.123456789012345], "
               "\"curriculum\": [[[1, 3, 2000], [1, 6, 5000], "
               "[1, 10, 20000]]]}}");
}

static void make_garbage(struct buf *b)
{
    uint32_t x = 12345;

    /* A fixed pseudo-random stream, so the case is the same every run. */
    for (int i = 0; i < 4096; i++) {
        unsigned char c;
        x = x * 1103515245u + 12345u;
        c = (unsigned char)(x >> 16);
        buf_add(b, &c, 1);
    }
}

static void make_17_phases(struct buf *b)
{
    buf_str(b, "{\"name\": \"c\", \"base\": {\"curriculum\": [");
    for (int i = 0; i < 17; i++)
        buf_printf(b, "%s[1, 3, 10]", i ? ", " : "");
    buf_str(b, "]}}");
}

static void make_10001_values(struct buf *b)
{
    buf_str(b, "{\"name\": \"g\", \"grid\": {\"lr\": [");
    for (int i = 0; i < 10001; i++)
        buf_printf(b, "%s%d", i ? ", " : "", i + 1);
    buf_str(b, "]}}");
}

/* ---- pack files ---- */

static void make_5000_models(struct buf *b)
{
    buf_str(b, "{\"models\": [");
    for (int i = 0; i < 5000; i++)
        buf_printf(b, "%s{\"seed\": %d, \"dir\": \"%s/p01/m%d\"}",
                   i ? ", " : "", i, tmp_dir, i);
    buf_str(b, "]}");
}

static void make_pack_nul(struct buf *b)
{
    buf_printf(b, "{\"models\": [{\"seed\": 1, \"dir\": \"%s/p04\"}]}",
               tmp_dir);
    b->p[10] = '\0';
}

static void make_pack_17mb(struct buf *b)
{
    buf_printf(b, "{\"models\": [{\"seed\": 1, \"dir\": \"%s/p06\"}], "
                  "\"state\": \"", tmp_dir);
    for (int i = 0; i < 17 * 1024; i++) {
        char kb[1024];
        memset(kb, 's', sizeof(kb));
        buf_add(b, kb, sizeof(kb));
    }
    buf_str(b, "\"}");
}

/* ---- checkpoints ---- */

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le64(struct buf *b, uint64_t v)
{
    unsigned char p[8];

    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    buf_add(b, p, 8);
}

/*
 * The good checkpoint with its header changed by edit (on the parsed
 * header) and data_extra bytes appended to its data.
 */
static void ckpt_edit(struct buf *b, void (*edit)(cJSON *h), size_t extra)
{
    uint64_t hlen = le64((const unsigned char *)good_ckpt.p);
    cJSON *h = cJSON_ParseWithLength(good_ckpt.p + 8, (size_t)hlen);
    char *text;

    REQUIRE(h != NULL);
    edit(h);
    text = cJSON_PrintUnformatted(h);
    REQUIRE(text != NULL);
    put_le64(b, strlen(text));
    buf_str(b, text);
    buf_add(b, good_ckpt.p + 8 + hlen, good_ckpt.len - 8 - (size_t)hlen);
    for (size_t i = 0; i < extra; i++)
        buf_add(b, "\0", 1);
    cJSON_free(text);
    cJSON_Delete(h);
}

static cJSON *tensor(cJSON *h, const char *name)
{
    cJSON *t = cJSON_GetObjectItemCaseSensitive(h, name);

    REQUIRE(t != NULL);
    return t;
}

static void set_array(cJSON *obj, const char *key, int n, const double *v)
{
    cJSON *a = cJSON_CreateArray();

    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    cJSON_ReplaceItemInObjectCaseSensitive(obj, key, a);
}

static void set_meta(cJSON *h, const char *key, const char *value)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");

    REQUIRE(m != NULL);
    cJSON_ReplaceItemInObjectCaseSensitive(m, key, cJSON_CreateString(value));
}

static void edit_overlap(cJSON *h)
{
    cJSON *w = tensor(h, "blocks.0.ln1.weight");
    cJSON *bias = tensor(h, "blocks.0.ln1.bias");

    cJSON_ReplaceItemInObjectCaseSensitive(
        bias, "data_offsets",
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(w, "data_offsets"),
                        1));
}

static void edit_f16(cJSON *h)
{
    cJSON_ReplaceItemInObjectCaseSensitive(tensor(h, "token_emb.weight"),
                                           "dtype", cJSON_CreateString("F16"));
}

static void edit_huge_shape(cJSON *h)
{
    const double v[2] = {1e15, 1e15};

    set_array(tensor(h, "token_emb.weight"), "shape", 2, v);
}

static void edit_shape_mismatch(cJSON *h)
{
    const double v[2] = {14, 7};

    set_array(tensor(h, "token_emb.weight"), "shape", 2, v);
}

static void edit_offsets_past(cJSON *h)
{
    const double v[2] = {0, 1e12};

    set_array(tensor(h, "token_emb.weight"), "data_offsets", 2, v);
}

static void edit_negative_offset(cJSON *h)
{
    const double v[2] = {-448, 0};

    set_array(tensor(h, "token_emb.weight"), "data_offsets", 2, v);
}

static void edit_five_dims(cJSON *h)
{
    const double v[5] = {14, 8, 1, 1, 1};

    set_array(tensor(h, "token_emb.weight"), "shape", 5, v);
}

static void edit_missing(cJSON *h)
{
    cJSON_DeleteItemFromObjectCaseSensitive(h, "ln_f.bias");
}

static void edit_extra(cJSON *h)
{
    cJSON *t = cJSON_CreateObject();
    const double shape[1] = {0}, offs[2] = {0, 0};

    cJSON_AddStringToObject(t, "dtype", "F32");
    cJSON_AddItemToObject(t, "shape", cJSON_CreateArray());
    cJSON_AddItemToObject(t, "data_offsets", cJSON_CreateArray());
    set_array(t, "shape", 1, shape);
    set_array(t, "data_offsets", 2, offs);
    cJSON_AddItemToObject(h, "blocks.7.attn.backdoor", t);
}

static void edit_transposed(cJSON *h)
{
    const double v[2] = {8, 14};

    set_array(tensor(h, "token_emb.weight"), "shape", 2, v);
}

static void edit_absurd_model(cJSON *h)
{
    set_meta(h, "model_config", "{\"d_model\": 100000}");
}

static void edit_format(cJSON *h)
{
    set_meta(h, "format", "tadd-checkpoint/2");
}

static void edit_config_not_json(cJSON *h)
{
    set_meta(h, "model_config", "{\"d_model\": 8,");
}

static void make_ckpt_overlap(struct buf *b)
{
    ckpt_edit(b, edit_overlap, 0);
}

static void make_ckpt_f16(struct buf *b)
{
    ckpt_edit(b, edit_f16, 0);
}

static void make_ckpt_huge_shape(struct buf *b)
{
    ckpt_edit(b, edit_huge_shape, 0);
}

static void make_ckpt_shape_mismatch(struct buf *b)
{
    ckpt_edit(b, edit_shape_mismatch, 0);
}

static void make_ckpt_offsets_past(struct buf *b)
{
    ckpt_edit(b, edit_offsets_past, 0);
}

static void make_ckpt_negative_offset(struct buf *b)
{
    ckpt_edit(b, edit_negative_offset, 0);
}

static void make_ckpt_five_dims(struct buf *b)
{
    ckpt_edit(b, edit_five_dims, 0);
}

static void make_ckpt_missing(struct buf *b)
{
    ckpt_edit(b, edit_missing, 0);
}

static void make_ckpt_extra(struct buf *b)
{
    ckpt_edit(b, edit_extra, 0);
}

static void make_ckpt_transposed(struct buf *b)
{
    ckpt_edit(b, edit_transposed, 0);
}

static void make_ckpt_absurd_model(struct buf *b)
{
    ckpt_edit(b, edit_absurd_model, 0);
}

static void make_ckpt_format(struct buf *b)
{
    ckpt_edit(b, edit_format, 0);
}

static void make_ckpt_config_not_json(struct buf *b)
{
    ckpt_edit(b, edit_config_not_json, 0);
}

static void make_ckpt_tiny(struct buf *b)
{
    buf_add(b, good_ckpt.p, 4);
}

static void make_ckpt_long_header(struct buf *b)
{
    put_le64(b, (uint64_t)1 << 40);
    buf_add(b, good_ckpt.p + 8, good_ckpt.len - 8);
}

static void make_ckpt_short_header(struct buf *b)
{
    uint64_t hlen = le64((const unsigned char *)good_ckpt.p);

    /* Claims half of the real header: the JSON ends in mid-object. */
    put_le64(b, hlen / 2);
    buf_add(b, good_ckpt.p + 8, good_ckpt.len - 8);
}

static void make_ckpt_nul(struct buf *b)
{
    buf_add(b, good_ckpt.p, good_ckpt.len);
    b->p[20] = '\0';
}

static void make_ckpt_many_tensors(struct buf *b)
{
    struct buf h = {0};

    buf_str(&h, "{");
    for (int i = 0; i < 100000; i++)
        buf_printf(&h, "\"t%d\": {\"dtype\": \"F32\", \"shape\": [0], "
                       "\"data_offsets\": [0, 0]}, ", i);
    buf_str(&h, "\"__metadata__\": {\"format\": \"tadd-checkpoint/1\", "
                "\"model_config\": \"{}\"}}");
    put_le64(b, h.len);
    buf_add(b, h.p, h.len);
    free(h.p);
}

static void make_ckpt_same_bytes(struct buf *b)
{
    const size_t data = 4u << 20;
    struct buf h = {0};

    buf_str(&h, "{");
    for (int i = 0; i < 50; i++)
        buf_printf(&h, "%s\"t%d\": {\"dtype\": \"F32\", \"shape\": [%zu], "
                       "\"data_offsets\": [0, %zu]}", i ? ", " : "", i,
                   data / 4, data);
    buf_str(&h, "}");
    put_le64(b, h.len);
    buf_add(b, h.p, h.len);
    for (size_t i = 0; i < data; i += 4)
        buf_add(b, "\0\0\0\0", 4);
    free(h.p);
}

/*
 * The table of docs/hostile-inputs.md. Texts use single quotes where
 * JSON wants double ones; run_case swaps them.
 */
static const struct hcase cases[] = {
    {"S01", VIA_SWEEP, "{'name': '../x'}", NULL,
     "name: must be a name of 1 to 64 characters from [A-Za-z0-9._-]", 0},
    {"S02", VIA_SWEEP, "{'name': 'a/b'}", NULL,
     "name: must be a name of 1 to 64 characters", 0},
    {"S03", VIA_SWEEP, "{'name': '..'}", NULL,
     "name: must be a name of 1 to 64 characters", 0},
    {"S04", VIA_SWEEP, "{'name': 'x', 'variants': [{'name': '../../etc'}]}",
     NULL, "variants[0].name: must be a name", 0},
    {"S05", VIA_SWEEP,
     "{'name': 'x', 'baseline': {'sweep': '../y', 'config': 'c'}}", NULL,
     "baseline.sweep: must be a name", 0},
    {"S06", VIA_SWEEP, "{'name': 'x', 'baseline': '../../c'}", NULL,
     "baseline: \"../../c\" is not a valid config name", 0},
    {"S07", VIA_SWEEP, NULL, make_big_grid,
     "sweep expands to 40000 configs x 8 seeds = 320000 trials", 0},
    {"S08", VIA_SWEEP, "{'name': 'x', 'seeds': {'count': 1e9}}", NULL,
     "seeds.count: must be an integer in 1..100000", 0},
    {"S09", VIA_SWEEP, "{'name': 'x', 'seeds': {'start': 1e300}}", NULL,
     "seeds.start: must be an integer in [0, 2^53)", 0},
    {"S10", VIA_SWEEP, "{'name': 'x', 'base': {'lr': 1e999}}", NULL,
     "base.lr: must be a positive number at most 10, got inf", 0},
    {"S11", VIA_SWEEP, "{'name': 'x', 'base': {'lr': NaN}}", NULL,
     "JSON syntax error at line 1, column 30", 0},
    {"S12", VIA_SWEEP, "{'name': 'x', 'base': {'lr': '0.015'}}", NULL,
     "base.lr: must be a positive number at most 10, got \"0.015\"", 0},
    {"S13", VIA_SWEEP, "{'name': 'x', 'base': {'d_model': 8.5}}", NULL,
     "base.d_model: must be an integer in 1..256, got 8.5", 0},
    {"S14", VIA_SWEEP, "{'name': 'x', 'base': {'d_ff': 1e9}}", NULL,
     "base.d_ff: must be an integer in 1..4096", 0},
    {"S15", VIA_SWEEP, NULL, make_deep, "JSON syntax error at line 1", 0},
    {"S16", VIA_SWEEP, NULL, make_ten_mb, "larger than 1048576 bytes", 0},
    {"S17", VIA_SWEEP, "{'name': 'a\\u0000b'}", NULL,
     "JSON text holds the escape \\u0000", 0},
    {"S18", VIA_SWEEP, NULL, make_bad_utf8, "description: not valid UTF-8",
     0},
    {"S19", VIA_SWEEP, NULL, make_long_description,
     "description: must be a string of at most 4096 bytes", 0},
    {"S20", VIA_SWEEP, "{'name': 'x', 'name': 'y'}", NULL,
     "name: given twice", 0},
    {"S21", VIA_SWEEP, NULL, make_many_keys, "k0: unknown key", 0},
    {"S22", VIA_SWEEP, NULL, make_long_name,
     "name longer than 200 characters", 0},
    {"S23", VIA_SWEEP, "", NULL, "JSON syntax error at line 1, column 1",
     0},
    {"S24", VIA_SWEEP, NULL, make_garbage, "JSON syntax error at line 1",
     0},
    {"S25", VIA_SWEEP, "{'name': 'x'} {'name': 'y'}", NULL,
     "text after the sweep object", 0},
    {"S26", VIA_SWEEP, NULL, make_17_phases,
     "base.curriculum: must be a list of 1 to 16", 0},
    {"S27", VIA_SWEEP, "{'name': 'x', 'grid': {'d_model': [8, 8.0]}}", NULL,
     "grid.d_model[1]: 8 repeats grid.d_model[0]", 0},
    {"S28", VIA_SWEEP, "{'name': 'x', 'seeds': [1, 2, 1]}", NULL,
     "seeds[2]: 1 repeats seeds[0]", 0},
    {"S29", VIA_SWEEP, "{'name': 'x', 'base': {'n_head': 3}}", NULL,
     "d_model 8 is not divisible by n_head 3", 0},
    {"S30", VIA_SWEEP, "{'name': 'x', 'base': {'train_steps': 100}}", NULL,
     "warmup_steps", 0},
    {"S31", VIA_SWEEP, "[{'name': 'x'}]", NULL,
     "sweep: must be a JSON object, got a list", 0},
    {"S32", VIA_SWEEP, "{'name': 'x', 'priority': 1e7}", NULL,
     "priority: must be an integer in -1000000..1000000", 0},
    {"S33", VIA_SWEEP, NULL, make_10001_values,
     "grid.lr: 10001 values, more than 10000", 0},
    {"S34", VIA_SWEEP, "{'name': 'x', 'variants': [{'name': 'a'}, "
                       "{'name': 'a'}]}", NULL,
     "variants[1].name: \"a\" is also the name of variants[0]", 0},

    {"P01", VIA_PACK, NULL, make_5000_models,
     "models: must hold 1 to 4096 models", 0},
    {"P02", VIA_PACK, "{'models': [{'seed': 9007199254740992, 'dir': "
                      "'@/p02'}]}", NULL,
     "models[0].seed: must be an integer in [0, 2^53)", 0},
    {"P03", VIA_PACK, "{'config': {'lr': 1}, 'models': [{'seed': 1, "
                      "'dir': '@/p03'}]}", NULL,
     "config.lr: a per-model field", 0},
    {"P04", VIA_PACK, NULL, make_pack_nul, "holds a NUL byte", 0},
    {"P05", VIA_PACK, "{'models': [{'seed': 1, 'dir': ''}]}", NULL,
     "models[0].dir: must be a non-empty string", 0},
    {"P06", VIA_PACK, NULL, make_pack_17mb, "larger than 16777216 bytes", 0},
    {"P07", VIA_PACK, "{'config': {'train_steps': 1e10}, 'models': "
                      "[{'seed': 1, 'dir': '@/p07'}]}", NULL,
     "config.train_steps: must be an integer in 1..1000000000", 0},
    {"P08", VIA_PACK, "{'models': [{'seed': 1, 'dir': '@/p08'}", NULL,
     "not valid JSON", 0},

    {"C01", VIA_CKPT, NULL, make_ckpt_tiny,
     "truncated: 4 bytes, not even the 8-byte header length", 0},
    {"C02", VIA_CKPT, NULL, make_ckpt_long_header,
     "header length 1099511627776 runs past the end of the file", 0},
    {"C03", VIA_CKPT, NULL, make_ckpt_short_header,
     "header is not valid JSON", 0},
    {"C04", VIA_CKPT, NULL, make_ckpt_overlap,
     "tensors \"blocks.0.ln1.weight\" and \"blocks.0.ln1.bias\" overlap", 0},
    {"C05", VIA_CKPT, NULL, make_ckpt_f16,
     "tensor \"token_emb.weight\": dtype F16 not supported (only F32)", 0},
    {"C06", VIA_CKPT, NULL, make_ckpt_huge_shape,
     "shape needs more bytes than the file's", 0},
    {"C07", VIA_CKPT, NULL, make_ckpt_shape_mismatch,
     "shape holds 98 floats (392 bytes) but data_offsets span 448 bytes", 0},
    {"C08", VIA_CKPT, NULL, make_ckpt_offsets_past,
     "data_offsets [0, 1000000000000] outside the", 0},
    {"C09", VIA_CKPT, NULL, make_ckpt_negative_offset,
     "data_offsets is not two non-negative integers", 0},
    {"C10", VIA_CKPT, NULL, make_ckpt_five_dims, "more than 4 dimensions",
     0},
    {"C11", VIA_CKPT, NULL, make_ckpt_missing, "missing tensor ln_f.bias",
     0},
    {"C12", VIA_CKPT, NULL, make_ckpt_extra,
     "unexpected tensor blocks.7.attn.backdoor for its model_config", 0},
    {"C13", VIA_CKPT, NULL, make_ckpt_transposed,
     "tensor token_emb.weight has the wrong shape for its model_config", 0},
    {"C14", VIA_CKPT, NULL, make_ckpt_absurd_model,
     "model_config.d_model: must be an integer in 1..256", 0},
    {"C15", VIA_CKPT, NULL, make_ckpt_format,
     "expected \"tadd-checkpoint/1\"", 0},
    {"C16", VIA_CKPT, NULL, make_ckpt_config_not_json,
     "__metadata__.model_config is not JSON", 0},
    {"C17", VIA_CKPT, NULL, make_ckpt_nul, "header holds a NUL byte", 0},
    {"C18", VIA_CKPT, NULL, make_ckpt_many_tensors,
     "missing tensor token_emb.weight", 0},
    {"C19", VIA_CKPT, NULL, make_ckpt_same_bytes, "overlap", 0},
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* The input of a case: text with ' as " and @ as the scratch folder. */
static void case_input(const struct hcase *c, struct buf *b)
{
    if (c->make) {
        c->make(b);
        return;
    }
    buf_add(b, "", 0);
    for (const char *p = c->text; *p; p++) {
        if (*p == '\'')
            buf_str(b, "\"");
        else if (*p == '@')
            buf_str(b, tmp_dir);
        else
            buf_add(b, p, 1);
    }
}

static void run_case(const struct hcase *c)
{
    char path[4200], out_path[4200], err[TADD_ERR_LEN], outdir[4200];
    struct buf in = {0}, out = {0};
    double t0, sec, limit = c->max_sec > 0 ? c->max_sec : 10;
    const char *msg;
    int status = -1;

    case_input(c, &in);
    snprintf(path, sizeof(path), "%s/%s.in", tmp_dir, c->id);
    snprintf(out_path, sizeof(out_path), "%s/%s.out", tmp_dir, c->id);
    write_file(path, in.p, in.len);
    t0 = tadd_monotonic_seconds();
    if (c->via == VIA_SWEEP) {
        struct tadd_sweep s;
        status = tadd_sweep_load(path, &s, err, sizeof(err)) == 0 ? 0 : 1;
        tadd_sweep_free(&s);
        msg = err;
    } else if (c->via == VIA_PACK) {
        char *argv[] = {worker, "train", "--pack", path, NULL};
        status = run(argv, out_path);
        read_file(out_path, &out);
        msg = out.p;
    } else {
        char *argv[] = {worker, "eval", path, "--n", "10", "--seeds", "1",
                        NULL};
        status = run(argv, out_path);
        read_file(out_path, &out);
        msg = out.p;
    }
    sec = tadd_monotonic_seconds() - t0;
    if (status != 1)
        CHECK_FAIL_("%s: exit status %d, expected 1: %s", c->id, status,
                    msg);
    if (!strstr(msg, path))
        CHECK_FAIL_("%s: message does not name the file: %s", c->id, msg);
    if (!strstr(msg, c->expect))
        CHECK_FAIL_("%s: message lacks \"%s\": %s", c->id, c->expect, msg);
    if (sec > limit)
        CHECK_FAIL_("%s: took %.2f s, more than %.0f s", c->id, sec, limit);
    /* A refused pack writes nothing: no model folder appears. */
    snprintf(outdir, sizeof(outdir), "%s/p%c%c", tmp_dir, c->id[1],
             c->id[2]);
    if (c->via == VIA_PACK && access(outdir, F_OK) == 0)
        CHECK_FAIL_("%s: a refused pack left %s behind", c->id, outdir);
    printf("%s: status %d in %.3f s\n", c->id, status, sec);
    unlink(path);
    unlink(out_path);
    free(in.p);
    free(out.p);
}

/* Every case has its row in the document, with the same expected text. */
static void check_document(void)
{
    char *doc = doc_rows_load();

    for (int i = 0; i < N_CASES; i++)
        check_failures += doc_rows_check(doc, cases[i].id, &cases[i].expect,
                                         1);
    free(doc);
}

int main(void)
{
    const char *build = getenv("TADD_BUILD_ROOT");
    char model_path[4200], ckpt_path[4200], out_path[4200];

    REQUIRE(build != NULL);
    REQUIRE(mkdtemp(tmp_dir) != NULL);
    snprintf(worker, sizeof(worker), "%s/worker/tadd-worker", build);
    REQUIRE(access(worker, X_OK) == 0);

    /* The checkpoint cases damage a good checkpoint of a default model. */
    snprintf(model_path, sizeof(model_path), "%s/model.json", tmp_dir);
    snprintf(ckpt_path, sizeof(ckpt_path), "%s/good.safetensors", tmp_dir);
    snprintf(out_path, sizeof(out_path), "%s/init.out", tmp_dir);
    write_file(model_path, "{}", 2);
    {
        char *argv[] = {worker, "init", "--config", model_path, "--seed",
                        "1", "--out", ckpt_path, NULL};
        REQUIRE(run(argv, out_path) == 0);
    }
    read_file(ckpt_path, &good_ckpt);
    REQUIRE(good_ckpt.len > 8);

    for (int i = 0; i < N_CASES; i++)
        run_case(&cases[i]);
    check_document();

    unlink(model_path);
    unlink(ckpt_path);
    unlink(out_path);
    free(good_ckpt.p);
    if (rmdir(tmp_dir) != 0)
        CHECK_FAIL_("%s: left files behind: %s", tmp_dir, strerror(errno));
    CHECK_DONE();
}
