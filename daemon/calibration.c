#include "calibration.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fsutil.h"
#include "home.h"
#include "text.h"

/* The calibration's output is one line of a few kilobytes. */
#define CALIB_OUTPUT_MAX (1u << 20)

/* What the figures depend on: the worker program and the processors. */
static cJSON *calib_key(const char *worker, long cpus, char *err,
                        size_t errlen)
{
    struct stat st;
    cJSON *k;

    if (stat(worker, &st) != 0) {
        tadd_msgf(err, errlen, "calibration: %s: %s", worker,
                  strerror(errno));
        return NULL;
    }
    k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "worker", worker);
    cJSON_AddNumberToObject(k, "worker_size", (double)st.st_size);
    cJSON_AddNumberToObject(k, "worker_mtime_ns",
                            (double)st.st_mtim.tv_sec * 1e9 +
                                (double)st.st_mtim.tv_nsec);
    cJSON_AddNumberToObject(k, "cpus", (double)cpus);
    return k;
}

/* The measurement kept in path when its key equals key, else NULL. */
static cJSON *calib_load(const char *path, const cJSON *key)
{
    char *text, err[256];
    size_t len;
    cJSON *doc, *m = NULL;

    if (!tadd_path_exists(path) ||
        tadd_read_file(path, CALIB_OUTPUT_MAX, &text, &len, err,
                       sizeof(err)) != 0)
        return NULL;
    doc = cJSON_Parse(text);
    free(text);
    if (doc && cJSON_Compare(cJSON_GetObjectItemCaseSensitive(doc, "key"),
                             key, 1))
        m = cJSON_DetachItemFromObjectCaseSensitive(doc, "measurement");
    cJSON_Delete(doc);
    return m;
}

/* Runs `worker calibrate --max-threads cpus` (no shell) and returns its
 * calibration event. */
static cJSON *calib_run(const char *worker, long cpus, char *err,
                        size_t errlen)
{
    char threads[32], *buf = NULL, *line, *save = NULL;
    size_t len = 0;
    int fds[2], status;
    pid_t pid;
    cJSON *found = NULL;

    snprintf(threads, sizeof(threads), "%ld", cpus);
    if (pipe(fds) != 0) {
        tadd_msgf(err, errlen, "calibration: pipe: %s", strerror(errno));
        return NULL;
    }
    pid = fork();
    if (pid < 0) {
        tadd_msgf(err, errlen, "calibration: fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        char *argv[] = {(char *)worker, "calibrate", "--max-threads",
                        threads, NULL};
        int null = open("/dev/null", O_RDWR);
        dup2(fds[1], STDOUT_FILENO);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDERR_FILENO);
        }
        close(fds[0]);
        execv(worker, argv);
        _exit(127);
    }
    close(fds[1]);
    buf = malloc(CALIB_OUTPUT_MAX + 1);
    while (buf && len < CALIB_OUTPUT_MAX) {
        ssize_t n = read(fds[0], buf + len, CALIB_OUTPUT_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!buf) {
        tadd_msgf(err, errlen, "calibration: out of memory");
        return NULL;
    }
    buf[len] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        tadd_msgf(err, errlen, "calibration: %s calibrate exited with "
                  "status %d", worker,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        free(buf);
        return NULL;
    }
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "event");
        if (cJSON_IsString(ev) && strcmp(ev->valuestring, "calibration") == 0) {
            cJSON_Delete(found);
            found = j;
        } else {
            cJSON_Delete(j);
        }
    }
    free(buf);
    if (!found)
        tadd_msgf(err, errlen, "calibration: %s calibrate printed no "
                  "calibration event", worker);
    return found;
}

/* The per-model step time of the point of list with that field's value,
 * or NAN. */
static double calib_ms(const cJSON *list, const char *field, int value)
{
    const cJSON *p;

    cJSON_ArrayForEach(p, list) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(p, field);
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(p,
                                                           "ms_per_model_step");
        if (cJSON_IsNumber(f) && f->valueint == value && cJSON_IsNumber(ms) &&
            ms->valuedouble > 0)
            return ms->valuedouble;
    }
    return NAN;
}

