/*
 * The pack file: what one worker process trains (docs/worker-protocol.md).
 *
 * A pack shares one configuration except the six per-model fields of SPEC
 * section 5, which each model carries with its seed and output folder.
 */
#ifndef TADD_PACK_H
#define TADD_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TADD_PACK_MAX_MODELS 4096

struct tadd_pack_model {
    uint64_t seed;
    struct tadd_config cfg; /* the pack's config with this model's fields */
    char *dir;
};

struct tadd_pack {
    int n_models;
    struct tadd_pack_model *models;
    long checkpoint_interval;
    double success_threshold;
    char *state_path;
};

/*
 * Reads and validates the pack file at path. Returns 0, or -1 with a
 * message naming the file and the key path at fault; *pack is then empty.
 */
int tadd_pack_load(const char *path, struct tadd_pack *pack, char *err,
                   size_t errlen);

/* Same, from JSON text; name is used in messages and, with ".state"
 * appended, as the default state path. */
int tadd_pack_parse(const char *text, const char *name,
                    struct tadd_pack *pack, char *err, size_t errlen);

void tadd_pack_free(struct tadd_pack *pack);

#endif
