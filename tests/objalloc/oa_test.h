/* SPDX-License-Identifier: MIT */
/* oa_test.h - helpers shared by the objalloc test files. */
#ifndef RCGC_TESTS_OA_TEST_H
#define RCGC_TESTS_OA_TEST_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "common/testutil.h"
#include "objalloc/objalloc.h"

/* The heap invariants hold. */
#define CHECK_HEAP(h) cr_assert_eq(oa_heap_check(h), 0, "heap check failed")

/* Every block came back: no live small or large block. */
static inline void
assert_all_back(const OaHeap *h)
{
    OaStats st;
    cr_assert_eq(oa_heap_check(h), 0, "heap check failed");
    oa_heap_stats(h, &st);
    cr_assert_eq(st.blocks_used, 0, "%zu small blocks still live",
                 st.blocks_used);
    cr_assert_eq(st.large_blocks, 0, "%zu large blocks still live",
                 st.large_blocks);
    cr_assert_eq(st.nfree, st.nmalloc);
}

/* Everything freed (assert_all_back), and trimming gives every arena
 * back to the system. */
static inline void
assert_trims_to_nothing(OaHeap *h)
{
    OaStats st;
    assert_all_back(h);
    oa_heap_trim(h);
    oa_heap_stats(h, &st);
    cr_assert_eq(st.arenas, 0, "%zu arenas after the trim", st.arenas);
    cr_assert_eq(st.bytes_mapped, 0);
}

/* A suite whose tests each get a fresh `heap`, which must have every
 * block back at the end of the test. */
#define OA_HEAP_SUITE(name)                                                   \
    static OaHeap *heap;                                                      \
    static void setup_##name(void)                                            \
    {                                                                         \
        heap = oa_heap_new();                                                 \
        cr_assert_not_null(heap);                                             \
    }                                                                         \
    static void teardown_##name(void)                                         \
    {                                                                         \
        assert_all_back(heap);                                                \
        oa_heap_destroy(heap);                                                \
    }                                                                         \
    TestSuite(name, .init = setup_##name, .fini = teardown_##name)

#ifdef RCGC_DEBUG
#define OA_TEST_DEBUG 1
#else
#define OA_TEST_DEBUG 0
#endif

#endif
