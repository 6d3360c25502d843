/*
 * The tie between the hostile-input tests and docs/hostile-inputs.md:
 * every case has a row there ("| ID | ..."), and the row shows, each in
 * backquotes, the texts the test expects.
 */
#ifndef TADD_TESTS_HOSTILE_DOC_ROWS_H
#define TADD_TESTS_HOSTILE_DOC_ROWS_H

/* Reads docs/hostile-inputs.md under $TADD_SOURCE_ROOT (caller frees);
 * exits the test when it cannot. */
char *doc_rows_load(void);

/* Returns the number of problems found (printed): no row for id, or a
 * row lacking `text` for one of the n texts (NULL entries skipped). */
int doc_rows_check(const char *doc, const char *id, const char *const *texts,
                   int n);

#endif
