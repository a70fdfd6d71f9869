/* SPDX-License-Identifier: MIT */
/* base.h - what every layer of rcgc shares (private; Lua's llimits.h).
 *
 *   assert levels    RCGC_ASSERT (cheap: on in debug builds, RCGC_DEBUG, and
 *                    in checked builds) and RCGC_ASSERT_EXPENSIVE (whole-list
 *                    and whole-heap walks: on only in checked builds,
 *                    RCGC_CHECKED, which `make debug` and so `make check`
 *                    turn on).  Off, both compile to nothing: the condition
 *                    is not evaluated (sizeof only keeps its names "used").
 *   checkpoints      checked builds end each mutating public call with its
 *                    layer's check (O(1) local, whole-structure amortised).
 *   fill bytes       the bytes debug builds write into new, freed and guard
 *                    memory, defined once.
 *   error path       rcgc_report / rcgc_fatal: one formatted line, given to
 *                    the handler registered with rcgc_register_error
 *                    (objalloc.h), else written to stderr; a fatal report
 *                    then aborts.  Every message names the call, the object
 *                    or pointer, and the check.
 *   hash map         RcgcMap: pointer -> word, open addressing (map.c); the
 *                    caller owns the slot memory, so objalloc's process-wide
 *                    large set (system malloc) and refcount's per-heap maps
 *                    (oa_meta_malloc) share the code.
 *
 * Process-wide state of the whole library (every mutable object with static
 * storage, listed here so that a new one is a visible decision):
 *   objalloc/addrmap.c   oa_map_root, map_lock: the arena address map
 *   objalloc/largeset.c  set: live large-block addresses (one struct)
 *   objalloc/large.c     quarantine (debug builds): freed large blocks
 *                        held back to name double and interior frees
 *   objalloc/retired.c   ring (debug builds): the ranges of freed mapped
 *                        blocks, kept reserved for the same purpose
 *   objalloc/arena.c     next_hint, unsupported: mmap placement hints
 *   objalloc/debug.c     thread_token (thread-local, debug): thread guard
 *   objalloc/region.c    new_error (thread-local): why this thread's last
 *                        oa_heap_new_* failed (oa_heap_error(NULL))
 *   cyclegc/collect.c    active (thread-local): the heap collecting on
 *                        this thread, to refuse nested collections and
 *                        destroys
 *   base/error.c         handler: the user's error handler
 * None of them is per-heap state: a second heap changes no heap's work.
 * Outside the library, pyalloc/pyalloc.c's `state` (the CPython hook that
 * pyext and the launcher compile) holds the one heap CPython allocates
 * from.
 */
#ifndef RCGC_BASE_H
#define RCGC_BASE_H

#include "objalloc/objalloc.h"

#include <stddef.h>
#include <stdint.h>

/* ---- assert levels -------------------------------------------------- */

#if defined(RCGC_CHECKED) && !defined(RCGC_DEBUG)
#error "RCGC_CHECKED builds are RCGC_DEBUG builds (CMake sets both)"
#endif
#if defined(RCGC_DEBUG) || defined(RCGC_CHECKED)
#define RCGC_ASSERTS 1
#else
#define RCGC_ASSERTS 0
#endif
#if defined(RCGC_CHECKED)
#define RCGC_EXPENSIVE 1
#else
#define RCGC_EXPENSIVE 0
#endif

