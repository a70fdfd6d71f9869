/* SPDX-License-Identifier: MIT */
/* why.c - gc_why_alive: a shortest path of references that keeps an
 * object alive, from an object held from outside the tracked graph.
 *
 * Without collecting anything:
 *   1. number every tracked object (gens 0..2 and the permanent one):
 *      objs[i], and its index goes in its prev word (index << 4 |
 *      COLLECTING) - no user code runs until step 5 restores the links;
 *   2. refs[i] = refcount, minus every reference from a tracked object
 *      (traverse): what is left comes from outside the tracked graph;
 *   3. breadth-first search from every object with refs > 0 at once,
 *      recording each object's parent, until the target is reached;
 *   4. the path is the chain of parents from the target back to a root;
 *   5. restore the prev links of every list.
 * Side memory: three arrays of n words (oa_meta_malloc); on failure the
 * answer is (size_t)-1 with a message and nothing changed.
 */
#include "cyclegc/internal.h"

#define NONE SIZE_MAX

typedef struct Search {
    RcObject **objs;
    size_t *refs;   /* step 2; then the BFS queue reuses it */
    size_t *parent; /* NONE: not reached yet */
    size_t qtail;
    size_t from;
} Search;

static GcList *
list_at(GcHeap *gc, int i)
{
    return i < GC_NGENERATIONS ? &gc->gens[i].list : &gc->permanent;
}

/* Index of r when r is a numbered (tracked) object, else NONE. */
static size_t
index_of(RcObject *r)
{
    if (!(r->type->flags & RC_TYPE_GC)) {
        return NONE;
    }
    RcGcHead *g = gc_head(r);
    if (g->next == 0 || !(g->prev & GC_PREV_COLLECTING)) {
        return NONE;
    }
    return (size_t)(g->prev >> GC_REFS_SHIFT);
}

static int
visit_subtract(RcObject *r, void *arg)
{
    Search *s = arg;
    size_t i = index_of(r);
    if (i != NONE && s->refs[i] > 0) {
        s->refs[i]--;
    }
    return 0;
}

static int
visit_reach(RcObject *r, void *arg)
{
    Search *s = arg;
    size_t i = index_of(r);
    if (i != NONE && s->parent[i] == NONE) {
        s->parent[i] = s->from;
        s->refs[s->qtail++] = i;
    }
    return 0;
}

static void
restore_links(GcHeap *gc)
{
    for (int i = 0; i <= GC_NGENERATIONS; i++) {
        GcList *l = list_at(gc, i);
        RcGcHead *prev = &l->head;
        for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
            g->prev = (uintptr_t)prev;
            prev = g;
        }
    }
}

/* Steps 3 and 4 once the arrays are filled. */
static size_t
search(Search *s, size_t n, size_t target, RcObject **path, size_t cap)
{
    size_t qhead = 0;
    s->qtail = 0;
    for (size_t i = 0; i < n; i++) {
        s->parent[i] = NONE;
    }
    /* Roots first, in list order; refs[] becomes the queue in place:
     * entry k of the queue is written only after refs[k] was read. */
    for (size_t i = 0; i < n; i++) {
        if (s->refs[i] > 0) {
            s->parent[i] = i;
            s->refs[s->qtail++] = i;
        }
    }
    int found = s->parent[target] != NONE;
    while (!found && qhead < s->qtail) {
        size_t i = s->refs[qhead++];
        s->from = i;
        RcObject *op = s->objs[i];
        op->type->traverse(op, visit_reach, s);
        found = s->parent[target] != NONE;
    }
    if (!found) {
        return 0;
    }
    size_t len = 1;
    for (size_t i = target; s->parent[i] != i; i = s->parent[i]) {
        len++;
    }
    size_t k = len;
    for (size_t i = target;; i = s->parent[i]) {
        k--;
        if (k < cap) {
            path[k] = s->objs[i];
        }
        if (s->parent[i] == i) {
            break;
        }
    }
    return len;
}

static size_t why_alive(GcHeap *gc, RcObject *target, RcObject **path,
                        size_t cap);

size_t
gc_why_alive(GcHeap *gc, RcObject *target, RcObject **path, size_t cap)
{
    if (gc == NULL) {
        gc_null_heap("gc_why_alive");
        return (size_t)-1;
    }
    if (target == NULL || !gc_is_tracked(target)) {
        gc_set_error(gc, "gc_why_alive: object %p is not tracked",
                     (void *)target);
        return (size_t)-1;
    }
    if (gc->collecting) {
        gc_set_error(gc, "gc_why_alive: a collection is running");
        return (size_t)-1;
    }
    /* No collection may start meanwhile: an allocation below that fails
     * would run one from objalloc's pressure callback, freeing objects
     * we counted (or the target). */
    gc->collecting = 1;
    gc_inc_abandon(gc); /* numbering packs prev words: no pass may run */
    size_t len = why_alive(gc, target, path, cap);
    gc->collecting = 0;
    return len;
}

/* Steps 1-5 of the list at the top of this file: allocate the three
 * per-object arrays (out of memory: error set, (size_t)-1, nothing
 * changed), number the objects into their prev words, subtract the
 * references between tracked objects, search, restore every prev link.
 * Returns the path's length (0: no root reaches target). */
static size_t
why_alive(GcHeap *gc, RcObject *target, RcObject **path, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i <= GC_NGENERATIONS; i++) {
        n += gc_list_size(list_at(gc, i));
    }
    Search s;
    size_t each = n * sizeof(size_t);
    s.objs = oa_meta_malloc(gc->oa, n * sizeof(RcObject *));
    s.refs = oa_meta_malloc(gc->oa, each);
    s.parent = oa_meta_malloc(gc->oa, each);
    if (s.objs == NULL || s.refs == NULL || s.parent == NULL) {
        if (s.objs != NULL) {
            oa_meta_free(gc->oa, s.objs, n * sizeof(RcObject *));
        }
        if (s.refs != NULL) {
            oa_meta_free(gc->oa, s.refs, each);
        }
        if (s.parent != NULL) {
            oa_meta_free(gc->oa, s.parent, each);
        }
        gc_set_error(gc, "gc_why_alive: out of memory for %zu objects", n);
        return (size_t)-1;
    }
    /* 1. */
    size_t k = 0;
    /* From here to step 5 every list's prev links hold indexes, not
     * links: nothing may walk a list backwards or relink it. */
    for (int i = 0; i <= GC_NGENERATIONS; i++) {
        GcList *l = list_at(gc, i);
        for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
            RcObject *op = gc_obj(g);
            s.objs[k] = op;
            s.refs[k] = op->refcnt != 0 ? op->refcnt : 1;
            g->prev = (uintptr_t)k << GC_REFS_SHIFT | GC_PREV_COLLECTING;
            k++;
        }
    }
    /* 2. */
    for (size_t i = 0; i < n; i++) {
        RcObject *op = s.objs[i];
        op->type->traverse(op, visit_subtract, &s);
    }
    /* 3, 4. */
    size_t len = search(&s, n, index_of(target), path, cap);
    /* 5. */
    restore_links(gc);
    oa_meta_free(gc->oa, s.objs, n * sizeof(RcObject *));
    oa_meta_free(gc->oa, s.refs, each);
    oa_meta_free(gc->oa, s.parent, each);
    return len;
}
