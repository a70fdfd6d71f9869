/* SPDX-License-Identifier: MIT */
/* impl_helpers.h - fixtures of the collector engineer's own tests
 * (tests/cyclegc/impl_*.c).  Everything is static: these files share one
 * binary with the behaviour suite and must not clash with its names.
 *
 * A node is a 2-slot node (common/slots.h) with a tag; its type may count
 * finalize / legacy_del calls and resurrect through a global slot. */
#ifndef RCGC_TESTS_CYCLEGC_IMPL_HELPERS_H
#define RCGC_TESTS_CYCLEGC_IMPL_HELPERS_H

#include "common/slots.h"
#include "common/testutil.h"
#include "cyclegc/cyclegc.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#define IMPL_UNUSED __attribute__((unused))

typedef struct ImplNode {
    RcObject *slot[2];
    long tag;
} ImplNode;

static inline ImplNode *
impl_node(RcObject *op)
{
    return (ImplNode *)rc_payload(op);
}

IMPL_UNUSED static long impl_finalized;    /* finalize calls */
IMPL_UNUSED static long impl_legacy_calls; /* legacy_del calls */
IMPL_UNUSED static RcObject
    *impl_resurrect_slot; /* finalize stores itself here */
IMPL_UNUSED static GcHeap *impl_gc;

IMPL_UNUSED static void
impl_finalize_count(RcObject *op)
{
    (void)op;
    impl_finalized++;
}

IMPL_UNUSED static void
impl_finalize_resurrect(RcObject *op)
{
    impl_finalized++;
    if (impl_resurrect_slot == NULL) {
        impl_resurrect_slot = rc_newref(op);
    }
}

IMPL_UNUSED static void
impl_legacy(RcObject *op)
{
    (void)op;
    impl_legacy_calls++;
}

IMPL_UNUSED static const RcType impl_node_type = {
    TC_NODE_TYPE("impl_node", RC_TYPE_GC, sizeof(ImplNode), 2),
};

IMPL_UNUSED static const RcType impl_fin_type = {
    TC_NODE_TYPE("impl_fin", RC_TYPE_GC, sizeof(ImplNode), 2),
    .finalize = impl_finalize_count,
};

IMPL_UNUSED static const RcType impl_res_type = {
    TC_NODE_TYPE("impl_res", RC_TYPE_GC, sizeof(ImplNode), 2),
    .finalize = impl_finalize_resurrect,
};

IMPL_UNUSED static const RcType impl_legacy_type = {
    TC_NODE_TYPE("impl_legacy", RC_TYPE_GC, sizeof(ImplNode), 2),
    .legacy_del = impl_legacy,
};

IMPL_UNUSED static const RcType impl_leaf_type = {
    RC_TYPE_HEAD("impl_leaf", 0),
    .size = 16,
};

static inline RcObject *
impl_new(const RcType *t)
{
    return tc_new(gc_heap_rc(impl_gc), t);
}

/* slot = value, with a new reference to value. */
static inline void
impl_link(RcObject *from, int slot, RcObject *to)
{
    tc_link(from, (size_t)slot, to);
}

/* n new nodes in o[0..n), each but the first linked to the one before
 * (slot 0): a chain that every node but the last holds once more. */
IMPL_UNUSED static void
impl_chain(RcObject **o, int n)
{
    for (int i = 0; i < n; i++) {
        o[i] = impl_new(&impl_node_type);
        if (i > 0) {
            impl_link(o[i], 0, o[i - 1]);
        }
    }
}

/* Runs increments until a pass of the pause-bounded mode is in phase
 * `phase` (3: reach). */
IMPL_UNUSED static void
impl_pass_to_phase(int phase)
{
    GcIncStats st;
    int rounds = 0;
    do {
        cr_assert_eq(gc_collect_increment(impl_gc), 0);
        gc_get_incremental_stats(impl_gc, &st);
        rounds++;
    } while (!(st.pass_running && st.phase == phase) && rounds < 1000);
    cr_assert(st.pass_running && st.phase == phase, "no pass in phase %d",
              phase);
}

/* A chain of n old nodes (impl_chain) in generation 2, and a pass of the
 * pause-bounded mode over them stopped at its reach phase. */
IMPL_UNUSED static void
impl_chain_in_a_pass(RcObject **o, int n)
{
    impl_chain(o, n);
    cr_assert_eq(gc_collect(impl_gc, 2), 0);
    gc_set_increment_work(impl_gc, 40);
    impl_pass_to_phase(3);
}

IMPL_UNUSED static void
impl_setup(void)
{
    impl_finalized = 0;
    impl_legacy_calls = 0;
    impl_resurrect_slot = NULL;
    impl_gc = gc_heap_new(NULL);
    cr_assert_not_null(impl_gc);
}

/* Every object died, the lists hold, every block came back. */
IMPL_UNUSED static void
impl_teardown(void)
{
    cr_assert_eq(gc_check(impl_gc), 0);
    gc_garbage_clear(impl_gc);
    gc_collect(impl_gc, 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    RcHeap *rc = gc_heap_rc(impl_gc);
    cr_assert_eq(rc_live_total(rc), 0, "%zu objects still alive",
                 rc_live_total(rc));
    OaStats st;
    oa_heap_stats(rc_heap_oa(rc), &st);
    cr_assert_eq(st.blocks_used, 0, "%zu blocks not returned", st.blocks_used);
    cr_assert_eq(oa_heap_check(rc_heap_oa(rc)), 0);
    gc_heap_destroy(impl_gc);
    impl_gc = NULL;
}

#endif
