/*
 * Constants of the socket protocol (docs/protocol.md), shared by taddd and
 * taddctl.
 */
#ifndef TADD_PROTOCOL_H
#define TADD_PROTOCOL_H

/* The "v" of every request and reply. */
#define TADD_PROTOCOL_VERSION 1

/* Bytes of one request line, newline excluded. */
#define TADD_REQUEST_MAX (1u << 20)

#endif
