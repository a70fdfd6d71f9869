/* SPDX-License-Identifier: MIT */
/* builders.c - making nodes: Heap.node() and the graph builders, in C so
 * that experiments build millions of nodes at allocator speed.
 *
 * Every builder follows the same steps:
 *   1. allocate all nodes into an array, in order (so consecutive nodes
 *      are usually neighbours in memory); the array holds the builder's
 *      count of each (count 1 from rc_new);
 *   2. link: each edge stores a new count in a slot;
 *   3. make handles for the roots (each holds a count);
 *   4. drop the builder's counts: what is neither a root nor reachable
 *      from a root by counts dies at once (acyclic garbage) or waits for
 *      the collector (cyclic garbage).
 * Automatic collections may run during step 1 (the thresholds apply); the
 * builder's counts keep every node alive through them.  Out of memory at
 * any step drops everything made so far and raises MemoryError.
 *
 * Shapes (n nodes, e edges):
 *   chain(length)        a0 -> a1 -> ... ; n = length, e = length - 1;
 *                        roots [a0]
 *   rings(count, length) count cycles a0 -> ... -> a(length-1) -> a0;
 *                        n = e = count * length; roots: each ring's a0
 *   tree(depth, fanout)  complete tree, depth 0 is a lone root;
 *                        n = sum fanout^i (i = 0..depth), e = n - 1
 *   random_graph(n, out_degree, seed, garbage_fraction)
 *                        the first `live` = n - round(n * fraction) nodes
 *                        are live: slot 0 of live node i points to node
 *                        i + 1 (a spine, so the first node reaches them
 *                        all), every other slot (and the last node's slot
 *                        0) to a uniformly random live node; the other
 *                        nodes are garbage, their slots pointing to
 *                        random garbage nodes.  e = n * out_degree;
 *                        roots [node 0] (every live node when
 *                        out_degree is 0); reproducible from seed.
 */
#include "pyext/internal.h"

typedef struct Build {
    HeapObject *heap;
    RcObject **nodes;
    size_t n;    /* made so far */
    size_t want; /* to make */
} Build;

static void
build_drop(Build *b)
{
    for (size_t i = 0; i < b->n; i++) {
        rc_decref(b->nodes[i]);
    }
    PyMem_Free(b->nodes);
    b->nodes = NULL;
    b->n = 0;
}

/* Step 1: want nodes of nslots slots.  0, or -1 with an exception. */
static int
build_alloc(Build *b, HeapObject *heap, size_t want, uint32_t nslots,
            uint32_t payload)
{
    b->heap = heap;
    b->n = 0;
    b->want = want;
    if (want > PY_SSIZE_T_MAX / sizeof(RcObject *)) {
        PyErr_SetString(PyExc_OverflowError, "too many nodes");
        return -1;
    }
    b->nodes = PyMem_Malloc((want ? want : 1) * sizeof(RcObject *));
    if (b->nodes == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (; b->n < want; b->n++) {
        RcObject *op = node_new(heap, nslots, payload, 0);
        if (op == NULL) {
            build_drop(b);
            return -1;
        }
        b->nodes[b->n] = op;
    }
    return 0;
}

static void
add_edge(RcObject *from, uint32_t slot, RcObject *to)
{
    rc_incref(to);
    rc_setref(&node_data(from)->slots[slot], to);
}

/* Steps 3 and 4: handles for nodes[roots[0..nroots)] (or nodes[0..nroots)
 * when roots is NULL), then drop the builder's counts. */
static PyObject *
build_finish(Build *b, const size_t *roots, size_t nroots)
{
    PyObject *list = PyList_New((Py_ssize_t)nroots);
    for (size_t i = 0; list != NULL && i < nroots; i++) {
        RcObject *op = b->nodes[roots != NULL ? roots[i] : i];
        PyObject *h = node_handle(b->heap, op);
        if (h == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, h);
    }
    build_drop(b);
    return list;
}

static int
check_payload(Py_ssize_t payload)
{
    if (payload < 0 || (size_t)payload > NODE_MAX_PAYLOAD) {
        PyErr_Format(PyExc_ValueError, "payload must be in 0..%u bytes",
                     NODE_MAX_PAYLOAD);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(
    node_doc,
    "node($self, /, slots=0, payload=0, finalizer=None, legacy=False,\n"
    "     value=None)\n--\n\n"
    "-> Node\n\n"
    "A new node with `slots` empty reference slots and `payload` "
    "zeroed\n"
    "bytes.  finalizer(node) runs before the node dies (PEP 442: "
    "once, may\n"
    "resurrect it); with legacy=True it is a legacy finalizer "
    "instead (run\n"
    "each time the count reaches zero; the node is uncollectable "
    "in cyclic\n"
    "garbage).  value: any Python object the node keeps.  Making a "
    "node may\n"
    "start an automatic collection.");

static PyObject *
Heap_node(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"slots",  "payload", "finalizer",
                             "legacy", "value",   NULL};
    Py_ssize_t nslots = 0, payload = 0;
    PyObject *fin = Py_None, *value = Py_None;
    int legacy = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|nnOpO:node", kwlist, &nslots,
                                     &payload, &fin, &legacy, &value)) {
        return NULL;
    }
    if (heap_check_alive(self) < 0 || check_payload(payload) < 0) {
        return NULL;
    }
    if (nslots < 0 || (size_t)nslots > NODE_MAX_SLOTS) {
        PyErr_Format(PyExc_ValueError, "slots must be in 0..%u",
                     NODE_MAX_SLOTS);
        return NULL;
    }
    if (fin != Py_None && !PyCallable_Check(fin)) {
        PyErr_SetString(PyExc_TypeError, "finalizer must be callable");
        return NULL;
    }
    RcObject *op = node_new(self, (uint32_t)nslots, (uint32_t)payload, legacy);
    if (op == NULL) {
        return NULL;
    }
    PyObject *h = node_handle(self, op); /* takes its own count */
    heap_enter(self);
    rc_decref(op); /* rc_new's count */
    heap_leave(self);
    if (h == NULL) {
        return NULL;
    }
    NodeExtra *x = node_data(op)->extra; /* made by node_handle */
    if (fin != Py_None) {
        x->finalizer = Py_NewRef(fin);
    }
    if (value != Py_None) {
        x->value = Py_NewRef(value);
    }
    return h;
}

