/* SPDX-License-Identifier: MIT */
/* heap.c - heap lifecycle, memory limit, pressure, failure injection and
 * bookkeeping memory.
 *
 * Data structure: OaHeap (internal.h) holds every piece of state of one
 * heap; nothing here is process-wide.  A heap is created empty: its first
 * small allocation maps an arena.
 *
 * Every request the heap makes to the system (an arena mapping, a large
 * block, bookkeeping memory) first goes through oa_sys_allow():
 *   1. count it when its kind is selected for failure injection, and fail
 *      it when it is the k-th (or later, when sticky);
 *   2. fail it when it would take the heap over its limit.
 * A failed request makes room (oa_make_room) and is retried: first the
 * memory kept for reuse goes back (oa_trim: kept empty pools, the spare
 * arena), then the pressure callback runs once; when it says it freed
 * something, the heap is trimmed again and the request retried.
 *
 * Invariant: oa_held_bytes() == arenas * OA_ARENA_SIZE + large_bytes +
 * meta_bytes, and it stays <= limit when a limit is set (a limit lowered
 * below what is held only blocks further growth).
 */
#include "objalloc/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(OaPool) == 64, "pool metadata is one cache line");
_Static_assert(sizeof(OaLarge) % OA_ALIGNMENT == 0,
               "large header keeps 16-byte alignment");
_Static_assert(OA_POOLS_PER_ARENA == 64, "bucket mask has 64 bits");
_Static_assert(OA_SPANS_PER_ARENA <= 64, "bucket mask has 64 bits");
_Static_assert(OA_NSMALL * 16 == OA_SMALL_MAX, "small classes");

OaHeap *
oa_heap_new(void)
{
    OaHeap *heap = calloc(1, sizeof *heap);
    if (heap == NULL) {
        return NULL;
    }
    heap->fail_kinds = OA_FAIL_ALL;
#if defined(RCGC_VALGRIND)
    VALGRIND_CREATE_MEMPOOL(heap, 0, 0);
#endif
    return heap;
}

void
oa_heap_destroy(OaHeap *heap)
{
    if (heap == NULL) {
        return;
    }
    OA_ENTER(heap, "oa_heap_destroy");
    oa_large_destroy_all(heap);
    oa_arenas_destroy(heap);
    RCGC_ASSERT(heap->large == NULL && heap->nlarge == 0 &&
                heap->large_bytes == 0 && heap->narenas == 0);
    oa_region_free(heap);
#if defined(RCGC_VALGRIND)
    VALGRIND_DESTROY_MEMPOOL(heap);
#endif
    OA_LEAVE(heap);
    free(heap);
}

void
oa_heap_claim(OaHeap *heap, const char *fn)
{
    OA_ENTER(heap, fn);
}

void
oa_heap_release(OaHeap *heap)
{
    OA_LEAVE(heap);
}

void
oa_heap_set_user(OaHeap *heap, void *user)
{
    heap->user = user;
}

void *
oa_heap_user(const OaHeap *heap)
{
    return heap->user;
}

/* ---- limit, pressure, failure injection ----------------------------- */

size_t
oa_held_bytes(const OaHeap *heap)
{
    return heap->narenas * (size_t)OA_ARENA_SIZE + heap->large_bytes +
           heap->meta_bytes;
}

void
oa_heap_set_limit(OaHeap *heap, size_t nbytes)
{
    if (heap == NULL) {
        oa_null_heap("oa_heap_set_limit");
        return;
    }
    heap->limit = nbytes;
}

size_t
oa_heap_limit(const OaHeap *heap)
{
    if (heap == NULL) {
        oa_null_heap("oa_heap_limit");
        return 0;
    }
    return heap->limit;
}

void
oa_heap_set_pressure(OaHeap *heap, OaPressureFn fn, void *ctx)
{
    if (heap == NULL) {
        oa_null_heap("oa_heap_set_pressure");
        return;
    }
    heap->pressure = fn;
    heap->pressure_ctx = ctx;
}

void
oa_heap_fail_nth(OaHeap *heap, unsigned kinds, uint64_t k, int sticky)
{
    if (heap == NULL) {
        oa_null_heap("oa_heap_fail_nth");
        return;
    }
    heap->fail_kinds = kinds & OA_FAIL_ALL;
    heap->fail_k = k;
    heap->fail_sticky = sticky;
    heap->sys_requests = 0;
}

