#include "slurm_parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slurm 22.05's job states (slurm.h, job_state_string) and what each
 * means here. COMPLETING is live: the job's processes may still run, and
 * a new job for the same pack must not start while they do. */
static const struct {
    const char *word;
    enum tadd_slurm_class cls;
} slurm_states[] = {
    {"PENDING", TADD_SLURM_LIVE},
    {"RUNNING", TADD_SLURM_LIVE},
    {"SUSPENDED", TADD_SLURM_LIVE},
    {"COMPLETING", TADD_SLURM_LIVE},
    {"CONFIGURING", TADD_SLURM_LIVE},
    {"REQUEUED", TADD_SLURM_LIVE},
    {"REQUEUE_FED", TADD_SLURM_LIVE},
    {"REQUEUE_HOLD", TADD_SLURM_LIVE},
    {"RESIZING", TADD_SLURM_LIVE},
    {"RESV_DEL_HOLD", TADD_SLURM_LIVE},
    {"SIGNALING", TADD_SLURM_LIVE},
    {"SPECIAL_EXIT", TADD_SLURM_LIVE},
    {"STAGE_OUT", TADD_SLURM_LIVE},
    {"STOPPED", TADD_SLURM_LIVE},
    {"COMPLETED", TADD_SLURM_COMPLETED},
    {"BOOT_FAIL", TADD_SLURM_ENDED},
    {"CANCELLED", TADD_SLURM_ENDED},
    {"DEADLINE", TADD_SLURM_ENDED},
    {"FAILED", TADD_SLURM_ENDED},
    {"NODE_FAIL", TADD_SLURM_ENDED},
    {"OUT_OF_MEMORY", TADD_SLURM_ENDED},
    {"PREEMPTED", TADD_SLURM_ENDED},
    {"REVOKED", TADD_SLURM_ENDED},
    {"TIMEOUT", TADD_SLURM_ENDED},
};

#define SLURM_N_STATES (sizeof(slurm_states) / sizeof(slurm_states[0]))

/* The index of state's first word in slurm_states, or -1. */
static int slurm_state_find(const char *state)
{
    size_t len = strcspn(state, " \t+");

    for (size_t i = 0; i < SLURM_N_STATES; i++)
        if (strlen(slurm_states[i].word) == len &&
            strncmp(slurm_states[i].word, state, len) == 0)
            return (int)i;
    return -1;
}

enum tadd_slurm_class tadd_slurm_state_class(const char *state)
{
    int i = slurm_state_find(state);

    return i < 0 ? TADD_SLURM_LIVE : slurm_states[i].cls;
}

int tadd_slurm_state_known(const char *state)
{
    return slurm_state_find(state) >= 0;
}

/* Parses a whole decimal job id of len bytes at p. Returns 0 or -1. */
static int slurm_id_parse(const char *p, size_t len, int64_t *id)
{
    int64_t v = 0;

    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    if (v <= 0)
        return -1;
    *id = v;
    return 0;
}

/* Copies the len bytes at p into dst (cap bytes), cut to fit. */
static void slurm_copy(char *dst, size_t cap, const char *p, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, p, len);
    dst[len] = '\0';
}

static void slurm_job_clear(struct tadd_slurm_job *job, int64_t id)
{
    memset(job, 0, sizeof(*job));
    job->id = id;
    job->exit_code = -1;
    job->exit_signal = -1;
}

/* Shows at most 60 bytes of a line in a message, without its newline. */
static int slurm_show_len(size_t len)
{
    return (int)(len > 60 ? 60 : len);
}

int tadd_slurm_parse_sbatch(const char *out, int64_t *id, char *err,
                            size_t errlen)
{
    const char *p = out;
    size_t len;

    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    len = strcspn(p, ";\n\r \t");
    if (slurm_id_parse(p, len, id) != 0) {
        size_t show = strcspn(p, "\n");
        snprintf(err, errlen,
                 "sbatch --parsable printed \"%.*s\", not a job id",
                 slurm_show_len(show), p);
        return -1;
    }
    return 0;
}

static int slurm_wanted(int64_t id, const int64_t *want, size_t n_want)
{
    if (!want)
        return 1;
    for (size_t i = 0; i < n_want; i++)
        if (want[i] == id)
            return 1;
    return 0;
}

