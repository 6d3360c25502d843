/*
 * `taddctl plot SWEEP [-o FILE] [--threshold X]`: a sweep's
 * grokking curves (validation exact match against step, a line per seed,
 * a panel per config) and, when its configs form a two-axis grid, a
 * heatmap of the success rate (a panel per variant). Each image is written
 * as PNG and as SVG beside it, drawn with PLplot's cairo drivers, from the
 * sweep's metrics.csv files alone (results_curves.h): no daemon needed.
 *
 * Files: FILE (default <home>/<sweep>/curves.png) and FILE with .svg in
 * place of .png; for the grid, <stem>_heatmap.png and <stem>_heatmap.svg.
 *
 * Image sizes, in pixels: curves TADD_PLOT_PANEL_W x TADD_PLOT_PANEL_H
 * per panel, panels in min(n, 3) columns; heatmap TADD_PLOT_HEAT_W x
 * TADD_PLOT_HEAT_H per panel, in min(n, 2) columns.
 */
#ifndef TADD_PLOT_H
#define TADD_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "results.h"
#include "results_curves.h"

#define TADD_PLOT_PANEL_W 460
#define TADD_PLOT_PANEL_H 340
#define TADD_PLOT_HEAT_W 640
#define TADD_PLOT_HEAT_H 520

/*
 * Draws the curves of every config into png_path and its SVG twin.
 * Returns 0, or -1 with a message in err (a file that cannot be written).
 * PLplot itself exits the process on an internal error it cannot recover
 * from; the output paths are checked first so that a bad path is an
 * ordinary error here.
 */
int tadd_plot_curves(const struct tadd_sweep_curves *c, const char *png_path,
                     double threshold, char *err, size_t errlen);

/*
 * When every config's name carries the same two grid keys, draws the
 * success-rate heatmap into png_path and its SVG twin and returns 1;
 * returns 0 (writing nothing) when the configs are not a two-axis grid;
 * -1 with a message in err on failure.
 */
int tadd_plot_heatmap(const struct tadd_sweep_curves *c, const char *png_path,
                      char *err, size_t errlen);

/*
 * Reads <home>/<sweep> and draws both: curves to out (NULL: the default
 * above), the heatmap beside it when the configs form a grid. threshold
 * NAN takes the sweep's own from its summary.json (0.99 without one).
 * The paths written go to written, a line each, when it is not NULL.
 * Returns 0, or -1 with a message in err.
 */
int tadd_plot_sweep(const char *home, const char *sweep, const char *out,
                    double threshold, FILE *written, char *err,
                    size_t errlen);

#endif
