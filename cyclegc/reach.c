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
 *                      mark op COLLECTING.  (A tracked object with count
 *                      0 is being destroyed by refcount: treat it as held
 *                      from outside, so that we never touch it.)
 *   2. subtract_refs:  for each reference op -> r found by traverse with
 *                      r COLLECTING, gc_refs(r) -= 1.  Afterwards gc_refs
 *                      counts only references from outside young.
 *   3. mark:           everything reachable from an object with
 *                      gc_refs > 0 gets VISITED.  Objects are scanned in
 *                      list order; an object reached from one already
 *                      scanned goes on a mark stack threaded through the
 *                      prev words (a VISITED object no longer needs its
 *                      gc_refs), so the extra memory is O(1) and the C
 *                      stack depth is constant.  When the list is sorted
 *                      by address, an object reached that lies ahead of
 *                      the scan is only flagged, and the scan traverses
 *                      it in address order when it gets there.
 *   4. partition:      walk young once more, append each object to
 *                      `reachable` (VISITED) or `unreachable`, restoring
 *                      real prev links and setting GC_OBJ_UNREACHABLE;
 *                      note what the unreachable will need (legacy
 *                      finalizers, weakrefs, finalize) so that the later
 *                      phases that are not needed skip their walk.
 *
 * Cache misses: in steps 2 and 3 the referents of an object are random
 * addresses.  Each referent is prefetched when traverse reports it and
 * parked in a small ring; it is handled RING visits later, when its
 * header has (likely) arrived, so that about RING misses are in flight
 * at once instead of one.  Step 2 and 3 are correct for any processing
 * order, so the delay changes nothing but speed.
 *
 * Invariant of step 3 (sorted mode): every object with an address below
 * `cursor` has been scanned; a VISITED object at or above cursor has not
 * been traversed yet, one below it has been (or is on the stack).
 */
#include "cyclegc/internal.h"

#define RING 16 /* referents in flight (a power of two) */

typedef struct Pass {
    RcObject *ring[RING];
    unsigned pos;
    RcGcHead *stack;  /* mark stack, linked through prev words */
    uintptr_t cursor; /* next object the scan examines (sorted mode) */
    int sorted;       /* young is in address order */
} Pass;

static inline void
prefetch_head(const RcObject *r)
{
    __builtin_prefetch((const char *)r - sizeof(uintptr_t), 1);
    __builtin_prefetch((const char *)r + sizeof(uintptr_t), 0);
}

