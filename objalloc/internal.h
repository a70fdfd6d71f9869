/* SPDX-License-Identifier: MIT */
/* internal.h - objalloc's private structures, shared helpers and hooks.
 *
 * Layers of memory (64-bit constants):
 *
 *   arena  1 MiB, mmap'd, aligned to 1 MiB, registered in the process-wide
 *   |      address map (addrmap.c) so "is p ours?" is one load.
 *   +-- pool 0 | pool 1 | ... | pool 63        16 KiB each, 16 KiB aligned
 *         |
 *         +-- head (48 B, unused) | block | block | ... | uncarved ...
 *
 *   OaArena (system memory, one per arena)
 *   +-- base, lists, counts ... | OaPool[0] | OaPool[1] | ... | OaPool[63]
 *                                 64 B each: pool i's metadata
 *
 * Pool metadata lives apart from the blocks, in a compact array at the
 * end of its arena's OaArena: pool i of an arena is arena->pool[i],
 * found from a block by the address map entry and the block's offset in
 * its arena (oa_pool_at).  With the header at the start of each pool (as
 * pymalloc has it), every header sat at a 16 KiB-aligned address: all of
 * them fell into the same 16 of the 4096 sets of a 4 MiB L2 cache (and
 * one set of L1), so a free into one of the ~1600 pools of a 100k-block
 * churn missed the cache nearly every time (cachegrind: 0.83 L2 read
 * misses per oa_free, mimalloc 0.1).  In the array the metadata of 64
 * pools spans 64 lines that map to 64 different sets; a free touches the
 * block and one line of metadata, no page that holds only a header.
 *
 *   The first block of a pool still starts 48 bytes into it, where it
 *   lay behind pymalloc's 48-byte header: every block's PyObject (after
 *   CPython's 16-byte GC head) then starts where pymalloc's would.  With
 *   blocks at +64 CPython's full collections over the same objects took
 *   11-12% longer (ast trees, 720k objects; the object placement was
 *   otherwise the same); blocks at +48 ran at pymalloc's speed.
 *
 *   A block of class c (0..31) holds 16 * (c + 1) bytes.  In checked builds
 *   (OA_CHECKED: RCGC_DEBUG, RCGC_VALGRIND or RCGC_ASAN) every block is
 *   followed by a 16-byte trailer, so its stride is the class size + 16:
 *
 *     | user bytes (requested n) | slack ... | guard 8 B | size_t n |
 *       <---------- class size -----------> <---- trailer ------>
 *
 *   Bytes n .. class size + 8 are guard bytes (0xFD in debug builds), and
 *   the last word holds the request n, or OA_FREED_MARK for a freed block
 *   (its bytes after the free-list link hold 0xDD in debug builds), or
 *   OA_FRESH_MARK for a block carved but never handed out.
 *
 * Pool states (a pool's state follows from its fields):
 *   uncarved  never initialised: beyond arena->ncarved; its metadata zero
 *             but for mem and arena.
 *   used      heap != NULL, on heap->cls[c].avail, free != NULL.  A used
 *             pool may be empty (nused == 0) only as the sole pool of its
 *             class list (kept against alloc/free thrash; oa_heap_trim
 *             releases it, and another class of its kind may take it).
 *   full      heap != NULL, on no list, free == NULL, bump > limit.
 *   empty     heap == NULL, its bit set in its arena's freemap (reusable by any
 *             class).
 *
 * Medium classes (32..55, requests of 513 B .. 32 KiB) are served the
 * same way from 64 KiB spans, 16 to an arena that holds only spans (its
 * address map entry carries OA_MAP_MEDIUM, so that a free finds the
 * span of a block with a shift two bits wider, no branch):
 *
 *   medium arena  1 MiB, 16 spans of 64 KiB, 64 KiB aligned
 *   +-- head (48 B, unused) | block | block | ... | tail (never touched)
 *
 * Class sizes go eight per doubling (oa_class_size), so a request gets
 * less than 1.125x its size; a span holds (64 KiB - 48) / stride blocks
 * (1 of 32 KiB, 3 of 16 KiB, 113 of 576 B) and its tail is address space
 * only.  (Four per doubling, 25% waste, cost CPython's compiler 1 MiB of
 * peak RSS: its 8224-byte arena blocks took 10240 bytes each.)
 * Everything said of pools below holds for spans; only their size (by
 * class: oa_pool_unit) and their arenas differ.
 *
 * Large blocks (over OA_MEDIUM_MAX) come from the system malloc (from
 * OA_LARGE_MAP_MIN on, from a mapping of their own) with an OaLarge header
 * in front; the heap keeps them on a list and the process-wide large set
 * (largeset.c) records their addresses, so that an unsized free
 * recognises them without reading foreign memory.
 */
