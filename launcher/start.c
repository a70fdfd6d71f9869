/* SPDX-License-Identifier: MIT */
/* start.c - install objalloc under CPython before Py_BytesMain.
 *
 * Shared by rcgc-python (main.c: the launcher's own main) and
 * librcgc-pyalloc-impl.so (preload_impl.c: the same, run from a
 * constructor inside the stock python3.11 binary).
 *
 * Steps:
 *  1. Pre-initialise CPython from the command line and the environment,
 *     as Py_BytesMain would (-E, -I, -X utf8, -X dev, PYTHONMALLOC,
 *     PYTHONUTF8, locale coercion).  This installs CPython's own choice
 *     of allocators (pymalloc by default).
 *  2. Create the heap and install it over MEM and OBJ (pyalloc.c); what
 *     step 1 installed becomes the allocator of the blocks made before
 *     (foreign pointers) and of requests over 512 bytes, and stays the
 *     RAW allocator.
 *  3. Register the builtin module _rcgc_python (pymodule.c) and, when
 *     asked, the exit-time statistics and heap check.
 * The caller then runs Py_BytesMain(argc, argv).  It pre-initialises
 * again, but CPython ignores a second pre-initialisation (the runtime is
 * already pre-initialised: _Py_PreInitializeFromPyArgv returns at once),
 * so neither PYTHONMALLOC nor -X dev can replace the hook afterwards;
 * check_launcher.py verifies this.
 *
 * Environment (read once, here):
 *   RCGC_OBJALLOC=0      do nothing: plain python3 (for A/B comparisons)
 *   RCGC_MALLOCSTATS=1   print objalloc's statistics to stderr at exit
 *   RCGC_HEAPCHECK=1     verify the heap's invariants at exit; on a
 *                        failure print it and exit with status 70
 *   RCGC_TRACE=<file>    record every MEM/OBJ allocation call into <file>
 *                        (pytrace.c) on CPython's own allocator, instead
 *                        of installing objalloc
 */
#include "launcher/start.h"

#include "pyalloc/pyalloc.h"
#include "launcher/pytrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

PyObject *rcgc_python_module_init(void); /* pymodule.c */

enum { HEAPCHECK_FAILED = 70 };

static int want_stats;
static int want_check;
static const char *installed_by;

static int
env_flag(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* Runs after Py_BytesMain returned (or after sys.exit's exit()).  The heap
 * is not destroyed: blocks that CPython never frees stay valid. */
static void
at_exit(void)
{
    OaHeap *heap = pyalloc_heap();
    if (heap == NULL) {
        return;
    }
    if (want_stats) {
        OaStats st;
        PyAllocCounts c;
        oa_heap_stats(heap, &st);
        pyalloc_counts(&c);
        fflush(stdout);
        fprintf(stderr, "rcgc-python: objalloc statistics at exit\n");
        oa_stats_print(&st, stderr);
        fprintf(stderr,
                "rcgc-python: live blocks %llu, forwarded to the previous "
                "allocator: %llu frees, %llu reallocs\n",
                (unsigned long long)c.live,
                (unsigned long long)c.nforeign_free,
                (unsigned long long)c.nforeign_realloc);
    }
    if (want_check && oa_heap_check(heap) != 0) {
        fprintf(stderr, "rcgc-python: objalloc heap check FAILED at exit\n");
        _exit(HEAPCHECK_FAILED);
    }
}

static void
die(const char *what)
{
    fprintf(stderr, "rcgc-python: %s\n", what);
    exit(1);
}

/* Called before CPython initializes.  Returns 0 and leaves the allocator
 * alone for RCGC_OBJALLOC=0, or after starting a trace for RCGC_TRACE;
 * else pre-initializes, installs objalloc for both PyMem domains,
 * registers _rcgc_python and the exit report, and returns 1.  Failures
 * exit with a message. */
int
rcgc_python_start(int argc, char **argv, const char *mode)
{
    const char *use = getenv("RCGC_OBJALLOC");
    if (use != NULL && strcmp(use, "0") == 0) {
        return 0;
    }

    PyPreConfig pre;
    PyPreConfig_InitPythonConfig(&pre);
    PyStatus status = Py_PreInitializeFromBytesArgs(&pre, argc, argv);
    if (PyStatus_Exception(status)) {
        Py_ExitStatusException(status);
    }
    const char *trace = getenv("RCGC_TRACE");
    if (trace != NULL && trace[0] != '\0') {
        if (pytrace_start(trace) != 0) {
            exit(1);
        }
        return 0;
    }

    OaHeap *heap = oa_heap_new();
    if (heap == NULL) {
        die("out of memory creating the objalloc heap");
    }
    if (pyalloc_install(heap, PYALLOC_BOTH) < 0) {
        die(pyalloc_error());
    }
    if (PyImport_AppendInittab("_rcgc_python", rcgc_python_module_init) < 0) {
        die("cannot register the _rcgc_python module");
    }
    installed_by = mode;
    want_stats = env_flag("RCGC_MALLOCSTATS");
    want_check = env_flag("RCGC_HEAPCHECK");
    if ((want_stats || want_check) && atexit(at_exit) != 0) {
        die("cannot register the exit handler");
    }
    return 1;
}

const char *
rcgc_python_mode(void)
{
    return installed_by;
}
