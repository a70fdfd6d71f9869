/* SPDX-License-Identifier: MIT */
/* large.c - blocks over OA_MEDIUM_MAX bytes, from the system malloc.
 *
 * Layout of one large block (system memory):
 *
 *   | OaLarge header (32 B) | user bytes (n) | guard (16 B, debug only) |
 *   ^ malloc'd base         ^ p (16-byte aligned: glibc gives 16)
 *
 * The heap links every large block through its header (destroy releases
 * them all); the process-wide large set records p, so that an unsized
 * free finds out it is ours without reading in front of a foreign pointer.
 * A block of OA_LARGE_MAP_MIN bytes or more (header included) is a mapping
 * of its own, kept for reuse when freed (is_mapped and the cache below say
 * why).
 *
 * Checked builds: the header and the guard are inaccessible to the program
 * (memcheck NOACCESS / ASan poison) and opened around our own accesses;
 * debug builds fill new bytes with 0xCD, freed ones with 0xDD, the guard
 * with 0xFD, check the guard on free, hold freed malloc'd blocks back
 * (the quarantine below) and retire freed mappings' ranges (retired.c),
 * so that double and interior frees are named.
 *
 * Invariants: p in large set iff p is a live large block of some heap;
 * heap->nlarge and heap->large_bytes are the count and the sum of n over
 * the heap's list; a block is mapped iff is_mapped(heap, n); heap->mcache[0 ..
 * nmcache) are freed mappings (none live), oldest first, of mcache_bytes
 * in all, at most MCACHE_MAX_BYTES.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#define _GNU_SOURCE     /* mremap */
#include "objalloc/internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static size_t
total_size(size_t nbytes)
{
    return sizeof(OaLarge) + nbytes + OA_LARGE_GUARD;
}

/* More than any system allocator gives (PTRDIFF_MAX); keeps the sums
 * below from wrapping. */
static bool
too_big(size_t nbytes)
{
    return nbytes >
           PTRDIFF_MAX - sizeof(OaLarge) - OA_LARGE_GUARD - OA_PAGE_SIZE;
}

/* A block whose total size is OA_LARGE_MAP_MIN or more is a mapping of
 * its own (mmap; munmap when freed; mremap when resized), not a malloc
 * chunk: its pages go back to the system the moment it is freed.  glibc
 * serves such a block from its heap once it has freed one of that size
 * (its mmap threshold rises), and a freed one then stays resident, under
 * the peak, while the program's other memory grows elsewhere: a CPython
 * json round trip of 9 MB strings peaked 4% higher for it.
 * Why 128 KiB (OA_LARGE_MAP_MIN) and not 1 MiB: a block that grows by
 * realloc across the threshold moves from a malloc chunk to a mapping by
 * a copy, the old and the new block both resident for a moment, where
 * glibc, whose threshold is 128 KiB, had it mapped already and moves it
 * with mremap.  The regex trace grows a list's array of 0.99 MB to 1.09
 * and 1.22 MB at its peak: with a 1 MiB threshold its peak RSS was 1.05x
 * pymalloc's, 0.99x with 128 KiB (rcgc-bench trace; json_docs 0.96 ->
 * 0.92, parse, compile and text lower too, testsuite 0.99 -> 1.00), at the
 * same time per call.  CPython on the heap (bench/pyworkloads, peak RSS
 * against pymalloc): json 0.967 -> 0.958, ast 1.000 -> 0.996, compileall
 * 0.993 -> 0.997, regex 1.004 -> 1.003.
 * A heap with an arena source (embedded use: no mmap) takes every large
 * block from the system malloc. */
static bool
is_mapped(const OaHeap *heap, size_t nbytes)
{
    return total_size(nbytes) >= OA_LARGE_MAP_MIN && heap->source == NULL;
}

static size_t
map_len(size_t nbytes)
{
    return (total_size(nbytes) + OA_PAGE_SIZE - 1) &
           ~(size_t)(OA_PAGE_SIZE - 1);
}

