/* SPDX-License-Identifier: MIT */
/* retired.c - debug builds: the addresses of freed mapped large blocks
 * (OA_LARGE_MAP_MIN bytes and up) are remembered and not handed out
 * again, so that a second free, or a free of a pointer inside one, is
 * named and stops the process, even after another large block took the
 * freed mapping's pages.
 *
 * Why a scheme of its own: a freed mapping is kept for the next large
 * block (large.c's cache) and given back at its address, so by address
 * alone a double free of the old block and a free of the new one are the
 * same call.  Debug builds therefore keep each address retired:
 *   1. a mapped block is freed: a record (base, length, request) joins a
 *      ring of the last RETIRED_SLOTS freed mappings; the mapping itself
 *      stays in the heap's cache at its address (its pages resident);
 *   2. the cache hands the mapping to a new block: its pages move to a
 *      fresh address (mremap MREMAP_DONTUNMAP; else a move and a re-map
 *      of the old range, best effort when another thread maps memory in
 *      the same instant) and the old range stays reserved, PROT_NONE;
 *   3. the cache gives the mapping up (eviction, trim, heap destroyed, a
 *      memory limit): the range is replaced by a PROT_NONE reservation
 *      (no memory, address space only) instead of being unmapped;
 *   4. a pointer that no heap owns (large.c's foreign path) is looked up
 *      in the ring: the start of a record's block is a double free, an
 *      address inside its range an interior pointer;
 *   5. a record pushed out of the ring unmaps its reservation (a record
 *      whose mapping is still cached is only forgotten; the mapping gets
 *      a new record when it is reused or given up).
 * A use of freed memory inside a reservation faults (SIGSEGV) at once.
 * Invariants: records do not overlap; a reserved record owns a PROT_NONE
 * mapping of exactly its range; no live block lies in a record's range.
 * Process-wide (base.h lists it), under one lock.  Release builds: none
 * of this; a freed mapping is unmapped or reused at its address.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#define _GNU_SOURCE     /* mremap */
#include "objalloc/internal.h"

#if OA_DEBUG

#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4 /* Linux 5.7 */
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; a hint before */
#endif

#define RETIRED_SLOTS 64
#define NONE_FLAGS    (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

typedef struct Retired {
    char *base;    /* the mapping's start (its OaLarge header) */
    size_t len;    /* its length */
    size_t nbytes; /* the freed block's request (0: not known) */
    bool reserved; /* base..len is our PROT_NONE reservation */
} Retired;

static struct {
    pthread_mutex_t lock;
    Retired r[RETIRED_SLOTS]; /* a ring, oldest at first */
    unsigned first, n;
} ring = {.lock = PTHREAD_MUTEX_INITIALIZER};

static Retired *
at(unsigned k)
{
    return &ring.r[(ring.first + k) % RETIRED_SLOTS];
}

/* The record of the mapping at base, or NULL.  Lock held. */
static Retired *
find(const char *base)
{
    for (unsigned k = 0; k < ring.n; k++) {
        if (at(k)->base == base) {
            return at(k);
        }
    }
    return NULL;
}

/* Forget record r (lock held): the last record takes its slot. */
static void
drop(Retired *r)
{
    *r = *at(ring.n - 1);
    ring.n--;
}

#if RCGC_EXPENSIVE
/* rec overlaps no record (the invariant).  Lock held. */
static bool
disjoint(Retired rec)
{
    for (unsigned k = 0; k < ring.n; k++) {
        if (at(k)->base < rec.base + rec.len &&
            rec.base < at(k)->base + at(k)->len) {
            return false;
        }
    }
    return true;
}
#endif

/* Step 5, then append rec.  Lock held. */
static Retired *
push(Retired rec)
{
#if RCGC_EXPENSIVE
    RCGC_ASSERT(disjoint(rec)); /* the expensive level */
#endif
    if (ring.n == RETIRED_SLOTS) {
        Retired *old = at(0);
        if (old->reserved) {
            munmap(old->base, old->len);
        }
        ring.first = (ring.first + 1) % RETIRED_SLOTS;
        ring.n--;
    }
    Retired *r = at(ring.n++);
    *r = rec;
    return r;
}

