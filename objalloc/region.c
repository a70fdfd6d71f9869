/* SPDX-License-Identifier: MIT */
/* region.c - heaps whose arenas come from the caller: an arena source
 * callback, or a memory region carved into arenas (embedded use, the
 * seeds' Zephyr memory slab).
 *
 * Data structure: OaRegion, the region source's state: the first
 * OA_ARENA_SIZE-aligned address inside the caller's region, how many
 * arenas fit, and a stack of the free ones (the lowest on top, so that a
 * heap fills its region from the bottom and a returned arena is reused
 * first).
 *
 * A region heap is a source heap whose get/put are region_get/region_put
 * with the OaRegion as ctx; arena.c asks the source for an arena where it
 * would map one (arena_new) and gives it back where it would unmap it.
 * When get returns NULL the allocation fails as out of memory, after the
 * usual trim and pressure steps (heap.c), and oa_heap_error names the
 * source and how many arenas it held.
 *
 * Invariant: nfree + (arenas of the heap from the region) == narenas;
 * free[0 .. nfree) are distinct arena addresses inside the region.
 */
#include "objalloc/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct OaRegion {
    char *lo;       /* first aligned arena */
    size_t narenas; /* arenas that fit */
    size_t nfree;   /* free[0 .. nfree): arenas not in use */
    char **free;    /* a stack, the lowest address on top */
} OaRegion;

static _Thread_local char new_error[200];

static void *
region_get(void *ctx)
{
    OaRegion *r = ctx;
    RCGC_ASSERT(r->nfree <= r->narenas);
    return r->nfree > 0 ? r->free[--r->nfree] : NULL;
}

static void
region_put(void *ctx, void *arena)
{
    OaRegion *r = ctx;
    /* only arenas it gave out come back, each once */
    RCGC_ASSERT(r->nfree < r->narenas &&
                ((uintptr_t)arena & OA_ARENA_MASK) == 0);
    r->free[r->nfree++] = arena;
}

static OaHeap *
heap_with(const OaArenaSource *src)
{
    OaHeap *heap = oa_heap_new();
    if (heap == NULL) {
        snprintf(new_error, sizeof new_error,
                 "objalloc: oa_heap_new: out of memory for the heap");
        return NULL;
    }
    heap->src = *src;
    heap->source = &heap->src;
    return heap;
}

OaHeap *
oa_heap_new_with_source(const OaArenaSource *src)
{
    if (src == NULL || src->get == NULL) {
        snprintf(new_error, sizeof new_error,
                 "objalloc: oa_heap_new_with_source: the source has no get "
                 "function");
        return NULL;
    }
    return heap_with(src);
}

/* A heap whose arenas come only from [base, base + nbytes): the region's
 * whole arena-aligned arenas go on a stack, lowest on top, and
 * region_get / region_put hand them out and take them back.  NULL with
 * new_error set if the region holds no arena or memory runs out. */
OaHeap *
oa_heap_new_in_region(void *base, size_t nbytes)
{
    uintptr_t b = (uintptr_t)base;
    uintptr_t lo = (b + OA_ARENA_MASK) & ~OA_ARENA_MASK;
    size_t n = lo >= b && nbytes >= lo - b && base != NULL
                   ? (nbytes - (lo - b)) / OA_ARENA_SIZE
                   : 0;
    if (n == 0) {
        snprintf(new_error, sizeof new_error,
                 "objalloc: oa_heap_new_in_region: region %p of %zu bytes "
                 "holds no whole %u-byte arena aligned to its size",
                 base, nbytes, OA_ARENA_SIZE);
        return NULL;
    }
    OaRegion *r = calloc(1, sizeof *r);
    char **stack = r != NULL ? malloc(n * sizeof *stack) : NULL;
    if (stack == NULL) {
        free(r);
        snprintf(new_error, sizeof new_error,
                 "objalloc: oa_heap_new_in_region: out of memory for the "
                 "region's bookkeeping");
        return NULL;
    }
    *r = (OaRegion){(char *)lo, n, n, stack};
    for (size_t i = 0; i < n; i++) { /* lowest on top */
        stack[i] = r->lo + (n - 1 - i) * (size_t)OA_ARENA_SIZE;
    }
    OaArenaSource src = {region_get, region_put, r};
    OaHeap *heap = heap_with(&src);
    if (heap == NULL) {
        free(stack);
        free(r);
        return NULL;
    }
    heap->region = r;
    return heap;
}

/* Called by oa_heap_destroy after every arena went back. */
void
oa_region_free(OaHeap *heap)
{
    if (heap->region != NULL) {
        free(heap->region->free);
        free(heap->region);
        heap->region = NULL;
    }
}

/* The sentence for an exhausted source (arena.c). */
void
oa_source_exhausted(OaHeap *heap)
{
    if (heap->region != NULL) {
        oa_heap_set_error(heap,
                          "arena source exhausted: its region of %zu arenas "
                          "at %p is in use",
                          heap->region->narenas, (void *)heap->region->lo);
    }
    else {
        oa_heap_set_error(heap,
                          "arena source exhausted: get() returned NULL "
                          "(%zu arenas of the heap in use)",
                          heap->narenas);
    }
}

const char *
oa_heap_error(const OaHeap *heap)
{
    if (heap == NULL) {
        return new_error[0] != '\0' ? new_error : NULL;
    }
    return heap->error[0] != '\0' ? heap->error : NULL;
}
