#include "submit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "home.h"
#include "model.h"
#include "queue.h"
#include "text.h"

void tadd_plan_free(struct tadd_plan *plan)
{
    for (int i = 0; i < plan->n_configs; i++) {
        if (plan->pack_keys)
            free(plan->pack_keys[i]);
        if (plan->canonical)
            free(plan->canonical[i]);
    }
    for (int i = 0; i < plan->n_packs; i++) {
        free(plan->packs[i].config_idx);
        free(plan->packs[i].seed_idx);
    }
    free(plan->pack_keys);
    free(plan->canonical);
    free(plan->params);
    free(plan->packs);
    memset(plan, 0, sizeof(*plan));
}

/* Appends one pack of the trials [from, to) of a group's list. */
static int plan_add_pack(struct tadd_plan *plan, const int *cfg,
                         const int *seed, int from, int to)
{
    struct tadd_plan_pack *p;
    int n = to - from;

    p = &plan->packs[plan->n_packs];
    p->config_idx = malloc((size_t)n * sizeof(int));
    p->seed_idx = malloc((size_t)n * sizeof(int));
    if (!p->config_idx || !p->seed_idx) {
        free(p->config_idx);
        free(p->seed_idx);
        return -1;
    }
    memcpy(p->config_idx, cfg + from, (size_t)n * sizeof(int));
    memcpy(p->seed_idx, seed + from, (size_t)n * sizeof(int));
    p->n = n;
    plan->n_packs++;
    return 0;
}

int tadd_plan_make(struct tadd_plan *plan, const struct tadd_sweep *sw,
                   int max_models_per_pack)
{
    int nc = sw->n_configs;
    long nt = tadd_sweep_n_trials(sw);
    int *done = NULL;   /* (nc) config already placed in a group */
    int *g_cfg = NULL;  /* (nt) the current group's trials */
    int *g_seed = NULL; /* (nt) */
    int rc = -1;

    memset(plan, 0, sizeof(*plan));
    plan->n_configs = nc;
    plan->pack_keys = calloc((size_t)nc, sizeof(char *));
    plan->canonical = calloc((size_t)nc, sizeof(char *));
    plan->params = calloc((size_t)nc, sizeof(long));
    /* At most one pack per trial. */
    plan->packs = calloc((size_t)(nt > 0 ? nt : 1), sizeof(*plan->packs));
    done = calloc((size_t)nc, sizeof(int));
    g_cfg = malloc((size_t)(nt > 0 ? nt : 1) * sizeof(int));
    g_seed = malloc((size_t)(nt > 0 ? nt : 1) * sizeof(int));
    if (!plan->pack_keys || !plan->canonical || !plan->params ||
        !plan->packs || !done || !g_cfg || !g_seed)
        goto cleanup;
    for (int i = 0; i < nc; i++) {
        const struct tadd_config *cfg = &sw->configs[i].cfg;

        plan->pack_keys[i] = tadd_config_pack_key(cfg);
        plan->canonical[i] = tadd_config_canonical_json(cfg);
        if (!plan->pack_keys[i] || !plan->canonical[i])
            goto cleanup;
        plan->params[i] = (long)tadd_model_param_count(&cfg->model);
    }
    for (int i = 0; i < nc; i++) {
        int n = 0;

        if (done[i])
            continue;
        for (int j = i; j < nc; j++) {
            if (done[j] ||
                strcmp(plan->pack_keys[i], plan->pack_keys[j]) != 0)
                continue;
            done[j] = 1;
            for (int k = 0; k < sw->n_seeds; k++) {
                g_cfg[n] = j;
                g_seed[n] = k;
                n++;
            }
        }
        for (int from = 0; from < n; from += max_models_per_pack) {
            int to = from + max_models_per_pack < n
                         ? from + max_models_per_pack
                         : n;
            if (plan_add_pack(plan, g_cfg, g_seed, from, to) != 0)
                goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(done);
    free(g_cfg);
    free(g_seed);
    if (rc != 0)
        tadd_plan_free(plan);
    return rc;
}

cJSON *tadd_plan_to_json(const struct tadd_plan *plan,
                         const struct tadd_sweep *sw)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *configs = cJSON_AddArrayToObject(root, "configs");
    cJSON *seeds = cJSON_AddArrayToObject(root, "seeds");
    cJSON *packs = cJSON_AddArrayToObject(root, "packs");

    if (!root || !configs || !seeds || !packs)
        goto fail;
    cJSON_AddStringToObject(root, "sweep", sw->name);
    cJSON_AddNumberToObject(root, "n_configs", sw->n_configs);
    cJSON_AddNumberToObject(root, "n_trials",
                            (double)tadd_sweep_n_trials(sw));
    cJSON_AddNumberToObject(root, "n_packs", plan->n_packs);
    for (int i = 0; i < plan->n_configs; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON *fields = cJSON_Parse(plan->canonical[i]);

        if (!c || !fields || !cJSON_AddItemToArray(configs, c)) {
            cJSON_Delete(c);
            cJSON_Delete(fields);
            goto fail;
        }
        cJSON_AddStringToObject(c, "name", sw->configs[i].name);
        cJSON_AddNumberToObject(c, "params", (double)plan->params[i]);
        cJSON_AddItemToObject(c, "config", fields);
    }
    for (int i = 0; i < sw->n_seeds; i++)
        cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)sw->seeds[i]));
    for (int i = 0; i < plan->n_packs; i++) {
        const struct tadd_plan_pack *p = &plan->packs[i];
        cJSON *pj = cJSON_CreateObject();
        cJSON *models = cJSON_AddArrayToObject(pj, "models");

        if (!pj || !models || !cJSON_AddItemToArray(packs, pj)) {
            cJSON_Delete(pj);
            goto fail;
        }
        for (int k = 0; k < p->n; k++) {
            cJSON *m = cJSON_CreateObject();
            if (!m || !cJSON_AddItemToArray(models, m)) {
                cJSON_Delete(m);
                goto fail;
            }
            cJSON_AddStringToObject(m, "config",
                                    sw->configs[p->config_idx[k]].name);
            cJSON_AddNumberToObject(m, "seed",
                                    (double)sw->seeds[p->seed_idx[k]]);
        }
    }
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