/* Applies the rules of calibration.h to the settings left at 0. */
static int calib_choose(struct tadd_settings *s, const cJSON *m, long cpus,
                        char *note, size_t notelen, char *err, size_t errlen)
{
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(m, "threads");
    const cJSON *widths = cJSON_GetObjectItemCaseSensitive(m, "widths");
    const cJSON *p;
    double ms1 = calib_ms(threads, "threads", 1), best_width_ms = INFINITY;
    int t_max = s->workers > 0 ? (int)(cpus / s->workers) : (int)cpus;
    int t = 1, width = 0;

    if (!cJSON_IsArray(threads) || !cJSON_IsArray(widths) || isnan(ms1)) {
        tadd_msgf(err, errlen, "calibration: the measurement has no "
                  "one-thread figure");
        return -1;
    }
    if (t_max < 1)
        t_max = 1;
    tadd_msgf(note, notelen, "1 thread %.2f ms per model-step", ms1);
    for (int k = 2; k <= t_max; k++) {
        double ms = calib_ms(threads, "threads", k);
        if (isnan(ms))
            continue;
        double eff = ms1 / (k * ms);
        tadd_msg_append(note, notelen, ", %d threads %.2f (efficiency %.2f)",
                        k, ms, eff);
        if (eff >= CALIB_MIN_EFFICIENCY)
            t = k;
    }
    cJSON_ArrayForEach(p, widths) {
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(p,
                                                           "ms_per_model_step");
        if (cJSON_IsNumber(ms) && ms->valuedouble < best_width_ms)
            best_width_ms = ms->valuedouble;
    }
    if (s->threads == 0)
        s->threads = t;
    if (s->workers == 0)
        s->workers = (int)(cpus / s->threads) > 0 ? (int)(cpus / s->threads)
                                                  : 1;
    /* The widest width within the slack for one worker, the narrowest
     * for several. */
    cJSON_ArrayForEach(p, widths) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "models");
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(p,
                                                           "ms_per_model_step");
        if (cJSON_IsNumber(n) && cJSON_IsNumber(ms) &&
            ms->valuedouble <= best_width_ms * (1.0 + CALIB_WIDTH_SLACK) &&
            (width == 0 || (s->workers == 1) == (n->valueint > width)))
            width = n->valueint;
    }
    if (width > 0)
        tadd_msg_append(note, notelen, "; the %s pack within %.0f%% of the "
                        "best per-model time (%.2f ms): %d models",
                        s->workers == 1 ? "widest" : "narrowest",
                        CALIB_WIDTH_SLACK * 100, best_width_ms, width);
    if (s->max_models_per_pack == 0 && width > 0)
        s->max_models_per_pack = width;
    tadd_msg_append(note, notelen, ": %d workers x %d threads, packs of up "
                    "to %d models", s->workers, s->threads,
                    s->max_models_per_pack);
    return 0;
}

int tadd_calibrate_settings(struct tadd_settings *s, const char *home,
                            const char *worker, char *note, size_t notelen,
                            char *err, size_t errlen)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char path[PATH_MAX];
    cJSON *key, *m, *doc;
    struct tadd_settings trial = *s;
    int cached, rc;
    char *text;

    note[0] = '\0';
    if (strcmp(s->executor, "local") != 0 ||
        (s->workers > 0 && s->threads > 0 && s->max_models_per_pack > 0))
        return 0;
    if (cpus < 1)
        cpus = 1;
    if (tadd_pathf(path, sizeof(path), "%s/%s", home,
                   TADD_HOME_CALIBRATION) != 0) {
        tadd_msgf(err, errlen, "calibration: home path too long");
        return -1;
    }
    if (!(key = calib_key(worker, cpus, err, errlen)))
        return -1;
    m = calib_load(path, key);
    cached = m != NULL;
    if (!m && !(m = calib_run(worker, cpus, err, errlen))) {
        cJSON_Delete(key);
        return -1;
    }
    rc = calib_choose(&trial, m, cpus, note, notelen, err, errlen);
    if (rc == 0 && !cached) {
        doc = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, "key", key);
        key = NULL;
        cJSON_AddItemToObject(doc, "measurement", m);
        m = NULL;
        text = cJSON_Print(doc);
        cJSON_Delete(doc);
        /* Only a cache: without it the next start measures again. */
        if (!text || tadd_write_file_atomic(path, text, strlen(text), err,
                                            errlen) != 0)
            err[0] = '\0';
        free(text);
    }
    if (rc == 0) {
        *s = trial;
        tadd_msg_append(note, notelen, " (%s %s)",
                        cached ? "figures from" : "measured now, kept in",
                        TADD_HOME_CALIBRATION);
    }
    cJSON_Delete(key);
    cJSON_Delete(m);
    return rc;
}
