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

/* Creates an empty file dir/name. */
static void touch(const char *dir, const char *name)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fclose(f);
}

static int exists(const char *dir, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* A pid that certainly ran and is gone: a child that exited and was
 * reaped; and one that exited and was not (a zombie). */
static pid_t gone_child(int reap)
{
    pid_t pid = fork();

    REQUIRE(pid >= 0);
    if (pid == 0)
        _exit(0);
    if (reap) {
        REQUIRE(waitpid(pid, NULL, 0) == pid);
    } else {
        /* Until it has exited, it is not yet a zombie. */
        for (int i = 0; i < 1000 && tadd_proc_state((long)pid) != 'Z'; i++)
            usleep(1000);
    }
    return pid;
}

/* Temporaries of killed writers go; live writers' and other files stay. */
static void test_dead_temporaries(const char *dir)
{
    char err[512] = "", name[128], dead[128], zombie[128], live[128];
    char path[512];
    pid_t z = gone_child(0);

    snprintf(dead, sizeof(dead), "a.json.tmp.%d.1", (int)gone_child(1));
    snprintf(zombie, sizeof(zombie), "b.json.tmp.%d.7", (int)z);
    snprintf(live, sizeof(live), "a.json.tmp.%d.2", (int)getpid());
    touch(dir, dead);
    touch(dir, zombie);
    touch(dir, live);
    touch(dir, "a.json.tmp.notapid.1");
    touch(dir, "c.json");
    /* Only b.json's: the dead writer's temporary of a.json stays. */
    CHECK_INT_EQ(tadd_remove_dead_temporaries(dir, "b.json", err,
                                              sizeof(err)), 1);
    CHECK(!exists(dir, zombie));
    CHECK(exists(dir, dead));
    /* Writing a.json clears its dead temporaries, not the live one. */
    snprintf(path, sizeof(path), "%s/a.json", dir);
    CHECK_INT_EQ(tadd_write_file_atomic(path, "{}", 2, err, sizeof(err)), 0);
    CHECK(!exists(dir, dead));
    CHECK(exists(dir, live));
    CHECK(exists(dir, "a.json.tmp.notapid.1"));
    CHECK(exists(dir, "c.json"));
    CHECK_INT_EQ(tadd_remove_dead_temporaries(dir, NULL, err, sizeof(err)),
                 0);
    snprintf(name, sizeof(name), "%s/nowhere", dir);
    CHECK_INT_EQ(tadd_remove_dead_temporaries(name, NULL, err, sizeof(err)),
                 -1);
    CHECK_STR_HAS(err, "nowhere");
    waitpid(z, NULL, 0);
    for (const char *const *n = (const char *const[]){
             "a.json", "a.json.tmp.notapid.1", "c.json", NULL};
         *n; n++) {
        snprintf(path, sizeof(path), "%s/%s", dir, *n);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/%s", dir, live);
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
    test_dead_temporaries(dir);
    CHECK_INT_EQ(count_entries(dir), 0);
    rmdir(dir);
    CHECK_DONE();
}
