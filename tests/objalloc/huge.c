/* SPDX-License-Identifier: MIT */
/* huge.c - a heap past OA_HUGE_FROM arenas maps the next ones in 2 MiB
 * chunks advised huge, two arenas to a chunk; a chunk goes back whole when
 * both its halves are empty; a small heap is never advised. */
#define _DEFAULT_SOURCE /* msync */
#include "oa_test.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA(p) ((uintptr_t)(p) & ~((uintptr_t)OA_ARENA_SIZE - 1))
#define CHUNK    ((uintptr_t)2 * OA_ARENA_SIZE)
#define BUDDY(a) ((a) ^ (uintptr_t)OA_ARENA_SIZE)
#define MAXA     (OA_HUGE_FROM + 16)

static int
is_mapped(uintptr_t a)
{
    return msync((void *)a, 4096, MS_ASYNC) == 0 || errno != ENOMEM;
}

/* Does the mapping holding address a carry the huge-page advice ("hg" in
 * its VmFlags, proc(5))?  -1 when /proc/self/smaps says nothing of a. */
static int
advised_huge(uintptr_t a)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    cr_assert_not_null(f);
    char line[512];
    int inside = 0;
    int found = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
            strchr(line, ':') != NULL && line[0] != 'V') {
            inside = a >= lo && a < hi;
        }
        else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            found = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return found;
}

static int
thp_present(void)
{
    return access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
}

/* 512-byte blocks until the heap has `want` arenas; the arenas in the
 * order they were first used (one class: an arena fills before the
 * next is mapped) into arenas[], the block count into *n. */
static void **
grow(OaHeap *heap, size_t want, uintptr_t *arenas, size_t *narenas, size_t *n)
{
    size_t cap = (want + 1) * (OA_ARENA_SIZE / 512);
    void **p = malloc(cap * sizeof *p);
    cr_assert_not_null(p);
    *n = 0;
    *narenas = 0;
    for (;;) {
        void *b = oa_malloc(heap, 512);
        cr_assert_not_null(b);
        cr_assert_lt(*n, cap);
        if (*narenas == 0 || ARENA(b) != arenas[*narenas - 1]) {
            if (*narenas == want) {
                oa_free(b);
                return p;
            }
            arenas[(*narenas)++] = ARENA(b);
        }
        p[(*n)++] = b;
    }
}

/* Free every block of p[0..n) that lies in arena a. */
static void
free_arena(void **p, size_t n, uintptr_t a)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != NULL && ARENA(p[i]) == a) {
            oa_free(p[i]);
            p[i] = NULL;
        }
    }
}

/* grow() leaves one arena more than it records: the one its last block
 * went to (that block freed, the pool kept by its class). */
Test(huge, a_small_heap_maps_no_huge_chunk)
{
    OaHeap *heap = oa_heap_new();
    uintptr_t arenas[MAXA];
    size_t na, n;
    void **p = grow(heap, OA_HUGE_FROM - 1, arenas, &na, &n);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, OA_HUGE_FROM);
    cr_assert_eq(st.huge_chunks, 0);
    cr_assert_eq(st.huge_allocated, 0);
    for (size_t i = 0; i < na; i++) {
        cr_assert_neq(advised_huge(arenas[i]), 1, "arena %zu advised", i);
    }
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    assert_trims_to_nothing(heap);
    free(p);
    oa_heap_destroy(heap);
}

Test(huge, a_large_heap_maps_its_next_arenas_in_advised_2_mib_pairs)
{
    OaHeap *heap = oa_heap_new();
    uintptr_t arenas[MAXA];
    size_t na, n;
    void **p = grow(heap, OA_HUGE_FROM + 8, arenas, &na, &n);
    OaStats st;
    oa_heap_stats(heap, &st);
    CHECK_HEAP(heap);
    /* arenas 32..39 fill four chunks, lower half first; arena 40 is the
     * lower half of a fifth, whose upper half is idle */
    cr_assert_eq(st.arenas, OA_HUGE_FROM + 9);
    cr_assert_eq(st.huge_chunks, 5);
    cr_assert_eq(st.huge_allocated, 5);
    cr_assert_eq(st.huge_idle, 1);
    for (size_t i = OA_HUGE_FROM; i < na; i += 2) {
        cr_assert_eq(arenas[i] % CHUNK, 0, "arena %zu not 2 MiB aligned", i);
        cr_assert_eq(arenas[i + 1], BUDDY(arenas[i]));
        if (thp_present()) {
            cr_assert_eq(advised_huge(arenas[i]), 1, "arena %zu", i);
            cr_assert_eq(advised_huge(arenas[i + 1]), 1, "arena %zu", i + 1);
        }
    }
    /* The stats dump says so. */
    FILE *f = tmpfile();
    oa_stats_print(&st, f);
    rewind(f);
    char buf[8192];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    cr_assert_not_null(strstr(buf, "huge chunks (2 MiB, advised huge): 5 "
                                   "mapped, 1 idle halves, 5 allocated"),
                       "%s", buf);
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    assert_trims_to_nothing(heap);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.huge_chunks, 0);
    cr_assert_eq(st.huge_idle, 0);
    for (size_t i = OA_HUGE_FROM; i < na; i++) {
        cr_assert_not(is_mapped(arenas[i]));
    }
    free(p);
    oa_heap_destroy(heap);
}

