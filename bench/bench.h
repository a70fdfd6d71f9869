/* SPDX-License-Identifier: MIT */
/* bench.h - the benchmark topics of rcgc-bench (one function each) and
 * the child-process entry points they re-execute this program with. */
#ifndef RCGC_BENCH_BENCH_H
#define RCGC_BENCH_BENCH_H

#include <stdint.h>

#define OA_SMALL_MAX_BENCH 512

/* A CPython-like request-size table: size_mix[rng & 4095]. */
extern uint16_t size_mix[4096];
void size_mix_init(void);

int bench_trace(void);
int trace_child(int argc, char **argv);
int bench_alloc(void);
int bench_alloc_rss(void);
int alloc_rss_child(int argc, char **argv);

int bench_refcount(void);
int bench_gc(void);
int bench_young(void);
int bench_heaps(void);
int bench_pacing(void);
int bench_mem(void);
int mem_child(int argc, char **argv);
int bench_pause(void);
int pause_child(int argc, char **argv);

#endif /* RCGC_BENCH_BENCH_H */
