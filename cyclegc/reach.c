/* SPDX-License-Identifier: MIT */
/* reach.c - which objects of a list are reachable from outside it.
 *
 * The heart of the collector (CPython's deduce_unreachable, reshaped so
 * that it keeps the list in address order and overlaps cache misses).
 * Input: a list `young` of tracked objects (often in address order: see
 * sort.c); output: two lists, the objects reachable from outside young
 * and the rest, each in young's order.  No user code runs and nothing is
 * decref'd, so the header words may be packed (internal.h).
 *
 *   1. update_refs:    gc_refs(op) = refcount(op) for op in young, and
 *                      mark op COLLECTING; note op's address window in
 *                      the young filter (below).  (A tracked object with
 *                      count 0 is being destroyed by refcount: treat it as
 *                      held from outside, so that we never touch it.)
 *   2. subtract_refs:  for each reference op -> r found by traverse with
 *                      r COLLECTING, gc_refs(r) -= 1; afterwards gc_refs
 *                      counts only references from outside young (folded
 *                      with step 1 when young is the whole heap, or
 *                      generation 0, or generations 0 and 1: see its
 *                      section).
 *   3. mark:           everything reachable from an object with
 *                      gc_refs > 0 gets VISITED, in one scan in list
 *                      order with an O(1)-memory mark stack (its section).
 *   4. partition:      if the scan kept every object, young is already
 *                      the reachable list with real links: it is merged
 *                      whole, and there is no fourth walk of the heap
 *                      (a live tree, the common case of a full
 *                      collection, costs one pass less than in CPython).
 *                      Otherwise walk young once more, append each
 *                      object to `reachable` (kept or VISITED) or
 *                      `unreachable`, restoring real prev links and
 *                      setting GC_OBJ_UNREACHABLE; note what the
 *                      unreachable will need (legacy finalizers,
 *                      weakrefs, finalize) so that the later phases that
 *                      are not needed skip their walk.
 * Steps 2 and 3 prefetch referents through a ring (section 3).
 * The walks (steps 3 and 4, and 2 after an update_refs walk) read young's
 * objects from an array the first walk filled, when young fits it, instead
 * of chasing the list's links ("the walks" below).
 */
#include "cyclegc/internal.h"

#include <string.h>

#define RING GC_RING

typedef struct Pass {
    RcObject *ring[RING];
    unsigned pos;
    unsigned pending;    /* entries of the ring in use (mark) */
    RcGcHead *stack;     /* mark stack, linked through prev words */
    RcGcHead *last_kept; /* the last object the scan kept */
    /* no update_refs pass: young's objects are counted on first touch
     * (see top) */
    int lazy;
    /* lazy: an object of the heap not counted yet is a member when
     * (flags & member_mask) == member_want (young holds every tracked
     * object of the heap: 0 and 0; generation 0:
     * YOUNG | GEN1 and YOUNG; generations 0 and 1: YOUNG and YOUNG) */
    uint32_t member_mask;
    uint32_t member_want;
    /* collector bits a survivor leaves with: YOUNG | GEN1 when young is
     * generation 0 (it joins generation 1), else 0 */
    uint32_t keep_bits;
    /* the generation-1 filter, where generation 0's survivors are
     * noted, or NULL */
    uint64_t *promote;
    /* young is generation 0 of this heap: its survivors' addresses go to
     * gen1_seen (from seen_base), or NULL */
    GcHeap *seen_gc;
    size_t seen_base;
    /* a collection of generations 0 and 1: gen1_seen, from which its
     * first walk prefetches generation 1's objects, or NULL */
    RcGcHead *const *seen;
    size_t nseen;
    const RcHeap *rc;       /* young's heap (debug check of referents) */
    const RcObject *cur;    /* the object subtract_refs traverses */
    size_t ntentative;      /* objects the scan passed with gc_refs 0 */
    const uint64_t *filter; /* lines of young's objects, or NULL */
    unsigned filter_shift;  /* 64 - log2 of the filter's bits */
    /* with filter: the lines of generation 1's objects (a collection of
     * generations 0 and 1 without update_refs), or NULL */
    const uint64_t *filter1;
    /* visit_subtract and visit_mark, or their forms that read both
     * filters */
    RcVisitFn visit_subtract;
    RcVisitFn visit_mark;
    /* young's objects in list order, filled by the first walk, or NULL:
     * walk the list */
    RcGcHead **order;
    size_t order_cap; /* entries of order */
    size_t norder;    /* entries filled */
    int ordered;      /* order holds all of young: walks read it */
    /* partition notes every hint_every-th reachable object as a chain
     * start of this heap's next full collection, or NULL */
    GcHeap *hints;
    size_t hint_every;
} Pass;

/* ---- the walks ---------------------------------------------------------
 *
 * Each walk of young visits its objects in list order.  Following the
 * list's next links is a chain of dependent loads: each step waits for
 * the object before it, from L2 or beyond, even when young fits in the
 * caches (a generation 0 of 2000 objects is 100 KB, twice L1).  So the
 * first walk (update_refs, or subtract_refs when there is none) also
 * writes each address to p->order, when young fits there; the later
 * walks read the addresses from that array, which has no dependency, and
 * prefetch the objects WALK_AHEAD places ahead.  Same objects, same
 * order: only the loads differ.  (bench young: generation-0 collections
 * took about a quarter less time, generation-1 ones a fifth.) */