#ifndef RCGC_OBJALLOC_INTERNAL_H
#define RCGC_OBJALLOC_INTERNAL_H

#include "base/base.h"
#include "objalloc/objalloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(RCGC_VALGRIND)
#include <valgrind/memcheck.h>
#endif
#if defined(RCGC_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#define OA_LIKELY(x)   __builtin_expect(!!(x), 1)
#define OA_UNLIKELY(x) __builtin_expect(!!(x), 0)

#if defined(RCGC_DEBUG) || defined(RCGC_VALGRIND) || defined(RCGC_ASAN)
#define OA_CHECKED 1
#else
#define OA_CHECKED 0
#endif
#if defined(RCGC_DEBUG)
#define OA_DEBUG 1
#else
#define OA_DEBUG 0
#endif

/* ---- constants ------------------------------------------------------ */

#define OA_ALIGN_SHIFT     4
#define OA_POOL_HEAD       48    /* bytes before a pool's first block */
#define OA_CARVE_BYTES     512   /* carved per refill (at least a block) */
#define OA_PAGE_SIZE       4096u /* prefault granule (arena.c) */
#define OA_MCACHE_SLOTS    4     /* freed mappings kept (large.c) */
#define OA_SHRINK_RUN      16    /* unmaps in a row: decommit the spare */
#define OA_POOLS_PER_ARENA (OA_ARENA_SIZE / OA_POOL_SIZE) /* 64 */
#define OA_SPANS_PER_ARENA (OA_ARENA_SIZE / OA_SPAN_SIZE) /* 16 */
#define OA_TRAILER         (OA_CHECKED ? 16u : 0u)
#define OA_FREED_MARK      ((size_t)-1) /* freed: filled with 0xDD */
#define OA_FRESH_MARK      ((size_t)-2) /* carved, never handed out */
#define OA_IS_FREE_MARK(v) ((v) >= OA_FRESH_MARK)
#define OA_POOL_SHIFT      14
#define OA_POOL_MASK       ((uintptr_t)OA_POOL_SIZE - 1)
#define OA_SPAN_MASK       ((uintptr_t)OA_SPAN_SIZE - 1)
#define OA_ARENA_MASK      ((uintptr_t)OA_ARENA_SIZE - 1)

/* Fill bytes of debug builds (defined once, in base/base.h). */
#define OA_FILL_NEW   RCGC_FILL_NEW
#define OA_FILL_FREE  RCGC_FILL_FREE
#define OA_FILL_GUARD RCGC_FILL_GUARD

/* Arena kinds: pools of small classes, or spans of medium ones. */
enum { OA_KIND_SMALL, OA_KIND_MEDIUM, OA_NKINDS };

/* Bytes of a block of class c: 16 (c + 1) for the small classes; for the
 * medium ones (9 + q) << (6 + d), class 32 + 8 d + q (q in 0..7): 576,
 * 640, ... 1024, 1152, ... 8192, 9216, ... 32768. */
