/* threads.c - one thread at a time per heap, enforced in debug builds.
 *
 * While a collection runs its reachability passes (no user code but
 * traverse; the generation lists are packed) it claims its heap's
 * allocator (oa_heap_claim), so another thread that allocates from the
 * heap or frees an object of it meanwhile is stopped with objalloc's
 * message instead of corrupting the heap.  The collector thread is held
 * inside a traverse so the overlap is certain.  The suite is _death: it
 * aborts on purpose (skipped under Valgrind).
 */
#include "cyclegc/cyclegc.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Run fn in a child with stderr captured: it must die of SIGABRT after
 * printing a message that holds both needles. */
static void
expect_abort(void (*fn)(void), const char *n1, const char *n2)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t k;
    while ((k = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)k;
    }
    buf[len] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "expected an abort, got status %d; stderr: %s", status, buf);
    cr_assert(strstr(buf, n1) != NULL, "'%s' not in: %s", n1, buf);
    cr_assert(strstr(buf, n2) != NULL, "'%s' not in: %s", n2, buf);
}

Test(threads_death, allocating_while_another_thread_collects_aborts)
{
    expect_abort(allocate_meanwhile, "used by two threads at once",
                 "oa_malloc");
}

Test(threads_death, freeing_while_another_thread_collects_aborts)
{
    expect_abort(free_meanwhile, "used by two threads at once", "rc_decref");
}
