/* SPDX-License-Identifier: MIT */
/* refused.c - misuse of the collector that used to crash without a word.
 *
 *   destroy too early  gc_heap_destroy from a finalizer, a weakref
 *                      callback or a gc callback during gc_collect, or
 *                      from a finalizer run by an rc_decref cascade, is
 *                      refused with a message (RCGC_ERROR_MISUSE and
 *                      gc_error): the heap stays and the collection ends
 *                      normally (it used to be a use after free);
 *   NULL heaps         gc_collect, gc_get_count, gc_heap_rc and
 *                      gc_get_referents refuse them with a message;
 *   garbage list OOM   an uncollectable object that cannot be listed is
 *                      counted, stays tracked, and the next collection
 *                      lists it (as cyclegc.h says);
 *   resurrection       a frozen object that its finalizer resurrects
 *                      lands in generation 0 however it died (one rule);
 *   freed referent     debug builds: a collection that meets a freed
 *                      object through traverse stops with a message naming
 *                      it and its referrer (refused_death). */
#include "cyclegc/gcutil.h"
#include "common/errors.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

TestSuite(refused, .init = gt_setup, .fini = gt_teardown);

/* The destroy was refused with a message that names the reason. */
static void
expect_refused(const char *reason)
{
    cr_expect_eq(tc_err.n, 1, "messages: %d", tc_err.n);
    cr_expect_eq(tc_err.kind, RCGC_ERROR_MISUSE);
    cr_expect_not_null(
        strstr(tc_err.text, "cyclegc: gc_heap_destroy: heap 0x"), "%s",
        tc_err.text);
    cr_expect_not_null(strstr(tc_err.text, reason), "%s", tc_err.text);
    cr_expect_not_null(strstr(gc_error(gt_gc), "gc_heap_destroy: refused"));
    rcgc_register_error(NULL, NULL);
}

static void
destroy_heap_of(RcObject *op)
{
    gc_heap_destroy(gc_heap_of(op));
}

Test(refused, destroy_from_a_finalizer_during_collect)
{
    tc_record_errors();
    gt_fin_hook = destroy_heap_of;
    rc_decref(gt_ring(&gt_fin_type, 3));
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    cr_expect_eq(gt_count.finalizes, 3);
    cr_expect_eq(gt_count.deallocs, 3);
    cr_expect_eq(tc_err.n, 3, "one message per refused destroy");
    tc_err.n = 1;
    expect_refused("a collection of this heap is running");
    gt_check();
}

Test(refused, destroy_from_a_finalizer_in_a_decref_cascade)
{
    tc_record_errors();
    gt_fin_hook = destroy_heap_of;
    RcObject *parent = gt_new(&gt_node_type);
    RcObject *child = gt_new(&gt_fin_type);
    gt_link(parent, 0, child);
    rc_decref(child);
    rc_decref(parent); /* child's finalizer runs inside parent's dealloc */
    cr_expect_eq(gt_count.finalizes, 1);
    cr_expect_eq(gt_count.deallocs, 2);
    expect_refused("rc_decref is deallocating objects of this heap");
    gt_check();
}

static void
destroy_from_callback(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)phase;
    (void)info;
    (void)ctx;
    gc_heap_destroy(gc);
}

Test(refused, destroy_from_a_gc_callback)
{
    tc_record_errors();
    cr_assert_eq(gc_callback_add(gt_gc, destroy_from_callback, NULL), 0);
    rc_decref(gt_ring(&gt_node_type, 2));
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
    cr_expect_eq(tc_err.n, 2, "start and stop");
    tc_err.n = 1;
    expect_refused("a collection of this heap is running");
    cr_expect_eq(gc_callback_remove(gt_gc, destroy_from_callback, NULL), 0);
    gt_check();
}

static void
destroy_from_weakref(RcObject *wr, void *ctx)
{
    (void)wr;
    gc_heap_destroy(ctx);
}

Test(refused, destroy_from_a_weakref_callback_during_collect)
{
    tc_record_errors();
    RcObject *ring = gt_ring(&gt_node_type, 2);
    RcObject *wr =
        rc_weakref_new(gt_rc, ring, destroy_from_weakref, gt_gc, NULL);
    cr_assert_not_null(wr);
    rc_decref(ring);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    expect_refused("a collection of this heap is running");
    rc_decref(wr);
    gt_check();
}

