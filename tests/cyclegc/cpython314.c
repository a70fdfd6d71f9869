/* SPDX-License-Identifier: MIT */
/* cpython314.c - CPython 3.14's order around finalizers, weakrefs and
 * the garbage list, restated from its own tests.
 *
 * Each test names the CPython test (Lib/test/test_finalization.py,
 * test_gc.py) whose expected values it checks.  The rules (garbage.c):
 * weakrefs with a callback to the garbage are cleared, and the callbacks
 * of those that survive run, before any finalizer; weakrefs without a
 * callback stay usable by the finalizers and are cleared after them, for
 * what is still garbage then, together with any weakref a finalizer made
 * (gh-135552, GH-136401); no code sees an object after its clear.  The
 * garbage list holds the owners of a legacy finalizer (everything with
 * DEBUG_SAVEALL); what they reach is uncollectable, counted, not listed.
 * gc_freeze sets every generation's count to 0. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(cpython314, .init = gt_setup, .fini = gt_teardown);

static int callbacks;

static void
count_callback(RcObject *wr, void *ctx)
{
    (void)wr;
    (void)ctx;
    callbacks++;
}

static RcObject *
weak(RcObject *target, int with_callback)
{
    RcObject *wr = rc_weakref_new(
        gt_rc, target, with_callback ? count_callback : NULL, NULL, NULL);
    cr_assert_not_null(wr);
    return wr;
}

/* ---- weakrefs and finalizers ---------------------------------------- */

/* Restates test_finalization SelfCycleFinalizationTest.test_simple_resurrect
 * (3.14): after the collection, wr() is not None ("This used to be None
 * because weakrefs were cleared before calling finalizers.  Now they are
 * cleared after."), wrc() is None (a weakref with a callback is still
 * cleared before); the second time, __del__ is not called and wr() is
 * None. */
Test(cpython314, self_cycle_resurrector_keeps_its_plain_weakref)
{
    gc_disable(gt_gc);
    RcObject *s = gt_new(&gt_lazarus_type);
    gt_link(s, 0, s);
    RcObject *wr = weak(s, 0);
    RcObject *wrc = weak(s, 1);
    rc_decref(s);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(gt_count.finalizes, 1);
    cr_assert_eq(gt_nsaved, 1);
    cr_expect_eq(rc_weakref_get(wr), s, "plain weakref cleared");
    cr_expect_null(rc_weakref_get(wrc));
    cr_expect_eq(callbacks, 1);
    gt_saved_clear();
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    cr_expect_eq(gt_count.finalizes, 1);
    cr_expect_eq(gt_nsaved, 0);
    cr_expect_null(rc_weakref_get(wr));
    cr_expect_eq(callbacks, 1);
    rc_decref(wr);
    rc_decref(wrc);
}

/* A doubly linked ring of n nodes of the given types (slot 0 -> right,
 * slot 1 -> left), as test_finalization's build_chain; fills nodes[]. */
static void
build_chain(const RcType *const *types, int n, RcObject **nodes)
{
    for (int i = 0; i < n; i++) {
        nodes[i] = gt_new(types[i]);
    }
    for (int i = 0; i < n; i++) {
        RcObject *left = nodes[(i + n - 1) % n];
        gt_link(nodes[i], 1, left);
        gt_link(left, 0, nodes[i]);
    }
}

/* Restates test_finalization CycleChainFinalizationTest
 * .test_heterogenous_resurrect_one (3.14 check_resurrecting_chain):
 * every wr() is not None after the collection, every wrc() is None. */
Test(cpython314, resurrecting_chain_keeps_plain_weakrefs)
{
    gc_disable(gt_gc);
    enum { N = 4 };
    const RcType *types[N] = {&gt_lazarus_type, &gt_fin_type, &gt_lazarus_type,
                              &gt_fin_type};
    RcObject *nodes[N], *wrs[N], *wrcs[N];
    build_chain(types, N, nodes);
    for (int i = 0; i < N; i++) {
        wrs[i] = weak(nodes[i], 0);
        wrcs[i] = weak(nodes[i], 1);
        rc_decref(nodes[i]);
    }
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(gt_count.finalizes, N);
    cr_expect_eq(gt_nsaved, 2);
    for (int i = 0; i < N; i++) {
        cr_expect_eq(rc_weakref_get(wrs[i]), nodes[i], "wrs[%d]", i);
        cr_expect_null(rc_weakref_get(wrcs[i]), "wrcs[%d]", i);
    }
    cr_expect_eq(callbacks, N);
    gt_saved_clear();
    cr_expect_eq(gc_collect(gt_gc, 2), N);
    cr_expect_eq(gt_count.finalizes, N, "__del__ called again");
    for (int i = 0; i < N; i++) {
        cr_expect_null(rc_weakref_get(wrs[i]), "wrs[%d]", i);
        rc_decref(wrs[i]);
        rc_decref(wrcs[i]);
    }
}

