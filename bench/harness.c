/* SPDX-License-Identifier: MIT */
/* harness.c - options, clock, RSS, child processes and result tables.
 *
 * Result tables: a Table holds rows in memory (workload, unit, one Series
 * per competitor, targets).  table_finish() renders them three ways:
 *   1. stdout: an aligned text table, each cell "median (min-max) ratio";
 *   2. <outdir>/<topic>.csv: one line per (workload, competitor) with the
 *      raw median, min, max, ratio and target verdict (machine-readable);
 *   3. <outdir>/<topic>.md: the same table in markdown, which
 *      scripts/run-bench.sh gathers into bench/out/RESULTS.md (published
 *      to bench/RESULTS.md by make bench-publish).
 * Ratios are median(competitor) / median(reference) of the same row, all
 * measured in one process with the competitors alternating round by round.
 */
#include "bench/harness.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

BenchOpts bench_opts = {
    .rounds = 5,
    .outdir = "bench/out",
    .sizes = {100000, 1000000},
    .nsizes = 2,
    .self = "/proc/self/exe",
    .traces = "build/traces",
};

static int rounds_given;

void
bench_usage(const char *prog)
{
    fprintf(
        stderr,
        "usage: %s [trace|alloc|refcount|gc|young|pacing|mem|heaps|all] "
        "[options]\n"
        "  --quick          2 rounds, smaller workloads, sizes 100k\n"
        "  --rounds N       rounds per workload (default 5)\n"
        "  --sizes LIST     collector graph sizes, e.g. 100k,1m,4m\n"
        "                   (default 100k,1m)\n"
        "  --shapes LIST    collector shapes: ring2,ring10,ring1000,tree,\n"
        "                   random,mixed,chain (default: all)\n"
        "  --out DIR        CSV and markdown output (bench/out)\n"
        "  --traces DIR     recorded traces to replay (build/traces)\n"
        "  --wall           time with the wall clock (default: the\n"
        "                   thread's CPU time)\n",
        prog);
}

static int
parse_size(const char *s, size_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0) {
        return -1;
    }
    if (*end == 'k' || *end == 'K') {
        v *= 1e3;
        end++;
    }
    else if (*end == 'm' || *end == 'M') {
        v *= 1e6;
        end++;
    }
    if (*end != '\0' && *end != ',') {
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int
parse_sizes(const char *list)
{
    bench_opts.nsizes = 0;
    for (const char *p = list; *p != '\0';) {
        size_t n;
        if (bench_opts.nsizes == BENCH_MAX_SIZES || parse_size(p, &n) < 0) {
            return -1;
        }
        bench_opts.sizes[bench_opts.nsizes++] = n;
        const char *comma = strchr(p, ',');
        p = comma ? comma + 1 : p + strlen(p);
    }
    return bench_opts.nsizes > 0 ? 0 : -1;
}

int
bench_parse_opts(int argc, char **argv, int first)
{
    int sizes_given = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            bench_opts.quick = 1;
        }
        else if (strcmp(a, "--traces") == 0 && val != NULL) {
            bench_opts.traces = val;
            i++;
        }
        else if (strcmp(a, "--wall") == 0) {
            bench_opts.wall = 1;
        }
        else if (strcmp(a, "--rounds") == 0 && val != NULL) {
            bench_opts.rounds = atoi(val);
            rounds_given = 1;
            i++;
            if (bench_opts.rounds < 1 ||
                bench_opts.rounds > BENCH_MAX_ROUNDS) {
                fprintf(stderr, "bench: --rounds must be 1..%d\n",
                        BENCH_MAX_ROUNDS);
                return -1;
            }
        }
        else if (strcmp(a, "--sizes") == 0 && val != NULL) {
            if (parse_sizes(val) < 0) {
                fprintf(stderr, "bench: bad --sizes '%s'\n", val);
                return -1;
            }
            sizes_given = 1;
            i++;
        }
        else if (strcmp(a, "--shapes") == 0 && val != NULL) {
            bench_opts.shapes = val;
            i++;
        }
        else if (strcmp(a, "--out") == 0 && val != NULL) {
            bench_opts.outdir = val;
            i++;
        }
        else {
            fprintf(stderr, "bench: unknown option '%s'\n", a);
            return -1;
        }
    }
    if (bench_opts.quick) {
        if (!rounds_given) {
            bench_opts.rounds = 2;
        }
        if (!sizes_given) {
            bench_opts.sizes[0] = 100000;
            bench_opts.nsizes = 1;
        }
    }
    return 0;
}

