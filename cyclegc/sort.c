/* sort.c - put a list of tracked objects in address order.
 *
 * Why: the reachability passes walk the collected list several times.
 * In address order that walk streams through memory (the hardware
 * prefetcher follows it); in allocation or promotion order it jumps, and
 * each object costs a cache miss (CPython's "second collection is slower
 * than the first").  Lists get out of order when survivors of younger
 * generations are appended and when freed blocks are reused.
 *
 * How: copy the object addresses into an array (side memory from
 * oa_meta_malloc), LSD radix sort it on the bits that differ between the
 * lowest and highest address (11 bits a pass, so a heap of a few hundred
 * MB needs 2 or 3 passes), then relink the list from the array.
 * The list never changes if the side memory cannot be had: sorting is an
 * optimisation, and the collector works on any order.
 *
 * Cost: O(n) time and 2n words of transient memory.
 */
#include "cyclegc/internal.h"

#include <string.h>

#define DIGIT_BITS 11
#define NBUCKETS   (1u << DIGIT_BITS)

static void
radix_pass(uintptr_t *src, uintptr_t *dst, size_t n, uintptr_t base,
           unsigned shift, size_t *count)
{
    memset(count, 0, NBUCKETS * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        count[((src[i] - base) >> shift) & (NBUCKETS - 1)]++;
    }
    size_t sum = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
        size_t c = count[b];
        count[b] = sum;
        sum += c;
    }
    for (size_t i = 0; i < n; i++) {
        dst[count[((src[i] - base) >> shift) & (NBUCKETS - 1)]++] = src[i];
    }
}

int
gc_list_sort(GcHeap *gc, GcList *l)
{
    /* size_ub bounds the length: one walk fills the array. */
    size_t cap = l->size_ub;
    if (cap < 2) {
        return 0;
    }
    if (cap > SIZE_MAX / (2 * sizeof(uintptr_t))) {
        return -1;
    }
    size_t nbytes = 2 * cap * sizeof(uintptr_t);
    uintptr_t *a = oa_meta_malloc(gc->oa, nbytes);
    if (a == NULL) {
        return -1;
    }
    size_t *count = oa_meta_malloc(gc->oa, NBUCKETS * sizeof(size_t));
    if (count == NULL) {
        oa_meta_free(gc->oa, a, nbytes);
        return -1;
    }
    uintptr_t *b = a + cap;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    size_t n = 0;
    for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
        uintptr_t v = (uintptr_t)g;
        a[n++] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    uintptr_t *block = a;
    /* Heads are 16-byte aligned: the low 4 bits never differ. */
    unsigned shift = 4;
    uintptr_t span = (hi - lo) >> 4;
    while (span != 0) {
        radix_pass(a, b, n, lo, shift, count);
        uintptr_t *t = a;
        a = b;
        b = t;
        shift += DIGIT_BITS;
        span >>= DIGIT_BITS;
    }
    RcGcHead *prev = &l->head;
    for (size_t i = 0; i < n; i++) {
        RcGcHead *g = (RcGcHead *)a[i];
        prev->next = (uintptr_t)g;
        g->prev = (uintptr_t)prev;
        prev = g;
    }
    prev->next = (uintptr_t)&l->head;
    l->head.prev = (uintptr_t)prev;
    l->descents = 0;
    l->size_ub = n;
    oa_meta_free(gc->oa, block, nbytes);
    oa_meta_free(gc->oa, count, NBUCKETS * sizeof(size_t));
    return 0;
}
