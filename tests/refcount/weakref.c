/* SPDX-License-Identifier: MIT */
/* weakref.c - weak references: deref after death, callbacks (order,
 * arguments, once), weakrefs freed during callbacks, the collector's
 * walking API, refused targets. */
#include "refcount/helpers.h"

#include <criterion/criterion.h>

TestSuite(weakref, .init = rc_test_setup, .fini = rc_test_teardown);

#define MAXCALLS 64

static struct Call {
    RcObject *wr;
    void *ctx;
    RcObject *target_seen; /* rc_weakref_get(wr) inside the callback */
    uint32_t wr_count;
} calls[MAXCALLS];
static int ncalls, nreleased;
static RcObject *to_drop[4]; /* references the callback drops */

static void
record(RcObject *wr, void *ctx)
{
    cr_assert_lt(ncalls, MAXCALLS);
    calls[ncalls].wr = wr;
    calls[ncalls].ctx = ctx;
    calls[ncalls].target_seen = rc_weakref_get(wr);
    calls[ncalls].wr_count = rc_refcnt(wr);
    ncalls++;
}

static void
release(void *ctx)
{
    (void)ctx;
    nreleased++;
}

static void
reset(void)
{
    ncalls = nreleased = 0;
    for (int i = 0; i < 4; i++) {
        to_drop[i] = NULL;
    }
}

Test(weakref, get_returns_the_target_while_it_lives)
{
    reset();
    RcObject *op = rc_new(heap, &leaf_type);
    RcObject *wr = rc_weakref_new(heap, op, NULL, NULL, NULL);
    cr_assert_not_null(wr, "%s", rc_heap_error(heap));
    cr_expect_eq(wr->type, &rc_weakref_type);
    cr_expect_eq(rc_refcnt(wr), 1);
    cr_expect_eq(rc_refcnt(op), 1, "a weak reference is not counted");
    cr_expect_eq(rc_weakref_get(wr), op);
    cr_expect(op->flags & RC_OBJ_HAS_WEAKREFS);
    cr_expect_eq(rc_weakref_count(op), 1);
    cr_expect_eq(rc_heap_check(heap), 0);
    rc_decref(op);
    cr_expect_null(rc_weakref_get(wr), "NULL once the target is gone");
    rc_decref(wr);
}

Test(weakref, weakref_dying_first_leaves_the_target_clean)
{
    reset();
    RcObject *op = rc_new(heap, &leaf_type);
    RcObject *w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = rc_weakref_new(heap, op, record, NULL, release);
    }
    cr_expect_eq(rc_weakref_count(op), 3);
    rc_decref(w[1]); /* middle of the list */
    cr_expect_eq(rc_weakref_count(op), 2);
    cr_expect_eq(rc_heap_check(heap), 0);
    rc_decref(w[2]); /* head */
    rc_decref(w[0]); /* last */
    cr_expect_eq(rc_weakref_count(op), 0);
    cr_expect_eq(op->flags & RC_OBJ_HAS_WEAKREFS, 0);
    cr_expect_eq(nreleased, 3, "release runs when each weakref dies");
    rc_decref(op);
    cr_expect_eq(ncalls, 0, "dead weakrefs are never called back");
}

Test(weakref, callbacks_run_newest_first_with_cleared_weakref_and_ctx)
{
    reset();
    RcObject *op = rc_new(heap, &leaf_type);
    int tags[3];
    RcObject *w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = rc_weakref_new(heap, op, record, &tags[i], release);
        cr_assert_not_null(w[i]);
    }
    RcObject *plain = rc_weakref_new(heap, op, NULL, NULL, NULL);
    rc_decref(op);
    cr_assert_eq(ncalls, 3);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(calls[i].wr, w[2 - i], "newest first");
        cr_expect_eq(calls[i].ctx, &tags[2 - i]);
        cr_expect_null(calls[i].target_seen, "already cleared");
        cr_expect_eq(calls[i].wr_count, 2, "held during the call");
        cr_expect_null(rc_weakref_get(w[i]));
        cr_expect_eq(rc_weakref_has_callback(w[i]), 0, "ran once");
    }
    cr_expect_null(rc_weakref_get(plain));
    cr_expect_eq(nreleased, 0);
    for (int i = 0; i < 3; i++) {
        rc_decref(w[i]);
    }
    rc_decref(plain);
    cr_expect_eq(nreleased, 3);
}

