/* SPDX-License-Identifier: MIT */
/* main.c - rcgc-bench: the side-by-side benchmarks of rcgc.
 *
 *   rcgc-bench [topic] [options]      topic: trace, alloc, refcount, gc,
 *                                     young, pacing, mem, heaps, pause or
 *                                     all
 *                                     (the default)
 * Each topic holds all its competitors in this one process, alternates
 * them round by round, prints a table of medians, min-max and ratios to
 * the reference with the issues' targets, and writes CSV and markdown
 * under --out (bench/out).  `rss-child`, `trace-child`, `mem-child` and
 * `pause-child` are internal:
 * the topics re-execute this program with them to measure memory in a
 * fresh process.
 */
#include "bench/anchors.h"
#include "bench/bench.h"
#include "bench/harness.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static const struct {
    const char *name;
    int (*run)(void);
} topics[] = {
    {"trace", bench_trace},       {"alloc", bench_alloc},
    {"refcount", bench_refcount}, {"gc", bench_gc},
    {"young", bench_young},       {"pacing", bench_pacing},
    {"mem", bench_mem},           {"heaps", bench_heaps},
    {"pause", bench_pause},
};
#define NTOPICS ((int)(sizeof topics / sizeof topics[0]))

int
main(int argc, char **argv)
{
    anchors_reexec_for_jemalloc(argv);
    if (argc > 1 && strcmp(argv[1], "rss-child") == 0) {
        return alloc_rss_child(argc - 2, argv + 2);
    }
    if (argc > 1 && strcmp(argv[1], "trace-child") == 0) {
        return trace_child(argc - 2, argv + 2);
    }
    if (argc > 1 && strcmp(argv[1], "mem-child") == 0) {
        return mem_child(argc - 2, argv + 2);
    }
    if (argc > 1 && strcmp(argv[1], "pause-child") == 0) {
        return pause_child(argc - 2, argv + 2);
    }
    const char *topic = "all";
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        topic = argv[1];
        first = 2;
    }
    if (bench_parse_opts(argc, argv, first) < 0) {
        bench_usage(argv[0]);
        return 2;
    }
    int found = strcmp(topic, "all") == 0;
    for (int i = 0; i < NTOPICS; i++) {
        found |= strcmp(topic, topics[i].name) == 0;
    }
    if (!found) {
        bench_usage(argv[0]);
        return 2;
    }
    printf("rcgc-bench %s: %d rounds%s, %s, collector sizes", topic,
           bench_opts.rounds, bench_opts.quick ? " (quick)" : "",
           bench_clock_name());
    for (int i = 0; i < bench_opts.nsizes; i++) {
        printf("%s%zu", i ? "," : " ", bench_opts.sizes[i]);
    }
    printf("\n");
    int rc = 0;
    for (int i = 0; i < NTOPICS; i++) {
        if (strcmp(topic, "all") == 0 || strcmp(topic, topics[i].name) == 0) {
            rc |= topics[i].run();
        }
    }
    return rc;
}
