/*
 * The database schema, compiled into the daemon.
 *
 * schema/NNN_*.sql are the migrations; at build time embed.c turns them
 * into this table, so that taddd needs no file at run time. Migration i
 * (0-based) brings PRAGMA user_version from i to i + 1 = version.
 */
#ifndef TADD_SCHEMA_H
#define TADD_SCHEMA_H

struct tadd_schema_migration {
    int version;      /* user_version once applied */
    const char *name; /* the file's name, for messages */
    const char *sql;  /* the statements */
};

extern const struct tadd_schema_migration tadd_schema_migrations[];
extern const int tadd_schema_n_migrations;

#endif
