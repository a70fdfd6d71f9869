/* SPDX-License-Identifier: MIT */
/* harness.h - what every rcgc benchmark shares.
 *
 * Options (rounds, sizes, output directory, clock), a clock, a small
 * random generator, RSS readers, a runner for child processes (the RSS
 * and memory workloads run in a fresh process per competitor), and the
 * result table: one row per workload, one column per competitor, each
 * cell the median and min-max over rounds and the ratio to the reference
 * competitor, with the target checked next to it.  A table is
 * printed on stdout and written as CSV and markdown under the output
 * directory (bench/out/<topic>.csv and .md).
 */
#ifndef RCGC_BENCH_HARNESS_H
#define RCGC_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_ROUNDS 64
#define BENCH_MAX_COMPS  8
#define BENCH_MAX_SIZES  8

typedef struct BenchOpts {
    int rounds;         /* rounds per workload (>= 1) */
    int quick;          /* --quick: fewer rounds, smaller workloads */
    int wall;           /* --wall: wall clock instead of thread CPU time */
    const char *outdir; /* where the CSV and markdown go */
    size_t sizes[BENCH_MAX_SIZES]; /* graph sizes for the collector */
    int nsizes;
    const char *shapes; /* --shapes: collector shapes to run (NULL: all) */
    const char *self;   /* path of this program, for child processes */
    const char *traces; /* --traces: directory of *.trc (trace topic) */
} BenchOpts;

extern BenchOpts bench_opts;

/* Parse the common options from argv[first..argc); 0 on success, -1 with
 * a message on stderr for an unknown or bad option. */
int bench_parse_opts(int argc, char **argv, int first);
void bench_usage(const char *prog);

/* Nanoseconds: the calling thread's CPU time (robust on a shared
 * machine: time spent descheduled is not counted), or the monotonic wall
 * clock with --wall. */
uint64_t bench_now(void);
const char *bench_clock_name(void);

/* Scale a workload count down under --quick. */
long bench_scale(long n);

/* xorshift64*: fast, reproducible, the same stream for every competitor
 * of a workload. */
typedef struct Rng {
    uint64_t s;
} Rng;

static inline void
rng_seed(Rng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (r->s == 0) {
        r->s = 1;
    }
}

static inline uint64_t
rng_next(Rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n), n > 0 (multiply-shift, no division). */
__extension__ typedef unsigned __int128 bench_u128;

static inline size_t
rng_below(Rng *r, size_t n)
{
    return (size_t)(((bench_u128)rng_next(r) * n) >> 64);
}

/* Shuffle idx[0..n) (Fisher-Yates). */
void rng_shuffle(Rng *r, uint32_t *idx, size_t n);

/* Resident set size of this process in bytes (/proc/self/statm), and its
 * peak (VmHWM from /proc/self/status). */
size_t bench_rss(void);
size_t bench_peak_rss(void);

/* What the first touch of a fresh page costs here (ns, bench clock): on
 * virtual machines it can dwarf an allocator's own work.  With populate,
 * each page is first faulted in by madvise(MADV_POPULATE_WRITE), as
 * objalloc does for fresh pools (0 when the kernel lacks it). */
double bench_page_fault_ns(bool populate);

/* Run this program again with args (NULL-terminated, without argv[0])
 * and capture its stdout into out (NUL-terminated).  Returns the exit
 * status (0 on success), -1 if it could not run. */
int bench_run_child(const char *const *args, char *out, size_t cap);

/* Find "key=<number>" in text; 0 and *val set if found, else -1. */
int bench_field(const char *text, const char *key, double *val);

/* ---- results -------------------------------------------------------- */

/* Samples of one competitor for one workload (one per round). */
typedef struct Series {
    double v[BENCH_MAX_ROUNDS];
    int n;
} Series;

static inline void
series_add(Series *s, double v)
{
    if (s->n < BENCH_MAX_ROUNDS) {
        s->v[s->n++] = v;
    }
}

double series_median(const Series *s);
double series_min(const Series *s);
double series_max(const Series *s);
/* How many samples exceed limit. */
int series_count_above(const Series *s, double limit);
/* P(X >= k) for X ~ Binomial(n, 1/2): the sign test's p-value. */
double sign_test_p(int k, int n);

/* A target from the issues, checked on one competitor's samples:
 * TARGET_RATIO: median / reference median <= limit;
 * TARGET_VALUE: median <= limit;
 * TARGET_NOT_ABOVE: "no more than limit" for a quantity whose true value
 *   may equal limit (a second collection that does the same work as the
 *   first: 2nd / 1st = 1 up to noise, so its median falls on either side
 *   of 1 by chance).  Met unless the samples are above limit more often
 *   than chance allows: a one-sided sign test, missed when the
 *   probability of at least that many samples above limit, each above
 *   with probability 1/2, is below 5%.  It flags a consistent excess
 *   (CPython's second collection of a random graph, above 1 in every
 *   round), not a tie. */
typedef enum TargetKind {
    TARGET_NONE,
    TARGET_RATIO,
    TARGET_VALUE,
    TARGET_NOT_ABOVE
} TargetKind;
typedef struct Target {
    TargetKind kind;
    int comp; /* index of the competitor it applies to */
    double limit;
} Target;

typedef struct Table Table;

/* A table for one topic; comps[ref] is the reference of the ratios. */
Table *table_new(const char *topic, const char *title,
                 const char *const *comps, int ncomp, int ref);
/* One row: series[ncomp] (a series with n == 0 is shown as "-"),
 * up to two targets (kind TARGET_NONE for none). */
void table_add(Table *t, const char *workload, const char *unit,
               const Series *series, const Target *targets, int ntargets);
/* Rounds shown in the header (default bench_opts.rounds): 1 for tables
 * of deterministic one-shot measurements. */
void table_set_rounds(Table *t, int rounds);
/* A line printed under the table (and into the markdown). */
void table_note(Table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print, write <outdir>/<topic>.csv and .md, release. */
void table_finish(Table *t);

#endif /* RCGC_BENCH_HARNESS_H */
