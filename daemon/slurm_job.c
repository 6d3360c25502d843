#define _GNU_SOURCE /* asprintf */
#include "slurm_job.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tadd_slurm_settings_defaults(struct tadd_slurm_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->cpus_per_pack = 8;
    s->poll_interval = 10.0;
}

/* sbatch options the executor sets itself, or that would hide the job or
 * its output from the daemon, and what to use instead. */
static const struct {
    const char *name;
    char letter; /* the short form, or 0 */
    const char *why;
} slurm_refused[] = {
    {"array", 'a', "a pack is one job"},
    {"wrap", 0, "the daemon writes the job script"},
    {"parsable", 0, "the daemon sets it"},
    {"chdir", 'D', "jobs run in the home folder"},
    {"error", 'e', "the worker's stderr goes to the pack's worker.log"},
    {"output", 'o', "the daemon reads the pack's progress file"},
    {"open-mode", 0, "worker.log is appended to"},
    {"requeue", 0, "the daemon resubmits ended jobs itself"},
    {"hold", 'H', "a held job would never start"},
    {"job-name", 'J', "the daemon finds its jobs by name"},
    {"test-only", 0, "nothing would run"},
    {"wait", 'W', "sbatch must return at once"},
    {"cpus-per-task", 'c', "use cpus_per_pack"},
    {"partition", 'p', "use partition"},
    {"time", 't', "use time_limit"},
    {"ntasks", 'n', "a pack is one process"},
    {"nodes", 'N', "a pack is one process"},
};

#define SLURM_N_REFUSED (sizeof(slurm_refused) / sizeof(slurm_refused[0]))

/* Checks one user option. Returns 0, or -1 with a message. */
static int slurm_option_check(const char *opt, const char *where,
                              char *err, size_t errlen)
{
    if (opt[0] != '-' || opt[1] == '\0' || strcmp(opt, "--") == 0) {
        snprintf(err, errlen,
                 "%s: \"%s\" is not an option; give each option as one "
                 "argument, its value attached (\"--qos=short\")",
                 where, opt);
        return -1;
    }
    if (strlen(opt) >= TADD_SLURM_OPTION_LEN) {
        snprintf(err, errlen, "%s: longer than %d bytes", where,
                 TADD_SLURM_OPTION_LEN - 1);
        return -1;
    }
    for (size_t i = 0; i < SLURM_N_REFUSED; i++) {
        const char *name = slurm_refused[i].name;
        int hit;

        if (opt[1] == '-') {
            /* sbatch takes any unambiguous prefix of a long option. */
            size_t len = strcspn(opt + 2, "=");
            hit = len >= 2 && len <= strlen(name) &&
                  strncmp(opt + 2, name, len) == 0;
        } else {
            hit = slurm_refused[i].letter &&
                  opt[1] == slurm_refused[i].letter;
        }
        if (hit) {
            snprintf(err, errlen, "%s: \"%s\" is refused (--%s: %s)", where,
                     opt, name, slurm_refused[i].why);
            return -1;
        }
    }
    return 0;
}

/* Digits only, at least one. */
static int slurm_all_digits(const char *p, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)p[i]))
            return 0;
    return 1;
}

/* Counts the ':'-separated numbers of p; 0 when one is not a number. */
static int slurm_colon_parts(const char *p)
{
    int parts = 0;

    for (;;) {
        size_t len = strcspn(p, ":");
        if (!slurm_all_digits(p, len))
            return 0;
        parts++;
        if (p[len] == '\0')
            return parts;
        p += len + 1;
    }
}

int tadd_slurm_time_valid(const char *text)
{
    const char *dash = strchr(text, '-');

    if (strcmp(text, "UNLIMITED") == 0 || strcmp(text, "INFINITE") == 0)
        return 1;
    if (strlen(text) > 20)
        return 0;
    if (dash) {
        int parts;
        if (!slurm_all_digits(text, (size_t)(dash - text)))
            return 0;
        parts = slurm_colon_parts(dash + 1);
        return parts >= 1 && parts <= 3;
    }
    {
        int parts = slurm_colon_parts(text);
        return parts >= 1 && parts <= 3;
    }
}

/* A partition name, or a comma list of them, as Slurm allows. */
static int slurm_partition_valid(const char *p)
{
    if (!*p)
        return 0;
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.,-", *p))
            return 0;
    return 1;
}