int tadd_slurm_parse_squeue(const char *out, const int64_t *want,
                            size_t n_want, struct tadd_slurm_job *jobs,
                            size_t cap, size_t *n, char *err, size_t errlen)
{
    const char *line = out;
    int lineno = 0;

    *n = 0;
    while (*line) {
        size_t len = strcspn(line, "\n");
        const char *bar1 = memchr(line, '|', len);
        const char *bar2 =
            bar1 ? memchr(bar1 + 1, '|', len - (size_t)(bar1 + 1 - line))
                 : NULL;
        const char *end = line + len;
        int64_t id;

        lineno++;
        /* squeue pads the last column when a width is given. */
        while (end > line && (end[-1] == ' ' || end[-1] == '\r'))
            end--;
        if (end == line) {
            line += len + (line[len] == '\n');
            continue;
        }
        if (!bar2 || slurm_id_parse(line, (size_t)(bar1 - line), &id) != 0 ||
            bar2 == bar1 + 1) {
            snprintf(err, errlen,
                     "squeue line %d is not \"id|STATE|reason\": \"%.*s\"",
                     lineno, slurm_show_len(len), line);
            return -1;
        }
        if (slurm_wanted(id, want, n_want) && *n < cap) {
            struct tadd_slurm_job *j = &jobs[(*n)++];

            slurm_job_clear(j, id);
            slurm_copy(j->state, sizeof(j->state), bar1 + 1,
                       (size_t)(bar2 - bar1 - 1));
            slurm_copy(j->reason, sizeof(j->reason), bar2 + 1,
                       (size_t)(end - bar2 - 1));
        }
        line += len + (line[len] == '\n');
    }
    return 0;
}

int tadd_slurm_parse_exit_code(const char *text, int *code, int *sig)
{
    char *end;
    long c, s;

    errno = 0;
    c = strtol(text, &end, 10);
    if (end == text || *end != ':' || errno != 0 || c < 0 || c > 255)
        return -1;
    text = end + 1;
    s = strtol(text, &end, 10);
    if (end == text || errno != 0 || s < 0 || s > 255)
        return -1;
    if (*end != '\0' && !isspace((unsigned char)*end) && *end != '|')
        return -1;
    *code = (int)c;
    *sig = (int)s;
    return 0;
}

/*
 * The value of Key= within [rec, rec_end): a token that starts the
 * record or follows whitespace. Returns its start and length in *len, or
 * NULL when the key is absent.
 */
static const char *slurm_field(const char *rec, const char *rec_end,
                               const char *key, size_t *len)
{
    size_t klen = strlen(key);

    for (const char *p = rec; p + klen < rec_end; p++) {
        if (p != rec && !isspace((unsigned char)p[-1]))
            continue;
        if (strncmp(p, key, klen) != 0 || p[klen] != '=')
            continue;
        p += klen + 1;
        *len = 0;
        while (p + *len < rec_end && !isspace((unsigned char)p[*len]))
            (*len)++;
        return p;
    }
    return NULL;
}

int tadd_slurm_parse_scontrol(const char *out, int64_t id,
                              struct tadd_slurm_job *job, char *err,
                              size_t errlen)
{
    char want[32];
    const char *rec = out;
    size_t wlen;

    wlen = (size_t)snprintf(want, sizeof(want), "JobId=%" PRId64, id);
    /* Records start with JobId=; find the one for id, whole word. */
    while ((rec = strstr(rec, want)) != NULL) {
        const char *next, *v;
        char code[32];
        size_t len;

        if ((rec != out && !isspace((unsigned char)rec[-1])) ||
            (rec[wlen] && !isspace((unsigned char)rec[wlen]))) {
            rec += wlen;
            continue;
        }
        next = strstr(rec + wlen, "JobId=");
        while (next && !isspace((unsigned char)next[-1]))
            next = strstr(next + 6, "JobId=");
        if (!next)
            next = rec + strlen(rec);
        slurm_job_clear(job, id);
        v = slurm_field(rec, next, "JobState", &len);
        if (!v || len == 0) {
            snprintf(err, errlen,
                     "scontrol show job %" PRId64 ": no JobState in its "
                     "record", id);
            return -1;
        }
        slurm_copy(job->state, sizeof(job->state), v, len);
        v = slurm_field(rec, next, "Reason", &len);
        if (v)
            slurm_copy(job->reason, sizeof(job->reason), v, len);
        v = slurm_field(rec, next, "ExitCode", &len);
        if (v) {
            slurm_copy(code, sizeof(code), v, len);
            if (tadd_slurm_parse_exit_code(code, &job->exit_code,
                                           &job->exit_signal) != 0) {
                snprintf(err, errlen,
                         "scontrol show job %" PRId64 ": ExitCode=%s is "
                         "not <code>:<signal>", id, code);
                return -1;
            }
        }
        return 1;
    }
    return 0;
}

