/*
 * Grokking curves and success-rate heatmaps with PLplot; see plot.h.
 */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <plplot.h>

#include "text.h"


#define PLOT_PATH_MAX 4096
#define PLOT_MAX_LEGEND 24

/* cmap0: 0 background, 1 ink, 2 grey, then the seed colours. */
enum { PLOT_BG = 0, PLOT_INK = 1, PLOT_GREY = 2, PLOT_FIRST_SEED = 3 };
static const PLINT plot_rgb[][3] = {
    { 255, 255, 255 }, { 0, 0, 0 }, { 150, 150, 150 },
    { 31, 119, 180 }, { 255, 127, 14 }, { 44, 160, 44 }, { 214, 39, 40 },
    { 148, 103, 189 }, { 140, 86, 75 }, { 227, 119, 194 }, { 127, 127, 127 },
    { 188, 189, 34 }, { 23, 190, 207 },
};
#define PLOT_N_COLOURS ((int)(sizeof plot_rgb / sizeof plot_rgb[0]))

/* The colour index of the i-th seed of a panel. */
static PLINT plot_seed_colour(int i)
{
    return PLOT_FIRST_SEED + i % (PLOT_N_COLOURS - PLOT_FIRST_SEED);
}

/*
 * Makes sure path can be written (PLplot would exit the process instead
 * of reporting it). Returns 0, or -1 with a message.
 */
