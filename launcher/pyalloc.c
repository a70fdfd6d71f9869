/* pyalloc.c - the PyMemAllocatorEx hooks that put objalloc under CPython.
 *
 * What it does: serves PYMEM_DOMAIN_MEM and PYMEM_DOMAIN_OBJ from one
 * OaHeap and forwards every pointer the heap did not hand out to the
 * allocator that was installed before (the contract and the safety
 * argument are in pyalloc.h).
 *
 * Data structures: one static PyAlloc record for the process (CPython's
 * allocator table is process-wide too).  It holds the heap, the counters,
 * and one Domain per served domain: the previous allocator `prev`, the
 * hook we installed, and two flags.  The `ctx` of our hook is the Domain,
 * so a hook reaches its `prev` in one load.
 *
 * Algorithm, per call (GIL held):
 *  1. malloc/calloc: from the heap (count a live block); while draining,
 *     from prev.
 *  2. free(p): NULL does nothing; oa_owner(p) == heap -> oa_free (one live
 *     block less); otherwise prev.free.
 *  3. realloc(p, n): NULL -> malloc; foreign p -> prev.realloc (the block
 *     stays where it was born); ours -> oa_realloc, or moved out to
 *     prev.malloc + copy + oa_free while draining and when a large block
 *     is resized to a large size (see hook_realloc).
 *
 * Invariants:
 *  - `live` == blocks of the heap handed out through the hooks and not
 *    yet freed through them (so live == 0 means prev can take over);
 *  - a Domain with installed == 1 has its hook somewhere in the domain's
 *    chain (on top unless a wrapper such as tracemalloc came later);
 *  - draining implies installed.
 */
#include "launcher/pyalloc.h"

#include <string.h>

typedef struct Domain {
    PyMemAllocatorDomain id;
    unsigned mask;         /* PYALLOC_MEM or PYALLOC_OBJ */
    PyMemAllocatorEx prev; /* gets foreign pointers (and all, draining) */
    PyMemAllocatorEx hook; /* what we installed; ctx is this Domain */
    int installed;         /* our hook is in the domain's chain */
    int draining;          /* uninstalled with live blocks: see pyalloc.h */
} Domain;

typedef struct PyAlloc {
    OaHeap *heap;              /* serves both domains */
    uint64_t live;             /* see the invariants above */
    uint64_t nforeign_free;    /* frees forwarded to prev */
    uint64_t nforeign_realloc; /* reallocs forwarded to prev */
    uint64_t nmoved_out;       /* our blocks moved to prev by realloc */
    Domain domains[2];         /* MEM, OBJ */
    const char *error;         /* why the last install/uninstall failed */
} PyAlloc;

static PyAlloc state = {
    .domains = {{.id = PYMEM_DOMAIN_MEM, .mask = PYALLOC_MEM},
                {.id = PYMEM_DOMAIN_OBJ, .mask = PYALLOC_OBJ}},
};

/* ---- the hooks ---------------------------------------------------------- */

static void *
hook_malloc(void *ctx, size_t nbytes)
{
    Domain *d = ctx;
    if (__builtin_expect(d->draining, 0)) {
        return d->prev.malloc(d->prev.ctx, nbytes);
    }
    void *p = oa_malloc(state.heap, nbytes);
    state.live += (p != NULL);
    return p;
}

static void *
hook_calloc(void *ctx, size_t n, size_t size)
{
    Domain *d = ctx;
    if (__builtin_expect(d->draining, 0)) {
        return d->prev.calloc(d->prev.ctx, n, size);
    }
    void *p = oa_calloc(state.heap, n, size);
    state.live += (p != NULL);
    return p;
}

/* Realloc of one of our blocks while draining: it leaves the heap. */
static void *
move_out(Domain *d, void *p, size_t nbytes)
{
    void *q = d->prev.malloc(d->prev.ctx, nbytes);
    if (q == NULL) {
        return NULL; /* p stays valid, as realloc promises */
    }
    size_t have = oa_usable_size(p);
    memcpy(q, p, have < nbytes ? have : nbytes);
    oa_free(p);
    state.live--;
    state.nmoved_out++;
    return q;
}

static void *
hook_realloc(void *ctx, void *p, size_t nbytes)
{
    Domain *d = ctx;
    if (p == NULL) {
        return hook_malloc(ctx, nbytes);
    }
    if (oa_owner(p) != state.heap) {
        state.nforeign_realloc++;
        return d->prev.realloc(d->prev.ctx, p, nbytes);
    }
    if (__builtin_expect(d->draining, 0)) {
        return move_out(d, p, nbytes);
    }
    /* Why: oa_realloc moves a large block on every resize (new block,
     * copy, free), so CPython's in-place `s += t` on a big str became
     * quadratic (20000 appends of 1000 chars: 0.2 s stock, over 100 s
     * here).  A large block that is resized to a large size leaves the
     * heap for the previous allocator (pymalloc sends large requests to
     * the system realloc, which grows in place or by mremap); it then
     * stays there as a foreign block.  Remove once oa_realloc resizes
     * large blocks with the system realloc. */
    if (nbytes > OA_SMALL_MAX && oa_usable_size(p) > OA_SMALL_MAX) {
        return move_out(d, p, nbytes);
    }
    return oa_realloc(state.heap, p, nbytes);
}

static void
hook_free(void *ctx, void *p)
{
    Domain *d = ctx;
    if (p == NULL) {
        return;
    }
    if (oa_owner(p) == state.heap) {
        oa_free(p);
        state.live--;
        return;
    }
    state.nforeign_free++;
    d->prev.free(d->prev.ctx, p);
}