/* Huge pages where the kernel can use them: only for 2 MiB extents that
 * lie wholly inside the mapping, so its ends stay on small pages.  The
 * whole mapping is advised (one VMA, which mremap needs). */
static void
advise_huge(void *base, size_t len)
{
#ifdef MADV_HUGEPAGE
    (void)madvise(base, len, MADV_HUGEPAGE); /* a hint; errors are moot */
#else
    (void)base;
    (void)len;
#endif
}

size_t
oa_large_count_mapped(const OaHeap *heap)
{
    size_t n = 0;
    for (const OaLarge *h = heap->large; h != NULL;) {
        OaLarge copy = oa_large_read(h + 1);
        n += is_mapped(heap, copy.nbytes);
        h = copy.next;
    }
    return n;
}

/* ---- freed mappings kept for reuse (OaHeap.mcache) ------------------
 *
 * A freed mapping is kept for the next large block (up to OA_MCACHE_SLOTS
 * of them and 64 MiB, the oldest unmapped first) until the heap maps an
 * arena or is trimmed: a program that frees a big buffer and makes the
 * next one (bytes += ..., a file read in chunks) reuses its resident
 * pages instead of faulting in fresh ones each time (CPython growing a
 * bytes object by 100 bytes 12000 times, to 1.2 MB: 8.0 s, 11.0-12.4 s
 * without the cache, 10.7 s on pymalloc and glibc), while one whose other
 * memory grows gets the pages back before it does.  A mapping is advised
 * for transparent huge pages (the kernel's madvise mode), so that first
 * touching it costs a fault per 2 MiB instead of one per 4 KiB page (the
 * kernel uses them only for 2 MiB extents wholly inside it: the ends stay
 * on small pages). */

#define MCACHE_MAX_BYTES ((size_t)64 << 20)

/* Give a kept mapping back (debug builds: keep its range reserved, so
 * that its address names a double free; retired.c). */
static void
unmap(void *base, size_t len)
{
    oa_mem_open(base, len); /* no poison left on addresses reused later */
#if OA_DEBUG
    oa_retired_release(base, len);
#else
    munmap(base, len);
#endif
}

static void
mcache_drop(OaHeap *heap, unsigned i)
{
    RCGC_ASSERT(i < heap->nmcache &&
                heap->mcache_bytes >= heap->mcache[i].len);
    heap->mcache_bytes -= heap->mcache[i].len;
    heap->nmcache--;
    memmove(&heap->mcache[i], &heap->mcache[i + 1],
            (heap->nmcache - i) * sizeof heap->mcache[0]);
}

/* Keep a freed mapping, or unmap it: not with a memory limit (the heap
 * would hold memory its accounting does not see), nor when it is bigger
 * than the cache; the oldest go first to make room. */
static void
mcache_put(OaHeap *heap, void *base, size_t len)
{
    if (heap->limit != 0 || len > MCACHE_MAX_BYTES) {
        unmap(base, len);
        return;
    }
    while (heap->nmcache == OA_MCACHE_SLOTS ||
           heap->mcache_bytes + len > MCACHE_MAX_BYTES) {
        unmap(heap->mcache[0].base, heap->mcache[0].len);
        mcache_drop(heap, 0);
    }
    oa_mem_hide(base, len); /* a use after free is caught in checked builds */
    heap->mcache[heap->nmcache].base = base;
    heap->mcache[heap->nmcache].len = len;
    heap->nmcache++;
    heap->mcache_bytes += len;
    /* the cache's bounds (file opening) */
    RCGC_ASSERT(heap->nmcache <= OA_MCACHE_SLOTS &&
                heap->mcache_bytes <= MCACHE_MAX_BYTES);
}

/* For a block of len bytes, is a kept mapping of `have` bytes better than
 * one of `top`?  The smallest that holds it, else the biggest. */
