/* SPDX-License-Identifier: MIT */
/* bad_input.c - every misuse of the collector's API is refused with -1
 * (or NULL, or (size_t)-1) and a message in gc_error(), never a crash,
 * and leaves the collector consistent: invalid generations, negative
 * thresholds, tracking twice, untracking an untracked object, non-GC
 * objects, unknown callbacks, a second collector on one heap. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

TestSuite(bad_input, .init = gt_setup, .fini = gt_teardown);

/* The last error message mentions `word` (case-insensitive). */
static void
expect_message(const char *word)
{
    const char *msg = gc_error(gt_gc);
    cr_assert_not_null(msg, "no message for a refused call");
    cr_expect_gt(strlen(msg), 0);
    char low[512];
    size_t i = 0;
    for (; msg[i] != 0 && i < sizeof(low) - 1; i++) {
        low[i] = (char)tolower((unsigned char)msg[i]);
    }
    low[i] = 0;
    cr_expect_not_null(strstr(low, word), "message '%s' lacks '%s'", msg,
                       word);
}

Test(bad_input, invalid_generation_is_refused)
{
    RcObject *a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    int bad[] = {-1, 3, 4, 1000, -1000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_expect_eq(gc_collect(gt_gc, bad[i]), -1, "generation %d", bad[i]);
        expect_message("generation");
    }
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        cr_expect_eq(gt_stats(g).collections, 0, "a refused call counted");
    }
    cr_expect_eq(gc_events(gt_gc, NULL, 0), 0);
    cr_expect_eq(rc_live_total(gt_rc), 2, "a refused call collected");
    gt_check();
}

Test(bad_input, get_objects_of_invalid_generation_is_refused)
{
    RcObject *a = gt_new(&gt_node_type);
    RcObject *buf[4];
    cr_expect_eq(gc_get_objects(gt_gc, 3, buf, 4), (size_t)-1);
    expect_message("generation");
    cr_expect_eq(gc_get_objects(gt_gc, -2, buf, 4), (size_t)-1);
    expect_message("generation");
    cr_expect_eq(gc_get_objects(gt_gc, -1, buf, 4), 1);
    rc_decref(a);
    gt_check();
}

Test(bad_input, negative_threshold_is_refused_and_changes_nothing)
{
    cr_expect_eq(gc_set_threshold(gt_gc, 500, 7, 3), 0);
    cr_expect_eq(gc_set_threshold(gt_gc, -1, 10, 10), -1);
    expect_message("threshold");
    cr_expect_eq(gc_set_threshold(gt_gc, 10, -5, 10), -1);
    cr_expect_eq(gc_set_threshold(gt_gc, 10, 10, -100), -1);
    long t[GC_NGENERATIONS];
    gc_get_threshold(gt_gc, t);
    cr_expect(t[0] == 500 && t[1] == 7 && t[2] == 3,
              "thresholds changed to %ld %ld %ld", t[0], t[1], t[2]);
    gt_check();
}

Test(bad_input, tracking_twice_is_refused)
{
    RcObject *a = gt_new(&gt_node_type);
    cr_expect_eq(gc_track(a), -1);
    expect_message("track");
    cr_expect(gc_is_tracked(a));
    cr_expect_eq(gc_get_objects(gt_gc, -1, NULL, 0), 1);
    gt_check();
    rc_decref(a);
    gt_check();
}

Test(bad_input, untracking_an_untracked_object_is_refused)
{
    RcObject *u = gt_new(&gt_untracked_type);
    cr_expect_eq(gc_untrack(u), -1);
    expect_message("track");
    cr_expect_not(gc_is_tracked(u));
    RcObject *a = gt_new(&gt_node_type);
    cr_expect_eq(gc_untrack(a), 0);
    cr_expect_eq(gc_untrack(a), -1);
    gt_check();
    rc_decref(u);
    rc_decref(a);
    gt_check();
}

