/* SPDX-License-Identifier: MIT */
/* misuse.c - misuse of objalloc that used to crash without a word, and
 * the one error path all messages take (rcgc_register_error).
 *
 *   null_heap        a NULL heap is refused with NULL (-1 for the check)
 *                    and a message, in every build;
 *   large_death      debug builds: a second free of a large block (also
 *                    after its address could have been reused: freed large
 *                    blocks are held in quarantine, freed mappings' ranges
 *                    retired) and a free or realloc of a pointer inside
 *                    one abort with a message naming the call, the
 *                    pointer and the check;
 *   error_handler    messages go to the registered handler instead of
 *                    stderr; after a fatal one the library aborts, unless
 *                    the handler leaves by itself.
 *
 * Double and interior frees by size range, debug builds (each aborts with
 * its message):
 *   small   1..512 B            death.c   double_free, interior_free
 *   medium  513 B..32 KiB       death.c   medium_double_free,
 *                                         medium_interior_free
 *   large   32 KiB..128 KiB     here      large_double_free(_after_reuse),
 *           (system malloc)               large_interior_free, ...
 *   mapped  128 KiB and up      here      mapped_double_free(_after_reuse,
 *                                         _after_unmap), mapped_interior_free,
 *                                         freed_mapped_interior_free, ...
 * and, in both large ranges, a free of the stale pointer after a realloc
 * moved the block (*_free_after_moving_realloc). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "oa_test.h"
#include "common/errors.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; a hint before */
#endif

static void
expect_seen(int kind, const char *text)
{
    cr_expect_eq(tc_err.n, 1, "messages: %d", tc_err.n);
    cr_expect_eq(tc_err.kind, kind);
    cr_expect_str_eq(tc_err.text, text);
    tc_err.n = 0;
}

Test(null_heap, every_call_refuses_a_null_heap_with_a_message)
{
    tc_record_errors();
    cr_expect_null(oa_malloc(NULL, 10));
    expect_seen(RCGC_ERROR_MISUSE, "objalloc: oa_malloc: heap is NULL");
    cr_expect_null(oa_calloc(NULL, 2, 10));
    expect_seen(RCGC_ERROR_MISUSE, "objalloc: oa_calloc: heap is NULL");
    cr_expect_null(oa_realloc(NULL, NULL, 10));
    expect_seen(RCGC_ERROR_MISUSE, "objalloc: oa_realloc: heap is NULL");
    cr_expect_eq(oa_heap_check(NULL), -1);
    expect_seen(RCGC_ERROR_MISUSE, "objalloc: oa_heap_check: heap is NULL");
    oa_heap_trim(NULL);
    expect_seen(RCGC_ERROR_MISUSE, "objalloc: oa_heap_trim: heap is NULL");
    oa_heap_set_limit(NULL, 10);
    expect_seen(RCGC_ERROR_MISUSE,
                "objalloc: oa_heap_set_limit: heap is NULL");
    cr_expect_eq(oa_heap_limit(NULL), 0);
    expect_seen(RCGC_ERROR_MISUSE, "objalloc: oa_heap_limit: heap is NULL");
    oa_heap_set_pressure(NULL, NULL, NULL);
    expect_seen(RCGC_ERROR_MISUSE,
                "objalloc: oa_heap_set_pressure: heap is NULL");
    oa_heap_fail_nth(NULL, OA_FAIL_ALL, 1, 0);
    expect_seen(RCGC_ERROR_MISUSE, "objalloc: oa_heap_fail_nth: heap is NULL");
    cr_expect_eq(oa_heap_sys_requests(NULL), 0);
    expect_seen(RCGC_ERROR_MISUSE,
                "objalloc: oa_heap_sys_requests: heap is NULL");
    OaStats st;
    st.arenas = 99;
    oa_heap_stats(NULL, &st);
    expect_seen(RCGC_ERROR_MISUSE, "objalloc: oa_heap_stats: heap is NULL");
    cr_expect_eq(st.arenas, 0, "zeroed");
    rcgc_register_error(NULL, NULL);
}

/* A foreign pointer still goes to the system realloc with a NULL heap
 * (objalloc.h): no message. */
Test(null_heap, realloc_of_a_foreign_pointer_needs_no_heap)
{
    tc_record_errors();
    void *p = malloc(10);
    p = oa_realloc(NULL, p, 20);
    cr_expect_not_null(p);
    free(p);
    cr_expect_eq(tc_err.n, 0);
    rcgc_register_error(NULL, NULL);
}

#if OA_TEST_DEBUG

static OaHeap *heap;

