/*
 * safetensors reader and writer.
 *
 * What the reader accepts: any file whose header is a JSON object of
 * tensor entries {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}
 * and an optional "__metadata__" object of string values, followed by the
 * data. What it refuses, by name: a header length past the end, a header
 * that is not JSON or holds a NUL byte, any dtype but F32, more than
 * TADD_ST_MAX_DIMS dimensions, shapes whose size does not match their byte
 * range, ranges out of the data or overlapping another tensor's, duplicate
 * names, and unknown keys in a tensor entry. Gaps between ranges and bytes
 * after the last range are tolerated, since they hold no tensor.
 */
#include "safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fsutil.h"
#include "text.h"

/* Checkpoints here are kilobytes; the cap only guards against reading a
 * huge or endless file by mistake. */
#define ST_MAX_FILE ((size_t)1 << 32)
#define ST_META_KEY "__metadata__"

/* 2^53: the largest integer range a JSON number holds exactly. */
#define ST_MAX_INT 9007199254740992.0

static uint64_t st_load_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void st_store_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Copies n little-endian float32 values from unaligned bytes. */
static void st_load_f32(float *dst, const unsigned char *src, int64_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, (size_t)n * sizeof(float));
#else
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[4 * i] |
                     (uint32_t)src[4 * i + 1] << 8 |
                     (uint32_t)src[4 * i + 2] << 16 |
                     (uint32_t)src[4 * i + 3] << 24;
        memcpy(&dst[i], &u, 4);
    }
#endif
}

static void st_store_f32(unsigned char *dst, const float *src, int64_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, (size_t)n * sizeof(float));
#else
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        for (int b = 0; b < 4; b++)
            dst[4 * i + b] = (unsigned char)(u >> (8 * b));
    }
#endif
}

void tadd_st_free(struct tadd_st_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n_tensors; i++) {
        free(f->tensors[i].name);
        free(f->tensors[i].data);
    }
    free(f->tensors);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    memset(f, 0, sizeof(*f));
}

/* A non-negative integer below 2^53 from a JSON number; -1 otherwise. */
static int st_json_index(const cJSON *v, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d >= ST_MAX_INT || d != floor(d))
        return -1;
    *out = (int64_t)d;
    return 0;
}

/*
 * 1 when text holds the escape \u0000 inside a JSON string. cJSON decodes
 * it to a NUL byte that silently cuts the string short ("a\u0000b" would
 * read as "a"), so such text is refused instead. A backslash counts as an
 * escape only after an even run of backslashes.
 */
static int st_has_nul_escape(const char *text, size_t len)
{
    size_t run = 0;

    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\\') {
            run = 0;
            continue;
        }
        run++;
        if (run % 2 == 1 && i + 5 < len && text[i + 1] == 'u' &&
            text[i + 2] == '0' && text[i + 3] == '0' && text[i + 4] == '0' &&
            text[i + 5] == '0')
            return 1;
    }
    return 0;
}

struct st_range {
    int64_t begin;
    int64_t end;
    int index;
};

