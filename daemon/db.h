/*
 * The daemon's SQLite database: opening it, bringing its schema up to
 * date, and short helpers for statements with bound values.
 *
 * Values are bound from a format string, one letter per value:
 *   i  int64_t            I  int64_t, a negative value binds NULL
 *   d  double, NaN binds NULL
 *   t  const char *, NULL binds NULL
 *   n  no argument, binds NULL
 * Every function that can fail returns 0 or -1 and leaves a message in
 * db->err naming the statement's purpose and SQLite's reason; the first
 * error since the last tadd_db_clear_error wins.
 */
#ifndef TADD_DB_H
#define TADD_DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define TADD_DB_ERR_LEN 512

struct tadd_db {
    sqlite3 *h;
    int in_tx;
    char err[TADD_DB_ERR_LEN];
};

/*
 * Opens (creating if needed) the database at path in WAL mode with
 * foreign keys on, and applies the missing migrations of schema/. Returns
 * 0 and *out, or -1 with a message in err.
 */
int tadd_db_open(struct tadd_db **out, const char *path, char *err,
                 size_t errlen);

void tadd_db_close(struct tadd_db *db);

/* The schema version the database is at (PRAGMA user_version). */
int tadd_db_version(struct tadd_db *db);

int tadd_db_begin(struct tadd_db *db);
int tadd_db_commit(struct tadd_db *db);
/* Rolls back the open transaction, if any; cannot fail in a way the
 * caller could act on. */
void tadd_db_rollback(struct tadd_db *db);

/* Runs one statement with bound values, discarding rows. */
int tadd_db_run(struct tadd_db *db, const char *sql, const char *fmt, ...);

/*
 * Prepares sql and binds values; the caller steps it with
 * tadd_db_step and frees it with sqlite3_finalize. Returns NULL on error
 * (message in db->err).
 */
sqlite3_stmt *tadd_db_query(struct tadd_db *db, const char *sql,
                            const char *fmt, ...);

/* 1 for a row, 0 when done, -1 on error (message in db->err). */
int tadd_db_step(struct tadd_db *db, sqlite3_stmt *st);

/* Stores in *out the first column of the first row of a query, or dflt
 * when there is no row or the value is NULL. Returns 0 or -1. */
int tadd_db_int(struct tadd_db *db, int64_t *out, int64_t dflt,
                const char *sql, const char *fmt, ...);

/* The rowid of the last insert. */
int64_t tadd_db_last_id(struct tadd_db *db);

/* Number of rows the last statement changed. */
int tadd_db_changes(struct tadd_db *db);

/* How long a statement waits for another process's lock before it fails
 * with "database is locked": TADD_DB_BUSY_MS unless set otherwise. */
#define TADD_DB_BUSY_MS 30000
void tadd_db_busy_wait(struct tadd_db *db, int ms);

/* A text column as a string, "" for NULL. */
const char *tadd_db_text(sqlite3_stmt *st, int col);

void tadd_db_clear_error(struct tadd_db *db);

#endif
