/*
 * One request line to a request or a refusal (request_parse.h).
 */
#include "request_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonkeys.h"
#include "protocol.h"
#include "text.h"

__attribute__((format(printf, 3, 4)))
static int request_refuse(struct tadd_request_error *e, const char *code,
                          const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * A line must be exactly one JSON object with each key once: cJSON stops
 * at the end of the first value and keeps repeated keys, so a line "ping
 * NUL shutdown", "ping trailing words" or {"cmd": "ping", "cmd":
 * "shutdown"} would otherwise be answered as a ping here and read
 * differently by another program. Returns the value (not always an
 * object), or NULL with e set; e->message is empty when the line is not
 * JSON at all.
 */
static cJSON *request_parse_json(const char *line, size_t n,
                                 struct tadd_request_error *e)
{
    const char *nul = memchr(line, '\0', n);
    const char *end = NULL;
    cJSON *req;

    req = cJSON_ParseWithLengthOpts(line, n, &end, 0);
    if (!req)
        return NULL;
    /* cJSON passes a raw NUL inside a string (which then ends there) as
     * well as stopping at one after the object: refuse both. */
    if (nul) {
        tadd_msgf(e->message, sizeof(e->message),
                  "the request holds a NUL byte at byte %zu",
                  (size_t)(nul - line) + 1);
        cJSON_Delete(req);
        return NULL;
    }
    while (end < line + n && (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    if (end != line + n) {
        tadd_msgf(e->message, sizeof(e->message),
                  "text after the request object at byte %zu: a line holds "
                  "one JSON object",
                  (size_t)(end - line) + 1);
        cJSON_Delete(req);
        return NULL;
    }
    if (cJSON_IsObject(req) &&
        tadd_json_check_unique_keys(req, "", e->message,
                                    sizeof(e->message)) != 0) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

int tadd_request_parse(const char *line, size_t n, cJSON **req,
                       struct tadd_request_error *e)
{
    const cJSON *v, *cmd;
    cJSON *r;

    *req = NULL;
    e->code = "bad_request";
    e->message[0] = '\0';
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
        n--;
    if (n == 0)
        return 0;
    r = request_parse_json(line, n, e);
    if (!r && e->message[0])
        return -1;
    if (!r || !cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return request_refuse(e, "bad_request",
                              "the request is not a JSON object");
    }
    v = cJSON_GetObjectItemCaseSensitive(r, "v");
    cmd = cJSON_GetObjectItemCaseSensitive(r, "cmd");
    if (!cJSON_IsNumber(v) || v->valuedouble != TADD_PROTOCOL_VERSION) {
        cJSON_Delete(r);
        return request_refuse(e, "bad_version",
                              "v: this daemon speaks protocol version %d",
                              TADD_PROTOCOL_VERSION);
    }
    if (!cJSON_IsString(cmd)) {
        cJSON_Delete(r);
        return request_refuse(e, "bad_request",
                              "cmd: expected the command's name, a string");
    }
    *req = r;
    return 0;
}
