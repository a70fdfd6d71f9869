/* SPDX-License-Identifier: MIT */
/* heaps_bench.c - does a second heap change the cost of the first one's
 * collections?  (It once did, through a process-wide count of heaps
 * that turned off a pass-saving shortcut of full collections.)
 *
 * Each round builds a binary tree of n 2-slot nodes in a fresh GcHeap,
 * then times its full collection twice in alternating order: with no
 * other heap in the process ("alone"), and with a second GcHeap alive
 * that holds a tracked cycle ("beside a 2nd heap").  Rows: the time per
 * node of each, their per-round ratio (target: no more than 1, by the
 * sign test of harness.h, as the work is the same and only noise
 * differs), and the work itself from the event log (GcEvent.visits per
 * node: 2 for a full collection of a live tree - subtract and mark; a
 * live tree needs no partition walk - and 3, the update_refs walk more,
 * beside a second heap before the fix).
 */
#include "bench/bench.h"
#include "bench/backend.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(BENCH_HAVE_CYCLEGC)
#include "cyclegc/cyclegc.h"

/* A tree of n nodes in gc's heap; returns its root (one reference). */
static RcObject *
build_tree(GcHeap *gc, size_t n, RcObject **tmp)
{
    RcHeap *rc = gc_heap_rc(gc);
    for (size_t i = 0; i < n; i++) {
        tmp[i] = rc_new(rc, &rc_backend_node_type);
        if (tmp[i] == NULL) {
            fprintf(stderr, "bench heaps: out of memory\n");
            exit(1);
        }
        if (i > 0) {
            ((RcObject **)rc_payload(tmp[(i - 1) / 2]))[(i - 1) % 2] =
                tmp[i]; /* the parent owns the one reference */
        }
    }
    return tmp[0];
}

/* One timed full collection; *visits per node from its event. */
static double
timed_full(GcHeap *gc, size_t n, double *visits)
{
    uint64_t t0 = bench_now();
    gc_collect(gc, 2);
    double ns = (double)(bench_now() - t0) / (double)n;
    GcEvent e;
    size_t kept = gc_events(gc, NULL, 0);
    static GcEvent ev[GC_EVENT_LOG];
    gc_events(gc, ev, GC_EVENT_LOG);
    e = ev[kept - 1];
    *visits = (double)e.visits / (double)n;
    return ns;
}

enum { H_ALONE, H_BESIDE, H_COUNT };

int
bench_heaps(void)
{
    static const char *const names[H_COUNT] = {"alone", "beside a 2nd heap"};
    Table *t = table_new("heaps",
                         "A second heap and the first one's full "
                         "collections (same tree, same process)",
                         names, H_COUNT, H_ALONE);
    size_t n = (size_t)bench_scale(1000000);
    RcObject **tmp = malloc(n * sizeof *tmp);
    if (tmp == NULL) {
        perror("bench");
        return 1;
    }
    Series time[H_COUNT] = {{{0}, 0}}, work[H_COUNT] = {{{0}, 0}};
    Series ratio[H_COUNT] = {{{0}, 0}};
    int reps = bench_opts.rounds * 2;
    reps = reps < BENCH_MAX_ROUNDS ? reps : BENCH_MAX_ROUNDS;
    fprintf(stderr, "bench heaps: %zu nodes, %d rounds\n", n, reps);
    for (int r = 0; r < reps; r++) {
        GcHeap *gc = gc_heap_new(NULL);
        gc_disable(gc);
        RcObject *root = build_tree(gc, n, tmp);
        gc_collect(gc, 2); /* settle: the timed ones find the tree old */
        double ns[H_COUNT], visits[H_COUNT];
        for (int k = 0; k < H_COUNT; k++) {
            int which = (k + r) % H_COUNT; /* alternate the order */
            GcHeap *other = NULL;
            RcObject *cycle = NULL;
            if (which == H_BESIDE) {
                other = gc_heap_new(NULL);
                cycle = rc_new(gc_heap_rc(other), &rc_backend_node_type);
                ((RcObject **)rc_payload(cycle))[0] = rc_newref(cycle);
            }
            ns[which] = timed_full(gc, n, &visits[which]);
            if (other != NULL) {
                rc_decref(cycle);
                gc_heap_destroy(other);
            }
        }
        for (int k = 0; k < H_COUNT; k++) {
            series_add(&time[k], ns[k]);
            series_add(&work[k], visits[k]);
        }
        series_add(&ratio[H_BESIDE], ns[H_BESIDE] / ns[H_ALONE]);
        rc_decref(root);
        gc_heap_destroy(gc);
    }
    free(tmp);
    Target none = {TARGET_NONE, 0, 0};
    Target same = {TARGET_NOT_ABOVE, H_BESIDE, 1.0};
    char name[96];
    snprintf(name, sizeof name, "%.3gM tree: full collection",
             (double)n / 1e6);
    table_add(t, name, "ns/node", time, &none, 1);
    snprintf(name, sizeof name, "%.3gM tree: beside / alone", (double)n / 1e6);
    table_add(t, name, "ratio", ratio, &same, 1);
    snprintf(name, sizeof name, "%.3gM tree: list visits", (double)n / 1e6);
    table_add(t, name, "per node", work, &none, 1);
    table_note(t, "visits: objects walked by the reachability passes "
                  "(GcEvent.visits): 2 per node alone and beside (subtract "
                  "and mark); a process-wide count of heaps once made it 3 "
                  "beside a second heap.");
    table_finish(t);
    return 0;
}

#else

int
bench_heaps(void)
{
    fprintf(stderr, "bench heaps: needs the cyclegc layer\n");
    return 0;
}

#endif
