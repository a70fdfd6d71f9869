/* SPDX-License-Identifier: MIT */
/* check.c - oa_heap_check: walk every arena, pool, list and large block of
 * a heap and verify every documented invariant.
 *
 * Steps:
 *   1. arenas: each is registered in the address map under its base (with
 *      the medium bit iff it holds spans), its nfree equals its free-pool
 *      list length plus its uncarved pools (or spans), it sits in
 *      bucket[kind][nfree - 1] (or in none when nfree == 0), and the
 *      bucket masks match the buckets; at most one arena of each kind is
 *      all free; the bookkeeping slabs hold one slot per arena, each
 *      arena's marked in its slab, and no slab is empty;
 *   2. pools: the free list of the empty pool a class keeps starts at
 *      its first block (oa_pool_emptied relinks it in address order);
 *      every unit's metadata in its arena's array names its memory
 *      and its arena (an uncarved one nothing else); a used or full pool
 *      has sane metadata (class of its arena's kind, stride, bounds), its free list stays inside its carved blocks, is aligned
 *      to the stride and has no cycle, and nused + listed free == carved;
 *      in checked builds every listed block has the freed mark and every
 *      other carved block a request within its class and intact guards
 *      (no block both free and live);
 *   3. class lists: every pool on cls[c].avail is used (free != NULL) and
 *      of class c, the links are consistent, and the count equals the used
 *      pools of class c found in step 2;
 *   4. large blocks: the list links, the large set, the count and bytes;
 *      the freed mappings kept for reuse: their count and bytes, none
 *      live.
 * The first violation is reported ("objalloc: oa_heap_check: ...") and the
 * function returns -1.
 */
#include "objalloc/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Report the first violation (RCGC_ERROR_CHECK) and return -1. */
static int
fail(const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    rcgc_report(RCGC_ERROR_CHECK, "objalloc: oa_heap_check: %s", what);
    return -1;
}

static size_t
carved_blocks(const OaPool *pool)
{
    return (size_t)(pool->bump - oa_pool_first(pool)) / pool->stride;
}

/* Walk the free list of a used/full pool; count its blocks into *nlisted. */
static int
check_free_list(const OaPool *pool, size_t *nlisted)
{
    size_t carved = carved_blocks(pool);
    size_t n = 0;
    const OaBlock *b = pool->free;
    while (b != NULL) {
        const char *q = (const char *)b;
        if (q < oa_pool_first(pool) || q >= pool->bump ||
            (size_t)(q - oa_pool_first(pool)) % pool->stride != 0) {
            return fail("pool %p: free list entry %p is not a carved block",
                        (void *)pool, (void *)b);
        }
        if (++n > carved) {
            return fail("pool %p: free list longer than the carved blocks "
                        "(a cycle?)",
                        (void *)pool);
        }
#if OA_CHECKED
        if (!OA_IS_FREE_MARK(oa_block_trailer(pool, q))) {
            return fail("pool %p: block %p is on the free list but live",
                        (void *)pool, (void *)b);
        }
#endif
        oa_mem_open(b, sizeof *b);
        const OaBlock *next = b->next;
        oa_mem_hide(b, sizeof *b);
        b = next;
    }
    *nlisted = n;
    return 0;
}

#if OA_CHECKED
/* Blocks not marked free must be live with a sane request and guards; the
 * marked ones must number exactly the listed ones. */
static int
check_blocks(const OaPool *pool, size_t nlisted)
{
    size_t carved = carved_blocks(pool);
    size_t nmarked = 0;
    for (size_t i = 0; i < carved; i++) {
        const char *b = oa_pool_first(pool) + i * pool->stride;
        size_t n = oa_block_trailer(pool, b);
        if (OA_IS_FREE_MARK(n)) {
            nmarked++;
            long bad = n == OA_FREED_MARK ? oa_block_bad_fill(pool, b) : -1;
            if (bad >= 0) {
                return fail("block %p: written after it was freed (byte %ld)",
                            (void *)b, bad);
            }
            continue;
        }
        if (n > OA_CLASS_SIZE(pool->cls)) {
            return fail("block %p: trailer damaged (request %zu)", (void *)b,
                        n);
        }
        long bad = oa_block_bad_guard(pool, b, n);
        if (bad >= 0) {
            return fail("block %p: guard bytes after the requested %zu "
                        "bytes are damaged (byte %ld)",
                        (void *)b, n, bad);
        }
    }
    if (nmarked != nlisted) {
        return fail("pool %p: %zu blocks marked free but %zu listed",
                    (void *)pool, nmarked, nlisted);
    }
    return 0;
}
#endif

/* Step 2 for one used or full pool of arena a: header, free list, and
 * block states; counts the pool in nused_pools[class]. */