static int slurm_apply_string(struct tadd_slurm_settings *s,
                              const cJSON *item, const char *where,
                              char *err, size_t errlen)
{
    const char *v;

    if (!cJSON_IsString(item)) {
        snprintf(err, errlen, "%s: expected a string", where);
        return -1;
    }
    v = item->valuestring;
    if (strcmp(item->string, "partition") == 0) {
        if (strlen(v) >= sizeof(s->partition) ||
            !slurm_partition_valid(v)) {
            snprintf(err, errlen,
                     "%s: \"%s\" is not a partition name ([A-Za-z0-9_.-], "
                     "commas between several)", where, v);
            return -1;
        }
        snprintf(s->partition, sizeof(s->partition), "%s", v);
        return 0;
    }
    if (!tadd_slurm_time_valid(v)) {
        snprintf(err, errlen,
                 "%s: \"%s\" is not a Slurm time (minutes, M:S, H:M:S, "
                 "D-H, D-H:M, D-H:M:S or UNLIMITED)", where, v);
        return -1;
    }
    snprintf(s->time_limit, sizeof(s->time_limit), "%s", v);
    return 0;
}

static int slurm_apply_options(struct tadd_slurm_settings *s,
                               const cJSON *item, const char *where,
                               char *err, size_t errlen)
{
    const cJSON *o;
    char at[320];
    int n = 0;

    if (!cJSON_IsArray(item)) {
        snprintf(err, errlen, "%s: expected a list of strings", where);
        return -1;
    }
    if (cJSON_GetArraySize(item) > TADD_SLURM_MAX_OPTIONS) {
        snprintf(err, errlen, "%s: more than %d options", where,
                 TADD_SLURM_MAX_OPTIONS);
        return -1;
    }
    cJSON_ArrayForEach(o, item) {
        snprintf(at, sizeof(at), "%s[%d]", where, n);
        if (!cJSON_IsString(o)) {
            snprintf(err, errlen, "%s: expected a string", at);
            return -1;
        }
        if (slurm_option_check(o->valuestring, at, err, errlen) != 0)
            return -1;
        snprintf(s->sbatch_options[n], TADD_SLURM_OPTION_LEN, "%s",
                 o->valuestring);
        n++;
    }
    s->n_sbatch_options = n;
    return 0;
}

static int slurm_apply_number(struct tadd_slurm_settings *s,
                              const cJSON *item, const char *where,
                              char *err, size_t errlen)
{
    double v;

    if (!cJSON_IsNumber(item)) {
        snprintf(err, errlen, "%s: expected a number", where);
        return -1;
    }
    v = item->valuedouble;
    if (strcmp(item->string, "poll_interval") == 0) {
        if (!(v >= 0.1 && v <= 3600)) {
            snprintf(err, errlen, "%s: %g is out of range [0.1, 3600]",
                     where, v);
            return -1;
        }
        s->poll_interval = v;
        return 0;
    }
    if (!(v >= 1 && v <= 4096) || v != (double)(int)v) {
        snprintf(err, errlen, "%s: expected a whole number in [1, 4096], "
                 "got %g", where, v);
        return -1;
    }
    s->cpus_per_pack = (int)v;
    return 0;
}

int tadd_slurm_settings_apply_json(struct tadd_slurm_settings *s,
                                   const cJSON *obj, const char *where,
                                   char *err, size_t errlen)
{
    struct tadd_slurm_settings *next;
    const cJSON *item;
    char at[256];
    int rc = -1;

    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "%s: expected an object", where);
        return -1;
    }
    /* The struct is large (the option table): build it on the heap. */
    next = malloc(sizeof(*next));
    if (!next) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *next = *s;
    cJSON_ArrayForEach(item, obj) {
        const char *k = item->string;

        snprintf(at, sizeof(at), "%s.%s", where, k);
        if (strcmp(k, "partition") == 0 || strcmp(k, "time_limit") == 0)
            rc = slurm_apply_string(next, item, at, err, errlen);
        else if (strcmp(k, "cpus_per_pack") == 0 ||
                 strcmp(k, "poll_interval") == 0)
            rc = slurm_apply_number(next, item, at, err, errlen);
        else if (strcmp(k, "sbatch_options") == 0)
            rc = slurm_apply_options(next, item, at, err, errlen);
        else {
            snprintf(err, errlen,
                     "%s: unknown key (partition, cpus_per_pack, "
                     "time_limit, sbatch_options, poll_interval)", at);
            rc = -1;
        }
        if (rc != 0)
            goto cleanup;
    }
    *s = *next;
    rc = 0;
cleanup:
    free(next);
    return rc;
}

void tadd_slurm_job_name(char *buf, size_t len, const char *home,
                         int64_t pack_id)
{
    /* FNV-1a: short, stable across runs and machines. */
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)home; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    snprintf(buf, len, "tadd-%08" PRIx32 "-%" PRId64, h, pack_id);
}

