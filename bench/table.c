/* SPDX-License-Identifier: MIT */
/* table.c - result tables: stdout text, CSV and markdown.
 *
 * A Table collects rows (workload, unit, one Series per competitor, up to
 * two targets) and renders them when finished:
 *   - stdout: aligned text; each cell "median (min-max) ratio";
 *   - <outdir>/<topic>.csv: one line per (workload, competitor) with raw
 *     numbers, the ratio to the reference and the target verdict;
 *   - <outdir>/<topic>.md: a markdown table (cells "median (min-max)
 *     **ratio**") plus the notes, gathered by scripts/run-bench.sh.
 * Invariant: every row has exactly ncomp series; the reference column's
 * ratio is 1 whenever it has samples.
 */
#include "bench/harness.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ROWS  128
#define MAX_NOTES 32
#define CELL      96

typedef struct Row {
    char workload[80];
    char unit[16];
    Series series[BENCH_MAX_COMPS];
    Target targets[2];
    int ntargets;
} Row;

struct Table {
    char topic[32];
    char title[128];
    const char *comps[BENCH_MAX_COMPS];
    int ncomp;
    int ref;
    int rounds;
    Row rows[MAX_ROWS];
    int nrows;
    char *notes[MAX_NOTES];
    int nnotes;
};

Table *
table_new(const char *topic, const char *title, const char *const *comps,
          int ncomp, int ref)
{
    Table *t = calloc(1, sizeof *t);
    if (t == NULL) {
        perror("bench: table");
        exit(1);
    }
    snprintf(t->topic, sizeof t->topic, "%s", topic);
    snprintf(t->title, sizeof t->title, "%s", title);
    t->ncomp = ncomp < BENCH_MAX_COMPS ? ncomp : BENCH_MAX_COMPS;
    for (int i = 0; i < t->ncomp; i++) {
        t->comps[i] = comps[i];
    }
    t->ref = ref;
    t->rounds = bench_opts.rounds;
    return t;
}

void
table_set_rounds(Table *t, int rounds)
{
    t->rounds = rounds;
}

void
table_add(Table *t, const char *workload, const char *unit,
          const Series *series, const Target *targets, int ntargets)
{
    if (t->nrows == MAX_ROWS) {
        return;
    }
    Row *r = &t->rows[t->nrows++];
    snprintf(r->workload, sizeof r->workload, "%s", workload);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    for (int i = 0; i < t->ncomp; i++) {
        r->series[i] = series[i];
    }
    r->ntargets = 0;
    for (int i = 0; i < ntargets && i < 2; i++) {
        if (targets[i].kind != TARGET_NONE) {
            r->targets[r->ntargets++] = targets[i];
        }
    }
}

void
table_note(Table *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (t->nnotes < MAX_NOTES) {
        t->notes[t->nnotes++] = strdup(buf);
    }
}

/* A number with 3 significant digits, no exponent for usual ranges. */
static void
fmt_num(char *buf, size_t cap, double v)
{
    double a = fabs(v);
    if (isnan(v)) {
        snprintf(buf, cap, "-");
    }
    else if (a >= 100 || a == 0) {
        snprintf(buf, cap, "%.0f", v);
    }
    else if (a >= 10) {
        snprintf(buf, cap, "%.1f", v);
    }
    else if (a >= 1) {
        snprintf(buf, cap, "%.2f", v);
    }
    else {
        snprintf(buf, cap, "%.3f", v);
    }
}

static double
row_ratio(const Table *t, const Row *r, int c)
{
    double ref = series_median(&r->series[t->ref]);
    double v = series_median(&r->series[c]);
    /* A row that is itself a ratio (2nd / 1st) gets no second ratio. */
    if (r->series[c].n == 0 || r->series[t->ref].n == 0 || ref == 0 ||
        strcmp(r->unit, "ratio") == 0) {
        return NAN;
    }
    return v / ref;
}

