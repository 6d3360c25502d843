/*
 * The pack file a worker trains from (docs/worker-protocol.md), made from
 * the database, and the paths that go with it.
 */
#ifndef TADD_PACKFILE_H
#define TADD_PACKFILE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct tadd_packfile {
    int64_t pack_id;
    int64_t sweep_id;
    long train_steps;
    int n_models;
    int64_t *trial_ids;      /* (n_models) by index in the pack file */
    /* Relative to the home, which is the worker's working directory; a
     * sweep name is at most 64 bytes, so these always fit. */
    char dir[128];           /* <sweep>/packs/<id> */
    char pack_path[160];
    char state_path[160];
    char log_path[160];
    char progress_path[160]; /* the worker's stdout lines, appended */
};

/*
 * Loads pack_id's sweep, size and members into *pf. Returns 0, or -1 with
 * a message in err; free pf with tadd_packfile_free either way.
 */
int tadd_packfile_load(struct tadd_db *db, int64_t pack_id,
                       struct tadd_packfile *pf, char *err, size_t errlen);

/*
 * Loads pack_id as tadd_packfile_load does and writes its pack file
 * (atomically, folders created 0700) under home. Same contract.
 */
int tadd_packfile_write(struct tadd_db *db, const char *home,
                        int64_t pack_id, long checkpoint_interval,
                        struct tadd_packfile *pf, char *err, size_t errlen);

/* Fills the paths of pack_id alone (no database access); cannot fail. */
void tadd_packfile_paths(struct tadd_packfile *pf, const char *sweep,
                         int64_t pack_id);

void tadd_packfile_free(struct tadd_packfile *pf);

#endif
