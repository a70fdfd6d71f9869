/* SPDX-License-Identifier: MIT */
/* death.c - every misuse that debug builds detect: the message text and
 * the abort.  Suites end in _death: they abort (or corrupt memory) on
 * purpose, so the Valgrind run skips them.
 *
 * Each check runs twice: directly, with .signal = SIGABRT, and in a forked
 * child whose stderr is captured, to match the message. */
#include "oa_test.h"
#include "objalloc/internal.h" /* the pool metadata a test damages */

#include <criterion/redirect.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(RCGC_ASAN)
#include <sanitizer/asan_interface.h>
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#if OA_TEST_DEBUG

#define ARENA_OF(p)                                                           \
    ((char *)((uintptr_t)(p) & ~((uintptr_t)OA_ARENA_SIZE - 1)))

static OaHeap *heap;

/* ---- the misuses ---------------------------------------------------- */

static void
double_free(void)
{
    void *p = oa_malloc(heap, 40);
    void *keep = oa_malloc(heap, 40);
    (void)keep;
    oa_free(p);
    oa_free(p);
}

static void
interior_free(void)
{
    char *p = oa_malloc(heap, 100);
    oa_free(p + 16);
}

static void
never_allocated_free(void)
{
    char *p = oa_malloc(heap, 16);
    oa_free(p + 4096);
}

static void
empty_pool_free(void)
{
    void *keep = oa_malloc(heap, 300);
    void *p = oa_malloc(heap, 40);
    (void)keep;
    oa_free(p);
    oa_heap_trim(heap); /* its pool goes back to the arena */
    oa_free(p);
}

static void
head_free(void)
{
    char *p = oa_malloc(heap, 16);
    oa_free(ARENA_OF(p) + 16);
}

static void
small_guard_damaged(void)
{
    char *p = oa_malloc(heap, 20);
    UNPOISON(p + 20, 1); /* as if from code ASan does not see */
    p[20] = 'x';
    oa_free(p);
}

static void
large_guard_damaged(void)
{
    char *p = oa_malloc(heap, 40000);
    UNPOISON(p + 40000, 1);
    p[40000] = 'x';
    oa_free(p);
}

static void
medium_guard_damaged(void)
{
    char *p = oa_malloc(heap, 1000);
    UNPOISON(p + 1000, 1);
    p[1000] = 'x';
    oa_free(p);
}

static void
medium_double_free(void)
{
    void *p = oa_malloc(heap, 5000);
    void *keep = oa_malloc(heap, 5000);
    (void)keep;
    oa_free(p);
    oa_free(p);
}

static void
medium_interior_free(void)
{
    char *p = oa_malloc(heap, 1100);
    oa_free(p + 16);
}

static void
medium_sized_free_wrong_size(void)
{
    void *p = oa_malloc(heap, 3000);
    oa_free_sized(p, 700);
}

static void
sized_free_wrong_size(void)
{
    void *p = oa_malloc(heap, 40);
    oa_free_sized(p, 200);
}

static void
sized_free_foreign_small(void)
{
    void *p = malloc(32);
    oa_free_sized(p, 32);
}

static void
sized_free_foreign_large(void)
{
    void *p = malloc(40000);
    oa_free_sized(p, 40000);
}

static void
realloc_freed(void)
{
    void *p = oa_malloc(heap, 40);
    void *keep = oa_malloc(heap, 40);
    (void)keep;
    oa_free(p);
    oa_realloc(heap, p, 80);
}

static void
double_free_if_owned(void)
{
    void *p = oa_malloc(heap, 40);
    void *keep = oa_malloc(heap, 40);
    (void)keep;
    oa_free_if_owned(heap, p);
    oa_free_if_owned(heap, p);
}

static void
interior_realloc_if_owned(void)
{
    int owned;
    char *p = oa_malloc(heap, 100);
    oa_realloc_if_owned(heap, p + 16, 50, &owned);
}

static void
write_after_free(void)
{
    char *p = oa_malloc(heap, 64);
    void *keep = oa_malloc(heap, 64);
    (void)keep;
    oa_free(p);
    UNPOISON(p + 20, 1); /* as if from code ASan does not see */
    p[20] = 'x';
    oa_malloc(heap, 64); /* hands p out again */
}

static void
fresh_block_free(void)
{
    char *p = oa_malloc(heap, 64);
    oa_free(p + 80); /* the next block: carved, never handed out */
}

/* The pool's metadata (in its arena's array, system memory) overwritten,
 * as a stray write into the program's malloc'd memory could. */
static void
pool_metadata_damaged(void)
{
    char *p = oa_malloc(heap, 40);
    OaPool *pool = oa_pool_at(oa_addrmap_entry(p), p);
    pool->stride = 3;
    oa_free(p);
}

/* Two threads in one heap: thread A sits in a pressure callback (inside
 * oa_malloc) while thread B calls oa_malloc on the same heap. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inside;

static int
wait_forever(OaHeap *h, size_t n, void *ctx)
{
    (void)h;
    (void)n;
    (void)ctx;
    pthread_mutex_lock(&mu);
    inside = 1;
    pthread_cond_broadcast(&cv);
    for (;;) {
        pthread_cond_wait(&cv, &mu);
    }
    return 0;
}

static void *
thread_a(void *arg)
{
    (void)arg;
    oa_malloc(heap, 100000); /* over the limit: calls back */
    return NULL;
}

