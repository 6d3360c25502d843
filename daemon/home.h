/*
 * The home folder's layout (SPEC section 6), shared by taddd and taddctl:
 *
 *   <home>/tadd.db                      the database (and -wal, -shm)
 *   <home>/taddd.sock                   the daemon's socket, mode 0600
 *   <home>/taddd.log                    the daemon's log
 *   <home>/taddd.lock                   held by the running daemon
 *   <home>/taddd.json                   optional daemon settings
 *   <home>/<sweep>/summary.json, results.csv  the sweep's results
 *   <home>/<sweep>/<config>/seed_<seed>/  one model's files
 *   <home>/<sweep>/packs/<id>/pack.json   a pack file, its resume.state,
 *                                         the worker's stderr (worker.log)
 *                                         and a copy of its stdout lines
 *                                         (progress.jsonl)
 *
 * The home is TADD_HOME, or runs/ in the working directory, unless
 * --home says otherwise; it and everything below it is private (0700).
 */
#ifndef TADD_HOME_H
#define TADD_HOME_H

#include <stdlib.h>
#include <string.h>

#define TADD_HOME_ENV "TADD_HOME"
#define TADD_HOME_DEFAULT "runs"
#define TADD_HOME_DB "tadd.db"
#define TADD_HOME_SOCKET "taddd.sock"
#define TADD_HOME_LOG "taddd.log"
#define TADD_HOME_LOCK "taddd.lock"
#define TADD_HOME_SETTINGS "taddd.json"
#define TADD_HOME_CALIBRATION "calibration.json"
#define TADD_HOME_PACKS "packs"

/* The home the user asked for: flag (may be NULL), else TADD_HOME, else
 * the default. Never NULL. */
static inline const char *tadd_home_choose(const char *flag)
{
    const char *env = getenv(TADD_HOME_ENV);

    if (flag && flag[0])
        return flag;
    if (env && env[0])
        return env;
    return TADD_HOME_DEFAULT;
}

/* 1 when a sweep of this name would collide with the home's own files. */
static inline int tadd_home_name_reserved(const char *name)
{
    static const char *const reserved[] = {
        TADD_HOME_DB, TADD_HOME_DB "-wal", TADD_HOME_DB "-shm",
        TADD_HOME_SOCKET, TADD_HOME_LOG, TADD_HOME_LOCK, TADD_HOME_SETTINGS,
        TADD_HOME_CALIBRATION,
    };

    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(name, reserved[i]) == 0)
            return 1;
    return 0;
}

/* 1 when a config of this name would collide with the sweep folder's own
 * entries (the packs folder, summary.json, results.csv). */
static inline int tadd_home_config_name_reserved(const char *name)
{
    return strcmp(name, TADD_HOME_PACKS) == 0 ||
           strcmp(name, "summary.json") == 0 ||
           strcmp(name, "results.csv") == 0;
}

#endif
