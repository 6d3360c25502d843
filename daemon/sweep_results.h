/*
 * A sweep's results in the daemon: the "results" and "compare" requests
 * (docs/protocol.md), and the sweep's summary.json and results.csv (SPEC
 * section 6), written when the sweep finishes and kept current while it
 * runs. The numbers come from common/results.h, fed with the trial rows
 * of the database; a baseline of another sweep is read from that sweep's
 * rows.
 *
 * A running trial's success and first success step come from its metrics
 * rows (an evaluation above the sweep's threshold), since the worker
 * reports them only at the end. A pack's seconds per step is its elapsed
 * seconds at its last evaluation divided by that step: the worker's clock
 * runs on across resumes from the saved state and stops between runs, so
 * the time between runs is not counted.
 */
#ifndef TADD_SWEEP_RESULTS_H
#define TADD_SWEEP_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "daemon.h"
#include "results.h"

/* Seconds between rewrites of a running sweep's files. */
#define TADD_RESULTS_REFRESH_SEC 30.0

/*
 * {"cmd": "results", "sweep": NAME, "format": "json" | "csv" | "table"}
 * answers {"results": <summary.json's object>} and, for csv and table,
 * "text" with that rendering.
 */
void tadd_sweep_results_request(struct tadd_daemon *d, struct tadd_conn *c,
                                const cJSON *req);

/*
 * {"cmd": "compare", "sweep": NAME, "a": CONFIG, "b": CONFIG} answers
 * both configs' results ("a", "b") and "seeds": one entry per seed of
 * either, {"seed", "a", "b"}, each side the trial's state, best_val_exact,
 * best_step, success, steps and seconds to success (null when absent).
 */
void tadd_sweep_compare_request(struct tadd_daemon *d, struct tadd_conn *c,
                                const cJSON *req);

/*
 * Computes the results of a sweep. Returns 0 and fills *out (free with
 * tadd_results_free), or -1 with a message in err.
 */
int tadd_sweep_results_compute(struct tadd_daemon *d, int64_t sweep_id,
                               struct tadd_results *out, char *err,
                               size_t errlen);

/*
 * Writes <home>/<sweep>/summary.json and results.csv now. Returns 0, or -1
 * with a message in err.
 */
int tadd_sweep_results_write(struct tadd_daemon *d, int64_t sweep_id,
                             char *err, size_t errlen);

/*
 * A trial of sweep_id changed: rewrites the files when the sweep has
 * finished, or when they are TADD_RESULTS_REFRESH_SEC old. A failure is
 * logged, not returned: results files never stop the queue.
 */
void tadd_sweep_results_changed(struct tadd_daemon *d, int64_t sweep_id);

#endif