int tadd_submit_check(struct tadd_db *db, const struct tadd_sweep *sw,
                      const char **code, char *err, size_t errlen)
{
    int64_t n = 0;

    if (tadd_home_name_reserved(sw->name)) {
        *code = "bad_sweep";
        snprintf(err, errlen,
                 "name: \"%s\" is reserved for the home folder's own files",
                 sw->name);
        return -1;
    }
    for (int i = 0; i < sw->n_configs; i++) {
        if (tadd_home_config_name_reserved(sw->configs[i].name)) {
            *code = "bad_sweep";
            tadd_msgf(err, errlen,
                      "config \"%s\": the name is reserved for the sweep "
                      "folder's own files; rename the variant",
                      sw->configs[i].name);
            return -1;
        }
    }
    if (tadd_db_int(db, &n, 0, "SELECT COUNT(*) FROM sweeps WHERE name = ?",
                    "t", sw->name) != 0)
        goto db_error;
    if (n > 0) {
        *code = "exists";
        snprintf(err, errlen,
                 "name: a sweep named \"%s\" was already submitted; choose "
                 "another name",
                 sw->name);
        return -1;
    }
    if (sw->baseline_config[0] && !tadd_sweep_baseline_is_local(sw)) {
        if (tadd_db_int(db, &n, 0,
                        "SELECT COUNT(*) FROM configs c JOIN sweeps s ON "
                        "s.id = c.sweep_id WHERE s.name = ? AND c.name = ?",
                        "tt", sw->baseline_sweep, sw->baseline_config) != 0)
            goto db_error;
        if (n == 0) {
            *code = "bad_sweep";
            snprintf(err, errlen,
                     "baseline: sweep \"%s\" has no config \"%s\" in this "
                     "home",
                     sw->baseline_sweep, sw->baseline_config);
            return -1;
        }
    }
    return 0;
db_error:
    *code = "internal";
    tadd_msgf(err, errlen, "%s", db->err);
    return -1;
}