static inline size_t
oa_class_size(size_t c)
{
    if (c < OA_NSMALL) {
        return (c + 1) << OA_ALIGN_SHIFT;
    }
    size_t i = c - OA_NSMALL;
    return (9 + (i & 7)) << (6 + (i >> 3));
}
#define OA_CLASS_SIZE(c) oa_class_size(c)

/* The medium class of a request of 513 .. OA_MEDIUM_MAX bytes: with
 * m = n - 1 and b its top bit (9..14), the three bits under b pick one of
 * the eight classes of the doubling. */
static inline size_t
oa_medium_class(size_t nbytes)
{
    size_t m = nbytes - 1;
    unsigned b = 63u - (unsigned)__builtin_clzll(m);
    return OA_NSMALL + (b - 9) * 8 + ((m >> (b - 3)) & 7);
}

typedef struct OaBlock {
    struct OaBlock *next; /* the next free block of the pool */
} OaBlock;

typedef struct OaArena OaArena;
typedef struct OaPool OaPool;
typedef struct OaMetaSlab OaMetaSlab;

/* Pool metadata: one 64-byte line per pool (or span), in its arena's
 * pool[] array, never in the pool's own memory.
 * Invariants: nused + (blocks on free) + (uncarved blocks) == capacity;
 * a used pool has free != NULL (alloc pops without testing); a full pool
 * has free == NULL and bump > limit; mem == arena->base + i * unit for
 * arena->pool[i]. */
struct OaPool {
    OaBlock *free;   /* free list head (freed or carved-not-handed blocks) */
    uint32_t nused;  /* blocks handed out and not freed */
    uint16_t cls;    /* size class index */
    uint16_t stride; /* class size + OA_TRAILER */
    char *bump;      /* next uncarved block; blocks below it are carved */
    OaPool *next;    /* class list, or the arena's free-pool list */
    OaPool *prev;    /* class list only */
    OaHeap *heap;    /* owner while used or full; NULL while empty */
    char *mem;       /* the pool's memory (unit aligned; set for life) */
    OaArena *arena;  /* the arena whose pool[] holds this (for life) */
};

/* An arena's bookkeeping lives apart from the arena (so all 64 pools are
 * usable), in a slot of a slab of the heap's (arenameta.c), with the
 * metadata of its pools at its end.  nfree counts
 * pools that can serve a new class: freemap's pools plus the uncarved
 * tail.
 * Arenas with nfree in 1..units sit in the heap's bucket[kind][nfree - 1]
 * (fullest first = lowest bucket). */
struct OaArena {
    char *base; /* 1 MiB aligned */
    OaHeap *heap;
    uint64_t freemap;  /* bit i: pool i is carved and empty; the lowest is
                          taken first (blocks in address order) */
    uint32_t nfree;    /* empty + uncarved pools */
    uint32_t ncarved;  /* pools 0 .. ncarved-1 have been initialised */
    uint32_t kind;     /* OA_KIND_SMALL: 64 pools; OA_KIND_MEDIUM: 16
                          spans (its units: oa_arena_units) */
    uint64_t fresh;    /* bit i: pool i is in its first use, its pages
                          past the carved blocks never touched */
    uint64_t released; /* bit i: pool i is empty and its pages were given
                          back (oa_trim: decommit) */
    OaArena *next;     /* bucket list */
    OaArena *prev;
    OaArena *all_next; /* every arena of the heap */
    OaArena *all_prev;
    OaMetaSlab *slab;           /* the slab this bookkeeping lies in */
    _Alignas(64) OaPool pool[]; /* one per unit, 64-byte lines */
};

/* Header in front of a large block; 32 bytes keeps 16-byte alignment. */
typedef struct OaLarge {
    struct OaLarge *next; /* the heap's large blocks */
    struct OaLarge *prev;
    OaHeap *heap;
    size_t nbytes; /* the request */
} OaLarge;

#define OA_LARGE_GUARD (OA_DEBUG ? 16u : 0u)

