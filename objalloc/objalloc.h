/* SPDX-License-Identifier: MIT */
/* objalloc.h - rcgc's small-object allocator (public API).
 *
 * pymalloc's design on 64-bit: requests of 1..512 bytes are served from
 * 32 small size classes (every 16 bytes), each class from 16 KiB pools
 * carved out of 1 MiB arenas mapped with mmap.  Requests of 513 bytes up
 * to 32 KiB are served from 48 medium classes, eight per doubling (576,
 * 640, ... 1024, 1152, ... 30720, 32768 bytes), each from 64 KiB spans
 * carved out of arenas of their own: a request of n bytes gets a block of
 * less than 1.125 n bytes (internal waste under 12.5% of the request,
 * under 11.2% of the block), and a span's tail that no whole block fits
 * in is never touched (address space, not memory).  Larger requests go to the
 * system malloc (and are still tracked by the heap, so that destroying
 * the heap releases them); from OA_LARGE_MAP_MIN bytes on, to a mapping
 * of their own, whose pages go back to the system when the block is
 * freed.  A zero-byte request gets a unique 16-byte block.
 *
 * All state lives in an OaHeap.  A block finds its heap from its pool, so
 * oa_free() and oa_realloc() need no heap argument; pointers that this
 * library did not hand out (for example from the system malloc) are passed
 * to the system allocator, as CPython's PyObject_Free does.
 *
 * Threads: a heap is used by one thread at a time.  Several threads may
 * take turns under the caller's lock, never at once; debug builds
 * (RCGC_DEBUG) detect concurrent use and abort with a message.  Process-
 * wide state is the address map that answers "is this pointer ours?", the
 * set of large-block addresses, mmap placement hints and the error handler
 * (the full list is in base/base.h); all are safe to use from many threads
 * with many heaps, and none makes one heap's work depend on another's.
 *
 * Errors: out of memory returns NULL (and leaves the heap consistent);
 * oa_heap_error() says why (system, memory limit, arena source exhausted,
 * injected failure).
 * Misuse (double free, interior or never-allocated pointer, damaged guard
 * bytes) is detected in debug builds: a message naming the pointer and the
 * check, then abort().  A NULL heap where one is needed is refused with a
 * message and the call's error value.  Every message of every layer goes
 * through one path: see rcgc_register_error below.
 */
#ifndef RCGC_OBJALLOC_H
#define RCGC_OBJALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from the shared library; everything else is hidden. */
#ifndef RCGC_API
#define RCGC_API __attribute__((visibility("default")))
#endif

#define OA_ALIGNMENT  16          /* every block is 16-byte aligned */
#define OA_SMALL_MAX  512         /* largest request of the small classes */
#define OA_MEDIUM_MAX (32u << 10) /* largest request served from classes */
#define OA_NSMALL     32          /* small classes: 16, 32, ..., 512 */
#define OA_NCLASSES   80          /* and 48 medium: 576, 640, ..., 32768 */
#define OA_POOL_SIZE  (16u << 10) /* 16 KiB: a small class's pool */
#define OA_SPAN_SIZE  (64u << 10) /* 64 KiB: a medium class's span */
#define OA_ARENA_SIZE (1u << 20)  /* 1 MiB */
/* Large blocks this big (their 32-byte header included) are mappings
 * (128 KiB, glibc's default mmap threshold: objalloc/large.c says why). */
#define OA_LARGE_MAP_MIN (128u << 10)

typedef struct OaHeap OaHeap;

/* ---- messages: one path for the whole library ------------------------ */

/* What a message reports (the handler's first argument). */
enum {
    RCGC_ERROR_FATAL = 1,  /* misuse that would corrupt memory, or a failed
                              assertion: abort() follows the handler */
    RCGC_ERROR_MISUSE = 2, /* refused call (NULL handle, destroy during a
                              collection, ...): it returns its error value */
    RCGC_ERROR_CHECK = 3   /* a heap check (oa_heap_check, rc_heap_check,
                              gc_check) found a broken invariant */
};

/* Receives each message of rcgc, one line without newline ("objalloc:
 * oa_free: pointer 0x...: double free: ..."), instead of stderr.  It may
 * log, raise its own error or exit; after a fatal message the library
 * aborts when it returns.  It must not call back into the heap that
 * reported. */