#define WALK_AHEAD 8

typedef struct Walk {
    RcGcHead *const *order; /* or NULL: follow next links */
    size_t i, n;
    RcGcHead *g, *end;
} Walk;

static inline void
walk_start(Walk *w, const Pass *p, GcList *young)
{
    w->order = p->ordered ? p->order : NULL;
    w->i = 0;
    w->n = p->norder;
    w->g = gc_list_first(young);
    w->end = &young->head;
}

/* The next object of young in list order, or NULL after the last.  In
 * list mode g's next link is read before g is handed out, so the caller
 * may relink g. */
static inline RcGcHead *
walk_next(Walk *w)
{
    if (w->order != NULL) {
        if (w->i == w->n) {
            return NULL;
        }
        if (w->i + WALK_AHEAD < w->n) {
            gc_prefetch_head(gc_obj(w->order[w->i + WALK_AHEAD]));
        }
        return w->order[w->i++];
    }
    RcGcHead *g = w->g;
    if (g == w->end) {
        return NULL;
    }
    w->g = gc_next(g);
    return g;
}

/* The first walk met g, the n-th object of young (from 0). */
static inline void
order_note(Pass *p, size_t n, RcGcHead *g)
{
    if (n < p->order_cap) {
        p->order[n] = g;
    }
}

#if RCGC_EXPENSIVE
/* Does order hold young's objects in list order?  (Checked builds, after
 * the first walk: the array is the list.) */
static inline int
order_is_young(const Pass *p, GcList *young)
{
    size_t i = 0;
    for (RcGcHead *g = gc_list_first(young); g != &young->head;
         g = gc_next(g)) {
        if (i == p->norder || p->order[i] != g) {
            return 0;
        }
        i++;
    }
    return i == p->norder;
}
#endif

/* The first walk met n objects: the later ones read the array if they
 * all fit in it. */
static inline void
order_done(Pass *p, GcList *young, size_t n)
{
    p->norder = n;
    p->ordered = p->order != NULL && n <= p->order_cap;
#if RCGC_EXPENSIVE
    RCGC_ASSERT(!p->ordered || order_is_young(p, young)); /* expensive */
#else
    (void)young;
#endif
}

/* ---- the young filter -------------------------------------------------
 *
 * A young collection's referents are mostly old objects (a new object
 * refers to what exists).  Reading an old object's header only to learn
 * that it is not in young is a cache miss per reference, the main cost
 * of a generation-0 collection.  The filter answers first, from the
 * address alone: one bit per hashed 64-byte line of the address space,
 * set for each line holding an object of young (by update_refs, or,
 * for generation 0 alone, as each object joins it: gc_gen0_join; then
 * stale bits of objects that died since only cost a read).  A clear
 * bit proves r is not in young; a set bit (r shares a line with a young
 * object, or a hash collision) reads the header as before.  So the
 * filter changes no outcome, only which memory is read.  Lines, not
 * pools: new objects fill the holes that dead ones left among the
 * survivors, so a pool holds young and old alike. */
static inline int
maybe_young(const Pass *p, const RcObject *r)
{
    if (p->filter == NULL) {
        return 1;
    }
    unsigned b = gc_filter_bit(r, p->filter_shift);
    return (p->filter[b / 64] >> (b % 64)) & 1;
}

/* maybe_young of a collection of generations 0 and 1 without
 * update_refs: generation 0's filter, then generation 1's (both on). */
static inline int
maybe_young_or_gen1(const Pass *p, const RcObject *r)
{
    if (maybe_young(p, r)) {
        return 1;
    }
    unsigned b = gc_filter_bit(r, 64 - GC_FILTER1_LOG2);
    return (p->filter1[b / 64] >> (b % 64)) & 1;
}

/* r's head when r is an object of young (COLLECTING), else NULL. */
static inline RcGcHead *
collecting_head(RcObject *r)
{
    if (!(r->type->flags & RC_TYPE_GC)) {
        return NULL;
    }
    RcGcHead *g = gc_head(r);
    if (!(g->prev & GC_PREV_COLLECTING) || g->next == 0) {
        return NULL;
    }
    return g;
}

/* ---- 1. update_refs ------------------------------------------------- */

/* gc_refs of an object of young before any reference is subtracted. */
static inline uintptr_t
initial_refs(const RcObject *op)
{
    uint32_t rc = op->refcnt;
    return rc != 0 ? rc : 1;
}

/* Count g: prev = gc_refs << SHIFT | COLLECTING, and its filter bit. */
static inline void
count_one(RcGcHead *g, uint64_t *filter, unsigned shift)
{
    g->prev = initial_refs(gc_obj(g)) << GC_REFS_SHIFT | GC_PREV_COLLECTING;
    if (filter != NULL) {
        unsigned b = gc_filter_bit(gc_obj(g), shift);
        filter[b / 64] |= (uint64_t)1 << (b % 64);
    }
}

/* update_refs of a young that the walk order holds whole (size_ub <=
 * order_cap): from both ends at once, as sort.c's first walk (next from
 * the front, prev from the back, read before count_one rewrites it), so
 * that two chains of misses are in flight instead of one (a generation-1
 * collection: generation 1's objects were promoted over ten collections,
 * scattered).  The back's objects are noted from the array's end down,
 * then moved after the front's.  Invariant of the loop: the objects
 * before f and after k are counted and noted, those from f to k (at
 * least one) are not. */