static int
check_pool(const OaHeap *heap, const OaArena *a, const OaPool *pool,
           size_t *nused_pools)
{
    if (!oa_pool_in(pool, a) || pool->heap != heap ||
        pool->cls >= OA_NCLASSES ||
        (pool->cls >= OA_NSMALL) != (a->kind == OA_KIND_MEDIUM) ||
        pool->stride != OA_CLASS_SIZE(pool->cls) + OA_TRAILER) {
        return fail("pool %p: metadata damaged", (void *)pool);
    }
    if (pool->bump < oa_pool_first(pool) + pool->stride ||
        pool->bump > oa_pool_limit(pool) + pool->stride) {
        return fail("pool %p: carving bounds damaged", (void *)pool);
    }
    size_t nlisted = 0;
    if (check_free_list(pool, &nlisted) != 0) {
        return -1;
    }
    if (pool->nused + nlisted != carved_blocks(pool)) {
        return fail("pool %p: %u live + %zu free != %zu carved blocks",
                    (void *)pool, pool->nused, nlisted, carved_blocks(pool));
    }
    if (pool->nused == 0 && (pool->prev != NULL || pool->next != NULL ||
                             heap->cls[pool->cls].avail != pool)) {
        return fail("pool %p: empty but not the only pool of class %u",
                    (void *)pool, pool->cls);
    }
    if (pool->nused == 0 && (const char *)pool->free != oa_pool_first(pool)) {
        return fail("pool %p: empty, but its free list does not start at "
                    "its first block",
                    (void *)pool);
    }
    if (pool->free == NULL && pool->bump <= oa_pool_limit(pool)) {
        return fail("pool %p: off its class list with blocks to carve",
                    (void *)pool);
    }
    if (pool->free != NULL) {
        nused_pools[pool->cls]++;
    }
#if OA_CHECKED
    return check_blocks(pool, nlisted);
#else
    return 0;
#endif
}

/* Step 1 for one arena: registered in the map, nfree against its free
 * list and uncarved tail, then each carved pool (step 2). */
static int
check_arena(const OaHeap *heap, const OaArena *a, size_t *nused_pools,
            size_t *work)
{
    uintptr_t entry = (uintptr_t)a | (a->kind ? OA_MAP_MEDIUM : 0);
    if (a->heap != heap || a->kind >= OA_NKINDS ||
        oa_addrmap_entry(a->base) != entry) {
        return fail("arena %p: not registered to this heap", (void *)a);
    }
    if (a->slab == NULL || !oa_arena_meta_holds(a)) {
        return fail("arena %p: its bookkeeping slot is not marked in use",
                    (void *)a);
    }
    size_t unit = oa_kind_unit(a->kind);
    unsigned units = oa_arena_units(a);
    size_t nlisted = 0;
    uint64_t listed = 0;
    for (uint64_t m = a->freemap; m != 0; m &= m - 1) {
        size_t i = (size_t)__builtin_ctzll(m);
        const OaPool *p = &a->pool[i];
        if (i >= a->ncarved || p->heap != NULL || p->next != NULL ||
            p->prev != NULL) {
            return fail("arena %p: empty pool %zu in use or uncarved",
                        (void *)a, i);
        }
        nlisted++;
        listed |= (uint64_t)1 << i;
        if (((a->released >> i) & 1) && p->stride != 0) {
            return fail("arena %p: released pool %p kept its blocks",
                        (void *)a, (void *)p);
        }
    }
    if ((a->released & ~listed) != 0) {
        return fail("arena %p: a released pool is not in its freemap",
                    (void *)a);
    }
    if (a->ncarved > units || a->nfree != nlisted + units - a->ncarved) {
        return fail("arena %p: nfree %u != %zu listed + %u uncarved",
                    (void *)a, a->nfree, nlisted, units - a->ncarved);
    }
    for (unsigned i = 0; i < units; i++) {
        const OaPool *pool = &a->pool[i];
        if (pool->mem != a->base + i * unit || pool->arena != a ||
            (i >= a->ncarved && (pool->heap != NULL || pool->bump != NULL))) {
            return fail("arena %p: metadata of pool %u damaged", (void *)a, i);
        }
    }
    size_t nheld = 0;
    for (unsigned i = 0; i < a->ncarved; i++) {
        const OaPool *pool = &a->pool[i];
        if (pool->heap == NULL) {
            continue;
        }
        nheld++;
        *work += 1 + carved_blocks(pool) * (pool->stride / OA_ALIGNMENT);
        if (check_pool(heap, a, pool, nused_pools) != 0) {
            return -1;
        }
    }
    if (nheld + nlisted != a->ncarved) {
        return fail("arena %p: carved pools neither used nor free", (void *)a);
    }
    return 0;
}

/* The buckets of one kind of arena (units: pools or spans per arena). */
static int
check_buckets(const OaHeap *heap, unsigned kind, unsigned units)
{
    size_t nempty = 0;
    for (unsigned k = 0; k < OA_POOLS_PER_ARENA; k++) {
        bool bit = (heap->bucket_mask[kind] >> k) & 1;
        if (bit != (heap->bucket[kind][k] != NULL) || (bit && k >= units)) {
            return fail("bucket mask bit %u of kind %u disagrees with bucket",
                        k, kind);
        }
        const OaArena *prev = NULL;
        for (const OaArena *a = heap->bucket[kind][k]; a != NULL;
             a = a->next) {
            if (a->nfree != k + 1 || a->prev != prev || a->heap != heap ||
                a->kind != kind) {
                return fail("arena %p: in bucket %u of kind %u with nfree %u",
                            (void *)a, k, kind, a->nfree);
            }
            if (k == units - 1 && ++nempty > 1) {
                return fail("more than one spare empty arena of kind %u",
                            kind);
            }
            prev = a;
        }
    }
    return 0;
}

