/* SPDX-License-Identifier: MIT */
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
 *  1. malloc/calloc of 1..PYALLOC_SERVE_MAX bytes (small and medium classes),
 *     and of OA_LARGE_MAP_MIN bytes or more: from the heap; the requests
 *     between, and every
 *     request while draining, from prev (pymalloc sends its large
 *     requests to the system malloc, which is where prev sends them;
 *     objalloc's large blocks add a header and an entry in a
 *     process-wide set that prev does not need).  The heap's blocks of
 *     OA_LARGE_MAP_MIN or more are mappings of their own: freed, their
 *     pages leave the process at once, where glibc, once it has freed a
 *     block that big, keeps the next ones in its heap and their pages
 *     resident after free (objalloc/large.c).
 *  2. free(p): oa_free_or (NULL and our blocks: one ownership lookup);
 *     otherwise prev.free.
 *  3. realloc(p, n): n small -> oa_realloc_if_owned (NULL: malloc; ours:
 *     in place or within the heap); p NULL -> as malloc; p a class block
 *     of ours and n up to OA_LARGE_MAP_MIN -> moved out to prev.malloc +
 *     copy + oa_free (where malloc would have put it: keeping it as one of
 *     the heap's large blocks, with their header and set entry, cost
 *     compileall 100 KiB of peak RSS); any other block of ours ->
 *     oa_realloc (to a mapping from OA_LARGE_MAP_MIN on); foreign p ->
 *     prev.realloc (a block stays with the allocator that made it: prev's
 *     size is unknown here).  While draining, ours move out.
 *
 * Invariants:
 *  - the heap's live blocks (heap_live: its statistics, not a counter in
 *    the hooks) are all ours, so none of them means prev can take over;
 *  - a Domain with installed == 1 has its hook somewhere in the domain's
 *    chain (on top unless a wrapper such as tracemalloc came later);
 *  - draining implies installed.
 */
#include "pyalloc/pyalloc.h"

#include <string.h>

typedef struct Domain {
    PyMemAllocatorDomain id;
    unsigned mask;          /* PYALLOC_MEM or PYALLOC_OBJ */
    PyMemAllocatorEx prev;  /* gets foreign pointers (and all, draining) */
    PyMemAllocatorEx hook;  /* serving hooks; ctx is this Domain */
    PyMemAllocatorEx drain; /* draining hooks (same ctx) */
    int installed;          /* one of the two is in the domain's chain */
    int draining;           /* uninstalled with live blocks: see pyalloc.h;
                               `drain` is installed instead of `hook` */
} Domain;

typedef struct PyAlloc {
    OaHeap *heap;              /* serves both domains */
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

#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Serving: a request of 1..PYALLOC_SERVE_MAX bytes (one unsigned compare)
 * is the heap's (pymalloc sends all over 512 bytes to the system malloc;
 * objalloc's medium classes serve 513..2048); larger ones and 0 bytes are
 * prev's, as pymalloc sends both to the system allocator (which gives 0
 * bytes a unique 1-byte block).
 * Why not up to OA_MEDIUM_MAX (32 KiB): peak RSS of stock CPython on the
 * heap against pymalloc (bench/pyworkloads, 2-5 runs each, medians; the
 * runs of one workload vary by 0.1-0.3%):
 *   served up to   ast     compileall  json    regex
 *   32768          1.029   1.032       0.969   1.003
 *   8192           0.990   0.987       0.956   1.004
 *   2048           0.995   0.992       0.955   1.000
 *   512            1.001   0.983       -       0.999
 * CPython's compiler and parser take their memory in 8224-byte arena
 * blocks (8 KiB and a header), which the 9216-byte class serves with 992
 * bytes of slack each where glibc gives 8240 bytes: 4 MiB of ast's peak,
 * 1 MiB of compileall's.  Blocks of 2-8 KiB cost regex 200 KiB (a
 * partly used span per class, where glibc shares its free chunks across
 * sizes).  (Rows 32768 and 512 measured with OA_LARGE_MAP_MIN at 1 MiB,
 * the others at 128 KiB.  The medium classes still serve oa_malloc's own
 * callers up to 32 KiB.)
 * Serving 0 bytes from the heap changed how glibc's heap filled: without
 * the few hundred 1-byte chunks CPython asks for, the ast workload's heap
 * settled 0.6 MiB larger at its peak in most environments, 0.5% of the
 * process's peak RSS (launcher/README.md, Benchmark).  The
 * serving hooks never test `draining`: uninstall swaps in the draining
 * hooks below instead. */
static void *
hook_malloc(void *ctx, size_t nbytes)
{
    if (LIKELY(nbytes - 1 < PYALLOC_SERVE_MAX) || nbytes >= OA_LARGE_MAP_MIN) {
        return oa_malloc(state.heap, nbytes);
    }
    Domain *d = ctx;
    return d->prev.malloc(d->prev.ctx, nbytes);
}

/* calloc of a size the served range does not hold (nbytes is 0 when
 * n * size overflows): a large block of the heap from OA_LARGE_MAP_MIN
 * on, else prev's (which fails the overflow).  Out of line so that
 * hook_calloc's served path, where the compiler knows nbytes <=
 * PYALLOC_SERVE_MAX and drops the large branch of the inlined oa_calloc,
 * saves one register instead of six (the ast workload makes 288 k
 * callocs: bench/pyworkloads/cgcompare.py). */
