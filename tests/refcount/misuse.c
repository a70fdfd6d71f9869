/* SPDX-License-Identifier: MIT */
/* misuse.c - bad incref/decref is caught.
 *
 * Debug builds abort with a message naming the object, the check and the
 * type: decref of a zero count, use of a freed object (objalloc's 0xDD
 * fill), a type pointer that is not a type descriptor, NULL.  The tests
 * that abort are in *_death suites (skipped under Valgrind): one set
 * checks the signal with criterion's .signal, the other forks, captures
 * the child's stderr and checks the message text.  Debug builds also
 * catch an object that references an object of another heap.
 * Release builds check nothing in rc_incref/rc_decref; a decref of a zero
 * count wraps to RC_IMMORTAL, so the object leaks instead of being freed
 * twice (tested below for release builds). */
#include "refcount/helpers.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#ifdef RCGC_DEBUG

static const RcType not_a_type = {.magic = 0xbadc0de, .name = "liar"};

static RcObject *victim;

static void
decref_zero_count(void)
{
    victim = rc_new(heap, &pair_type);
    victim->refcnt = 0; /* one decref too many */
    rc_decref(victim);
}

static void
incref_fill_pattern(void)
{
    /* What objalloc's debug build leaves in a freed block. */
    victim = rc_new(heap, &leaf_type);
    memset(victim, 0xDD, sizeof(RcObject));
    rc_incref(victim);
}

static void
decref_bad_type(void)
{
    victim = rc_new(heap, &leaf_type);
    victim->type = &not_a_type;
    rc_decref(victim);
}

static void
incref_null(void)
{
    rc_incref_checked(NULL);
}

#ifndef RCGC_ASAN
/* A real use after free (ASan would stop this first, by design). */
static void
decref_freed(void)
{
    victim = new_pair(NULL, NULL);
    rc_decref(victim);
    rc_decref(victim);
}
#endif

TestSuite(misuse_death, .init = rc_test_setup);

Test(misuse_death, decref_of_zero_count_aborts, .signal = SIGABRT)
{
    decref_zero_count();
}

Test(misuse_death, freed_fill_pattern_aborts, .signal = SIGABRT)
{
    incref_fill_pattern();
}

Test(misuse_death, type_pointer_that_is_not_a_type_aborts, .signal = SIGABRT)
{
    decref_bad_type();
}

Test(misuse_death, null_object_aborts, .signal = SIGABRT)
{
    incref_null();
}

Test(misuse_death, reference_into_another_heap_aborts, .signal = SIGABRT)
{
    RcHeap *other = rc_heap_new(NULL);
    RcObject *foreign = rc_new(other, &leaf_type);
    RcObject *p = new_pair(foreign, NULL);
    rc_decref(p); /* the default dealloc finds a child of another heap */
}

#ifndef RCGC_ASAN
Test(misuse_death, decref_of_freed_object_aborts, .signal = SIGABRT)
{
    decref_freed();
}
#endif

/* Run fn in a child; expect SIGABRT and a stderr message matching the
 * printf-built `want` (with %p of the object the child made: the child
 * makes it at the same address the parent would, so the parent passes
 * the prediction in via victim after the fact). */
static void
expect_message(void (*fn)(void), const char *want_fmt, int with_addr)
{
    char buf[1024];
    int status = tc_run_child(fn, buf, sizeof buf);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "the child must abort (status %#x)", status);
    /* The child's object sits where the parent's next object will. */
    RcObject *same = rc_new(
        heap, fn == decref_bad_type || fn == incref_fill_pattern ? &leaf_type
                                                                 : &pair_type);
    char want[512];
    if (with_addr) {
        snprintf(want, sizeof(want), want_fmt, (void *)same);
    }
    else {
        snprintf(want, sizeof(want), "%s", want_fmt);
    }
    cr_expect_str_eq(buf, want);
    rc_decref(same);
}

TestSuite(message_death, .init = rc_test_setup, .fini = rc_test_teardown);

Test(message_death, decref_of_zero_count_names_object_check_and_type)
{
    expect_message(decref_zero_count,
                   "refcount: rc_decref: object %p: count is already 0 "
                   "(type 'pair')\n",
                   1);
}

Test(message_death, freed_object_names_the_fill)
{
    expect_message(incref_fill_pattern,
                   "refcount: rc_incref: object %p: use of a freed object "
                   "(count 0xdddddddd, type pointer 0xdddddddddddddddd: "
                   "objalloc's freed-block fill 0xdd)\n",
                   1);
}

Test(message_death, bad_type_pointer_names_the_pointer)
{
    char fmt[256];
    snprintf(fmt, sizeof(fmt),
             "refcount: rc_decref: object %%p: type pointer %p is not a "
             "type descriptor (bad magic)\n",
             (const void *)&not_a_type);
    expect_message(decref_bad_type, fmt, 1);
}

Test(message_death, null_object_is_named)
{
    expect_message(incref_null,
                   "refcount: rc_incref: object (nil): NULL object\n", 0);
}

#else /* release builds */

TestSuite(misuse, .init = rc_test_setup, .fini = rc_test_teardown);

Test(misuse, release_decref_of_zero_count_leaks_instead_of_double_free)
{
    RcObject *op = rc_new(heap, &leaf_type);
    op->refcnt = 0;
    rc_decref(op);
    cr_expect(rc_is_immortal(op), "wrapped to the immortal count");
    op->refcnt = 0;
    rc_zero(op);
}

#endif
