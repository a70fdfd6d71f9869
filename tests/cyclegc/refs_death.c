/* SPDX-License-Identifier: MIT */
/* refs_death.c - a count lower than the references held on an object.
 *
 * Restates test_gc test_refcount_errors: `a` is referenced twice by `b`,
 * both in the collected set, but its count says 1 (one incref missing,
 * the count kept above zero so that nothing frees it at once).  CPython's
 * debug build stops in gc_decref with "refcount is too small" and dumps
 * the object (address, refcount 1, type name list).  rcgc's debug build
 * stops when the collection subtracts the second internal reference,
 * with one line naming the object, its count and its type:
 *
 *   cyclegc: gc_collect: object 0x...: refcount is too small: count 1,
 *   but the collected objects hold more references to it (type 'gt_node')
 *
 * The suite is _death (it aborts on purpose; skipped under Valgrind).
 * Release builds do not check: the count is trusted, so the collection
 * may free `a` while references remain (see README, Bad input). */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#ifdef RCGC_DEBUG

TestSuite(refs_death, .init = gt_setup);

/* test_refcount_errors (3.14): a = [1, 2, 3]; b = [a, a]; a.append(b);
 * one Py_DecRef(a) too many; del a, b.  a's count is then 1 while b holds
 * two references to it. */
static void
count_one_short(void)
{
    RcObject *a = gt_new(&gt_node_type);
    RcObject *b = gt_new(&gt_node_type);
    gt_link(b, 0, a);
    gt_link(b, 1, a);
    gt_link(a, 0, b);
    a->refcnt--;  /* ctypes.pythonapi.Py_DecRef(ctypes.py_object(a)) */
    rc_decref(a); /* del a: count 1, two references from b */
    rc_decref(b); /* del b */
}

/* A full collection (gc_refs counted on first touch, reach.c `all`). */
static void
count_one_short_then_collect(void)
{
    count_one_short();
    gc_collect(gt_gc, 2);
}

/* A young collection (gc_refs set by update_refs first). */
static void
count_one_short_then_collect_young(void)
{
    count_one_short();
    gc_collect(gt_gc, 0);
}

Test(refs_death, too_small_count_aborts_naming_object_count_and_type)
{
    char buf[1024];
    int status = tc_run_child(count_one_short_then_collect, buf, sizeof buf);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "the child must abort (status %#x)", status);
    void *addr = NULL;
    unsigned count = 0;
    char type[64] = "";
    int got = sscanf(buf,
                     "cyclegc: gc_collect: object %p: refcount is too small: "
                     "count %u, but the collected objects hold more "
                     "references to it (type '%63[^']')",
                     &addr, &count, type);
    cr_expect_eq(got, 3, "message: %s", buf);
    cr_expect_neq(addr, NULL);
    cr_expect_eq(count, 1);
    cr_expect_str_eq(type, "gt_node");
}

Test(refs_death, too_small_count_in_a_young_collection_aborts)
{
    tc_expect_abort(count_one_short_then_collect_young,
                    "refcount is too small", "(type 'gt_node')");
}

#endif