static void
update_refs_both_ends(GcList *young, Pass *p, uint64_t *filter, unsigned shift)
{
    RcGcHead **order = p->order;
    size_t cap = p->order_cap, nf = 0, nb = 0;
    RcGcHead *f = gc_list_first(young);
    RcGcHead *k = gc_prev(&young->head);
    for (;;) {
        if (f == k) {
            count_one(f, filter, shift);
            order[nf++] = f;
            break;
        }
        RcGcHead *fn = gc_next(f);
        RcGcHead *kp = gc_prev(k);
        count_one(f, filter, shift);
        order[nf++] = f;
        count_one(k, filter, shift);
        order[cap - 1 - nb++] = k;
        if (fn == k) {
            break;
        }
        f = fn;
        k = kp;
    }
    memmove(order + nf, order + cap - nb, nb * sizeof(*order));
    order_done(p, young, nf + nb);
}

/* Before: young is a list with real links.
 * After:  prev = gc_refs << SHIFT | COLLECTING, gc_refs = refcount. */
static void
update_refs(GcList *young, Pass *p, uint64_t *filter, unsigned shift)
{
    if (p->order != NULL && !gc_list_is_empty(young) &&
        young->size_ub <= p->order_cap) {
        update_refs_both_ends(young, p, filter, shift);
        return;
    }
    size_t n = 0;
    for (RcGcHead *g = gc_list_first(young); g != &young->head;
         g = gc_next(g)) {
        count_one(g, filter, shift);
        order_note(p, n++, g);
    }
    order_done(p, young, n);
}

/* ---- 2. subtract_refs -----------------------------------------------
 *
 * 2. subtract_refs: for each reference op -> r found by traverse with r
 * COLLECTING, gc_refs(r) -= 1. Afterwards gc_refs counts only references from
 * outside young. When young holds every tracked object of its heap (`all`: a
 * full collection, nothing frozen), step 1 is folded into this walk: "tracked"
 * is enough to be a member (every referent is of this heap: refcount.h), so an
 * object is counted (gc_refs = refcount) when the walk or the first reference
 * reaches it, and the heap is walked once less. A collection of generation 0
 * alone folds it the same way (gc_reach_split_young): there the mark of a
 * member is GC_OBJ_YOUNG without GC_OBJ_GEN1 in its flags (set when it joined
 * generation 0, read in the same header line as its count), and its young
 * filter was written as objects joined generation 0. A collection of
 * generations 0 and 1 too, when every object of generation 1 carries
 * GC_OBJ_YOUNG (set as a collection of generation 0 promoted it, with
 * GC_OBJ_GEN1, and its bit in the generation-1 filter): its members carry
 * GC_OBJ_YOUNG, and a referent passes its filter when either filter has its
 * bit. Survivors leave with the marks of the generation they join (survive).
 */

/* gc_refs(r) would go below 0: objects of young hold more references to
 * r than its count (a missing incref somewhere).  Debug builds stop with
 * a message (CPython's debug build: "refcount is too small").  Release
 * builds trust the count, as CPython's: gc_refs stays 0, and r is freed
 * as soon as its counted references are dropped, while others still
 * point at it. */
static inline void
refs_too_small(RcObject *r)
{
#ifdef RCGC_DEBUG
    gc_fatal_refs_too_small(r);
#else
    (void)r;
#endif
}

#if RCGC_ASSERTS
/* r, reported by the traverse of some object of young, lives in another
 * heap: refcount.h forbids it.  (The ring delays r: its referrer is one
 * of the last RING objects traversed, so none is named.) */
static _Noreturn void
foreign_referent(const Pass *p, const RcObject *r)
{
    rcgc_fatal("cyclegc: gc_collect: object %p (type '%s') of heap %p is "
               "referenced from an object of heap %p (an object owns "
               "references only to objects of its own heap: refcount.h)",
               (const void *)r, r->type->name, (void *)rc_heap_of(r),
               (const void *)p->rc);
}
#endif

/* Visit of one referent r during subtract_refs.  If r's prev word already
 * holds a count (GC_PREV_COLLECTING), the count drops by one; a count that
 * would go below zero means a missing incref, which refs_too_small
 * reports.  If r is of young but not counted yet (p->lazy, and its flags
 * match the member test), it is counted now with this reference already
 * taken off.
 * Untracked, non-GC and other referents are left alone. */
static inline void
subtract_one(Pass *p, RcObject *r)
{
    if (!(r->type->flags & RC_TYPE_GC)) {
        return;
    }
    RcGcHead *g = gc_head(r);
    uintptr_t w = g->prev;
    if (g->next == 0) {
        return; /* untracked */
    }
    if (w & GC_PREV_COLLECTING) {
        if ((w >> GC_REFS_SHIFT) != 0) {
            g->prev = w - ((uintptr_t)1 << GC_REFS_SHIFT);
        }
        else {
            refs_too_small(r);
        }
    }
    else if ((r->flags & p->member_mask) == p->member_want) {
        /* An object of young the walk has not reached: count it now.  It
         * is of this heap, as refcount.h's rule says every referent is
         * (no process-wide count of heaps is asked, so other heaps do not
         * change this heap's work); debug builds check the rule here,
         * where breaking it would pack another heap's list. */
#if RCGC_ASSERTS
        if (rc_heap_of(r) != p->rc) {
            foreign_referent(p, r);
        }
#endif
        g->prev = (initial_refs(r) - 1) << GC_REFS_SHIFT | GC_PREV_COLLECTING;
    }
}