uint64_t
bench_now(void)
{
    struct timespec ts;
    clock_gettime(bench_opts.wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID,
                  &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *
bench_clock_name(void)
{
    return bench_opts.wall ? "wall clock" : "thread CPU time";
}

long
bench_scale(long n)
{
    return bench_opts.quick ? n / 4 : n;
}

void
rng_shuffle(Rng *r, uint32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

size_t
bench_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f == NULL) {
        return 0;
    }
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) {
        resident = 0;
    }
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

size_t
bench_peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = (size_t)strtoull(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

static bool
populate_page(char *p, size_t page)
{
#if defined(MADV_POPULATE_WRITE)
    return madvise(p, page, MADV_POPULATE_WRITE) == 0;
#else
    (void)p;
    (void)page;
    return false;
#endif
}

double
bench_page_fault_ns(bool populate)
{
    size_t len = 16u << 20;
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return 0;
    }
    uint64_t t0 = bench_now();
    for (size_t i = 0; i < len; i += (size_t)page) {
        if (populate && !populate_page(p + i, (size_t)page)) {
            munmap(p, len);
            return 0;
        }
        p[i] = 1;
    }
    double ns = (double)(bench_now() - t0) / (double)(len / (size_t)page);
    munmap(p, len);
    return ns;
}

int
bench_run_child(const char *const *args, char *out, size_t cap)
{
    int fds[2];
    const char *argv[32];
    int n = 0;
    argv[n++] = bench_opts.self;
    for (; args[n - 1] != NULL && n < 31; n++) {
        argv[n] = args[n - 1];
    }
    argv[n] = NULL;
    if (pipe(fds) < 0) {
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv("/proc/self/exe", (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fds[0], out + len, cap - 1 - len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        len += (size_t)got;
        if (len == cap - 1) {
            break;
        }
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return -1;
}

int
bench_field(const char *text, const char *key, double *val)
{
    size_t klen = strlen(key);
    for (const char *p = strstr(text, key); p != NULL;
         p = strstr(p + 1, key)) {
        if ((p == text || p[-1] == ' ' || p[-1] == '\n') && p[klen] == '=') {
            *val = strtod(p + klen + 1, NULL);
            return 0;
        }
    }
    return -1;
}

/* ---- series --------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double
series_median(const Series *s)
{
    double v[BENCH_MAX_ROUNDS];
    if (s->n == 0) {
        return NAN;
    }
    memcpy(v, s->v, sizeof(double) * (size_t)s->n);
    qsort(v, (size_t)s->n, sizeof(double), cmp_double);
    return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

double
series_min(const Series *s)
{
    double m = s->n ? s->v[0] : NAN;
    for (int i = 1; i < s->n; i++) {
        m = s->v[i] < m ? s->v[i] : m;
    }
    return m;
}

double
series_max(const Series *s)
{
    double m = s->n ? s->v[0] : NAN;
    for (int i = 1; i < s->n; i++) {
        m = s->v[i] > m ? s->v[i] : m;
    }
    return m;
}

int
series_count_above(const Series *s, double limit)
{
    int k = 0;
    for (int i = 0; i < s->n; i++) {
        k += s->v[i] > limit;
    }
    return k;
}

double
sign_test_p(int k, int n)
{
    /* sum over i >= k of C(n, i) / 2^n (n <= BENCH_MAX_ROUNDS: the
     * coefficients fit a double, to its rounding) */
    double c = 1, sum = 0; /* c = C(n, i) */
    for (int i = 0; i <= n; i++) {
        if (i >= k) {
            sum += c;
        }
        c = c * (n - i) / (i + 1);
    }
    return sum / ldexp(1, n);
}
