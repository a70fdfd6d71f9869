/* SPDX-License-Identifier: MIT */
/* use_after_free.c - reads a pool block after freeing it.  Memcheck (with
 * RCGC_VALGRIND) and ASan (with RCGC_ASAN) must report the read while
 * objalloc is running; scripts/check-bad.sh checks that they do. */
#include "objalloc/objalloc.h"

#include <stdio.h>
#include <string.h>

int
main(void)
{
    OaHeap *heap = oa_heap_new();
    char *keep = oa_malloc(heap, 48); /* keeps the pool in use */
    char *p = oa_malloc(heap, 48);
    memset(p, 'a', 48);
    oa_free(p);
    volatile char c = p[8]; /* wrong: p is free */
    printf("read %d after free\n", c);
    oa_free(keep);
    oa_heap_destroy(heap);
    return 0;
}