#if defined(RCGC_DEBUG)
/* Debug builds: a referent whose header holds objalloc's freed fill was
 * freed while referenced (the referrer stored it without rc_incref, or
 * someone decref'd it once too often).  Reading its type would crash
 * without a word: stop with a message instead (test: bad_input_death). */
static void
check_referent(const Pass *p, const RcObject *r)
{
    const uint32_t fill = RCGC_FILL_FREE * 0x01010101u;
    uint32_t type_low = (uint32_t)(uintptr_t)r->type;
    if (r->refcnt == fill || type_low == fill) {
        rcgc_fatal("cyclegc: gc_collect: object %p (type '%s') refers to "
                   "%p, a freed object (its header holds the freed fill "
                   "0x%02x): a reference stored without rc_incref, or one "
                   "rc_decref too many",
                   (const void *)p->cur, p->cur->type->name, (const void *)r,
                   RCGC_FILL_FREE);
    }
}
#endif

static inline void
subtract_park(Pass *p, RcObject *r)
{
    gc_prefetch_head(r);
    RcObject *old = gc_ring_swap(p->ring, &p->pos, r);
    if (old != NULL) {
        subtract_one(p, old);
    }
}

static int
visit_subtract(RcObject *r, void *arg)
{
    Pass *p = arg;
#if defined(RCGC_DEBUG)
    check_referent(p, r);
#endif
    if (maybe_young(p, r)) {
        subtract_park(p, r);
    }
    return 0;
}

static int
visit_subtract_gen1(RcObject *r, void *arg)
{
    Pass *p = arg;
#if defined(RCGC_DEBUG)
    check_referent(p, r);
#endif
    if (maybe_young_or_gen1(p, r)) {
        subtract_park(p, r);
    }
    return 0;
}

/* The first walk of a collection of generations 0 and 1 is at g, of
 * generation 1, and follows the list's links, each step waiting for the
 * object before it (generation 1's objects were promoted over ten
 * collections, scattered).  Its objects are, in the same order, those
 * noted in gen1_seen, bar those that left it since: find g at or a few
 * entries after *j and prefetch the entry WALK_AHEAD further.  Only
 * prefetches depend on it: a wrong or stale entry costs a useless one. */
static inline void
seen_ahead(const Pass *p, RcGcHead *g, size_t *j)
{
    size_t end = *j + 16 < p->nseen ? *j + 16 : p->nseen;
    for (size_t k = *j; k < end; k++) {
        if (p->seen[k] == g) {
            *j = k + 1;
            if (k + WALK_AHEAD < p->nseen) {
                gc_prefetch_head(gc_obj(p->seen[k + WALK_AHEAD]));
            }
            return;
        }
    }
}

/* Before: gc_refs = refcount (or, when p->lazy, not set yet: each
 * object is counted when the walk or a reference first reaches it).
 * After: gc_refs = references from outside young (never below 0: a
 * traverse that reports more references than the count holds is a count
 * that is too small, see refs_too_small).  Returns the number of objects
 * of young. */
static size_t
subtract_refs(GcList *young, Pass *p)
{
    size_t n = 0;
    int first = !p->ordered; /* no update_refs walk filled the order */
    size_t j = 0;            /* gen1_seen: the entry expected next */
    for (size_t i = 0; i < WALK_AHEAD && i < p->nseen; i++) {
        gc_prefetch_head(gc_obj(p->seen[i]));
    }
    Walk walk;
    walk_start(&walk, p, young);
    for (RcGcHead *g = walk_next(&walk); g != NULL; g = walk_next(&walk)) {
        RcObject *op = gc_obj(g);
        if (p->seen != NULL && (op->flags & GC_OBJ_GEN1)) {
            seen_ahead(p, g, &j);
        }
        if (p->lazy && !(g->prev & GC_PREV_COLLECTING)) {
            g->prev = initial_refs(op) << GC_REFS_SHIFT | GC_PREV_COLLECTING;
        }
        if (first) {
            order_note(p, n, g);
        }
        n++;
        p->cur = op;
        op->type->traverse(op, p->visit_subtract, p);
    }
    if (first) {
        order_done(p, young, n);
    }
    for (unsigned i = 0; i < RING; i++) {
        RcObject *old = gc_ring_swap(p->ring, &p->pos, NULL);
        if (old != NULL) {
            subtract_one(p, old);
        }
    }
    return n;
}

