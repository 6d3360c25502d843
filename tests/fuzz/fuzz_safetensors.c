/*
 * Fuzz target: the safetensors reader (common/safetensors.h,
 * tadd_st_parse).
 *
 * An accepted file must describe tensors that really lie in it: shapes
 * matching their element counts, names distinct, and all tensors together
 * no larger than the data section (overlapping ranges are refused, so the
 * sizes cannot add up to more).
 */
#include <string.h>

#include "safetensors.h"

#include "fuzz.h"

const char tadd_fuzz_target[] = "safetensors";

#define FUZZ_NAME "fuzz.safetensors"

static void fuzz_check_file(const struct tadd_st_file *f,
                            const uint8_t *data, size_t size)
{
    uint64_t hlen = 0;
    int64_t bytes = 0;

    FUZZ_ASSERT(size >= 8);
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | data[i];
    FUZZ_ASSERT(hlen <= size - 8);
    FUZZ_ASSERT(f->n_tensors >= 0 && f->n_meta >= 0);
    for (int i = 0; i < f->n_tensors; i++) {
        const struct tadd_st_tensor *t = &f->tensors[i];
        int64_t numel = 1;
        FUZZ_ASSERT(t->name != NULL && t->name[0] != '\0');
        FUZZ_ASSERT(strcmp(t->name, "__metadata__") != 0);
        FUZZ_ASSERT(t->ndim >= 0 && t->ndim <= TADD_ST_MAX_DIMS);
        for (int d = 0; d < t->ndim; d++) {
            FUZZ_ASSERT(t->shape[d] >= 0);
            numel *= t->shape[d];
        }
        FUZZ_ASSERT(numel == t->numel);
        FUZZ_ASSERT(t->data != NULL);
        /* Reading every value lets the address checker see the whole
         * buffer. */
        {
            volatile float sink = 0;
            for (int64_t k = 0; k < t->numel; k++)
                sink += t->data[k];
            (void)sink;
        }
        FUZZ_ASSERT(tadd_st_find(f, t->name) == t);
        bytes += t->numel * 4;
    }
    FUZZ_ASSERT((uint64_t)bytes <= size - 8 - hlen);
    for (int i = 0; i < f->n_meta; i++) {
        FUZZ_ASSERT(f->meta_keys[i] != NULL && f->meta_values[i] != NULL);
        FUZZ_ASSERT(tadd_st_meta(f, f->meta_keys[i]) == f->meta_values[i]);
    }
}

int tadd_fuzz_run(const uint8_t *data, size_t size, char *msg,
                  size_t msglen)
{
    struct tadd_st_file f;
    char err[512];
    int rc;

    err[0] = '\0';
    rc = tadd_st_parse(data, size, FUZZ_NAME, &f, err, sizeof(err));
    FUZZ_ASSERT(rc == 0 || rc == -1);
    if (rc == 0) {
        fuzz_check_file(&f, data, size);
        snprintf(msg, msglen, "ok");
    } else {
        /* Every message names the file it is about. */
        FUZZ_ASSERT(strncmp(err, FUZZ_NAME ": ", strlen(FUZZ_NAME) + 2) ==
                    0);
        FUZZ_ASSERT(f.n_tensors == 0 && f.tensors == NULL);
        FUZZ_ASSERT(f.n_meta == 0 && f.meta_keys == NULL);
        snprintf(msg, msglen, "%s", err);
    }
    tadd_st_free(&f);
    return rc;
}