/* Restates test_finalization CycleChainFinalizationTest.test_homogenous
 * (check_non_resurrecting_chain): [wr() for wr in wrs] == [None] * N. */
Test(cpython314, non_resurrecting_chain_clears_every_weakref)
{
    gc_disable(gt_gc);
    enum { N = 3 };
    const RcType *types[N] = {&gt_fin_type, &gt_fin_type, &gt_fin_type};
    RcObject *nodes[N], *wrs[N];
    build_chain(types, N, nodes);
    for (int i = 0; i < N; i++) {
        wrs[i] = weak(nodes[i], 0);
        rc_decref(nodes[i]);
    }
    cr_expect_eq(gc_collect(gt_gc, 2), N);
    gt_check();
    cr_expect_eq(gt_count.finalizes, N);
    for (int i = 0; i < N; i++) {
        cr_expect_null(rc_weakref_get(wrs[i]), "wrs[%d]", i);
        rc_decref(wrs[i]);
    }
}

/* What the finalizer of `reader` saw through three weakrefs to `target`:
 * one that is garbage itself (in reader's slot 2), one held from outside
 * without a callback, one held from outside with a callback. */
static RcObject *reader, *target, *outside_plain, *outside_cb;
static RcObject *seen_inside, *seen_plain, *seen_cb;
static int target_intact;

static void
read_weakrefs(RcObject *op)
{
    if (op != reader) {
        return;
    }
    seen_inside = rc_weakref_get(gt_node(op)->slot[2]);
    seen_plain = rc_weakref_get(outside_plain);
    seen_cb = rc_weakref_get(outside_cb);
    target_intact = seen_inside != NULL && gt_intact(seen_inside) &&
                    gt_node(seen_inside)->slot[0] == op;
}

/* Restates the rule of gh-135552 that test_gc test_datetime_weakref_cycle
 * (gh-132413) depends on: a finalizer may use a weakref without a
 * callback to other garbage - one in the garbage cycle too - and gets the
 * object, intact; a weakref with a callback is already cleared then. */
Test(cpython314, finalizer_reads_plain_weakrefs_to_other_garbage)
{
    gc_disable(gt_gc);
    reader = gt_new(&gt_fin_type);
    target = gt_new(&gt_node_type);
    gt_link(reader, 0, target);
    gt_link(target, 0, reader);
    RcObject *inside = weak(target, 0);
    gt_link(reader, 2, inside); /* the weakref is garbage as well */
    rc_decref(inside);
    outside_plain = weak(target, 0);
    outside_cb = weak(target, 1);
    gt_fin_hook = read_weakrefs;
    rc_decref(target);
    rc_decref(reader);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
    cr_expect_eq(seen_inside, target);
    cr_expect(target_intact);
    cr_expect_eq(seen_plain, target);
    cr_expect_null(seen_cb);
    cr_expect_eq(callbacks, 1);
    cr_expect_null(rc_weakref_get(outside_plain));
    cr_expect_eq(rc_live_total(gt_rc), 2); /* the two outside weakrefs */
    rc_decref(outside_plain);
    rc_decref(outside_cb);
}

/* test_gc test_function_tp_clear_leaves_consistent_state (gh-91636):
 * cyc <-> func is garbage; latefin is held by a global and by cyc.  cyc's
 * finalizer stores a weakref to func in latefin and drops the global;
 * clearing func frees cyc, which frees latefin, whose finalizer reads the
 * weakref: it must be None (func had its clear). */
static RcObject *func, *latefin, *latefin_global, *func_seen;
static int latefin_ran;