/* ---- 3. mark ---------------------------------------------------------
 *
 * 3. mark: everything reachable from an object with gc_refs > 0 gets VISITED.
 * One scan in list order (address order, most often) decides each object as it
 * passes it. One whose fate is known (VISITED, or gc_refs > 0) is traversed
 * and *kept*: its prev becomes a real link to the previous kept object, which
 * takes it out of the passes. One with gc_refs 0 is marked TENTATIVE. A
 * reference found to an object the scan has not reached only flags it VISITED:
 * the scan traverses it when it gets there, so a list in address order is
 * traversed in address order, whatever the shape of the graph; one to a
 * TENTATIVE object pushes it on a mark stack threaded through the prev words
 * (a VISITED object no longer needs its gc_refs), so the extra memory is O(1),
 * the C stack depth is constant.
 *
 * Cache misses: in steps 2 and 3 the referents of an object are random
 * addresses. Each referent is prefetched when traverse reports it and parked
 * in a small ring; it is handled RING visits later, when its header has
 * (likely) arrived, so that about RING misses are in flight at once instead of
 * one. Step 2 and 3 are correct for any processing order, so the delay changes
 * nothing but speed.
 *
 * Invariant of step 3: an object the scan has passed is either kept (real prev
 * link, so collecting_head() ignores it) or TENTATIVE; one it has not passed
 * is neither; the stack holds only TENTATIVE objects; young's next links are
 * untouched. The ring delays marking, so the scan first takes from the ring a
 * reference to the object it is at, and advances the ring one step for each
 * object it passes without a traversal (else nothing would feed the ring until
 * the end).
 */

/* op of young survives: its collector bits become keep_bits (a member of
 * generation 0 joins generation 1, noted in its filter; any other leaves
 * generations 0 and 1), and a resurrected one (garbage.c) loses
 * GC_OBJ_UNREACHABLE.  GC_OBJ_GEN1 comes only with GC_OBJ_YOUNG. */
static inline void
survive(const Pass *p, RcObject *op)
{
    uint32_t f = op->flags;
    RCGC_ASSERT(!(f & GC_OBJ_GEN1) || (f & GC_OBJ_YOUNG));
    if (f & (GC_OBJ_UNREACHABLE | GC_OBJ_YOUNG)) {
        /* resurrected, or leaving generation 0 or 1 */
        op->flags = (f & ~(GC_OBJ_UNREACHABLE | GC_OBJ_YOUNG | GC_OBJ_GEN1)) |
                    p->keep_bits;
        if (p->promote != NULL) {
            unsigned b = gc_filter_bit(op, 64 - GC_FILTER1_LOG2);
            p->promote[b / 64] |= (uint64_t)1 << (b % 64);
        }
    }
}

/* g, of generation 0, joins generation 1 after those noted: note its
 * address in gen1_seen (for the prefetches of the first walk of the next
 * collection of generation 1), if there is room. */
static inline void
note_seen(GcHeap *gc, RcGcHead *g)
{
    if (gc->gen1_nseen < GC_SEEN_MAX) {
        gc->gen1_seen[gc->gen1_nseen++] = g;
    }
}

/* g is reachable and the scan is at it: give it a real prev link (the
 * previous object kept), which takes it out of the passes.  Its next
 * link stays young's: when every object of young is kept, young is
 * already the reachable list, in young's order. */
static inline void
keep(Pass *p, RcGcHead *g)
{
    survive(p, gc_obj(g));
    if (p->seen_gc != NULL) {
        note_seen(p->seen_gc, g); /* redone in list order if partition
                                     runs */
    }
    g->prev = (uintptr_t)p->last_kept;
    p->last_kept = g;
}

static inline void
mark_one(Pass *p, RcObject *r)
{
    RcGcHead *g = collecting_head(r);
    if (g == NULL) {
        return; /* outside young, or kept already */
    }
    uintptr_t w = g->prev;
    if (w & GC_PREV_VISITED) {
        return;
    }
    if (w & GC_PREV_TENTATIVE) {
        /* passed by the scan with gc_refs 0: traverse it from the stack */
        g->prev = (uintptr_t)p->stack | GC_PREV_COLLECTING | GC_PREV_VISITED;
        p->stack = g;
    }
    else {
        /* not scanned yet: the scan traverses it when it gets there */
        g->prev = GC_PREV_COLLECTING | GC_PREV_VISITED;
    }
}

static inline void
mark_park(Pass *p, RcObject *r)
{
    gc_prefetch_head(r);
    RcObject *old = gc_ring_swap(p->ring, &p->pos, r);
    if (old != NULL) {
        mark_one(p, old);
    }
    else {
        p->pending++;
    }
}

static int
visit_mark(RcObject *r, void *arg)
{
    Pass *p = arg;
    if (maybe_young(p, r)) {
        mark_park(p, r);
    }
    return 0;
}

static int
visit_mark_gen1(RcObject *r, void *arg)
{
    Pass *p = arg;
    if (maybe_young_or_gen1(p, r)) {
        mark_park(p, r);
    }
    return 0;
}

static void
drain_stack(Pass *p)
{
    while (p->stack != NULL) {
        RcGcHead *g = p->stack;
        /* on the stack: COLLECTING and VISITED, pushed once */
        RCGC_ASSERT((g->prev & (GC_PREV_COLLECTING | GC_PREV_VISITED)) ==
                    (GC_PREV_COLLECTING | GC_PREV_VISITED));
        p->stack = (RcGcHead *)(g->prev & ~GC_PREV_FLAGS);
        g->prev = GC_PREV_COLLECTING | GC_PREV_VISITED;
        RcObject *op = gc_obj(g);
        op->type->traverse(op, p->visit_mark, p);
    }
}

/* If a reference to op waits in the ring, handle it now (op is not
 * scanned yet, so this only flags it VISITED); 1 if it did. */
static inline int
take_from_ring(Pass *p, RcObject *op)
{
    int found = 0;
    for (unsigned i = 0; i < RING; i++) {
        if (p->ring[i] == op) {
            p->ring[i] = NULL;
            p->pending--;
            found = 1;
        }
    }
    if (found) {
        mark_one(p, op);
    }
    return found;
}

