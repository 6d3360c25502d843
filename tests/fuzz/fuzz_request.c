/*
 * Fuzz target: the daemon's request line parser (daemon/request_parse.h,
 * tadd_request_parse).
 *
 * The input is what a client writes to the socket: it is cut at each
 * newline as taddd frames it, and each line goes to the parser on its own
 * (a refused line leaves the connection open for the next one). A line
 * over TADD_REQUEST_MAX ends the input, as taddd closes the connection
 * there. The bytes after the last newline are parsed as a line too, as if
 * the client ended them, so that an input without a newline still reaches
 * the parser. An accepted request must be an object with each key once,
 * "v" the protocol version and "cmd" a string; a refusal must carry one
 * of the codes the parser answers and a non-empty message.
 */
#include <string.h>

#include "jsonkeys.h"
#include "protocol.h"
#include "request_parse.h"

#include "fuzz.h"

const char tadd_fuzz_target[] = "request";

static void fuzz_check_request(const cJSON *req)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "v");
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
    char err[256];
    char *text;
    cJSON *back;

    FUZZ_ASSERT(cJSON_IsObject(req));
    FUZZ_ASSERT(cJSON_IsNumber(v));
    FUZZ_ASSERT(v->valuedouble == TADD_PROTOCOL_VERSION);
    FUZZ_ASSERT(cJSON_IsString(cmd) && cmd->valuestring != NULL);
    FUZZ_ASSERT(tadd_json_check_unique_keys(req, "", err, sizeof(err)) ==
                0);
    /* The handlers read the request as the parser left it; printing it
     * again must give one line that parses to the same request (taddd's
     * replies echo parts of it the same way). */
    text = cJSON_PrintUnformatted(req);
    FUZZ_ASSERT(text != NULL);
    FUZZ_ASSERT(strchr(text, '\n') == NULL);
    back = cJSON_Parse(text);
    FUZZ_ASSERT(back != NULL);
    FUZZ_ASSERT(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(back,
                                                                "cmd")));
    FUZZ_ASSERT(strcmp(cJSON_GetObjectItemCaseSensitive(back, "cmd")
                           ->valuestring,
                       cmd->valuestring) == 0);
    cJSON_Delete(back);
    cJSON_free(text);
}

static void fuzz_check_refusal(const cJSON *req,
                               const struct tadd_request_error *e)
{
    FUZZ_ASSERT(req == NULL);
    FUZZ_ASSERT(e->code != NULL);
    FUZZ_ASSERT(strcmp(e->code, "bad_request") == 0 ||
                strcmp(e->code, "bad_version") == 0);
    FUZZ_ASSERT(e->message[0] != '\0');
    FUZZ_ASSERT(memchr(e->message, '\0', sizeof(e->message)) != NULL);
}

int tadd_fuzz_run(const uint8_t *data, size_t size, char *msg,
                  size_t msglen)
{
    const char *p = (const char *)data, *end = p + size;
    int accepted = 0, refused = 0, last = 0;

    snprintf(msg, msglen, "no request");
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct tadd_request_error e;
        cJSON *req = (cJSON *)1;
        int rc;

        if (n > TADD_REQUEST_MAX) {
            snprintf(msg, msglen, "too_large");
            return -1;
        }
        rc = tadd_request_parse(p, n, &req, &e);
        FUZZ_ASSERT(rc == 0 || rc == -1);
        if (rc == 0 && req) {
            fuzz_check_request(req);
            accepted++;
            last = 0;
        } else if (rc != 0) {
            fuzz_check_refusal(req, &e);
            refused++;
            last = -1;
            snprintf(msg, msglen, "%s: %s", e.code, e.message);
        }
        cJSON_Delete(req);
        p += n + (nl ? 1 : 0);
    }
    /* The result is the last line's that got an answer, so that a saved
     * input of one line pins that line's answer; the message counts them
     * all. */
    if (last == 0 && accepted > 0)
        snprintf(msg, msglen, "ok (%d accepted, %d refused)", accepted,
                 refused);
    return last == 0 && accepted > 0 ? 0 : -1;
}
