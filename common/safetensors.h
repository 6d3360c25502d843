/*
 * safetensors files: an 8-byte little-endian header length, a JSON header
 * mapping tensor names to {dtype, shape, data_offsets} plus an optional
 * "__metadata__" object of string values, then the raw data.
 *
 * Only F32 tensors are read and written (SPEC section 6); a file holding any
 * other dtype is refused by name. The reader checks everything a hostile or
 * truncated file can get wrong: header length against file size, JSON
 * syntax, shapes against byte ranges, overlapping or out-of-bounds ranges.
 */
#ifndef TADD_SAFETENSORS_H
#define TADD_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define TADD_ST_MAX_DIMS 4

struct tadd_st_tensor {
    char *name;
    int ndim;
    int64_t shape[TADD_ST_MAX_DIMS];
    int64_t numel;
    float *data; /* numel floats, owned by the file object */
};

struct tadd_st_file {
    int n_tensors;
    struct tadd_st_tensor *tensors;
    int n_meta;
    char **meta_keys;   /* n_meta strings */
    char **meta_values; /* n_meta strings */
};

/*
 * Reads path completely. Returns 0 and fills *out, or -1 with a message in
 * err that names the file and what is wrong. On failure *out is empty.
 */
int tadd_st_read(const char *path, struct tadd_st_file *out, char *err,
                 size_t errlen);

/* Same, from a buffer of len bytes; name is used in messages. */
int tadd_st_parse(const void *buf, size_t len, const char *name,
                  struct tadd_st_file *out, char *err, size_t errlen);

void tadd_st_free(struct tadd_st_file *f);

/* The tensor of that name, or NULL. */
const struct tadd_st_tensor *tadd_st_find(const struct tadd_st_file *f,
                                          const char *name);

/* The metadata value of that key, or NULL. */
const char *tadd_st_meta(const struct tadd_st_file *f, const char *key);

/*
 * A file to be written: tensors are added in order (data is copied), then
 * written atomically (temporary name, fsync, rename, fsync of the folder).
 */
struct tadd_st_writer;

struct tadd_st_writer *tadd_st_writer_new(void);
/* Returns 0 or -1 on OOM or a bad shape. */
int tadd_st_writer_add(struct tadd_st_writer *w, const char *name, int ndim,
                       const int64_t *shape, const float *data);
int tadd_st_writer_meta(struct tadd_st_writer *w, const char *key,
                        const char *value);
/* Returns 0, or -1 with a message naming path and the failing call. */
int tadd_st_writer_save(struct tadd_st_writer *w, const char *path,
                        char *err, size_t errlen);
void tadd_st_writer_free(struct tadd_st_writer *w);

#endif