/* Per class: the head of the list of used pools, and cheap counters. */
typedef struct OaClass {
    uint64_t nmalloc;   /* blocks handed out, ever */
    OaPool *avail;      /* used pools; allocation takes from the head */
    uint64_t requested; /* bytes requested by those, ever */
} OaClass; /* (avail between the counters: no vectorised update of both) */

struct OaHeap {
    OaClass cls[OA_NCLASSES]; /* hot: the fast path reads only this */

    /* arenas, by kind */
    OaArena *bucket[OA_NKINDS][OA_POOLS_PER_ARENA]; /* [kind][k]: arenas
                                                       with nfree == k + 1 */
    uint64_t bucket_mask[OA_NKINDS]; /* bit k set: bucket[kind][k] used */
    OaArena *arenas;                 /* every arena (all_next list) */
    OaMetaSlab *metaslabs; /* slabs of arena bookkeeping (arenameta.c) */
    struct {
        void *base;
        size_t len;
    } mcache[OA_MCACHE_SLOTS]; /* freed mappings, oldest first (large.c) */
    unsigned nmcache;
    size_t mcache_bytes;
    OaPool *avail_tail[OA_NCLASSES]; /* the last pool of cls[c].avail (a
                                        full pool that gets a block back
                                        joins there: oa_pool_relink) */
    uint64_t kept_seen[OA_NCLASSES]; /* cls[k].nmalloc at the last
                                            steal_kept (arena.c) */
    bool steal_credit;   /* a fresh pool was carved since the last steal of
                          an idle class's kept pool (arena.c) */
    unsigned shrink_run; /* arenas unmapped since one was last mapped */
    size_t narenas;
    size_t narenas_high;
    uint64_t arenas_allocated;
    uint64_t arenas_released;

    /* large blocks */
    OaLarge *large;
    size_t nlarge;
    size_t large_bytes;
    uint64_t nlarge_malloc; /* large blocks handed out, ever */

    size_t meta_bytes;

    /* limit, pressure, failure injection */
    size_t limit;
    OaPressureFn pressure;
    void *pressure_ctx;
    int in_pressure;
    unsigned fail_kinds;
    int fail_sticky;
    uint64_t fail_k;
    uint64_t sys_requests;

    /* calls */
    uint64_t ncalloc;
    uint64_t nrealloc;
    uint64_t nfail;

    void *user;

    /* arenas from the caller (oa_heap_new_with_source / _in_region):
     * source == &src, else NULL (mmap) */
    const OaArenaSource *source;
    OaArenaSource src;
    struct OaRegion *region; /* the region source's state, or NULL */
    char error[200];         /* why the last failure failed ("" none) */
#if OA_DEBUG
    _Atomic uintptr_t owner; /* thread token while inside a call */
    unsigned depth;          /* nested calls of the owner thread */
    const char *fn;          /* the outermost call inside the heap */
#endif
#if RCGC_EXPENSIVE
    size_t check_calls;  /* calls since the last whole check (base.h) */
    size_t check_budget; /* calls between whole checks */
#endif
};

/* ---- process-wide address map (addrmap.c) --------------------------- */

#define OA_MAP_ADDR_BITS 48 /* user space of x86-64 and arm64 */
#define OA_MAP_ENTRIES   ((size_t)1 << (OA_MAP_ADDR_BITS - 20)) /* 2^28 */

/* An entry: the OaArena's address, | OA_MAP_MEDIUM for an arena of
 * medium spans; 0 for none. */
#define OA_MAP_MEDIUM ((uintptr_t)1)

/* The map: one entry per MiB of address space (addrmap.c).  oa_map_limit
 * is 0 until the map is reserved (by the first arena), OA_MAP_ENTRIES
 * after; oa_map is set before the limit is published. */
extern __attribute__((visibility("hidden"))) _Atomic size_t oa_map_limit;
extern __attribute__((visibility("hidden"))) _Atomic uintptr_t *oa_map;