typedef void (*RcgcErrorFn)(int kind, const char *message, void *arg);

/* Route every message of the library to fn(kind, message, arg), for all
 * heaps and threads of the process; fn == NULL restores stderr. */
RCGC_API void rcgc_register_error(RcgcErrorFn fn, void *arg);

/* ---- heaps ---------------------------------------------------------- */

/* A new, empty heap; NULL when out of memory. */
RCGC_API OaHeap *oa_heap_new(void);

/* Where a heap's arenas come from when not from mmap (embedded use: a
 * memory slab, a static array, a partition).  get(ctx) returns
 * OA_ARENA_SIZE bytes aligned to OA_ARENA_SIZE, readable and writable,
 * or NULL when it has none left; put(ctx, arena) takes back an arena the
 * heap no longer needs (put may be NULL: the heap then keeps every arena
 * it got until it is destroyed, and the caller reclaims the memory).  The
 * heap calls them only inside its own calls, on the thread using it.  A heap with a source never maps memory itself: its large
 * blocks (over OA_MEDIUM_MAX) come from the system malloc. */
typedef struct OaArenaSource {
    void *(*get)(void *ctx);
    void (*put)(void *ctx, void *arena);
    void *ctx;
} OaArenaSource;

/* A new, empty heap whose arenas come from `src` (copied); NULL when out
 * of memory or src->get is NULL. */
RCGC_API OaHeap *oa_heap_new_with_source(const OaArenaSource *src);

/* A new, empty heap whose arenas are carved from the caller's memory
 * [base, base + nbytes): every OA_ARENA_SIZE-aligned MiB inside it (so a
 * region of n MiB + 1 MiB - 1 bytes holds n arenas wherever it starts).
 * The region must stay valid until oa_heap_destroy; the heap writes its
 * blocks there and nothing else (its bookkeeping, the pools' metadata
 * included, comes from the system malloc).  NULL when the region holds no whole arena
 * (see oa_heap_error(NULL)) or out of memory.  When every arena is in use
 * an allocation that needs another fails (NULL), and oa_heap_error says
 * so. */
RCGC_API OaHeap *oa_heap_new_in_region(void *base, size_t nbytes);

/* Why the heap's last failed allocation failed, as a sentence naming the
 * heap ("objalloc: heap 0x...: arena source exhausted: ..."), or NULL if
 * none failed.  With heap NULL: why the last oa_heap_new_* of this thread
 * failed. */
RCGC_API const char *oa_heap_error(const OaHeap *heap);

/* Release every arena and every large block of the heap, live or not.
 * Pointers into the heap are dangling afterwards.  NULL is a no-op. */
RCGC_API void oa_heap_destroy(OaHeap *heap);

/* Give every empty pool and arena that the heap keeps for reuse back now:
 * a class keeps its last pool when it empties, and the heap keeps one
 * empty arena of each kind as a spare; and give the pages of the empty
 * pools inside partly used arenas back to the system (madvise
 * MADV_DONTNEED, every page of such a pool: its metadata lies outside
 * it; not for arenas from a caller's source).  The same happens before an
 * allocation fails under the memory limit.  Live blocks are not
 * touched. */
RCGC_API void oa_heap_trim(OaHeap *heap);

/* ---- allocation ----------------------------------------------------- */

/* nbytes bytes, 16-byte aligned; NULL when out of memory. */
RCGC_API void *oa_malloc(OaHeap *heap, size_t nbytes);

/* n * size zeroed bytes; NULL on overflow of n * size or out of memory. */
RCGC_API void *oa_calloc(OaHeap *heap, size_t n, size_t size);

/* Resize.  p == NULL acts as oa_malloc(heap, nbytes).  A block stays in
 * place when the new size still fits its class; otherwise it moves (across
 * classes, to or from the system allocator).  On failure returns NULL and
 * p is untouched.  A foreign p goes to the system realloc (heap may then
 * be NULL). */
RCGC_API void *oa_realloc(OaHeap *heap, void *p, size_t nbytes);

/* Free a block of any heap; NULL is fine; a foreign pointer goes to the
 * system free. */
RCGC_API void oa_free(void *p);

