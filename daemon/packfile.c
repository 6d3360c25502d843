#include "packfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "fsutil.h"
#include "home.h"
#include "text.h"

void tadd_packfile_paths(struct tadd_packfile *pf, const char *sweep,
                         int64_t pack_id)
{
    pf->pack_id = pack_id;
    snprintf(pf->dir, sizeof(pf->dir), "%.64s/%s/%lld", sweep,
             TADD_HOME_PACKS, (long long)pack_id);
    snprintf(pf->pack_path, sizeof(pf->pack_path), "%s/pack.json", pf->dir);
    snprintf(pf->state_path, sizeof(pf->state_path), "%s/resume.state",
             pf->dir);
    snprintf(pf->log_path, sizeof(pf->log_path), "%s/worker.log", pf->dir);
    snprintf(pf->progress_path, sizeof(pf->progress_path),
             "%s/progress.jsonl", pf->dir);
}

void tadd_packfile_free(struct tadd_packfile *pf)
{
    free(pf->trial_ids);
    pf->trial_ids = NULL;
    pf->n_models = 0;
}

/* Moves the per-model fields of a config object into model. */
static void packfile_split(cJSON *config, cJSON *model)
{
    cJSON *item = config->child;

    while (item) {
        cJSON *next = item->next;

        if (tadd_config_is_per_model_field(item->string)) {
            cJSON_DetachItemViaPointer(config, item);
            cJSON_AddItemToObject(model, item->string, item);
        }
        item = next;
    }
}

/* Adds the pack's models; the first member's shared fields become the
 * pack's config (the pack key makes them equal for all). */
static int packfile_models(struct tadd_db *db, struct tadd_packfile *pf,
                           cJSON *root, char *err, size_t errlen)
{
    cJSON *models = cJSON_AddArrayToObject(root, "models");
    sqlite3_stmt *st;
    int rc, n = 0;

    st = tadd_db_query(db,
                       "SELECT m.trial_id, t.seed, t.dir, c.config "
                       "FROM pack_members m JOIN trials t ON t.id = "
                       "m.trial_id JOIN configs c ON c.id = t.config_id "
                       "WHERE m.pack_id = ? ORDER BY m.idx",
                       "i", pf->pack_id);
    if (!models || !st)
        goto db_error;
    while ((rc = tadd_db_step(db, st)) == 1) {
        cJSON *config = cJSON_Parse(tadd_db_text(st, 3));
        cJSON *model = cJSON_CreateObject();

        if (!config || !model || n >= pf->n_models) {
            cJSON_Delete(config);
            cJSON_Delete(model);
            snprintf(err, errlen,
                     "pack %lld: member %d has a bad stored config",
                     (long long)pf->pack_id, n);
            sqlite3_finalize(st);
            return -1;
        }
        pf->trial_ids[n++] = sqlite3_column_int64(st, 0);
        cJSON_AddNumberToObject(model, "seed",
                                (double)sqlite3_column_int64(st, 1));
        packfile_split(config, model);
        cJSON_AddStringToObject(model, "dir", tadd_db_text(st, 2));
        cJSON_AddItemToArray(models, model);
        if (!cJSON_GetObjectItemCaseSensitive(root, "config"))
            cJSON_AddItemToObject(root, "config", config);
        else
            cJSON_Delete(config);
    }
    sqlite3_finalize(st);
    if (rc < 0)
        goto db_error;
    if (n != pf->n_models) {
        tadd_msgf(err, errlen, "pack %lld: %d members stored, %d expected",
                 (long long)pf->pack_id, n, pf->n_models);
        return -1;
    }
    return 0;
db_error:
    tadd_msgf(err, errlen, "%s", db->err);
    return -1;
}

/* Loads the pack's sweep, size and members into pf and its models into a
 * new pack file object *root (also holding "success_threshold"). */
static int packfile_build(struct tadd_db *db, int64_t pack_id,
                          struct tadd_packfile *pf, cJSON **root, char *err,
                          size_t errlen)
{
    char sweep[256] = "";
    double threshold;
    sqlite3_stmt *st;

    memset(pf, 0, sizeof(*pf));
    *root = NULL;
    err[0] = '\0';
    st = tadd_db_query(db,
                       "SELECT s.name, s.id, s.success_threshold, "
                       "p.n_models, p.train_steps FROM packs p JOIN sweeps "
                       "s ON s.id = p.sweep_id WHERE p.id = ?",
                       "i", pack_id);
    if (!st || tadd_db_step(db, st) != 1) {
        tadd_msgf(err, errlen, "pack %lld: %s", (long long)pack_id,
                  db->err[0] ? db->err : "no such pack");
        sqlite3_finalize(st);
        return -1;
    }
    snprintf(sweep, sizeof(sweep), "%s", tadd_db_text(st, 0));
    pf->sweep_id = sqlite3_column_int64(st, 1);
    threshold = sqlite3_column_double(st, 2);
    pf->n_models = sqlite3_column_int(st, 3);
    pf->train_steps = (long)sqlite3_column_int64(st, 4);
    sqlite3_finalize(st);
    tadd_packfile_paths(pf, sweep, pack_id);

    pf->trial_ids = calloc((size_t)pf->n_models + 1, sizeof(int64_t));
    *root = cJSON_CreateObject();
    if (!pf->trial_ids || !*root) {
        tadd_msgf(err, errlen, "out of memory");
        return -1;
    }
    if (packfile_models(db, pf, *root, err, errlen) != 0)
        return -1;
    cJSON_AddNumberToObject(*root, "success_threshold", threshold);
    return 0;
}

int tadd_packfile_load(struct tadd_db *db, int64_t pack_id,
                       struct tadd_packfile *pf, char *err, size_t errlen)
{
    cJSON *root = NULL;
    int rc = packfile_build(db, pack_id, pf, &root, err, errlen);

    cJSON_Delete(root);
    return rc;
}

int tadd_packfile_write(struct tadd_db *db, const char *home,
                        int64_t pack_id, long checkpoint_interval,
                        struct tadd_packfile *pf, char *err, size_t errlen)
{
    cJSON *root = NULL;
    char *text = NULL;
    char path[PATH_MAX];
    int rc = -1;

    if (packfile_build(db, pack_id, pf, &root, err, errlen) != 0)
        goto cleanup;
    cJSON_AddNumberToObject(root, "checkpoint_interval",
                            (double)checkpoint_interval);
    cJSON_AddStringToObject(root, "state", pf->state_path);
    text = cJSON_Print(root);
    if (!text) {
        tadd_msgf(err, errlen, "out of memory");
        goto cleanup;
    }
    if (tadd_pathf(path, sizeof(path), "%s/%s", home, pf->dir) != 0 ||
        tadd_mkdir_p(path, 0700, err, errlen) != 0 ||
        tadd_pathf(path, sizeof(path), "%s/%s", home, pf->pack_path) != 0 ||
        tadd_write_file_atomic(path, text, strlen(text), err, errlen) != 0) {
        if (!err[0])
            tadd_msgf(err, errlen, "pack %lld: path too long under %s",
                      (long long)pack_id, home);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(text);
    cJSON_Delete(root);
    return rc;
}