/* Every other call that takes a GcHeap: the error value and one message
 * naming it (cyclegc.h: a NULL heap is refused, never dereferenced). */
Test(refused, every_call_refuses_a_null_heap)
{
    tc_record_errors();
    long t[GC_NGENERATIONS] = {1, 2, 3};
    GcGenStats st[GC_NGENERATIONS];
    GcEvent ev[1];
    RcObject *buf[1];
    int n = 0;
#define REFUSED(call, fn)                                                     \
    do {                                                                      \
        call;                                                                 \
        n++;                                                                  \
        cr_expect_eq(tc_err.n, n, "%s: no message", fn);                      \
        cr_expect_str_eq(tc_err.text, "cyclegc: " fn ": heap is NULL");       \
        cr_expect_eq(tc_err.kind, RCGC_ERROR_MISUSE);                         \
    } while (0)
    REFUSED(gc_enable(NULL), "gc_enable");
    REFUSED(gc_disable(NULL), "gc_disable");
    REFUSED(cr_expect_eq(gc_isenabled(NULL), 0), "gc_isenabled");
    REFUSED(gc_get_threshold(NULL, t), "gc_get_threshold");
    cr_expect_eq(t[0], 1, "left alone");
    REFUSED(cr_expect_eq(gc_set_threshold(NULL, 1, 1, 1), -1),
            "gc_set_threshold");
    REFUSED(gc_get_stats(NULL, st), "gc_get_stats");
    REFUSED(cr_expect_eq(gc_callback_add(NULL, NULL, NULL), -1),
            "gc_callback_add");
    REFUSED(cr_expect_eq(gc_callback_remove(NULL, NULL, NULL), -1),
            "gc_callback_remove");
    REFUSED(gc_freeze(NULL), "gc_freeze");
    REFUSED(gc_unfreeze(NULL), "gc_unfreeze");
    REFUSED(cr_expect_eq(gc_get_freeze_count(NULL), 0), "gc_get_freeze_count");
    REFUSED(cr_expect_eq(gc_garbage_count(NULL), 0), "gc_garbage_count");
    REFUSED(cr_expect_null(gc_garbage_get(NULL, 0)), "gc_garbage_get");
    REFUSED(gc_garbage_clear(NULL), "gc_garbage_clear");
    REFUSED(gc_set_debug(NULL, 0, NULL), "gc_set_debug");
    REFUSED(cr_expect_eq(gc_get_debug(NULL), 0), "gc_get_debug");
    REFUSED(cr_expect_eq(gc_events(NULL, ev, 1), 0), "gc_events");
    REFUSED(cr_expect_eq(gc_get_objects(NULL, 0, buf, 1), (size_t)-1),
            "gc_get_objects");
    REFUSED(cr_expect_eq(gc_get_referrers(NULL, buf, 1, buf, 1), (size_t)-1),
            "gc_get_referrers");
    REFUSED(cr_expect_eq(gc_why_alive(NULL, NULL, buf, 1), (size_t)-1),
            "gc_why_alive");
    REFUSED(cr_expect_eq(gc_set_pacing(NULL, GC_PACING_FIXED), -1),
            "gc_set_pacing");
    REFUSED(cr_expect_eq(gc_get_pacing(NULL), GC_PACING_FIXED),
            "gc_get_pacing");
    REFUSED(cr_expect_eq(gc_check(NULL), -1), "gc_check");
#undef REFUSED
    rcgc_register_error(NULL, NULL);
}