#if RCGC_ASSERTS
#define RCGC_ASSERT(cond)                                                     \
    ((cond) ? (void)0 : rcgc_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define RCGC_ASSERT(cond) ((void)sizeof(!(cond)))
#endif
#if RCGC_EXPENSIVE
#define RCGC_ASSERT_EXPENSIVE(cond) RCGC_ASSERT(cond)
#else
#define RCGC_ASSERT_EXPENSIVE(cond) ((void)sizeof(!(cond)))
#endif

/* "rcgc: <file>:<line>: <func>: assertion failed: <cond>", then abort. */
_Noreturn void rcgc_assert_fail(const char *cond, const char *file, int line,
                                const char *func);

/* ---- checkpoints: the check at the end of a mutating call -----------
 *
 * In checked builds every mutating public call of a layer ends with a
 * checkpoint on its heap: an O(1) check of what the call touched (the
 * pool and the block handed out, the object's header, the list links
 * around the object), and, amortised, the layer's whole-structure check
 * (oa_heap_check's walk, refcount's counters and weakref lists,
 * gc_check).  Each heap counts its mutating calls; when the count
 * reaches the heap's budget the outermost call runs the whole check,
 * and the budget becomes max(RCGC_CHECK_MIN_CALLS, RCGC_CHECK_SPACING
 * times the work that check did: blocks by their 16-byte units, objects,
 * map slots visited).  A check of w units thus follows at least 8 w
 * calls, so the checks cost O(1) per call amortised (about a tenth more
 * CPU time on make check's suites), and every heap is walked at least
 * once per max(256, 8 x its size) calls.
 * Calls made inside another call of the same heap (a pressure callback,
 * a decref cascade, a finalizer during a collection) count, but the
 * check waits for the outermost one to end, when the structures are
 * whole.  A failed check reports what it found (RCGC_ERROR_CHECK), then
 * a fatal message naming the call and the heap, and aborts.  Release and
 * debug builds without RCGC_CHECKED have no checkpoint. */
#define RCGC_CHECK_MIN_CALLS 256
#define RCGC_CHECK_SPACING   8

/* Count one call; 1 when the whole check is due (the caller runs it and
 * then calls rcgc_check_done with the work it did). */
static inline int
rcgc_check_due(size_t *calls, size_t budget)
{
    return ++*calls >= budget;
}

static inline void
rcgc_check_done(size_t *calls, size_t *budget, size_t work)
{
    size_t spaced = work < SIZE_MAX / RCGC_CHECK_SPACING
                        ? work * RCGC_CHECK_SPACING
                        : SIZE_MAX;
    *calls = 0;
    *budget = spaced > RCGC_CHECK_MIN_CALLS ? spaced : RCGC_CHECK_MIN_CALLS;
}

/* ---- fill bytes of debug builds ------------------------------------- */

#define RCGC_FILL_NEW   0xCD /* handed out, not written yet */
#define RCGC_FILL_FREE  0xDD /* freed */
#define RCGC_FILL_GUARD 0xFD /* past the requested bytes */

/* ---- the error path ------------------------------------------------- */

/* Format one message and hand it to the user's handler (kind is one of
 * RCGC_ERROR_*, objalloc.h), or write it to stderr with a newline. */
void rcgc_report(int kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Report as RCGC_ERROR_FATAL, then abort() (also when the handler
 * returns). */
_Noreturn void rcgc_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* ---- hash map: pointer -> word -------------------------------------
 *
 * Open addressing with linear probing over a power-of-two array of
 * (key, value) slots; key 0 marks an empty slot, so 0 is never a key.
 * Deletion shifts the rest of the run back (no tombstones), so a lookup
 * stops at the first empty slot.  The caller provides memory: it asks
 * rcgc_map_wanted how many slots the map needs, allocates them zeroed,
 * hands them to rcgc_map_rehash and frees the old array it gets back.
 * Invariants: count <= cap / 2 after a reserve; for every key, every
 * slot from its home slot to its own is full. */
typedef struct RcgcMapEntry {
    uintptr_t key; /* 0: empty */
    uintptr_t val;
} RcgcMapEntry;

typedef struct RcgcMap {
    RcgcMapEntry *slots; /* cap entries, or NULL when cap == 0 */
    size_t cap;          /* 0 or a power of two */
    size_t count;        /* keys present */
} RcgcMap;

/* The capacity the map needs to take `extra` more keys: map->cap when it
 * has room, 0 on overflow. */
size_t rcgc_map_wanted(const RcgcMap *map, size_t extra);
/* Move every key into slots (cap entries, zeroed); returns the old array
 * (NULL when there was none) for the caller to free. */
RcgcMapEntry *rcgc_map_rehash(RcgcMap *map, RcgcMapEntry *slots, size_t cap);
/* The value of key, or 0 when absent. */
uintptr_t rcgc_map_get(const RcgcMap *map, uintptr_t key);
/* Insert or update; room must have been made. */
void rcgc_map_put(RcgcMap *map, uintptr_t key, uintptr_t val);
/* Remove key; returns its value, or 0 when absent. */
uintptr_t rcgc_map_remove(RcgcMap *map, uintptr_t key);
/* Every invariant above (for the expensive asserts); 1 when they hold. */
int rcgc_map_valid(const RcgcMap *map);

#endif /* RCGC_BASE_H */
