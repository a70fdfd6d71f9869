/* SPDX-License-Identifier: MIT */
/* checkpoint.c - checked builds end each mutating call with the heap's
 * checkpoint (base/base.h): memory scribbled by the test is caught by a
 * following call, with a message naming the call, the heap and what is
 * broken, then abort.
 *
 *   a freed block's free-list link    the next allocation from its pool
 *                                     (the O(1) check of the pool)
 *   a pool's metadata (other class)  the whole check, within the budget
 *                                     of calls (oa_heap_check's walk)
 *   a large block's header            the same
 * The suite ends in _death: it corrupts memory on purpose (Valgrind skips
 * it). */
#include "oa_test.h"
#include "objalloc/internal.h" /* the pool metadata a test damages */

#include <signal.h>
#include <stdint.h>
#include <string.h>

#if defined(RCGC_CHECKED)

#if defined(RCGC_ASAN)
#include <sanitizer/asan_interface.h>
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* More calls than any budget of the small heaps below (base.h: the
 * larger of 256 and the work of the last check). */
#define MANY_CALLS 100000

static OaHeap *heap;

static void
setup(void)
{
    heap = oa_heap_new();
}

/* Allocate and free blocks of 100 bytes, a class the damage is not in. */
static void
churn(void)
{
    for (int i = 0; i < MANY_CALLS; i++) {
        oa_free(oa_malloc(heap, 100));
    }
}

static void
scribbled_free_link(void)
{
    void **p = oa_malloc(heap, 48);
    void *keep = oa_malloc(heap, 48);
    (void)keep;
    oa_free(p);
    UNPOISON(p, sizeof *p);
    *p = (char *)keep + 8; /* a stale pointer's write into a freed block */
    void *again = oa_malloc(heap, 48); /* pops p: its link is the head */
    (void)again;
}

static void
scribbled_pool_metadata(void)
{
    char *p = oa_malloc(heap, 40);
    oa_pool_at(oa_addrmap_entry(p), p)->nused = 7; /* its metadata line */
    churn();
}

static void
scribbled_large_header(void)
{
    char *a = oa_malloc(heap, 40000);
    char *b = oa_malloc(heap, 50000);
    (void)b;
    void **prev = (void **)(a - 32 + 8); /* OaLarge.prev of a */
    UNPOISON(prev, sizeof *prev);
    *prev = a;
    churn();
}

#define DEATH(name, fn, n1, n2)                                               \
    Test(checkpoint_death, name, .init = setup, .signal = SIGABRT)            \
    {                                                                         \
        fn();                                                                 \
    }                                                                         \
    Test(checkpoint_message_death, name##_message, .init = setup)             \
    {                                                                         \
        tc_expect_abort(fn, n1, n2);                                          \
    }

DEATH(a_scribbled_free_link_stops_the_next_allocation, scribbled_free_link,
      "objalloc: oa_malloc: heap ", "free list damaged: its head 0x")
DEATH(a_scribbled_pool_metadata_stops_a_later_call, scribbled_pool_metadata,
      "objalloc: oa_heap_check: pool ",
      "the heap is broken at the end of this call")
DEATH(a_scribbled_large_header_stops_a_later_call, scribbled_large_header,
      "objalloc: oa_heap_check: large block ",
      "the heap is broken at the end of this call")

/* The checks themselves change nothing: a long run of every call stays
 * quiet and the heap comes back whole. */
Test(checkpoint, calls_on_a_sound_heap_pass_their_checks, .init = setup)
{
    void *live[64] = {0};
    uint64_t rng = 7;
    for (int i = 0; i < MANY_CALLS / 4; i++) {
        size_t k = tc_below(&rng, 64);
        size_t n = 1 + tc_below(&rng, 3) * tc_below(&rng, 20000);
        if (live[k] != NULL) {
            live[k] = tc_below(&rng, 2) ? oa_realloc(heap, live[k], n)
                                        : (oa_free(live[k]), NULL);
        }
        else {
            live[k] =
                tc_below(&rng, 2) ? oa_malloc(heap, n) : oa_calloc(heap, 1, n);
        }
    }
    for (int k = 0; k < 64; k++) {
        oa_free(live[k]);
    }
    assert_trims_to_nothing(heap);
    oa_heap_destroy(heap);
}

#endif /* RCGC_CHECKED */
