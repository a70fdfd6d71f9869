/* SPDX-License-Identifier: MIT */
/* internal.h - cyclegc's private structures and cross-file helpers.
 *
 * Nothing here is exported (no RCGC_API): the shared library hides it.
 * Files of the layer:
 *
 *   heap.c     GcHeap: creation, refcount hooks, pressure callback, the
 *              small gc-module getters and setters, garbage list, events
 *   collect.c  one collection, phase by phase, and the automatic trigger
 *   pacing.c   thresholds that follow the yield; accounted bytes
 *   reach.c    the reachability passes: update_refs, subtract_refs,
 *              mark and partition (prefetching, O(1) memory)
 *   sort.c     sort a generation list by address (in-place radix sort)
 *   garbage.c  what happens to the unreachable: legacy finalizers,
 *              weakrefs, finalize, resurrection, clear
 *   inspect.c  get_objects / referrers / referents, track / untrack
 *   why.c      gc_why_alive
 *   check.c    gc_check
 *   incremental.c  the pause-bounded mode: a pass's walks, one increment
 *   incpass.c  a pass begun, given up, ended (confirmation rounds), the
 *              mode's trigger and settings
 *
 * ---- the two header words (RcGcHead) of a tracked object ------------
 *
 * Outside the reachability passes (whenever user code or a decref can
 * run) every tracked object is on exactly one circular doubly-linked
 * list whose sentinel is a GcList:
 *
 *     next   address of the next RcGcHead (or of the sentinel), never 0
 *     prev   address of the previous RcGcHead (or of the sentinel)
 *
 * An untracked object has next == 0 (refcount relies on it) and, when we
 * untracked it, prev == 0.  Every RcGcHead and every sentinel is 16-byte
 * aligned, so a real link has its low four bits clear.
 *
 * During the reachability passes (reach.c; only traverse runs, never user
 * code, never a decref) the objects of the collected list `young` keep
 * `next` as a singly-linked list and pack `prev`:
 *
 *     prev = gc_refs << GC_REFS_SHIFT | GC_PREV_COLLECTING     (counting)
 *     prev = link | GC_PREV_COLLECTING | GC_PREV_VISITED       (marked)
 *
 * where `link` is the next object of the mark stack (or 0); the mark
 * scan adds GC_PREV_TENTATIVE to an object it passes with gc_refs 0
 * (left in place, `next` intact) and gives an object it passes that is
 * reachable a real prev link (kept).  A tracked object outside `young`
 * has a real prev link, so GC_PREV_COLLECTING is clear and the passes
 * leave it alone.  partition() then walks young once more and links
 * every object, with real links, on the reachable or unreachable list.
 *
 * ---- collector bits in RcObject.flags (16..31 belong to us) ----------
 *
 *     GC_OBJ_UNREACHABLE  in the unreachable set of the running
 *                         collection (between reach.c and clear)
 *     GC_OBJ_YOUNG        on generation 0's objects (set as they join
 *                         it) and on generation 1's (kept as a collection
 *                         of generation 0 promotes them, or as adaptive
 *                         pacing moves generation 0 on unexamined); cleared
 *                         by reach.c as a collection moves them out of
 *                         generations 0 and 1, and by freeze; on no other
 *                         tracked object.  Generation 1 may hold objects
 *                         without it only while !gen1_young (objects that
 *                         the garbage's handling moved into it)
 *     GC_OBJ_GEN1         (bit 20, on an object that carries GC_OBJ_YOUNG)
 *                         the object is of generation 1: set by reach.c
 *                         on the survivors of a collection of generation
 *                         0.  Every GC_OBJ_YOUNG object of generation 1
 *                         has it unless young_stale.  So a collection of
 *                         generation 0 alone knows its members without a
 *                         walk (YOUNG without GEN1), and so does one of
 *                         generation 1 while gen1_young (YOUNG).  On an
 *                         object of a pass of the pause-bounded mode
 *                         (which never carries GC_OBJ_YOUNG) the same bit
 *                         is GC_OBJ_PASSED
 *     GC_OBJ_HINT         (bit 17, on a tracked object) one of the
 *                         chain starts of the next full collection's sort
 *                         (GcHeap.hints), on exactly them
 *     GC_OBJ_WR_UNTRACKED (bit 17, on an untracked object) an untracked
 *                         weakref linked for the while on
 *                         the list of callbacks to call (garbage.c)
 *
 * Invariants outside a collection (gc_check): the bits but
 * GC_OBJ_YOUNG, GC_OBJ_GEN1 and GC_OBJ_HINT are clear on every tracked
 * object outside a pass, those three as said; every list is a
 * consistent circular list; the descents of a list is at least the
 * number of adjacent pairs that are descents (0 means: in address order
 * up to GC_NEAR), and its [lo, hi] holds every object's head.
 */