Test(bad_input, non_gc_object_cannot_be_tracked)
{
    RcObject *leaf = gt_new(&gt_leaf_type);
    cr_expect_eq(gc_track(leaf), -1);
    cr_expect_not_null(gc_error(gt_gc));
    cr_expect_eq(gc_untrack(leaf), -1);
    cr_expect_not_null(gc_error(gt_gc));
    cr_expect_not(gc_is_tracked(leaf));
    cr_expect_not(gc_is_finalized(leaf));
    RcObject *path[2];
    cr_expect_eq(gc_why_alive(gt_gc, leaf, path, 2), (size_t)-1);
    cr_expect_eq(gc_get_objects(gt_gc, -1, NULL, 0), 0);
    rc_decref(leaf);
    gt_check();
}

Test(bad_input, why_alive_of_untracked_object_is_an_error)
{
    RcObject *u = gt_new(&gt_untracked_type);
    RcObject *path[2];
    cr_expect_eq(gc_why_alive(gt_gc, u, path, 2), (size_t)-1);
    cr_expect_not_null(gc_error(gt_gc));
    rc_decref(u);
    gt_check();
}

static void
never_called(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)gc;
    (void)phase;
    (void)info;
    (void)ctx;
}

Test(bad_input, removing_an_unknown_callback_is_refused)
{
    int ctx;
    cr_expect_eq(gc_callback_remove(gt_gc, never_called, &ctx), -1);
    cr_expect_not_null(gc_error(gt_gc));
    cr_expect_eq(gc_callback_add(gt_gc, never_called, &ctx), 0);
    cr_expect_eq(gc_callback_remove(gt_gc, never_called, NULL), -1);
    cr_expect_eq(gc_callback_remove(gt_gc, never_called, &ctx), 0);
    cr_expect_eq(gc_callback_remove(gt_gc, never_called, &ctx), -1);
}

Test(bad_input, null_callback_is_refused_with_a_message)
{
    cr_expect_eq(gc_callback_add(gt_gc, NULL, NULL), -1);
    cr_expect_str_eq(gc_error(gt_gc), "gc_callback_add: callback is NULL");
    cr_expect_eq(gc_collect(gt_gc, 0), 0); /* nothing registered runs */
}

Test(bad_input, second_collector_on_one_heap_is_refused)
{
    cr_expect_null(gc_heap_new(gt_rc));
    RcObject *a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
}

Test(bad_input, collector_on_a_borrowed_heap)
{
    RcHeap *rc = rc_heap_new(NULL);
    cr_assert_not_null(rc);
    GcHeap *gc = gc_heap_new(rc);
    cr_assert_not_null(gc);
    cr_expect_eq(gc_heap_rc(gc), rc);
    RcObject *o = rc_new(rc, &gt_link_type);
    cr_assert_not_null(o);
    cr_expect(gc_is_tracked(o));
    cr_expect_eq(gc_heap_of(o), gc);
    ((GtLink *)rc_payload(o))->next = rc_newref(o);
    rc_decref(o);
    cr_expect_eq(gc_collect(gc, 2), 1);
    cr_expect_eq(rc_live_total(rc), 0);
    cr_expect_eq(gc_check(gc), 0);
    gc_heap_destroy(gc);
    cr_expect_eq(rc_heap_check(rc), 0);
    rc_heap_destroy(rc);
}

Test(bad_input, destroying_a_heap_with_live_cycles_releases_them)
{
    GcHeap *gc = gc_heap_new(NULL);
    cr_assert_not_null(gc);
    RcHeap *rc = gc_heap_rc(gc);
    for (int i = 0; i < 100; i++) {
        RcObject *o = rc_new(rc, &gt_link_type);
        cr_assert_not_null(o);
        ((GtLink *)rc_payload(o))->next = rc_newref(o);
        if (i % 2 == 0) {
            rc_decref(o); /* garbage */
        }
        /* the odd ones stay referenced: destroy must still free them */
    }
    gc_heap_destroy(gc); /* Valgrind: no leak */
}
