/* SPDX-License-Identifier: MIT */
/* checkpoint.c - checked builds end each mutating call of refcount with
 * the heap's checkpoint (base/base.h): a broken invariant of refcount's
 * own structures, here an object's weakref flag cleared by a stray write,
 * is caught by a later call (within the budget of calls), with the check's
 * message and one naming the call and the heap, then abort.  The suite
 * ends in _death: it corrupts the heap on purpose (Valgrind skips it). */
#include "helpers.h"

#include <criterion/criterion.h>
#include <signal.h>

#if defined(RCGC_CHECKED)

static void
weakref_flag_scribbled(void)
{
    heap = rc_heap_new(NULL);
    RcObject *target = new_pair(NULL, NULL);
    RcObject *wr = rc_weakref_new(heap, target, NULL, NULL, NULL);
    (void)wr;
    target->flags &= ~RC_OBJ_HAS_WEAKREFS; /* a stray write */
    for (int i = 0; i < 100000; i++) {
        rc_incref(target);
        rc_decref(target);
    }
}

Test(checkpoint_death, a_broken_weakref_list_stops_a_later_call,
     .signal = SIGABRT)
{
    weakref_flag_scribbled();
}

Test(checkpoint_message_death, a_broken_weakref_list_is_named)
{
    tc_expect_abort(weakref_flag_scribbled,
                    "refcount: rc_heap_check: object 0x",
                    "the heap is broken at the end of this call");
}

#endif /* RCGC_CHECKED */