Test(refused, null_heaps_are_refused_with_a_message)
{
    tc_record_errors();
    cr_expect_eq(gc_collect(NULL, 0), -1);
    cr_expect_str_eq(tc_err.text, "cyclegc: gc_collect: heap is NULL");
    cr_expect_eq(tc_err.kind, RCGC_ERROR_MISUSE);
    long count[GC_NGENERATIONS] = {7, 7, 7};
    gc_get_count(NULL, count);
    cr_expect_str_eq(tc_err.text, "cyclegc: gc_get_count: heap is NULL");
    cr_expect_eq(count[0], 7, "left alone");
    cr_expect_null(gc_heap_rc(NULL));
    cr_expect_str_eq(tc_err.text, "cyclegc: gc_heap_rc: heap is NULL");
    RcObject *buf[2];
    cr_expect_eq(gc_get_referents(NULL, 3, buf, 2), (size_t)-1);
    cr_expect_str_eq(tc_err.text,
                     "cyclegc: gc_get_referents: objs is NULL with 3 entries");
    cr_expect_eq(tc_err.n, 4);
    gc_heap_destroy(NULL); /* a no-op, as documented */
    cr_expect_eq(tc_err.n, 4);
    rcgc_register_error(NULL, NULL);
    gt_check();
}

/* ---- out of memory for the garbage list (decided: cyclegc.h) -------- */

Test(refused, uncollectable_not_listed_for_lack_of_memory_is_listed_later)
{
    rc_decref(gt_ring(&gt_legacy_type, 2));
    OaHeap *oa = rc_heap_oa(gt_rc);
    oa_heap_fail_nth(oa, OA_FAIL_META, 1, 1); /* the list cannot grow */
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    oa_heap_fail_nth(oa, 0, 0, 0);
    cr_expect_eq(gt_stats(2).uncollectable, 2, "counted");
    cr_expect_eq(gc_garbage_count(gt_gc), 0, "not listed");
    cr_expect_str_eq(gc_error(gt_gc), "garbage list: out of memory");
    cr_expect_eq(gt_count.deallocs, 0, "still alive, still tracked");
    gt_check();
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(gc_garbage_count(gt_gc), 2, "listed by the next one");
    gt_check();
    for (size_t i = 0; i < gc_garbage_count(gt_gc); i++) {
        gt_link(gc_garbage_get(gt_gc, i), 0, NULL); /* break the cycle */
    }
    gc_garbage_clear(gt_gc);
}

/* ---- one rule for a resurrected frozen object ----------------------- */

Test(refused, resurrected_frozen_object_by_direct_decref_is_young)
{
    RcObject *op = gt_new(&gt_lazarus_type);
    gc_freeze(gt_gc);
    size_t frozen = gc_get_freeze_count(gt_gc);
    cr_expect_eq(frozen, 1);
    rc_decref(op); /* finalize resurrects it into gt_saved */
    cr_expect_eq(gt_count.resurrections, 1);
    cr_expect_eq(gc_get_freeze_count(gt_gc), frozen - 1);
    cr_expect(gt_in_generation(0, op), "in generation 0");
    gt_check();
}

Test(refused, resurrected_frozen_object_in_a_dealloc_is_young)
{
    RcObject *parent = gt_new(&gt_node_type);
    RcObject *child = gt_new(&gt_lazarus_type);
    gt_link(parent, 0, child);
    rc_decref(child);
    gc_freeze(gt_gc);
    size_t frozen = gc_get_freeze_count(gt_gc);
    rc_decref(parent); /* child dies inside parent's dealloc */
    cr_expect_eq(gt_count.resurrections, 1);
    cr_expect_eq(gc_get_freeze_count(gt_gc), frozen - 2);
    cr_expect(gt_in_generation(0, child), "in generation 0");
    gt_check();
}

#if defined(RCGC_DEBUG) && !defined(RCGC_ASAN)
/* (ASan stops this use after free first, with its own report.) */

/* A reference stored without its incref: the referent is freed while the
 * referrer still points at it. */
static void
collect_over_a_freed_referent(void)
{
    gt_setup();
    RcObject *holder = gt_new(&gt_node_type);
    RcObject *victim = gt_new(&gt_leaf_type);
    gt_node(holder)->slot[0] = victim; /* no rc_incref */
    rc_decref(victim);                 /* freed while referenced */
    gc_collect(gt_gc, 0);
}

Test(refused_death, freed_referent_aborts, .signal = SIGABRT)
{
    collect_over_a_freed_referent();
}

Test(refused_death, freed_referent_message_names_it_and_its_referrer)
{
    tc_expect_abort(collect_over_a_freed_referent,
                    "cyclegc: gc_collect: object 0x",
                    "(type 'gt_node') refers to 0x");
}

#endif
