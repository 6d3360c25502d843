/*
 * taddctl's results verbs: results and compare (over the daemon's
 * socket), plot (from the sweep's folder alone), eval and predict
 * (tadd-worker on checkpoints).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "format.h"
#include "plot.h"
#include "results_eval.h"

static int verb_results(struct ctl *ctl, int argc, char **argv);
static int verb_compare(struct ctl *ctl, int argc, char **argv);
static int verb_plot(struct ctl *ctl, int argc, char **argv);
static int verb_eval(struct ctl *ctl, int argc, char **argv);
static int verb_predict(struct ctl *ctl, int argc, char **argv);

static const struct ctl_verb results_verbs[] = {
    {"results", "SWEEP [--csv|--json]",
     "per-config success counts and verdicts against the baseline",
     "One line per config: params, k/n successes (* while trials still\n"
     "run), rate with its 95% Wilson interval, the two-sided Fisher exact\n"
     "p-value against the baseline, median steps and seconds to success,\n"
     "the best best_val_exact and the verdict; then why each verdict is\n"
     "what it is. The baseline comes first, then the configs that pass\n"
     "(fewest params first), then the others (highest rate first).\n"
     "  --csv   results.csv's columns instead of the table\n"
     "  --json  the sweep's summary.json object\n",
     verb_results},
    {"compare", "SWEEP A B [--json]",
     "two configs side by side, seed by seed",
     "Both configs' results, then for every seed each one's state,\n"
     "best_val_exact and its step, and steps and seconds to success.\n",
     verb_compare},
    {"plot", "SWEEP [-o FILE.png] [--threshold X]",
     "grokking curves and, for a two-axis grid, a success heatmap",
     "Reads <home>/<sweep>/*/seed_*/metrics.csv (no daemon needed) and\n"
     "writes PNG and SVG: curves (a panel per config, a line per seed) to\n"
     "FILE (default <home>/<sweep>/curves.png) and FILE.svg; when every\n"
     "config name carries the same two grid keys, the success rate as a\n"
     "heatmap to FILE_heatmap.png and .svg. Prints the files written.\n"
     "  -o, --output FILE  where the curves go\n"
     "  --threshold X      success threshold (default: the sweep's)\n",
     verb_plot},
    {"eval", "CKPT... [--seeds LIST] [--n N] [--json]",
     "exact match of checkpoints on held-out test sets (tadd-worker)",
     "Runs `tadd-worker eval` with these arguments: by default ten sets\n"
     "of 10,000 pairs drawn from fixed seeds (docs/worker-protocol.md).\n",
     verb_eval},
    {"predict", "CKPT A B [--json]", "a checkpoint's sum for one pair",
     "Runs `tadd-worker predict`: greedy decoding of A + B.\n",
     verb_predict},
};

const struct ctl_group ctl_results_group = {
    "Results", results_verbs,
    (int)(sizeof(results_verbs) / sizeof(results_verbs[0])),
};

static int verb_results(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1], *csv = NULL;
    const struct ctl_flag flags[] = { {"csv", 0, &csv}, {NULL, 0, NULL} };
    int json, rc;
    cJSON *reply = NULL;

    rc = ctl_parse(ctl, &results_verbs[0], argc, argv, &json, flags, pos, 1,
                   1);
    if (rc != CTL_OK)
        return rc;
    if (json && csv) {
        ctl_error(ctl, "results: --csv and --json exclude each other");
        return CTL_USAGE;
    }
    cJSON *req = ctl_new_request("results");
    cJSON_AddStringToObject(req, "sweep", pos[0]);
    cJSON_AddStringToObject(req, "format", json ? "json"
                                           : csv ? "csv" : "table");
    rc = ctl_request(ctl, req, &reply, "results");
    cJSON_Delete(req);
    if (rc == CTL_OK) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(reply, "text");
        if (json)
            ctl_print_json(cJSON_GetObjectItemCaseSensitive(reply,
                                                            "results"));
        else if (cJSON_IsString(text))
            fputs(text->valuestring, stdout);
        else
            rc = CTL_ERROR;
    }
    cJSON_Delete(reply);
    return rc;
}

