/* SPDX-License-Identifier: MIT */
/* labapi.c - Heap methods beyond Python's gc: what a memory-management
 * experiment reads.
 *
 *   alloc_stats()   objalloc's OaStats as a dict (per-class list inside)
 *   object_stats()  refcount's per-type counters
 *   events()        cyclegc's event log (one dict per collection)
 *   why_alive(n)    a reference path from an externally held node to n
 *   check()         every layer's invariant walk
 *   memory_limit    objalloc's per-heap limit (get/set)
 *
 * All of them only read the heap, except memory_limit's setter; none runs
 * Python code inside rcgc, so no heap_enter is needed.
 */
#include "pyext/internal.h"

#define ALIVE_OR_NULL(self)                                                   \
    if (heap_check_alive(self) < 0) {                                         \
        return NULL;                                                          \
    }

/* d[key] = PyLong(v), stealing nothing; -1 on error. */
static int
put_u64(PyObject *d, const char *key, uint64_t v)
{
    PyObject *o = PyLong_FromUnsignedLongLong((unsigned long long)v);
    if (o == NULL) {
        return -1;
    }
    int rc = PyDict_SetItemString(d, key, o);
    Py_DECREF(o);
    return rc;
}

static PyObject *
class_stats(const OaClassStats *c)
{
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    if (put_u64(d, "block_size", c->block_size) < 0 ||
        put_u64(d, "pools", c->pools) < 0 || put_u64(d, "used", c->used) < 0 ||
        put_u64(d, "free", c->free) < 0 ||
        put_u64(d, "nmalloc", c->nmalloc) < 0 ||
        put_u64(d, "requested", c->requested) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

PyDoc_STRVAR(alloc_stats_doc,
             "alloc_stats($self, /)\n--\n\n-> dict\n\n"
             "The allocator's statistics (objalloc's OaStats): arenas, "
             "arenas_medium\n(arenas of medium spans), arenas_highwater,\n"
             "arenas_allocated, arenas_released, bytes_mapped, pools_full,\n"
             "pools_used, pools_empty, spans (used pools that are medium\n"
             "spans), blocks_used, bytes_used, "
             "bytes_stranded\n"
             "(free bytes in partly used pools: external fragmentation),\n"
             "bytes_requested and bytes_handed (their ratio is internal\n"
             "fragmentation), large_blocks, large_bytes, large_mapped\n"
             "(those that are mappings of their own), meta_bytes, limit,\n"
             "nmalloc, ncalloc, nrealloc, nfree, nfail, and 'classes': one "
             "dict per\n"
             "size class, 32 small and 48 medium (block_size, pools, used,\n"
             "free, nmalloc, requested).");

static PyObject *
Heap_alloc_stats(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    OaStats st;
    oa_heap_stats(rc_heap_oa(self->rc), &st);
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    struct {
        const char *k;
        uint64_t v;
    } f[] = {
        {"arenas", st.arenas},
        {"arenas_medium", st.arenas_medium},
        {"arenas_highwater", st.arenas_highwater},
        {"arenas_allocated", st.arenas_allocated},
        {"arenas_released", st.arenas_released},
        {"bytes_mapped", st.bytes_mapped},
        {"pools_full", st.pools_full},
        {"pools_used", st.pools_used},
        {"pools_empty", st.pools_empty},
        {"spans", st.spans},
        {"bytes_released", st.bytes_released},
        {"blocks_used", st.blocks_used},
        {"bytes_used", st.bytes_used},
        {"bytes_stranded", st.bytes_stranded},
        {"bytes_requested", st.bytes_requested},
        {"bytes_handed", st.bytes_handed},
        {"large_blocks", st.large_blocks},
        {"large_bytes", st.large_bytes},
        {"large_mapped", st.large_mapped},
        {"meta_bytes", st.meta_bytes},
        {"limit", st.limit},
        {"nmalloc", st.nmalloc},
        {"ncalloc", st.ncalloc},
        {"nrealloc", st.nrealloc},
        {"nfree", st.nfree},
        {"nfail", st.nfail},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (put_u64(d, f[i].k, f[i].v) < 0) {
            goto fail;
        }
    }
    PyObject *classes = PyList_New(OA_NCLASSES);
    if (classes == NULL) {
        goto fail;
    }
    for (int i = 0; i < OA_NCLASSES; i++) {
        PyObject *c = class_stats(&st.classes[i]);
        if (c == NULL) {
            Py_DECREF(classes);
            goto fail;
        }
        PyList_SET_ITEM(classes, i, c);
    }
    int rc = PyDict_SetItemString(d, "classes", classes);
    Py_DECREF(classes);
    if (rc < 0) {
        goto fail;
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

PyDoc_STRVAR(object_stats_doc,
             "object_stats($self, /)\n--\n\n-> dict\n\n"
             "Per object type name (rcgc.Node, rcgc.LegacyNode, rcgc's "
             "weakref type):\n"
             "a dict of live, created and freed counts.");

static PyObject *
Heap_object_stats(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    RcTypeStats buf[64];
    size_t n = rc_type_stats(self->rc, buf, 64);
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n && i < 64; i++) {
        PyObject *v =
            Py_BuildValue("{s:n,s:K,s:K}", "live", (Py_ssize_t)buf[i].live,
                          "created", (unsigned long long)buf[i].created,
                          "freed", (unsigned long long)buf[i].freed);
        if (v == NULL || PyDict_SetItemString(d, buf[i].type->name, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

static PyObject *
Heap_get_live_nodes(HeapObject *self, void *c)
{
    (void)c;
    ALIVE_OR_NULL(self);
    return PyLong_FromSize_t(rc_live_count(self->rc, &node_type) +
                             rc_live_count(self->rc, &legacy_node_type));
}

static const char *
reason_name(GcReason r)
{
    switch (r) {
        case GC_REASON_THRESHOLD:
            return "threshold";
        case GC_REASON_EXPLICIT:
            return "explicit";
        case GC_REASON_PRESSURE:
            return "pressure";
        case GC_REASON_BYTES:
            return "bytes";
    }
    return "unknown";
}

PyDoc_STRVAR(events_doc,
             "events($self, /)\n--\n\n-> list of dict\n\n"
             "The most recent collections (up to EVENT_LOG_SIZE), oldest "
             "first:\n"
             "seq, generation, reason ('threshold', 'explicit', "
             "'pressure', 'bytes'),\n"
             "examined, collected, uncollectable, pause_ns, threshold (the\n"
             "generation's threshold in force at the start), next_threshold\n"
             "(after the pacing decision), bytes (accounted payload bytes),\n"
             "skipped (generation-0 passes moved on unexamined before it),\n"
             "increment (True for one increment of a pause-bounded pass) and\n"
             "work (its work units).");

static PyObject *
Heap_events(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    GcEvent *buf = PyMem_Malloc(GC_EVENT_LOG * sizeof *buf);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    size_t n = gc_events(self->gc, buf, GC_EVENT_LOG);
    if (n > GC_EVENT_LOG) {
        n = GC_EVENT_LOG;
    }
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        const GcEvent *e = &buf[i];
        PyObject *d = Py_BuildValue(
            "{s:K,s:i,s:s,s:K,s:K,s:K,s:K,s:l,s:l,s:K,s:K,s:O,s:K}", "seq",
            (unsigned long long)e->seq, "generation", e->generation, "reason",
            reason_name(e->reason), "examined",
            (unsigned long long)e->examined, "collected",
            (unsigned long long)e->collected, "uncollectable",
            (unsigned long long)e->uncollectable, "pause_ns",
            (unsigned long long)e->pause_ns, "threshold", e->threshold,
            "next_threshold", e->next_threshold, "bytes",
            (unsigned long long)e->bytes, "skipped",
            (unsigned long long)e->skipped, "increment",
            e->increment ? Py_True : Py_False, "work",
            (unsigned long long)e->work);
        if (d == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    PyMem_Free(buf);
    return list;
}

PyDoc_STRVAR(why_alive_doc,
             "why_alive($self, node, /)\n--\n\n-> list\n\n"
             "A shortest path of references [root, ..., node], where root "
             "is a node\n"
             "referenced from outside the tracked graph (a Python handle "
             "counts as\n"
             "outside; [node] when node itself is).  [] when no such path "
             "exists\n"
             "(node is cyclic garbage).  ValueError for an untracked node.");

static PyObject *
Heap_why_alive(HeapObject *self, PyObject *arg)
{
    ALIVE_OR_NULL(self);
    RcObject *op = node_arg(self, arg);
    if (op == NULL) {
        return NULL;
    }
    /* The caller's handle is an outside reference; do not count it, or
     * every node would be its own root. */
    NodeExtra *x = node_data(op)->extra;
    int hide = x != NULL && x->handle != NULL && x->handle->owns;
    if (hide && rc_refcnt(op) == 1) {
        return PyList_New(0); /* the caller's handle is all that holds it */
    }
    size_t cap = 64;
    for (;;) {
        RcObject **path = PyMem_Malloc(cap * sizeof *path);
        if (path == NULL) {
            return PyErr_NoMemory();
        }
        if (hide) {
            op->refcnt--; /* never reaches 0: the caller holds a count */
        }
        size_t n = gc_why_alive(self->gc, op, path, cap);
        if (hide) {
            op->refcnt++;
        }
        if (n == (size_t)-1) {
            PyMem_Free(path);
            const char *why = gc_error(self->gc);
            PyErr_Format(PyExc_ValueError, "why_alive: %s",
                         why != NULL ? why : "the node is not tracked");
            return NULL;
        }
        if (n <= cap) {
            PyObject *list = node_list(self, path, n);
            PyMem_Free(path);
            return list;
        }
        PyMem_Free(path);
        cap = n;
    }
}

PyDoc_STRVAR(check_doc,
             "check($self, /)\n--\n\n-> True\n\n"
             "Walk every list of the allocator, the object layer and the\n"
             "collector and verify their invariants; raises AssertionError "
             "(the\n"
             "details are on the C stderr) when one fails.");

static PyObject *
Heap_check(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    if (oa_heap_check(rc_heap_oa(self->rc)) != 0) {
        PyErr_SetString(PyExc_AssertionError, "objalloc: heap check failed");
        return NULL;
    }
    if (gc_check(self->gc) != 0) {
        PyErr_SetString(PyExc_AssertionError, "cyclegc: check failed");
        return NULL;
    }
    Py_RETURN_TRUE;
}

static PyObject *
Heap_get_memory_limit(HeapObject *self, void *c)
{
    (void)c;
    ALIVE_OR_NULL(self);
    return PyLong_FromSize_t(oa_heap_limit(rc_heap_oa(self->rc)));
}

static int
Heap_set_memory_limit(HeapObject *self, PyObject *v, void *c)
{
    (void)c;
    if (heap_check_alive(self) < 0) {
        return -1;
    }
    size_t limit = 0;
    if (v != NULL && v != Py_None) {
        limit = PyLong_AsSize_t(v);
        if (limit == (size_t)-1 && PyErr_Occurred()) {
            return -1;
        }
    }
    oa_heap_set_limit(rc_heap_oa(self->rc), limit);
    return 0;
}

#define FN(f) ((PyCFunction)(void (*)(void))(f))

PyMethodDef heap_lab_methods[] = {
    {"alloc_stats", FN(Heap_alloc_stats), METH_NOARGS, alloc_stats_doc},
    {"object_stats", FN(Heap_object_stats), METH_NOARGS, object_stats_doc},
    {"events", FN(Heap_events), METH_NOARGS, events_doc},
    {"why_alive", FN(Heap_why_alive), METH_O, why_alive_doc},
    {"check", FN(Heap_check), METH_NOARGS, check_doc},
    {NULL, NULL, 0, NULL},
};

PyGetSetDef heap_lab_getset[] = {
    {"live_nodes", (getter)Heap_get_live_nodes, NULL,
     "Nodes alive in the heap now (garbage not yet collected included).",
     NULL},
    {"memory_limit", (getter)Heap_get_memory_limit,
     (setter)Heap_set_memory_limit,
     "Bytes the heap may take from the system (arenas + large blocks);\n"
     "0 or None: no limit.  Past it, the collector runs a full collection\n"
     "before a node allocation fails with MemoryError.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