uint64_t
oa_heap_sys_requests(const OaHeap *heap)
{
    if (heap == NULL) {
        oa_null_heap("oa_heap_sys_requests");
        return 0;
    }
    return heap->sys_requests;
}

void
oa_heap_set_error(OaHeap *heap, const char *fmt, ...)
{
    int k = snprintf(heap->error, sizeof heap->error,
                     "objalloc: heap %p: ", (void *)heap);
    va_list ap;
    va_start(ap, fmt);
    if (k > 0 && (size_t)k < sizeof heap->error) {
        vsnprintf(heap->error + k, sizeof heap->error - (size_t)k, fmt, ap);
    }
    va_end(ap);
}

bool
oa_sys_allow(OaHeap *heap, unsigned kind, size_t nbytes)
{
    if (heap->fail_kinds & kind) {
        uint64_t n = ++heap->sys_requests;
        if (heap->fail_k != 0 &&
            (n == heap->fail_k || (heap->fail_sticky && n > heap->fail_k))) {
            oa_heap_set_error(heap, "failure injected (request %llu)",
                              (unsigned long long)n);
            return false;
        }
    }
    if (heap->limit != 0) {
        size_t held = oa_held_bytes(heap);
        if (held > heap->limit || nbytes > heap->limit - held) {
            oa_heap_set_error(heap,
                              "memory limit of %zu bytes reached (%zu held, "
                              "%zu more asked)",
                              heap->limit, held, nbytes);
            return false;
        }
    }
    return true;
}

static bool
run_pressure(OaHeap *heap, size_t nbytes)
{
    if (heap->pressure == NULL || heap->in_pressure) {
        return false;
    }
    heap->in_pressure = 1;
    int freed = heap->pressure(heap, nbytes, heap->pressure_ctx);
    RCGC_ASSERT(heap->in_pressure); /* the callback did not re-enter */
    heap->in_pressure = 0;
    return freed != 0;
}

bool
oa_make_room(OaHeap *heap, size_t nbytes, int *stage)
{
    RCGC_ASSERT(*stage >= 0 && *stage <= 2); /* each stage runs once */
    if (*stage == 0) {
        *stage = 1;
        if (oa_trim(heap)) {
            return true;
        }
    }
    if (*stage == 1) {
        *stage = 2;
        if (run_pressure(heap, nbytes)) {
            oa_trim(heap); /* what the callback emptied goes back too */
            return true;
        }
    }
    return false;
}

/* ---- bookkeeping memory --------------------------------------------- */

static void *
meta_try(OaHeap *heap, void *p, size_t old_nbytes, size_t nbytes)
{
    size_t grow = nbytes > old_nbytes ? nbytes - old_nbytes : 0;
    if (!oa_sys_allow(heap, OA_FAIL_META, grow)) {
        return NULL;
    }
    void *q = realloc(p, nbytes ? nbytes : 1);
    if (q != NULL) {
        RCGC_ASSERT(heap->meta_bytes + nbytes >= old_nbytes);
        heap->meta_bytes += nbytes;
        heap->meta_bytes -= old_nbytes;
    }
    return q;
}

void *
oa_meta_realloc(OaHeap *heap, void *p, size_t old_nbytes, size_t nbytes)
{
    OA_ENTER(heap, "oa_meta_realloc");
    if (p == NULL) {
        old_nbytes = 0;
    }
    void *q = meta_try(heap, p, old_nbytes, nbytes);
    int stage = 0;
    while (q == NULL && oa_make_room(heap, nbytes, &stage)) {
        q = meta_try(heap, p, old_nbytes, nbytes);
    }
    if (q == NULL) {
        heap->nfail++;
    }
    OA_LEAVE(heap);
    return q;
}

void *
oa_meta_malloc(OaHeap *heap, size_t nbytes)
{
    return oa_meta_realloc(heap, NULL, 0, nbytes);
}

void
oa_meta_free(OaHeap *heap, void *p, size_t nbytes)
{
    if (p == NULL) {
        return;
    }
    OA_ENTER(heap, "oa_meta_free");
    RCGC_ASSERT(heap->meta_bytes >= nbytes); /* sizes as allocated */
    heap->meta_bytes -= nbytes;
    free(p);
    OA_LEAVE(heap);
}