int tadd_slurm_parse_sacct(const char *out, int64_t id,
                           struct tadd_slurm_job *job, char *err,
                           size_t errlen)
{
    const char *line = out;
    int lineno = 0;
    int found = 0;

    while (*line) {
        size_t len = strcspn(line, "\n");
        const char *bar1 = memchr(line, '|', len);
        const char *bar2 =
            bar1 ? memchr(bar1 + 1, '|', len - (size_t)(bar1 + 1 - line))
                 : NULL;
        size_t idlen;
        int64_t line_id;
        char code[32];

        lineno++;
        if (len == 0 || (len == 1 && line[0] == '\r')) {
            line += len + (line[len] == '\n');
            continue;
        }
        if (!bar2) {
            snprintf(err, errlen,
                     "sacct line %d is not \"jobid|state|exitcode\": "
                     "\"%.*s\"", lineno, slurm_show_len(len), line);
            return -1;
        }
        idlen = (size_t)(bar1 - line);
        /* Steps ("12.batch", "12.0") and array or het members are other
         * lines about the same job: only the job's own line counts. */
        if (slurm_id_parse(line, idlen, &line_id) == 0 && line_id == id) {
            slurm_job_clear(job, id);
            slurm_copy(job->state, sizeof(job->state), bar1 + 1,
                       (size_t)(bar2 - bar1 - 1));
            slurm_copy(code, sizeof(code), bar2 + 1,
                       len - (size_t)(bar2 + 1 - line));
            code[strcspn(code, "|\r")] = '\0';
            if (tadd_slurm_parse_exit_code(code, &job->exit_code,
                                           &job->exit_signal) != 0) {
                snprintf(err, errlen,
                         "sacct line %d: exit code \"%s\" is not "
                         "<code>:<signal>", lineno, code);
                return -1;
            }
            found = 1;
        }
        line += len + (line[len] == '\n');
    }
    return found;
}

int tadd_slurm_job_exit(const struct tadd_slurm_job *job, int stop_requested,
                        struct tadd_exec_exit *ex, char *reason,
                        size_t reason_len)
{
    enum tadd_slurm_class cls = tadd_slurm_state_class(job->state);
    int cancelled = strncmp(job->state, "CANCELLED", 9) == 0;
    size_t state_len = strcspn(job->state, " ");

    memset(ex, 0, sizeof(*ex));
    ex->exit_status = job->exit_code > 0 ? job->exit_code : 0;
    ex->term_signal = job->exit_signal > 0 ? job->exit_signal : 0;
    ex->stop_requested = stop_requested;
    reason[0] = '\0';
    if (cls == TADD_SLURM_COMPLETED || (cancelled && stop_requested))
        return 0;
    snprintf(reason, reason_len, "Slurm job %" PRId64 " %.*s%s", job->id,
             (int)state_len, job->state,
             cancelled ? " from outside the daemon" : "");
    if (job->exit_code > 0 || job->exit_signal > 0) {
        size_t used = strlen(reason);
        snprintf(reason + used, reason_len - used, " (exit code %d:%d)",
                 job->exit_code, job->exit_signal);
    }
    if (job->reason[0] && strcmp(job->reason, "None") != 0) {
        size_t used = strlen(reason);
        snprintf(reason + used, reason_len - used, ", reason %s",
                 job->reason);
    }
    return 1;
}