static void
setup(void)
{
    heap = oa_heap_new();
}

static void
large_double_free(void)
{
    void *p = oa_malloc(heap, 40000);
    oa_free(p);
    oa_free(p);
}

/* Another large block of the same size comes between the two frees: with
 * the address held in quarantine it is not p, and the second free of p
 * is still named (it used to free the new block silently). */
static void
large_double_free_after_reuse(void)
{
    void *p = oa_malloc(heap, 40000);
    oa_free(p);
    void *q = oa_malloc(heap, 40000);
    if (q == p) {
        return; /* no abort: the test fails on the missing signal */
    }
    oa_free(p);
}

static void
large_interior_free(void)
{
    char *p = oa_malloc(heap, 40000);
    oa_free(p + 64);
}

static void
large_interior_realloc(void)
{
    char *p = oa_malloc(heap, 40000);
    (void)oa_realloc(heap, p + 64, 2000);
}

static void
freed_large_interior_free(void)
{
    char *p = oa_malloc(heap, 40000);
    oa_free(p);
    oa_free(p + 64);
}

static void
large_sized_double_free(void)
{
    void *p = oa_malloc(heap, 40000);
    oa_free_sized(p, 40000);
    oa_free_sized(p, 40000);
}

/* Mapped blocks (OA_LARGE_MAP_MIN and up, objalloc/retired.c). */
#define MAPPED 200000

static void
mapped_double_free(void)
{
    void *p = oa_malloc(heap, MAPPED);
    oa_free(p);
    oa_free(p);
}

/* The next block of the size takes the freed mapping's pages (the
 * heap's cache): at a new address, and p is still named. */
static void
mapped_double_free_after_reuse(void)
{
    void *p = oa_malloc(heap, MAPPED);
    oa_free(p);
    void *q = oa_malloc(heap, MAPPED);
    if (q == p) {
        return; /* no abort: the test fails on the missing signal */
    }
    oa_free(p);
}

/* The trim gives the freed mapping up and a fresh one is mapped: the old
 * range stays reserved, so the new block cannot be at p. */
static void
mapped_double_free_after_unmap(void)
{
    void *p = oa_malloc(heap, MAPPED);
    oa_free(p);
    oa_heap_trim(heap);
    void *q = oa_malloc(heap, MAPPED);
    if (q == p) {
        return;
    }
    oa_free(p);
}

static void
mapped_interior_free(void)
{
    char *p = oa_malloc(heap, MAPPED);
    oa_free(p + 64);
}

static void
mapped_interior_realloc(void)
{
    char *p = oa_malloc(heap, MAPPED);
    (void)oa_realloc(heap, p + 64, 2000);
}

static void
freed_mapped_interior_free(void)
{
    char *p = oa_malloc(heap, MAPPED);
    oa_free(p);
    oa_free(p + 64);
}

static void
mapped_sized_double_free(void)
{
    void *p = oa_malloc(heap, MAPPED);
    oa_free_sized(p, MAPPED);
    oa_free_sized(p, MAPPED);
}

static void
mapped_realloc_after_free(void)
{
    void *p = oa_malloc(heap, MAPPED);
    oa_free(p);
    (void)oa_realloc(heap, p, 10);
}

/* A realloc that moves a block frees the old one: a free of the stale
 * pointer is a double free.  Debug builds always move a block of the
 * system allocator. */
static void
large_free_after_moving_realloc(void)
{
    void *p = oa_malloc(heap, 40000);
    void *q = oa_realloc(heap, p, 80000);
    if (q == p) {
        return; /* no abort: the test fails on the missing signal */
    }
    oa_free(p);
}

/* A mapping grows in place when the addresses after it are free: a
 * PROT_NONE page just past its end (at most one page beyond, whatever
 * the header and guard) makes it move. */