static bool
fits_better(size_t have, size_t top, size_t len)
{
    if ((have >= len) != (top >= len)) {
        return have >= len;
    }
    return have >= len ? have < top : have > top;
}

/* A kept mapping resized to len (fits_better picks it), or NULL. */
static void *
mcache_take(OaHeap *heap, size_t len)
{
    if (heap->nmcache == 0) {
        return NULL;
    }
    unsigned best = 0;
    for (unsigned i = 1; i < heap->nmcache; i++) {
        if (fits_better(heap->mcache[i].len, heap->mcache[best].len, len)) {
            best = i;
        }
    }
    void *base = heap->mcache[best].base;
    size_t have = heap->mcache[best].len;
    mcache_drop(heap, best);
    oa_mem_open(base, have);
#if OA_DEBUG
    base = oa_retired_move(base, have); /* a new address (retired.c) */
    oa_mem_open(base, have);
#endif
    if (have != len) {
        void *m = mremap(base, have, len, MREMAP_MAYMOVE);
        if (m == MAP_FAILED) {
            munmap(base, have);
            return NULL;
        }
        base = m;
        oa_mem_open(base, len); /* checkers' view of the new addresses */
    }
    return base;
}

bool
oa_large_cache_flush(OaHeap *heap)
{
    bool any = heap->nmcache > 0;
    while (heap->nmcache > 0) {
        unmap(heap->mcache[0].base, heap->mcache[0].len);
        mcache_drop(heap, 0);
    }
    return any;
}

/* ---- system memory for one block ------------------------------------ */

/* System memory for a block of nbytes, or NULL; *fresh says whether it is
 * a new mapping (all zero). */
static OaLarge *
sys_get(OaHeap *heap, size_t nbytes, bool *fresh)
{
    *fresh = false;
    if (!is_mapped(heap, nbytes)) {
        return malloc(total_size(nbytes));
    }
    void *m = mcache_take(heap, map_len(nbytes));
    if (m != NULL) {
        return m;
    }
    m = mmap(NULL, map_len(nbytes), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        return NULL;
    }
    advise_huge(m, map_len(nbytes));
    *fresh = true;
    return m;
}

static void
sys_put(OaHeap *heap, OaLarge *h, size_t nbytes)
{
    if (is_mapped(heap, nbytes)) {
        mcache_put(heap, h, map_len(nbytes));
    }
    else {
        free(h);
    }
}

#if OA_DEBUG
static void sys_put_debug(OaHeap *heap, OaLarge *h, size_t nbytes);

/* Debug builds: a block that moves is copied into a new one and the old
 * goes through sys_put_debug (quarantined, or retired when mapped), so
 * that a free or realloc of the stale pointer is named as a double free;
 * realloc and mremap would free the old block behind the checks' back.
 * A block of the system allocator always moves (a stale pointer then
 * fails at once, in every test); a mapping grows or shrinks in place
 * when its neighbourhood allows. */
static OaLarge *
sys_resize_debug(OaHeap *heap, OaLarge *h, size_t old, size_t nbytes)
{
    if (is_mapped(heap, old) && is_mapped(heap, nbytes)) {
        void *m = mremap(h, map_len(old), map_len(nbytes), 0);
        if (m != MAP_FAILED) {
            return m;
        }
    }
    bool fresh;
    OaLarge *n = sys_get(heap, nbytes, &fresh);
    if (n != NULL) {
        memcpy(n, h, total_size(old < nbytes ? old : nbytes));
        sys_put_debug(heap, h, old);
    }
    return n;
}
#endif

/* Resize h (its whole old extent open to checkers) from old to nbytes, as
 * realloc does: the new block, or NULL with h intact. */
