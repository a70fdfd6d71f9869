/* SPDX-License-Identifier: MIT */
/* pacing.c - when the collector runs: adaptive pacing that follows the
 * yield of the collections (young passes skipped after a low yield, the
 * old threshold within [base, 8 base]), and external bytes accounted by
 * objects that advance generation 0 like objects.
 * Every decision is read back from the event log and gc_get_stats; no
 * test times anything. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(pacing, .init = gt_setup, .fini = gt_teardown);

static GcEvent ev[GC_EVENT_LOG];

/* The last event of the log. */
static GcEvent
last_event(void)
{
    size_t n = gc_events(gt_gc, ev, GC_EVENT_LOG);
    cr_assert_gt(n, 0);
    return ev[n - 1];
}

Test(pacing, fixed_is_the_default_and_thresholds_stay_as_set)
{
    cr_assert_eq(gc_get_pacing(gt_gc), GC_PACING_FIXED);
    cr_assert_eq(gc_set_threshold(gt_gc, 50, 10, 10), 0);
    RcObject *keep[400];
    for (int i = 0; i < 400; i++) {
        keep[i] = gt_new(&gt_node_type); /* all survive */
    }
    GcEvent e = last_event();
    cr_assert_eq(e.generation, 0);
    cr_assert_eq(e.threshold, 50);
    cr_assert_eq(e.next_threshold, 50);
    cr_assert_eq(gt_stats(0).threshold, 50);
    gt_check();
    for (int i = 0; i < 400; i++) {
        rc_decref(keep[i]);
    }
}

Test(pacing, bad_mode_is_refused_with_a_message)
{
    cr_assert_eq(gc_set_pacing(gt_gc, (GcPacing)7), -1);
    cr_assert_not_null(strstr(gc_error(gt_gc), "unknown mode 7"));
    cr_assert_eq(gc_get_pacing(gt_gc), GC_PACING_FIXED);
}

/* Survivors only (yield 0): after each collection of generation 0, the
 * next three times it is due it moves on to generation 1 unexamined;
 * threshold0 stays as set. */
Test(pacing, young_survivors_are_moved_on_unexamined_three_times_in_four)
{
    cr_assert_eq(gc_set_threshold(gt_gc, 100, 1000, 1000), 0);
    cr_assert_eq(gc_set_pacing(gt_gc, GC_PACING_ADAPTIVE), 0);
    enum { N = 2000 };
    RcObject **keep = malloc(N * sizeof(RcObject *));
    for (int i = 0; i < N; i++) {
        keep[i] = gt_new(&gt_node_type);
    }
    size_t n = gc_events(gt_gc, ev, GC_EVENT_LOG);
    cr_assert_geq(n, 4);
    cr_assert_eq(ev[0].skipped, 0, "the first one reads the yield");
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(ev[i].generation, 0);
        cr_assert_eq(ev[i].collected, 0);
        cr_assert_eq(ev[i].threshold, 100);
        cr_assert_eq(ev[i].next_threshold, 100);
        if (i > 0) {
            cr_assert_eq(ev[i].skipped, GC_PACING_MAX_SKIPS,
                         "event %zu: %llu skipped", i,
                         (unsigned long long)ev[i].skipped);
        }
    }
    GcGenStats st = gt_stats(0);
    cr_assert_geq(st.skipped, (n - 1) * GC_PACING_MAX_SKIPS);
    cr_assert_eq(st.threshold, 100);
    /* The skipped objects are in generation 1 (nothing examined them). */
    cr_assert_gt(gc_get_objects(gt_gc, 1, NULL, 0), 300);
    gt_check();
    for (int i = 0; i < N; i++) {
        rc_decref(keep[i]);
    }
    free(keep);
}

/* Garbage in generation 0 (yield 1/2 and more): no more skips after the
 * next collection of generation 0; the skipped garbage is found by the
 * generation-1 collection. */
Test(pacing, young_garbage_ends_the_skips)
{
    cr_assert_eq(gc_set_threshold(gt_gc, 100, 1000, 1000), 0);
    cr_assert_eq(gc_set_pacing(gt_gc, GC_PACING_ADAPTIVE), 0);
    RcObject *keep[150];
    for (int i = 0; i < 150; i++) {
        keep[i] = gt_new(&gt_node_type); /* one low-yield collection */
    }
    uint64_t skipped = gt_stats(0).skipped;
    long dead = gt_count.deallocs;
    for (int i = 0; i < 1000; i++) {
        rc_decref(gt_ring(&gt_node_type, 2));
    }
    cr_assert_gt(gt_stats(0).skipped, skipped, "skipped at first");
    skipped = gt_stats(0).skipped;
    for (int i = 0; i < 1000; i++) {
        rc_decref(gt_ring(&gt_node_type, 2));
    }
    cr_assert_eq(gt_stats(0).skipped, skipped, "then collected each time");
    cr_assert_geq(gc_collect(gt_gc, 1), 0);
    cr_assert_eq(gt_count.deallocs - dead, 4000, "every ring was freed");
    gt_check();
    for (int i = 0; i < 150; i++) {
        rc_decref(keep[i]);
    }
}

