/*
 * What the daemon promises about other users and about the strings it is
 * given (docs/hostile-inputs.md, "Security"):
 *
 *   - everything it creates under the home is private (no group or other
 *     bits), even when started with umask 000; a home it creates is
 *     0700, and an existing home open to others or owned by another
 *     user is refused at start, left as it was;
 *   - another user can neither reach the socket through the file system
 *     nor talk to it when the modes are opened by hand (SO_PEERCRED);
 *   - no user string reaches a shell: a description full of shell syntax
 *     runs no command, and the worker is the tadd-worker program itself,
 *     started with the documented argument vector.
 */
#define _GNU_SOURCE /* nftw flags */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"

#define NOBODY 65534

static struct th t;
static int loose_entries;

static void sleep_sec(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

    nanosleep(&ts, NULL);
}

static int walk_entry(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    if ((st->st_mode & 077) != 0) {
        fprintf(stderr, "not private: %s (mode %o)\n", path,
                (unsigned)(st->st_mode & 07777));
        loose_entries++;
    }
    return 0;
}

/* The sweep: shell syntax in the description, markers where a shell
 * would leave them. */
static const char *sweep_file(void)
{
    static char text[8 * PATH_MAX];

    snprintf(text, sizeof(text),
             "{\"name\": \"sec\", \"description\": \"$(touch %s/pwned1) "
             "`touch %s/pwned2`; touch %s/pwned3 | touch %s/pwned4 && "
             "touch %s/pwned5 \\n touch %s/pwned6\",\n"
             " \"base\": {\"train_steps\": 600, \"eval_interval\": 200,\n"
             "          \"batch_size\": 32, \"val_size\": 32,\n"
             "          \"test_size\": 32, \"warmup_steps\": 10},\n"
             " \"grid\": {\"lr\": [0.01, 0.02]}, \"seeds\": [1]}\n",
             t.root, t.root, t.root, t.root, t.root, t.root);
    return th_write(&t, "sec.json", text);
}

/* Reads /proc/pid/cmdline into argv-like pieces; returns their count. */
static int proc_cmdline(pid_t pid, char *buf, size_t len, char **argv,
                        int max)
{
    char path[64];
    FILE *f;
    size_t n;
    int argc = 0;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    f = fopen(path, "rb");
    if (!f)
        return 0;
    n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n && argc < max; i += strlen(buf + i) + 1)
        argv[argc++] = buf + i;
    return argc;
}

/* A child process of the daemon, or 0. */
static pid_t daemon_child(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;

    if (!d)
        return 0;
    while (!found && (e = readdir(d))) {
        char path[300], line[512];
        FILE *f;
        int pid, ppid;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        /* pid (comm) state ppid: comm may hold spaces, so skip past the
         * last ')'. */
        if (fgets(line, sizeof(line), f)) {
            char *rp = strrchr(line, ')');
            if (rp && sscanf(line, "%d", &pid) == 1 &&
                sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == t.daemon)
                found = pid;
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

/* The running worker is tadd-worker itself with the documented argv. */
static void check_worker_process(void)
{
    char exe[PATH_MAX], want[PATH_MAX], buf[8192];
    char *argv[16];
    char path[64];
    pid_t pid = 0;
    ssize_t n;
    int argc;

    REQUIRE(realpath(t.worker, want) != NULL);
    /* A child seen between fork and exec still runs taddd, and one that
     * is exiting has already lost its command line (it reads as empty):
     * look again until a child has become what it execs and still runs. */
    exe[0] = '\0';
    argc = 0;
    for (int i = 0; i < 1500 && (strcmp(exe, want) != 0 || argc == 0);
         i++) {
        pid = daemon_child();
        snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
        n = pid ? readlink(path, exe, sizeof(exe) - 1) : -1;
        exe[n > 0 ? n : 0] = '\0';
        argc = strcmp(exe, want) == 0
                   ? proc_cmdline(pid, buf, sizeof(buf), argv, 16)
                   : 0;
        if (strcmp(exe, want) != 0 || argc == 0)
            sleep_sec(0.01);
    }
    REQUIRE(pid > 0);
    CHECK_STR_EQ(exe, want);
    /* train --pack PACK --threads N, then only documented options. */
    CHECK(argc == 6 || argc == 8);
    if (argc >= 6) {
        CHECK_STR_EQ(argv[1], "train");
        CHECK_STR_EQ(argv[2], "--pack");
        CHECK(strstr(argv[3], "sec/packs/") != NULL);
        CHECK_STR_EQ(argv[4], "--threads");
    }
    if (argc == 8)
        CHECK_STR_EQ(argv[6], "--progress");
}

static void check_no_shell(void)
{
    char *out = NULL;
    char marker[PATH_MAX + 16];

    CHECK_INT_EQ(th_ctl(&t, &out, "submit", sweep_file(), NULL), 0);
    free(out);
    check_worker_process();
    CHECK_INT_EQ(th_ctl(&t, &out, "wait", "sec", "--timeout", "60", NULL),
                 0);
    CHECK_STR_HAS(out, "2 done");
    free(out);
    for (int i = 1; i <= 6; i++) {
        snprintf(marker, sizeof(marker), "%s/pwned%d", t.root, i);
        if (access(marker, F_OK) == 0)
            CHECK_FAIL_("a shell ran the description: %s exists", marker);
    }
    /* The description comes back as it was given. */
    CHECK_INT_EQ(th_ctl(&t, &out, "show", "sec", "--json", NULL), 0);
    CHECK_STR_HAS(out, "$(touch ");
    free(out);
}

/* After a whole sweep started under umask 000: nothing is open. */
static void check_private_files(void)
{
    loose_entries = 0;
    REQUIRE(nftw(t.home, walk_entry, 16, FTW_PHYS) == 0);
    CHECK_INT_EQ(loose_entries, 0);
}

/* A child as user nobody: 0 when it could not talk to the daemon. */
static int nobody_talks(void)
{
    pid_t pid = fork();
    int status;

    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd;
        char *reply;
        if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
            _exit(3);
        fd = th_connect(&t);
        if (fd < 0)
            _exit(errno == EACCES ? 0 : 4);
        th_send(fd, "{\"v\": 1, \"cmd\": \"shutdown\"}\n", 28);
        reply = th_read_line(fd, 5.0);
        _exit(reply ? 1 : 2);
    }
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void check_other_user(void)
{
    char sock[PATH_MAX + 16];
    int rc;

    if (geteuid() != 0) {
        /* Becoming another user needs root; without it this part cannot
         * run, and says so rather than pass. */
        fprintf(stderr, "note: not root: the other-user checks did not "
                        "run\n");
        return;
    }
    /* The file system stops it: the home is 0700. */
    CHECK(chmod(t.root, 0755) == 0);
    CHECK_INT_EQ(nobody_talks(), 0);
    /* With the modes opened by hand, SO_PEERCRED still does: the
     * connection closes with no answer (status 2), and the shutdown it
     * asked for does not happen. */
    snprintf(sock, sizeof(sock), "%s/taddd.sock", t.home);
    CHECK(chmod(t.home, 0711) == 0);
    CHECK(chmod(sock, 0666) == 0);
    rc = nobody_talks();
    CHECK_INT_EQ(rc, 2);
    CHECK(chmod(sock, 0600) == 0);
    CHECK(chmod(t.home, 0700) == 0);
    CHECK(chmod(t.root, 0700) == 0);
    CHECK_INT_EQ(th_ctl(&t, NULL, "ping", NULL), 0);
}

/*
 * Runs taddd on the current home, expecting it to refuse to start: its
 * exit status must be 1 and its stderr must hold every one of want[].
 */
static void check_refused_start(const char *const *want, int n_want)
{
    char out[PATH_MAX + 16], sock[PATH_MAX + 16];
    char *text;
    int status = -1;
    pid_t pid;

    snprintf(out, sizeof(out), "%s/refused.out", t.root);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(out, "w", stderr);
        if (!f)
            _exit(126);
        execl(t.taddd, t.taddd, "--home", t.home, "--worker", t.worker,
              (char *)NULL);
        _exit(127);
    }
    /* It checks the home before anything else: 10 s is plenty. */
    for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) != pid; i++)
        sleep_sec(0.02);
    if (!WIFEXITED(status)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK_FAIL_("taddd on %s did not exit at start", t.home);
        return;
    }
    CHECK_INT_EQ(WEXITSTATUS(status), 1);
    text = th_read(out);
    REQUIRE(text != NULL);
    for (int i = 0; i < n_want; i++)
        CHECK_STR_HAS(text, want[i]);
    free(text);
    snprintf(sock, sizeof(sock), "%s/taddd.sock", t.home);
    CHECK(access(sock, F_OK) != 0);
}