#ifndef RCGC_CYCLEGC_INTERNAL_H
#define RCGC_CYCLEGC_INTERNAL_H

#include "base/base.h"
#include "cyclegc/cyclegc.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#define GC_PREV_COLLECTING ((uintptr_t)1)
#define GC_PREV_VISITED    ((uintptr_t)2)
#define GC_PREV_TENTATIVE  ((uintptr_t)4)
#define GC_PREV_FLAGS      ((uintptr_t)15)
#define GC_REFS_SHIFT      4

#define GC_OBJ_UNREACHABLE  (1u << 16)
#define GC_OBJ_WR_UNTRACKED (1u << 17)
/* the same bit on a tracked object: it is a chain start (GcHeap.hints) */
#define GC_OBJ_HINT  GC_OBJ_WR_UNTRACKED
#define GC_OBJ_YOUNG (1u << 18)
#define GC_OBJ_BITS  0xFFFF0000u
/* incremental.c: an object of the pass set not reached yet, and the
 * references to it that the pass found inside the set (saturating). */
#define GC_OBJ_WHITE     (1u << 19)
#define GC_OBJ_PASSED    (1u << 20) /* WHITE, and the mark walk passed it */
#define GC_OBJ_CNT_SHIFT 21
#define GC_OBJ_CNT_MAX   (0xFFFFFFFFu >> GC_OBJ_CNT_SHIFT)
#define GC_OBJ_CNT_MASK  (GC_OBJ_CNT_MAX << GC_OBJ_CNT_SHIFT)
#define GC_OBJ_PASS_BITS (GC_OBJ_WHITE | GC_OBJ_PASSED | GC_OBJ_CNT_MASK)
/* the same bit as PASSED on an object that carries GC_OBJ_YOUNG (never
 * WHITE): it is of generation 1 */
#define GC_OBJ_GEN1 GC_OBJ_PASSED

/* A step a -> b between adjacent objects of a list is a descent when b
 * lies in a lower GC_NEAR-aligned window of the address space than a: a
 * jump backwards out of the memory just walked.  Disorder inside one
 * window (a pool whose free list hands blocks out in reverse) is no
 * descent: walking it stays in the same few pages.  Comparing windows,
 * not distances, keeps "no descent" transitive, so unlinking an object
 * never creates a descent the counters missed. */
#define GC_NEAR_SHIFT 14
#define GC_NEAR       ((uintptr_t)1 << GC_NEAR_SHIFT)

/* A list of tracked objects: a sentinel RcGcHead and what is known of
 * its order, counted as objects are appended (removals are not
 * counted, so each is a bound): descents >= the adjacent pairs that
 * are descents; backsteps >= the adjacent pairs a -> b with b below a
 * at any distance (descents included: a removal never adds one, as
 * "a <= b <= c" gives "a <= c"); size_ub >= length; every object's head
 * lies in [lo, hi] (lo > hi: none was appended since the list was
 * empty). */
typedef struct GcList {
    alignas(16) RcGcHead head;
    size_t descents;
    size_t backsteps;
    size_t size_ub;
    uintptr_t lo, hi;
} GcList;

/* reach.c's young filter: one bit per hashed 2^GC_FILTER_GRAIN-byte
 * line, 8 bits or more per object of the collected set, for sets of up
 * to 2^GC_FILTER_LOG2 / 8 objects (32768); 32 KiB in the GcHeap, of which
 * a collection clears what it uses. */
#define GC_FILTER_GRAIN 6
#define GC_FILTER_LOG2  18
#define GC_FILTER_WORDS ((1u << GC_FILTER_LOG2) / 64)

/* The generation-1 filter (GcHeap.gen1_filter): the bit of each object
 * a collection of generation 0 promoted into generation 1, in the same
 * hash as the young filter, 2^GC_FILTER1_LOG2 bits (8 KiB in the
 * GcHeap), on while at most 2^GC_FILTER1_LOG2 / 8 objects (8192) were
 * noted since generation 1 was last empty. */
#define GC_FILTER1_LOG2  16
#define GC_FILTER1_WORDS ((1u << GC_FILTER1_LOG2) / 64)
/* Entries of GcHeap.gen1_seen (32 KiB). */
#define GC_SEEN_MAX 4096

/* Chain starts kept for a full collection's sort (GcHeap.hints), and how
 * many of them are noted among a full collection's survivors (reach.c's
 * partition; the others are promoted batches: collect.c). */
#define GC_HINTS      32
#define GC_HINTS_KEPT 12

/* reach.c's walk order (young_order): collected sets of up to this many
 * objects (generations 0 and 1 at the default thresholds). */
#define GC_ORDER_MAX 8192