/* Full collections that find nothing double threshold2 up to 8x its
 * base; ones that find mostly garbage halve it back. */
Test(pacing, full_collections_move_the_old_threshold_within_eight_times)
{
    cr_assert_eq(gc_set_threshold(gt_gc, 2000, 10, 10), 0);
    cr_assert_eq(gc_set_pacing(gt_gc, GC_PACING_ADAPTIVE), 0);
    RcObject *keep = gt_ring(&gt_node_type, 50);
    static const long up[] = {20, 40, 80, 80};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(gc_collect(gt_gc, 2), 0);
        GcEvent e = last_event();
        cr_assert_eq(e.next_threshold, up[i], "step %d: %ld", i,
                     e.next_threshold);
        cr_assert_eq(gt_stats(2).threshold, up[i]);
    }
    long t[GC_NGENERATIONS];
    gc_get_threshold(gt_gc, t);
    cr_assert_eq(t[2], 10, "gc_get_threshold gives the base");
    static const long down[] = {40, 20, 10, 10};
    for (int i = 0; i < 4; i++) {
        rc_decref(gt_ring(&gt_node_type, 200)); /* 200 of 250 garbage */
        cr_assert_eq(gc_collect(gt_gc, 2), 200);
        cr_assert_eq(gt_stats(2).threshold, down[i], "step %d", i);
    }
    cr_assert_eq(gt_stats(0).threshold, 2000);
    cr_assert_eq(gt_stats(1).threshold, 10);
    gt_check();
    rc_decref(keep);
}

Test(pacing, setting_thresholds_or_mode_resets_the_threshold_in_force)
{
    cr_assert_eq(gc_set_pacing(gt_gc, GC_PACING_ADAPTIVE), 0);
    RcObject *keep = gt_ring(&gt_node_type, 5);
    cr_assert_eq(gc_collect(gt_gc, 2), 0);
    cr_assert_eq(gt_stats(2).threshold, 20);
    cr_assert_eq(gc_set_threshold(gt_gc, 2000, 10, 10), 0);
    cr_assert_eq(gt_stats(2).threshold, 10);
    cr_assert_eq(gc_collect(gt_gc, 2), 0);
    cr_assert_eq(gt_stats(2).threshold, 20);
    cr_assert_eq(gc_set_pacing(gt_gc, GC_PACING_FIXED), 0);
    cr_assert_eq(gt_stats(2).threshold, 10);
    cr_assert_eq(gc_collect(gt_gc, 2), 0);
    cr_assert_eq(gt_stats(2).threshold, 10, "fixed: stays");
    gt_check();
    rc_decref(keep);
}

/* ---- bytes ---------------------------------------------------------- */

Test(pacing, accounted_bytes_advance_the_young_count)
{
    gc_disable(gt_gc);
    RcObject *a = gt_new(&gt_node_type);
    long before = gt_count_of(0);
    cr_assert_eq(gc_bytes_acquire(a, 10 * GC_BYTES_PER_COUNT + 5), 0);
    cr_assert_eq(gt_count_of(0), before + 10);
    cr_assert_eq(gc_bytes_acquire(a, GC_BYTES_PER_COUNT - 5), 0);
    cr_assert_eq(gt_count_of(0), before + 11, "the rest is carried over");
    cr_assert_eq(gt_stats(0).bytes, 11 * GC_BYTES_PER_COUNT);
    cr_assert_eq(gt_stats(2).bytes, 11 * GC_BYTES_PER_COUNT);
    cr_assert_eq(gc_bytes_release(a, 11 * GC_BYTES_PER_COUNT), 0);
    cr_assert_eq(gt_count_of(0), before);
    cr_assert_eq(gt_stats(0).bytes, 0);
    rc_decref(a);
}

Test(pacing, releasing_more_than_accounted_is_refused)
{
    RcObject *a = gt_new(&gt_node_type);
    cr_assert_eq(gc_bytes_acquire(a, 100), 0);
    cr_assert_eq(gc_bytes_release(a, 101), -1);
    cr_assert_not_null(strstr(gc_error(gt_gc), "releases 101 bytes"));
    cr_assert_eq(gt_stats(0).bytes, 100, "nothing changed");
    cr_assert_eq(gc_bytes_release(a, 100), 0);
    cr_assert_eq(gc_bytes_acquire(NULL, 1), -1);
    cr_assert_eq(gc_bytes_release(NULL, 1), -1);
    rc_decref(a);
}

/* A node that owns a malloc'd buffer: accounted at creation, released
 * by its clear/dealloc through the bytes counter of its heap. */
#define BUF (1u << 20)

static size_t live_bytes, peak_bytes;

typedef struct BufNode {
    RcObject *slot[2];
    unsigned char *buf;
    int accounted; /* buf's bytes went to gc_bytes_acquire */
} BufNode;