static int plot_check_writable(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        tadd_msgf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* png_path with its .png suffix (if any) replaced by suffix. */
static int plot_sibling(char *dst, const char *png_path, const char *suffix,
                        char *err, size_t errlen)
{
    size_t len = strlen(png_path);
    if (len >= 4 && strcmp(png_path + len - 4, ".png") == 0)
        len -= 4;
    int n = snprintf(dst, PLOT_PATH_MAX, "%.*s%s", (int)len, png_path,
                     suffix);
    if (n < 0 || n >= PLOT_PATH_MAX) {
        tadd_msgf(err, errlen, "%s: path too long", png_path);
        return -1;
    }
    return 0;
}

/* Starts a PLplot stream for one file; pages are cols x rows panels. */
static void plot_begin(const char *device, const char *path, int width,
                       int height, int cols, int rows)
{
    plsdev(device);
    plsfnam(path);
    plspage(0.0, 0.0, width, height, 0, 0);
    plscmap0n(PLOT_N_COLOURS);
    for (int i = 0; i < PLOT_N_COLOURS; i++)
        plscol0(i, plot_rgb[i][0], plot_rgb[i][1], plot_rgb[i][2]);
    plssub(cols, rows);
    plinit();
    plfontld(1);
}

/* name shortened to at most max characters, keeping head and tail. */
static void plot_short_name(char *dst, size_t dstlen, const char *name,
                            int max)
{
    int len = (int)strlen(name);
    if (len <= max) {
        snprintf(dst, dstlen, "%s", name);
        return;
    }
    int head = (max - 2) / 2, tail = max - 2 - head;
    snprintf(dst, dstlen, "%.*s..%s", head, name, name + len - tail);
}

static int plot_config_successes(const struct tadd_config_curves *c)
{
    int k = 0;
    for (int i = 0; i < c->n_seeds; i++)
        k += c->seeds[i].success;
    return k;
}

/* One panel: val_exact against step, a line per seed. */
static void plot_curves_panel(const struct tadd_config_curves *c,
                              double max_step, double threshold)
{
    char title[160], name[96];
    char labels[PLOT_MAX_LEGEND][32];
    const char *text[PLOT_MAX_LEGEND];
    PLINT opts[PLOT_MAX_LEGEND], colours[PLOT_MAX_LEGEND];
    PLINT styles[PLOT_MAX_LEGEND];
    PLFLT widths[PLOT_MAX_LEGEND];
    int n_legend = 0;

    pladv(0);
    plschr(0.0, 0.75);
    plvpor(0.13, 0.76, 0.16, 0.86);
    plwind(0.0, max_step, 0.0, 1.02);
    plcol0(PLOT_INK);
    plbox("bcnst", 0.0, 0, "bcnstv", 0.0, 0);
    plot_short_name(name, sizeof name, c->name, 44);
    snprintf(title, sizeof title, "%s  (%d/%d ok)", name,
             plot_config_successes(c), c->n_seeds);
    pllab("step", "val exact match", "");
    /* Left-aligned and smaller: long config names would run into the
     * legend if centred. */
    plschr(0.0, 0.68);
    plmtex("t", 1.2, 0.0, 0.0, title);
    plschr(0.0, 0.75);

    /* The success threshold, dashed. */
    PLFLT tx[2] = { 0.0, max_step }, ty[2] = { threshold, threshold };
    plcol0(PLOT_GREY);
    pllsty(2);
    plline(2, tx, ty);
    pllsty(1);

    for (int i = 0; i < c->n_seeds; i++) {
        const struct tadd_seed_curve *s = &c->seeds[i];
        plcol0(plot_seed_colour(i));
        plwidth(s->success ? 2.0 : 1.0);
        if (s->n > 0)
            plline(s->n, s->step, s->val_exact);
        if (n_legend < PLOT_MAX_LEGEND) {
            snprintf(labels[n_legend], sizeof labels[0], "%ld%s", s->seed,
                     s->success ? " ok" : "");
            text[n_legend] = labels[n_legend];
            opts[n_legend] = PL_LEGEND_LINE;
            colours[n_legend] = plot_seed_colour(i);
            styles[n_legend] = 1;
            widths[n_legend] = s->success ? 2.0 : 1.0;
            n_legend++;
        }
    }
    plwidth(1.0);
    if (n_legend > 0) {
        PLFLT lw, lh;
        PLINT text_colours[PLOT_MAX_LEGEND];
        for (int i = 0; i < n_legend; i++)
            text_colours[i] = PLOT_INK;
        pllegend(&lw, &lh, PL_LEGEND_BACKGROUND,
                 PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.02, 0.0, 0.06,
                 PLOT_BG, PLOT_INK, 1, 0, 0, n_legend, opts, 0.8, 0.7, 1.9,
                 0.0, text_colours, text, NULL, NULL, NULL, NULL, colours,
                 styles, widths, NULL, NULL, NULL, NULL);
    }
}

static void plot_curves_size(int n, int *cols, int *rows, int *w, int *h)
{
    *cols = n < 3 ? n : 3;
    *rows = (n + *cols - 1) / *cols;
    *w = *cols * TADD_PLOT_PANEL_W;
    *h = *rows * TADD_PLOT_PANEL_H;
}

static void plot_curves_draw(const struct tadd_sweep_curves *c,
                             const char *device, const char *path,
                             double threshold)
{
    int cols, rows, w, h;
    double max_step = 1.0;

    for (int i = 0; i < c->n_configs; i++)
        for (int j = 0; j < c->configs[i].n_seeds; j++) {
            const struct tadd_seed_curve *s = &c->configs[i].seeds[j];
            for (int t = 0; t < s->n; t++)
                if (s->step[t] > max_step)
                    max_step = s->step[t];
        }
    plot_curves_size(c->n_configs, &cols, &rows, &w, &h);
    plot_begin(device, path, w, h, cols, rows);
    for (int i = 0; i < c->n_configs; i++)
        plot_curves_panel(&c->configs[i], max_step, threshold);
    plend();
}

int tadd_plot_curves(const struct tadd_sweep_curves *c, const char *png_path,
                     double threshold, char *err, size_t errlen)
{
    char svg[PLOT_PATH_MAX];

    if (c->n_configs <= 0) {
        tadd_msgf(err, errlen, "no configs to plot");
        return -1;
    }
    if (plot_sibling(svg, png_path, ".svg", err, errlen) < 0 ||
        plot_check_writable(png_path, err, errlen) < 0 ||
        plot_check_writable(svg, err, errlen) < 0)
        return -1;
    plot_curves_draw(c, "pngcairo", png_path, threshold);
    plot_curves_draw(c, "svgcairo", svg, threshold);
    return 0;
}

/* --- heatmap --------------------------------------------------------- */

#define PLOT_GRID_MAX 64

/* The distinct values of one grid axis, in display order. */
struct plot_axis {
    char key[64];
    int n;
    char value[PLOT_GRID_MAX][64];
};

static int plot_axis_index(const struct plot_axis *a, const char *v)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->value[i], v) == 0)
            return i;
    return -1;
}

static int plot_is_number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end;
}

static int plot_text_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int plot_number_cmp(const void *a, const void *b)
{
    double x = strtod(a, NULL), y = strtod(b, NULL);
    return (x > y) - (x < y);
}

/* Numbers in numeric order when every value is one, else by text. */
static void plot_axis_sort(struct plot_axis *a)
{
    int numeric = 1;
    double v;
    for (int i = 0; i < a->n; i++)
        numeric &= plot_is_number(a->value[i], &v);
    qsort(a->value, (size_t)a->n, sizeof a->value[0],
          numeric ? plot_number_cmp : plot_text_cmp);
}