/* --- compare --------------------------------------------------------- */

/* v with decimals, or "-" when unknown, into buf. */
static const char *compare_fmt(char *buf, size_t n, double v, int decimals)
{
    if (isfinite(v))
        snprintf(buf, n, "%.*f", decimals, v);
    else
        snprintf(buf, n, "-");
    return buf;
}

static void compare_config_line(const char *label, const cJSON *c)
{
    char rate[16], steps[24], secs[24], pv[24];
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "wilson95");
    const cJSON *lo = cJSON_GetArrayItem(w, 0), *hi = cJSON_GetArrayItem(w, 1);
    double fp = ctl_num(c, "fisher_p", NAN);

    if (isfinite(fp))
        snprintf(pv, sizeof pv, "%.3g", fp);
    else
        snprintf(pv, sizeof pv, "-");
    printf("%s %s: %.0f params, %.0f/%.0f ok%s, rate %s (95%% CI "
           "%.2f-%.2f), Fisher p %s\n", label, ctl_str(c, "config", "-"),
           ctl_num(c, "params", NAN), ctl_num(c, "k", NAN),
           ctl_num(c, "n", NAN),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "so_far"))
               ? " so far" : "",
           compare_fmt(rate, sizeof rate, ctl_num(c, "rate", NAN), 2),
           cJSON_IsNumber(lo) ? lo->valuedouble : NAN,
           cJSON_IsNumber(hi) ? hi->valuedouble : NAN, pv);
    printf("  median to success: %s steps, %s s; %s: %s\n",
           compare_fmt(steps, sizeof steps,
                       ctl_num(c, "median_steps_to_success", NAN), 0),
           compare_fmt(secs, sizeof secs,
                       ctl_num(c, "median_seconds_to_success", NAN), 1),
           ctl_str(c, "verdict", "-"), ctl_str(c, "reason", "-"));
}

/* One side of a seed's row: state, best (at step), steps and seconds to
 * success; cells hold 24 bytes each. */
static void compare_side(const cJSON *t, char cells[5][24])
{
    if (!cJSON_IsObject(t)) {
        for (int i = 0; i < 5; i++)
            snprintf(cells[i], 24, "-");
        return;
    }
    snprintf(cells[0], 24, "%s", ctl_str(t, "state", "-"));
    compare_fmt(cells[1], 24, ctl_num(t, "best_val_exact", NAN), 4);
    compare_fmt(cells[2], 24, ctl_num(t, "best_step", NAN), 0);
    compare_fmt(cells[3], 24, ctl_num(t, "steps_to_success", NAN), 0);
    compare_fmt(cells[4], 24, ctl_num(t, "seconds_to_success", NAN), 1);
}

/* The seeds' table: seed | A's five cells | B's five cells. */
static void compare_print_seeds(const cJSON *seeds)
{
    static const char *const head[] = {
        "seed", "|", "A state", "best", "@step", "steps", "sec",
        "|", "B state", "best", "@step", "steps", "sec",
    };
    struct ctl_table *t = ctl_table_new(13);
    const cJSON *s;

    ctl_table_row(t, head);
    cJSON_ArrayForEach(s, seeds) {
        char seed[24], a[5][24], b[5][24];
        const char *row[13];
        snprintf(seed, sizeof seed, "%.0f", ctl_num(s, "seed", NAN));
        compare_side(cJSON_GetObjectItemCaseSensitive(s, "a"), a);
        compare_side(cJSON_GetObjectItemCaseSensitive(s, "b"), b);
        row[0] = seed;
        row[1] = row[7] = "|";
        for (int i = 0; i < 5; i++) {
            row[2 + i] = a[i];
            row[8 + i] = b[i];
        }
        ctl_table_row(t, row);
    }
    ctl_table_print(t, 0);
    ctl_table_free(t);
}

