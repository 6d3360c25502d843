#define _GNU_SOURCE /* strndup */
#include "doc_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *doc_rows_load(void)
{
    const char *src = getenv("TADD_SOURCE_ROOT");
    char path[4096];
    char *text;
    long n;
    FILE *f;

    if (!src) {
        fprintf(stderr, "TADD_SOURCE_ROOT is not set (run through meson)\n");
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/docs/hostile-inputs.md", src);
    f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(1);
    }
    text = malloc((size_t)n + 1);
    if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(1);
    }
    text[n] = '\0';
    fclose(f);
    return text;
}

int doc_rows_check(const char *doc, const char *id, const char *const *texts,
                   int n)
{
    char head[32];
    const char *row, *eol;
    char *line;
    int problems = 0;

    snprintf(head, sizeof(head), "| %s |", id);
    row = strstr(doc, head);
    if (!row) {
        fprintf(stderr, "%s: no row in docs/hostile-inputs.md\n", id);
        return 1;
    }
    eol = strchr(row, '\n');
    line = strndup(row, eol ? (size_t)(eol - row) : strlen(row));
    if (!line) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        char want[1100];
        if (!texts[i])
            continue;
        snprintf(want, sizeof(want), "`%s`", texts[i]);
        if (!strstr(line, want)) {
            fprintf(stderr, "%s: its row in docs/hostile-inputs.md lacks "
                    "%s\n", id, want);
            problems++;
        }
    }
    free(line);
    return problems;
}