/* The callback drops references: its own weakref's last one and those in
 * to_drop (other weakrefs of the same target, other objects). */
static void
dropping(RcObject *wr, void *ctx)
{
    record(wr, ctx);
    rc_decref(wr);
    for (int i = 0; i < 4; i++) {
        if (to_drop[i] != NULL) {
            RcObject *op = to_drop[i];
            to_drop[i] = NULL;
            rc_decref(op);
        }
    }
}

Test(weakref, callback_may_free_its_own_and_other_weakrefs)
{
    reset();
    RcObject *op = rc_new(heap, &leaf_type);
    RcObject *older = rc_weakref_new(heap, op, record, NULL, release);
    RcObject *newer = rc_weakref_new(heap, op, dropping, NULL, release);
    RcObject *chain = NULL;
    for (int i = 0; i < 100; i++) {
        chain = new_pair(chain, NULL);
    }
    to_drop[0] = older; /* its callback is still to come */
    to_drop[1] = chain;
    rc_decref(op);
    /* newer ran first and dropped its own weakref and older's last
     * reference; older was held for its own callback, which still ran. */
    cr_expect_eq(ncalls, 2);
    cr_expect_eq(calls[0].wr, newer);
    cr_expect_eq(calls[1].wr, older);
    cr_expect_eq(nreleased, 2, "both weakrefs are gone");
}

Test(weakref, weakref_of_an_object_freed_during_a_callback)
{
    reset();
    RcObject *a = rc_new(heap, &leaf_type);
    RcObject *b = rc_new(heap, &leaf_type);
    RcObject *wa = rc_weakref_new(heap, a, dropping, NULL, NULL);
    RcObject *wb = rc_weakref_new(heap, b, record, NULL, NULL);
    rc_incref(wa); /* dropping() takes one */
    to_drop[0] = b;
    rc_decref(a);
    cr_expect_eq(ncalls, 2, "b died inside a's callback and called back");
    cr_expect_eq(calls[0].wr, wa);
    cr_expect_eq(calls[1].wr, wb);
    cr_expect_null(rc_weakref_get(wb));
    rc_decref(wa);
    rc_decref(wb);
}

Test(weakref, weakrefs_to_chain_members_are_cleared)
{
    reset();
    RcObject *chain = NULL;
    RcObject *w[50];
    for (int i = 0; i < 50; i++) {
        chain = new_pair(chain, NULL);
        w[i] = rc_weakref_new(heap, chain, record, NULL, NULL);
    }
    rc_decref(chain);
    cr_expect_eq(ncalls, 50);
    cr_expect_eq(calls[0].wr, w[49], "the head dies first");
    for (int i = 0; i < 50; i++) {
        cr_expect_null(rc_weakref_get(w[i]));
        rc_decref(w[i]);
    }
}

Test(weakref, weakref_to_a_weakref)
{
    reset();
    RcObject *op = rc_new(heap, &leaf_type);
    RcObject *w1 = rc_weakref_new(heap, op, NULL, NULL, NULL);
    RcObject *w2 = rc_weakref_new(heap, w1, record, NULL, NULL);
    cr_expect_eq(rc_weakref_get(w2), w1);
    rc_decref(w1);
    cr_expect_eq(ncalls, 1);
    cr_expect_null(rc_weakref_get(w2));
    rc_decref(w2);
    rc_decref(op);
}

