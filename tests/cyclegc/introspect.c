/* SPDX-License-Identifier: MIT */
/* introspect.c - questions about the object graph: is_tracked, track and
 * untrack, get_referents, get_referrers, and gc_why_alive.
 *
 * As Python's gc.get_referents (what traverse visits, non-GC referents
 * included; nothing for a non-GC object) and gc.get_referrers (the
 * tracked objects that refer to any of the targets, each listed once).
 * gc_why_alive returns a shortest path root -> ... -> target where the
 * root is referenced from outside the tracked graph; cyclic garbage has
 * no such path. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(introspect, .init = gt_setup, .fini = gt_teardown);

static size_t
occurrences(RcObject *const *buf, size_t n, const RcObject *op)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += buf[i] == op;
    }
    return k;
}

Test(introspect, tracking_follows_the_type)
{
    RcObject *n = gt_new(&gt_node_type);
    RcObject *u = gt_new(&gt_untracked_type);
    RcObject *leaf = gt_new(&gt_leaf_type);
    RcObject *wr = rc_weakref_new(gt_rc, n, NULL, NULL, NULL);
    cr_assert_not_null(wr);
    cr_expect(gc_is_tracked(n));
    cr_expect_not(gc_is_tracked(u));
    cr_expect_not(gc_is_tracked(leaf));
    cr_expect(gc_is_tracked(wr));
    cr_expect_eq(gc_heap_of(n), gt_gc);
    cr_expect_eq(gc_heap_of(leaf), gt_gc);
    rc_decref(wr);
    rc_decref(n);
    rc_decref(u);
    rc_decref(leaf);
    gt_check();
}

Test(introspect, untrack_and_track_again)
{
    RcObject *n = gt_new(&gt_node_type);
    cr_expect_eq(gc_untrack(n), 0);
    cr_expect_not(gc_is_tracked(n));
    cr_expect_not(gt_in_generation(-1, n));
    gt_check();
    cr_expect_eq(gc_track(n), 0);
    cr_expect(gc_is_tracked(n));
    cr_expect(gt_in_generation(0, n));
    gt_check();
    cr_expect_eq(gc_untrack(n), 0);
    rc_decref(n); /* an untracked object dies normally */
    gt_check();
}

Test(introspect, untracked_object_can_die_by_count_and_be_freed)
{
    RcObject *u = gt_new(&gt_untracked_type);
    RcObject *n = gt_new(&gt_node_type);
    gt_link(u, 0, n);
    rc_decref(n);
    rc_decref(u);
    cr_expect_eq(gt_count.deallocs, 2);
    gt_check();
}

Test(introspect, referents_are_what_traverse_visits)
{
    RcObject *a = gt_new(&gt_node_type);
    RcObject *b = gt_new(&gt_node_type);
    RcObject *c = gt_new(&gt_untracked_type);
    RcObject *leaf = gt_new(&gt_leaf_type);
    gt_link(a, 0, b);
    gt_link(a, 1, c);
    gt_link(a, 3, leaf);
    gt_link(b, 0, c);
    RcObject *buf[16];
    RcObject *objs[2] = {a, b};
    size_t n = gc_get_referents(objs, 1, buf, 16);
    cr_expect_eq(n, 3);
    cr_expect(gt_in(buf, n, b) && gt_in(buf, n, c) && gt_in(buf, n, leaf));
    n = gc_get_referents(objs, 2, buf, 16);
    cr_expect_eq(n, 4);
    cr_expect_eq(occurrences(buf, n, c), 2);
    cr_expect_eq(gc_get_referents(objs, 2, buf, 1), 4, "total beyond cap");
    RcObject *leaves[1] = {leaf};
    cr_expect_eq(gc_get_referents(leaves, 1, buf, 16), 0);
    cr_expect_eq(gc_get_referents(objs, 0, buf, 16), 0);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(leaf);
    gt_check();
}

Test(introspect, referrers_are_tracked_objects_listed_once)
{
    gc_disable(gt_gc);
    RcObject *a = gt_new(&gt_node_type);
    RcObject *d = gt_new(&gt_node_type);
    RcObject *u = gt_new(&gt_untracked_type);
    RcObject *b = gt_new(&gt_node_type);
    RcObject *c = gt_new(&gt_node_type);
    RcObject *other = gt_new(&gt_node_type);
    gt_link(a, 0, b);
    gt_link(a, 1, c);
    gt_link(a, 2, b);
    gt_link(d, 0, b);
    gt_link(u, 0, b);
    gt_link(other, 0, other);
    gc_collect(gt_gc, 0); /* referrers in two generations */
    RcObject *e = gt_new(&gt_node_type);
    gt_link(e, 3, c);
    RcObject *buf[16];
    RcObject *tb[1] = {b};
    size_t n = gc_get_referrers(gt_gc, tb, 1, buf, 16);
    cr_expect_eq(n, 2);
    cr_expect_eq(occurrences(buf, n, a), 1);
    cr_expect_eq(occurrences(buf, n, d), 1);
    RcObject *tbc[2] = {b, c};
    n = gc_get_referrers(gt_gc, tbc, 2, buf, 16);
    cr_expect_eq(n, 3);
    cr_expect_eq(occurrences(buf, n, a), 1);
    cr_expect(gt_in(buf, n, d) && gt_in(buf, n, e));
    cr_expect_eq(gc_get_referrers(gt_gc, tbc, 2, buf, 1), 3);
    RcObject *to[1] = {other};
    n = gc_get_referrers(gt_gc, to, 1, buf, 16);
    cr_expect_eq(n, 1);
    cr_expect_eq(buf[0], other);
    gt_check();
    RcObject *all[] = {a, d, u, b, c, other, e};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        rc_decref(all[i]);
    }
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
}

