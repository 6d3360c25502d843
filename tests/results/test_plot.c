/*
 * Plots from a sweep folder built here: reading metrics.csv and
 * summary.json, splitting config names, and the PNG and SVG files
 * written, their pixel size read from the PNG header.
 */
#define _GNU_SOURCE /* nftw */

#include "check.h"

#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot.h"
#include "results_curves.h"

static char home[256];

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw)
{
    return remove(path);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    REQUIRE(fclose(f) == 0);
}

/* A seed folder whose val_exact rises to top by step rise. */
static void make_seed(const char *sweep, const char *config, int seed,
                      double top, int rise, const char *summary)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", home, sweep);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/%s", home, sweep, config);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/%s/seed_%d", home, sweep, config,
             seed);
    REQUIRE(mkdir(path, 0700) == 0);

    char file[600];
    snprintf(file, sizeof file, "%s/metrics.csv", path);
    FILE *f = fopen(file, "w");
    REQUIRE(f);
    fputs("step,train_loss,val_exact,val_token_acc,grad_norm,lr,"
          "elapsed_sec\n", f);
    for (int s = 0; s <= 6000; s += 500)
        fprintf(f, "%d,1.5,%.4f,0.5,0.2,0.01,%.2f\n", s,
                s >= rise ? top : top * s / (2.0 * rise), s * 0.01);
    REQUIRE(fclose(f) == 0);
    if (summary) {
        snprintf(file, sizeof file, "%s/summary.json", path);
        write_text(file, summary);
    }
}

/* Width and height from a PNG's IHDR chunk; 0 on a bad file. */
static int png_size(const char *path, uint32_t *w, uint32_t *h)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
                                          0x1a, '\n' };
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n != sizeof b || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4))
        return 0;
    *w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 |
         (uint32_t)b[18] << 8 | b[19];
    *h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 |
         (uint32_t)b[22] << 8 | b[23];
    return 1;
}

static int file_has(const char *path, const char *needle)
{
    char *buf = NULL;
    size_t cap = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    ssize_t n = getdelim(&buf, &cap, '\0', f);
    fclose(f);
    int found = n > 0 && strstr(buf, needle) != NULL;
    free(buf);
    return found;
}

static void test_metrics_parse(void)
{
    struct tadd_seed_curve s = { 0 };
    char err[256] = "";
    /* Columns found by name; the unfinished last line is left out. */
    CHECK(tadd_metrics_csv_parse("val_exact,step\n0.5,100\n0.75,200\n0.9",
                                 "m.csv", &s, err, sizeof err) == 0);
    CHECK_INT_EQ(s.n, 2);
    CHECK_NEAR(s.step[1], 200, 0, 0);
    CHECK_NEAR(s.val_exact[1], 0.75, 0, 0);
    free(s.step);
    free(s.val_exact);

    memset(&s, 0, sizeof s);
    CHECK(tadd_metrics_csv_parse("step,loss\n1,2\n", "m.csv", &s, err,
                                 sizeof err) < 0);
    CHECK_STR_HAS(err, "m.csv: header lacks the val_exact column");
    free(s.step);
    free(s.val_exact);

    memset(&s, 0, sizeof s);
    CHECK(tadd_metrics_csv_parse("step,val_exact\n1,0.5\n2,x\n", "m.csv",
                                 &s, err, sizeof err) < 0);
    CHECK_STR_HAS(err, "m.csv:3: malformed row");
    free(s.step);
    free(s.val_exact);
}