/* The entry of p when the flat map is not in use (addrmap.c: the
 * process could not reserve it and keeps a two-level tree instead); 0
 * when it is (p is then past the map's range). */
uintptr_t oa_addrmap_entry_slow(const void *p);

/* The map entry of the arena holding p, or 0: one load of the map (after
 * the limit's, a line every lookup shares), reads no foreign memory. */
static inline uintptr_t
oa_addrmap_entry(const void *p)
{
    uintptr_t i = (uintptr_t)p >> 20;
    if (OA_UNLIKELY(
            i >= atomic_load_explicit(&oa_map_limit, memory_order_acquire))) {
        return oa_addrmap_entry_slow(p);
    }
    return atomic_load_explicit(&oa_map[i], memory_order_acquire);
}

static inline OaArena *
oa_entry_arena(uintptr_t e)
{
    return (OaArena *)(e & ~OA_MAP_MEDIUM);
}

/* The arena holding p, or NULL. */
static inline OaArena *
oa_addrmap_lookup(const void *p)
{
    return oa_entry_arena(oa_addrmap_entry(p));
}
int oa_addrmap_insert(OaArena *arena);
/* Choose the map (reserve the flat one) before the first arena is
 * mapped, so that the 2 GiB reservation does not land between a heap's
 * first arena and the next ones (the kernel maps top-down): a heap whose
 * arenas spanned that gap would spread its address range over 2 GiB,
 * which the collector's address buckets assume it does not. */
void oa_addrmap_prepare(void);
void oa_addrmap_remove(OaArena *arena);
/* 1 when the process uses the flat map, 0 when the tree (the flat map's
 * reservation failed), -1 before its first arena (tests). */
int oa_addrmap_mode(void);
/* Tests: make the first arena's reservation of the flat map fail, as an
 * address-space limit would (no effect once an arena exists). */
void oa_addrmap_refuse_flat(void);

/* ---- process-wide set of large block addresses (largeset.c) --------- */

int oa_largeset_add(const void *p);
bool oa_largeset_remove(const void *p);
bool oa_largeset_has(const void *p);
#if OA_DEBUG
/* The live large block that p points inside of (not at its start), or
 * NULL.  O(live large blocks). */
const void *oa_largeset_containing(const void *p);
#endif

/* ---- heap helpers (heap.c) ------------------------------------------ */

/* Record why a request failed (oa_heap_error): "objalloc: heap <h>: "
 * and the formatted reason. */