/* The grid: two axes and the variants (panels). */
struct plot_grid {
    struct plot_axis x, y, variants;
    struct tadd_config_name *names; /* (n_configs) */
};

/* Adds v to a once; 0, or -1 when the axis is full. */
static int plot_axis_add(struct plot_axis *a, const char *v)
{
    if (plot_axis_index(a, v) >= 0)
        return 0;
    if (a->n == PLOT_GRID_MAX)
        return -1;
    snprintf(a->value[a->n++], sizeof a->value[0], "%s", v);
    return 0;
}

/* 1 when the configs form a two-axis grid (filled in g), else 0. */
static int plot_grid_build(const struct tadd_sweep_curves *c,
                           struct plot_grid *g)
{
    for (int i = 0; i < c->n_configs; i++) {
        struct tadd_config_name *n = &g->names[i];
        if (tadd_config_name_split(c->configs[i].name, n) < 0 ||
            n->n_keys != 2)
            return 0;
        if (i == 0) {
            snprintf(g->x.key, sizeof g->x.key, "%s", n->key[0]);
            snprintf(g->y.key, sizeof g->y.key, "%s", n->key[1]);
        }
        if (strcmp(n->key[0], g->x.key) != 0 ||
            strcmp(n->key[1], g->y.key) != 0)
            return 0;
        if (plot_axis_add(&g->x, n->value[0]) < 0 ||
            plot_axis_add(&g->y, n->value[1]) < 0 ||
            plot_axis_add(&g->variants, n->variant) < 0)
            return 0;
    }
    /* One value on an axis is a line, not a grid. */
    if (g->x.n < 2 || g->y.n < 2)
        return 0;
    plot_axis_sort(&g->x);
    plot_axis_sort(&g->y);
    return 1;
}

static void plot_heat_cell(int ix, int iy, int k, int n)
{
    /* The fifth corner closes the outline. */
    PLFLT x[5] = { ix, ix + 1, ix + 1, ix, ix };
    PLFLT y[5] = { iy, iy, iy + 1, iy + 1, iy };
    char label[32];
    double rate = n > 0 ? (double)k / n : 0.0;

    if (n > 0) {
        plcol1(rate);
        snprintf(label, sizeof label, "%d/%d", k, n);
    } else {
        plcol0(PLOT_GREY);
        snprintf(label, sizeof label, "-");
    }
    plfill(4, x, y);
    plcol0(PLOT_INK);
    plline(5, x, y);
    /* Light text on the dark end of the scale. */
    plcol0(rate > 0.6 ? PLOT_BG : PLOT_INK);
    plptex(ix + 0.5, iy + 0.45, 1.0, 0.0, 0.5, label);
}

static void plot_heat_panel(const struct tadd_sweep_curves *c,
                            const struct plot_grid *g, const char *variant)
{
    char title[160];

    pladv(0);
    plschr(0.0, 0.8);
    plvpor(0.2, 0.94, 0.16, 0.88);
    plwind(0.0, g->x.n, 0.0, g->y.n);
    for (int ix = 0; ix < g->x.n; ix++)
        for (int iy = 0; iy < g->y.n; iy++) {
            int k = 0, n = 0;
            for (int i = 0; i < c->n_configs; i++) {
                const struct tadd_config_name *nm = &g->names[i];
                if (strcmp(nm->variant, variant) == 0 &&
                    strcmp(nm->value[0], g->x.value[ix]) == 0 &&
                    strcmp(nm->value[1], g->y.value[iy]) == 0) {
                    k += plot_config_successes(&c->configs[i]);
                    n += c->configs[i].n_seeds;
                }
            }
            plot_heat_cell(ix, iy, k, n);
        }
    plcol0(PLOT_INK);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    for (int ix = 0; ix < g->x.n; ix++)
        plmtex("b", 1.5, (ix + 0.5) / g->x.n, 0.5, g->x.value[ix]);
    for (int iy = 0; iy < g->y.n; iy++)
        plmtex("lv", 0.8, (iy + 0.5) / g->y.n, 1.0, g->y.value[iy]);
    snprintf(title, sizeof title, "%s: success rate", variant);
    plmtex("t", 1.5, 0.5, 0.5, title);
    plmtex("b", 3.5, 0.5, 0.5, g->x.key);
    plmtex("l", 7.0, 0.5, 0.5, g->y.key);
}