static void test_grid_plots(void)
{
    static const char *configs[] = {
        "default.batch_size=384.lr=0.0135", "default.batch_size=384.lr=0.015",
        "default.batch_size=512.lr=0.0135", "default.batch_size=512.lr=0.015",
    };
    for (int c = 0; c < 4; c++)
        for (int seed = 42; seed < 45; seed++)
            make_seed("grid", configs[c], seed, seed - 42 <= c / 2 ? 1.0
                      : 0.3, 1000 * (seed - 40), NULL);
    /* A finished seed's summary decides, whatever its curve says. */
    char path[600];
    snprintf(path, sizeof path, "%s/grid/%s/seed_44/summary.json", home,
             configs[3]);
    write_text(path, "{\"seed\": 44, \"success\": true}");
    snprintf(path, sizeof path, "%s/grid/packs", home);
    mkdir(path, 0700); /* not a config: no seed folders */

    struct tadd_sweep_curves c;
    char err[512] = "";
    REQUIRE(tadd_sweep_curves_read(home, "grid", 0.99, &c, err,
                                   sizeof err) == 0);
    REQUIRE(c.n_configs == 4);
    CHECK_STR_EQ(c.configs[0].name, configs[0]);
    CHECK_INT_EQ(c.configs[0].n_seeds, 3);
    CHECK_INT_EQ(c.configs[0].seeds[0].seed, 42);
    CHECK_INT_EQ(c.configs[0].seeds[0].n, 13);
    CHECK_INT_EQ(c.configs[0].seeds[0].success, 1);
    CHECK_INT_EQ(c.configs[0].seeds[1].success, 0);
    CHECK_INT_EQ(c.configs[3].seeds[2].finished, 1);
    CHECK_INT_EQ(c.configs[3].seeds[2].success, 1);

    char png[600], svg[600];
    snprintf(png, sizeof png, "%s/grid/out.png", home);
    REQUIRE(tadd_plot_curves(&c, png, 0.99, err, sizeof err) == 0);
    uint32_t w = 0, h = 0;
    CHECK(png_size(png, &w, &h));
    /* Four panels: three columns, two rows. */
    CHECK_INT_EQ(w, 3 * TADD_PLOT_PANEL_W);
    CHECK_INT_EQ(h, 2 * TADD_PLOT_PANEL_H);
    CHECK_INT_EQ(w, 1380);
    CHECK_INT_EQ(h, 680);
    snprintf(svg, sizeof svg, "%s/grid/out.svg", home);
    CHECK(file_has(svg, "<svg"));

    CHECK_INT_EQ(tadd_plot_heatmap(&c, png, err, sizeof err), 1);
    snprintf(png, sizeof png, "%s/grid/out_heatmap.png", home);
    w = h = 0;
    CHECK(png_size(png, &w, &h));
    CHECK_INT_EQ(w, TADD_PLOT_HEAT_W);
    CHECK_INT_EQ(h, TADD_PLOT_HEAT_H);
    snprintf(svg, sizeof svg, "%s/grid/out_heatmap.svg", home);
    CHECK(file_has(svg, "<svg"));

    snprintf(png, sizeof png, "%s/no/such/dir/out.png", home);
    CHECK(tadd_plot_curves(&c, png, 0.99, err, sizeof err) < 0);
    CHECK_STR_HAS(err, "cannot write");
    tadd_sweep_curves_free(&c);
}

static void test_variants_only(void)
{
    make_seed("variants", "baseline", 42, 1.0, 2000, NULL);
    make_seed("variants", "rmsnorm", 42, 0.2, 2000, NULL);

    struct tadd_sweep_curves c;
    char err[512] = "", png[600];
    REQUIRE(tadd_sweep_curves_read(home, "variants", 0.99, &c, err,
                                   sizeof err) == 0);
    CHECK_INT_EQ(c.n_configs, 2);
    snprintf(png, sizeof png, "%s/variants/curves.png", home);
    REQUIRE(tadd_plot_curves(&c, png, 0.99, err, sizeof err) == 0);
    uint32_t w = 0, h = 0;
    CHECK(png_size(png, &w, &h));
    CHECK_INT_EQ(w, 2 * TADD_PLOT_PANEL_W);
    CHECK_INT_EQ(h, TADD_PLOT_PANEL_H);
    /* No grid axes: no heatmap, and no file for it. */
    CHECK_INT_EQ(tadd_plot_heatmap(&c, png, err, sizeof err), 0);
    snprintf(png, sizeof png, "%s/variants/curves_heatmap.png", home);
    CHECK(access(png, F_OK) != 0);
    tadd_sweep_curves_free(&c);

    CHECK(tadd_sweep_curves_read(home, "absent", 0.99, &c, err,
                                 sizeof err) < 0);
    CHECK_STR_HAS(err, "absent");
    CHECK(tadd_sweep_curves_read(home, "../x", 0.99, &c, err,
                                 sizeof err) < 0);
    CHECK_STR_HAS(err, "is not a sweep name");
}

static void test_plot_sweep(void)
{
    char err[512] = "", *text = NULL, want[1200];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f);
    /* The default output, and the grid's heatmap beside it. */
    REQUIRE(tadd_plot_sweep(home, "grid", NULL, NAN, f, err,
                            sizeof err) == 0);
    fclose(f);
    snprintf(want, sizeof want, "%s/grid/curves.png\n%s/grid/curves.svg\n"
             "%s/grid/curves_heatmap.png\n%s/grid/curves_heatmap.svg\n",
             home, home, home, home);
    CHECK_STR_EQ(text, want);
    free(text);
    uint32_t w = 0, h = 0;
    snprintf(want, sizeof want, "%s/grid/curves_heatmap.png", home);
    CHECK(png_size(want, &w, &h));
    CHECK_INT_EQ(w, TADD_PLOT_HEAT_W);

    CHECK(tadd_plot_sweep(home, "absent", NULL, NAN, NULL, err,
                          sizeof err) < 0);
    CHECK_STR_HAS(err, "absent");
}

int main(void)
{
    snprintf(home, sizeof home, "/tmp/tadd-plot-test-XXXXXX");
    REQUIRE(mkdtemp(home));
    test_metrics_parse();
    test_grid_plots();
    test_variants_only();
    test_plot_sweep();
    /* The folder is left for inspection only when something failed. */
    if (!check_failures &&
        nftw(home, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", home);
    CHECK_DONE();
}
