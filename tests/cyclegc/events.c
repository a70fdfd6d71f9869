/* SPDX-License-Identifier: MIT */
/* events.c - the event log, the debug lines and emergency collections.
 *
 * Each collection appends an event (sequence number, generation, reason,
 * examined, collected, uncollectable, pause); the log keeps the last
 * GC_EVENT_LOG.  With GC_DEBUG_STATS a collection writes CPython's lines
 * "gc: collecting generation N..." and "gc: done, N unreachable, M
 * uncollectable, T s elapsed" to the chosen stream; DEBUG_COLLECTABLE and
 * DEBUG_UNCOLLECTABLE write a line per object.  An allocation that would
 * pass objalloc's limit first collects (reason GC_REASON_PRESSURE). */
#define _GNU_SOURCE /* open_memstream */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(events, .init = gt_setup, .fini = gt_teardown);

static GcEvent evbuf[GC_EVENT_LOG];

static size_t
read_events(void)
{
    size_t n = gc_events(gt_gc, evbuf, GC_EVENT_LOG);
    cr_assert_leq(n, GC_EVENT_LOG);
    return n;
}

Test(events, each_collection_is_logged_with_its_counts)
{
    gc_disable(gt_gc);
    cr_expect_eq(read_events(), 0);
    RcObject *keep = gt_ring(&gt_node_type, 5);
    RcObject *a = gt_ring(&gt_node_type, 3);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 1), 3);
    RcObject *l = gt_new(&gt_legacy_type);
    gt_link(l, 0, l);
    rc_decref(l);
    a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    cr_expect_eq(gc_collect(gt_gc, 0), 0);
    size_t n = read_events();
    cr_assert_eq(n, 3);
    cr_expect_eq(evbuf[0].seq, 1);
    cr_expect_eq(evbuf[1].seq, 2);
    cr_expect_eq(evbuf[2].seq, 3);
    cr_expect_eq(evbuf[0].generation, 1);
    cr_expect_eq(evbuf[0].reason, GC_REASON_EXPLICIT);
    cr_expect_eq(evbuf[0].examined, 8);
    cr_expect_eq(evbuf[0].collected, 3);
    cr_expect_eq(evbuf[0].uncollectable, 0);
    cr_expect_eq(evbuf[1].generation, 2);
    cr_expect_eq(evbuf[1].examined, 8);
    cr_expect_eq(evbuf[1].collected, 2);
    cr_expect_eq(evbuf[1].uncollectable, 1);
    cr_expect_eq(evbuf[2].generation, 0);
    cr_expect_eq(evbuf[2].examined, 0);
    cr_expect_eq(evbuf[2].collected, 0);
    rc_decref(keep);
    gt_link(gc_garbage_get(gt_gc, 0), 0, NULL);
    gc_garbage_clear(gt_gc);
    gt_check();
}

Test(events, threshold_collections_are_logged_as_such)
{
    cr_expect_eq(gc_set_threshold(gt_gc, 20, 10, 10), 0);
    for (int i = 0; i < 50; i++) {
        RcObject *a = gt_new(&gt_node_type);
        gt_link(a, 0, a);
        rc_decref(a);
    }
    size_t n = read_events();
    cr_expect_geq(n, 2);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(evbuf[i].reason, GC_REASON_THRESHOLD);
        cr_expect_eq(evbuf[i].generation, 0);
        cr_expect_eq(evbuf[i].seq, i + 1);
        cr_expect_geq(evbuf[i].examined, evbuf[i].collected);
    }
    gt_check();
}

Test(events, log_keeps_the_most_recent_collections)
{
    enum { EXTRA = 6 };
    for (int i = 0; i < GC_EVENT_LOG + EXTRA; i++) {
        gc_collect(gt_gc, i % 3);
    }
    size_t n = read_events();
    cr_assert_eq(n, GC_EVENT_LOG);
    cr_expect_eq(evbuf[0].seq, EXTRA + 1);
    cr_expect_eq(evbuf[n - 1].seq, GC_EVENT_LOG + EXTRA);
    for (size_t i = 1; i < n; i++) {
        cr_expect_eq(evbuf[i].seq, evbuf[i - 1].seq + 1);
    }
    cr_expect_eq(evbuf[n - 1].generation, (GC_EVENT_LOG + EXTRA - 1) % 3);
    cr_expect_eq(gc_events(gt_gc, evbuf, 0), GC_EVENT_LOG);
}

