/* SPDX-License-Identifier: MIT */
/* read_past_end.c - reads one byte past the requested size of a pool
 * block (still inside its 32-byte class).  Memcheck (with RCGC_VALGRIND)
 * and ASan (with RCGC_ASAN) must report it; scripts/check-bad.sh checks
 * that they do. */
#include "objalloc/objalloc.h"

#include <stdio.h>
#include <string.h>

int
main(void)
{
    OaHeap *heap = oa_heap_new();
    char *p = oa_malloc(heap, 20);
    memset(p, 'a', 20);
    volatile char c = p[20]; /* wrong: only 20 bytes were asked for */
    printf("read %d past the end\n", c);
    oa_free(p);
    oa_heap_destroy(heap);
    return 0;
}