static void
late_hooks(RcObject *op)
{
    if (op == latefin) { /* 8. */
        latefin_ran = 1;
        func_seen = rc_weakref_get(gt_node(op)->slot[0]);
    }
    else if (gt_node(op)->slot[1] == latefin) { /* 5, 6: cyc */
        RcObject *wr = weak(gt_node(op)->slot[0], 0);
        gt_link(latefin, 0, wr);
        rc_decref(wr);
        RcObject *g = latefin_global;
        latefin_global = NULL;
        rc_decref(g);
    }
}

Test(cpython314, weakref_made_by_a_finalizer_is_cleared_before_clear)
{
    gc_disable(gt_gc);
    gt_fin_hook = late_hooks;
    latefin = gt_new(&gt_fin_type);
    latefin_global = latefin;
    func = gt_new(&gt_node_type);
    RcObject *cyc = gt_new(&gt_fin_type);
    gt_link(cyc, 0, func);
    gt_link(cyc, 1, latefin);
    gt_link(func, 0, cyc); /* 1. */
    rc_decref(func);       /* 2. */
    rc_decref(cyc);
    cr_expect_eq(gc_collect(gt_gc, 2), 2); /* 3. */
    gt_check();
    cr_expect(latefin_ran);
    cr_expect_null(func_seen, "func=None: the weakref was cleared");
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

/* A weakref that a finalizer makes to an object the same finalizer
 * resurrects is not cleared: only what stays garbage loses its weakrefs
 * (CPython's clear_weakrefs walks the final unreachable set). */
static RcObject *made;

static void
weak_to_self_and_resurrect(RcObject *op)
{
    made = weak(op, 0);
    gt_save(op);
}

Test(cpython314, weakref_made_by_a_finalizer_to_a_survivor_stays)
{
    gc_disable(gt_gc);
    gt_fin_hook = weak_to_self_and_resurrect;
    RcObject *z = gt_new(&gt_fin_type);
    gt_link(z, 0, z);
    rc_decref(z);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(gt_nsaved, 1);
    cr_expect_eq(rc_weakref_get(made), z);
    gt_fin_hook = NULL;
    gt_saved_clear();
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    cr_expect_null(rc_weakref_get(made));
    rc_decref(made);
}

/* ---- the garbage list ----------------------------------------------- */

/* Restates test_gc test_legacy_finalizer: a tp_del object `a` in a cycle
 * with the plain object it reaches (its __dict__ in CPython): collect()
 * counts both (2, both uncollectable), gc.garbage lists only a. */
Test(cpython314, garbage_lists_only_the_owner_of_the_legacy_finalizer)
{
    gc_disable(gt_gc);
    RcObject *a = gt_new(&gt_legacy_type);
    RcObject *d = gt_new(&gt_node_type);
    gt_link(a, 0, d);
    gt_link(d, 0, a);
    rc_decref(d);
    rc_decref(a);
    GcGenStats s0 = gt_stats(2);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    GcGenStats s1 = gt_stats(2);
    gt_check();
    cr_expect_eq(s1.uncollectable - s0.uncollectable, 2);
    cr_expect_eq(s1.collected - s0.collected, 0);
    cr_expect_eq(gc_garbage_count(gt_gc), 1);
    cr_expect(gt_in_garbage(a));
    cr_expect(gt_intact(d) && gt_node(a)->slot[0] == d);
    /* as the test does: del obj.a, then drop gc.garbage's reference */
    gt_link(a, 0, NULL);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gt_count.legacy_dels, 1);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

/* The same with DEBUG_SAVEALL: CPython's handle_legacy_finalizers lists
 * every object of the set aside. */
Test(cpython314, saveall_lists_everything_set_aside)
{
    gc_disable(gt_gc);
    gc_set_debug(gt_gc, GC_DEBUG_SAVEALL, NULL);
    RcObject *a = gt_new(&gt_legacy_type);
    RcObject *d = gt_new(&gt_node_type);
    gt_link(a, 0, d);
    gt_link(d, 0, a);
    rc_decref(d);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(gc_garbage_count(gt_gc), 2);
    cr_expect(gt_in_garbage(a) && gt_in_garbage(d));
    gc_set_debug(gt_gc, 0, NULL);
    gt_link(a, 0, NULL);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

/* Restates test_finalization LegacyFinalizationTest.test_legacy_self_cycle:
 * gc.garbage == [s], no finalizer ran, wr() is not None (weakrefs to the
 * uncollectable are left alone); once the cycle is broken by hand and the
 * list cleared, wr() is None. */
Test(cpython314, legacy_self_cycle_is_listed_and_its_weakref_kept)
{
    gc_disable(gt_gc);
    RcObject *s = gt_new(&gt_legacy_type);
    gt_link(s, 0, s);
    RcObject *wr = weak(s, 0);
    rc_decref(s);
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
    cr_expect_eq(gc_garbage_count(gt_gc), 1);
    cr_expect(gt_in_garbage(s));
    cr_expect_eq(gt_count.legacy_dels, 0);
    cr_expect_eq(rc_weakref_get(wr), s);
    gt_link(gc_garbage_get(gt_gc, 0), 0, NULL); /* garbage[0].ref = None */
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gc_garbage_count(gt_gc), 0);
    cr_expect_null(rc_weakref_get(wr));
    rc_decref(wr);
}

/* ---- freeze --------------------------------------------------------- */

/* Restates test_gc test_collect_generations ((b, c) == (1, 0) after
 * collect(0)) followed by gc.freeze(), which sets all three counts to 0
 * (CPython's _PyGC_Freeze): (x, 1, 0) -> (0, 0, 0). */
Test(cpython314, freeze_sets_every_count_to_zero)
{
    gc_disable(gt_gc);
    RcObject *x = gt_new(&gt_node_type);
    cr_expect_eq(gc_collect(gt_gc, 0), 0);
    long c[GC_NGENERATIONS];
    gc_get_count(gt_gc, c);
    cr_expect_eq(c[1], 1);
    cr_expect_eq(c[2], 0);
    RcObject *y = gt_new(&gt_node_type);
    gc_get_count(gt_gc, c);
    cr_expect_gt(c[0], 0);
    gc_freeze(gt_gc);
    gc_get_count(gt_gc, c);
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        cr_expect_eq(c[g], 0, "generation %d count %ld", g, c[g]);
    }
    gc_unfreeze(gt_gc);
    rc_decref(x);
    rc_decref(y);
}