/* A home the daemon creates is 0700, whatever the umask (here 000). */
static void check_new_home(void)
{
    struct stat st;

    th_use_home(&t, "fresh");
    th_daemon_start(&t, NULL);
    CHECK(stat(t.home, &st) == 0);
    CHECK_INT_EQ(st.st_mode & 07777, 0700);
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
}

/*
 * An existing home open to others (a shared 1777 folder like /tmp, or
 * 0777) is refused, not made private: chmod would lock its other users
 * out. The message names the folder, its mode and the fix, and the mode
 * is left as it was.
 */
static void check_loose_home(void)
{
    static const mode_t modes[] = {01777, 0777, 0750};
    struct stat st;

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char name[32], mode[16], fix[PATH_MAX + 16];
        const char *want[4];
        snprintf(name, sizeof(name), "loose%zu", i);
        th_use_home(&t, name);
        REQUIRE(mkdir(t.home, 0700) == 0);
        REQUIRE(chmod(t.home, modes[i]) == 0);
        snprintf(mode, sizeof(mode), "mode %04o", (unsigned)modes[i]);
        snprintf(fix, sizeof(fix), "chmod 700 %s", t.home);
        want[0] = t.home;
        want[1] = mode;
        want[2] = fix;
        want[3] = "--home";
        check_refused_start(want, 4);
        CHECK(stat(t.home, &st) == 0);
        CHECK_INT_EQ(st.st_mode & 07777, modes[i]);
    }
}

/* A private home of another user is refused too (as root only). */
static void check_foreign_home(void)
{
    const char *want[2];
    char owner[32];

    if (geteuid() != 0) {
        printf("not root: the foreign home case is left out\n");
        return;
    }
    th_use_home(&t, "foreign");
    REQUIRE(mkdir(t.home, 0700) == 0);
    REQUIRE(chown(t.home, NOBODY, NOBODY) == 0);
    snprintf(owner, sizeof(owner), "belongs to uid %d", NOBODY);
    want[0] = t.home;
    want[1] = owner;
    check_refused_start(want, 2);
}

int main(void)
{
    th_init(&t, "sec");
    /* The daemon inherits this; it must not rely on a careful caller. */
    umask(0);
    th_daemon_start(&t, NULL);
    check_no_shell();
    check_private_files();
    check_other_user();
    CHECK_INT_EQ(th_daemon_stop(&t), 0);
    check_private_files();
    check_new_home();
    check_loose_home();
    check_foreign_home();
    umask(077);

    if (check_failures)
        th_dump_log(&t);
    th_cleanup(&t, check_failures);
    CHECK_DONE();
}
