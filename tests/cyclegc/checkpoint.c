/* SPDX-License-Identifier: MIT */
/* checkpoint.c - checked builds end each mutating call of the collector
 * with the heap's checkpoint (base/base.h): a list link scribbled by the
 * test is caught by the next call that touches the object (its O(1) link
 * check) or by a later call (gc_check, within the budget of calls), with
 * a message naming the call, the heap and what is broken, then abort.
 * The suite ends in _death: it corrupts the heap on purpose (Valgrind
 * skips it). */
#include "gcutil.h"

#include "refcount/refcount.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>

#if defined(RCGC_CHECKED)

/* x, y, z join generation 0 in that order; y's prev link (x) is made to
 * point at z, as a stray write would. */
static RcObject *
scribble_middle_link(void)
{
    gt_setup();
    RcObject *x = gt_new(&gt_node_type);
    RcObject *y = gt_new(&gt_node_type);
    RcObject *z = gt_new(&gt_node_type);
    (void)x;
    rc_gc_head(y)->prev = (uintptr_t)rc_gc_head(z);
    return y;
}

static void
link_scribbled_then_touched(void)
{
    RcObject *y = scribble_middle_link();
    gc_bytes_acquire(y, 100);
}

static void
link_scribbled_then_churn(void)
{
    scribble_middle_link();
    gc_disable(gt_gc); /* the damage must be found by a check, not a pass */
    for (int i = 0; i < 100000; i++) {
        rc_decref(gt_new(&gt_node_type));
    }
}

Test(checkpoint_death, the_next_call_on_an_object_checks_its_links,
     .signal = SIGABRT)
{
    link_scribbled_then_touched();
}

Test(checkpoint_message_death, damaged_links_of_the_object_are_named)
{
    tc_expect_abort(link_scribbled_then_touched,
                    "cyclegc: gc_bytes_acquire: heap 0x",
                    ": list links damaged (next 0x");
}

Test(checkpoint_death, a_later_call_checks_every_list, .signal = SIGABRT)
{
    link_scribbled_then_churn();
}

Test(checkpoint_message_death, a_damaged_list_is_named)
{
    tc_expect_abort(link_scribbled_then_churn,
                    "cyclegc: gc_check: generation 0: object 0x",
                    "the heap is broken at the end of this call");
}

#endif /* RCGC_CHECKED */