void oa_heap_set_error(OaHeap *heap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* May the heap ask the system for nbytes more of this kind?  Counts the
 * request for failure injection and checks the memory limit. */
bool oa_sys_allow(OaHeap *heap, unsigned kind, size_t nbytes);
/* A system request failed: make room and say whether to retry.  Stage 0:
 * trim what the heap keeps for reuse; stage 1: run the pressure callback
 * (once, never re-entered) and trim again.  *stage starts at 0. */
bool oa_make_room(OaHeap *heap, size_t nbytes, int *stage);
/* Release kept empty pools, the spare arenas, freed large mappings, and
 * the pages of empty pools in partly used arenas; true if any was. */
bool oa_trim(OaHeap *heap);
size_t oa_held_bytes(const OaHeap *heap);

/* ---- arenas from the caller (region.c) ------------------------------ */

/* Record that heap->source had no arena left (oa_heap_error). */
void oa_source_exhausted(OaHeap *heap);
/* Free the region source's state (oa_heap_destroy, arenas gone). */
void oa_region_free(OaHeap *heap);

/* ---- arena bookkeeping (arenameta.c) -------------------------------- */

/* Zeroed bookkeeping for an arena of this kind (its pools' metadata
 * included), kind set; NULL when the system has no memory for it. */
OaArena *oa_arena_meta_new(OaHeap *heap, unsigned kind);
void oa_arena_meta_free(OaHeap *heap, OaArena *a);
/* Does a's slab record a's slot as in use?  (oa_heap_check) */
bool oa_arena_meta_holds(const OaArena *a);
/* Slots in use over the heap's slabs, or (size_t)-1 when the slab list
 * is damaged (links, an empty slab kept).  (oa_heap_check) */
size_t oa_arena_meta_slots(const OaHeap *heap);
/* Bytes of the slabs the heap holds for arena bookkeeping. */
size_t oa_arena_meta_bytes(const OaHeap *heap);

/* ---- arenas and pools (arena.c) ------------------------------------- */

/* A fresh pool for class c at the head of heap->cls[c].avail, or NULL
 * when no arena could be mapped. */
OaPool *oa_pool_new(OaHeap *heap, size_t c);
/* The pool's free list ran dry on an allocation: carve the next few
 * blocks or, when none is left, take the now full pool off its class
 * list. */
void oa_pool_refill(OaPool *pool);
/* A full pool got a block back: put it at the tail of its class list. */
void oa_pool_relink(OaPool *pool);
/* A pool's last block came back: return it to its arena, unless it is
 * the only pool of its class (kept, so that one block allocated and freed
 * in a loop does not move a pool to its arena and back every time). */
void oa_pool_emptied(OaPool *pool);
/* Return an empty pool to its arena (unmapping the arena when it empties
 * and a spare is already kept). */
void oa_pool_release(OaPool *pool);
/* Unmap every arena of the heap. */
void oa_arenas_destroy(OaHeap *heap);

/* The pool or span of p, inside the arena whose map entry is e: p's
 * offset in the arena shifted by the unit's bits (wider: two more for a
 * medium arena, 16 KiB -> 64 KiB) indexes the arena's metadata array. */
static inline OaPool *
oa_pool_in_arena(uintptr_t e, const void *p, unsigned wider)
{
    unsigned shift = OA_POOL_SHIFT + wider;
    return &oa_entry_arena(e)->pool[((uintptr_t)p & OA_ARENA_MASK) >> shift];
}

/* The same in an arena of pools (e has no OA_MAP_MEDIUM): the byte
 * offset of p's line in the array is p's pool index (bits 19..14) times
 * 64, written as one shift and one mask of p. */
static inline OaPool *
oa_pool_small(uintptr_t e, const void *p)
{
    uintptr_t line = ((uintptr_t)p >> (OA_POOL_SHIFT - 6)) &
                     ((uintptr_t)(OA_POOLS_PER_ARENA - 1) << 6);
    return (OaPool *)((char *)((OaArena *)e)->pool + line);
}
_Static_assert(sizeof(OaPool) == 64, "pool metadata is one 64-byte line");

/* A branch on the entry's kind, not a shift by it: a shift by a variable
 * took seven instructions (the count moved to %cl) on every free, the
 * branch two, and a heap's frees go nearly all to one kind. */
static inline OaPool *
oa_pool_at(uintptr_t e, const void *p)
{
    if (OA_LIKELY((e & OA_MAP_MEDIUM) == 0)) {
        return oa_pool_small(e, p);
    }
    return oa_pool_in_arena(e, p, 2);
}
_Static_assert((OA_POOL_SIZE << 2) == OA_SPAN_SIZE, "span = 4 pools");
_Static_assert(((size_t)1 << OA_POOL_SHIFT) == OA_POOL_SIZE, "pool shift");

/* The same from the arena itself. */
static inline OaPool *
oa_arena_pool(const OaArena *a, const void *p)
{
    uintptr_t e =
        (uintptr_t)a | (a->kind == OA_KIND_MEDIUM ? OA_MAP_MEDIUM : 0);
    return oa_pool_at(e, p);
}

/* Bytes of one unit (pool or span) of an arena of this kind, and units
 * per arena. */
static inline size_t
oa_kind_unit(unsigned kind)
{
    return kind == OA_KIND_MEDIUM ? OA_SPAN_SIZE : OA_POOL_SIZE;
}

static inline unsigned
oa_arena_units(const OaArena *a)
{
    return a->kind == OA_KIND_MEDIUM ? OA_SPANS_PER_ARENA : OA_POOLS_PER_ARENA;
}

/* The size of a serving pool or span (by its class). */
static inline size_t
oa_pool_unit(const OaPool *pool)
{
    return pool->cls < OA_NSMALL ? OA_POOL_SIZE : OA_SPAN_SIZE;
}

static inline char *
oa_pool_first(const OaPool *pool)
{
    return pool->mem + OA_POOL_HEAD;
}

/* The highest address a block of the pool may start at. */
static inline char *
oa_pool_limit(const OaPool *pool)
{
    return pool->mem + oa_pool_unit(pool) - pool->stride;
}

/* The arena holding a pool. */
static inline OaArena *
oa_pool_arena(const OaPool *pool)
{
    return pool->arena;
}

/* Is pool one of arena a's?  (Its metadata lies in a's array.) */
static inline bool
oa_pool_in(const OaPool *pool, const OaArena *a)
{
    return pool >= a->pool && pool < a->pool + oa_arena_units(a) &&
           pool->mem ==
               a->base + (size_t)(pool - a->pool) * oa_kind_unit(a->kind);
}

/* ---- large blocks (large.c) ----------------------------------------- */

void *oa_large_malloc(OaHeap *heap, size_t nbytes);
void oa_large_free(OaLarge *hdr, const char *fn);
/* Resize large block p to nbytes > OA_MEDIUM_MAX with the system realloc
 * (in place when it can); NULL on failure with p untouched. */
void *oa_large_realloc(void *p, size_t nbytes);
void oa_large_destroy_all(OaHeap *heap);
#if OA_DEBUG
/* p is about to go to the system free as a foreign pointer: abort with a
 * message when it is a large block freed before (still in quarantine) or
 * points inside a live or quarantined large block. */
void oa_large_check_foreign(const char *fn, const void *p);
#endif
#if OA_DEBUG
/* retired.c: freed mapped blocks' addresses, not handed out again (see
 * its opening).  A mapped block of nbytes at base..len was freed: */
void oa_retired_add(void *base, size_t len, size_t nbytes);
/* Give our kept mapping at base up: reserved (PROT_NONE), not unmapped. */
void oa_retired_release(void *base, size_t len);
/* The kept mapping at base serves a new block: its pages moved to the
 * address returned, base reserved. */
void *oa_retired_move(void *base, size_t len);
/* p lies in a freed mapping: abort naming a double or interior free. */
void oa_retired_check(const char *fn, const void *p);
#endif
/* A large block of nbytes, zeroed (no page of a new mapping is written). */
void *oa_large_calloc(OaHeap *heap, size_t nbytes);
/* Unmap the freed mappings kept for reuse; true if there were any. */
bool oa_large_cache_flush(OaHeap *heap);
/* How many of the heap's large blocks are mappings (walks its list). */
size_t oa_large_count_mapped(const OaHeap *heap);
static inline OaLarge *
oa_large_hdr(const void *p)
{
    return (OaLarge *)p - 1;
}
/* Read a large header field under the memcheck/ASan hooks. */
OaLarge oa_large_read(const void *p);

/* ---- debug (debug.c) ------------------------------------------------ */

/* "objalloc: <fn>: heap is NULL" (RCGC_ERROR_MISUSE); returns NULL, the
 * error value of the calls that take a heap. */
void *oa_null_heap(const char *fn);

/* "objalloc: <fn>: pointer <p>: <what>" through the error path (base.h),
 * then abort(). */
_Noreturn void oa_fatal(const char *fn, const void *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn void oa_fatal_heap(const char *fn, const OaHeap *heap,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#if OA_CHECKED
/* Set a block up for a request of n bytes (trailer, fill, hooks). */
void oa_block_handout(OaHeap *heap, OaPool *pool, char *b, size_t n);
/* Tear a live block down before it goes on the free list. */
void oa_block_takeback(OaHeap *heap, OaPool *pool, char *b);
/* The stored request of a live block. */
size_t oa_block_requested(const OaPool *pool, const char *b);
/* Resize a live block in place to n bytes (n <= class size). */
void oa_block_resize(OaHeap *heap, OaPool *pool, char *b, size_t n);
/* Trailer word of a block (live or free). */
size_t oa_block_trailer(const OaPool *pool, const char *b);
void oa_block_set_trailer(const OaPool *pool, char *b, size_t v);
/* First byte of a freed block (after its link) that is not 0xDD, or -1:
 * a write after free (debug builds; -1 otherwise). */
long oa_block_bad_fill(const OaPool *pool, const char *b);
/* First damaged guard byte of a live block, or -1. */
long oa_block_bad_guard(const OaPool *pool, const char *b, size_t n);
#endif
#if OA_DEBUG
/* Every check on a pointer about to be freed (or resized). */
void oa_debug_check_small(const char *fn, OaArena *arena, const void *p);
#endif
/* oa_heap_check, adding to *work what it visited (the checkpoint's
 * budget, base.h): arenas, pools, large blocks, and each carved block by
 * its 16-byte units (its fill and guard bytes are read). */
int oa_heap_walk(const OaHeap *heap, size_t *work);

/* ---- thread guard (debug builds) ------------------------------------ */

/* The guard brackets every call that changes a heap (OA_ENTER ...
 * OA_LEAVE); when the outermost one leaves, checked builds run the
 * heap's checkpoint (base.h): oa_heap_check's walk when due. */

#if OA_DEBUG
void oa_guard_enter(OaHeap *heap, const char *fn);
void oa_guard_leave(OaHeap *heap);
#define OA_ENTER(h, fn) oa_guard_enter((h), (fn))
#define OA_LEAVE(h)     oa_guard_leave(h)
#else
#define OA_ENTER(h, fn) ((void)(h), (void)(fn))
#define OA_LEAVE(h)     ((void)(h))
#endif

/* ---- memcheck / ASan hooks: all compile to nothing when off --------- */

/* Make [p, p+n) inaccessible to the program. */
static inline void
oa_mem_hide(const void *p, size_t n)
{
    (void)p;
    (void)n;
#if defined(RCGC_VALGRIND)
    VALGRIND_MAKE_MEM_NOACCESS(p, n);
#endif
#if defined(RCGC_ASAN)
    ASAN_POISON_MEMORY_REGION(p, n);
#endif
}

/* Make our own metadata at [p, p+n) readable and writable (defined). */
static inline void
oa_mem_open(const void *p, size_t n)
{
    (void)p;
    (void)n;
#if defined(RCGC_VALGRIND)
    VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
}

/* Make [p, p+n) accessible but undefined (fresh memory for the user). */
static inline void
oa_mem_undefined(const void *p, size_t n)
{
    (void)p;
    (void)n;
#if defined(RCGC_VALGRIND)
    VALGRIND_MAKE_MEM_UNDEFINED(p, n);
#endif
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
}

/* Close the tail [b+n, b+stride) of a live block again after our own
 * access to it, leaving the user's n bytes as they were. */
static inline void
oa_mem_close_tail(const char *b, size_t n, size_t stride)
{
    (void)b;
    (void)n;
    (void)stride;
#if defined(RCGC_VALGRIND)
    VALGRIND_MAKE_MEM_NOACCESS(b + n, stride - n);
#endif
#if defined(RCGC_ASAN)
    ASAN_POISON_MEMORY_REGION(b, stride);
    ASAN_UNPOISON_MEMORY_REGION(b, n);
#endif
}

#endif /* RCGC_OBJALLOC_INTERNAL_H */