static void
two_threads(void)
{
    pthread_t t;
    oa_heap_set_limit(heap, 1000);
    oa_heap_set_pressure(heap, wait_forever, NULL);
    pthread_create(&t, NULL, thread_a, NULL);
    pthread_mutex_lock(&mu);
    while (!inside) {
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    oa_malloc(heap, 16);
}

/* ---- harness -------------------------------------------------------- */

static void
setup(void)
{
    heap = oa_heap_new();
}

#define DEATH(name, fn, fname, text)                                          \
    Test(free_death, name, .init = setup, .signal = SIGABRT)                  \
    {                                                                         \
        fn();                                                                 \
    }                                                                         \
    Test(message_death, name##_message_names_pointer_and_check,               \
         .init = setup)                                                       \
    {                                                                         \
        tc_expect_abort(fn, "objalloc: " fname ": ", text);                   \
    }

DEATH(double_free_aborts, double_free, "oa_free",
      "double free: the block is already free")
DEATH(interior_pointer_aborts, interior_free, "oa_free",
      "interior pointer: 16 bytes into a block of 112 bytes")
DEATH(never_allocated_pointer_aborts, never_allocated_free, "oa_free",
      "never allocated: it lies beyond the blocks carved")
DEATH(pointer_into_empty_pool_aborts, empty_pool_free, "oa_free",
      "not allocated: it points into a pool that serves no size class")
DEATH(pointer_before_first_block_aborts, head_free, "oa_free",
      "not a block: it points before the first block of its pool")
DEATH(damaged_small_guard_aborts, small_guard_damaged, "oa_free",
      "guard bytes after the requested 20 bytes are damaged (byte 20 is "
      "0x78)")
DEATH(damaged_large_guard_aborts, large_guard_damaged, "oa_free",
      "guard bytes after the requested 40000 bytes are damaged (byte 40000 "
      "is 0x78)")
DEATH(damaged_medium_guard_aborts, medium_guard_damaged, "oa_free",
      "guard bytes after the requested 1000 bytes are damaged (byte 1000 "
      "is 0x78)")
DEATH(medium_double_free_aborts, medium_double_free, "oa_free",
      "double free: the block is already free")
DEATH(medium_interior_pointer_aborts, medium_interior_free, "oa_free",
      "interior pointer: 16 bytes into a block of 1152 bytes")
DEATH(medium_sized_free_with_wrong_size_aborts, medium_sized_free_wrong_size,
      "oa_free_sized", "size 700 does not match the block's request of 3000")
DEATH(sized_free_with_wrong_size_aborts, sized_free_wrong_size,
      "oa_free_sized", "size 200 does not match the block's request of 40")
DEATH(sized_free_of_foreign_small_aborts, sized_free_foreign_small,
      "oa_free_sized", "not a block of any heap")
DEATH(sized_free_of_foreign_large_aborts, sized_free_foreign_large,
      "oa_free_sized", "not a block of any heap")
DEATH(realloc_of_freed_block_aborts, realloc_freed, "oa_realloc",
      "double free: the block is already free")
DEATH(double_free_if_owned_aborts, double_free_if_owned, "oa_free_if_owned",
      "double free: the block is already free")
DEATH(interior_realloc_if_owned_aborts, interior_realloc_if_owned,
      "oa_realloc_if_owned",
      "interior pointer: 16 bytes into a block of 112 bytes")
DEATH(write_after_free_is_caught_on_reuse, write_after_free, "oa_malloc",
      "the block was written after it was freed (byte 20 is no longer 0xdd)")
DEATH(never_handed_out_block_aborts, fresh_block_free, "oa_free",
      "never allocated: the block was never handed out")
DEATH(damaged_pool_metadata_aborts, pool_metadata_damaged, "oa_free",
      "pool metadata at")
DEATH(two_threads_in_one_heap_abort, two_threads, "oa_malloc",
      "used by two threads at once")

Test(message_death, pointer_in_message_is_the_freed_pointer, .init = setup)
{
    char *p = oa_malloc(heap, 100);
    char want[64];
    snprintf(want, sizeof want, "pointer %p: interior", (void *)(p + 16));
    oa_free(p);
    /* interior_free allocates the same block again (freed first) */
    tc_expect_abort(interior_free, want, "interior");
}

/* A write into a freed block breaks its free list link: the heap check
 * finds it (no abort; the suite is _death because it corrupts memory). */
Test(check_death, check_reports_a_write_after_free)
{
    OaHeap *h = oa_heap_new();
    void **p = oa_malloc(h, 64);
    void *keep = oa_malloc(h, 64);
    oa_free(p);
    UNPOISON(p, 8);
    *p = (void *)0x1234;
    cr_redirect_stderr();
    cr_assert_eq(oa_heap_check(h), -1);
    fflush(stderr);
    char buf[512] = {0};
    size_t len = fread(buf, 1, sizeof buf - 1, cr_get_redirected_stderr());
    buf[len] = 0;
    cr_assert_not_null(strstr(buf, "objalloc: oa_heap_check: pool "), "%s",
                       buf);
    (void)keep;
}

#else

Test(free_death, debug_checks_need_a_debug_build)
{
    cr_skip_test("built without RCGC_DEBUG");
}

#endif
