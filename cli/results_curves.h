/*
 * A sweep's learning curves read from its folder alone (SPEC section 6):
 *
 *     <home>/<sweep>/<config>/seed_<seed>/metrics.csv
 *     <home>/<sweep>/<config>/seed_<seed>/summary.json   (once finished)
 *
 * so that plots need no daemon. A folder of the sweep counts as a config
 * when it holds at least one seed_<n> folder; other folders are skipped.
 * Configs come sorted by name, seeds by number.
 */
#ifndef TADD_RESULTS_CURVES_H
#define TADD_RESULTS_CURVES_H

#include <stddef.h>

struct tadd_seed_curve {
    long seed;
    int n;             /* evaluations */
    double *step;      /* (n) */
    double *val_exact; /* (n) */
    int finished;      /* summary.json exists */
    int success;       /* from summary.json, else any val_exact > thr */
};

struct tadd_config_curves {
    char *name;
    int n_seeds;
    struct tadd_seed_curve *seeds; /* (n_seeds) */
};

struct tadd_sweep_curves {
    int n_configs;
    struct tadd_config_curves *configs; /* (n_configs) */
};

/*
 * Reads every config and seed of <home>/<sweep>. threshold decides the
 * success of seeds without summary.json. Returns 0 and fills *out (free
 * with tadd_sweep_curves_free), or -1 with a message in err naming the
 * folder or file and what is wrong (no such sweep, no configs, a
 * metrics.csv without step or val_exact column, a malformed row).
 */
int tadd_sweep_curves_read(const char *home, const char *sweep,
                           double threshold, struct tadd_sweep_curves *out,
                           char *err, size_t errlen);

void tadd_sweep_curves_free(struct tadd_sweep_curves *c);

/*
 * Parses one metrics.csv text (name for messages) into *out's step and
 * val_exact arrays. Returns 0, or -1 with a message in err.
 */
int tadd_metrics_csv_parse(const char *text, const char *name,
                           struct tadd_seed_curve *out, char *err,
                           size_t errlen);

#endif