/* The bucket tables of the in-place sort (sort.c): GC_SORT_LEVELS
 * tables of GC_SORT_BUCKETS buckets; a bucket is a chain through next
 * with its count and address bounds. */
#define GC_SORT_DIGIT   8
#define GC_SORT_BUCKETS (1u << GC_SORT_DIGIT)
#define GC_SORT_LEVELS  3
typedef struct GcSortBucket {
    RcGcHead *head;
    uintptr_t lo, hi;
    size_t n;
} GcSortBucket;

typedef struct GcGen {
    GcList list;
    long threshold; /* in force: collect when count > threshold */
    long base;      /* as set; threshold in [base, 8 base] (pacing.c) */
    long count;     /* gen 0: allocations - deallocations; others:
                       collections of the younger generation */
} GcGen;

typedef struct GcCallbackEntry {
    GcCallback cb;
    void *ctx;
} GcCallbackEntry;

/* The pause-bounded mode's state (incremental.c).  phase IDLE: the
 * pass's lists (pass, grey, cand, the buckets and sub-buckets) are empty
 * and cursor is NULL.  The buckets hold the pass set between INIT, which
 * distributes it by address when it is far from address order, and SORT,
 * which sorts them one at a time back onto `pass`, splitting a bucket too
 * large to sort in one step into sub-buckets over its own address range
 * (GcIncSplit, one level of them for each split in progress).  Memory:
 * GC_INC_BUCKETS lists of 64 bytes (64 KiB) and GC_INC_SPLIT_LEVELS *
 * GC_INC_SPLIT more (28 KiB), whatever the heap's size. */
/* (SORT comes between INIT and SUBTRACT, SWEEP after MARK; numbered
 * last, as the public GcIncStats.phase) */
enum {
    GC_INC_IDLE,
    GC_INC_INIT,
    GC_INC_SUBTRACT,
    GC_INC_MARK,
    GC_INC_SORT,
    GC_INC_SWEEP
};
#define GC_INC_BUCKETS 1024
/* A split (incremental.c: walk_sort) moves the objects of `src` to
 * GC_INC_SPLIT sub-buckets by the top GC_INC_SPLIT_BITS bits of their
 * offset in src's recorded span, then sorts the sub-buckets onto `pass`
 * in address order, splitting one in turn when it is too large.  Each
 * level narrows the span of a list by 2^GC_INC_SPLIT_BITS: a bucket
 * spans less than 2^54 bytes (1/1024 of the address space), a
 * sub-bucket of split[d] less than 2^(48 - 6d); those of split[6] less
 * than 2^12, room for 256 heads of 16 bytes, fewer than SORT_MAX (8192),
 * so they are never split: 7 levels are enough for any heap. */
#define GC_INC_SPLIT_BITS   6
#define GC_INC_SPLIT        (1 << GC_INC_SPLIT_BITS)
#define GC_INC_SPLIT_LEVELS 7
typedef struct GcIncSplit {
    GcList *src;  /* the list split (a bucket, or a sub-bucket of the
                     level above), emptied first */
    uintptr_t lo; /* sub-bucket of g: (g - lo) >> shift */
    unsigned shift;
    unsigned next; /* once src is empty: the next sub-bucket to sort */
    GcList sub[GC_INC_SPLIT];
} GcIncSplit;
typedef struct GcInc {
    uint64_t budget_us; /* pause budget; 0: stop-the-world mode */
    size_t work_limit;  /* work units per increment; 0: no limit */
    int phase;
    GcList pass;           /* the pass set not reached yet (GC_OBJ_WHITE) */
    GcList grey;           /* reached, referents not looked at yet */
    GcList cand;           /* SWEEP: the candidates found so far */
    GcList doomed;         /* confirmed garbage cleared over the next
                         increments (GC_OBJ_UNREACHABLE; see
                         incremental.c) */
    RcGcHead *cursor;      /* next object of `pass` for the running walk, or
                         pass's sentinel at its end */
    size_t pass_objects;   /* in the pass set when it began */
    size_t nwhite;         /* objects WHITE now (on `pass`) */
    int rounds;            /* confirmation rounds of this pass (0: the
                              search) */
    int dirty;             /* the round's SUBTRACT began and a watched
                              object was written, read from a weakref or
                              died since */
    unsigned need;         /* GC_NEED_* of the candidates SWEEP found */
    int deferred;          /* the last trigger ran no increment */
    int distribute;        /* this pass's INIT moves objects to the buckets */
    unsigned bucket_shift; /* bucket of g: (g - bucket_lo) >> shift */
    uintptr_t bucket_lo;
    unsigned bucket_next; /* SORT: the next bucket to sort onto pass */
    GcList bucket[GC_INC_BUCKETS];
    unsigned split_depth; /* SORT: splits in progress (split[0] splits
                             a bucket, split[d + 1] a sub-bucket of
                             split[d]) */
    GcIncSplit split[GC_INC_SPLIT_LEVELS];
    GcIncStats stats;
} GcInc;