/* Replace our own mapping base..len by a reservation (MAP_FIXED over a
 * range we own: nothing else can be there); false when the system
 * refused (then the range is unmapped). */
static bool
reserve_own(char *base, size_t len)
{
    void *m = mmap(base, len, PROT_NONE, NONE_FLAGS | MAP_FIXED, -1, 0);
    if (m == MAP_FAILED) {
        munmap(base, len);
        return false;
    }
    return true;
}

void
oa_retired_add(void *base, size_t len, size_t nbytes)
{
    pthread_mutex_lock(&ring.lock);
    Retired *r = find(base);
    if (r != NULL) {
        drop(r); /* cannot happen: records never overlap a live block */
    }
    push((Retired){base, len, nbytes, false});
    pthread_mutex_unlock(&ring.lock);
}

/* Step 3. */
void
oa_retired_release(void *base, size_t len)
{
    pthread_mutex_lock(&ring.lock);
    Retired *r = find(base);
    if (r == NULL) {
        r = push((Retired){base, len, 0, false});
    }
    r->len = len;
    r->reserved = reserve_own(base, len);
    if (!r->reserved) {
        drop(r);
    }
    pthread_mutex_unlock(&ring.lock);
}

/* Step 2 without MREMAP_DONTUNMAP (older kernels, Valgrind): move the
 * pages onto a fresh range, then reserve the hole left at base unless
 * something took it meanwhile.  The new address, or base when no move
 * was possible (then base is simply reused). */
static char *
move_fallback(char *base, size_t len, bool *reserved)
{
    *reserved = false;
    void *tmp = mmap(NULL, len, PROT_NONE, NONE_FLAGS, -1, 0);
    if (tmp == MAP_FAILED) {
        return base;
    }
    void *m = mremap(base, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, tmp);
    if (m == MAP_FAILED) {
        munmap(tmp, len);
        return base;
    }
    void *r =
        mmap(base, len, PROT_NONE, NONE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == (void *)base) {
        *reserved = true;
    }
    else if (r != MAP_FAILED) {
        munmap(r, len); /* a kernel that took the flag as a hint */
    }
    return m;
}

/* Step 2: the kept mapping at base is about to serve a new block. */
void *
oa_retired_move(void *base, size_t len)
{
    char *m = mremap(base, len, len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    bool reserved;
    if (m != MAP_FAILED) {
        reserved = reserve_own(base, len); /* base: ours, without pages */
    }
    else {
        m = move_fallback(base, len, &reserved);
    }
    pthread_mutex_lock(&ring.lock);
    Retired *r = find(base);
    if (r == NULL && reserved) {
        r = push((Retired){base, len, 0, false});
    }
    if (r != NULL) {
        r->len = len;
        r->reserved = reserved;
        if (!reserved) {
            drop(r); /* base is handed out again: nothing to remember */
        }
    }
    pthread_mutex_unlock(&ring.lock);
    return m;
}

/* Step 4. */
void
oa_retired_check(const char *fn, const void *p)
{
    const char *q = p;
    Retired hit = {NULL, 0, 0, false};
    pthread_mutex_lock(&ring.lock);
    /* Records do not overlap: at most one holds q. */
    for (unsigned k = 0; k < ring.n && hit.base == NULL; k++) {
        if (at(k)->base <= q && q < at(k)->base + at(k)->len) {
            hit = *at(k);
        }
    }
    pthread_mutex_unlock(&ring.lock);
    if (hit.base == NULL) {
        return;
    }
    const char *block = hit.base + sizeof(OaLarge);
    if (q == block && hit.nbytes != 0) {
        oa_fatal(fn, p,
                 "double free: the large block of %zu bytes was already "
                 "freed (a mapping of its own)",
                 hit.nbytes);
    }
    if (q == block) {
        oa_fatal(fn, p,
                 "double free: the large block (a mapping of %zu bytes) was "
                 "already freed",
                 hit.len);
    }
    oa_fatal(fn, p,
             "interior pointer: %td bytes into a freed large block at %p (a "
             "mapping of %zu bytes)",
             q - block, (const void *)block, hit.len);
}

#endif /* OA_DEBUG */
