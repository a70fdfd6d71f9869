/* SPDX-License-Identifier: MIT */
/* test_pyalloc.c - switching a running interpreter to objalloc and back.
 *
 * What it checks (run by scripts/python-check.sh; exit 0 when all pass):
 *  1. Blocks made by the stock allocator before the switch are freed and
 *     resized by it after the switch (the forwarding counters move, the
 *     contents survive), while new blocks come from the heap.
 *  2. CPython's contract: unique non-NULL blocks for size 0, realloc(NULL),
 *     realloc(p, 0), calloc zeroes, an impossible request returns NULL;
 *     requests up to PYALLOC_SERVE_MAX are the heap's, those over it up
 *     to OA_LARGE_MAP_MIN go to the previous allocator, bigger ones to the
 *     heap's own mappings; a small block of
 *     ours resized to a large size moves to the previous allocator under
 *     OA_LARGE_MAP_MIN, to a mapping of the heap from there on.
 *  3. Python code runs on the switched interpreter (a workload with
 *     cycles, so the collector frees heap blocks).
 *  4. Uninstall with live blocks drains: new blocks go to the previous
 *     allocator, ours are still freed by the heap, and realloc moves them
 *     out.  Re-install resumes serving.
 *  5. The running-interpreter install refuses while tracemalloc traces.
 *  6. The interpreter finalizes cleanly and the heap's invariants hold.
 * Steps that fail print the check and the line, then the program exits 1.
 */
#include "pyalloc/pyalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "test_pyalloc: line %d: check failed: %s\n",      \
                    __LINE__, #cond);                                         \
            failures++;                                                       \
        }                                                                     \
    } while (0)

enum { NOLD = 100 };

static const char *workload =
    "class Node:\n"
    "    def __init__(self, i):\n"
    "        self.i = i; self.peer = None; self.data = [i] * (i % 40)\n"
    "for r in range(20):\n"
    "    nodes = [Node(i) for i in range(2000)]\n"
    "    for a, b in zip(nodes, nodes[1:] + nodes[:1]):\n"
    "        a.peer = b\n"
    "    d = {str(n.i): n for n in nodes}\n"
    "    s = ''.join(d) * 3\n"
    "    del nodes, d\n"
    "import gc, json\n"
    "gc.collect()\n"
    "assert json.loads(json.dumps({'a': [1, 2.5, 'x'] * 100}))['a'][2] == "
    "'x'\n";

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (unsigned char)(seed + i);
    }
}

static int
holds(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != (unsigned char)(seed + i)) {
            return 0;
        }
    }
    return 1;
}

/* Step 1: blocks of the old allocator, before and after the switch. */
static void
check_forwarding(OaHeap *heap)
{
    void *old[NOLD];
    for (int i = 0; i < NOLD; i++) {
        size_t n = (size_t)(i * 13 % 700) + 1;
        old[i] = (i % 2) ? PyObject_Malloc(n) : PyMem_Malloc(n);
        fill(old[i], n, (unsigned)i);
        CHECK(oa_owner(old[i]) == NULL);
    }
    CHECK(pyalloc_install_running(heap, PYALLOC_BOTH) == 0);
    CHECK(pyalloc_is_installed(PYALLOC_BOTH));
    PyAllocCounts before, after;
    pyalloc_counts(&before);
    for (int i = 0; i < NOLD; i += 2) {
        size_t n = (size_t)(i * 13 % 700) + 1;
        void *q = PyMem_Realloc(old[i], n + 1000);
        CHECK(q != NULL && holds(q, n, (unsigned)i));
        CHECK(oa_owner(q) == NULL); /* stays with its allocator */
        old[i] = q;
    }
    for (int i = 0; i < NOLD; i++) {
        if (i % 2) {
            PyObject_Free(old[i]);
        }
        else {
            PyMem_Free(old[i]);
        }
    }
    pyalloc_counts(&after);
    CHECK(after.nforeign_realloc - before.nforeign_realloc == NOLD / 2);
    CHECK(after.nforeign_free - before.nforeign_free == NOLD);
    CHECK(after.live == before.live);
}

