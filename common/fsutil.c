#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faultpoint.h"
#include "text.h"

#define FS_NAME_MAX 200

/* The folder holding path, in a new string ("." for a bare name); NULL on
 * OOM. */
static char *fs_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;

    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    dir = strndup(path, (size_t)(slash - path));
    return dir;
}

/* The last component of path. */
static const char *fs_base(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int fs_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int tadd_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* The writer's pid of a temporary name "NAME.tmp.PID.N", or 0. */
static long fs_temporary_pid(const char *name)
{
    const char *tag = strstr(name, ".tmp."), *p;
    char *end;
    long pid;

    if (!tag)
        return 0;
    /* The last ".tmp." is the suffix; a NAME may contain one too. */
    while ((p = strstr(tag + 1, ".tmp.")))
        tag = p;
    pid = strtol(tag + 5, &end, 10);
    if (end == tag + 5 || *end != '.' || pid <= 0)
        return 0;
    strtoul(end + 1, &end, 10);
    return *end == '\0' ? pid : 0;
}

char tadd_proc_state(long pid)
{
    char path[64], buf[256], *p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r")))
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) S ...": the state follows the last parenthesis. */
    p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* 1 when process pid is gone: no such process, or a zombie that only
 * waits for its parent to collect its status. */
static int fs_pid_gone(long pid)
{
    if (kill((pid_t)pid, 0) != 0)
        return errno == ESRCH;
    return tadd_proc_state(pid) == 'Z';
}

int tadd_remove_dead_temporaries(const char *dir, const char *name,
                                 char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t name_len = name ? strlen(name) : 0;
    int removed = 0;

    if (!d) {
        tadd_msgf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        long pid = fs_temporary_pid(e->d_name);
        char path[PATH_MAX];

        if (name && (strncmp(e->d_name, name, name_len) != 0 ||
                     strncmp(e->d_name + name_len, ".tmp.", 5) != 0))
            continue;
        /* Only a writer known to be gone: a live pid (or one of another
         * user) may still be writing. */
        if (pid == 0 || !fs_pid_gone(pid))
            continue;
        if (tadd_pathf(path, sizeof(path), "%s/%s", dir, e->d_name) == 0 &&
            unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int tadd_write_file_atomic(const char *path, const void *buf, size_t len,
                           char *err, size_t errlen)
{
    static unsigned long counter;
    char *dir = NULL;
    char *tmp = NULL;
    size_t tmp_len;
    int fd = -1;
    int rc = -1;
    int saved;

    if (!path || !*path || (len > 0 && !buf)) {
        tadd_msgf(err, errlen, "write: no path or no data");
        return -1;
    }
    dir = fs_parent(path);
    /* The temporaries of earlier writes of path that were killed before
     * their rename: the file is being replaced now, so they go. */
    if (dir)
        (void)tadd_remove_dead_temporaries(dir, fs_base(path), NULL, 0);
    /* The pid and a counter keep concurrent writers of the same path (two
     * processes or two threads) off each other's temporary file. */
    tmp_len = strlen(path) + 64;
    tmp = malloc(tmp_len);
    if (!dir || !tmp) {
        tadd_msgf(err, errlen, "%s: out of memory", path);
        goto cleanup;
    }
    snprintf(tmp, tmp_len, "%s.tmp.%ld.%lu", path, (long)getpid(),
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        tadd_msgf(err, errlen, "%s: open: %s", tmp, strerror(errno));
        goto cleanup;
    }
    /* The umask can only narrow 0600, but an explicit chmod makes the mode
     * exact whatever the umask. */
    if (fchmod(fd, 0600) != 0) {
        tadd_msgf(err, errlen, "%s: fchmod: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (fs_write_all(fd, buf, len) != 0) {
        tadd_msgf(err, errlen, "%s: write: %s", tmp, strerror(errno));
        goto cleanup;
    }
    tadd_fault_point("file-write");
    if (fsync(fd) != 0) {
        tadd_msgf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        tadd_msgf(err, errlen, "%s: close: %s", tmp, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        tadd_msgf(err, errlen, "%s: rename: %s", path, strerror(errno));
        goto cleanup;
    }
    /* From here the new content is in place; only its durability is at
     * stake, and the temporary name no longer exists. */
    free(tmp);
    tmp = NULL;
    saved = tadd_fsync_dir(dir);
    if (saved != 0) {
        tadd_msgf(err, errlen, "%s: fsync: %s", dir, strerror(-saved));
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (fd >= 0)
        close(fd);
    if (tmp && rc != 0) {
        saved = errno;
        unlink(tmp);
        errno = saved;
    }
    free(tmp);
    free(dir);
    return rc;
}

int tadd_read_file(const char *path, size_t max_len, char **out,
                   size_t *out_len, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t cap = 0;
    size_t len = 0;
    int fd;
    int rc = -1;

    *out = NULL;
    if (out_len)
        *out_len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tadd_msgf(err, errlen, "%s: open: %s", path, strerror(errno));
        return -1;
    }
    /* Read until end of file rather than trusting st_size, so pipes and
     * files that grow while being read are handled the same way. */
    for (;;) {
        ssize_t n;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nbuf;
            /* One byte past the limit is enough to see it exceeded. */
            if (ncap > max_len || ncap > SIZE_MAX / 2)
                ncap = max_len < SIZE_MAX / 2 ? max_len + 1 : SIZE_MAX / 2;
            if (ncap <= cap) {
                tadd_msgf(err, errlen, "%s: larger than %zu bytes", path,
                          max_len);
                goto cleanup;
            }
            nbuf = realloc(buf, ncap + 1);
            if (!nbuf) {
                tadd_msgf(err, errlen, "%s: out of memory", path);
                goto cleanup;
            }
            buf = nbuf;
            cap = ncap;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            tadd_msgf(err, errlen, "%s: read: %s", path, strerror(errno));
            goto cleanup;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max_len) {
            tadd_msgf(err, errlen, "%s: larger than %zu bytes", path, max_len);
            goto cleanup;
        }
    }
    if (!buf) {
        buf = malloc(1);
        if (!buf) {
            tadd_msgf(err, errlen, "%s: out of memory", path);
            goto cleanup;
        }
    }
    buf[len] = '\0';
    *out = buf;
    buf = NULL;
    if (out_len)
        *out_len = len;
    rc = 0;

cleanup:
    free(buf);
    close(fd);
    return rc;
}

/* Creates one folder; an existing folder is fine, anything else there is
 * an error. */
static int fs_mkdir_one(const char *path, mode_t mode, char *err,
                        size_t errlen)
{
    struct stat st;

    if (mkdir(path, mode) == 0)
        return 0;
    if (errno != EEXIST) {
        tadd_msgf(err, errlen, "%s: mkdir: %s", path, strerror(errno));
        return -1;
    }
    if (stat(path, &st) != 0) {
        tadd_msgf(err, errlen, "%s: stat: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        tadd_msgf(err, errlen, "%s: exists and is not a folder", path);
        return -1;
    }
    return 0;
}

int tadd_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
    char *copy;
    char *p;
    int rc = -1;

    if (!path || !*path) {
        tadd_msgf(err, errlen, "mkdir: empty path");
        return -1;
    }
    copy = strdup(path);
    if (!copy) {
        tadd_msgf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    /* Each prefix ending before a '/' is a parent; the leading '/' of an
     * absolute path is skipped. */
    for (p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (p[-1] != '/' && fs_mkdir_one(copy, mode, err, errlen) != 0)
            goto cleanup;
        *p = '/';
    }
    if (fs_mkdir_one(copy, mode, err, errlen) != 0)
        goto cleanup;
    rc = 0;

cleanup:
    free(copy);
    return rc;
}

int tadd_path_exists(const char *path)
{
    struct stat st;

    return path && lstat(path, &st) == 0;
}

int tadd_name_is_safe(const char *name)
{
    size_t n = 0;

    if (!name)
        return 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                 c == '=' || c == '-';
        if (!ok || n >= FS_NAME_MAX)
            return 0;
    }
    if (n == 0)
        return 0;
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

