/* SPDX-License-Identifier: MIT */
/* addrmap.c - the process-wide address map: the flat map by default, the
 * two-level tree when the flat map's reservation fails (an address-space
 * limit).  Each test runs in a process of its own, before any arena. */
#include "oa_test.h"
#include "objalloc/internal.h" /* oa_addrmap_mode, oa_addrmap_refuse_flat */

#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

/* Blocks of every kind from two heaps, then ownership, sizes, realloc,
 * every free path and the heap checks; the map must answer for all. */
static void
serve_every_path(void)
{
    OaHeap *h = oa_heap_new();
    OaHeap *other = oa_heap_new();
    cr_assert(h != NULL && other != NULL);
    static const size_t sizes[] = {1, 16, 48, 512, 513, 4096, 32768, 200000};
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *p[N], *q[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = oa_malloc(h, sizes[i]);
        q[i] = oa_malloc(other, sizes[i]);
        cr_assert(p[i] != NULL && q[i] != NULL, "size %zu", sizes[i]);
        memset(p[i], 0xab, sizes[i]);
        cr_assert_eq(oa_owner(p[i]), h, "size %zu", sizes[i]);
        cr_assert_eq(oa_owner(q[i]), other, "size %zu", sizes[i]);
        cr_assert_geq(oa_usable_size(p[i]), sizes[i]);
        cr_assert_eq(oa_free_if_owned(h, q[i]), 0, "size %zu", sizes[i]);
    }
    void *foreign = malloc(64);
    cr_assert_eq(oa_free_if_owned(h, foreign), 0);
    cr_assert_null(oa_owner(foreign));
    free(foreign);
    p[1] = oa_realloc(h, p[1], 300);
    cr_assert(p[1] != NULL);
    CHECK_HEAP(h);
    CHECK_HEAP(other);
    for (size_t i = 0; i < N; i++) {
        if (i % 3 == 0) {
            oa_free(p[i]);
        }
        else if (i % 3 == 1) {
            cr_assert_eq(oa_free_if_owned(h, p[i]), 1);
        }
        else {
            oa_free_sized(p[i], sizes[i]);
        }
        oa_free(q[i]);
    }
    assert_trims_to_nothing(h);
    assert_trims_to_nothing(other);
    oa_heap_destroy(h);
    oa_heap_destroy(other);
}

Test(addrmap, the_flat_map_is_reserved_by_the_first_arena)
{
    cr_assert_eq(oa_addrmap_mode(), -1, "an arena existed before the test");
    serve_every_path();
    cr_assert_eq(oa_addrmap_mode(), 1);
}

Test(addrmap, the_tree_serves_every_path_when_the_flat_map_fails)
{
    cr_assert_eq(oa_addrmap_mode(), -1, "an arena existed before the test");
    oa_addrmap_refuse_flat();
    serve_every_path();
    cr_assert_eq(oa_addrmap_mode(), 0);
    serve_every_path(); /* arenas given back and mapped anew */
}

/* The real cause: an address-space limit below the flat map's 2 GiB
 * reservation (Valgrind and the sanitizers reserve far more than that for
 * themselves: this test applies the limit only when the process is
 * small). */
Test(addrmap, an_address_space_limit_chooses_the_tree)
{
    cr_assert_eq(oa_addrmap_mode(), -1, "an arena existed before the test");
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert(f != NULL);
    unsigned long pages = 0;
    cr_assert_eq(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    size_t vm = pages * 4096ul;
    if (vm < ((size_t)1 << 30)) {
        struct rlimit rl = {vm + ((size_t)512 << 20),
                            vm + ((size_t)512 << 20)};
        cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
        serve_every_path();
        cr_assert_eq(oa_addrmap_mode(), 0);
    }
    else {
        oa_addrmap_refuse_flat(); /* the same choice, made by the test */
        serve_every_path();
        cr_assert_eq(oa_addrmap_mode(), 0);
    }
}
