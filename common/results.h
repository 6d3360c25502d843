/*
 * A sweep's results: per-trial rows in, per-config rows out (SPEC
 * section 4), as JSON, as results.csv (SPEC section 6) and as a table.
 *
 * Which trials count. A config's n counts its trials that are waiting,
 * running, done or diverged (a diverged seed is a seed that failed to
 * learn). Trials lost to something other than training (the worker failed
 * for good, or the trial was cancelled) say nothing about the config and
 * are left out of n; they are reported as "lost". While any counted trial
 * is still waiting or running the row is marked "so far": k is then the
 * successes so far (a success, once reached, stays one) and k/n a lower
 * bound on the final rate, and so is the verdict provisional.
 *
 * Time to success. The steps to success are the step of a trial's first
 * evaluation above the success threshold. Its seconds are attributed as
 *
 *     seconds = steps to success * the pack's wall-clock seconds per step
 *
 * where the pack's seconds per step is the pack's clock at its last
 * evaluation (training and evaluation time; the worker's clock runs on
 * across resumes from the saved state and stops between runs) divided by
 * that step. Every model of a pack advances in lockstep, so
 * configs trained in the same pack get the same seconds per step and rule 3
 * compares their steps, like with like; configs of different packs are
 * charged what a step of their own pack cost. A trial whose pack has no
 * measured time falls back to the elapsed seconds the worker reported at
 * that evaluation. A config's time is the median over its successful
 * trials; it is unknown (NAN) when any of them lacks a time.
 * The seconds per step include the other models of the pack: a config
 * trained in a larger pack is charged more per step, so rule 3 is fair
 * between packs of similar size only.
 *
 * A variant baseline. When the sweep's baseline names a variant, each
 * config is judged against that variant's config at its own grid point,
 * and Fisher p is against that config too; the variant's configs are all
 * baselines. The outputs then say which config each verdict used: a
 * "baseline" field per config in JSON, a last "baseline" column in the
 * CSV, "against ..." beside each verdict of the table. Without a variant
 * baseline they are as before.
 *
 * Order of the rows. The baseline comes first (every baseline config of
 * a variant baseline, highest rate first); then the configs that pass,
 * fewest params first (the project looks for the smallest model that
 * learns), higher rate before lower at equal params; then the others,
 * highest rate first, fewer params before more at equal rate. Names break
 * the remaining ties. Without a baseline every config is in the second
 * group.
 */
#ifndef TADD_RESULTS_H
#define TADD_RESULTS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "verdict.h"

enum tadd_trial_outcome {
    TADD_TRIAL_WAITING = 0, /* queued, never started */
    TADD_TRIAL_RUNNING,     /* in a pack now, or stopped to be resumed */
    TADD_TRIAL_DONE,        /* trained to its last step */
    TADD_TRIAL_DIVERGED,    /* stopped on a non-finite loss */
    TADD_TRIAL_LOST,        /* failed for good or cancelled: not counted */
};

/* One trial, as the daemon or the files know it. */
struct tadd_trial_row {
    const char *config;     /* the config's name, required */
    long seed;
    long params;            /* trainable params; <= 0 when unknown */
    enum tadd_trial_outcome outcome;
    double best_val_exact;  /* NAN before the first evaluation */
    long best_step;         /* -1 before the first evaluation */
    int success;            /* 1 once an evaluation passed the threshold */
    long success_step;      /* that first evaluation's step, or -1 */
    double success_elapsed; /* the worker's elapsed seconds then, or NAN */
    double sec_per_step;    /* the pack's seconds per step, or NAN */
};

struct tadd_results_options {
    const char *sweep;           /* this sweep's name, required */
    double success_threshold;    /* reported, not applied: see success */
    const char *baseline_config; /* NULL: no baseline, no verdicts */
    /*
     * NULL when the baseline is a config of this sweep; otherwise the
     * finished sweep it comes from, and its trials in baseline_rows.
     */
    const char *baseline_sweep;
    const struct tadd_trial_row *baseline_rows;
    int n_baseline_rows;
    /*
     * 1 when baseline_config names a variant of this sweep rather than a
     * config (baseline_sweep is then NULL): each config is judged against
     * that variant's config at the same grid point, the config whose name
     * is the variant's followed by this config's grid values (see
     * tadd_config_grid_suffix); the variant's own configs are baselines.
     */
    int baseline_is_variant;
};

