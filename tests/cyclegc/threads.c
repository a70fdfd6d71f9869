/* SPDX-License-Identifier: MIT */
/* threads.c - one thread at a time per heap, enforced in debug builds.
 *
 * While a collection runs its reachability passes (no user code but
 * traverse; the generation lists are packed) it claims its heap's
 * allocator (oa_heap_claim), so another thread that allocates from the
 * heap or frees an object of it meanwhile is stopped with objalloc's
 * message instead of corrupting the heap.  The collector thread is held
 * inside a traverse so the overlap is certain.  The suite is _death: it
 * aborts on purpose (skipped under Valgrind).  Release builds trust the
 * rule (objalloc.h), so the suite is built in debug builds only.
 */
#include "common/testutil.h"
#include "cyclegc/cyclegc.h"

#include <criterion/criterion.h>
#include <pthread.h>

#ifdef RCGC_DEBUG

typedef struct Self {
    RcObject *me;
} Self;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int armed, inside;

/* Once armed: say we are inside the collection, then never come back. */
static int
self_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    Self *s = rc_payload(op);
    if (armed) {
        pthread_mutex_lock(&mu);
        inside = 1;
        pthread_cond_broadcast(&cv);
        for (;;) {
            pthread_cond_wait(&cv, &mu);
        }
    }
    return s->me != NULL ? visit(s->me, arg) : 0;
}

static void
self_clear(RcObject *op)
{
    Self *s = rc_payload(op);
    RcObject *old = s->me;
    s->me = NULL;
    rc_xdecref(old);
}

static const RcType blocker_type = {
    RC_TYPE_HEAD("test.blocker", RC_TYPE_GC),
    .size = sizeof(Self),
    .traverse = self_traverse,
    .clear = self_clear,
};

static GcHeap *gc;
static RcObject *victim;

static void *
collector(void *arg)
{
    (void)arg;
    gc_collect(gc, 2);
    return NULL;
}

/* A self-cycle whose traverse blocks, a thread collecting it, and the
 * caller back once that thread is inside the reachability passes. */
static void
start_blocked_collection(void)
{
    gc = gc_heap_new(NULL);
    victim = rc_new(gc_heap_rc(gc), &blocker_type);
    RcObject *op = rc_new(gc_heap_rc(gc), &blocker_type);
    Self *s = rc_payload(op);
    s->me = op; /* the creation reference becomes the cycle's */
    armed = 1;
    pthread_t t;
    pthread_create(&t, NULL, collector, NULL);
    pthread_mutex_lock(&mu);
    while (!inside) {
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
}

static void
allocate_meanwhile(void)
{
    start_blocked_collection();
    RcObject *other = rc_new(gc_heap_rc(gc), &blocker_type);
    (void)other;
}

static void
free_meanwhile(void)
{
    start_blocked_collection();
    rc_decref(victim);
}

Test(threads_death, allocating_while_another_thread_collects_aborts)
{
    tc_expect_abort(allocate_meanwhile, "used by two threads at once",
                    "oa_malloc");
}

Test(threads_death, freeing_while_another_thread_collects_aborts)
{
    tc_expect_abort(free_meanwhile, "used by two threads at once",
                    "rc_decref");
}

#endif /* RCGC_DEBUG */
