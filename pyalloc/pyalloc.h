/* SPDX-License-Identifier: MIT */
/* pyalloc.h - objalloc as CPython's allocator for the MEM and OBJ domains.
 *
 * A folder of its own because two programs use it: the launcher
 * (launcher/: rcgc-python and the preload libraries) and the Python
 * extension (pyext/switch.c: rcgc.use_objalloc).  It needs objalloc and
 * CPython's headers, nothing else; its test program is
 * tests/launcher/test_pyalloc.c.
 *
 * pyalloc_install() puts an OaHeap behind PyMem_Malloc/PyMem_Free
 * (PYMEM_DOMAIN_MEM) and PyObject_Malloc/PyObject_Free (PYMEM_DOMAIN_OBJ)
 * with PyMem_SetAllocator().  The allocator that was installed before
 * (pymalloc, malloc, the debug hooks, tracemalloc...) is kept per domain as
 * `prev`, and every pointer the heap did not hand out goes back to it:
 *
 *     PyObject_Free(p) --> oa_free_or(heap, p, prev.free): freed if the
 *                          heap's (oa_free_if_owned), else prev's
 *     PyObject_Realloc(p, n) --> ours ? oa_realloc(heap, p, n)
 *                                     : prev.realloc(prev.ctx, p, n)
 *
 * Requests of 1..PYALLOC_SERVE_MAX (2 KiB) bytes are the heap's (small
 * classes and the medium ones up to 2 KiB).  Requests of 0 bytes, and of
 * PYALLOC_SERVE_MAX + 1 bytes up to OA_LARGE_MAP_MIN (128 KiB), go to prev,
 * as pymalloc sends them (and all over 512 bytes) to the
 * system malloc; requests of 128 KiB or more are the heap's, each a mapping
 * of its own whose pages leave the process when it is freed (glibc keeps
 * freed blocks that big in its heap, resident, once it has freed one).
 * One of our class blocks resized to a large size under 128 KiB moves to
 * prev (see hook_realloc), to 128 KiB or more it becomes one of the heap's
 * mappings; one of prev's stays prev's.
 *
 * A block allocated before the switch stays with the allocator that made
 * it for its whole life (realloc included: its size is unknown to us, so
 * it cannot be moved out).  The ownership test (oa_free_or,
 * oa_realloc_if_owned, oa_owner) is exact and reads no foreign memory,
 * which is what makes the forwarding correct.
 *
 * CPython's contract for these domains, and how it is met:
 * - the GIL is held by the caller: the heap is used by one thread at a
 *   time, which is exactly objalloc's threading rule;
 * - malloc(0) and calloc(0, n) / calloc(n, 0) return unique non-NULL
 *   pointers (they go to prev, as pymalloc sends them to the system
 *   allocator, which gives a 1-byte block);
 * - realloc(NULL, n) is malloc(n); realloc(p, 0) returns a non-NULL block;
 *   a failed realloc returns NULL and leaves p valid; calloc zeroes and
 *   fails on overflow of n * size;
 * - free(NULL) does nothing.
 *
 * State: the installed allocator is process-wide in CPython, so this file
 * keeps one static PyAlloc record (heap, prev per domain, counters) whose
 * address is the `ctx` of the installed PyMemAllocatorEx.  It lives for the
 * whole process.
 *
 * ----------------------------------------------------------------------
 * Is switching a *running* interpreter safe?  (for the pyext opt-in)
 *
 * Yes on CPython 3.11 (and default GIL builds of 3.12+ without own-GIL
 * subinterpreters), under these conditions, which pyalloc_install() and
 * pyalloc_uninstall() enforce where they can and the caller must keep
 * otherwise:
 *  1. Old pointers: forwarded to the previous allocator by an exact
 *     ownership test, for free and realloc (see above).  Safe.
 *  2. Threads: the domains are only called with the GIL held, so the
 *     heap sees one thread at a time.  NOT safe with free-threaded builds
 *     (Py_GIL_DISABLED: install refuses) nor with 3.12+ subinterpreters
 *     that own their GIL (they would share the heap concurrently): don't
 *     switch when such interpreters exist.
 *  3. Switching back: the previous allocator cannot free our blocks
 *     (pymalloc would hand an arena block to the system free).  So
 *     uninstall restores `prev` only when no block of the heap is live
 *     (give the hooks a heap of their own: blocks it holds for anyone
 *     else count as live too); otherwise the hook stays in place and *drains*: new
 *     requests go to `prev`, our blocks are still freed (or moved out by
 *     realloc) into the heap.  The heap must therefore never be destroyed
 *     while the interpreter may still free its blocks (in practice: never
 *     before process exit).
 *  4. Other hooks: tracemalloc (and any wrapper installed after us) saves
 *     our hook as its own prev and restores it later - fine.  But a
 *     wrapper installed *before* us and removed after us (tracemalloc
 *     started before the switch and stopped after it) would put back its
 *     saved allocator and drop ours while our blocks are live: a crash.
 *     Install therefore refuses when tracemalloc is tracing (the caller
 *     checks tracemalloc.is_tracing(); pyalloc_install_running() does it),
 *     and uninstall refuses when we are not the top of the domain.
 *  5. The debug hooks (PYTHONMALLOC=debug, -X dev) keep working as `prev`
 *     for old blocks, but new blocks get no debug hooks: calling
 *     PyMem_SetupDebugHooks() on top would overwrite the hooks' single
 *     saved allocator per domain and make the old hook recurse into ours.
 *     objalloc's own debug build (RCGC_DEBUG) checks the new blocks.
 *  6. Introspection that knows only pymalloc (sys.getallocatedblocks(),
 *     sys._debugmallocstats()) no longer sees the new blocks.
 *  7. Lifetimes: the hook's code and the heap must stay until the process
 *     exits (an extension module holding this file is never unloaded by
 *     CPython; never call oa_heap_destroy on the served heap).
 * test_pyalloc.c exercises 1, 3 and 4 on a running interpreter.
 * ----------------------------------------------------------------------
 */
