/*
 * File-system helpers shared by the worker, the daemon and the client:
 * atomic whole-file writes, private folders, and reading small files.
 */
#ifndef TADD_FSUTIL_H
#define TADD_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writes len bytes to path atomically: a temporary name in the same folder,
 * fsync, rename over path, fsync of the folder. Temporaries of path left
 * by killed writers are removed first. The file gets mode 0600.
 * Returns 0, or -1 with a message in err naming path and the failing call;
 * on failure path is untouched and no temporary file is left behind.
 */
int tadd_write_file_atomic(const char *path, const void *buf, size_t len,
                           char *err, size_t errlen);

/* The state letter of process pid in /proc/PID/stat (R, S, T for
 * stopped, Z for a zombie, ...), or 0 when it cannot be read. */
char tadd_proc_state(long pid);

/*
 * Removes from dir the temporary files of tadd_write_file_atomic
 * ("NAME.tmp.PID.N", of that NAME only when name is not NULL) whose
 * writer PID no longer runs: what a write killed before its rename leaves
 * behind. tadd_write_file_atomic does it for its own path first. Returns
 * the number removed, or -1 with a message when dir cannot be read.
 */
int tadd_remove_dead_temporaries(const char *dir, const char *name,
                                 char *err, size_t errlen);

/*
 * Reads a whole file of at most max_len bytes into a new NUL-terminated
 * buffer (*out, *out_len without the NUL). Returns 0, or -1 with a message.
 */
int tadd_read_file(const char *path, size_t max_len, char **out,
                   size_t *out_len, char *err, size_t errlen);

/*
 * Creates path and its missing parents with the given mode (0700 for the
 * home and everything below it). Returns 0 (also when it exists as a
 * folder), or -1 with a message.
 */
int tadd_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);

/* fsync of a folder, so that a rename or create in it is durable. */
int tadd_fsync_dir(const char *dir);

/* 1 when path exists. */
int tadd_path_exists(const char *path);

/*
 * 1 when name is a safe single path component: [A-Za-z0-9._=-]{1,200}, not
 * "." or "..", so that joining it under the home cannot escape it.
 */
int tadd_name_is_safe(const char *name);

#endif