static int
buf_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    BufNode *n = rc_payload(op);
    for (int i = 0; i < 2; i++) {
        if (n->slot[i] != NULL && visit(n->slot[i], arg) != 0) {
            return 1;
        }
    }
    return 0;
}

static void
buf_clear(RcObject *op)
{
    BufNode *n = rc_payload(op);
    for (int i = 0; i < 2; i++) {
        RcObject *old = n->slot[i];
        n->slot[i] = NULL;
        rc_xdecref(old);
    }
}

static void
buf_dealloc(RcObject *op)
{
    BufNode *n = rc_payload(op);
    buf_clear(op);
    if (n->buf != NULL) {
        if (n->accounted) {
            cr_assert_eq(gc_bytes_release(op, BUF), 0);
        }
        free(n->buf);
        live_bytes -= BUF;
    }
}

static const RcType buf_type = {
    RC_TYPE_HEAD("bufnode", RC_TYPE_GC),
    .size = sizeof(BufNode),
    .traverse = buf_traverse,
    .clear = buf_clear,
    .dealloc = buf_dealloc,
};

enum { UNACCOUNTED, ACCOUNT_LATE, ACCOUNT_EARLY };

/* Each iteration: a 2-cycle whose first node owns a 1 MiB buffer,
 * dropped at once.  ACCOUNT_LATE accounts the buffer after both nodes
 * exist, ACCOUNT_EARLY before the second is made (so the collection
 * that allocation starts finds the first node in use and promotes
 * it).  Returns the peak of the buffers alive. */
static size_t
buffer_cycles(int account, int iterations)
{
    live_bytes = peak_bytes = 0;
    for (int i = 0; i < iterations; i++) {
        RcObject *a = rc_new(gt_rc, &buf_type);
        cr_assert_not_null(a);
        BufNode *na = rc_payload(a);
        if (account == ACCOUNT_EARLY) {
            cr_assert_eq(gc_bytes_acquire(a, BUF), 0);
            na->accounted = 1;
        }
        RcObject *b = rc_new(gt_rc, &buf_type);
        cr_assert_not_null(b);
        na->buf = malloc(BUF);
        cr_assert_not_null(na->buf);
        memset(na->buf, i & 0xFF, BUF);
        live_bytes += BUF;
        peak_bytes = live_bytes > peak_bytes ? live_bytes : peak_bytes;
        if (account == ACCOUNT_LATE) {
            cr_assert_eq(gc_bytes_acquire(a, BUF), 0);
            na->accounted = 1;
        }
        na->slot[0] = rc_newref(b);
        ((BufNode *)rc_payload(b))->slot[0] = rc_newref(a);
        rc_decref(a);
        rc_decref(b);
    }
    cr_assert_geq(gc_collect(gt_gc, 2), 0);
    cr_assert_eq(live_bytes, 0);
    return peak_bytes;
}

/* gh-98801's loop: with the buffers accounted, each dead cycle is found
 * by the next generation-0 collection and at most two buffers are ever
 * alive (the live data is one); counted as objects only, a thousand
 * pile up first. */
Test(pacing, cycles_holding_buffers_are_collected_as_their_bytes_require)
{
    cr_assert_eq(gc_set_threshold(gt_gc, 2000, 10, 10), 0);
    size_t peak = buffer_cycles(ACCOUNT_LATE, 300);
    cr_assert_leq(peak, 2 * BUF, "peak %zu bytes of buffers alive", peak);
    cr_assert_eq(gt_stats(0).bytes, 0);
    gt_check();
}

/* The buffer's node is in use when the collection starts: its cycle
 * moves on to generation 1, where generation-0 collections do not look.
 * The bytes, doubled since the last full collection, start one. */
Test(pacing,
     cycles_promoted_with_their_buffers_are_collected_when_bytes_double)
{
    cr_assert_eq(gc_set_threshold(gt_gc, 2000, 10, 10), 0);
    size_t peak = buffer_cycles(ACCOUNT_EARLY, 300);
    cr_assert_leq(peak, 2 * BUF, "peak %zu bytes of buffers alive", peak);
    size_t n = gc_events(gt_gc, ev, GC_EVENT_LOG), bytes_reason = 0;
    for (size_t i = 0; i < n; i++) {
        bytes_reason += ev[i].reason == GC_REASON_BYTES;
        cr_assert(ev[i].reason != GC_REASON_BYTES || ev[i].generation == 2);
    }
    cr_assert_gt(bytes_reason, 0);
    gt_check();
}

/* The same loop without accounting, for contrast (fewer iterations than
 * the threshold would need: the buffers are only freed at the end). */
Test(pacing, unaccounted_buffers_pile_up_past_a_hundred_times_the_live_data)
{
    cr_assert_eq(gc_set_threshold(gt_gc, 2000, 10, 10), 0);
    size_t peak = buffer_cycles(UNACCOUNTED, 150);
    cr_assert_geq(peak, 100 * (size_t)BUF);
    gt_check();
}
