/* SPDX-License-Identifier: MIT */
/* embed.c - the smallest program that uses all three layers (README.md
 * shows it).  A "pair" type with two references, a cycle, a collection.
 * It includes rcgc as a user does, <rcgc/rcgc.h>, and links rcgc::rcgc.
 */
#include <rcgc/rcgc.h>

#include <stdio.h>

typedef struct Pair {
    RcObject *first, *second;
} Pair;

static int
pair_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    Pair *p = rc_payload(op);
    int r = p->first ? visit(p->first, arg) : 0;
    return r == 0 && p->second ? visit(p->second, arg) : r;
}

static void
pair_clear(RcObject *op)
{
    Pair *p = rc_payload(op);
    rc_setref(&p->first, NULL);
    rc_setref(&p->second, NULL);
}

static const RcType pair_type = {
    RC_TYPE_HEAD("pair", RC_TYPE_GC),
    .size = sizeof(Pair),
    .traverse = pair_traverse,
    .clear = pair_clear,
};

int
main(void)
{
    GcHeap *gc = gc_heap_new(NULL); /* allocator + objects + collector */
    RcHeap *heap = gc_heap_rc(gc);

    RcObject *a = rc_new(heap, &pair_type);
    RcObject *b = rc_new(heap, &pair_type);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "out of memory: %s\n", rc_heap_error(heap));
        return 1;
    }
    ((Pair *)rc_payload(a))->first = rc_newref(b); /* a -> b */
    ((Pair *)rc_payload(b))->first = rc_newref(a); /* b -> a: a cycle */
    rc_decref(a);
    rc_decref(b); /* unreachable now, but the counts are 1 */

    printf("live before collect: %zu\n", rc_live_total(heap));
    printf("collect(2) found %ld unreachable\n", gc_collect(gc, 2));
    printf("live after collect: %zu\n", rc_live_total(heap));
    gc_heap_destroy(gc);
    return 0;
}
