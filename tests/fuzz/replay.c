/*
 * Feeds saved inputs through a fuzz target without libFuzzer, so that the
 * normal build checks the seed corpus and every input that once broke a
 * parser.
 *
 *   replay DIR...
 *
 * Every regular file in each DIR is run (an aborting invariant fails
 * the program at once). A DIR may hold expect.txt: lines
 * "FILE<TAB>ok" or "FILE<TAB>TEXT", the result that file must give (TEXT a
 * part of the parser's message). A folder named "regressions" must list
 * every file it holds there, so a saved crash also pins its answer.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fuzz.h"

#define REPLAY_MAX_FILE (16u << 20)
#define REPLAY_MAX_EXPECT 512

struct replay_expect {
    char file[256];
    char text[768];
    int seen;
};

static int replay_read(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        (size_t)n > REPLAY_MAX_FILE || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    /* One byte more, so an empty file still gives a valid pointer. */
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    *out = buf;
    *len = (size_t)n;
    return 0;
}

/* Reads DIR/expect.txt into ex; returns the count, 0 when absent. */
static int replay_load_expect(const char *dir, struct replay_expect *ex)
{
    char path[4096], line[1100];
    FILE *f;
    int n = 0;

    snprintf(path, sizeof(path), "%s/expect.txt", dir);
    f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char *tab = strchr(line, '\t');
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] == '\n')
            line[--l] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        REQUIRE(tab != NULL);
        REQUIRE(n < REPLAY_MAX_EXPECT);
        *tab = '\0';
        snprintf(ex[n].file, sizeof(ex[n].file), "%s", line);
        snprintf(ex[n].text, sizeof(ex[n].text), "%s", tab + 1);
        ex[n].seen = 0;
        n++;
    }
    fclose(f);
    return n;
}

static int replay_dir(const char *dir)
{
    static struct replay_expect ex[REPLAY_MAX_EXPECT];
    const char *base = strrchr(dir, '/');
    int must_list = strcmp(base ? base + 1 : dir, "regressions") == 0;
    int n_ex = replay_load_expect(dir, ex);
    struct dirent *e;
    DIR *d = opendir(dir);
    int count = 0;

    if (!d && errno == ENOENT && !must_list) {
        /* git keeps no empty folder: a corpus not grown yet is absent. */
        printf("%s: %s: absent\n", tadd_fuzz_target, dir);
        return 0;
    }
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        char path[4096], msg[1024];
        struct stat st;
        uint8_t *buf = NULL;
        size_t len = 0;
        int rc, k;
        if (e->d_name[0] == '.' || strcmp(e->d_name, "expect.txt") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        REQUIRE(replay_read(path, &buf, &len) == 0);
        rc = tadd_fuzz_run(buf, len, msg, sizeof(msg));
        free(buf);
        count++;
        for (k = 0; k < n_ex; k++)
            if (strcmp(ex[k].file, e->d_name) == 0)
                break;
        if (k == n_ex) {
            if (must_list)
                CHECK_FAIL_("%s: not listed in expect.txt (got: %s)", path,
                            msg);
            continue;
        }
        ex[k].seen = 1;
        if (strcmp(ex[k].text, "ok") == 0) {
            if (rc != 0)
                CHECK_FAIL_("%s: expected ok, refused: %s", path, msg);
        } else if (rc == 0 || !strstr(msg, ex[k].text)) {
            CHECK_FAIL_("%s: expected a refusal with \"%s\", got: %s",
                        path, ex[k].text, msg);
        }
    }
    closedir(d);
    for (int k = 0; k < n_ex; k++)
        if (!ex[k].seen)
            CHECK_FAIL_("%s/expect.txt: %s does not exist", dir, ex[k].file);
    printf("%s: %s: %d inputs\n", tadd_fuzz_target, dir, count);
    return count;
}

int main(int argc, char **argv)
{
    int total = 0;

    REQUIRE(argc >= 2);
    for (int i = 1; i < argc; i++) {
        int n = replay_dir(argv[i]);
        REQUIRE(n >= 0);
        total += n;
    }
    /* An empty corpus would make this test pass without checking. */
    CHECK(total > 0);
    CHECK_DONE();
}