/* Free a block that the caller knows came from oa_malloc/oa_calloc with a
 * request of nbytes (or was last resized to nbytes): the size picks the
 * path (pool, span or large block) without the ownership tests.  Passing
 * a foreign pointer here is undefined (checked in debug builds). */
RCGC_API void oa_free_sized(void *p, size_t nbytes);

/* For a caller that serves some pointers from `heap` and forwards the
 * others to another allocator (a CPython allocator hook): one ownership
 * lookup instead of oa_owner() followed by oa_free()/oa_realloc().
 *
 * oa_free_if_owned: p == NULL or a block of `heap` -> freed (nothing for
 * NULL), returns 1; anything else (a foreign pointer, a block of another
 * heap) -> untouched, returns 0. */
RCGC_API int oa_free_if_owned(OaHeap *heap, void *p);

/* oa_free_or: the same as `if (!oa_free_if_owned(heap, p)) other(ctx, p)`
 * with every path ending in a tail call, so that a hook made of it needs
 * no stack frame of its own. */
typedef void (*OaFreeFn)(void *ctx, void *p);
RCGC_API void oa_free_or(OaHeap *heap, void *p, OaFreeFn other, void *ctx);

/* oa_realloc_if_owned: p == NULL or a block of `heap` -> *owned = 1 and
 * the result of oa_realloc(heap, p, nbytes) (NULL on failure, p intact);
 * otherwise *owned = 0, NULL is returned and p is untouched. */
RCGC_API void *oa_realloc_if_owned(OaHeap *heap, void *p, size_t nbytes,
                                   int *owned);

/* Bytes usable at p (its class size, or the large request; in checked
 * builds the request); 0 for NULL or a foreign pointer. */
RCGC_API size_t oa_usable_size(const void *p);

/* The heap that owns p (a pool block or a large block), else NULL.
 * O(1); reads no memory that the library does not own. */
RCGC_API OaHeap *oa_owner(const void *p);

/* The same for a pointer known to be a live block of some heap: no checks,
 * cheaper (used by refcount to find an object's heap). */
RCGC_API OaHeap *oa_block_heap(const void *p);

/* Claim the heap for the calling thread across a long operation made of
 * many calls (the collector claims it for a whole collection).  In debug
 * builds (RCGC_DEBUG) any use of the heap by another thread before the
 * matching oa_heap_release aborts with a message naming the heap and fn,
 * as two threads inside objalloc at once do; claims nest on one thread.
 * No-ops in release builds. */
RCGC_API void oa_heap_claim(OaHeap *heap, const char *fn);
RCGC_API void oa_heap_release(OaHeap *heap);

/* A word for the layer above (refcount keeps its RcHeap here). */
RCGC_API void oa_heap_set_user(OaHeap *heap, void *user);
RCGC_API void *oa_heap_user(const OaHeap *heap);

/* The size class index that serves a request of nbytes (0..31 small,
 * 32..79 medium), or -1 for a request over OA_MEDIUM_MAX. */
RCGC_API int oa_size_class(size_t nbytes);

/* ---- memory limit, pressure, failure injection ---------------------- */

/* Called once before an allocation fails (memory limit reached or the
 * system refused memory), after the heap gave back what it keeps for reuse
 * (as oa_heap_trim) and that did not suffice.  It may free memory (a collector collects);
 * it returns nonzero when it freed something, and the allocation is then
 * retried once.  It must not destroy the heap. */
typedef int (*OaPressureFn)(OaHeap *heap, size_t nbytes, void *ctx);

/* Limit the bytes a heap holds from the system (mapped arenas, or arenas
 * from its source, plus large blocks); 0 means no limit (the default). */
RCGC_API void oa_heap_set_limit(OaHeap *heap, size_t nbytes);
RCGC_API size_t oa_heap_limit(const OaHeap *heap);
RCGC_API void oa_heap_set_pressure(OaHeap *heap, OaPressureFn fn, void *ctx);

/* Failure injection for tests: of the next requests the heap makes to the
 * system, counted from this call, the k-th (1-based) fails as if the
 * system were out of memory, and so does every later one while `sticky`
 * is nonzero.  k == 0 turns injection off.  `kinds` selects what counts. */