/* 1 met, 0 missed, -1 not measurable. */
static int
target_met(const Table *t, const Row *r, const Target *g)
{
    const Series *s = &r->series[g->comp];
    if (g->kind == TARGET_NOT_ABOVE) {
        if (s->n == 0) {
            return -1;
        }
        return sign_test_p(series_count_above(s, g->limit), s->n) >= 0.05;
    }
    double x =
        g->kind == TARGET_RATIO ? row_ratio(t, r, g->comp) : series_median(s);
    if (isnan(x)) {
        return -1;
    }
    return x <= g->limit * (1 + 1e-9);
}

static void
fmt_target(const Table *t, const Row *r, const Target *g, char *buf,
           size_t cap)
{
    int met = target_met(t, r, g);
    const char *verdict = met < 0 ? "?" : met ? "\u2713" : "\u2717";
    if (g->kind == TARGET_NOT_ABOVE) {
        const Series *s = &r->series[g->comp];
        snprintf(buf, cap, "%s not above %.2f (sign test: %d/%d above) %s",
                 t->comps[g->comp], g->limit, series_count_above(s, g->limit),
                 s->n, verdict);
        return;
    }
    snprintf(buf, cap, "%s %s%.2f%s %s", t->comps[g->comp], "\u2264", g->limit,
             g->kind == TARGET_RATIO ? "\u00d7" : "", verdict);
}

static void
fmt_cell(const Table *t, const Row *r, int c, int md, char *buf, size_t cap)
{
    const Series *s = &r->series[c];
    char med[24], lo[24], hi[24];
    if (s->n == 0) {
        snprintf(buf, cap, "-");
        return;
    }
    fmt_num(med, sizeof med, series_median(s));
    fmt_num(lo, sizeof lo, series_min(s));
    fmt_num(hi, sizeof hi, series_max(s));
    double ratio = row_ratio(t, r, c);
    if (isnan(ratio)) {
        snprintf(buf, cap, "%s (%s\u2013%s)", med, lo, hi);
    }
    else {
        snprintf(buf, cap,
                 md ? "%s (%s\u2013%s) **%.2f\u00d7**"
                    : "%s (%s\u2013%s) %.2f\u00d7",
                 med, lo, hi, ratio);
    }
}

static void
fmt_targets(const Table *t, const Row *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int i = 0; i < r->ntargets; i++) {
        char one[80];
        fmt_target(t, r, &r->targets[i], one, sizeof one);
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, "%s%s", i ? "; " : "", one);
    }
}

