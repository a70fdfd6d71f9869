/* SPDX-License-Identifier: MIT */
/* random.c - a long randomized sequence of every call against a shadow
 * model, with the heap check after every step. */
#include "oa_test.h"

#include <stdint.h>
#include <string.h>

#define SLOTS 1500

typedef struct {
    unsigned char *p;
    size_t n;
    unsigned char seed;
} Slot;

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t
rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t
random_size(void)
{
    unsigned r = (unsigned)(rnd() % 100);
    if (r < 3) {
        return 0;
    }
    if (r < 85) {
        return 1 + (size_t)(rnd() % OA_SMALL_MAX);
    }
    if (r < 97) {
        return OA_SMALL_MAX + 1 + (size_t)(rnd() % (OA_MEDIUM_MAX - 512));
    }
    return OA_MEDIUM_MAX + 1 + (size_t)(rnd() % 60000);
}

static void
fill(Slot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        s->p[i] = (unsigned char)(s->seed + i * 7);
    }
}

static void
verify(const Slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(s->p[i], (unsigned char)(s->seed + i * 7),
                     "block %p byte %zu", (void *)s->p, i);
    }
}

static void
release(Slot *s)
{
    verify(s, s->n);
    if (rnd() % 2) {
        oa_free(s->p);
    }
    else {
        oa_free_sized(s->p, s->n);
    }
    s->p = NULL;
}

Test(random, long_sequence_matches_the_shadow_model)
{
    static Slot slot[SLOTS];
    OaHeap *heap = oa_heap_new();
    size_t steps = tc_scaled(30000);
    size_t live = 0;
    size_t live_small = 0;
    for (size_t step = 0; step < steps; step++) {
        Slot *s = &slot[rnd() % SLOTS];
        unsigned op = (unsigned)(rnd() % 10);
        if (s->p == NULL) {
            s->n = random_size();
            s->seed = (unsigned char)rnd();
            s->p = op < 2 ? oa_calloc(heap, 1, s->n) : oa_malloc(heap, s->n);
            cr_assert_not_null(s->p);
            cr_assert_eq((uintptr_t)s->p % OA_ALIGNMENT, 0);
            if (op < 2) {
                for (size_t i = 0; i < s->n; i++) {
                    cr_assert_eq(s->p[i], 0);
                }
            }
            fill(s);
            live++;
        }
        else if (op < 7) {
            release(s);
            live--;
        }
        else {
            size_t n = random_size();
            unsigned char *q = oa_realloc(heap, s->p, n);
            cr_assert_not_null(q);
            s->p = q;
            verify(s, s->n < n ? s->n : n);
            s->n = n;
            fill(s);
        }
        cr_assert_eq(oa_owner(s->p ? (void *)s->p : (void *)heap),
                     s->p ? heap : NULL);
        cr_assert_eq(oa_heap_check(heap), 0, "step %zu", step);
        if (step % 1000 == 0) {
            OaStats st;
            oa_heap_stats(heap, &st);
            live_small = 0;
            for (size_t i = 0; i < SLOTS; i++) {
                live_small += slot[i].p != NULL && slot[i].n <= OA_MEDIUM_MAX;
            }
            cr_assert_eq(st.blocks_used, live_small);
            cr_assert_eq(st.blocks_used + st.large_blocks, live);
        }
    }
    for (size_t i = 0; i < SLOTS; i++) {
        if (slot[i].p != NULL) {
            release(&slot[i]);
        }
    }
    assert_all_back(heap);
    oa_heap_destroy(heap);
}