PyDoc_STRVAR(chain_doc,
             "chain($self, /, length, payload=0)\n--\n\n-> [head]\n\n"
             "A chain of `length` one-slot nodes, each referring to the "
             "next:\n"
             "length nodes, length - 1 edges.  Returns [] for length 0.");

static PyObject *
Heap_chain(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"length", "payload", NULL};
    Py_ssize_t length, payload = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "n|n:chain", kwlist, &length,
                                     &payload)) {
        return NULL;
    }
    if (heap_check_alive(self) < 0 || check_payload(payload) < 0) {
        return NULL;
    }
    if (length < 0) {
        PyErr_SetString(PyExc_ValueError, "length must be >= 0");
        return NULL;
    }
    Build b;
    heap_enter(self);
    PyObject *res = NULL;
    if (build_alloc(&b, self, (size_t)length, 1, (uint32_t)payload) == 0) {
        for (size_t i = 0; i + 1 < b.n; i++) {
            add_edge(b.nodes[i], 0, b.nodes[i + 1]);
        }
        res = build_finish(&b, NULL, b.n > 0 ? 1 : 0);
    }
    heap_leave(self);
    return res;
}

PyDoc_STRVAR(rings_doc,
             "rings($self, /, count, length, payload=0)\n--\n\n-> list\n\n"
             "`count` reference cycles of `length` one-slot nodes each "
             "(a node's\n"
             "slot refers to the next, the last one's to the first): count "
             "*\n"
             "length nodes and edges.  Returns one node per ring.");

static PyObject *
Heap_rings(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"count", "length", "payload", NULL};
    Py_ssize_t count, length, payload = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "nn|n:rings", kwlist, &count,
                                     &length, &payload)) {
        return NULL;
    }
    if (heap_check_alive(self) < 0 || check_payload(payload) < 0) {
        return NULL;
    }
    if (count < 0 || length < 1) {
        PyErr_SetString(PyExc_ValueError,
                        "count must be >= 0 and length >= 1");
        return NULL;
    }
    if ((size_t)count > (size_t)PY_SSIZE_T_MAX / (size_t)length) {
        PyErr_SetString(PyExc_OverflowError, "too many nodes");
        return NULL;
    }
    size_t *roots = PyMem_Malloc((count ? (size_t)count : 1) * sizeof *roots);
    if (roots == NULL) {
        return PyErr_NoMemory();
    }
    Build b;
    PyObject *res = NULL;
    heap_enter(self);
    if (build_alloc(&b, self, (size_t)count * (size_t)length, 1,
                    (uint32_t)payload) == 0) {
        size_t k = (size_t)length;
        for (size_t r = 0; r < (size_t)count; r++) {
            RcObject **ring = b.nodes + r * k;
            for (size_t i = 0; i < k; i++) {
                add_edge(ring[i], 0, ring[(i + 1) % k]);
            }
            roots[r] = r * k;
        }
        res = build_finish(&b, roots, (size_t)count);
    }
    heap_leave(self);
    PyMem_Free(roots);
    return res;
}

PyDoc_STRVAR(tree_doc,
             "tree($self, /, depth, fanout, payload=0)\n--\n\n-> [root]\n\n"
             "A complete tree: every inner node has `fanout` slots referring "
             "to its\n"
             "children; depth 0 is a lone root.  sum(fanout**i for i in\n"
             "range(depth + 1)) nodes, one edge fewer.");