/* Invariants: collecting is 1 exactly while a collection of this heap
 * runs (including its start/stop callbacks); garbage[0..ngarbage) hold
 * strong references; events is a ring of the last GC_EVENT_LOG
 * collections, nevents of them ever. */
struct GcHeap {
    RcHeap *rc;
    OaHeap *oa;
    int own_rc; /* rc was created by gc_heap_new */
    GcGen gens[GC_NGENERATIONS];
    GcList permanent;          /* frozen objects */
    int enabled;               /* automatic collection */
    GcPacing pacing;           /* pacing.c */
    int young_low;             /* adaptive: the last generation-0
                                  collection found under 1/8 garbage */
    int young_skips;           /* gen-0 passes skipped since then */
    int young_stale;           /* generation 1 may hold GC_OBJ_YOUNG
                                  objects without GC_OBJ_GEN1 (a skip
                                  since the last collection of
                                  generation 1 or 2) */
    int gen1_young;            /* every object of generation 1 carries
                                  GC_OBJ_YOUNG (0 once the garbage's
                                  handling moved objects into it, until
                                  generation 1 is next emptied) */
    uint64_t skips_unlogged;   /* ... since the last event */
    size_t bytes;              /* external bytes accounted, not released */
    size_t bytes_carry;        /* bytes short of a count (< BYTES_PER) */
    size_t bytes_next;         /* a full collection is due when bytes
                                  reaches it (pacing.c) */
    int collecting;            /* a collection is running */
    int debug;                 /* GC_DEBUG_* */
    FILE *stream;              /* for debug lines; NULL = stderr */
    size_t long_lived_total;   /* survivors of the last full collection */
    size_t long_lived_pending; /* promoted into gen 2 since then */
    GcGenStats stats[GC_NGENERATIONS];
    GcCallbackEntry *callbacks;
    size_t ncallbacks, callbacks_cap;
    RcObject **garbage;
    size_t ngarbage, garbage_cap;
    uint64_t nevents;
    GcEvent events[GC_EVENT_LOG];
    /* sort.c's only memory (24 KiB): no collection allocates in
     * proportion to the heap. */
    GcSortBucket sort_buckets[GC_SORT_LEVELS][GC_SORT_BUCKETS];
    uint64_t young_filter[GC_FILTER_WORDS]; /* reach.c, 32 KiB */
    /* reach.c: young's objects in list order, as its first walk met
     * them, for collected sets of at most GC_ORDER_MAX objects (64 KiB):
     * the later walks read addresses from here instead of chasing the
     * list's links. */
    RcGcHead *young_order[GC_ORDER_MAX];
    /* Chain starts for the next full collection's sort (sort.c):
     * distinct objects of generation 2 in its list order: up to
     * GC_HINTS_KEPT evenly spaced survivors of the last full collection
     * (reach.c's partition), then the first object of each batch
     * promoted into it since (collect.c); when one leaves generation 2
     * alone, the object before it takes its place (gc_hint_forget).
     * Each carries GC_OBJ_HINT. */
    RcGcHead *hints[GC_HINTS];
    size_t nhints;
    /* garbage.c: while weakrefs wait for their callbacks on a list
     * through their own GC heads (no memory for an array), that list,
     * else NULL: gc_is_tracked, gc_track and gc_untrack tell its
     * weakrefs apart (gc_wr_held). */
    GcList *wr_held;
    /* While gen0_filter_on: the first 2^gen0_filter_log2 bits of
     * young_filter have the bit of every object of generation 0 set
     * (gc_gen0_join), gen0_filter_n objects were noted since it was
     * cleared (gc_gen0_filter_reset), at most 2^log2 / 8. */
    int gen0_filter_on;
    unsigned gen0_filter_log2;
    size_t gen0_filter_n;
    /* While gen1_filter_on: gen1_filter has the bit of every object of
     * generation 1 set (reach.c notes the survivors of a collection of
     * generation 0), gen1_filter_n objects were noted since it was
     * cleared (gc_gen1_reset), at most 2^GC_FILTER1_LOG2 / 8.  Off,
     * until then, from a pacing skip (its objects were not noted) or
     * objects moved into generation 1 unmarked (collect.c, gc_freeze). */
    int gen1_filter_on;
    size_t gen1_filter_n;
    uint64_t gen1_filter[GC_FILTER1_WORDS];
    /* reach.c: the addresses of the objects that collections of
     * generation 0 promoted since generation 1 was last empty, in its
     * list order, the first GC_SEEN_MAX of them (32 KiB).  An object that
     * left generation 1 since keeps its entry: the entries are only
     * prefetched (a collection of generations 0 and 1 walks its list
     * with them a few objects ahead), never read through. */
    size_t gen1_nseen;
    RcGcHead *gen1_seen[GC_SEEN_MAX];
    int has_error;
    char error[256];
    GcInc inc;
#if RCGC_EXPENSIVE
    size_t check_calls;  /* calls since the last gc_check (base.h) */
    size_t check_budget; /* calls between whole checks */
#endif
};