/* ---- resurrection by a weakref callback ----------------------------- */

/* A garbage weakref stays attached until step 5, so it calls back if its
 * target, outside the garbage, dies earlier - here because the callback
 * of another weakref (step 2) drops that target's last reference.  Its
 * callback can reach the garbage and resurrect it; CPython always redoes
 * the reachability after user code ran (handle_resurrected_objects), and
 * so does rcgc when a callback ran: g survives intact, not cleared. */
static RcObject *t_ref;

static void
resurrect_ctx(RcObject *wr, void *ctx)
{
    (void)wr;
    gt_save(ctx);
}

static void
drop_t(RcObject *wr, void *ctx)
{
    (void)wr;
    (void)ctx;
    RcObject *t = t_ref;
    t_ref = NULL;
    rc_decref(t);
}

Test(cpython314, garbage_resurrected_by_a_weakref_callback_is_not_cleared)
{
    gc_disable(gt_gc);
    t_ref = gt_new(&gt_node_type);
    RcObject *g = gt_new(&gt_node_type);
    gt_link(g, 0, g);
    RcObject *w = rc_weakref_new(gt_rc, t_ref, resurrect_ctx, g, NULL);
    cr_assert_not_null(w);
    gt_link(g, 1, w); /* w is garbage with g */
    rc_decref(w);
    RcObject *x = gt_new(&gt_node_type);
    gt_link(x, 0, x);
    RcObject *xw = rc_weakref_new(gt_rc, x, drop_t, NULL, NULL);
    cr_assert_not_null(xw);
    rc_decref(g);
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 2), 1); /* x; g came back */
    gt_check();
    cr_assert_eq(gt_nsaved, 1);
    cr_expect_eq(gt_saved[0], g);
    cr_expect_eq(gt_node(g)->slot[0], g, "resurrected g was cleared");
    cr_expect(gt_intact(g));
    cr_expect_null(rc_weakref_get(gt_node(g)->slot[1]));
    rc_decref(xw);
}