/* An empty arena whose buddy is live stays mapped as an idle half; when
 * the buddy empties too, the chunk goes back whole.  Unless the heap is
 * trimmed: then the idle half goes at once and its buddy lives alone. */
Test(huge, a_chunk_goes_back_when_both_halves_are_empty)
{
    OaHeap *heap = oa_heap_new();
    uintptr_t arenas[MAXA];
    size_t na, n;
    void **p = grow(heap, OA_HUGE_FROM + 6, arenas, &na, &n);
    /* a live block in the pool grow() left empty: the class list keeps a
     * used pool, so that every pool that empties goes back to its arena */
    void *anchor = oa_malloc(heap, 512);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, na + 1);
    size_t idle = st.huge_idle, chunks = st.huge_chunks;
    /* first the spare: an arena before the chunks */
    free_arena(p, n, arenas[0]);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, na + 1, "the first empty arena is kept");
    /* a chunk (arenas 32, 33): its lower half, then its upper half */
    uintptr_t lo = arenas[OA_HUGE_FROM], hi = arenas[OA_HUGE_FROM + 1];
    free_arena(p, n, lo);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, na);
    cr_assert_eq(st.huge_idle, idle + 1);
    cr_assert_eq(st.huge_chunks, chunks);
    cr_assert(is_mapped(lo), "the idle half stays mapped");
    CHECK_HEAP(heap);
    free_arena(p, n, hi);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.huge_idle, idle);
    cr_assert_eq(st.huge_chunks, chunks - 1);
    cr_assert_not(is_mapped(lo));
    cr_assert_not(is_mapped(hi));
    CHECK_HEAP(heap);
    /* the next chunk: its upper half empties, then the heap is trimmed */
    lo = arenas[OA_HUGE_FROM + 2];
    hi = arenas[OA_HUGE_FROM + 3];
    free_arena(p, n, hi);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.huge_idle, idle + 1);
    cr_assert(is_mapped(hi));
    oa_heap_trim(heap);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.huge_idle, 0);
    cr_assert_not(is_mapped(hi));
    cr_assert(is_mapped(lo), "its buddy lives on alone");
    CHECK_HEAP(heap);
    for (size_t i = 0; i < n; i++) {
        if (p[i] != NULL) {
            oa_free(p[i]);
        }
    }
    oa_free(anchor);
    assert_trims_to_nothing(heap);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.huge_chunks, 0);
    cr_assert_not(is_mapped(lo));
    free(p);
    oa_heap_destroy(heap);
}

/* Heaps whose arenas come from the caller never map a chunk. */
Test(huge, a_heap_in_a_region_maps_no_chunk)
{
    size_t len = (size_t)(OA_HUGE_FROM + 5) * OA_ARENA_SIZE;
    char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(mem, MAP_FAILED);
    OaHeap *heap = oa_heap_new_in_region(mem, len);
    cr_assert_not_null(heap);
    uintptr_t arenas[MAXA];
    size_t na, n;
    void **p = grow(heap, OA_HUGE_FROM + 2, arenas, &na, &n);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, OA_HUGE_FROM + 3);
    cr_assert_eq(st.huge_allocated, 0);
    for (size_t i = 0; i < na; i++) {
        cr_assert((char *)arenas[i] >= mem && (char *)arenas[i] < mem + len);
    }
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    assert_trims_to_nothing(heap);
    free(p);
    oa_heap_destroy(heap);
    munmap(mem, len);
}
