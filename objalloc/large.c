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

#if OA_DEBUG
/* The guard after a large block's request must be intact (h is open). */
static void
check_guard(OaLarge *h, const char *fn)
{
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
    oa_mem_hide(p + h->nbytes, OA_LARGE_GUARD);
}
#endif

void
oa_large_free(OaLarge *h, const char *fn)
{
    (void)fn;
    oa_mem_open(h, sizeof *h);
    OaHeap *heap = h->heap;
    OA_ENTER(heap, fn);
#if OA_DEBUG
    char *p = (char *)(h + 1);
    check_guard(h, fn);
    oa_mem_open(p, h->nbytes);
    memset(p, OA_FILL_FREE, h->nbytes);
#endif
    release(h);
    OA_LEAVE(heap);
}

static void
unlink_large(OaHeap *heap, OaLarge *h)
{
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
}

static void
link_large(OaHeap *heap, OaLarge *h)
{
    h->prev = NULL;
    h->next = heap->large;
    if (h->next != NULL) {
        oa_mem_open(h->next, sizeof *h);
        h->next->prev = h;
        oa_mem_hide(h->next, sizeof *h);
    }
    heap->large = h;
}

/* One attempt at resizing h with the system realloc.  On failure the
 * block is back where it was (list and set) and NULL is returned. */
static void *
resize(OaHeap *heap, OaLarge *h, size_t nbytes)
{
    oa_mem_open(h, sizeof *h);
    size_t old = h->nbytes;
    char *p = (char *)(h + 1);
    oa_mem_open(h, total_size(old)); /* all of it: realloc copies it */
    oa_largeset_remove(p);
    unlink_large(heap, h);
    OaLarge *n = realloc(h, total_size(nbytes));
    if (n == NULL) {
        link_large(heap, h);
        oa_largeset_add(p); /* cannot fail: its slot was just freed */
        oa_mem_hide(h, sizeof *h);
        oa_mem_hide(p + old, OA_LARGE_GUARD);
        return NULL;
    }
    char *q = (char *)(n + 1);
    if (oa_largeset_add(q) != 0) {
        oa_fatal_heap("oa_realloc", heap, "large block set lost a slot");
    }
    n->nbytes = nbytes;
    link_large(heap, n);
    heap->large_bytes += nbytes;
    heap->large_bytes -= old;
#if OA_DEBUG
    if (nbytes > old) {
        memset(q + old, OA_FILL_NEW, nbytes - old);
    }
    memset(q + nbytes, OA_FILL_GUARD, OA_LARGE_GUARD);
#endif
    oa_mem_hide(n, sizeof *n);
    oa_mem_hide(q + nbytes, OA_LARGE_GUARD);
#if defined(RCGC_VALGRIND)
    if (nbytes > old) {
        VALGRIND_MAKE_MEM_UNDEFINED(q + old, nbytes - old);
    }
#endif
    return q;
}

void *
oa_large_realloc(void *p, size_t nbytes)
{
    OaLarge *h = oa_large_hdr(p);
    OaLarge copy = oa_large_read(p);
    OaHeap *heap = copy.heap;
    size_t old = copy.nbytes;
    OA_ENTER(heap, "oa_realloc");
#if OA_DEBUG
    oa_mem_open(h, sizeof *h);
    check_guard(h, "oa_realloc");
    oa_mem_hide(h, sizeof *h);
#endif
    void *q = NULL;
    int stage = 0;
    for (;;) {
        if (nbytes <= SIZE_MAX - sizeof(OaLarge) - OA_LARGE_GUARD &&
            (nbytes <= old ||
             oa_sys_allow(heap, OA_FAIL_LARGE, nbytes - old))) {
            q = resize(heap, h, nbytes);
        }
        if (q != NULL || !oa_make_room(heap, nbytes, &stage)) {
            break;
        }
    }
    if (q == NULL) {
        heap->nfail++;
    }
    OA_LEAVE(heap);
    return q;
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
