/* large.c - blocks over OA_SMALL_MAX bytes, from the system malloc.
 *
 * Layout of one large block (system memory):
 *
 *   | OaLarge header (32 B) | user bytes (n) | guard (16 B, debug only) |
 *   ^ malloc'd base         ^ p (16-byte aligned: glibc gives 16)
 *
 * The heap links every large block through its header (destroy releases
 * them all); the process-wide large set records p, so that an unsized
 * free finds out it is ours without reading in front of a foreign pointer.
 *
 * Checked builds: the header and the guard are inaccessible to the program
 * (memcheck NOACCESS / ASan poison) and opened around our own accesses;
 * debug builds fill new bytes with 0xCD, freed ones with 0xDD, the guard
 * with 0xFD, and check the guard on free.
 *
 * Invariants: p in large set iff p is a live large block of some heap;
 * heap->nlarge and heap->large_bytes are the count and the sum of n over
 * the heap's list.
 */
#include "objalloc/internal.h"

#include <stdlib.h>
#include <string.h>

static size_t
total_size(size_t nbytes)
{
    return sizeof(OaLarge) + nbytes + OA_LARGE_GUARD;
}

OaLarge
oa_large_read(const void *p)
{
    const OaLarge *h = oa_large_hdr(p);
    oa_mem_open(h, sizeof *h);
    OaLarge copy = *h;
    oa_mem_hide(h, sizeof *h);
    return copy;
}

static void *
large_try(OaHeap *heap, size_t nbytes)
{
    if (nbytes > SIZE_MAX - sizeof(OaLarge) - OA_LARGE_GUARD ||
        !oa_sys_allow(heap, OA_FAIL_LARGE, nbytes)) {
        return NULL;
    }
    OaLarge *h = malloc(total_size(nbytes));
    if (h == NULL) {
        return NULL;
    }
    char *p = (char *)(h + 1);
    if (oa_largeset_add(p) != 0) {
        free(h);
        return NULL;
    }
    h->heap = heap;
    h->nbytes = nbytes;
    h->prev = NULL;
    h->next = heap->large;
    if (h->next != NULL) {
        oa_mem_open(h->next, sizeof *h);
        h->next->prev = h;
        oa_mem_hide(h->next, sizeof *h);
    }
    heap->large = h;
    heap->nlarge++;
    heap->large_bytes += nbytes;
    heap->nlarge_malloc++;
#if OA_DEBUG
    memset(p, OA_FILL_NEW, nbytes);
    memset(p + nbytes, OA_FILL_GUARD, OA_LARGE_GUARD);
#endif
    oa_mem_hide(h, sizeof *h);
    oa_mem_hide(p + nbytes, OA_LARGE_GUARD);
#if defined(RCGC_VALGRIND)
    VALGRIND_MAKE_MEM_UNDEFINED(p, nbytes); /* fresh: not initialised */
#endif
    return p;
}

void *
oa_large_malloc(OaHeap *heap, size_t nbytes)
{
    void *p = large_try(heap, nbytes);
    int stage = 0;
    while (p == NULL && oa_make_room(heap, nbytes, &stage)) {
        p = large_try(heap, nbytes);
    }
    if (p == NULL) {
        heap->nfail++;
    }
    return p;
}

/* Unlink and release h (already out of the large set). */
static void
release(OaLarge *h)
{
    OaHeap *heap = h->heap;
    if (h->prev != NULL) {
        oa_mem_open(h->prev, sizeof *h);
        h->prev->next = h->next;
        oa_mem_hide(h->prev, sizeof *h);
    }
    else {
        heap->large = h->next;
    }
    if (h->next != NULL) {
        oa_mem_open(h->next, sizeof *h);
        h->next->prev = h->prev;
        oa_mem_hide(h->next, sizeof *h);
    }
    heap->nlarge--;
    heap->large_bytes -= h->nbytes;
    oa_mem_open(h, total_size(h->nbytes));
    free(h);
}

void
oa_large_free(OaLarge *h, const char *fn)
{
    (void)fn;
    oa_mem_open(h, sizeof *h);
    OaHeap *heap = h->heap;
    OA_ENTER(heap, fn);
#if OA_DEBUG
    char *p = (char *)(h + 1);
    oa_mem_open(p + h->nbytes, OA_LARGE_GUARD);
    for (size_t i = 0; i < OA_LARGE_GUARD; i++) {
        if ((unsigned char)p[h->nbytes + i] != OA_FILL_GUARD) {
            oa_fatal(fn, p,
                     "guard bytes after the requested %zu bytes are "
                     "damaged (byte %zu is 0x%02x)",
                     h->nbytes, h->nbytes + i,
                     (unsigned char)p[h->nbytes + i]);
        }
    }
    oa_mem_open(p, h->nbytes);
    memset(p, OA_FILL_FREE, h->nbytes);
#endif
    release(h);
    OA_LEAVE(heap);
}

void
oa_large_destroy_all(OaHeap *heap)
{
    while (heap->large != NULL) {
        OaLarge *h = heap->large;
        oa_mem_open(h, sizeof *h);
        oa_largeset_remove(h + 1);
        release(h);
    }
}
