/* SPDX-License-Identifier: MIT */
/* blocks.c - raw objalloc blocks in the fuzzer: malloc, calloc, realloc,
 * free and free_sized of any size on any of the heaps.
 *
 * Each live block is recorded in fz->blk[] with its requested size and a
 * fill byte; every byte of it holds that fill byte until it is freed, so
 * a block that another allocation overlaps, or that the allocator
 * scribbles on, is caught at the next check (before every free and
 * realloc, and in fz_blocks_check from the oracle).
 *
 * Sizes come from one selector byte: tiny (0..16), small (0..512), the
 * edges of the size classes, medium (513..4096), large (up to ~260 KiB)
 * and impossible ones (near SIZE_MAX, and calloc whose product
 * overflows), which must fail with NULL and leave the heap usable.
 */
#include "fuzz.h"

#include <string.h>

static size_t
pick_size(int *impossible)
{
    unsigned sel = fz_byte();
    unsigned v = fz_u16();
    *impossible = 0;
    switch (sel % 8) {
        case 0:
            return v % 17;
        case 1:
        case 2:
            return v % (OA_SMALL_MAX + 1);
        case 3:
            return (size_t)(1 + v % OA_NCLASSES) * OA_ALIGNMENT -
                   (size_t)(sel >> 7); /* a class edge, or one below */
        case 4:
            return OA_SMALL_MAX + 1 + v % 3584;
        case 5:
            return 4096 + (size_t)v * 4;
        case 6:
            if (sel >= 240) {
                *impossible = 1;
                /* within 16 of SIZE_MAX: no header fits, objalloc must
                 * refuse it before asking the system (a request over
                 * PTRDIFF_MAX that reaches malloc is a Valgrind error
                 * and an ASan abort) */
                return SIZE_MAX - (size_t)(v % 16);
            }
            return v % 1024;
        default:
            return v % 64;
    }
}

static void
check_block(const FzBlock *b, size_t n, const char *when)
{
    static unsigned char ref[4096];
    static unsigned char ref_fill;
    if (ref_fill != b->fill || ref[0] != b->fill) {
        memset(ref, b->fill, sizeof ref);
        ref_fill = b->fill;
    }
    size_t off = 0;
    while (off < n) {
        size_t k = n - off < sizeof ref ? n - off : sizeof ref;
        if (memcmp(b->p + off, ref, k) != 0) {
            break;
        }
        off += k;
    }
    for (size_t i = off; i < n; i++) {
        FZ_CHECK(b->p[i] == b->fill,
                 "%s: block %p (%zu bytes, heap %d) byte %zu is 0x%02x, "
                 "want 0x%02x",
                 when, (void *)b->p, b->n, b->heap, i, b->p[i], b->fill);
    }
}

static void
check_new(FzBlock *b, size_t n, int heap)
{
    FZ_CHECK(((uintptr_t)b->p & (OA_ALIGNMENT - 1)) == 0,
             "block %p not 16-byte aligned", (void *)b->p);
    FZ_CHECK(oa_usable_size(b->p) >= n, "usable size %zu < %zu",
             oa_usable_size(b->p), n);
    FZ_CHECK(oa_owner(b->p) == fz->oa[heap], "block %p: owner %p, want %p",
             (void *)b->p, (void *)oa_owner(b->p), (void *)fz->oa[heap]);
}

static void
refused(int heap, int impossible, const char *what, size_t n)
{
    FZ_CHECK(impossible || fz->oom[heap],
             "%s(%zu) returned NULL with no limit or injection", what, n);
}

static void
block_alloc(FzBlock *b, unsigned code)
{
    int heap = (int)(fz_byte() % FZ_OA_HEAPS);
    int impossible;
    size_t n = pick_size(&impossible);
    unsigned char *p;
    if (code & 1) {
        size_t k = impossible ? 3 : 1;
        size_t sz = impossible ? n / 2 + 1 : n;
        p = oa_calloc(fz->oa[heap], k, sz);
        if (p != NULL) {
            for (size_t i = 0; i < n; i++) {
                FZ_CHECK(p[i] == 0, "oa_calloc: byte %zu not zero", i);
            }
        }
    }
    else {
        p = oa_malloc(fz->oa[heap], n);
    }
    if (p == NULL) {
        refused(heap, impossible, "oa_malloc/oa_calloc", n);
        return;
    }
    FZ_CHECK(!impossible, "impossible request of %zu bytes succeeded", n);
    b->p = p;
    b->n = n;
    b->heap = heap;
    b->fill = (unsigned char)(0x11 + (fz->ops & 0x7F));
    check_new(b, n, heap);
    memset(p, b->fill, n);
}

static void
block_free(FzBlock *b, unsigned code)
{
    check_block(b, b->n, "free");
    if (code & 1) {
        oa_free_sized(b->p, b->n);
    }
    else {
        oa_free(b->p);
    }
    b->p = NULL;
}

static void
block_realloc(FzBlock *b)
{
    int impossible;
    size_t n = pick_size(&impossible);
    check_block(b, b->n, "realloc (before)");
    unsigned char *p = oa_realloc(fz->oa[b->heap], b->p, n);
    if (p == NULL) {
        refused(b->heap, impossible, "oa_realloc", n);
        check_block(b, b->n, "failed realloc");
        return;
    }
    FZ_CHECK(!impossible, "impossible realloc of %zu bytes succeeded", n);
    b->p = p;
    check_new(b, n, b->heap);
    check_block(b, n < b->n ? n : b->n, "realloc (after)");
    if (n > b->n) {
        memset(p + b->n, b->fill, n - b->n);
    }
    b->n = n;
}

/* One block operation: the entry chosen by the next byte is allocated
 * when free, else freed or resized. */
void
fz_block_op(unsigned code)
{
    FzBlock *b = &fz->blk[fz_byte() % FZ_MAXBLK];
    if (b->p == NULL) {
        block_alloc(b, code);
    }
    else if (code & 2) {
        block_realloc(b);
    }
    else {
        block_free(b, code >> 2);
    }
}

void
fz_blocks_check(void)
{
    for (int i = 0; i < FZ_MAXBLK; i++) {
        if (fz->blk[i].p != NULL) {
            check_block(&fz->blk[i], fz->blk[i].n, "check");
            FZ_CHECK(oa_owner(fz->blk[i].p) == fz->oa[fz->blk[i].heap],
                     "block %p changed owner", (void *)fz->blk[i].p);
        }
    }
}

void
fz_blocks_free_all(void)
{
    for (int i = 0; i < FZ_MAXBLK; i++) {
        if (fz->blk[i].p != NULL) {
            block_free(&fz->blk[i], (unsigned)i);
        }
    }
}
