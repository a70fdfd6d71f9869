/* SPDX-License-Identifier: MIT */
/* main.c - a program that uses rcgc through its installed interface only:
 * <rcgc/rcgc.h>, the version macros, a cycle found by the collector.
 * Exits 0 when everything is as documented, 1 with a message otherwise. */
#include <rcgc/rcgc.h>

#include <stdio.h>
#include <string.h>

typedef struct Pair {
    RcObject *first;
} Pair;

static int
pair_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    Pair *p = rc_payload(op);
    return p->first != NULL ? visit(p->first, arg) : 0;
}

static void
pair_clear(RcObject *op)
{
    rc_setref(&((Pair *)rc_payload(op))->first, NULL);
}

static const RcType pair_type = {
    RC_TYPE_HEAD("pair", RC_TYPE_GC),
    .size = sizeof(Pair),
    .traverse = pair_traverse,
    .clear = pair_clear,
};

static int
fail(const char *what)
{
    fprintf(stderr, "consumer: %s\n", what);
    return 1;
}

int
main(void)
{
    if (strcmp(RCGC_VERSION_STRING, EXPECTED_VERSION) != 0 ||
        RCGC_VERSION != RCGC_VERSION_MAJOR * 10000 + RCGC_VERSION_MINOR * 100 +
                            RCGC_VERSION_PATCH) {
        return fail("version macros do not match the VERSION file");
    }
    GcHeap *gc = gc_heap_new(NULL);
    if (gc == NULL) {
        return fail("gc_heap_new failed");
    }
    RcHeap *heap = gc_heap_rc(gc);
    RcObject *a = rc_new(heap, &pair_type);
    RcObject *b = rc_new(heap, &pair_type);
    if (a == NULL || b == NULL) {
        return fail(rc_heap_error(heap));
    }
    ((Pair *)rc_payload(a))->first = rc_newref(b);
    ((Pair *)rc_payload(b))->first = rc_newref(a);
    rc_decref(a);
    rc_decref(b);
    long found = gc_collect(gc, 2);
    size_t live = rc_live_total(heap);
    gc_heap_destroy(gc);
    if (found != 2 || live != 0) {
        return fail("the collector did not free the cycle");
    }
    printf("consumer: rcgc %s: cycle of 2 collected\n", RCGC_VERSION_STRING);
    return 0;
}
