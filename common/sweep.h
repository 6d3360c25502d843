/*
 * The sweep file of SPEC section 5: parsed, fully validated and expanded
 * into configs before anything is returned, so a refused file queues
 * nothing.
 *
 * A config is defaults + base + one variant + one grid point. Its name is
 * the variant's name ("default" without variants) followed by
 * ".key=value" for every grid key in the file's order, the value written
 * as tadd_config_field_text gives it (baseline.batch_size=384.lr=0.0135).
 * Configs come variant by variant, grid points in odometer order: the last
 * grid key changes fastest. Trials are configs x seeds.
 *
 * Every error names the key path ("variants[1].lr", "grid.batch_size[2]",
 * "seeds.count") or the config at fault.
 */
#ifndef TADD_SWEEP_H
#define TADD_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"

#define TADD_SWEEP_NAME_MAX 64   /* sweep and variant names */
#define TADD_CONFIG_NAME_MAX 200 /* a config name: one safe path component */
#define TADD_SWEEP_MAX_TRIALS 100000
#define TADD_SWEEP_MAX_FILE (1 << 20) /* bytes of a sweep file */
#define TADD_SEED_LIMIT 9007199254740992LL /* seeds lie in [0, 2^53) */
#define TADD_DEFAULT_SUCCESS_THRESHOLD 0.99
#define TADD_DEFAULT_SEED_START 42
#define TADD_DEFAULT_SEED_COUNT 8

struct tadd_sweep_config {
    char name[TADD_CONFIG_NAME_MAX + 1];
    char variant[TADD_SWEEP_NAME_MAX + 1]; /* "default" without variants */
    struct tadd_config cfg;                /* validated */
};

struct tadd_sweep {
    char name[TADD_SWEEP_NAME_MAX + 1];
    char *description; /* "" when absent, never NULL after a parse */
    double success_threshold; /* in (0, 1]; default 0.99 */
    int priority;             /* default 0; higher runs first */

    int n_seeds;
    int64_t *seeds; /* distinct, in the file's order */

    int n_configs;
    struct tadd_sweep_config *configs;

    /*
     * The baseline config, "" for none. baseline_sweep is this sweep's own
     * name when the baseline is a config of this sweep (then it exists in
     * configs), or another sweep's name: whether that one exists is for
     * the caller to check against its queue.
     *
     * When the file's "baseline" string names no config but a variant of
     * this sweep (SPEC section 5's example: "baseline": "baseline" with a
     * grid), baseline_is_variant is 1 and baseline_config holds the
     * variant's name: each config is judged against that variant's config
     * at the same grid point (no_fixed_mlp.batch_size=384.lr=0.0135
     * against baseline.batch_size=384.lr=0.0135), see
     * tadd_sweep_baseline_of. A config name wins over a variant name.
     */
    char baseline_sweep[TADD_SWEEP_NAME_MAX + 1];
    char baseline_config[TADD_CONFIG_NAME_MAX + 1];
    int baseline_is_variant;
};

/*
 * Parses and expands the JSON text of a sweep file (len bytes, need not
 * be NUL-terminated). Returns 0 and fills *out, or -1 with a message in
 * err naming the key path; *out is then empty (safe to free).
 */
int tadd_sweep_parse(const char *text, size_t len, struct tadd_sweep *out,
                     char *err, size_t errlen);

/*
 * Same, from an already parsed JSON document. Prefer tadd_sweep_parse on
 * raw text: it also refuses the escape \u0000, which cJSON turns into a
 * NUL that silently shortens a string and which a parsed document no
 * longer shows.
 */
int tadd_sweep_from_json(const cJSON *root, struct tadd_sweep *out,
                         char *err, size_t errlen);

/* Same, from a file of at most TADD_SWEEP_MAX_FILE bytes; messages start
 * with path. */
int tadd_sweep_load(const char *path, struct tadd_sweep *out, char *err,
                    size_t errlen);

void tadd_sweep_free(struct tadd_sweep *s);

/* n_configs * n_seeds; never above TADD_SWEEP_MAX_TRIALS after a parse. */
long tadd_sweep_n_trials(const struct tadd_sweep *s);

/* Index of the config of that name, or -1. */
int tadd_sweep_find_config(const struct tadd_sweep *s, const char *name);

/* 1 when the sweep has a baseline and it is one of its own configs or
 * variants. */
int tadd_sweep_baseline_is_local(const struct tadd_sweep *s);

/*
 * Index of the config that config i is judged against: the baseline
 * config, or with a variant baseline that variant's config at config i's
 * grid point (i itself for the variant's own configs). -1 without a
 * baseline in this sweep, or for an i out of range.
 */
int tadd_sweep_baseline_of(const struct tadd_sweep *s, int i);

/* 1 when name matches [A-Za-z0-9._-]{1,64} (sweep and variant names). */
int tadd_sweep_name_is_valid(const char *name);

/*
 * A config's canonical JSON text, every field in SPEC section 5's order,
 * for storage (tadd_config_from_json reads it back). Equal configs give
 * equal text. New string (free), NULL on OOM.
 */
char *tadd_config_canonical_json(const struct tadd_config *cfg);

/*
 * The pack key: the canonical JSON of every field a pack shares, that is
 * all but the per-model lr, weight_decay, warmup_steps, min_lr_ratio and
 * grad_clip (the seed is not a config field). Two trials may share a
 * worker exactly when their keys are equal strings, so the daemon can
 * GROUP BY it. New string (free), NULL on OOM.
 */
char *tadd_config_pack_key(const struct tadd_config *cfg);

#endif
