/* SPDX-License-Identifier: MIT */
/* pymodule.c - _rcgc_python, the launcher's builtin introspection module.
 *
 * What it does: lets Python code (python-check.sh, the benchmarks, a
 * curious user) ask whether objalloc serves the interpreter and read the
 * heap's statistics.  Only rcgc_python_start() registers it
 * (PyImport_AppendInittab before Py_Initialize: rcgc-python, or python3.11
 * under librcgc-pyalloc.so), so `import _rcgc_python` fails under a plain
 * python3.
 *
 *   installed() -> bool   MEM and OBJ are served by the heap
 *   mode()      -> str    who installed it: "launcher" (rcgc-python) or
 *                         "preload" (librcgc-pyalloc.so in python3.11)
 *   stats()     -> dict   the OaStats totals and the hook's counters
 *   check()     -> bool   oa_heap_check() passed (details on stderr)
 *
 * Data: none of its own; it reads pyalloc's record and the heap.
 */
#include "pyalloc/pyalloc.h"
#include "launcher/start.h"

PyObject *rcgc_python_module_init(void);

static PyObject *
installed(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyBool_FromLong(pyalloc_is_installed(PYALLOC_BOTH));
}

/* d[key] = value (an unsigned count); -1 with an exception on failure. */
static int
put(PyObject *d, const char *key, unsigned long long value)
{
    PyObject *v = PyLong_FromUnsignedLongLong(value);
    if (v == NULL) {
        return -1;
    }
    int rc = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* Puts the objalloc statistics and the hook's counters into dict d, one
 * int per field; -1 with the Python error set if a put fails. */
static int
put_stats(PyObject *d, const OaStats *st, const PyAllocCounts *c)
{
    const struct {
        const char *key;
        unsigned long long value;
    } items[] = {
        {"arenas", st->arenas},
        {"arenas_highwater", st->arenas_highwater},
        {"bytes_mapped", st->bytes_mapped},
        {"pools_full", st->pools_full},
        {"pools_used", st->pools_used},
        {"pools_empty", st->pools_empty},
        {"blocks_used", st->blocks_used},
        {"bytes_used", st->bytes_used},
        {"bytes_stranded", st->bytes_stranded},
        {"large_blocks", st->large_blocks},
        {"large_bytes", st->large_bytes},
        {"large_mapped", st->large_mapped},
        {"nmalloc", st->nmalloc},
        {"ncalloc", st->ncalloc},
        {"nrealloc", st->nrealloc},
        {"nfree", st->nfree},
        {"nfail", st->nfail},
        {"live", c->live},
        {"nforeign_free", c->nforeign_free},
        {"nforeign_realloc", c->nforeign_realloc},
        {"nmoved_out", c->nmoved_out},
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (put(d, items[i].key, items[i].value) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
stats(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    OaHeap *heap = pyalloc_heap();
    if (heap == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "objalloc is not installed");
        return NULL;
    }
    OaStats st;
    PyAllocCounts c;
    oa_heap_stats(heap, &st);
    pyalloc_counts(&c);
    PyObject *d = PyDict_New();
    if (d == NULL || put_stats(d, &st, &c) < 0) {
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *
check(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    OaHeap *heap = pyalloc_heap();
    return PyBool_FromLong(heap != NULL && oa_heap_check(heap) == 0);
}

static PyObject *
mode(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    const char *m = rcgc_python_mode();
    return PyUnicode_FromString(m != NULL ? m : "none");
}

static PyMethodDef methods[] = {
    {"installed", installed, METH_NOARGS,
     "True when objalloc serves PyMem_Malloc and PyObject_Malloc."},
    {"mode", mode, METH_NOARGS,
     "How objalloc was installed: 'launcher' (rcgc-python) or 'preload' "
     "(librcgc-pyalloc.so in the stock python3.11)."},
    {"stats", stats, METH_NOARGS, "objalloc heap statistics as a dict."},
    {"check", check, METH_NOARGS,
     "Walk the heap and verify its invariants (True when they hold)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_rcgc_python",
    .m_doc = "rcgc-python: CPython on rcgc's objalloc.",
    .m_size = -1,
    .m_methods = methods,
};

PyObject *
rcgc_python_module_init(void)
{
    return PyModule_Create(&module);
}