/* Mark everything waiting in the ring, and all it reaches that the
 * scan has passed: afterwards the ring and the stack are empty. */
static void
flush_ring(Pass *p)
{
    while (p->pending != 0) {
        for (unsigned i = 0; i < RING; i++) {
            RcObject *old = gc_ring_swap(p->ring, &p->pos, NULL);
            if (old != NULL) {
                mark_one(p, old);
            }
        }
        p->pending = 0;
        drain_stack(p);
    }
}

/* The scan.  Before: gc_refs = references from outside young.  After:
 * VISITED (or kept) exactly the objects reachable from one with
 * gc_refs > 0; ntentative counts the objects passed with gc_refs 0
 * (kept or not later); the mark stack and the ring are empty. */
static void
mark(GcList *young, Pass *p)
{
    Walk walk;
    walk_start(&walk, p, young);
    for (RcGcHead *g = walk_next(&walk); g != NULL; g = walk_next(&walk)) {
        uintptr_t w = g->prev;
        if (!(w & GC_PREV_VISITED) && (w >> GC_REFS_SHIFT) == 0 &&
            p->pending != 0 && take_from_ring(p, gc_obj(g))) {
            w = g->prev; /* a reference to g was waiting in the ring */
        }
        if (!(w & GC_PREV_VISITED) && (w >> GC_REFS_SHIFT) == 0) {
            g->prev = w | GC_PREV_TENTATIVE; /* tentatively unreachable */
            p->ntentative++;
            /* Keep the ring moving while no traversal feeds it, so that
             * what the scan has yet to reach is flagged before it does. */
            RcObject *old = gc_ring_swap(p->ring, &p->pos, NULL);
            if (old != NULL) {
                p->pending--;
                mark_one(p, old);
                drain_stack(p);
            }
            continue;
        }
        keep(p, g);
        RcObject *op = gc_obj(g);
        op->type->traverse(op, p->visit_mark, p);
        drain_stack(p);
    }
    flush_ring(p);
}

/* ---- 4. partition --------------------------------------------------- */

static inline void
link_tail(GcList *l, RcGcHead **tail, RcGcHead *g)
{
    RcGcHead *t = *tail;
    gc_list_note(l, t, g);
    t->next = (uintptr_t)g;
    g->prev = (uintptr_t)t;
    *tail = g;
}

/* link_tail without the note: the caller accounts for the objects at
 * once (note_garbage). */
static inline void
link_tail_unnoted(RcGcHead **tail, RcGcHead *g)
{
    RcGcHead *t = *tail;
    t->next = (uintptr_t)g;
    g->prev = (uintptr_t)t;
    *tail = g;
}

/* n objects were linked at l's tail unnoted.  The unreachable list is
 * never sorted and never joins a generation (garbage.c frees it, or
 * moves its survivors one by one), so its order statistics need only
 * stay true bounds (internal.h): each new pair may descend, and the
 * objects lie anywhere.  Noting each object costs about a tenth of a
 * generation-0 pass that finds mostly garbage (callgrind, bench young's
 * workload). */
static void
note_garbage(GcList *l, size_t n)
{
    if (n == 0) {
        return;
    }
    l->descents += n;
    l->backsteps += n;
    l->size_ub += n;
    l->lo = 0;
    l->hi = UINTPTR_MAX;
}

/* Before: young after mark() with some TENTATIVE objects (next links
 * intact).  After: young empty, its objects on reachable (kept, or
 * VISITED later) or unreachable (with GC_OBJ_UNREACHABLE), with real
 * links, in young's order.  Notes what the unreachable will need. */
static void
partition(GcList *young, const Pass *p, GcList *reachable, GcList *unreachable,
          GcSplit *split)
{
    size_t nunreachable = 0, nreachable = 0;
    /* the next chain start to note is the hint_at-th reachable object
     * (0: none) */
    size_t hints_left = GC_HINTS_KEPT;
    size_t hint_at = p->hints != NULL ? p->hint_every : 0;
    unsigned need = 0, type_need = 0;
    const RcType *last_type = NULL;
    int finalizes = 0;
    RcGcHead *rtail = gc_prev(&reachable->head);
    RcGcHead *utail = gc_prev(&unreachable->head);
    if (p->seen_gc != NULL) {
        p->seen_gc->gen1_nseen = p->seen_base; /* the scan's notes */
    }
    Walk walk;
    walk_start(&walk, p, young);
    for (RcGcHead *g = walk_next(&walk); g != NULL; g = walk_next(&walk)) {
        RcObject *op = gc_obj(g);
        uintptr_t w = g->prev;
        if (!(w & GC_PREV_COLLECTING) || (w & GC_PREV_VISITED)) {
            if (w & GC_PREV_COLLECTING) {
                survive(p, op); /* VISITED after the scan passed it */
            }
            link_tail(reachable, &rtail, g); /* kept by the scan, or
                                                VISITED later */
            if (p->seen_gc != NULL) {
                note_seen(p->seen_gc, g);
            }
            if (++nreachable == hint_at) {
                gc_hint_note(p->hints, g);
                hint_at = --hints_left != 0 ? hint_at + p->hint_every : 0;
            }
        }
        else {
            /* passed by the scan with gc_refs 0 and never reached */
            RCGC_ASSERT((w & GC_PREV_TENTATIVE) && (w >> GC_REFS_SHIFT) == 0);
            const RcType *t = op->type;
            uint32_t flags = op->flags;
            if (t != last_type) {
                /* garbage comes in runs of a few types: read each once */
                last_type = t;
                type_need = (t->legacy_del != NULL ? GC_NEED_LEGACY : 0) |
                            (t == &rc_weakref_type ? GC_NEED_WEAKREFS : 0);
                finalizes = t->finalize != NULL;
            }
            need |= type_need;
            need |= (flags & RC_OBJ_HAS_WEAKREFS) ? GC_NEED_WEAKREFS : 0;
            need |= (finalizes && !(flags & RC_OBJ_FINALIZED))
                        ? GC_NEED_FINALIZE
                        : 0;
            op->flags =
                (flags & ~(GC_OBJ_YOUNG | GC_OBJ_GEN1)) | GC_OBJ_UNREACHABLE;
            link_tail_unnoted(&utail, g);
            nunreachable++;
        }
    }
    rtail->next = (uintptr_t)&reachable->head;
    reachable->head.prev = (uintptr_t)rtail;
    utail->next = (uintptr_t)&unreachable->head;
    unreachable->head.prev = (uintptr_t)utail;
    note_garbage(unreachable, nunreachable);
    gc_list_init(young);
    split->unreachable = nunreachable;
    split->need = need;
}