/* Step 1 over the heap: every arena, the buckets against nfree and the
 * mask, at most one all-free arena. */
static int
check_arenas(const OaHeap *heap, size_t *nused_pools, size_t *work)
{
    size_t n = 0;
    size_t inbuckets = 0;
    for (const OaArena *a = heap->arenas; a != NULL; a = a->all_next) {
        if (++n > heap->narenas) {
            return fail("arena list longer than %zu", heap->narenas);
        }
        if (check_arena(heap, a, nused_pools, work) != 0) {
            return -1;
        }
        inbuckets += a->nfree > 0;
    }
    if (n != heap->narenas) {
        return fail("%zu arenas listed, %zu counted", n, heap->narenas);
    }
    size_t slots = oa_arena_meta_slots(heap);
    if (slots == (size_t)-1) {
        return fail("bookkeeping slab list damaged");
    }
    if (slots != n) {
        return fail("bookkeeping slabs: %zu slots in use for %zu arenas",
                    slots, n);
    }
    size_t nb = 0;
    for (unsigned kind = 0; kind < OA_NKINDS; kind++) {
        for (unsigned k = 0; k < OA_POOLS_PER_ARENA; k++) {
            for (const OaArena *a = heap->bucket[kind][k];
                 a != NULL && nb <= n; a = a->next) {
                nb++;
            }
        }
    }
    if (nb != inbuckets) {
        return fail("%zu arenas in buckets, %zu with free pools", nb,
                    inbuckets);
    }
    if (check_buckets(heap, OA_KIND_SMALL, OA_POOLS_PER_ARENA) != 0) {
        return -1;
    }
    return check_buckets(heap, OA_KIND_MEDIUM, OA_SPANS_PER_ARENA);
}

static int
check_classes(const OaHeap *heap, const size_t *nused_pools)
{
    for (unsigned c = 0; c < OA_NCLASSES; c++) {
        size_t n = 0;
        const OaPool *prev = NULL;
        for (const OaPool *p = heap->cls[c].avail; p != NULL; p = p->next) {
            if (p->heap != heap || p->cls != c || p->free == NULL ||
                p->prev != prev || ++n > nused_pools[c]) {
                return fail("class %u: used pool list damaged at %p", c,
                            (void *)p);
            }
            prev = p;
        }
        if (n != nused_pools[c]) {
            return fail("class %u: %zu pools listed, %zu used pools", c, n,
                        nused_pools[c]);
        }
        if (heap->avail_tail[c] != prev) {
            return fail("class %u: list tail %p, last pool %p", c,
                        (void *)heap->avail_tail[c], (void *)prev);
        }
    }
    return 0;
}

/* Step 4: the large list both ways, each block in the large set, count
 * and bytes; the kept mappings' count and bytes. */
static int
check_large(const OaHeap *heap)
{
    size_t n = 0;
    size_t bytes = 0;
    const OaLarge *prev = NULL;
    for (const OaLarge *h = heap->large; h != NULL;) {
        OaLarge copy = oa_large_read(h + 1);
        if (copy.heap != heap || copy.prev != prev ||
            !oa_largeset_has(h + 1) || ++n > heap->nlarge) {
            return fail("large block %p: list damaged", (void *)(h + 1));
        }
        bytes += copy.nbytes;
        prev = h;
        h = copy.next;
    }
    if (n != heap->nlarge || bytes != heap->large_bytes) {
        return fail("large blocks: %zu / %zu bytes listed, %zu / %zu "
                    "counted",
                    n, bytes, heap->nlarge, heap->large_bytes);
    }
    size_t kept = 0;
    for (unsigned i = 0; i < heap->nmcache && i < OA_MCACHE_SLOTS; i++) {
        kept += heap->mcache[i].len;
        if (heap->mcache[i].base == NULL ||
            oa_largeset_has((const OaLarge *)heap->mcache[i].base + 1)) {
            return fail("freed mapping %u (%p) is damaged or still live", i,
                        heap->mcache[i].base);
        }
    }
    if (heap->nmcache > OA_MCACHE_SLOTS || kept != heap->mcache_bytes) {
        return fail("freed mappings: %u kept, %zu bytes, %zu counted",
                    heap->nmcache, kept, heap->mcache_bytes);
    }
    return 0;
}

int
oa_heap_walk(const OaHeap *heap, size_t *work)
{
    size_t nused_pools[OA_NCLASSES] = {0};
    *work += heap->narenas + heap->nlarge;
    if (check_arenas(heap, nused_pools, work) != 0 ||
        check_classes(heap, nused_pools) != 0 || check_large(heap) != 0) {
        return -1;
    }
    return 0;
}

int
oa_heap_check(const OaHeap *heap)
{
    if (heap == NULL) {
        oa_null_heap("oa_heap_check");
        return -1;
    }
    size_t work = 0;
    return oa_heap_walk(heap, &work);
}