static PyObject *
Heap_tree(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"depth", "fanout", "payload", NULL};
    Py_ssize_t depth, fanout, payload = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "nn|n:tree", kwlist, &depth,
                                     &fanout, &payload)) {
        return NULL;
    }
    if (heap_check_alive(self) < 0 || check_payload(payload) < 0) {
        return NULL;
    }
    if (depth < 0 || fanout < 1 || (size_t)fanout > NODE_MAX_SLOTS) {
        PyErr_SetString(PyExc_ValueError,
                        "depth must be >= 0 and fanout in 1..MAX_SLOTS");
        return NULL;
    }
    /* total = 1 + f + f^2 + ... + f^depth, with overflow checks */
    size_t total = 1, level = 1;
    const size_t limit = (size_t)1 << 40;
    for (Py_ssize_t d = 0; d < depth; d++) {
        if (level > limit / (size_t)fanout) {
            PyErr_SetString(PyExc_OverflowError, "tree too large");
            return NULL;
        }
        level *= (size_t)fanout;
        total += level;
        if (total > limit) {
            PyErr_SetString(PyExc_OverflowError, "tree too large");
            return NULL;
        }
    }
    Build b;
    PyObject *res = NULL;
    heap_enter(self);
    if (build_alloc(&b, self, total, (uint32_t)fanout, (uint32_t)payload) ==
        0) {
        /* Breadth-first numbering: node i's children are i*f+1..i*f+f. */
        size_t f = (size_t)fanout;
        for (size_t i = 0; i < total; i++) {
            for (size_t j = 1; j <= f && i * f + j < total; j++) {
                add_edge(b.nodes[i], (uint32_t)(j - 1), b.nodes[i * f + j]);
            }
        }
        res = build_finish(&b, NULL, 1);
    }
    heap_leave(self);
    return res;
}

/* splitmix64: a small, good, reproducible generator. */
static uint64_t
next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t
random_below(uint64_t *state, size_t n)
{
    return (size_t)(next_random(state) % (uint64_t)n);
}

static void
link_random(Build *b, size_t live, uint32_t degree, uint64_t *rng)
{
    for (size_t i = 0; i < live; i++) {
        for (uint32_t s = 0; s < degree; s++) {
            size_t to =
                s == 0 && i + 1 < live ? i + 1 : random_below(rng, live);
            add_edge(b->nodes[i], s, b->nodes[to]);
        }
    }
    size_t ngarbage = b->n - live;
    for (size_t i = live; i < b->n; i++) {
        for (uint32_t s = 0; s < degree; s++) {
            add_edge(b->nodes[i], s,
                     b->nodes[live + random_below(rng, ngarbage)]);
        }
    }
}

PyDoc_STRVAR(random_graph_doc,
             "random_graph($self, /, n, out_degree, seed=0, "
             "garbage_fraction=0.0, payload=0)\n--\n\n-> list\n\n"
             "n nodes with out_degree slots each, all filled (n * "
             "out_degree edges).\n"
             "The first n - round(n * garbage_fraction) nodes are live: "
             "slot 0 of\n"
             "each refers to the next (a spine), the other slots to random "
             "live\n"
             "nodes.  The rest are garbage referring to random garbage "
             "nodes\n"
             "(mostly cycles, left for the collector).  Returns [first live "
             "node]\n"
             "(every live node when out_degree is 0).  The same seed gives "
             "the same\n"
             "graph.");

static PyObject *
Heap_random_graph(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {
        "n", "out_degree", "seed", "garbage_fraction", "payload", NULL};
    Py_ssize_t n, degree, payload = 0;
    unsigned long long seed = 0;
    double fraction = 0.0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "nn|Kdn:random_graph", kwlist,
                                     &n, &degree, &seed, &fraction,
                                     &payload)) {
        return NULL;
    }
    if (heap_check_alive(self) < 0 || check_payload(payload) < 0) {
        return NULL;
    }
    if (n < 0 || degree < 0 || (size_t)degree > NODE_MAX_SLOTS) {
        PyErr_SetString(PyExc_ValueError,
                        "n must be >= 0 and out_degree in 0..MAX_SLOTS");
        return NULL;
    }
    if (!(fraction >= 0.0 && fraction <= 1.0)) {
        PyErr_SetString(PyExc_ValueError,
                        "garbage_fraction must be in [0, 1]");
        return NULL;
    }
    size_t ngarbage = (size_t)((double)n * fraction + 0.5);
    if (ngarbage > (size_t)n) {
        ngarbage = (size_t)n;
    }
    size_t live = (size_t)n - ngarbage;
    Build b;
    PyObject *res = NULL;
    uint64_t rng = (uint64_t)seed;
    heap_enter(self);
    if (build_alloc(&b, self, (size_t)n, (uint32_t)degree,
                    (uint32_t)payload) == 0) {
        link_random(&b, live, (uint32_t)degree, &rng);
        res = build_finish(&b, NULL, degree == 0 ? live : (live > 0));
    }
    heap_leave(self);
    return res;
}

#define KW    (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction)(void (*)(void))(f))

PyMethodDef heap_builder_methods[] = {
    {"node", FN(Heap_node), KW, node_doc},
    {"chain", FN(Heap_chain), KW, chain_doc},
    {"rings", FN(Heap_rings), KW, rings_doc},
    {"tree", FN(Heap_tree), KW, tree_doc},
    {"random_graph", FN(Heap_random_graph), KW, random_graph_doc},
    {NULL, NULL, 0, NULL},
};