/* Steps 1-4 of the file opening; `all` folds step 1 into step 2. */
void
gc_reach_split(GcList *young, GcList *reachable, GcList *unreachable,
               const RcHeap *all, GcSplit *split)
{
    gc_reach_split_filtered(young, reachable, unreachable, all, NULL, NULL,
                            NULL, NULL, split);
}

/* How a split tells young's members (split_passes).  lazy: young's
 * objects are those of heap rc whose flags & member_mask equal
 * member_want (0 and 0: every tracked object, `all`), counted on first
 * touch, filtered by filter (built as they joined, or NULL) and, for a
 * collection of generations 0 and 1, filter1 too; else update_refs
 * counts them first and builds its own filter in scratch (or none when
 * NULL).  promote: see gc_reach_split_filtered. */
typedef struct Members {
    const RcHeap *rc; /* lazy when not NULL */
    uint32_t member_mask, member_want;
    const uint64_t *filter;
    unsigned filter_log2;
    const uint64_t *filter1;
    uint64_t *scratch;
    GcHeap *promote;
    RcGcHead *const *seen; /* prefetch hints for the first walk */
    size_t nseen;
} Members;

/* The split of `young` into reachable / unreachable, walk by walk.  Set up
 * the pass: lazily (m->rc), subtract_refs counts young's objects as it
 * meets them; else a filter of young's addresses is sized (if the scratch
 * is big enough) and update_refs counts every object first.  Then
 * subtract the references inside young, mark from what kept a count, and
 * partition unless nothing was left tentative.  After: young is empty,
 * *split holds the counts and what the garbage needs (weakrefs,
 * finalizers, legacy). */
static void
split_passes(GcList *young, GcList *reachable, GcList *unreachable,
             const Members *m, RcGcHead **order, GcHeap *hints, GcSplit *split)
{
    Pass p = {.pos = 0, .pending = 0, .stack = NULL, .ntentative = 0};
    for (unsigned i = 0; i < RING; i++) {
        p.ring[i] = NULL;
    }
    p.last_kept = &young->head;
    p.lazy = m->rc != NULL;
    /* not lazy: no object is counted on first touch (0 != 1) */
    p.member_mask = p.lazy ? m->member_mask : 0;
    p.member_want = p.lazy ? m->member_want : 1;
    p.keep_bits = m->promote != NULL ? GC_OBJ_YOUNG | GC_OBJ_GEN1 : 0;
    p.promote = m->promote != NULL && m->promote->gen1_filter_on
                    ? m->promote->gen1_filter
                    : NULL;
    p.seen_gc = m->promote;
    p.seen_base = m->promote != NULL ? m->promote->gen1_nseen : 0;
    p.seen = m->seen;
    p.nseen = m->nseen;
    p.rc = m->rc;
    p.filter = NULL;
    p.filter1 = NULL;
    p.visit_subtract = visit_subtract;
    p.visit_mark = visit_mark;
    p.order = order;
    p.order_cap = order != NULL ? GC_ORDER_MAX : 0;
    p.norder = 0;
    p.ordered = 0;
    if (p.lazy && m->filter != NULL) {
        p.filter = m->filter; /* built as young's objects joined it */
        p.filter_shift = 64 - m->filter_log2;
        if (m->filter1 != NULL) {
            p.filter1 = m->filter1;
            p.visit_subtract = visit_subtract_gen1;
            p.visit_mark = visit_mark_gen1;
        }
    }
    /* a second filter only with the first (maybe_young_or_gen1) */
    RCGC_ASSERT(m->filter1 == NULL || p.filter1 != NULL);
    unsigned walks = 2; /* subtract_refs and mark */
    if (!p.lazy) {
        /* At least 8 bits per object of young (so at most 1 in 8 set:
         * few false "maybe"s), at most the scratch's: bigger sets go
         * without (the filter would mostly answer "maybe"). */
        unsigned log2 = 10;
        while (log2 < GC_FILTER_LOG2 &&
               ((size_t)1 << log2) < 8 * young->size_ub) {
            log2++;
        }
        if (m->scratch != NULL && ((size_t)1 << log2) >= 8 * young->size_ub) {
            memset(m->scratch, 0, ((size_t)1 << log2) / 8);
            p.filter = m->scratch;
            p.filter_shift = 64 - log2;
        }
        update_refs(young, &p, (uint64_t *)p.filter, p.filter_shift);
        walks++;
    }
    split->examined = subtract_refs(young, &p);
    if (hints != NULL && split->examined >= 2 * GC_HINTS_KEPT) {
        p.hints = hints;
        p.hint_every = split->examined / (GC_HINTS_KEPT + 1);
    }
    mark(young, &p);
    /* the scan's end: ring and mark stack drained (invariant of step 3) */
    RCGC_ASSERT(p.stack == NULL && p.pending == 0);
    RCGC_ASSERT(p.ntentative <= split->examined);
    walks += p.ntentative != 0; /* partition */
    split->visits = (uint64_t)walks * split->examined;
    if (p.ntentative == 0) {
        /* All reachable: every prev link is real again (the first one
         * is set by the merge). */
        gc_list_merge(young, reachable);
        split->unreachable = 0;
        split->need = 0;
    }
    else {
        partition(young, &p, reachable, unreachable, split);
    }
    if (p.promote != NULL) {
        /* the survivors were noted in generation 1's filter */
        GcHeap *gc = m->promote;
        gc->gen1_filter_n += split->examined - split->unreachable;
        if (gc->gen1_filter_n << 3 > (size_t)1 << GC_FILTER1_LOG2) {
            gc->gen1_filter_on = 0; /* too full to tell much */
        }
    }
}