Test(introspect, why_alive_of_a_held_object_is_itself)
{
    RcObject *a = gt_new(&gt_node_type);
    RcObject *path[4] = {0};
    cr_expect_eq(gc_why_alive(gt_gc, a, path, 4), 1);
    cr_expect_eq(path[0], a);
    rc_decref(a);
    gt_check();
}

Test(introspect, why_alive_follows_the_chain_from_the_root)
{
    RcObject *r = gt_new(&gt_node_type);
    RcObject *a = gt_new(&gt_node_type);
    RcObject *b = gt_new(&gt_node_type);
    RcObject *c = gt_new(&gt_node_type);
    gt_link(r, 0, a);
    gt_link(a, 1, b);
    gt_link(b, 2, c);
    gt_link(c, 0, a); /* a cycle on the way */
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    RcObject *path[8] = {0};
    cr_expect_eq(gc_why_alive(gt_gc, c, path, 8), 4);
    cr_expect_eq(path[0], r);
    cr_expect_eq(path[1], a);
    cr_expect_eq(path[2], b);
    cr_expect_eq(path[3], c);
    RcObject *small[2] = {0};
    cr_expect_eq(gc_why_alive(gt_gc, c, small, 2), 4, "length beyond cap");
    cr_expect_eq(small[0], r);
    cr_expect_eq(small[1], a);
    gt_check();
    cr_expect_eq(gc_collect(gt_gc, 2), 0, "why_alive disturbed the heap");
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
}

Test(introspect, why_alive_takes_the_shortest_path)
{
    gc_disable(gt_gc);
    RcObject *r = gt_new(&gt_node_type);
    RcObject *s = gt_new(&gt_node_type);
    RcObject *a = gt_new(&gt_node_type);
    RcObject *b = gt_new(&gt_node_type);
    RcObject *t = gt_new(&gt_node_type);
    gt_link(r, 0, a);
    gt_link(a, 0, b);
    gt_link(b, 0, t);
    gt_link(s, 0, t);
    gc_collect(gt_gc, 1); /* path across generations */
    rc_decref(a);
    rc_decref(b);
    rc_decref(t);
    RcObject *path[8] = {0};
    cr_expect_eq(gc_why_alive(gt_gc, t, path, 8), 2);
    cr_expect_eq(path[0], s);
    cr_expect_eq(path[1], t);
    rc_decref(s);
    cr_expect_eq(gc_why_alive(gt_gc, t, path, 8), 4);
    cr_expect_eq(path[0], r);
    rc_decref(r);
    gt_check();
}

Test(introspect, why_alive_of_cyclic_garbage_is_no_path)
{
    RcObject *g = gt_ring(&gt_node_type, 3);
    RcObject *t = gt_node(gt_node(g)->slot[0])->slot[0];
    rc_decref(g);
    RcObject *path[8] = {0};
    cr_expect_eq(gc_why_alive(gt_gc, t, path, 8), 0);
    gt_check();
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
}

Test(introspect, why_alive_ignores_references_from_garbage)
{
    RcObject *r = gt_new(&gt_node_type);
    RcObject *t = gt_new(&gt_node_type);
    RcObject *g = gt_ring(&gt_node_type, 2);
    gt_link(g, 1, t);
    gt_link(r, 0, t);
    rc_decref(t);
    rc_decref(g);
    RcObject *path[8] = {0};
    cr_expect_eq(gc_why_alive(gt_gc, t, path, 8), 2);
    cr_expect_eq(path[0], r);
    gt_link(r, 0, NULL);
    cr_expect_eq(gc_why_alive(gt_gc, t, path, 8), 0);
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
}

Test(introspect, reference_from_untracked_object_makes_a_root)
{
    RcObject *u = gt_new(&gt_untracked_type);
    RcObject *a = gt_new(&gt_node_type);
    RcObject *b = gt_new(&gt_node_type);
    gt_link(u, 0, a);
    gt_link(a, 0, b);
    rc_decref(a);
    rc_decref(b);
    RcObject *path[8] = {0};
    cr_expect_eq(gc_why_alive(gt_gc, b, path, 8), 2);
    cr_expect_eq(path[0], a);
    cr_expect_eq(path[1], b);
    rc_decref(u);
    gt_check();
}

Test(introspect, is_finalized_reports_the_finalizer_ran)
{
    RcObject *f = gt_new(&gt_fin_type);
    cr_expect_not(gc_is_finalized(f));
    gt_link(f, 0, f);
    gt_fin_hook = gt_save;
    rc_decref(f);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(gt_nsaved, 1);
    cr_expect(gc_is_finalized(f));
    gt_fin_hook = NULL;
    gt_saved_clear();
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
}