Test(weakref, collector_api_walks_detaches_and_calls)
{
    reset();
    RcObject *op = rc_new(heap, &leaf_type);
    RcObject *w0 = rc_weakref_new(heap, op, record, NULL, NULL);
    RcObject *w1 = rc_weakref_new(heap, op, NULL, NULL, NULL);
    RcObject *w2 = rc_weakref_new(heap, op, record, NULL, NULL);
    cr_expect_eq(rc_weakref_first(op), w2);
    cr_expect_eq(rc_weakref_next(w2), w1);
    cr_expect_eq(rc_weakref_next(w1), w0);
    cr_expect_null(rc_weakref_next(w0));
    cr_expect(rc_weakref_has_callback(w2));
    cr_expect_not(rc_weakref_has_callback(w1));
    /* Detach the newest: cleared, no callback, the list goes on. */
    rc_weakref_detach(w2);
    cr_expect_null(rc_weakref_get(w2));
    cr_expect_null(rc_weakref_next(w2));
    cr_expect_eq(rc_weakref_first(op), w1);
    cr_expect_eq(ncalls, 0);
    cr_expect(rc_weakref_has_callback(w2));
    rc_weakref_call(w2);
    cr_expect_eq(ncalls, 1);
    cr_expect_eq(calls[0].wr, w2);
    rc_weakref_call(w2);
    cr_expect_eq(ncalls, 1, "a callback runs once at most");
    rc_weakref_detach(w2); /* detaching twice is harmless */
    cr_expect_eq(rc_heap_check(heap), 0);
    rc_decref(op);
    cr_expect_eq(ncalls, 2, "w0 called back at the death");
    cr_expect_eq(calls[1].wr, w0);
    rc_decref(w0);
    rc_decref(w1);
    rc_decref(w2);
}

Test(weakref, collector_clear_drops_the_callback)
{
    reset();
    RcObject *op = rc_new(heap, &leaf_type);
    RcObject *wr = rc_weakref_new(heap, op, record, NULL, release);
    rc_weakref_type.clear(wr);
    cr_expect_null(rc_weakref_get(wr));
    cr_expect_not(rc_weakref_has_callback(wr));
    cr_expect_eq(rc_weakref_count(op), 0);
    rc_decref(op);
    cr_expect_eq(ncalls, 0);
    rc_decref(wr);
    cr_expect_eq(nreleased, 1);
}

Test(weakref, bad_targets_are_refused)
{
    reset();
    cr_expect_null(rc_weakref_new(heap, NULL, NULL, NULL, NULL));
    cr_expect_str_eq(rc_heap_error(heap),
                     "refcount: rc_weakref_new: target is NULL");
    RcHeap *other = rc_heap_new(NULL);
    RcObject *foreign = rc_new(other, &leaf_type);
    cr_expect_null(rc_weakref_new(heap, foreign, NULL, NULL, NULL));
    cr_expect_str_eq(rc_heap_error(heap),
                     "refcount: rc_weakref_new: target lives in another "
                     "heap");
    rc_decref(foreign);
    rc_heap_destroy(other);
    cr_expect_null(rc_weakref_get(NULL));
    RcObject *leaf = rc_new(heap, &leaf_type);
    cr_expect_null(rc_weakref_get(leaf), "not a weak reference");
    rc_decref(leaf);
}

Test(weakref, weakrefs_are_gc_objects)
{
    reset();
    attach_fake_gc();
    RcObject *op = rc_new(heap, &leaf_type);
    RcObject *wr = rc_weakref_new(heap, op, NULL, NULL, NULL);
    cr_expect(rc_is_gc(wr));
    cr_expect(fake_is_tracked(wr));
    cr_expect_eq(rc_weakref_type.traverse(wr, NULL, NULL), 0);
    rc_decref(wr);
    rc_decref(op);
}

static int queued_has_cb = -1;
static RcObject *queued_first;

static void
peek_weakrefs(RcObject *op)
{
    queued_first = rc_weakref_first(op);
    queued_has_cb = rc_weakref_has_callback(queued_first);
}

static const RcType peeking_type = {
    RC_TYPE_HEAD("peeking", 0),
    .size = 16,
    .finalize = peek_weakrefs,
};

Test(weakref, queued_dead_weakref_never_calls_back)
{
    reset();
    RcObject *target = rc_new(heap, &peeking_type);
    RcObject *wr = rc_weakref_new(heap, target, record, NULL, release);
    /* root owns the weakref (first slot) and the target (second): the
     * weakref dies first and waits, queued, while the target dies. */
    RcObject *root = new_pair(wr, target);
    rc_decref(root);
    cr_expect_eq(queued_first, wr, "still listed while queued");
    cr_expect_eq(queued_has_cb, 0, "a dead weakref offers no callback");
    cr_expect_eq(ncalls, 0);
    cr_expect_eq(nreleased, 1);
}
