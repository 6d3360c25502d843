/*
 * Sizing the local workers from measurement: the settings left at 0
 * (workers, threads, max_models_per_pack) are chosen from what
 * `tadd-worker calibrate` measures on this machine, the figures kept in
 * HOME/calibration.json and measured again when the worker program or the
 * number of processors changes.
 *
 * The rules, from the per-model time of a training step:
 *   threads per worker  the most threads whose parallel efficiency
 *                       (one thread's time over t times t threads' time)
 *                       is at least CALIB_MIN_EFFICIENCY: the threads'
 *                       time includes what separate workers would lose
 *                       to each other as well (shared caches, memory),
 *                       so threads cost only the pack's sharing out, and
 *                       fewer workers mean each sweep's packs finish
 *                       sooner and a sweep of a few seeds uses every
 *                       core;
 *   workers             the processors divided by those threads;
 *   models per pack     among the measured widths whose per-model time
 *                       is within CALIB_WIDTH_SLACK of the best: with one
 *                       worker the widest (per-pack costs are paid once),
 *                       with several the narrowest, so that a sweep's
 *                       trials spread over the workers.
 * A setting given in taddd.json or on the command line is kept as given.
 */
#ifndef TADD_CALIBRATION_H
#define TADD_CALIBRATION_H

#include <stddef.h>

#include "settings.h"

#define CALIB_MIN_EFFICIENCY 0.7
#define CALIB_WIDTH_SLACK 0.05

/*
 * Fills the settings left at 0 for the local executor, measuring unless
 * HOME/calibration.json matches this worker and processor count. Writes a
 * one-line account of the figures and the choice into note ("" when
 * nothing was left to choose). Returns 0, or -1 with a message in err when
 * the measurement failed; the settings are then untouched and
 * tadd_settings_finish's fixed defaults apply.
 */
int tadd_calibrate_settings(struct tadd_settings *s, const char *home,
                            const char *worker, char *note, size_t notelen,
                            char *err, size_t errlen);

#endif
