/*
 * File-system helpers: atomic writes (mode, no leftovers, replacement),
 * bounded reads, folder creation, safe names.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "check.h"

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    REQUIRE(d != NULL);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_atomic_write(const char *dir)
{
    char err[512] = "";
    char path[512];
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    mode_t old_umask;

    snprintf(path, sizeof(path), "%s/file.json", dir);
    /* A permissive umask must not widen the mode. */
    old_umask = umask(0);
    CHECK_INT_EQ(tadd_write_file_atomic(path, "hello", 5, err, sizeof(err)),
                 0);
    umask(old_umask);
    REQUIRE(stat(path, &st) == 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    CHECK_INT_EQ(st.st_size, 5);
    CHECK_INT_EQ(count_entries(dir), 1);

    /* Replacing keeps one file with the new content. */
    CHECK_INT_EQ(tadd_write_file_atomic(path, "bye", 3, err, sizeof(err)),
                 0);
    CHECK_INT_EQ(tadd_read_file(path, 100, &text, &len, err, sizeof(err)),
                 0);
    CHECK_INT_EQ(len, 3);
    CHECK_STR_EQ(text, "bye");
    free(text);
    CHECK_INT_EQ(count_entries(dir), 1);

    /* Empty content is a valid file. */
    CHECK_INT_EQ(tadd_write_file_atomic(path, NULL, 0, err, sizeof(err)), 0);
    CHECK_INT_EQ(tadd_read_file(path, 100, &text, &len, err, sizeof(err)),
                 0);
    CHECK_INT_EQ(len, 0);
    CHECK_STR_EQ(text, "");
    free(text);

    /* Failures name the path and leave nothing behind. */
    snprintf(path, sizeof(path), "%s/no/such/file", dir);
    CHECK_INT_EQ(tadd_write_file_atomic(path, "x", 1, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "no/such/file");
    CHECK_INT_EQ(count_entries(dir), 1);
    /* Renaming over a folder fails after the temporary file was written:
     * the temporary must be removed. */
    snprintf(path, sizeof(path), "%s/sub", dir);
    REQUIRE(mkdir(path, 0700) == 0);
    snprintf(path, sizeof(path), "%s/sub/inner", dir);
    REQUIRE(mkdir(path, 0700) == 0);
    snprintf(path, sizeof(path), "%s/sub", dir);
    CHECK_INT_EQ(tadd_write_file_atomic(path, "x", 1, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "rename");
    CHECK_INT_EQ(count_entries(dir), 2);
    snprintf(path, sizeof(path), "%s/sub/inner", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/file.json", dir);
    unlink(path);
}

static void test_read(const char *dir)
{
    char err[512] = "";
    char path[512];
    char *text = NULL;
    size_t len = 0;
    char big[10000];

    memset(big, 'a', sizeof(big));
    snprintf(path, sizeof(path), "%s/big", dir);
    REQUIRE(tadd_write_file_atomic(path, big, sizeof(big), err,
                                   sizeof(err)) == 0);
    CHECK_INT_EQ(tadd_read_file(path, sizeof(big), &text, &len, err,
                                sizeof(err)), 0);
    CHECK_INT_EQ(len, sizeof(big));
    CHECK(text && memcmp(text, big, sizeof(big)) == 0 &&
          text[sizeof(big)] == '\0');
    free(text);
    text = (char *)1;
    CHECK_INT_EQ(tadd_read_file(path, sizeof(big) - 1, &text, &len, err,
                                sizeof(err)), -1);
    CHECK_STR_HAS(err, "larger than 9999 bytes");
    CHECK(text == NULL);
    CHECK_INT_EQ(tadd_read_file(path, 0, &text, &len, err, sizeof(err)), -1);
    unlink(path);
    CHECK_INT_EQ(tadd_read_file(path, 100, &text, &len, err, sizeof(err)),
                 -1);
    CHECK_STR_HAS(err, path);
}

static void test_mkdir(const char *dir)
{
    char err[512] = "";
    char path[512];
    struct stat st;

    snprintf(path, sizeof(path), "%s/a/b//c/", dir);
    CHECK_INT_EQ(tadd_mkdir_p(path, 0700, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    REQUIRE(stat(path, &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_INT_EQ(st.st_mode & 0777, 0700);
    /* Existing folders are fine. */
    CHECK_INT_EQ(tadd_mkdir_p(path, 0700, err, sizeof(err)), 0);
    /* A file in the way is not. */
    snprintf(path, sizeof(path), "%s/a/file", dir);
    REQUIRE(tadd_write_file_atomic(path, "x", 1, err, sizeof(err)) == 0);
    snprintf(path, sizeof(path), "%s/a/file/d", dir);
    CHECK_INT_EQ(tadd_mkdir_p(path, 0700, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "a/file");
    snprintf(path, sizeof(path), "%s/a/file", dir);
    CHECK_INT_EQ(tadd_mkdir_p(path, 0700, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "not a folder");
    CHECK(tadd_path_exists(path));
    unlink(path);
    CHECK(!tadd_path_exists(path));
    CHECK_INT_EQ(tadd_fsync_dir(dir), 0);
    CHECK(tadd_fsync_dir("/nonexistent-tadd") < 0);
    CHECK_INT_EQ(tadd_mkdir_p("", 0700, err, sizeof(err)), -1);
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/a/b", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/a", dir);
    rmdir(path);
}

static void test_names(void)
{
    char long_ok[201], long_bad[202];

    memset(long_ok, 'x', 200);
    long_ok[200] = '\0';
    memset(long_bad, 'x', 201);
    long_bad[201] = '\0';
    CHECK(tadd_name_is_safe("baseline.batch_size=384.lr=0.0135"));
    CHECK(tadd_name_is_safe("bs_lr-grid"));
    CHECK(tadd_name_is_safe("seed_42"));
    CHECK(tadd_name_is_safe("..."));
    CHECK(tadd_name_is_safe(long_ok));
    CHECK(!tadd_name_is_safe(long_bad));
    CHECK(!tadd_name_is_safe(""));
    CHECK(!tadd_name_is_safe("."));
    CHECK(!tadd_name_is_safe(".."));
    CHECK(!tadd_name_is_safe("a/b"));
    CHECK(!tadd_name_is_safe("a b"));
    CHECK(!tadd_name_is_safe("a\\b"));
    CHECK(!tadd_name_is_safe("caf\xc3\xa9"));
    CHECK(!tadd_name_is_safe(NULL));
}

/*
 * Two processes replacing the same file over and over: a reader never
 * sees a mix, and no temporary file survives.
 */
static void test_concurrent_writers(const char *dir)
{
    char path[512], err[512];
    pid_t kids[2];

    snprintf(path, sizeof(path), "%s/shared", dir);
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        REQUIRE(kids[k] >= 0);
        if (kids[k] == 0) {
            char buf[4096];
            memset(buf, k ? 'b' : 'a', sizeof(buf));
            for (int i = 0; i < 100; i++)
                if (tadd_write_file_atomic(path, buf, sizeof(buf), err,
                                           sizeof(err)) != 0)
                    _exit(1);
            _exit(0);
        }
    }
    for (int i = 0; i < 200; i++) {
        char *text = NULL;
        size_t len = 0;
        if (tadd_read_file(path, 8192, &text, &len, err, sizeof(err)) != 0)
            continue; /* not written yet */
        CHECK_INT_EQ(len, 4096);
        for (size_t j = 1; j < len; j++) {
            if (text[j] != text[0]) {
                CHECK(text[j] == text[0]);
                break;
            }
        }
        free(text);
    }
    for (int k = 0; k < 2; k++) {
        int status = -1;
        REQUIRE(waitpid(kids[k], &status, 0) == kids[k]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT_EQ(count_entries(dir), 1);
    unlink(path);
}

int main(void)
{
    char tmpl[] = "/tmp/tadd-test-fs-XXXXXX";
    char *dir = mkdtemp(tmpl);

    REQUIRE(dir != NULL);
    test_atomic_write(dir);
    test_read(dir);
    test_mkdir(dir);
    test_names();
    test_concurrent_writers(dir);
    CHECK_INT_EQ(count_entries(dir), 0);
    rmdir(dir);
    CHECK_DONE();
}