static int st_range_cmp(const void *a, const void *b)
{
    const struct st_range *x = a, *y = b;

    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

struct st_name {
    const char *name;
    int index; /* position in the header */
};

static int st_name_cmp(const void *a, const void *b)
{
    const struct st_name *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/*
 * Position of the first of n names that repeats an earlier one, -1 when
 * all differ, -2 when out of memory. The names are sorted rather than
 * compared pairwise: a header can hold a million entries, and the
 * pairwise check took 30 s on a 6 MB file of 100,000.
 */
static int st_first_repeat(char *const *names, int n)
{
    struct st_name *v;
    int first = -1;

    if (n < 2)
        return -1;
    v = malloc((size_t)n * sizeof(*v));
    if (!v)
        return -2;
    for (int i = 0; i < n; i++) {
        v[i].name = names[i];
        v[i].index = i;
    }
    qsort(v, (size_t)n, sizeof(*v), st_name_cmp);
    /* Equal names sort by position, so each later copy follows an
     * earlier one. */
    for (int i = 1; i < n; i++)
        if (strcmp(v[i].name, v[i - 1].name) == 0 &&
            (first < 0 || v[i].index < first))
            first = v[i].index;
    free(v);
    return first;
}

static int st_parse_meta(const cJSON *meta, const char *name,
                         struct tadd_st_file *f, char *err, size_t errlen)
{
    int n = 0, dup;
    const cJSON *it;

    if (!cJSON_IsObject(meta)) {
        tadd_msgf(err, errlen, "%s: %s is not an object", name, ST_META_KEY);
        return -1;
    }
    cJSON_ArrayForEach(it, meta)
        n++;
    f->meta_keys = calloc((size_t)n + 1, sizeof(char *));
    f->meta_values = calloc((size_t)n + 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_values) {
        tadd_msgf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    cJSON_ArrayForEach(it, meta) {
        if (!cJSON_IsString(it)) {
            tadd_msgf(err, errlen, "%s: %s.%s is not a string", name,
                      ST_META_KEY, it->string);
            return -1;
        }
        f->meta_keys[f->n_meta] = strdup(it->string);
        f->meta_values[f->n_meta] = strdup(it->valuestring);
        if (!f->meta_keys[f->n_meta] || !f->meta_values[f->n_meta]) {
            free(f->meta_keys[f->n_meta]);
            free(f->meta_values[f->n_meta]);
            tadd_msgf(err, errlen, "%s: out of memory", name);
            return -1;
        }
        f->n_meta++;
    }
    dup = st_first_repeat(f->meta_keys, f->n_meta);
    if (dup == -2) {
        tadd_msgf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    if (dup >= 0) {
        tadd_msgf(err, errlen, "%s: %s.%s given twice", name, ST_META_KEY,
                  f->meta_keys[dup]);
        return -1;
    }
    return 0;
}

/*
 * Fills t from one header entry: its shape and its byte range (checked
 * against data_len); the data itself is copied later. Returns 0 or -1.
 */
static int st_parse_entry(const cJSON *entry, const char *name,
                          int64_t data_len, struct tadd_st_tensor *t,
                          struct st_range *r, char *err, size_t errlen)
{
    const char *tn = entry->string;
    const cJSON *dtype = NULL, *shape = NULL, *offs = NULL;
    const cJSON *it;
    int64_t numel = 1;
    int ndim = 0;

    if (!cJSON_IsObject(entry)) {
        tadd_msgf(err, errlen, "%s: tensor \"%s\" is not an object", name, tn);
        return -1;
    }
    cJSON_ArrayForEach(it, entry) {
        const cJSON **slot = NULL;
        if (strcmp(it->string, "dtype") == 0)
            slot = &dtype;
        else if (strcmp(it->string, "shape") == 0)
            slot = &shape;
        else if (strcmp(it->string, "data_offsets") == 0)
            slot = &offs;
        if (!slot) {
            tadd_msgf(err, errlen, "%s: tensor \"%s\": unknown key \"%s\"",
                      name, tn, it->string);
            return -1;
        }
        if (*slot) {
            tadd_msgf(err, errlen, "%s: tensor \"%s\": \"%s\" given twice",
                      name, tn, it->string);
            return -1;
        }
        *slot = it;
    }
    if (!dtype || !shape || !offs) {
        tadd_msgf(err, errlen, "%s: tensor \"%s\": missing \"%s\"", name, tn,
                  !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
        return -1;
    }
    if (!cJSON_IsString(dtype)) {
        tadd_msgf(err, errlen, "%s: tensor \"%s\": dtype is not a string",
                  name, tn);
        return -1;
    }
    if (strcmp(dtype->valuestring, "F32") != 0) {
        tadd_msgf(err, errlen,
                  "%s: tensor \"%s\": dtype %.32s not supported (only F32)",
                  name, tn, dtype->valuestring);
        return -1;
    }
    if (!cJSON_IsArray(shape)) {
        tadd_msgf(err, errlen, "%s: tensor \"%s\": shape is not an array",
                  name, tn);
        return -1;
    }
    cJSON_ArrayForEach(it, shape) {
        int64_t dim;
        if (ndim == TADD_ST_MAX_DIMS) {
            tadd_msgf(err, errlen,
                      "%s: tensor \"%s\": more than %d dimensions", name, tn,
                      TADD_ST_MAX_DIMS);
            return -1;
        }
        if (st_json_index(it, &dim) != 0) {
            tadd_msgf(err, errlen,
                      "%s: tensor \"%s\": shape[%d] is not a non-negative "
                      "integer", name, tn, ndim);
            return -1;
        }
        /* Every product stays below data_len / 4, so it cannot overflow
         * before the check that refuses it. */
        if (dim > 0 && numel > data_len / 4 / dim) {
            tadd_msgf(err, errlen,
                      "%s: tensor \"%s\": shape needs more bytes than the "
                      "file's %lld of data", name, tn, (long long)data_len);
            return -1;
        }
        numel *= dim;
        t->shape[ndim++] = dim;
    }
    t->ndim = ndim;
    t->numel = numel;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        st_json_index(cJSON_GetArrayItem(offs, 0), &r->begin) != 0 ||
        st_json_index(cJSON_GetArrayItem(offs, 1), &r->end) != 0) {
        tadd_msgf(err, errlen,
                  "%s: tensor \"%s\": data_offsets is not two non-negative "
                  "integers", name, tn);
        return -1;
    }
    if (r->begin > r->end || r->end > data_len) {
        tadd_msgf(err, errlen,
                  "%s: tensor \"%s\": data_offsets [%lld, %lld] outside the "
                  "%lld bytes of data", name, tn, (long long)r->begin,
                  (long long)r->end, (long long)data_len);
        return -1;
    }
    if (r->end - r->begin != numel * 4) {
        tadd_msgf(err, errlen,
                  "%s: tensor \"%s\": shape holds %lld floats (%lld bytes) but "
                  "data_offsets span %lld bytes", name, tn, (long long)numel,
                  (long long)numel * 4, (long long)(r->end - r->begin));
        return -1;
    }
    return 0;
}

/* Fills f's tensors from the parsed header; data starts at base. */
static int st_parse_header(const cJSON *root, const unsigned char *base,
                           int64_t data_len, const char *name,
                           struct tadd_st_file *f, char *err, size_t errlen)
{
    struct st_range *ranges = NULL;
    char **names = NULL;
    const cJSON *meta = NULL;
    const cJSON *it;
    int n = 0, dup;
    int rc = -1;

    if (!cJSON_IsObject(root)) {
        tadd_msgf(err, errlen, "%s: header is not a JSON object", name);
        return -1;
    }
    cJSON_ArrayForEach(it, root)
        n++;
    f->tensors = calloc((size_t)n + 1, sizeof(*f->tensors));
    ranges = calloc((size_t)n + 1, sizeof(*ranges));
    if (!f->tensors || !ranges) {
        tadd_msgf(err, errlen, "%s: out of memory", name);
        goto cleanup;
    }
    cJSON_ArrayForEach(it, root) {
        struct tadd_st_tensor *t = &f->tensors[f->n_tensors];
        struct st_range *r = &ranges[f->n_tensors];
        if (strcmp(it->string, ST_META_KEY) == 0) {
            if (meta) {
                tadd_msgf(err, errlen, "%s: %s given twice", name, ST_META_KEY);
                goto cleanup;
            }
            meta = it;
            continue;
        }
        if (it->string[0] == '\0') {
            tadd_msgf(err, errlen, "%s: a tensor has an empty name", name);
            goto cleanup;
        }
        if (st_parse_entry(it, name, data_len, t, r, err, errlen) != 0)
            goto cleanup;
        t->name = strdup(it->string);
        if (!t->name) {
            tadd_msgf(err, errlen, "%s: out of memory", name);
            goto cleanup;
        }
        r->index = f->n_tensors;
        f->n_tensors++;
    }
    names = malloc(((size_t)f->n_tensors + 1) * sizeof(*names));
    if (!names) {
        tadd_msgf(err, errlen, "%s: out of memory", name);
        goto cleanup;
    }
    for (int i = 0; i < f->n_tensors; i++)
        names[i] = f->tensors[i].name;
    dup = st_first_repeat(names, f->n_tensors);
    if (dup == -2) {
        tadd_msgf(err, errlen, "%s: out of memory", name);
        goto cleanup;
    }
    if (dup >= 0) {
        tadd_msgf(err, errlen, "%s: tensor \"%s\" given twice", name,
                  f->tensors[dup].name);
        goto cleanup;
    }
    qsort(ranges, (size_t)f->n_tensors, sizeof(*ranges), st_range_cmp);
    /* In begin order, a range overlaps an earlier one exactly when it
     * starts before the furthest end seen so far; empty tensors own no
     * bytes and overlap nothing. */
    for (int i = 0, far = -1; i < f->n_tensors; i++) {
        const struct st_range *b = &ranges[i];
        if (b->begin == b->end)
            continue;
        if (far >= 0 && b->begin < ranges[far].end) {
            const struct st_range *a = &ranges[far];
            tadd_msgf(err, errlen,
                      "%s: tensors \"%s\" and \"%s\" overlap ([%lld, %lld] and "
                      "[%lld, %lld])", name, f->tensors[a->index].name,
                      f->tensors[b->index].name, (long long)a->begin,
                      (long long)a->end, (long long)b->begin,
                      (long long)b->end);
            goto cleanup;
        }
        if (far < 0 || b->end > ranges[far].end)
            far = i;
    }
    /* The data are copied only now: with the ranges known to be
     * disjoint, the copies together are no larger than the file. Copied
     * before that check, a 4 MB file of 50 entries spanning the same
     * bytes took 200 MB, and a few more entries would exhaust memory. */
    for (int i = 0; i < f->n_tensors; i++) {
        struct tadd_st_tensor *t = &f->tensors[ranges[i].index];
        /* calloc of at least one element, so an empty tensor still has
         * a valid data pointer. */
        t->data = calloc((size_t)(t->numel ? t->numel : 1), sizeof(float));
        if (!t->data) {
            tadd_msgf(err, errlen, "%s: out of memory", name);
            goto cleanup;
        }
        st_load_f32(t->data, base + ranges[i].begin, t->numel);
    }
    if (meta && st_parse_meta(meta, name, f, err, errlen) != 0)
        goto cleanup;
    rc = 0;

cleanup:
    free(names);
    free(ranges);
    return rc;
}

int tadd_st_parse(const void *buf, size_t len, const char *name,
                  struct tadd_st_file *out, char *err, size_t errlen)
{
    const unsigned char *p = buf;
    struct tadd_st_file f;
    cJSON *root = NULL;
    const char *end = NULL;
    uint64_t hlen;
    int rc = -1;

    memset(&f, 0, sizeof(f));
    memset(out, 0, sizeof(*out));
    if (!name)
        name = "safetensors";
    if (len < 8) {
        tadd_msgf(err, errlen,
                  "%s: truncated: %zu bytes, not even the 8-byte header length",
                  name, len);
        return -1;
    }
    hlen = st_load_le64(p);
    if (hlen > len - 8) {
        tadd_msgf(err, errlen,
                  "%s: header length %llu runs past the end of the file "
                  "(%zu bytes)", name, (unsigned long long)hlen, len);
        return -1;
    }
    if (hlen < 2) {
        tadd_msgf(err, errlen, "%s: header of %llu bytes cannot be a JSON "
                  "object", name, (unsigned long long)hlen);
        return -1;
    }
    if (memchr(p + 8, '\0', (size_t)hlen)) {
        tadd_msgf(err, errlen, "%s: header holds a NUL byte", name);
        return -1;
    }
    if (st_has_nul_escape((const char *)p + 8, (size_t)hlen)) {
        tadd_msgf(err, errlen, "%s: header holds the escape \\u0000", name);
        return -1;
    }
    root = cJSON_ParseWithLengthOpts((const char *)p + 8, (size_t)hlen, &end,
                                     0);
    if (!root) {
        tadd_msgf(err, errlen, "%s: header is not valid JSON (near byte %lld)",
                  name, end ? (long long)(end - (const char *)p) : -1LL);
        goto cleanup;
    }
    /* Writers pad the header with spaces; anything else after the object
     * is a malformed header. */
    for (; end < (const char *)p + 8 + hlen; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            tadd_msgf(err, errlen, "%s: header has bytes after its JSON object",
                      name);
            goto cleanup;
        }
    }
    if (st_parse_header(root, p + 8 + hlen, (int64_t)(len - 8 - hlen), name,
                        &f, err, errlen) != 0)
        goto cleanup;
    *out = f;
    memset(&f, 0, sizeof(f));
    rc = 0;

cleanup:
    tadd_st_free(&f);
    cJSON_Delete(root);
    return rc;
}

int tadd_st_read(const char *path, struct tadd_st_file *out, char *err,
                 size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (tadd_read_file(path, ST_MAX_FILE, &buf, &len, err, errlen) != 0)
        return -1;
    rc = tadd_st_parse(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}

const struct tadd_st_tensor *tadd_st_find(const struct tadd_st_file *f,
                                          const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *tadd_st_meta(const struct tadd_st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_values[i];
    return NULL;
}

/* ---- writer ---- */

struct tadd_st_writer {
    int n_tensors;
    int cap_tensors;
    struct tadd_st_tensor *tensors;
    int n_meta;
    int cap_meta;
    char **meta_keys;
    char **meta_values;
};

struct tadd_st_writer *tadd_st_writer_new(void)
{
    return calloc(1, sizeof(struct tadd_st_writer));
}

void tadd_st_writer_free(struct tadd_st_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->tensors);
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_values[i]);
    }
    free(w->meta_keys);
    free(w->meta_values);
    free(w);
}

int tadd_st_writer_add(struct tadd_st_writer *w, const char *name, int ndim,
                       const int64_t *shape, const float *data)
{
    struct tadd_st_tensor *t;
    int64_t numel = 1;

    if (!w || !name || !*name || strcmp(name, ST_META_KEY) == 0)
        return -1;
    if (ndim < 0 || ndim > TADD_ST_MAX_DIMS || (ndim > 0 && !shape))
        return -1;
    for (int i = 0; i < ndim; i++) {
        /* Keep every size well inside what a JSON number holds exactly. */
        if (shape[i] < 0 || (shape[i] > 0 && numel > (1LL << 40) / shape[i]))
            return -1;
        numel *= shape[i];
    }
    if (numel > 0 && !data)
        return -1;
    for (int i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return -1;
    if (w->n_tensors == w->cap_tensors) {
        int ncap = w->cap_tensors ? w->cap_tensors * 2 : 16;
        void *nt = realloc(w->tensors, (size_t)ncap * sizeof(*w->tensors));
        if (!nt)
            return -1;
        w->tensors = nt;
        w->cap_tensors = ncap;
    }
    t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof(*t));
    t->name = strdup(name);
    t->data = malloc((size_t)(numel ? numel : 1) * sizeof(float));
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return -1;
    }
    if (numel > 0)
        memcpy(t->data, data, (size_t)numel * sizeof(float));
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->numel = numel;
    w->n_tensors++;
    return 0;
}

int tadd_st_writer_meta(struct tadd_st_writer *w, const char *key,
                        const char *value)
{
    char *v;

    if (!w || !key || !*key || !value)
        return -1;
    v = strdup(value);
    if (!v)
        return -1;
    /* Setting a key again replaces its value. */
    for (int i = 0; i < w->n_meta; i++) {
        if (strcmp(w->meta_keys[i], key) == 0) {
            free(w->meta_values[i]);
            w->meta_values[i] = v;
            return 0;
        }
    }
    if (w->n_meta == w->cap_meta) {
        int ncap = w->cap_meta ? w->cap_meta * 2 : 8;
        char **nk = realloc(w->meta_keys, (size_t)ncap * sizeof(char *));
        if (!nk)
            goto fail;
        w->meta_keys = nk;
        char **nv = realloc(w->meta_values, (size_t)ncap * sizeof(char *));
        if (!nv)
            goto fail;
        w->meta_values = nv;
        w->cap_meta = ncap;
    }
    w->meta_keys[w->n_meta] = strdup(key);
    if (!w->meta_keys[w->n_meta])
        goto fail;
    w->meta_values[w->n_meta] = v;
    w->n_meta++;
    return 0;

fail:
    free(v);
    return -1;
}

/* The header as unpadded JSON text (caller frees), or NULL on OOM. */
static char *st_header_json(const struct tadd_st_writer *w)
{
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    int64_t off = 0;

    if (!root)
        return NULL;
    for (int i = 0; i < w->n_tensors; i++) {
        const struct tadd_st_tensor *t = &w->tensors[i];
        cJSON *e = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape, *offs;
        if (!e || !cJSON_AddStringToObject(e, "dtype", "F32"))
            goto cleanup;
        shape = cJSON_AddArrayToObject(e, "shape");
        if (!shape)
            goto cleanup;
        for (int d = 0; d < t->ndim; d++) {
            cJSON *n = cJSON_CreateNumber((double)t->shape[d]);
            if (!n || !cJSON_AddItemToArray(shape, n)) {
                cJSON_Delete(n);
                goto cleanup;
            }
        }
        offs = cJSON_AddArrayToObject(e, "data_offsets");
        if (!offs)
            goto cleanup;
        for (int k = 0; k < 2; k++) {
            int64_t v = k == 0 ? off : off + t->numel * 4;
            cJSON *n = cJSON_CreateNumber((double)v);
            if (!n || !cJSON_AddItemToArray(offs, n)) {
                cJSON_Delete(n);
                goto cleanup;
            }
        }
        off += t->numel * 4;
    }
    if (w->n_meta > 0) {
        cJSON *meta = cJSON_AddObjectToObject(root, ST_META_KEY);
        if (!meta)
            goto cleanup;
        for (int i = 0; i < w->n_meta; i++)
            if (!cJSON_AddStringToObject(meta, w->meta_keys[i],
                                         w->meta_values[i]))
                goto cleanup;
    }
    text = cJSON_PrintUnformatted(root);

cleanup:
    cJSON_Delete(root);
    return text;
}

int tadd_st_writer_save(struct tadd_st_writer *w, const char *path,
                        char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    char *header = NULL;
    size_t hlen, padded, total, pos;
    int64_t data_len = 0;
    int rc = -1;

    if (!w || !path) {
        tadd_msgf(err, errlen, "safetensors: no writer or no path");
        return -1;
    }
    header = st_header_json(w);
    if (!header) {
        tadd_msgf(err, errlen, "%s: out of memory building the header", path);
        goto cleanup;
    }
    for (int i = 0; i < w->n_tensors; i++)
        data_len += w->tensors[i].numel * 4;
    hlen = strlen(header);
    /* Spaces pad the header so the data starts 8-byte aligned. */
    padded = (hlen + 7) & ~(size_t)7;
    total = 8 + padded + (size_t)data_len;
    buf = malloc(total);
    if (!buf) {
        tadd_msgf(err, errlen, "%s: out of memory (%zu bytes)", path, total);
        goto cleanup;
    }
    st_store_le64(buf, (uint64_t)padded);
    memcpy(buf + 8, header, hlen);
    memset(buf + 8 + hlen, ' ', padded - hlen);
    pos = 8 + padded;
    for (int i = 0; i < w->n_tensors; i++) {
        st_store_f32(buf + pos, w->tensors[i].data, w->tensors[i].numel);
        pos += (size_t)w->tensors[i].numel * 4;
    }
    rc = tadd_write_file_atomic(path, buf, total, err, errlen);

cleanup:
    free(buf);
    cJSON_free(header);
    return rc;
}
