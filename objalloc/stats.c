/* SPDX-License-Identifier: MIT */
/* stats.c - the statistics struct and its text dump.
 *
 * Only cheap counters are kept on the fast paths (per class: blocks handed
 * out and bytes requested); everything else is computed here by walking
 * the heap's arenas and their carved pools, O(arenas * 64).
 *
 * Derived figures:
 *   nmalloc = blocks handed out ever (small, medium, large, by any call);
 *   nfree   = nmalloc - live blocks (every block not live came back);
 *   bytes_stranded = free bytes inside partly used pools, the external
 *                    fragmentation that pool reuse cannot return;
 *   bytes_handed / bytes_requested = internal fragmentation.
 */
#include "objalloc/internal.h"

#include <string.h>

static size_t
pool_capacity(const OaPool *pool)
{
    return (oa_pool_unit(pool) - OA_POOL_HEAD) / pool->stride;
}

static void
count_pool(const OaPool *pool, OaStats *st)
{
    OaClassStats *cs = &st->classes[pool->cls];
    size_t cap = pool_capacity(pool);
    size_t nfree = cap - pool->nused;
    cs->pools++;
    st->spans += pool->cls >= OA_NSMALL;
    cs->used += pool->nused;
    cs->free += nfree;
    st->blocks_used += pool->nused;
    st->bytes_used += pool->nused * cs->block_size;
    if (pool->free == NULL) {
        st->pools_full++;
    }
    else {
        st->pools_used++;
        st->bytes_stranded += nfree * cs->block_size;
    }
}

/* Fills *st for heap: per-class counters, then one walk of the arenas for
 * pools, spans and released pages (count_pool per pool in use), then the
 * large blocks and call counters.  nfree is derived: calls to malloc minus
 * the blocks still live. */
void
oa_heap_stats(const OaHeap *heap, OaStats *st)
{
    memset(st, 0, sizeof *st);
    if (heap == NULL) {
        oa_null_heap("oa_heap_stats"); /* all zero */
        return;
    }
    for (unsigned c = 0; c < OA_NCLASSES; c++) {
        OaClassStats *cs = &st->classes[c];
        cs->block_size = OA_CLASS_SIZE(c);
        cs->nmalloc = heap->cls[c].nmalloc;
        cs->requested = heap->cls[c].requested;
        st->nmalloc += cs->nmalloc;
        st->bytes_requested += cs->requested;
        st->bytes_handed += cs->nmalloc * cs->block_size;
    }
    st->arenas = heap->narenas;
    st->arenas_highwater = heap->narenas_high;
    st->arenas_allocated = heap->arenas_allocated;
    st->arenas_released = heap->arenas_released;
    st->bytes_mapped = heap->narenas * (size_t)OA_ARENA_SIZE;
    st->arena_meta_bytes = oa_arena_meta_bytes(heap);
    for (const OaArena *a = heap->arenas; a != NULL; a = a->all_next) {
        st->pools_empty += a->nfree;
        st->arenas_medium += a->kind == OA_KIND_MEDIUM;
        st->bytes_released +=
            (size_t)__builtin_popcountll(a->released) * oa_kind_unit(a->kind);
        for (unsigned i = 0; i < a->ncarved; i++) {
            const OaPool *pool = &a->pool[i];
            if (pool->heap != NULL) {
                count_pool(pool, st);
            }
        }
    }
    st->large_blocks = heap->nlarge;
    st->large_bytes = heap->large_bytes;
    st->large_mapped = oa_large_count_mapped(heap);
    st->meta_bytes = heap->meta_bytes;
    st->limit = heap->limit;
    st->nmalloc += heap->nlarge_malloc;
    st->ncalloc = heap->ncalloc;
    st->nrealloc = heap->nrealloc;
    st->nfree = st->nmalloc - st->blocks_used - st->large_blocks;
    st->nfail = heap->nfail;
}

/* Prints *st to out, one line per size class in use, then one line per
 * group of heap-wide figures. */
void
oa_stats_print(const OaStats *st, FILE *out)
{
    fprintf(out, "objalloc statistics\n");
    fprintf(out, "  class  size  pools    used    free       nmalloc"
                 "   requested  (classes 32-79: medium, 64 KiB spans)\n");
    for (unsigned c = 0; c < OA_NCLASSES; c++) {
        const OaClassStats *cs = &st->classes[c];
        if (cs->pools == 0 && cs->nmalloc == 0) {
            continue;
        }
        fprintf(out, "  %5u %5zu %6zu %7zu %7zu %13llu %11llu\n", c,
                cs->block_size, cs->pools, cs->used, cs->free,
                (unsigned long long)cs->nmalloc,
                (unsigned long long)cs->requested);
    }
    fprintf(out,
            "  arenas: %zu mapped (%zu of medium spans; %zu bytes), "
            "high-water %zu, %llu allocated, %llu released\n",
            st->arenas, st->arenas_medium, st->bytes_mapped,
            st->arenas_highwater, (unsigned long long)st->arenas_allocated,
            (unsigned long long)st->arenas_released);
    fprintf(out,
            "  pools and spans: %zu full, %zu partly used, %zu empty; %zu "
            "of the used ones are spans\n",
            st->pools_full, st->pools_used, st->pools_empty, st->spans);
    fprintf(out,
            "  arena bookkeeping and pool metadata: %zu bytes (64 KiB "
            "slabs)\n",
            st->arena_meta_bytes);
    fprintf(out,
            "  released: %zu bytes of empty pools' pages given back to the "
            "system\n",
            st->bytes_released);
    fprintf(out,
            "  small and medium blocks: %zu live, %zu bytes; %zu free bytes "
            "stranded in partly used pools\n",
            st->blocks_used, st->bytes_used, st->bytes_stranded);
    double frag = st->bytes_requested
                      ? (double)st->bytes_handed / (double)st->bytes_requested
                      : 1.0;
    fprintf(out,
            "  requested %llu bytes, handed out %llu (%.3f x, internal "
            "fragmentation)\n",
            (unsigned long long)st->bytes_requested,
            (unsigned long long)st->bytes_handed, frag);
    fprintf(out,
            "  large blocks: %zu live, %zu bytes (%zu of them mappings)\n",
            st->large_blocks, st->large_bytes, st->large_mapped);
    fprintf(out, "  bookkeeping: %zu bytes; limit: ", st->meta_bytes);
    if (st->limit != 0) {
        fprintf(out, "%zu bytes\n", st->limit);
    }
    else {
        fprintf(out, "none\n");
    }
    fprintf(out,
            "  calls: %llu malloc, %llu calloc, %llu realloc, %llu free, "
            "%llu failed\n",
            (unsigned long long)st->nmalloc, (unsigned long long)st->ncalloc,
            (unsigned long long)st->nrealloc, (unsigned long long)st->nfree,
            (unsigned long long)st->nfail);
}