/* ---- prefetch ring (reach.c, incremental.c) -------------------------
 * A referent is prefetched when it is parked in the ring and handled
 * GC_RING parks later, when its header has (likely) arrived, so that
 * about GC_RING cache misses are in flight at once. */
#define GC_RING 16 /* referents in flight (a power of two) */

static inline void
gc_prefetch_head(const RcObject *r)
{
    __builtin_prefetch((const char *)r - sizeof(uintptr_t), 1);
    __builtin_prefetch((const char *)r + sizeof(uintptr_t), 0);
}

/* Park r at ring[*pos] and advance *pos; return what r pushes out (or
 * NULL). */
static inline RcObject *
gc_ring_swap(RcObject **ring, unsigned *pos, RcObject *r)
{
    RcObject *old = ring[*pos];
    ring[*pos] = r;
    *pos = (*pos + 1) & (GC_RING - 1);
    return old;
}

/* ---- object <-> head ------------------------------------------------ */

static inline RcGcHead *
gc_head(RcObject *op)
{
    return rc_gc_head(op);
}

static inline RcObject *
gc_obj(RcGcHead *g)
{
    return (RcObject *)(void *)(g + 1);
}

static inline RcGcHead *
gc_next(const RcGcHead *g)
{
    return (RcGcHead *)g->next;
}

static inline RcGcHead *
gc_prev(const RcGcHead *g)
{
    return (RcGcHead *)g->prev;
}

/* ---- lists ---------------------------------------------------------- */

static inline void
gc_list_init(GcList *l)
{
    l->head.next = (uintptr_t)&l->head;
    l->head.prev = (uintptr_t)&l->head;
    l->descents = 0;
    l->backsteps = 0;
    l->size_ub = 0;
    l->lo = UINTPTR_MAX;
    l->hi = 0;
}

/* 1 when the step a -> b is a descent (see GC_NEAR). */
static inline int
gc_descends(const RcGcHead *a, const RcGcHead *b)
{
    return ((uintptr_t)a >> GC_NEAR_SHIFT) > ((uintptr_t)b >> GC_NEAR_SHIFT);
}

/* Account for g about to follow last (the sentinel when l is empty). */
static inline void
gc_list_note(GcList *l, const RcGcHead *last, const RcGcHead *g)
{
    uintptr_t a = (uintptr_t)g;
    if (last != &l->head && a < (uintptr_t)last) {
        l->backsteps++;
        l->descents += gc_descends(last, g);
    }
    l->lo = a < l->lo ? a : l->lo;
    l->hi = a > l->hi ? a : l->hi;
    l->size_ub++;
}

static inline int
gc_list_is_empty(const GcList *l)
{
    return l->head.next == (uintptr_t)&l->head;
}

static inline RcGcHead *
gc_list_first(GcList *l)
{
    return gc_next(&l->head);
}

/* Link g at the tail of l. */
static inline void
gc_list_append(GcList *l, RcGcHead *g)
{
    RcGcHead *last = gc_prev(&l->head);
    /* heads are 16-byte aligned: a real link has its flag bits clear */
    RCGC_ASSERT(((uintptr_t)g & GC_PREV_FLAGS) == 0 &&
                last->next == (uintptr_t)&l->head);
    gc_list_note(l, last, g);
    g->prev = (uintptr_t)last;
    g->next = (uintptr_t)&l->head;
    last->next = (uintptr_t)g;
    l->head.prev = (uintptr_t)g;
}

/* Unlink g from whatever list holds it (g stays "tracked" garbage:
 * the caller relinks it or zeroes it). */
static inline void
gc_list_remove(RcGcHead *g)
{
    RcGcHead *prev = gc_prev(g);
    RcGcHead *next = gc_next(g);
    /* real links both ways (never during the reachability passes) */
    RCGC_ASSERT(prev->next == (uintptr_t)g && next->prev == (uintptr_t)g);
    prev->next = (uintptr_t)next;
    next->prev = (uintptr_t)prev;
}

static inline void
gc_list_move(RcGcHead *g, GcList *to)
{
    gc_list_remove(g);
    gc_list_append(to, g);
}

/* The young filter's bit of an object (reach.c): a hash of its
 * 2^GC_FILTER_GRAIN-byte line, in [0, 2^(64 - shift)). */