static int verb_compare(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[3];
    int json, rc;
    cJSON *reply = NULL;

    rc = ctl_parse(ctl, &results_verbs[1], argc, argv, &json, NULL, pos, 3,
                   3);
    if (rc != CTL_OK)
        return rc;
    cJSON *req = ctl_new_request("compare");
    cJSON_AddStringToObject(req, "sweep", pos[0]);
    cJSON_AddStringToObject(req, "a", pos[1]);
    cJSON_AddStringToObject(req, "b", pos[2]);
    rc = ctl_request(ctl, req, &reply, "compare");
    cJSON_Delete(req);
    if (rc == CTL_OK && json) {
        cJSON_DeleteItemFromObjectCaseSensitive(reply, "ok");
        cJSON_DeleteItemFromObjectCaseSensitive(reply, "v");
        ctl_print_json(reply);
    } else if (rc == CTL_OK) {
        compare_config_line("A", cJSON_GetObjectItemCaseSensitive(reply,
                                                                  "a"));
        compare_config_line("B", cJSON_GetObjectItemCaseSensitive(reply,
                                                                  "b"));
        putchar('\n');
        compare_print_seeds(cJSON_GetObjectItemCaseSensitive(reply,
                                                             "seeds"));
        printf("steps, sec: to the first evaluation above the threshold\n");
    }
    cJSON_Delete(reply);
    return rc;
}

/* --- plot, eval, predict --------------------------------------------- */

static int verb_plot(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1], *out = NULL, *thr_text = NULL;
    const struct ctl_flag flags[] = {
        {"output", 1, &out}, {"threshold", 1, &thr_text}, {NULL, 0, NULL},
    };
    char **args = calloc((size_t)argc + 1, sizeof *args);
    double threshold = NAN;
    char err[1024];
    int rc;

    if (!args)
        return CTL_ERROR;
    /* -o is the one short option: the parser takes long ones. */
    for (int i = 0; i < argc; i++)
        args[i] = strcmp(argv[i], "-o") == 0 ? "--output" : argv[i];
    rc = ctl_parse(ctl, &results_verbs[2], argc, args, NULL, flags, pos, 1,
                   1);
    free(args);
    if (rc != CTL_OK)
        return rc;
    if (thr_text) {
        char *end;
        threshold = strtod(thr_text, &end);
        if (*end || end == thr_text || !(threshold >= 0 && threshold < 1)) {
            ctl_error(ctl, "plot: --threshold: \"%s\" is not a number in "
                      "[0, 1)", thr_text);
            return CTL_USAGE;
        }
    }
    if (tadd_plot_sweep(ctl->home, pos[0], out, threshold, stdout, err,
                        sizeof err) < 0) {
        ctl_error(ctl, "plot: %s", err);
        return CTL_ERROR;
    }
    return CTL_OK;
}

/* Handles --help; 1 when it was asked for. */
static int verb_wants_help(const struct ctl *ctl, const struct ctl_verb *v,
                           int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ctl_verb_usage(ctl, v, stdout);
            return 1;
        }
    return 0;
}

/* Arguments that are neither options nor their values. */
static int verb_positional(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0 || strcmp(argv[i], "--n") == 0)
            i++;
        else if (argv[i][0] != '-' || argv[i][1] == '\0')
            n++;
    }
    return n;
}

static int verb_eval(struct ctl *ctl, int argc, char **argv)
{
    if (verb_wants_help(ctl, &results_verbs[3], argc, argv))
        return CTL_HELP_SHOWN;
    if (verb_positional(argc, argv) < 1) {
        ctl_error(ctl, "eval: missing argument (CKPT...)");
        ctl_verb_usage(ctl, &results_verbs[3], stderr);
        return CTL_USAGE;
    }
    return taddctl_worker_exec("eval", argc, argv);
}

static int verb_predict(struct ctl *ctl, int argc, char **argv)
{
    if (verb_wants_help(ctl, &results_verbs[4], argc, argv))
        return CTL_HELP_SHOWN;
    if (verb_positional(argc, argv) != 3) {
        ctl_error(ctl, "predict: expected CKPT A B");
        ctl_verb_usage(ctl, &results_verbs[4], stderr);
        return CTL_USAGE;
    }
    return taddctl_worker_exec("predict", argc, argv);
}
