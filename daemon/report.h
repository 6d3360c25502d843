/*
 * The reading requests: status, list, show and logs (docs/protocol.md),
 * answered from the database and the scheduler, and the helpers other
 * requests use to describe a sweep.
 */
#ifndef TADD_REPORT_H
#define TADD_REPORT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "daemon.h"

void tadd_report_status(struct tadd_daemon *d, struct tadd_conn *c,
                        const cJSON *req);
void tadd_report_list(struct tadd_daemon *d, struct tadd_conn *c,
                      const cJSON *req);
void tadd_report_show(struct tadd_daemon *d, struct tadd_conn *c,
                      const cJSON *req);
void tadd_report_logs(struct tadd_daemon *d, struct tadd_conn *c,
                      const cJSON *req);

/*
 * Finds the sweep named by the request's "sweep" field. On failure answers
 * c with the error (bad_request or not_found) and returns -1.
 */
int tadd_report_find_sweep(struct tadd_daemon *d, struct tadd_conn *c,
                           const cJSON *req, int64_t *sweep_id);

/* The sweep_progress row of a sweep as a JSON object; NULL on error or
 * OOM (message in d->db->err when the database failed). */
cJSON *tadd_report_progress(struct tadd_daemon *d, int64_t sweep_id);

/* 1 when every trial of the sweep has a result or a recorded failure and
 * none of its workers runs any more, 0 when not, -1 on a database
 * error. */
int tadd_report_finished(struct tadd_daemon *d, int64_t sweep_id);

#endif
