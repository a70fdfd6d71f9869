/* SPDX-License-Identifier: MIT */
/* mapped.c - large blocks of OA_LARGE_MAP_MIN bytes or more: mappings of
 * their own, kept when freed for the next large block until the heap maps
 * an arena or is trimmed, then gone from the process; resized in place or
 * moved across the threshold with their bytes; zeroed by calloc. */
#define _DEFAULT_SOURCE /* mincore */
#include "oa_test.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

OA_HEAP_SUITE(mapped);

#define MIB ((size_t)1 << 20)

/* Does the page holding p hold memory of this process?  Not when it is
 * unmapped, nor when it is mapped without memory: debug builds keep the
 * range of a freed mapping reserved, PROT_NONE (objalloc/retired.c). */
static bool
page_resident(const void *p)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned char vec;
    void *base = (void *)((uintptr_t)p & ~(uintptr_t)(page - 1));
    if (mincore(base, (size_t)page, &vec) == 0) {
        return (vec & 1) != 0;
    }
    cr_assert_eq(errno, ENOMEM, "mincore: %s", strerror(errno));
    return false;
}

/* After glibc frees a chunk it had mapped, it serves chunks that big from
 * its heap and keeps their pages when they are freed (its mmap threshold
 * rises): so that the checks below tell our mappings from its. */
static void
raise_malloc_threshold(void)
{
    void *p = malloc(16 * MIB);
    cr_assert_not_null(p);
    memset(p, 1, 4096);
    free(p);
}

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (unsigned char)(seed + i % 251);
    }
}

static void
expect(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(p[i], (unsigned char)(seed + i % 251), "byte %zu", i);
    }
}

Test(mapped, a_freed_block_leaves_the_process_when_the_heap_grows)
{
    raise_malloc_threshold();
    unsigned char *p = oa_malloc(heap, 3 * MIB);
    cr_assert_not_null(p);
    cr_assert_eq(oa_owner(p), heap);
    cr_assert_eq(oa_usable_size(p), 3 * MIB);
    fill(p, 3 * MIB, 5);
    expect(p, 3 * MIB, 5);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 1);
    cr_assert_eq(st.large_bytes, 3 * MIB);
    cr_assert_eq(st.large_mapped, 1);
    cr_assert_eq(st.arenas, 0);
    CHECK_HEAP(heap);
    unsigned char *mid = p + 3 * MIB / 2;
    cr_assert(page_resident(mid));
    oa_free(p);
    cr_assert(page_resident(mid), "kept for the next large block");
    void *small = oa_malloc(heap, 40); /* the heap maps its first arena */
    cr_assert_not_null(small);
    cr_assert(!page_resident(mid), "the block's pages are still mapped");
    oa_free(small);
}

Test(mapped, trimming_the_heap_unmaps_the_freed_blocks)
{
    raise_malloc_threshold();
    unsigned char *p = oa_malloc(heap, 2 * MIB);
    cr_assert_not_null(p);
    p[MIB] = 1;
    oa_free(p);
    cr_assert(page_resident(p + MIB));
    oa_heap_trim(heap);
    cr_assert(!page_resident(p + MIB));
}

Test(mapped, the_next_large_block_reuses_a_freed_mapping)
{
    unsigned char *p = oa_malloc(heap, 4 * MIB);
    cr_assert_not_null(p);
    memset(p, 0x5A, 4 * MIB);
    oa_free(p);
    /* Smaller: the same mapping, shrunk; its pages were resident.  Debug
     * builds move its pages to a new address (so that a second free of p
     * is still named: objalloc/retired.c). */
    unsigned char *q = oa_malloc(heap, 3 * MIB);
    cr_assert_not_null(q);
    if (OA_TEST_DEBUG) {
        cr_assert_neq(q, p);
        cr_assert(!page_resident(p), "the old range keeps no memory");
    }
    else {
        cr_assert_eq(q, p);
    }
    unsigned char *z = oa_calloc(heap, 1, 2 * MIB); /* a fresh one */
    cr_assert_not_null(z);
    oa_free(q);
    oa_free(z);
    /* calloc of a kept mapping is zeroed too. */
    unsigned char *c = oa_calloc(heap, 3, MIB);
    cr_assert_not_null(c);
    if (!OA_TEST_DEBUG) {
        cr_assert_eq(c, p, "the kept mapping that holds it exactly");
    }
    for (size_t i = 0; i < 3 * MIB; i += 1021) {
        cr_assert_eq(c[i], 0, "byte %zu", i);
    }
    oa_free(c);
}

Test(mapped, at_most_four_freed_mappings_are_kept)
{
    unsigned char *p[5];
    for (int i = 0; i < 5; i++) {
        p[i] = oa_malloc(heap, 2 * MIB);
        cr_assert_not_null(p[i]);
        p[i][MIB] = 1;
    }
    for (int i = 0; i < 5; i++) {
        oa_free(p[i]);
    }
    cr_assert(!page_resident(p[0] + MIB), "the oldest goes first");
    for (int i = 1; i < 5; i++) {
        cr_assert(page_resident(p[i] + MIB), "block %d", i);
    }
    oa_heap_trim(heap);
    for (int i = 1; i < 5; i++) {
        cr_assert(!page_resident(p[i] + MIB), "block %d", i);
    }
}

