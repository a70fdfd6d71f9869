/* SPDX-License-Identifier: MIT */
/* slots.c - the k-slot node of the C suites (see slots.h): the slot walks,
 * the traverse and clear callbacks of 1-, 2- and 4-slot nodes, and the
 * helpers that make a node and set a slot. */
#include "common/slots.h"

#include <criterion/criterion.h>

int
tc_slots_traverse(RcObject *const *slot, size_t k, RcVisitFn visit, void *arg)
{
    for (size_t i = 0; i < k; i++) {
        if (slot[i] != NULL) {
            int r = visit(slot[i], arg);
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

void
tc_slots_clear(RcObject **slot, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        rc_setref(&slot[i], NULL);
    }
}

/* tc_traverse<k> and tc_clear<k>: the payload is the slot array. */
#define SLOT_CALLBACKS(k)                                                     \
    int tc_traverse##k(RcObject *op, RcVisitFn visit, void *arg)              \
    {                                                                         \
        return tc_slots_traverse(rc_payload(op), k, visit, arg);              \
    }                                                                         \
    void tc_clear##k(RcObject *op)                                            \
    {                                                                         \
        tc_slots_clear(rc_payload(op), k);                                    \
    }

SLOT_CALLBACKS(1)
SLOT_CALLBACKS(2)
SLOT_CALLBACKS(4)

size_t
tc_nslots(const RcType *type)
{
    static const struct {
        RcTraverseFn traverse;
        size_t k;
    } kinds[] = {{tc_traverse1, 1}, {tc_traverse2, 2}, {tc_traverse4, 4}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (type->traverse == kinds[i].traverse) {
            return kinds[i].k;
        }
    }
    return 0;
}

RcObject *
tc_new(RcHeap *heap, const RcType *type)
{
    RcObject *op = rc_new(heap, type);
    cr_assert_not_null(op, "rc_new(%s): %s", type->name,
                       rc_heap_error(heap) ? rc_heap_error(heap) : "?");
    return op;
}

void
tc_link(RcObject *from, size_t i, RcObject *to)
{
    size_t k = tc_nslots(from->type);
    cr_assert(i < k, "tc_link: slot %zu of '%s', a %zu-slot node", i,
              from->type->name, k);
    RcObject **slot = rc_payload(from);
    rc_setref(&slot[i], rc_xnewref(to));
}