/* Step 2: the domain contract, through the public API. */
static void
check_contract(OaHeap *heap)
{
    void *a = PyMem_Malloc(0), *b = PyMem_Malloc(0);
    void *c = PyObject_Calloc(0, 8), *d = PyObject_Calloc(8, 0);
    CHECK(a && b && c && d && a != b && c != d && a != c);
    /* 0 bytes go to the previous allocator, as pymalloc sends them to the
     * system's; 1 byte is the heap's. */
    CHECK(oa_owner(a) == NULL && oa_owner(c) == NULL);
    void *one = PyObject_Malloc(1);
    CHECK(one != NULL && oa_owner(one) == heap);
    PyObject_Free(one);
    unsigned char *z = PyObject_Calloc(100, 7);
    int zero = z != NULL;
    for (int i = 0; zero && i < 700; i++) {
        zero = z[i] == 0;
    }
    CHECK(zero);
    unsigned char *r = PyMem_Realloc(NULL, 24);
    CHECK(r != NULL && oa_owner(r) == heap);
    fill(r, 24, 7);
    size_t sizes[] = {600, 100000, 8, 0};
    size_t keep = 24;
    for (int i = 0; i < 4 && r; i++) {
        r = PyMem_Realloc(r, sizes[i]);
        CHECK(r != NULL && holds(r, keep < sizes[i] ? keep : sizes[i], 7));
        keep = keep < sizes[i] ? keep : sizes[i];
    }
    /* Requests up to PYALLOC_SERVE_MAX are the heap's (medium classes
     * from 513 bytes); over it they go to the previous allocator, as
     * pymalloc's go to the system malloc, up to OA_LARGE_MAP_MIN; from
     * there on they are mappings of the heap (given back to the system
     * when freed).  A class block of ours resized to a large size moves
     * to prev under that size, to a mapping of ours from there on, with
     * its contents; prev's stay prev's. */
    void *medium = PyObject_Malloc(1500);
    CHECK(medium != NULL && oa_owner(medium) == heap);
    void *edge = PyMem_Malloc(PYALLOC_SERVE_MAX);
    CHECK(edge != NULL && oa_owner(edge) == heap);
    void *mediumz = PyMem_Calloc(100, 15);
    CHECK(mediumz != NULL && oa_owner(mediumz) == heap);
    PyMem_Free(mediumz);
    medium = PyObject_Realloc(medium, PYALLOC_SERVE_MAX + 1); /* moves */
    CHECK(medium != NULL && oa_owner(medium) == NULL);
    PyObject_Free(medium);
    PyMem_Free(edge);
    unsigned char *big = PyObject_Malloc(PYALLOC_SERVE_MAX + 1);
    CHECK(big != NULL && oa_owner(big) == NULL);
    void *bigz = PyMem_Calloc(1, PYALLOC_SERVE_MAX + 1);
    CHECK(bigz != NULL && oa_owner(bigz) == NULL);
    PyMem_Free(bigz);
    unsigned char *huge = PyMem_Calloc(1, OA_LARGE_MAP_MIN);
    int zeroed = huge != NULL;
    for (size_t i = 0; zeroed && i < OA_LARGE_MAP_MIN; i += 4093) {
        zeroed = huge[i] == 0;
    }
    CHECK(zeroed && oa_owner(huge) == heap);
    huge = PyMem_Realloc(huge, 3 * (size_t)OA_LARGE_MAP_MIN);
    CHECK(huge != NULL && oa_owner(huge) == heap && huge[0] == 0);
    PyMem_Free(huge);
    unsigned char *grow = PyObject_Malloc(300);
    CHECK(grow != NULL && oa_owner(grow) == heap);
    fill(grow, 300, 9);
    grow = PyObject_Realloc(grow, 500);
    CHECK(grow != NULL && oa_owner(grow) == heap && holds(grow, 300, 9));
    unsigned char *jump = PyObject_Malloc(300);
    CHECK(jump != NULL && oa_owner(jump) == heap);
    fill(jump, 300, 5);
    grow = PyObject_Realloc(grow, OA_LARGE_MAP_MIN / 2);
    CHECK(grow != NULL && oa_owner(grow) == NULL && holds(grow, 300, 9));
    grow = PyObject_Realloc(grow, 100); /* stays with prev */
    CHECK(grow != NULL && oa_owner(grow) == NULL && holds(grow, 100, 9));
    PyObject_Free(grow);
    jump = PyObject_Realloc(jump, 2 * (size_t)OA_LARGE_MAP_MIN);
    CHECK(jump != NULL && oa_owner(jump) == heap && holds(jump, 300, 5));
    jump = PyObject_Realloc(jump, 4 * (size_t)OA_LARGE_MAP_MIN);
    CHECK(jump != NULL && oa_owner(jump) == heap && holds(jump, 300, 5));
    jump = PyObject_Realloc(jump, 100);
    CHECK(jump != NULL && oa_owner(jump) == heap && holds(jump, 100, 5));
    PyObject_Free(jump);
    big = PyObject_Realloc(big, 2 * (size_t)OA_LARGE_MAP_MIN);
    CHECK(big != NULL && oa_owner(big) == NULL); /* stays with prev */
    PyObject_Free(big);
    CHECK(PyMem_Malloc((size_t)PY_SSIZE_T_MAX) == NULL);
    CHECK(PyObject_Calloc((size_t)1 << 40, (size_t)1 << 40) == NULL);
    PyMem_Free(NULL);
    PyObject_Free(NULL);
    PyMem_Free(a);
    PyMem_Free(b);
    PyObject_Free(c);
    PyObject_Free(d);
    PyObject_Free(z);
    PyMem_Free(r);
}