static inline unsigned
gc_filter_bit(const void *r, unsigned shift)
{
    uint64_t w = (uint64_t)(uintptr_t)r >> GC_FILTER_GRAIN;
    return (unsigned)((w * 0x9E3779B97F4A7C15ull) >> shift);
}

/* op joins generation 0: marked GC_OBJ_YOUNG (and no other collector
 * bit), noted in the generation-0 filter while it is on (internal.h's
 * GcHeap), appended. */
static inline void
gc_gen0_join(GcHeap *gc, RcObject *op)
{
    op->flags = (op->flags & ~GC_OBJ_BITS) | GC_OBJ_YOUNG;
    if (gc->gen0_filter_on) {
        unsigned b = gc_filter_bit(op, 64 - gc->gen0_filter_log2);
        gc->young_filter[b / 64] |= (uint64_t)1 << (b % 64);
        if (++gc->gen0_filter_n << 3 > (size_t)1 << gc->gen0_filter_log2) {
            gc->gen0_filter_on = 0; /* too full to tell much */
        }
    }
    gc_list_append(&gc->gens[0].list, gc_head(op));
}

/* reach.c: generation 0 is empty: start a new generation-0 filter,
 * sized for twice its threshold. */
void gc_gen0_filter_reset(GcHeap *gc);

/* reach.c: generation 1 is empty: every object of it carries
 * GC_OBJ_YOUNG (gen1_young), and its filter starts empty and on. */
void gc_gen1_reset(GcHeap *gc);

/* Append every object of from to to (from ends empty). */
void gc_list_merge(GcList *from, GcList *to);

/* Objects on l (walks it). */
size_t gc_list_size(GcList *l);

/* check.c: every object of l lies above the one before it: 1, else a
 * report and 0.  For the expensive asserts. */
int gc_list_ascending(const GcList *l);

/* check.c: l is consistent (links, GC types, GC_OBJ_UNREACHABLE equal to
 * `unreachable` on every object): 1, else a report and 0.  For the
 * expensive asserts between collection phases. */
int gc_list_valid(const GcList *l, uint32_t unreachable);

/* ---- cross-file functions ------------------------------------------- */

/* check.c: the checkpoint that ends each mutating call in checked builds
 * (base.h): op's list links (op may be NULL or untracked), then gc_check
 * when due and neither a collection nor a deallocation loop of the heap
 * runs; a failure names fn and aborts.  Other builds: nothing. */
#if RCGC_EXPENSIVE
void gc_checkpoint(GcHeap *gc, const char *fn, RcObject *op);
#define GC_CHECKPOINT(gc, fn, op) gc_checkpoint((gc), (fn), (op))
#else
#define GC_CHECKPOINT(gc, fn, op)                                             \
    ((void)sizeof(gc), (void)sizeof(fn), (void)sizeof(op))
#endif

/* heap.c: report "cyclegc: <fn>: heap is NULL" (RCGC_ERROR_MISUSE). */
void gc_null_heap(const char *fn);

