/*
 * Fuzz target: the sweep file parser (common/sweep.h, tadd_sweep_parse).
 *
 * Beyond "no crash, no leak", an accepted sweep must be one the daemon
 * can queue safely: every config name a single safe path component,
 * every config valid and its canonical JSON reading back to itself, the
 * seeds distinct and in range, the trial count within the limit.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "fsutil.h"
#include "sweep.h"

#include "fuzz.h"

const char tadd_fuzz_target[] = "sweep";

/* Configs whose name lookup and canonical JSON are checked: the first few
 * and the last, so that a sweep of thousands of configs stays fast. */
#define FUZZ_ROUNDTRIP_HEAD 8

static void fuzz_check_roundtrip(const struct tadd_config *cfg)
{
    char err[TADD_ERR_LEN];
    struct tadd_config back;
    char *text = tadd_config_canonical_json(cfg);
    char *again;
    cJSON *j;

    FUZZ_ASSERT(text != NULL);
    j = cJSON_Parse(text);
    FUZZ_ASSERT(j != NULL);
    FUZZ_ASSERT(tadd_config_from_json(&back, j, "", err, sizeof(err)) == 0);
    again = tadd_config_canonical_json(&back);
    FUZZ_ASSERT(again != NULL);
    FUZZ_ASSERT(strcmp(text, again) == 0);
    cJSON_free(again);
    cJSON_Delete(j);
    cJSON_free(text);
}

static int fuzz_seed_cmp(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;

    return *x < *y ? -1 : *x > *y;
}

static void fuzz_check_sweep(const struct tadd_sweep *s)
{
    char err[TADD_ERR_LEN];
    int64_t *sorted;

    FUZZ_ASSERT(tadd_sweep_name_is_valid(s->name));
    FUZZ_ASSERT(s->description != NULL);
    FUZZ_ASSERT(strlen(s->description) <= 4096);
    FUZZ_ASSERT(s->success_threshold > 0 && s->success_threshold <= 1);
    FUZZ_ASSERT(s->priority >= -1000000 && s->priority <= 1000000);
    FUZZ_ASSERT(s->n_seeds >= 1 && s->seeds != NULL);
    FUZZ_ASSERT(s->n_configs >= 1 && s->configs != NULL);
    FUZZ_ASSERT(tadd_sweep_n_trials(s) <= TADD_SWEEP_MAX_TRIALS);

    sorted = malloc((size_t)s->n_seeds * sizeof(*sorted));
    FUZZ_ASSERT(sorted != NULL);
    memcpy(sorted, s->seeds, (size_t)s->n_seeds * sizeof(*sorted));
    qsort(sorted, (size_t)s->n_seeds, sizeof(*sorted), fuzz_seed_cmp);
    for (int i = 0; i < s->n_seeds; i++) {
        FUZZ_ASSERT(sorted[i] >= 0 && sorted[i] < TADD_SEED_LIMIT);
        FUZZ_ASSERT(i == 0 || sorted[i] != sorted[i - 1]);
    }
    free(sorted);

    for (int i = 0; i < s->n_configs; i++) {
        const struct tadd_sweep_config *c = &s->configs[i];
        /* A config name becomes a folder under <home>/<sweep>. */
        FUZZ_ASSERT(tadd_name_is_safe(c->name));
        FUZZ_ASSERT(strchr(c->name, '/') == NULL);
        FUZZ_ASSERT(strlen(c->name) <= TADD_CONFIG_NAME_MAX);
        FUZZ_ASSERT(tadd_sweep_name_is_valid(c->variant));
        FUZZ_ASSERT(tadd_config_validate(&c->cfg, err, sizeof(err)) == 0);
        if (i < FUZZ_ROUNDTRIP_HEAD || i == s->n_configs - 1) {
            /* Names are distinct: the first config of this name is i. */
            FUZZ_ASSERT(tadd_sweep_find_config(s, c->name) == i);
            fuzz_check_roundtrip(&c->cfg);
        }
    }

    if (s->baseline_config[0]) {
        FUZZ_ASSERT(tadd_sweep_name_is_valid(s->baseline_sweep));
        FUZZ_ASSERT(tadd_name_is_safe(s->baseline_config));
        if (tadd_sweep_baseline_is_local(s) && !s->baseline_is_variant)
            FUZZ_ASSERT(tadd_sweep_find_config(s, s->baseline_config) >= 0);
        if (s->baseline_is_variant) {
            /* A variant baseline: no config of that name, and every
             * config has its grid point's baseline config. */
            FUZZ_ASSERT(tadd_sweep_baseline_is_local(s));
            FUZZ_ASSERT(tadd_sweep_find_config(s, s->baseline_config) < 0);
            FUZZ_ASSERT(tadd_sweep_baseline_of(s, 0) >= 0);
            FUZZ_ASSERT(tadd_sweep_baseline_of(s, s->n_configs - 1) >= 0);
        }
    } else {
        FUZZ_ASSERT(!tadd_sweep_baseline_is_local(s));
    }
}

int tadd_fuzz_run(const uint8_t *data, size_t size, char *msg,
                  size_t msglen)
{
    struct tadd_sweep s;
    char err[TADD_ERR_LEN];
    int rc;

    err[0] = '\0';
    rc = tadd_sweep_parse((const char *)data, size, &s, err, sizeof(err));
    FUZZ_ASSERT(rc == 0 || rc == -1);
    if (rc == 0) {
        fuzz_check_sweep(&s);
        snprintf(msg, msglen, "ok");
    } else {
        /* A refusal says why and leaves nothing behind. */
        FUZZ_ASSERT(err[0] != '\0');
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
        FUZZ_ASSERT(s.n_configs == 0 && s.configs == NULL);
        FUZZ_ASSERT(s.n_seeds == 0 && s.seeds == NULL);
        FUZZ_ASSERT(s.description == NULL && s.name[0] == '\0');
        snprintf(msg, msglen, "%s", err);
    }
    tadd_sweep_free(&s);
    return rc;
}
