/*
 * Fuzz target: the worker's pack file reader (worker/pack.h,
 * tadd_pack_parse).
 *
 * The input is handed over as tadd_pack_load does: refused when it holds
 * a NUL byte, else as NUL-terminated text. An accepted pack must be one
 * the worker can train: 1 to TADD_PACK_MAX_MODELS models, each with a
 * folder and a valid config, a state path, sane pack-wide settings.
 */
#include <string.h>

#include "config.h"
#include "pack.h"

#include "fuzz.h"

const char tadd_fuzz_target[] = "pack";

#define FUZZ_NAME "fuzz-pack.json"

static void fuzz_check_pack(const struct tadd_pack *p)
{
    char err[TADD_ERR_LEN];

    FUZZ_ASSERT(p->n_models >= 1 && p->n_models <= TADD_PACK_MAX_MODELS);
    FUZZ_ASSERT(p->models != NULL);
    FUZZ_ASSERT(p->checkpoint_interval >= 1);
    FUZZ_ASSERT(p->success_threshold > 0 && p->success_threshold <= 1);
    FUZZ_ASSERT(p->state_path != NULL && p->state_path[0] != '\0');
    for (int i = 0; i < p->n_models; i++) {
        const struct tadd_pack_model *m = &p->models[i];
        FUZZ_ASSERT(m->dir != NULL && m->dir[0] != '\0');
        FUZZ_ASSERT(m->seed <= 9007199254740991ULL);
        FUZZ_ASSERT(tadd_config_validate(&m->cfg, err, sizeof(err)) == 0);
    }
}

int tadd_fuzz_run(const uint8_t *data, size_t size, char *msg,
                  size_t msglen)
{
    struct tadd_pack p;
    char err[TADD_ERR_LEN];
    char *text;
    int rc;

    if (memchr(data, '\0', size)) {
        snprintf(msg, msglen, "holds a NUL byte");
        return -1;
    }
    text = malloc(size + 1);
    FUZZ_ASSERT(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    err[0] = '\0';
    rc = tadd_pack_parse(text, FUZZ_NAME, &p, err, sizeof(err));
    FUZZ_ASSERT(rc == 0 || rc == -1);
    if (rc == 0) {
        fuzz_check_pack(&p);
        snprintf(msg, msglen, "ok");
    } else {
        FUZZ_ASSERT(strncmp(err, FUZZ_NAME ": ", strlen(FUZZ_NAME) + 2) ==
                    0);
        FUZZ_ASSERT(p.n_models == 0 && p.models == NULL);
        FUZZ_ASSERT(p.state_path == NULL);
        snprintf(msg, msglen, "%s", err);
    }
    tadd_pack_free(&p);
    free(text);
    return rc;
}