static int submit_rows(struct tadd_db *db, const struct tadd_sweep *sw,
                       const struct tadd_plan *plan, const char *spec_text,
                       int64_t *sweep_id)
{
    double now = tadd_queue_now();
    int64_t *config_ids = calloc((size_t)plan->n_configs, sizeof(int64_t));
    int rc;

    if (!config_ids) {
        snprintf(db->err, sizeof(db->err), "out of memory");
        return -1;
    }
    rc = tadd_db_run(db,
                     "INSERT INTO sweeps (name, description, spec, "
                     "baseline_sweep, baseline_config, success_threshold, "
                     "priority, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     "tttttdid", sw->name, sw->description, spec_text,
                     sw->baseline_config[0] ? sw->baseline_sweep : NULL,
                     sw->baseline_config[0] ? sw->baseline_config : NULL,
                     sw->success_threshold, (int64_t)sw->priority, now);
    *sweep_id = tadd_db_last_id(db);
    if (rc == 0)
        rc = tadd_queue_event(db, *sweep_id, "sweep", *sweep_id, "submitted",
                              NULL);
    for (int i = 0; rc == 0 && i < plan->n_configs; i++) {
        rc = tadd_db_run(db,
                         "INSERT INTO configs (sweep_id, idx, name, config, "
                         "pack_key, params) VALUES (?, ?, ?, ?, ?, ?)",
                         "iittti", *sweep_id, (int64_t)i,
                         sw->configs[i].name, plan->canonical[i],
                         plan->pack_keys[i], (int64_t)plan->params[i]);
        config_ids[i] = tadd_db_last_id(db);
    }
    for (int p = 0; rc == 0 && p < plan->n_packs; p++) {
        const struct tadd_plan_pack *pk = &plan->packs[p];
        const struct tadd_config *first =
            &sw->configs[pk->config_idx[0]].cfg;
        int64_t pack_id;

        rc = tadd_db_run(db,
                         "INSERT INTO packs (sweep_id, pack_key, n_models, "
                         "train_steps, created_at) VALUES (?, ?, ?, ?, ?)",
                         "itiid", *sweep_id,
                         plan->pack_keys[pk->config_idx[0]], (int64_t)pk->n,
                         (int64_t)first->train.train_steps, now);
        pack_id = tadd_db_last_id(db);
        if (rc == 0)
            rc = tadd_queue_event(db, *sweep_id, "pack", pack_id, "queued",
                                  NULL);
        for (int k = 0; rc == 0 && k < pk->n; k++) {
            const struct tadd_sweep_config *c = &sw->configs[pk->config_idx[k]];
            int64_t seed = sw->seeds[pk->seed_idx[k]];
            char dir[512];

            snprintf(dir, sizeof(dir), "%s/%s/seed_%lld", sw->name, c->name,
                     (long long)seed);
            rc = tadd_db_run(db,
                             "INSERT INTO trials (config_id, seed, dir, "
                             "updated_at) VALUES (?, ?, ?, ?)",
                             "iitd", config_ids[pk->config_idx[k]], seed, dir,
                             now);
            if (rc == 0)
                rc = tadd_db_run(db,
                                 "INSERT INTO pack_members (pack_id, idx, "
                                 "trial_id) VALUES (?, ?, ?)",
                                 "iii", pack_id, (int64_t)k,
                                 tadd_db_last_id(db));
        }
    }
    free(config_ids);
    return rc;
}

int tadd_submit_store(struct tadd_db *db, const struct tadd_sweep *sw,
                      const struct tadd_plan *plan, const char *spec_text,
                      const char **code, char *err, size_t errlen)
{
    int64_t sweep_id = 0;

    tadd_db_clear_error(db);
    if (tadd_db_begin(db) != 0) {
        *code = "internal";
        tadd_msgf(err, errlen, "%s", db->err);
        return -1;
    }
    if (submit_rows(db, sw, plan, spec_text, &sweep_id) != 0 ||
        tadd_db_commit(db) != 0) {
        *code = "internal";
        tadd_msgf(err, errlen, "%s", db->err);
        tadd_db_rollback(db);
        return -1;
    }
    return 0;
}