/* One config's result. */
struct tadd_config_result {
    char *config;        /* its name */
    char *sweep;         /* NULL, or the other sweep of a baseline */
    long params;         /* <= 0 when unknown */
    int n;               /* trials counted */
    int k;               /* of which succeeded */
    int n_done;          /* done or diverged */
    int n_running;
    int n_waiting;
    int n_lost;          /* not counted in n */
    double rate;         /* k / n; NAN when n == 0 */
    double wilson_lo;    /* 95% Wilson interval of the rate */
    double wilson_hi;
    double fisher_p;     /* two-sided, against the baseline; NAN if none */
    double median_steps;   /* to success; NAN without success */
    double median_seconds; /* to success, attributed as above; or NAN */
    double median_best;    /* of best_val_exact; NAN before any eval */
    double max_best;
    int so_far;          /* 1 while a counted trial waits or runs */
    int is_baseline;
    /* With a variant baseline, the config this one was judged against
     * (its own name for the variant's configs); NULL otherwise. */
    char *baseline;
    struct tadd_verdict verdict;
};

struct tadd_results {
    char *sweep;
    double success_threshold;
    char *baseline_config;  /* NULL without baseline */
    char *baseline_sweep;   /* NULL when from this sweep */
    int baseline_is_variant; /* baseline_config is then a variant's name */
    int so_far;             /* any row so far */
    int n_configs;
    struct tadd_config_result *configs; /* in the order above */
};

/*
 * Groups rows by config and computes every config's result and verdict.
 * Returns 0 and fills *out (free with tadd_results_free), or -1 with a
 * message in err naming the problem: a row without config, trials of one
 * config that disagree on params, a baseline config without trials.
 */
int tadd_results_compute(const struct tadd_trial_row *rows, int n_rows,
                         const struct tadd_results_options *opt,
                         struct tadd_results *out, char *err, size_t errlen);

void tadd_results_free(struct tadd_results *r);

/* The seconds to success of one row as attributed above, or NAN. */
double tadd_trial_seconds_to_success(const struct tadd_trial_row *t);

/* A new JSON object (the sweep's summary.json); NULL on OOM. */
cJSON *tadd_results_to_json(const struct tadd_results *r);

/*
 * results.csv: a header line and one line per config, fields quoted as
 * RFC 4180 wants, unknown values empty. A new string; NULL on OOM.
 */
char *tadd_results_to_csv(const struct tadd_results *r);

/*
 * The table for a terminal, lines within 100 columns: one line per config,
 * then each verdict's reasons. A new string; NULL on OOM.
 */
char *tadd_results_to_table(const struct tadd_results *r);

/* The name of an outcome and its inverse (-1 for an unknown name). */
const char *tadd_trial_outcome_name(enum tadd_trial_outcome o);
int tadd_trial_outcome_parse(const char *name);

#define TADD_GRID_MAX_KEYS 8

/*
 * A config name (SPEC section 5: the variant's name, then the grid values,
 * "baseline.batch_size=384.lr=0.0135") split at each ".key=" with key in
 * [a-z_]+; dots inside values (0.0135) do not split. The table shows grid
 * values in columns of their own, the plots draw the heatmap from them.
 */
struct tadd_config_name {
    char variant[256];
    int n_keys;
    char key[TADD_GRID_MAX_KEYS][64];
    char value[TADD_GRID_MAX_KEYS][64];
};

/* Splits name; returns 0, or -1 when a part does not fit. */
int tadd_config_name_split(const char *name, struct tadd_config_name *out);

/*
 * The grid values of a config name: the tail from the '.' before its
 * first grid key ("" without grid), so that variant + suffix names the
 * same grid point in another variant. Variant names cannot hold '=', so
 * that '.' is the last one before the name's first '='.
 */
const char *tadd_config_grid_suffix(const char *name);

#endif