static void plot_heat_draw(const struct tadd_sweep_curves *c,
                           const struct plot_grid *g, const char *device,
                           const char *path)
{
    int nv = g->variants.n;
    int cols = nv < 2 ? nv : 2, rows = (nv + cols - 1) / cols;
    /* From pale to dark green as the rate goes from 0 to 1. */
    PLFLT pos[2] = { 0.0, 1.0 }, r[2] = { 0.97, 0.0 };
    PLFLT gr[2] = { 0.97, 0.40 }, b[2] = { 0.90, 0.15 };

    plot_begin(device, path, cols * TADD_PLOT_HEAT_W, rows * TADD_PLOT_HEAT_H,
               cols, rows);
    plscmap1l(1, 2, pos, r, gr, b, NULL);
    for (int v = 0; v < nv; v++)
        plot_heat_panel(c, g, g->variants.value[v]);
    plend();
}

int tadd_plot_heatmap(const struct tadd_sweep_curves *c, const char *png_path,
                      char *err, size_t errlen)
{
    char png[PLOT_PATH_MAX], svg[PLOT_PATH_MAX];
    struct plot_grid *g = calloc(1, sizeof *g);
    int rc = -1;

    if (!g || !(g->names = calloc((size_t)c->n_configs + 1,
                                  sizeof *g->names))) {
        tadd_msgf(err, errlen, "out of memory");
        goto cleanup;
    }
    if (!plot_grid_build(c, g)) {
        rc = 0;
        goto cleanup;
    }
    if (plot_sibling(png, png_path, "_heatmap.png", err, errlen) < 0 ||
        plot_sibling(svg, png_path, "_heatmap.svg", err, errlen) < 0 ||
        plot_check_writable(png, err, errlen) < 0 ||
        plot_check_writable(svg, err, errlen) < 0)
        goto cleanup;
    plot_heat_draw(c, g, "pngcairo", png);
    plot_heat_draw(c, g, "svgcairo", svg);
    rc = 1;
cleanup:
    if (g)
        free(g->names);
    free(g);
    return rc;
}

/* --- a sweep, from its folder ----------------------------------------- */

/* The sweep's success threshold from its summary.json, or 0.99. */
static double plot_sweep_threshold(const char *home, const char *sweep)
{
    char path[PLOT_PATH_MAX];
    double thr = 0.99;
    int n = snprintf(path, sizeof path, "%s/%s/summary.json", home, sweep);
    if (n < 0 || n >= (int)sizeof path)
        return thr;
    FILE *f = fopen(path, "rb");
    if (!f)
        return thr;
    char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    cJSON *j = cJSON_Parse(buf);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "success_threshold");
    if (cJSON_IsNumber(t))
        thr = t->valuedouble;
    cJSON_Delete(j);
    return thr;
}

int tadd_plot_sweep(const char *home, const char *sweep, const char *out,
                    double threshold, FILE *written, char *err,
                    size_t errlen)
{
    char def_out[PLOT_PATH_MAX], svg[PLOT_PATH_MAX], heat[PLOT_PATH_MAX];
    struct tadd_sweep_curves curves;

    if (isnan(threshold))
        threshold = plot_sweep_threshold(home, sweep);
    if (!out) {
        int n = snprintf(def_out, sizeof def_out, "%s/%s/curves.png", home,
                         sweep);
        if (n < 0 || n >= (int)sizeof def_out) {
            tadd_msgf(err, errlen, "%s: home path too long", home);
            return -1;
        }
        out = def_out;
    }
    if (plot_sibling(svg, out, ".svg", err, errlen) < 0 ||
        plot_sibling(heat, out, "_heatmap.png", err, errlen) < 0 ||
        tadd_sweep_curves_read(home, sweep, threshold, &curves, err,
                               errlen) < 0)
        return -1;
    int rc = tadd_plot_curves(&curves, out, threshold, err, errlen);
    int drew_heat = rc < 0 ? 0 : tadd_plot_heatmap(&curves, out, err,
                                                  errlen);
    tadd_sweep_curves_free(&curves);
    if (rc < 0 || drew_heat < 0)
        return -1;
    if (written) {
        fprintf(written, "%s\n%s\n", out, svg);
        if (drew_heat) {
            fprintf(written, "%s\n", heat);
            if (plot_sibling(svg, out, "_heatmap.svg", err, errlen) == 0)
                fprintf(written, "%s\n", svg);
        }
    }
    return 0;
}