/* heap.c: record a message for gc_error (printf format). */
void gc_set_error(GcHeap *gc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* heap.c: append op to the garbage list with a new reference; -1 when
 * out of memory (op is not appended). */
int gc_garbage_append(GcHeap *gc, RcObject *op);

/* heap.c: the stream for debug lines. */
FILE *gc_stream(const GcHeap *gc);

/* collect.c: the automatic trigger (called by the created hook). */
void gc_maybe_collect(GcHeap *gc);
/* collect.c: a full collection for objalloc's pressure callback. */
long gc_collect_reason(GcHeap *gc, int generation, GcReason reason);

/* pacing.c: after a collection of generation g that examined and found
 * unreachable so many objects, move g's threshold (adaptive pacing). */
void gc_pace(GcHeap *gc, int generation, size_t examined, size_t unreachable);

/* pacing.c: generation 0 is due; under adaptive pacing after a
 * low-yield collection, move it into generation 1 unexamined instead
 * (1; at most GC_PACING_MAX_SKIPS times in a row), else 0. */
int gc_pace_skip_young(GcHeap *gc);

/* pacing.c: set bytes_next from the bytes accounted now (after a full
 * collection, or when the thresholds change). */
void gc_bytes_rearm(GcHeap *gc);

/* 1 when the accounted bytes call for a full collection. */
static inline int
gc_bytes_due(const GcHeap *gc)
{
    return gc->bytes >= gc->bytes_next;
}

/* sort.c: relink l in address order (descents and backsteps become
 * 0), in place: it allocates nothing and cannot fail. */
void gc_list_sort(GcHeap *gc, GcList *l);
/* sort.c: gc_list_sort for a list handed to reach.c's passes at once:
 * only the next links are put in address order (the sentinel's prev is
 * the last object); each object's prev word keeps its old, stale link,
 * which the passes overwrite before they read it as a link. */
void gc_list_sort_next(GcHeap *gc, GcList *l);

/* sort.c: gc_list_sort_next whose first walk (the distribution, in the
 * list's order) runs one chain from l's first object and one from each
 * of starts[0..nstarts), at once, each up to the next chain's start:
 * about nstarts + 1 cache misses in flight instead of two.  starts: at
 * most GC_SORT_CHAINS - 1 objects of l in l's order (equal neighbours
 * allowed); the result is the same address order as gc_list_sort_next's. */
#define GC_SORT_CHAINS (GC_HINTS + 3)
void gc_list_sort_next_from(GcHeap *gc, GcList *l, RcGcHead *const *starts,
                            size_t nstarts);

/* sort.c: relink each stretch of l that lies in one GC_NEAR window in
 * address order (the order of the windows is kept, so descents stays;
 * backsteps becomes descents).  In place, with GC_NEAR / 128 bytes of
 * stack. */
void gc_list_sort_windows(GcList *l);

/* reach.c: split young into the objects reachable from outside it
 * (appended to reachable, GC_OBJ_UNREACHABLE cleared) and the rest
 * (appended to unreachable, GC_OBJ_UNREACHABLE set), both in young's
 * order.  young ends empty.  Runs no user code.  Fills *split.  all, when
 * not NULL: young holds every tracked object of that heap, so "tracked
 * by it" is enough to be a member (saves the update_refs pass).
 * The _filtered form takes GC_FILTER_WORDS words of scratch for the
 * young filter and GC_ORDER_MAX entries for the walk order (either may
 * be NULL; they change no outcome, only which memory is read); promote,
 * when not NULL: young is generation 0 of that heap, whose survivors
 * join generation 1 (they keep GC_OBJ_YOUNG, gain GC_OBJ_GEN1 and are
 * noted in its generation-1 filter). */
enum {
    GC_NEED_LEGACY = 1,   /* an unreachable object has legacy_del */
    GC_NEED_WEAKREFS = 2, /* ... is a weakref or has weakrefs */
    GC_NEED_FINALIZE = 4  /* ... has a finalize not run yet */
};
typedef struct GcSplit {
    size_t examined;    /* objects of young */
    size_t unreachable; /* of them, appended to unreachable */
    unsigned need;      /* GC_NEED_* found among the unreachable */
    uint64_t visits;    /* objects visited by the passes' list walks */
} GcSplit;
void gc_reach_split(GcList *young, GcList *reachable, GcList *unreachable,
                    const RcHeap *all, GcSplit *split);
void gc_reach_split_filtered(GcList *young, GcList *reachable,
                             GcList *unreachable, const RcHeap *all,
                             uint64_t *filter, RcGcHead **order, GcHeap *hints,
                             GcHeap *promote, GcSplit *split);
/* The same for young = generations 0..generation (0 or 1) of heap rc,
 * when the marks tell exactly their objects: for generation 0,
 * !young_stale (GC_OBJ_YOUNG without GC_OBJ_GEN1); for generation 1,
 * gen1_young (GC_OBJ_YOUNG) with both gen0_filter_on and gen1_filter_on.
 * The walk of update_refs is folded into subtract_refs; the young filter
 * is gc's generation-0 filter (if on), and for generation 1 its
 * generation-1 filter as well.  Survivors of generation 0 are promoted as
 * by the _filtered form's promote; every other object leaves with
 * GC_OBJ_YOUNG and GC_OBJ_GEN1 clear. */
void gc_reach_split_young(GcList *young, GcList *reachable,
                          GcList *unreachable, const RcHeap *rc, GcHeap *gc,
                          int generation, GcSplit *split);
/* Clear GC_OBJ_YOUNG and GC_OBJ_GEN1 on the objects of l (before they
 * leave generations 0 and 1 other than through a collection). */
void gc_list_clear_young(GcList *l);

/* check.c: print "cyclegc: gc_collect: object <op>: refcount is too
 * small: count N, ... (type '<name>')" and abort (debug builds, reach.c:
 * the collected objects hold more references to op than its count). */
void gc_fatal_refs_too_small(const RcObject *op) __attribute__((noreturn));

/* garbage.c: the unreachable set after the reachability passes. */
typedef struct GcOutcome {
    size_t collected;     /* objects cleared (freed or not) */
    size_t uncollectable; /* set aside because of legacy finalizers */
} GcOutcome;
void gc_handle_unreachable(GcHeap *gc, GcList *unreachable, GcList *old,
                           const GcSplit *split, GcOutcome *out);

/* garbage.c: op, whose GC head is linked, waits for its callback on
 * gc->wr_held (a weakref held there, untracked if GC_OBJ_WR_UNTRACKED,
 * which then is no chain start's flag): 1, else 0.  Walks the list, which
 * exists only while a collection short of memory calls back. */
int gc_wr_held(const GcHeap *gc, const RcObject *op);

/* ---- incremental.c -------------------------------------------------- */

/* Is the pause-bounded mode on? */
static inline int
gc_inc_on(const GcHeap *gc)
{
    return gc->inc.budget_us != 0 || gc->inc.work_limit != 0;
}

/* on_untrack: g leaves whatever list holds it; keep the cursor valid. */
static inline void
gc_inc_forget(GcHeap *gc, RcGcHead *g)
{
    if (gc->inc.cursor == g) {
        gc->inc.cursor = gc_next(g);
    }
    if (gc_obj(g)->flags & RC_OBJ_WATCHED) {
        gc->inc.dirty = 1; /* a member of a confirmation round died */
        gc_obj(g)->flags &= ~RC_OBJ_WATCHED;
    }
    if (gc_obj(g)->flags & GC_OBJ_WHITE) {
        gc->inc.nwhite--; /* only objects of `pass` are WHITE */
        gc_obj(g)->flags &= ~GC_OBJ_PASS_BITS;
    }
}

/* ---- the sort's chain starts (GcHeap.hints; heap.c) ----------------- */

/* Forget every chain start (generation 2 leaves its list whole). */
void gc_hints_clear(GcHeap *gc);

/* g, a tracked object, is about to leave the list that holds it, alone
 * (death, gc_untrack, a weakref held for its callback): 1 when it may be
 * a chain start (then call gc_hint_forget once it is unlinked): a test
 * of the flag word that the caller has just read. */
static inline int
gc_hint_maybe(const RcGcHead *g)
{
    return (gc_obj((RcGcHead *)(uintptr_t)g)->flags & GC_OBJ_HINT) != 0;
}

/* heap.c: g, which gc_hint_maybe said may be a chain start, was unlinked
 * from after prev: a start that it was moves back to prev (or is dropped
 * when prev is the sentinel or the start before), so that every start
 * stays in generation 2.  (Called last, after the unlink, the hook that
 * calls it needs no stack frame of its own.) */
void gc_hint_forget(GcHeap *gc, RcGcHead *g, RcGcHead *prev);

/* heap.c: note g, an object of generation 2 after every chain start
 * (the first of a batch just appended to it, or a survivor of a full
 * collection about to join it in order), as a chain start, if there is
 * room. */
void gc_hint_note(GcHeap *gc, RcGcHead *g);

/* incpass.c: begin a pass (phase IDLE, doomed empty): generation 2
 * becomes the pass set, INIT next. */
void gc_inc_begin(GcHeap *gc);

/* incpass.c: SWEEP ended with the candidates on `pass`: hand a clean
 * round's garbage over, confirm in one step, or start another round.
 * Runs user code (finalizers, callbacks) when it confirms. */
void gc_inc_after_sweep(GcHeap *gc, GcOutcome *out, uint64_t *examined);

/* refcount's watched hook (a write to or from an object of a
 * confirmation round, or a weakref read of one): the round is dirty. */
void gc_inc_watched(void *ctx, RcObject *op);

/* Give the pass's objects back to generation 2 with clean flags (a full
 * collection, freeze, why_alive).  No-op when no pass runs. */
void gc_inc_abandon(GcHeap *gc);

/* The lists of a running pass and the doomed list (possibly empty):
 * pass, grey, cand, doomed, then the buckets, then the sub-buckets of
 * split[0], split[1], ... (GC_INC_SPLIT each). */
#define GC_INC_NLISTS (4 + GC_INC_BUCKETS + GC_INC_SPLIT_LEVELS * GC_INC_SPLIT)
void gc_inc_lists(GcHeap *gc, GcList *lists[GC_INC_NLISTS]);

/* heap.c: the pause-bounded mode's lists empty (a new heap). */
void gc_inc_init(GcHeap *gc);

/* The automatic trigger in the pause-bounded mode (collect.c). */
void gc_inc_maybe_collect(GcHeap *gc);

/* incremental.c: one increment; heap marked collecting by the caller
 * (collect.c); budget_ns 0 and work_limit 0: no limit.  Fills *out with
 * what the confirming step found (zeros when the pass goes on) and
 * *work with the work units done. */
void gc_inc_step(GcHeap *gc, uint64_t budget_ns, int may_begin, GcOutcome *out,
                 uint64_t *work, uint64_t *examined);

/* collect.c: a collection run by the automatic trigger; one increment
 * with callbacks and an event. */
long gc_collect_auto(GcHeap *gc, int generation);
long gc_run_increment(GcHeap *gc, uint64_t budget_ns, int may_begin);

#endif /* RCGC_CYCLEGC_INTERNAL_H */
