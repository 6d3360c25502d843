/*
 * Submitting a sweep: the expansion (configs x seeds) cut into packs, shown
 * for a dry run or stored in one transaction.
 *
 * Packing: trials whose configs have equal pack keys are grouped, config
 * by config in the sweep's order and, within a config, seed by seed; each
 * group is cut into packs of at most max_models_per_pack. A config's seeds
 * thus stay together, and configs differing only in per-model fields (a
 * learning-rate grid) share workers.
 */
#ifndef TADD_SUBMIT_H
#define TADD_SUBMIT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "sweep.h"

struct tadd_plan_pack {
    int n;           /* models */
    int *config_idx; /* (n) index into the sweep's configs */
    int *seed_idx;   /* (n) index into the sweep's seeds */
};

struct tadd_plan {
    int n_configs;
    char **pack_keys;   /* (n_configs) */
    char **canonical;   /* (n_configs) canonical config JSON */
    long *params;       /* (n_configs) trainable scalars */
    int n_packs;
    struct tadd_plan_pack *packs;
};

/* Computes the plan of a parsed sweep. Returns 0, or -1 on OOM. */
int tadd_plan_make(struct tadd_plan *plan, const struct tadd_sweep *sw,
                   int max_models_per_pack);

void tadd_plan_free(struct tadd_plan *plan);

/* The plan as JSON (configs with params and fields, seeds, packs); NULL on
 * OOM. */
cJSON *tadd_plan_to_json(const struct tadd_plan *plan,
                         const struct tadd_sweep *sw);

/*
 * The checks a parse cannot make because they need the queue: the name is
 * not taken or reserved, a baseline in another sweep exists. Returns 0,
 * or -1 with a message in err and the protocol's error code in *code.
 */
int tadd_submit_check(struct tadd_db *db, const struct tadd_sweep *sw,
                      const char **code, char *err, size_t errlen);

/*
 * Stores the sweep, its configs, trials and packs in one transaction,
 * after tadd_submit_check passed (nothing runs in between: the daemon is
 * single-threaded). Returns 0, or -1 with a message in err and *code set;
 * nothing is written then.
 */
int tadd_submit_store(struct tadd_db *db, const struct tadd_sweep *sw,
                      const struct tadd_plan *plan, const char *spec_text,
                      const char **code, char *err, size_t errlen);

#endif