static OaLarge *
sys_resize(OaHeap *heap, OaLarge *h, size_t old, size_t nbytes)
{
#if OA_DEBUG
    return sys_resize_debug(heap, h, old, nbytes);
#else
    if (!is_mapped(heap, old) && !is_mapped(heap, nbytes)) {
        return realloc(h, total_size(nbytes));
    }
    if (is_mapped(heap, old) && is_mapped(heap, nbytes)) {
        void *m = mremap(h, map_len(old), map_len(nbytes), MREMAP_MAYMOVE);
        return m == MAP_FAILED ? NULL : m; /* the advice moves with it */
    }
    bool fresh;
    OaLarge *n = sys_get(heap, nbytes, &fresh); /* across: move */
    if (n != NULL) {
        memcpy(n, h, total_size(old < nbytes ? old : nbytes));
        sys_put(heap, h, old);
    }
    return n;
#endif
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

/* One attempt at a new large block; zeroed when zero is set. */
static void *
large_try(OaHeap *heap, size_t nbytes, bool zero)
{
    if (too_big(nbytes) || !oa_sys_allow(heap, OA_FAIL_LARGE, nbytes)) {
        return NULL;
    }
    bool fresh;
    OaLarge *h = sys_get(heap, nbytes, &fresh);
    if (h == NULL) {
        return NULL;
    }
    char *p = (char *)(h + 1);
    if (oa_largeset_add(p) != 0) {
        sys_put(heap, h, nbytes);
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
    if (zero && (OA_CHECKED || !fresh)) { /* a new mapping is all zero */
        memset(p, 0, nbytes);
    }
    return p;
}

static void *
large_new(OaHeap *heap, size_t nbytes, bool zero)
{
    void *p = large_try(heap, nbytes, zero);
    int stage = 0;
    while (p == NULL && oa_make_room(heap, nbytes, &stage)) {
        p = large_try(heap, nbytes, zero);
    }
    if (p == NULL) {
        heap->nfail++;
    }
    return p;
}

void *
oa_large_malloc(OaHeap *heap, size_t nbytes)
{
    return large_new(heap, nbytes, false);
}

void *
oa_large_calloc(OaHeap *heap, size_t nbytes)
{
    OA_ENTER(heap, "oa_calloc"); /* oa_calloc's only way in here */
    void *p = large_new(heap, nbytes, true);
    OA_LEAVE(heap);
    return p;
}

#if OA_DEBUG
/* ---- quarantine of freed blocks (debug builds) ---------------------
 *
 * A freed large block from the system malloc is not given back at once:
 * its memory (filled with 0xDD, hidden from checkers) stays in a ring of
 * the last QUARANTINE_SLOTS blocks (at most QUARANTINE_BYTES), so that a
 * second free of its address is recognised for sure (the address cannot
 * have been reused by another block meanwhile) and a free of an address
 * inside it is named.  Mappings (OA_LARGE_MAP_MIN and up) are not held
 * (their reuse cache is part of the behaviour under test): their
 * addresses are retired instead (retired.c).  Process-wide, under its
 * own lock (base.h lists it). */
#define QUARANTINE_SLOTS 64
#define QUARANTINE_BYTES ((size_t)64 << 20)

static struct {
    pthread_mutex_t lock;
    OaLarge *held[QUARANTINE_SLOTS]; /* oldest at first */
    size_t nbytes[QUARANTINE_SLOTS];
    unsigned first, n;
    size_t bytes;
} quarantine = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Hold h (freed, of nbytes user bytes); return the oldest block pushed
 * out (opened to checkers, for free), or NULL. */
static OaLarge *
quarantine_put(OaLarge *h, size_t nbytes, size_t *out_nbytes)
{
    OaLarge *out = NULL;
    pthread_mutex_lock(&quarantine.lock);
    if (quarantine.n == QUARANTINE_SLOTS ||
        quarantine.bytes + nbytes > QUARANTINE_BYTES) {
        unsigned i = quarantine.first;
        out = quarantine.held[i];
        *out_nbytes = quarantine.nbytes[i];
        quarantine.bytes -= quarantine.nbytes[i];
        quarantine.first = (i + 1) % QUARANTINE_SLOTS;
        quarantine.n--;
    }
    unsigned j = (quarantine.first + quarantine.n) % QUARANTINE_SLOTS;
    quarantine.held[j] = h;
    quarantine.nbytes[j] = nbytes;
    quarantine.bytes += nbytes;
    quarantine.n++;
    pthread_mutex_unlock(&quarantine.lock);
    if (out != NULL) {
        oa_mem_open(out, total_size(*out_nbytes));
    }
    return out;
}

/* Free the block (h open to checkers) or hold it in quarantine. */
static void
sys_put_debug(OaHeap *heap, OaLarge *h, size_t nbytes)
{
    if (is_mapped(heap, nbytes)) {
        oa_retired_add(h, map_len(nbytes), nbytes); /* retired.c */
        sys_put(heap, h, nbytes);
        return;
    }
    if (nbytes > QUARANTINE_BYTES) {
        sys_put(heap, h, nbytes);
        return;
    }
    oa_mem_hide(h, total_size(nbytes));
    size_t old_nbytes;
    OaLarge *old = quarantine_put(h, nbytes, &old_nbytes);
    if (old != NULL) {
        free(old);
    }
}

/* In order: p is a quarantined block (double free), inside one
 * (interior of a freed block), inside a live block (interior). */
void
oa_large_check_foreign(const char *fn, const void *p)
{
    const char *q = p;
    const char *freed = NULL;
    size_t nbytes = 0;
    pthread_mutex_lock(&quarantine.lock);
    /* Oldest first over the ring; the held blocks do not overlap (their
     * memory is still allocated), so at most one contains q. */
    for (unsigned k = 0; k < quarantine.n && freed == NULL; k++) {
        unsigned i = (quarantine.first + k) % QUARANTINE_SLOTS;
        const char *b = (const char *)(quarantine.held[i] + 1);
        if (b <= q && q < b + quarantine.nbytes[i]) {
            freed = b;
            nbytes = quarantine.nbytes[i];
        }
    }
    pthread_mutex_unlock(&quarantine.lock);
    oa_retired_check(fn, p); /* a freed mapping (retired.c) */
    if (freed == q) {
        oa_fatal(fn, p,
                 "double free: the large block of %zu bytes was already "
                 "freed",
                 nbytes);
    }
    if (freed != NULL) {
        oa_fatal(fn, p,
                 "interior pointer: %zu bytes into a freed large block of "
                 "%zu bytes at %p",
                 (size_t)(q - freed), nbytes, (const void *)freed);
    }
    const char *live = oa_largeset_containing(p);
    if (live != NULL) {
        oa_fatal(fn, p,
                 "interior pointer: %zu bytes into a large block of %zu "
                 "bytes at %p",
                 (size_t)(q - live), oa_large_read(live).nbytes,
                 (const void *)live);
    }
}
#define SYS_PUT sys_put_debug
#else
#define SYS_PUT sys_put
#endif

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
    RCGC_ASSERT(heap->nlarge > 0 && heap->large_bytes >= h->nbytes);
    RCGC_ASSERT(!oa_largeset_has(h + 1)); /* out of the set first */
    heap->nlarge--;
    heap->large_bytes -= h->nbytes;
    oa_mem_open(h, total_size(h->nbytes));
    SYS_PUT(heap, h, h->nbytes);
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

/* One attempt at resizing h (sys_resize).  On failure the
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
    OaLarge *n = sys_resize(heap, h, old, nbytes);
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
    RCGC_ASSERT(heap->large_bytes >= old); /* old is counted in it */
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

/* Resize a large block: try, and on failure make room (trim, pressure)
 * and try again, as an allocation does; NULL leaves p intact. */
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
        if (!too_big(nbytes) &&
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
    oa_large_cache_flush(heap);
}