static void
mapped_free_after_moving_realloc(void)
{
    char *p = oa_malloc(heap, MAPPED);
    uintptr_t end = ((uintptr_t)p + MAPPED + 2 * 4096 - 1) & ~(uintptr_t)4095;
    (void)mmap((void *)end, 4096, PROT_NONE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    void *q = oa_realloc(heap, p, 4 * MAPPED);
    if (q == p) {
        return; /* no abort: the test fails on the missing signal */
    }
    oa_free(p);
}

#define DEATH(name, fn, fname, text)                                          \
    Test(large_death, name, .init = setup, .signal = SIGABRT)                 \
    {                                                                         \
        fn();                                                                 \
    }                                                                         \
    Test(large_message_death, name##_message_names_pointer_and_check,         \
         .init = setup)                                                       \
    {                                                                         \
        tc_expect_abort(fn, "objalloc: " fname ": pointer ", text);           \
    }

DEATH(double_free_aborts, large_double_free, "oa_free",
      "double free: the large block of 40000 bytes was already freed")
DEATH(double_free_after_reuse_aborts, large_double_free_after_reuse, "oa_free",
      "double free: the large block of 40000 bytes")
DEATH(interior_free_aborts, large_interior_free, "oa_free",
      "interior pointer: 64 bytes into a large block of 40000 bytes at ")
DEATH(interior_realloc_aborts, large_interior_realloc, "oa_realloc",
      "interior pointer: 64 bytes into a large block of 40000 bytes at ")
DEATH(interior_free_of_freed_block_aborts, freed_large_interior_free,
      "oa_free", "interior pointer: 64 bytes into a freed large block")
DEATH(sized_double_free_aborts, large_sized_double_free, "oa_free_sized",
      "double free: the large block of 40000 bytes was already freed")
DEATH(mapped_double_free_aborts, mapped_double_free, "oa_free",
      "double free: the large block of 200000 bytes was already freed")
DEATH(mapped_double_free_after_reuse_aborts, mapped_double_free_after_reuse,
      "oa_free",
      "double free: the large block of 200000 bytes was already freed")
DEATH(mapped_double_free_after_unmap_aborts, mapped_double_free_after_unmap,
      "oa_free",
      "double free: the large block of 200000 bytes was already freed")
DEATH(mapped_interior_free_aborts, mapped_interior_free, "oa_free",
      "interior pointer: 64 bytes into a large block of 200000 bytes at ")
DEATH(mapped_interior_realloc_aborts, mapped_interior_realloc, "oa_realloc",
      "interior pointer: 64 bytes into a large block of 200000 bytes at ")
DEATH(interior_free_of_freed_mapping_aborts, freed_mapped_interior_free,
      "oa_free", "interior pointer: 64 bytes into a freed large block at ")
DEATH(mapped_sized_double_free_aborts, mapped_sized_double_free,
      "oa_free_sized",
      "double free: the large block of 200000 bytes was already freed")
DEATH(mapped_realloc_after_free_aborts, mapped_realloc_after_free,
      "oa_realloc",
      "double free: the large block of 200000 bytes was already freed")
DEATH(free_after_moving_realloc_aborts, large_free_after_moving_realloc,
      "oa_free",
      "double free: the large block of 40000 bytes was already freed")
DEATH(mapped_free_after_moving_realloc_aborts,
      mapped_free_after_moving_realloc, "oa_free",
      "double free: the large block of 200000 bytes was already freed")

/* ---- the handler sees fatal messages -------------------------------- */

static void
to_stderr_marked(int kind, const char *message, void *arg)
{
    fprintf(stderr, "%s[%d] %s\n", (const char *)arg, kind, message);
}

static void
handled_double_free(void)
{
    heap = oa_heap_new();
    rcgc_register_error(to_stderr_marked, "HANDLER");
    large_double_free();
}

Test(error_handler_death, fatal_message_goes_to_the_handler_then_aborts)
{
    tc_expect_abort(handled_double_free,
                    "HANDLER[1] objalloc: oa_free: ", "double free");
}

static void
leave_by_exit(int kind, const char *message, void *arg)
{
    (void)message;
    (void)arg;
    _exit(kind == RCGC_ERROR_FATAL ? 42 : 43);
}

static void
exiting_double_free(void)
{
    heap = oa_heap_new();
    rcgc_register_error(leave_by_exit, NULL);
    large_double_free();
}

Test(error_handler_death, a_handler_may_leave_instead_of_the_abort)
{
    char buf[256];
    int status = tc_run_child(exiting_double_free, buf, sizeof buf);
    cr_assert(WIFEXITED(status), "status %#x: %s", status, buf);
    cr_expect_eq(WEXITSTATUS(status), 42);
    cr_expect_str_empty(buf, "nothing on stderr: %s", buf);
}

static void
unregistered_double_free(void)
{
    heap = oa_heap_new();
    rcgc_register_error(leave_by_exit, NULL);
    rcgc_register_error(NULL, NULL);
    large_double_free();
}

Test(error_handler_death, registering_null_restores_stderr)
{
    tc_expect_abort(unregistered_double_free,
                    "objalloc: oa_free: ", "double free");
}

#else

Test(large_death, debug_checks_need_a_debug_build)
{
    cr_skip_test("built without RCGC_DEBUG");
}

#endif
