/*
 * The parsing of one request line of the socket protocol
 * (docs/protocol.md): the bytes the daemon framed before a newline, turned
 * into a request with a valid envelope or into the error the daemon
 * answers. Kept apart from the connection (server.c) so that it can be
 * tested and fuzzed without a socket or a loop.
 */
#ifndef TADD_REQUEST_PARSE_H
#define TADD_REQUEST_PARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Room for the message of a refused line. */
#define TADD_REQUEST_MSG_LEN 160

/* Why a line was refused: the "code" and "message" of the error reply. */
struct tadd_request_error {
    const char *code; /* static: "bad_request", "bad_version" */
    char message[TADD_REQUEST_MSG_LEN];
};

/*
 * Parses line (n bytes, the newline excluded, not NUL-terminated; the
 * caller refuses lines over TADD_REQUEST_MAX as too_large). Trailing
 * blanks and carriage returns are dropped. Returns 0 with *req the request
 * (a JSON object with each key once, "v" the protocol version and "cmd" a
 * string; the caller deletes it), or 0 with *req NULL for a blank line,
 * which gets no reply. Returns -1 with *req NULL and e set for a line that
 * is refused.
 */
int tadd_request_parse(const char *line, size_t n, cJSON **req,
                       struct tadd_request_error *e);

#endif