/* Step 4: uninstall while our blocks are live, then re-install. */
static void
check_draining(OaHeap *heap)
{
    unsigned char *ours = PyObject_Malloc(40);
    CHECK(oa_owner(ours) == heap);
    fill(ours, 40, 3);
    CHECK(pyalloc_uninstall(PYALLOC_OBJ) == 1); /* live blocks: drains */
    CHECK(!pyalloc_is_installed(PYALLOC_OBJ));
    void *theirs = PyObject_Malloc(40);
    CHECK(theirs != NULL && oa_owner(theirs) == NULL);
    unsigned char *moved = PyObject_Realloc(ours, 64);
    CHECK(moved != NULL && oa_owner(moved) == NULL && holds(moved, 40, 3));
    CHECK(PyRun_SimpleString(workload) == 0);
    PyObject_Free(theirs);
    PyObject_Free(moved);
    CHECK(pyalloc_install(heap, PYALLOC_OBJ) == 0);
    CHECK(pyalloc_is_installed(PYALLOC_BOTH));
    void *again = PyObject_Malloc(40);
    CHECK(oa_owner(again) == heap);
    PyObject_Free(again);
}

/* Step 5: tracemalloc started before a switch would remove our hook. */
static void
check_tracemalloc_refused(OaHeap *heap)
{
    CHECK(pyalloc_uninstall(PYALLOC_MEM) == 1);
    CHECK(PyRun_SimpleString("import tracemalloc; tracemalloc.start()") == 0);
    CHECK(pyalloc_install_running(heap, PYALLOC_MEM) == -1);
    CHECK(PyErr_Occurred() != NULL);
    PyErr_Clear();
    CHECK(PyRun_SimpleString("tracemalloc.stop()") == 0);
    CHECK(pyalloc_install_running(heap, PYALLOC_MEM) == 0);
    /* tracemalloc started after the switch wraps us and restores us. */
    CHECK(PyRun_SimpleString("tracemalloc.start(); x = [str(i) for i in "
                             "range(1000)]; tracemalloc.stop()") == 0);
    CHECK(pyalloc_is_installed(PYALLOC_BOTH));
}

int
main(void)
{
    Py_Initialize();
    OaHeap *heap = oa_heap_new();
    CHECK(heap != NULL);
    CHECK(pyalloc_install(NULL, PYALLOC_BOTH) == -1);
    CHECK(pyalloc_uninstall(PYALLOC_BOTH) == -1); /* not installed */
    check_forwarding(heap);
    check_contract(heap);
    CHECK(PyRun_SimpleString(workload) == 0);
    check_draining(heap);
    check_tracemalloc_refused(heap);
    CHECK(oa_heap_check(heap) == 0);
    CHECK(Py_FinalizeEx() == 0);
    CHECK(oa_heap_check(heap) == 0);
    /* The heap is not destroyed: blocks CPython keeps past finalization
     * must stay valid until exit. */
    if (failures) {
        fprintf(stderr, "test_pyalloc: %d checks failed\n", failures);
        return 1;
    }
    printf("test_pyalloc: all checks passed\n");
    return 0;
}
