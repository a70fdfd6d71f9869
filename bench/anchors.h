/* SPDX-License-Identifier: MIT */
/* anchors.h - the allocators the allocator benchmark compares.
 *
 * pymalloc (PyObject_Malloc from libpython3.11, usable before
 * Py_Initialize), objalloc (with oa_free, and with oa_free_sized: the free
 * a runtime does when the type tells the size), glibc malloc, and mimalloc
 * and jemalloc loaded with dlopen(RTLD_LOCAL) from Debian's shared
 * libraries (both export plain malloc/free/realloc).  Each has the same
 * three entry points (free and realloc also receive the size the caller
 * knows, which only objalloc-sized uses) and an optional trim call.
 *
 * The wrappers are static inline so that the workloads, written once as
 * always_inline functions over an AllocFns, compile to direct calls for
 * every allocator (see WITH_ALLOC in alloc_bench.c).
 */
#ifndef RCGC_BENCH_ANCHORS_H
#define RCGC_BENCH_ANCHORS_H

#include <Python.h>
#include <stddef.h>
#include <stdlib.h>

#ifdef BENCH_HAVE_OBJALLOC
#include "objalloc/objalloc.h"
#endif

typedef enum AnchorId {
    A_PYMALLOC,
    A_OBJALLOC,
    A_OBJALLOC_SIZED,
    A_GLIBC,
    A_MIMALLOC,
    A_JEMALLOC,
    A_COUNT
} AnchorId;

typedef struct AllocFns {
    void *(*malloc)(size_t n);
    void (*free)(void *p, size_t n);
    void *(*realloc)(void *p, size_t old, size_t n);
} AllocFns;

typedef struct Anchor {
    const char *name;
    int available;
    char why[160];         /* why it is not available */
    int (*trim)(void);     /* release free memory to the OS, or NULL */
    const char *trim_name; /* e.g. "malloc_trim(0)" */
} Anchor;

extern Anchor anchors[A_COUNT];

/* Load every anchor (dlopen the optional ones); messages in anchors[].why.
 * objalloc gets a heap of its own. */
void anchors_init(void);
/* jemalloc needs static TLS room to be dlopen'ed: re-exec this program
 * with GLIBC_TUNABLES set when it is not (returns only if not needed or
 * the exec failed). */
void anchors_reexec_for_jemalloc(char **argv);

/* dlsym'ed entry points of the loaded libraries. */
extern void *(*dl_mi_malloc)(size_t);
extern void (*dl_mi_free)(void *);
extern void *(*dl_mi_realloc)(void *, size_t);
extern void *(*dl_je_malloc)(size_t);
extern void (*dl_je_free)(void *);
extern void *(*dl_je_realloc)(void *, size_t);
extern void *(*dl_mi_calloc)(size_t, size_t);
extern void *(*dl_je_calloc)(size_t, size_t);

/* tcmalloc (Debian's libtcmalloc_minimal.so.4, its tc_* entry points):
 * only the trace replay (trace_bench.c) compares it, so it is an anchor
 * of its own outside AnchorId. */
extern Anchor anchor_tcmalloc;
extern void *(*dl_tc_malloc)(size_t);
extern void *(*dl_tc_calloc)(size_t, size_t);
extern void (*dl_tc_free)(void *);
extern void *(*dl_tc_realloc)(void *, size_t);

static inline void *
py_m(size_t n)
{
    return PyObject_Malloc(n);
}
static inline void
py_f(void *p, size_t n)
{
    (void)n;
    PyObject_Free(p);
}
static inline void *
py_r(void *p, size_t old, size_t n)
{
    (void)old;
    return PyObject_Realloc(p, n);
}

static inline void *
glibc_m(size_t n)
{
    return malloc(n);
}
static inline void
glibc_f(void *p, size_t n)
{
    (void)n;
    free(p);
}
static inline void *
glibc_r(void *p, size_t old, size_t n)
{
    (void)old;
    return realloc(p, n);
}

static inline void *
mi_m(size_t n)
{
    return dl_mi_malloc(n);
}
static inline void
mi_f(void *p, size_t n)
{
    (void)n;
    dl_mi_free(p);
}
static inline void *
mi_r(void *p, size_t old, size_t n)
{
    (void)old;
    return dl_mi_realloc(p, n);
}

static inline void *
je_m(size_t n)
{
    return dl_je_malloc(n);
}
static inline void
je_f(void *p, size_t n)
{
    (void)n;
    dl_je_free(p);
}
static inline void *
je_r(void *p, size_t old, size_t n)
{
    (void)old;
    return dl_je_realloc(p, n);
}

#ifdef BENCH_HAVE_OBJALLOC
extern OaHeap *bench_oa;

static inline void *
oa_m(size_t n)
{
    return oa_malloc(bench_oa, n);
}
static inline void
oa_f(void *p, size_t n)
{
    (void)n;
    oa_free(p);
}
static inline void
oa_fs(void *p, size_t n)
{
    oa_free_sized(p, n);
}
static inline void *
oa_r(void *p, size_t old, size_t n)
{
    (void)old;
    return oa_realloc(bench_oa, p, n);
}
#endif

#endif /* RCGC_BENCH_ANCHORS_H */