void tadd_slurm_progress_path(char *buf, size_t len, const char *pack_dir,
                              int64_t job_id)
{
    snprintf(buf, len, "%s/progress.%" PRId64 ".jsonl", pack_dir, job_id);
}

/* A growing string; on OOM it stays NULL and every append is a no-op. */
struct slurm_text {
    char *s;
    size_t len, cap;
};

static void slurm_text_add(struct slurm_text *t, const char *p, size_t n)
{
    if (!t->s && t->cap)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 512;
        char *q;
        while (cap < t->len + n + 1)
            cap *= 2;
        q = realloc(t->s, cap);
        if (!q) {
            free(t->s);
            t->s = NULL;
            t->cap = 1;
            return;
        }
        t->s = q;
        t->cap = cap;
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void slurm_text_str(struct slurm_text *t, const char *p)
{
    slurm_text_add(t, p, strlen(p));
}

/* Appends p single-quoted for sh: every byte literal, a ' written as
 * '\''. */
static void slurm_text_quoted(struct slurm_text *t, const char *p)
{
    slurm_text_str(t, "'");
    for (; *p; p++) {
        if (*p == '\'')
            slurm_text_str(t, "'\\''");
        else
            slurm_text_add(t, p, 1);
    }
    slurm_text_str(t, "'");
}

int tadd_slurm_script_text(const struct tadd_slurm_script *sc, char **out,
                           char *err, size_t errlen)
{
    struct slurm_text t = {0};
    char line[160];

    *out = NULL;
    snprintf(line, sizeof(line),
             "#!/bin/sh\n"
             "# tadd pack %" PRId64 ", written by taddd and submitted with "
             "sbatch.\n", sc->pack_id);
    slurm_text_str(&t, line);
    slurm_text_str(&t,
                   "# The worker appends its stdout events to "
                   "progress.<job id>.jsonl beside\n"
                   "# this script; taddd reads them from there over the "
                   "shared file system.\n"
                   "cd ");
    slurm_text_quoted(&t, sc->home);
    slurm_text_str(&t, " || exit 2\nexec ");
    slurm_text_quoted(&t, sc->worker_path);
    slurm_text_str(&t, " train --pack ");
    slurm_text_quoted(&t, sc->pack_path);
    snprintf(line, sizeof(line), " --threads %d \\\n    --progress ",
             sc->threads);
    slurm_text_str(&t, line);
    /* The same name tadd_slurm_progress_path gives, the id from Slurm. */
    slurm_text_quoted(&t, sc->pack_dir);
    slurm_text_str(&t, "'/progress.'\"${SLURM_JOB_ID:?}\"'.jsonl'\n");
    if (!t.s) {
        snprintf(err, errlen, "out of memory writing a job script");
        return -1;
    }
    *out = t.s;
    return 0;
}

void tadd_slurm_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

int tadd_slurm_sbatch_argv(const struct tadd_slurm_settings *s,
                           const struct tadd_slurm_submit *sub, char ***argv,
                           char *err, size_t errlen)
{
    size_t cap = 16 + (size_t)s->n_sbatch_options;
    char **v = calloc(cap, sizeof(*v));
    size_t n = 0;
    int ok = 1;

    *argv = NULL;
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
#define SLURM_ARG(...)                                                      \
    do {                                                                    \
        if (asprintf(&v[n], __VA_ARGS__) < 0) {                             \
            v[n] = NULL;                                                    \
            ok = 0;                                                         \
        } else {                                                            \
            n++;                                                            \
        }                                                                   \
    } while (0)
    SLURM_ARG("sbatch");
    SLURM_ARG("--parsable");
    SLURM_ARG("--job-name=%s", sub->job_name);
    SLURM_ARG("--chdir=%s", sub->home);
    SLURM_ARG("--output=/dev/null");
    SLURM_ARG("--error=%s", sub->log_path);
    SLURM_ARG("--open-mode=append");
    /* Slurm's own requeue would restart the job behind the daemon's
     * back; the daemon resubmits and counts the attempt instead. */
    SLURM_ARG("--no-requeue");
    SLURM_ARG("--nodes=1");
    SLURM_ARG("--ntasks=1");
    SLURM_ARG("--cpus-per-task=%d", s->cpus_per_pack);
    if (s->partition[0])
        SLURM_ARG("--partition=%s", s->partition);
    if (s->time_limit[0])
        SLURM_ARG("--time=%s", s->time_limit);
    for (int i = 0; i < s->n_sbatch_options; i++)
        SLURM_ARG("%s", s->sbatch_options[i]);
    SLURM_ARG("%s", sub->script_path);
#undef SLURM_ARG
    if (!ok) {
        tadd_slurm_argv_free(v);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *argv = v;
    return 0;
}