/* Park r in the ring; return what it pushes out (or NULL). */
static inline RcObject *
ring_swap(Pass *p, RcObject *r)
{
    RcObject *old = p->ring[p->pos];
    p->ring[p->pos] = r;
    p->pos = (p->pos + 1) & (RING - 1);
    return old;
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

/* Before: young is a list with real links.
 * After:  prev = gc_refs << SHIFT | COLLECTING, gc_refs = refcount. */
static size_t
update_refs(GcList *young)
{
    size_t n = 0;
    for (RcGcHead *g = gc_list_first(young); g != &young->head;
         g = gc_next(g)) {
        uint32_t rc = gc_obj(g)->refcnt;
        uintptr_t refs = rc != 0 ? rc : 1;
        g->prev = refs << GC_REFS_SHIFT | GC_PREV_COLLECTING;
        n++;
    }
    return n;
}

/* ---- 2. subtract_refs ----------------------------------------------- */

static inline void
subtract_one(RcObject *r)
{
    RcGcHead *g = collecting_head(r);
    if (g != NULL && (g->prev >> GC_REFS_SHIFT) != 0) {
        g->prev -= (uintptr_t)1 << GC_REFS_SHIFT;
    }
}

static int
visit_subtract(RcObject *r, void *arg)
{
    prefetch_head(r);
    RcObject *old = ring_swap(arg, r);
    if (old != NULL) {
        subtract_one(old);
    }
    return 0;
}

/* Before: gc_refs = refcount.  After: gc_refs = references from outside
 * young (never below 0: a traverse that reports more references than
 * the count holds cannot underflow it). */
static void
subtract_refs(GcList *young, Pass *p)
{
    for (RcGcHead *g = gc_list_first(young); g != &young->head;
         g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        op->type->traverse(op, visit_subtract, p);
    }
    for (unsigned i = 0; i < RING; i++) {
        RcObject *old = ring_swap(p, NULL);
        if (old != NULL) {
            subtract_one(old);
        }
    }
}

/* ---- 3. mark -------------------------------------------------------- */

static inline void
mark_one(Pass *p, RcObject *r)
{
    RcGcHead *g = collecting_head(r);
    if (g == NULL || (g->prev & GC_PREV_VISITED)) {
        return;
    }
    if (p->sorted && (uintptr_t)g >= p->cursor) {
        g->prev = GC_PREV_COLLECTING | GC_PREV_VISITED;
    }
    else {
        g->prev = (uintptr_t)p->stack | GC_PREV_COLLECTING | GC_PREV_VISITED;
        p->stack = g;
    }
}

static int
visit_mark(RcObject *r, void *arg)
{
    prefetch_head(r);
    RcObject *old = ring_swap(arg, r);
    if (old != NULL) {
        mark_one(arg, old);
    }
    return 0;
}

static void
drain_stack(Pass *p)
{
    while (p->stack != NULL) {
        RcGcHead *g = p->stack;
        p->stack = (RcGcHead *)(g->prev & ~GC_PREV_FLAGS);
        g->prev = GC_PREV_COLLECTING | GC_PREV_VISITED;
        RcObject *op = gc_obj(g);
        op->type->traverse(op, visit_mark, p);
    }
}

/* Before: gc_refs = references from outside young.
 * After:  VISITED exactly on the objects reachable from one with
 *         gc_refs > 0; the mark stack and the ring are empty. */
static void
mark(GcList *young, Pass *p)
{
    RcGcHead *end = &young->head;
    for (RcGcHead *g = gc_list_first(young); g != end;) {
        RcGcHead *next = gc_next(g);
        p->cursor = next != end ? (uintptr_t)next : UINTPTR_MAX;
        uintptr_t w = g->prev;
        if (w & GC_PREV_VISITED) {
            if (!p->sorted) {
                g = next; /* traversed from the stack already */
                continue;
            }
        }
        else if ((w >> GC_REFS_SHIFT) == 0) {
            g = next; /* tentatively unreachable */
            continue;
        }
        g->prev = GC_PREV_COLLECTING | GC_PREV_VISITED;
        RcObject *op = gc_obj(g);
        op->type->traverse(op, visit_mark, p);
        drain_stack(p);
        g = next;
    }
    p->cursor = UINTPTR_MAX;
    for (;;) {
        for (unsigned i = 0; i < RING; i++) {
            RcObject *old = ring_swap(p, NULL);
            if (old != NULL) {
                mark_one(p, old);
            }
        }
        if (p->stack == NULL) {
            break;
        }
        drain_stack(p);
    }
}

/* ---- 4. partition --------------------------------------------------- */

static inline void
link_tail(GcList *l, RcGcHead **tail, RcGcHead *g)
{
    RcGcHead *t = *tail;
    if (t != &l->head && (uintptr_t)t > (uintptr_t)g) {
        l->descents++;
    }
    t->next = (uintptr_t)g;
    g->prev = (uintptr_t)t;
    *tail = g;
    l->size_ub++;
}

/* Before: young singly linked, prev packed.  After: young empty, its
 * objects on reachable / unreachable with real links, in young's order. */
static void
partition(GcList *young, GcList *reachable, GcList *unreachable,
          GcSplit *split)
{
    size_t nunreachable = 0;
    unsigned need = 0;
    RcGcHead *rtail = gc_prev(&reachable->head);
    RcGcHead *utail = gc_prev(&unreachable->head);
    RcGcHead *end = &young->head;
    for (RcGcHead *g = gc_list_first(young); g != end;) {
        RcGcHead *next = gc_next(g);
        RcObject *op = gc_obj(g);
        if (g->prev & GC_PREV_VISITED) {
            op->flags &= ~GC_OBJ_UNREACHABLE;
            link_tail(reachable, &rtail, g);
        }
        else {
            const RcType *t = op->type;
            uint32_t flags = op->flags;
            need |= t->legacy_del != NULL ? GC_NEED_LEGACY : 0;
            need |= (t == &rc_weakref_type || (flags & RC_OBJ_HAS_WEAKREFS))
                        ? GC_NEED_WEAKREFS
                        : 0;
            need |= (t->finalize != NULL && !(flags & RC_OBJ_FINALIZED))
                        ? GC_NEED_FINALIZE
                        : 0;
            op->flags = flags | GC_OBJ_UNREACHABLE;
            link_tail(unreachable, &utail, g);
            nunreachable++;
        }
        g = next;
    }
    rtail->next = (uintptr_t)&reachable->head;
    reachable->head.prev = (uintptr_t)rtail;
    utail->next = (uintptr_t)&unreachable->head;
    unreachable->head.prev = (uintptr_t)utail;
    gc_list_init(young);
    split->unreachable = nunreachable;
    split->need = need;
}

void
gc_reach_split(GcList *young, GcList *reachable, GcList *unreachable,
               GcSplit *split)
{
    Pass p = {.pos = 0, .stack = NULL, .sorted = young->descents == 0};
    for (unsigned i = 0; i < RING; i++) {
        p.ring[i] = NULL;
    }
    split->examined = update_refs(young);
    subtract_refs(young, &p);
    mark(young, &p);
    partition(young, reachable, unreachable, split);
}