void
gc_reach_split_filtered(GcList *young, GcList *reachable, GcList *unreachable,
                        const RcHeap *all, uint64_t *filter, RcGcHead **order,
                        GcHeap *hints, GcHeap *promote, GcSplit *split)
{
    /* all: lazy, every tracked object a member, no filter; else
     * update_refs builds one in the scratch */
    Members m = {.rc = all,
                 .member_mask = 0,
                 .member_want = 0,
                 .filter = NULL,
                 .filter_log2 = 0,
                 .filter1 = NULL,
                 .scratch = all != NULL ? NULL : filter,
                 .promote = promote,
                 .seen = NULL,
                 .nseen = 0};
    split_passes(young, reachable, unreachable, &m, order, hints, split);
}

void
gc_reach_split_young(GcList *young, GcList *reachable, GcList *unreachable,
                     const RcHeap *rc, GcHeap *gc, int generation,
                     GcSplit *split)
{
    RCGC_ASSERT(generation == 0
                    ? !gc->young_stale
                    : generation == 1 && gc->gen1_young &&
                          gc->gen0_filter_on && gc->gen1_filter_on);
    Members m = {.rc = rc,
                 .member_mask = GC_OBJ_YOUNG,
                 .member_want = GC_OBJ_YOUNG,
                 .filter = gc->gen0_filter_on ? gc->young_filter : NULL,
                 .filter_log2 = gc->gen0_filter_log2,
                 .filter1 = NULL,
                 .scratch = NULL,
                 .promote = NULL,
                 .seen = NULL,
                 .nseen = 0};
    if (generation == 0) {
        m.member_mask = GC_OBJ_YOUNG | GC_OBJ_GEN1; /* not generation 1 */
        m.promote = gc;
    }
    else {
        m.filter1 = gc->gen1_filter;
        m.seen = gc->gen1_seen;
        m.nseen = gc->gen1_nseen;
    }
    split_passes(young, reachable, unreachable, &m, gc->young_order, NULL,
                 split);
}

/* Generation 0 is empty (nothing to note): the filter restarts with at
 * least 16 bits per object of a full generation 0 (8 after twice as
 * many: then it turns off), within young_filter's 2^GC_FILTER_LOG2. */
void
gc_gen0_filter_reset(GcHeap *gc)
{
    size_t want =
        16 * (size_t)(gc->gens[0].threshold > 0 ? gc->gens[0].threshold : 1);
    unsigned log2 = 10;
    while (log2 < GC_FILTER_LOG2 && ((size_t)1 << log2) < want) {
        log2++;
    }
    gc->gen0_filter_log2 = log2;
    gc->gen0_filter_n = 0;
    gc->gen0_filter_on = 1;
    memset(gc->young_filter, 0, ((size_t)1 << log2) / 8);
}

/* Generation 1 is empty: its marks and filter hold (vacuously), and the
 * filter starts empty (GC_FILTER1_WORDS words, 8 KiB, cleared only when
 * something was noted since). */
void
gc_gen1_reset(GcHeap *gc)
{
    gc->gen1_young = 1;
    gc->gen1_nseen = 0;
    if (gc->gen1_filter_n != 0 || !gc->gen1_filter_on) {
        memset(gc->gen1_filter, 0, sizeof gc->gen1_filter);
    }
    gc->gen1_filter_n = 0;
    gc->gen1_filter_on = 1;
}

void
gc_list_clear_young(GcList *l)
{
    for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
        gc_obj(g)->flags &= ~(GC_OBJ_YOUNG | GC_OBJ_GEN1);
    }
}