/* Display width of UTF-8 text: count bytes that start a character. */
static int
width(const char *s)
{
    int w = 0;
    for (; *s; s++) {
        w += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return w;
}

static void
pad(FILE *f, const char *s, int w)
{
    fputs(s, f);
    for (int i = width(s); i < w; i++) {
        fputc(' ', f);
    }
}

static void
print_text(const Table *t)
{
    int w[BENCH_MAX_COMPS + 3] = {8, 4};
    char cell[CELL];
    for (int c = 0; c < t->ncomp; c++) {
        w[2 + c] = width(t->comps[c]);
    }
    for (int i = 0; i < t->nrows; i++) {
        const Row *r = &t->rows[i];
        w[0] = width(r->workload) > w[0] ? width(r->workload) : w[0];
        w[1] = width(r->unit) > w[1] ? width(r->unit) : w[1];
        for (int c = 0; c < t->ncomp; c++) {
            fmt_cell(t, r, c, 0, cell, sizeof cell);
            w[2 + c] = width(cell) > w[2 + c] ? width(cell) : w[2 + c];
        }
    }
    printf("\n== %s (reference: %s; %d rounds, %s) ==\n", t->title,
           t->comps[t->ref], t->rounds, bench_clock_name());
    pad(stdout, "workload", w[0] + 2);
    pad(stdout, "unit", w[1] + 2);
    for (int c = 0; c < t->ncomp; c++) {
        pad(stdout, t->comps[c], w[2 + c] + 2);
    }
    printf("target\n");
    for (int i = 0; i < t->nrows; i++) {
        const Row *r = &t->rows[i];
        char tg[256];
        pad(stdout, r->workload, w[0] + 2);
        pad(stdout, r->unit, w[1] + 2);
        for (int c = 0; c < t->ncomp; c++) {
            fmt_cell(t, r, c, 0, cell, sizeof cell);
            pad(stdout, cell, w[2 + c] + 2);
        }
        fmt_targets(t, r, tg, sizeof tg);
        printf("%s\n", tg);
    }
    for (int i = 0; i < t->nnotes; i++) {
        printf("  note: %s\n", t->notes[i]);
    }
    fflush(stdout);
}

static FILE *
open_out(const Table *t, const char *ext)
{
    char path[512];
    if (mkdir(bench_opts.outdir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "bench: cannot create %s\n", bench_opts.outdir);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s.%s", bench_opts.outdir, t->topic, ext);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "bench: cannot write %s\n", path);
    }
    return f;
}

static void
write_csv(const Table *t)
{
    FILE *f = open_out(t, "csv");
    if (f == NULL) {
        return;
    }
    fprintf(f, "topic,workload,unit,competitor,rounds,median,min,max,"
               "reference,ratio,target,target_met\n");
    for (int i = 0; i < t->nrows; i++) {
        const Row *r = &t->rows[i];
        for (int c = 0; c < t->ncomp; c++) {
            const Series *s = &r->series[c];
            char tg[128] = "";
            int met = -1;
            if (s->n == 0) {
                continue;
            }
            for (int k = 0; k < r->ntargets; k++) {
                if (r->targets[k].comp == c) {
                    TargetKind kind = r->targets[k].kind;
                    snprintf(tg, sizeof tg, "%s%g",
                             kind == TARGET_RATIO       ? "ratio<="
                             : kind == TARGET_NOT_ABOVE ? "signtest-not-above-"
                                                        : "value<=",
                             r->targets[k].limit);
                    met = target_met(t, r, &r->targets[k]);
                }
            }
            fprintf(f, "%s,\"%s\",%s,%s,%d,%.6g,%.6g,%.6g,%s,%.4f,%s,%s\n",
                    t->topic, r->workload, r->unit, t->comps[c], s->n,
                    series_median(s), series_min(s), series_max(s),
                    t->comps[t->ref], row_ratio(t, r, c), tg,
                    met < 0 ? ""
                    : met   ? "yes"
                            : "no");
        }
    }
    fclose(f);
}

static void
write_md(const Table *t)
{
    FILE *f = open_out(t, "md");
    char cell[CELL];
    if (f == NULL) {
        return;
    }
    fprintf(f,
            "### %s\n\nReference: %s; median (min\u2013max) over %d "
            "rounds, **ratio to the reference**.\n\n",
            t->title, t->comps[t->ref], t->rounds);
    fprintf(f, "| workload | unit |");
    for (int c = 0; c < t->ncomp; c++) {
        fprintf(f, " %s |", t->comps[c]);
    }
    fprintf(f, " target |\n|---|---|");
    for (int c = 0; c < t->ncomp; c++) {
        fprintf(f, "---|");
    }
    fprintf(f, "---|\n");
    for (int i = 0; i < t->nrows; i++) {
        const Row *r = &t->rows[i];
        char tg[256];
        fprintf(f, "| %s | %s |", r->workload, r->unit);
        for (int c = 0; c < t->ncomp; c++) {
            fmt_cell(t, r, c, 1, cell, sizeof cell);
            fprintf(f, " %s |", cell);
        }
        fmt_targets(t, r, tg, sizeof tg);
        fprintf(f, " %s |\n", tg);
    }
    if (t->nnotes > 0) {
        fprintf(f, "\n");
    }
    for (int i = 0; i < t->nnotes; i++) {
        fprintf(f, "- %s\n", t->notes[i]);
    }
    fprintf(f, "\n");
    fclose(f);
}

void
table_finish(Table *t)
{
    print_text(t);
    write_csv(t);
    write_md(t);
    for (int i = 0; i < t->nnotes; i++) {
        free(t->notes[i]);
    }
    free(t);
}