Test(mapped, a_heap_with_a_memory_limit_keeps_no_freed_mapping)
{
    oa_heap_set_limit(heap, 64 * MIB);
    unsigned char *p = oa_malloc(heap, 2 * MIB);
    cr_assert_not_null(p);
    p[MIB] = 1;
    oa_free(p);
    cr_assert(!page_resident(p + MIB));
    oa_heap_set_limit(heap, 0);
}

Test(mapped, below_the_threshold_a_block_is_not_a_mapping)
{
    /* The threshold counts the header (and the debug guard): a request
     * 64 bytes short of it comes from malloc, one of OA_LARGE_MAP_MIN
     * (128 KiB, glibc's mmap threshold) is mapped. */
    OaStats st;
    unsigned char *q = oa_malloc(heap, OA_LARGE_MAP_MIN - 64);
    cr_assert_not_null(q);
    cr_assert_eq(oa_owner(q), heap);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 1);
    cr_assert_eq(st.large_mapped, 0);
    unsigned char *m = oa_malloc(heap, OA_LARGE_MAP_MIN);
    cr_assert_not_null(m);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_mapped, 1);
    cr_assert_eq(OA_LARGE_MAP_MIN, 128u << 10);
    oa_free(q);
    oa_free(m);
}

Test(mapped, resizing_keeps_the_bytes_across_the_threshold)
{
    unsigned char *p = oa_malloc(heap, 600);
    cr_assert_not_null(p);
    fill(p, 600, 9);
    size_t keep = 600;
    /* Up across (malloc -> mapping), within (mremap, growing and
     * shrinking), and down across (mapping -> malloc), then small; a list
     * growing from under the threshold to over it (malloc -> mapping). */
    size_t sizes[] = {2 * MIB,   9 * MIB,   MIB,       2 * MIB + 5, 700,
                      100 << 10, 300 << 10, 200 << 10, 64 << 10,    100};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *q = oa_realloc(heap, p, sizes[i]);
        cr_assert_not_null(q, "size %zu", sizes[i]);
        expect(q, keep < sizes[i] ? keep : sizes[i], 9);
        cr_assert_eq(oa_owner(q), heap);
        cr_assert_geq(oa_usable_size(q), sizes[i]);
        OaStats st;
        oa_heap_stats(heap, &st);
        cr_assert_eq(st.large_mapped, sizes[i] >= OA_LARGE_MAP_MIN ? 1u : 0u);
        keep = sizes[i];
        fill(q, keep, 9); /* all of it, new bytes too */
        p = q;
        CHECK_HEAP(heap);
    }
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 0);
    cr_assert_eq(st.large_mapped, 0);
    cr_assert_eq(st.blocks_used, 1);
    oa_free(p);
}

Test(mapped, a_block_moved_off_a_mapping_leaves_it)
{
    raise_malloc_threshold();
    unsigned char *p = oa_malloc(heap, 4 * MIB);
    cr_assert_not_null(p);
    fill(p, 4000, 3);
    unsigned char *tail = p + 3 * MIB;
    tail[0] = 1;
    unsigned char *q = oa_realloc(heap, p, 5000); /* under the threshold */
    cr_assert_not_null(q);
    expect(q, 4000, 3);
    oa_heap_trim(heap); /* the mapping was kept for reuse until now */
    cr_assert(!page_resident(tail));
    oa_free(q);
}

Test(mapped, calloc_gives_zeroes_where_a_freed_block_was_written)
{
    for (int round = 0; round < 3; round++) {
        unsigned char *p = oa_calloc(heap, 2, MIB + 100);
        cr_assert_not_null(p);
        for (size_t i = 0; i < 2 * (MIB + 100); i += 997) {
            cr_assert_eq(p[i], 0, "byte %zu, round %d", i, round);
        }
        cr_assert_eq(p[2 * (MIB + 100) - 1], 0);
        memset(p, 0xAB, 2 * (MIB + 100));
        oa_free(p);
    }
}

Test(mapped, failures_return_null_and_keep_the_block)
{
    oa_heap_fail_nth(heap, OA_FAIL_LARGE, 1, 0);
    cr_assert_null(oa_malloc(heap, 2 * MIB));
    CHECK_HEAP(heap);
    oa_heap_fail_nth(heap, OA_FAIL_ALL, 0, 0);
    unsigned char *p = oa_malloc(heap, 2 * MIB);
    cr_assert_not_null(p);
    fill(p, 2 * MIB, 7);
    oa_heap_fail_nth(heap, OA_FAIL_LARGE, 1, 0);
    cr_assert_null(oa_realloc(heap, p, 8 * MIB));
    expect(p, 2 * MIB, 7);
    cr_assert_eq(oa_usable_size(p), 2 * MIB);
    CHECK_HEAP(heap);
    oa_heap_fail_nth(heap, OA_FAIL_ALL, 0, 0);
    oa_free(p);
}

Test(mapped, destroying_the_heap_unmaps_its_blocks)
{
    raise_malloc_threshold();
    OaHeap *h = oa_heap_new();
    cr_assert_not_null(h);
    unsigned char *p = oa_malloc(h, 2 * MIB);
    cr_assert_not_null(p);
    p[MIB] = 1;
    oa_heap_destroy(h);
    cr_assert(!page_resident(p + MIB));
}