static __attribute__((noinline)) void *
calloc_other(Domain *d, size_t n, size_t size, size_t nbytes)
{
    if (nbytes >= OA_LARGE_MAP_MIN) {
        return oa_calloc(state.heap, n, size);
    }
    return d->prev.calloc(d->prev.ctx, n, size);
}

static void *
hook_calloc(void *ctx, size_t n, size_t size)
{
    size_t nbytes;
    int overflow = __builtin_mul_overflow(n, size, &nbytes);
    if (LIKELY(!overflow && nbytes - 1 < PYALLOC_SERVE_MAX)) {
        return oa_calloc(state.heap, n, size);
    }
    return calloc_other(ctx, n, size, overflow ? 0 : nbytes);
}

/* Realloc of one of our blocks to prev: while draining, and from a small
 * to a large size under OA_LARGE_MAP_MIN.  NULL (p intact) when prev has
 * no memory. */
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
    state.nmoved_out++;
    return q;
}

static void *
forward_realloc(Domain *d, void *p, size_t nbytes)
{
    state.nforeign_realloc += (p != NULL);
    return d->prev.realloc(d->prev.ctx, p, nbytes);
}

static void *
hook_realloc(void *ctx, void *p, size_t nbytes)
{
    if (LIKELY(nbytes <= PYALLOC_SERVE_MAX)) {
        int owned;
        void *q = oa_realloc_if_owned(state.heap, p, nbytes, &owned);
        if (LIKELY(owned)) {
            return q;
        }
    }
    else if (p == NULL) {
        return hook_malloc(ctx, nbytes);
    }
    else if (oa_owner(p) == state.heap) {
        if (nbytes < OA_LARGE_MAP_MIN && oa_usable_size(p) <= OA_MEDIUM_MAX) {
            return move_out(ctx, p, nbytes); /* where malloc sends it */
        }
        return oa_realloc(state.heap, p, nbytes);
    }
    return forward_realloc(ctx, p, nbytes);
}

static void
forward_free(void *ctx, void *p)
{
    Domain *d = ctx;
    state.nforeign_free++;
    d->prev.free(d->prev.ctx, p);
}

/* Serving and draining alike: oa_free_or is oa_free_if_owned with the
 * forwarding as a tail call (no stack frame in the hook). */
static void
hook_free(void *ctx, void *p)
{
    oa_free_or(state.heap, p, forward_free, ctx);
}

/* Draining: every new block is prev's; ours move out on realloc. */
static void *
drain_malloc(void *ctx, size_t nbytes)
{
    Domain *d = ctx;
    return d->prev.malloc(d->prev.ctx, nbytes);
}

static void *
drain_calloc(void *ctx, size_t n, size_t size)
{
    Domain *d = ctx;
    return d->prev.calloc(d->prev.ctx, n, size);
}

static void *
drain_realloc(void *ctx, void *p, size_t nbytes)
{
    if (p != NULL && oa_owner(p) == state.heap) {
        return move_out(ctx, p, nbytes);
    }
    return forward_realloc(ctx, p, nbytes);
}

/* ---- install / uninstall ---------------------------------------------- */

/* Blocks of the heap not freed yet (the hooks keep no count of their own:
 * one update less per call).  O(pools); only uninstall and the counters
 * ask. */
static uint64_t
heap_live(void)
{
    if (state.heap == NULL) {
        return 0;
    }
    OaStats st;
    oa_heap_stats(state.heap, &st);
    return st.blocks_used + st.large_blocks;
}

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
    return cur.ctx == d->hook.ctx &&
           cur.malloc == (d->draining ? drain_malloc : hook_malloc);
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

/* Serves the PyMem domains in `domains` from heap: for each, remembers the
 * allocator it had as prev and sets the hook; a domain draining after an
 * uninstall is served again.  -1 with pyalloc_error set if check_install
 * refuses (nothing changed). */
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
            if (d->draining) { /* resume serving; prev is unchanged */
                d->draining = 0;
                PyMem_SetAllocator(d->id, &d->hook);
            }
            continue;
        }
        PyMem_GetAllocator(d->id, &d->prev);
        d->hook = (PyMemAllocatorEx){.ctx = d,
                                     .malloc = hook_malloc,
                                     .calloc = hook_calloc,
                                     .realloc = hook_realloc,
                                     .free = hook_free};
        d->drain = (PyMemAllocatorEx){.ctx = d,
                                      .malloc = drain_malloc,
                                      .calloc = drain_calloc,
                                      .realloc = drain_realloc,
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

/* Gives the domains back: all are checked before any changes (served by
 * objalloc, hook on top), so a refusal changes nothing.  With no block of
 * the heap live, prev is restored and 0 returned; else the domains drain
 * (new requests go to prev, our blocks still free here) and 1 returned. */
int
pyalloc_uninstall(unsigned domains)
{
    if (domains == 0 || (domains & ~(unsigned)PYALLOC_BOTH) != 0) {
        return fail("pyalloc_uninstall: bad domain mask");
    }
    /* Check every domain before changing any: a refusal changes nothing. */
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
    int restore = (heap_live() == 0);
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
        else if (!d->draining) {
            d->draining = 1;
            PyMem_SetAllocator(d->id, &d->drain);
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
    out->live = heap_live();
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