#ifndef RCGC_LAUNCHER_PYALLOC_H
#define RCGC_LAUNCHER_PYALLOC_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "objalloc/objalloc.h"

/* The largest request the hooks serve from the heap (pyalloc.c says why
 * not up to OA_MEDIUM_MAX). */
#define PYALLOC_SERVE_MAX 2048u

#ifdef __cplusplus
extern "C" {
#endif

/* Domain masks for install/uninstall. */
enum {
    PYALLOC_MEM = 1, /* PYMEM_DOMAIN_MEM: PyMem_Malloc & co */
    PYALLOC_OBJ = 2, /* PYMEM_DOMAIN_OBJ: PyObject_Malloc & co */
    PYALLOC_BOTH = 3
};

/* Counters of the installed hook (all since the first install). */
typedef struct PyAllocCounts {
    uint64_t live;             /* blocks of the heap not freed (from its
                                  statistics: O(pools)) */
    uint64_t nforeign_free;    /* frees forwarded to a previous allocator
                                  (large blocks included) */
    uint64_t nforeign_realloc; /* reallocs forwarded to it */
    uint64_t nmoved_out;       /* our blocks moved to prev by realloc:
                                  draining, or to a large size */
    unsigned installed;        /* PYALLOC_* mask of domains we serve */
    unsigned draining;         /* PYALLOC_* mask of domains draining */
} PyAllocCounts;

/* Install `heap` as the allocator of the domains in `domains`, keeping
 * the current allocator of each as the one that gets foreign pointers.
 * Before Py_Initialize (after Py_PreInitialize) this is always safe; on a
 * running interpreter see the conditions above, or use
 * pyalloc_install_running().  Returns 0, or -1 (nothing changed; the
 * reason is in pyalloc_error()): heap NULL or bad mask, free-threaded
 * build, a domain served by another heap, or another hook installed on
 * top of a draining one. */
int pyalloc_install(OaHeap *heap, unsigned domains);

/* The same for a running interpreter (GIL held): also refuses, with a
 * Python exception set, while tracemalloc is tracing.  Returns 0 or -1. */
int pyalloc_install_running(OaHeap *heap, unsigned domains);

/* Stop serving new requests from the heap in `domains`.  Returns 0 when
 * the previous allocators are back in place (no block of ours was live),
 * 1 when the hooks stay and drain (see above), -1 when a domain is not
 * ours or another hook sits on top of ours (nothing changed). */
int pyalloc_uninstall(unsigned domains);

/* The heap being served (NULL when never installed). */
OaHeap *pyalloc_heap(void);

/* 1 when every domain in `domains` is served by the heap right now: our
 * hook is the top allocator of the domain and not draining. */
int pyalloc_is_installed(unsigned domains);

void pyalloc_counts(PyAllocCounts *out);

/* Why the last install/uninstall failed (a static string). */
const char *pyalloc_error(void);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_LAUNCHER_PYALLOC_H */
