#include "db.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultpoint.h"
#include "schema.h"

static void db_fail(struct tadd_db *db, const char *what, const char *sql)
{
    const char *msg = sqlite3_errmsg(db->h);
    char head[80];

    if (db->err[0])
        return;
    /* The statement's first line says what it was for. */
    snprintf(head, sizeof(head), "%s", sql ? sql : "");
    head[strcspn(head, "\n")] = '\0';
    snprintf(db->err, sizeof(db->err), "database: %s: %s (in \"%s\")", what,
             msg, head);
}

void tadd_db_clear_error(struct tadd_db *db)
{
    db->err[0] = '\0';
}

static int db_bind(struct tadd_db *db, sqlite3_stmt *st, const char *sql,
                   const char *fmt, va_list ap)
{
    int rc = SQLITE_OK;
    int want = sqlite3_bind_parameter_count(st);
    int have = fmt ? (int)strlen(fmt) : 0;

    /* A mismatch is a programming error; it fails the statement loudly
     * rather than binding garbage. */
    if (want != have) {
        if (!db->err[0])
            snprintf(db->err, sizeof(db->err),
                     "database: statement has %d parameters, %d given",
                     want, have);
        return -1;
    }
    for (int i = 0; fmt && fmt[i] && rc == SQLITE_OK; i++) {
        int col = i + 1;

        switch (fmt[i]) {
        case 'i':
            rc = sqlite3_bind_int64(st, col, va_arg(ap, int64_t));
            break;
        case 'I': {
            int64_t v = va_arg(ap, int64_t);
            rc = v < 0 ? sqlite3_bind_null(st, col)
                       : sqlite3_bind_int64(st, col, v);
            break;
        }
        case 'd': {
            double v = va_arg(ap, double);
            rc = isnan(v) ? sqlite3_bind_null(st, col)
                          : sqlite3_bind_double(st, col, v);
            break;
        }
        case 't': {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, col);
            break;
        }
        case 'n':
            rc = sqlite3_bind_null(st, col);
            break;
        default:
            if (!db->err[0])
                snprintf(db->err, sizeof(db->err),
                         "database: bad bind letter '%c'", fmt[i]);
            return -1;
        }
    }
    if (rc != SQLITE_OK) {
        db_fail(db, "bind", sql);
        return -1;
    }
    return 0;
}

static sqlite3_stmt *db_vquery(struct tadd_db *db, const char *sql,
                               const char *fmt, va_list ap)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
        db_fail(db, "prepare", sql);
        return NULL;
    }
    if (db_bind(db, st, sql, fmt, ap) != 0) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

sqlite3_stmt *tadd_db_query(struct tadd_db *db, const char *sql,
                            const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;

    va_start(ap, fmt);
    st = db_vquery(db, sql, fmt, ap);
    va_end(ap);
    return st;
}

int tadd_db_step(struct tadd_db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    db_fail(db, "step", sqlite3_sql(st));
    return -1;
}

int tadd_db_run(struct tadd_db *db, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st;
    int rc;
    va_list ap;

    va_start(ap, fmt);
    st = db_vquery(db, sql, fmt, ap);
    va_end(ap);
    if (!st)
        return -1;
    while ((rc = tadd_db_step(db, st)) == 1)
        ;
    sqlite3_finalize(st);
    return rc;
}

int tadd_db_int(struct tadd_db *db, int64_t *out, int64_t dflt,
                const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st;
    int rc;
    va_list ap;

    va_start(ap, fmt);
    st = db_vquery(db, sql, fmt, ap);
    va_end(ap);
    if (!st)
        return -1;
    *out = dflt;
    rc = tadd_db_step(db, st);
    if (rc == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc < 0 ? -1 : 0;
}

int64_t tadd_db_last_id(struct tadd_db *db)
{
    return sqlite3_last_insert_rowid(db->h);
}

int tadd_db_changes(struct tadd_db *db)
{
    return sqlite3_changes(db->h);
}

const char *tadd_db_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return s ? (const char *)s : "";
}

void tadd_db_busy_wait(struct tadd_db *db, int ms)
{
    sqlite3_busy_timeout(db->h, ms);
}

int tadd_db_begin(struct tadd_db *db)
{
    /* IMMEDIATE takes the write lock at once: a reader in the sqlite3
     * shell can then never turn a commit into a busy error midway. */
    if (tadd_db_run(db, "BEGIN IMMEDIATE", NULL) != 0)
        return -1;
    db->in_tx = 1;
    return 0;
}

int tadd_db_commit(struct tadd_db *db)
{
    tadd_fault_point("db-commit");
    if (tadd_db_run(db, "COMMIT", NULL) != 0)
        return -1;
    db->in_tx = 0;
    return 0;
}

void tadd_db_rollback(struct tadd_db *db)
{
    if (!db->in_tx)
        return;
    /* A failed ROLLBACK means SQLite already rolled back on its own. */
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    db->in_tx = 0;
}

int tadd_db_version(struct tadd_db *db)
{
    int64_t v = -1;

    if (tadd_db_int(db, &v, -1, "PRAGMA user_version", NULL) != 0)
        return -1;
    return (int)v;
}

/* Applies every migration past the database's version, each in its own
 * transaction together with the new user_version. */
static int db_migrate(struct tadd_db *db, char *err, size_t errlen)
{
    int have = tadd_db_version(db);
    int latest = tadd_schema_n_migrations;
    char *msg = NULL;

    if (have < 0) {
        snprintf(err, errlen, "%s", db->err);
        return -1;
    }
    if (have > latest) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this taddd "
                 "knows (%d): use a newer taddd", have, latest);
        return -1;
    }
    for (int i = have; i < latest; i++) {
        const struct tadd_schema_migration *m = &tadd_schema_migrations[i];
        char pragma[64];

        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
                 m->version);
        if (tadd_db_begin(db) != 0 ||
            sqlite3_exec(db->h, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db->h, pragma, NULL, NULL, &msg) != SQLITE_OK ||
            tadd_db_commit(db) != 0) {
            snprintf(err, errlen, "database migration %s failed: %s",
                     m->name, msg ? msg : db->err);
            sqlite3_free(msg);
            tadd_db_rollback(db);
            return -1;
        }
    }
    return 0;
}

int tadd_db_open(struct tadd_db **out, const char *path, char *err,
                 size_t errlen)
{
    struct tadd_db *db = calloc(1, sizeof(*db));
    char *msg = NULL;

    *out = NULL;
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sqlite3_open_v2(path, &db->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto fail;
    }
    /* Another process (a user's sqlite3 shell) may hold the write lock
     * for a while; the daemon waits rather than fail. A worker event
     * refused after this long waits in its pack's backlog and is
     * recorded with the next event or the pack's end (scheduler.c). */
    sqlite3_busy_timeout(db->h, TADD_DB_BUSY_MS);
    /* WAL lets the sqlite3 shell read while the daemon writes; FULL
     * makes every committed state change survive a power cut too. */
    if (sqlite3_exec(db->h,
                     "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up database %s: %s", path,
                 msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        goto fail;
    }
    if (db_migrate(db, err, errlen) != 0)
        goto fail;
    *out = db;
    return 0;
fail:
    tadd_db_close(db);
    return -1;
}

void tadd_db_close(struct tadd_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->h);
    free(db);
}