Test(events, allocation_under_memory_limit_collects_first)
{
    /* no threshold collection; only memory pressure may collect */
    cr_expect_eq(gc_set_threshold(gt_gc, 1000000000L, 10, 10), 0);
    OaHeap *oa = rc_heap_oa(gt_rc);
    oa_heap_set_limit(oa, 4u << 20);
    size_t n = 100000; /* about 10 MB of garbage through a 4 MiB limit */
    for (size_t i = 0; i < n; i++) {
        RcObject *a = gt_new(&gt_node_type);
        gt_link(a, 0, a);
        rc_decref(a);
    }
    OaStats st;
    oa_heap_stats(oa, &st);
    cr_expect_leq(st.bytes_mapped + st.large_bytes, 4u << 20);
    size_t ne = read_events();
    cr_expect_geq(ne, 1, "no emergency collection");
    for (size_t i = 0; i < ne; i++) {
        cr_expect_eq(evbuf[i].reason, GC_REASON_PRESSURE);
    }
    gt_check();
    oa_heap_set_limit(oa, 0);
}

static char *
debug_output(int flags, void (*work)(void))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    gc_set_debug(gt_gc, flags, f);
    cr_expect_eq(gc_get_debug(gt_gc), flags);
    work();
    gc_set_debug(gt_gc, 0, NULL);
    fclose(f);
    return text;
}

static void
collect_two_garbage_in_gen0(void)
{
    RcObject *a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
}

Test(events, debug_stats_prints_collecting_and_done_lines)
{
    gc_disable(gt_gc);
    char *text = debug_output(GC_DEBUG_STATS, collect_two_garbage_in_gen0);
    cr_expect_not_null(strstr(text, "gc: collecting generation 0"), "%s",
                       text);
    cr_expect_not_null(strstr(text, "gc: done, 2 unreachable, "
                                    "0 uncollectable"),
                       "%s", text);
    cr_expect_not_null(strstr(text, "elapsed"), "%s", text);
    free(text);
    gt_check();
}

static void
collect_legacy_in_gen2(void)
{
    RcObject *l = gt_new(&gt_legacy_type);
    gt_link(l, 0, l);
    rc_decref(l);
    RcObject *a = gt_ring(&gt_node_type, 3);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 4);
}

Test(events, debug_stats_counts_uncollectable)
{
    gc_disable(gt_gc);
    char *text = debug_output(GC_DEBUG_STATS, collect_legacy_in_gen2);
    cr_expect_not_null(strstr(text, "gc: collecting generation 2"), "%s",
                       text);
    cr_expect_not_null(strstr(text, "gc: done, 4 unreachable, "
                                    "1 uncollectable"),
                       "%s", text);
    free(text);
    gt_link(gc_garbage_get(gt_gc, 0), 0, NULL);
    gc_garbage_clear(gt_gc);
    gt_check();
}

Test(events, debug_collectable_names_each_collected_object)
{
    gc_disable(gt_gc);
    char *text =
        debug_output(GC_DEBUG_COLLECTABLE, collect_two_garbage_in_gen0);
    cr_expect_not_null(strstr(text, "collectable"), "%s", text);
    cr_expect_not_null(strstr(text, "gt_node"), "%s", text);
    cr_expect_null(strstr(text, "gc: collecting generation"),
                   "stats lines without DEBUG_STATS: %s", text);
    size_t lines = 0;
    for (char *p = text; *p; p++) {
        lines += *p == '\n';
    }
    cr_expect_eq(lines, 2, "one line per object: %s", text);
    free(text);
    gt_check();
}

Test(events, debug_uncollectable_names_each_uncollectable_object)
{
    gc_disable(gt_gc);
    char *text = debug_output(GC_DEBUG_UNCOLLECTABLE, collect_legacy_in_gen2);
    cr_expect_not_null(strstr(text, "uncollectable"), "%s", text);
    cr_expect_not_null(strstr(text, "gt_legacy"), "%s", text);
    cr_expect_null(strstr(text, "gt_node"), "collectable objects printed: %s",
                   text);
    free(text);
    gt_link(gc_garbage_get(gt_gc, 0), 0, NULL);
    gc_garbage_clear(gt_gc);
    gt_check();
}

Test(events, no_debug_flags_print_nothing)
{
    gc_disable(gt_gc);
    char *text = debug_output(0, collect_two_garbage_in_gen0);
    cr_expect_str_eq(text, "");
    free(text);
}

Test(events, debug_lines_go_to_stderr_without_a_stream)
{
    cr_redirect_stderr();
    gc_disable(gt_gc);
    gc_set_debug(gt_gc, GC_DEBUG_STATS, NULL);
    collect_two_garbage_in_gen0();
    gc_set_debug(gt_gc, 0, NULL);
    fflush(stderr);
    fclose(stderr); /* the reader below sees end of file */
    FILE *f = cr_get_redirected_stderr();
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    cr_expect_not_null(strstr(buf, "gc: collecting generation 0"), "%s", buf);
    cr_expect_not_null(strstr(buf, "gc: done, 2 unreachable"), "%s", buf);
}