/* ---- install / uninstall ---------------------------------------------- */

static int
fail(const char *why)
{
    state.error = why;
    return -1;
}

/* Is our hook the allocator CPython calls first for this domain? */
static int
is_top(const Domain *d)
{
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(d->id, &cur);
    return cur.ctx == d->hook.ctx && cur.malloc == hook_malloc;
}

/* Refuse before changing anything: the whole mask succeeds or nothing. */
static int
check_install(OaHeap *heap, unsigned domains)
{
    if (heap == NULL) {
        return fail("pyalloc_install: heap is NULL");
    }
    if (domains == 0 || (domains & ~(unsigned)PYALLOC_BOTH) != 0) {
        return fail("pyalloc_install: bad domain mask");
    }
#ifdef Py_GIL_DISABLED
    return fail("pyalloc_install: free-threaded CPython calls the "
                "allocator without a GIL; one OaHeap cannot serve it");
#endif
    for (int i = 0; i < 2; i++) {
        const Domain *d = &state.domains[i];
        if (d->installed && state.heap != heap) {
            return fail("pyalloc_install: a domain is already served by "
                        "another heap");
        }
        if ((domains & d->mask) && d->draining && !is_top(d)) {
            return fail("pyalloc_install: another allocator hook sits on "
                        "top of the draining one");
        }
    }
    return 0;
}

int
pyalloc_install(OaHeap *heap, unsigned domains)
{
    if (check_install(heap, domains) < 0) {
        return -1;
    }
    state.heap = heap;
    for (int i = 0; i < 2; i++) {
        Domain *d = &state.domains[i];
        if (!(domains & d->mask)) {
            continue;
        }
        if (d->installed) {
            d->draining = 0; /* resume serving; prev is unchanged */
            continue;
        }
        PyMem_GetAllocator(d->id, &d->prev);
        d->hook = (PyMemAllocatorEx){.ctx = d,
                                     .malloc = hook_malloc,
                                     .calloc = hook_calloc,
                                     .realloc = hook_realloc,
                                     .free = hook_free};
        PyMem_SetAllocator(d->id, &d->hook);
        d->installed = 1;
    }
    return 0;
}

/* tracemalloc.is_tracing(), or -1 with an exception set. */
static int
tracemalloc_tracing(void)
{
    PyObject *mod = PyImport_ImportModule("tracemalloc");
    if (mod == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(mod, "is_tracing", NULL);
    Py_DECREF(mod);
    if (res == NULL) {
        return -1;
    }
    int tracing = PyObject_IsTrue(res);
    Py_DECREF(res);
    return tracing;
}

int
pyalloc_install_running(OaHeap *heap, unsigned domains)
{
    if (Py_IsInitialized()) {
        int tracing = tracemalloc_tracing();
        if (tracing < 0) {
            return -1;
        }
        if (tracing) {
            fail("pyalloc_install: tracemalloc is tracing; stopping it "
                 "later would remove the objalloc hook while its blocks "
                 "are live");
            PyErr_SetString(PyExc_RuntimeError, state.error);
            return -1;
        }
    }
    if (pyalloc_install(heap, domains) < 0) {
        if (Py_IsInitialized()) {
            PyErr_SetString(PyExc_RuntimeError, state.error);
        }
        return -1;
    }
    return 0;
}

int
pyalloc_uninstall(unsigned domains)
{
    if (domains == 0 || (domains & ~(unsigned)PYALLOC_BOTH) != 0) {
        return fail("pyalloc_uninstall: bad domain mask");
    }
    for (int i = 0; i < 2; i++) {
        const Domain *d = &state.domains[i];
        if (!(domains & d->mask)) {
            continue;
        }
        if (!d->installed) {
            return fail("pyalloc_uninstall: domain not served by objalloc");
        }
        if (!is_top(d)) {
            return fail("pyalloc_uninstall: another allocator hook sits "
                        "on top of objalloc's; remove it first");
        }
    }
    /* Restoring prev is safe only when it will never see our blocks. */
    int restore = (state.live == 0);
    for (int i = 0; i < 2; i++) {
        Domain *d = &state.domains[i];
        if (!(domains & d->mask)) {
            continue;
        }
        if (restore) {
            PyMem_SetAllocator(d->id, &d->prev);
            d->installed = 0;
            d->draining = 0;
        }
        else {
            d->draining = 1;
        }
    }
    return restore ? 0 : 1;
}

/* ---- queries ------------------------------------------------------------ */

OaHeap *
pyalloc_heap(void)
{
    return state.heap;
}

int
pyalloc_is_installed(unsigned domains)
{
    for (int i = 0; i < 2; i++) {
        const Domain *d = &state.domains[i];
        if ((domains & d->mask) && (!d->installed || d->draining)) {
            return 0;
        }
    }
    return domains != 0;
}

void
pyalloc_counts(PyAllocCounts *out)
{
    memset(out, 0, sizeof *out);
    out->live = state.live;
    out->nforeign_free = state.nforeign_free;
    out->nforeign_realloc = state.nforeign_realloc;
    out->nmoved_out = state.nmoved_out;
    for (int i = 0; i < 2; i++) {
        const Domain *d = &state.domains[i];
        out->installed |= d->installed ? d->mask : 0u;
        out->draining |= d->draining ? d->mask : 0u;
    }
}

const char *
pyalloc_error(void)
{
    return state.error != NULL ? state.error : "no error";
}