enum {
    OA_FAIL_ARENA = 1, /* mapping an arena */
    OA_FAIL_LARGE = 2, /* a large block from the system malloc */
    OA_FAIL_META = 4,  /* bookkeeping memory (oa_meta_malloc) */
    OA_FAIL_ALL = 7
};
RCGC_API void oa_heap_fail_nth(OaHeap *heap, unsigned kinds, uint64_t k,
                               int sticky);
/* How many system requests of the selected kinds were made since the last
 * oa_heap_fail_nth call (to size a sweep over k). */
RCGC_API uint64_t oa_heap_sys_requests(const OaHeap *heap);

/* Bookkeeping memory for the layers above (weakref tables, collector
 * stacks): the system malloc, but counted against the heap's limit and
 * subject to failure injection, so OOM sweeps reach it. */
RCGC_API void *oa_meta_malloc(OaHeap *heap, size_t nbytes);
RCGC_API void *oa_meta_realloc(OaHeap *heap, void *p, size_t old_nbytes,
                               size_t nbytes);
RCGC_API void oa_meta_free(OaHeap *heap, void *p, size_t nbytes);

/* ---- statistics ----------------------------------------------------- */

typedef struct OaClassStats {
    size_t block_size;  /* bytes per block in this class */
    size_t pools;       /* pools currently serving the class */
    size_t used;        /* blocks handed out and not freed */
    size_t free;        /* free blocks in those pools (listed or uncarved) */
    uint64_t nmalloc;   /* blocks handed out, ever */
    uint64_t requested; /* bytes asked for by those requests, ever */
} OaClassStats;

typedef struct OaStats {
    /* arenas (OA_ARENA_SIZE bytes each) */
    size_t arenas;             /* mapped now */
    size_t arenas_medium;      /* of those, arenas of medium spans */
    size_t arenas_highwater;   /* most mapped at once */
    uint64_t arenas_allocated; /* mapped, ever */
    uint64_t arenas_released;  /* unmapped, ever */
    size_t bytes_mapped;       /* arenas * OA_ARENA_SIZE */
    size_t arena_meta_bytes;   /* the arenas' bookkeeping and their pools'
                                  metadata (64 B a pool), in 64 KiB slabs
                                  from the system */
    /* pools (and medium spans) by state */
    size_t pools_full;     /* every block in use */
    size_t pools_used;     /* partly used (or the empty pool a class keeps) */
    size_t pools_empty;    /* in a mapped arena, serving no class */
    size_t spans;          /* of the full and used ones, medium spans */
    size_t bytes_released; /* pages of empty pools given back to the
                              system (oa_heap_trim), not reused since */
    /* blocks */
    size_t blocks_used;       /* small and medium blocks live */
    size_t bytes_used;        /* their class sizes added up */
    size_t bytes_stranded;    /* free bytes inside partly-used pools
                                (external fragmentation) */
    uint64_t bytes_requested; /* small requests, ever (asked)... */
    uint64_t bytes_handed;    /* ...and the class sizes given for them:
                                 handed/requested = internal fragmentation */
    /* large blocks (over OA_MEDIUM_MAX, from the system malloc or mmap) */
    size_t large_blocks;
    size_t large_bytes;
    size_t large_mapped; /* of those blocks, mappings of their own */
    size_t meta_bytes;   /* oa_meta_malloc memory held */
    size_t limit;        /* 0 = none */
    /* calls */
    uint64_t nmalloc, ncalloc, nrealloc, nfree, nfail;
    OaClassStats classes[OA_NCLASSES];
} OaStats;

/* Fill *st with the heap's current statistics. */
RCGC_API void oa_heap_stats(const OaHeap *heap, OaStats *st);

/* A readable dump of the statistics (a line per used class, then totals). */
RCGC_API void oa_stats_print(const OaStats *st, FILE *out);

/* ---- checking ------------------------------------------------------- */

/* Walk every arena, pool and list of the heap and verify every invariant
 * (counts add up, lists consistent, no block both free and live, guards
 * intact in debug builds).  Returns 0 when all hold; otherwise prints what
 * failed to stderr and returns -1. */
RCGC_API int oa_heap_check(const OaHeap *heap);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_OBJALLOC_H */
