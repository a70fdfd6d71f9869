/* SPDX-License-Identifier: MIT */
/* stock.c - rcgc-python-stock: Debian's python3.11 binary on objalloc.
 *
 * What it does: sets LD_PRELOAD to librcgc-pyalloc.so (preload.c) and
 * execs the stock interpreter with the same arguments, so that the very
 * binary that `python3.11` runs - statically linked libpython, PGO + LTO -
 * serves PyMem_Malloc and PyObject_Malloc from objalloc.  rcgc-python
 * links libpython3.11.so instead, which is slower whatever the allocator;
 * this launcher makes "objalloc vs pymalloc in the same binary" a
 * comparison of allocators only.
 *
 * Differences from rcgc-python, on purpose:
 *  - sys.executable is the stock interpreter (argv[0] is its path: its
 *    prefix and stdlib are found as usual), and LD_PRELOAD stays in the
 *    environment, so that a child started with sys.executable (or any
 *    python3.11) runs on objalloc too, as under rcgc-python.  Other
 *    programs load the library and it does nothing in them (preload.c);
 *    a child whose environment drops LD_PRELOAD runs on pymalloc.
 *  - RCGC_OBJALLOC=0 keeps LD_PRELOAD but the library does nothing: the
 *    stock interpreter exactly.
 * PYTHONMALLOC, -X dev, RCGC_MALLOCSTATS, RCGC_HEAPCHECK and _rcgc_python
 * behave as under rcgc-python (start.c).
 *
 * Where things are: the interpreter is RCGC_STOCK_PYTHON from the
 * environment, else the python3.11 found at build time; the library is
 * looked for next to this program (build tree), then in
 * ../<libdir>/rcgc/ (installed tree).  Exit status 127 when either is
 * missing.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, readlink (-std=c11) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RCGC_STOCK_PYTHON_PATH
#define RCGC_STOCK_PYTHON_PATH "/usr/bin/python3.11"
#endif
#ifndef RCGC_PRELOAD_INSTALL_DIR /* relative to the program's directory */
#define RCGC_PRELOAD_INSTALL_DIR "../lib/rcgc"
#endif
#define PRELOAD_NAME "librcgc-pyalloc.so"

enum { NOT_FOUND = 127 };

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "rcgc-python-stock: %s: %s\n", what, detail);
    exit(NOT_FOUND);
}

/* Set out to dir/rel/name (rel may be empty) when that file exists. */
static int
try_path(char *out, size_t size, const char *dir, const char *rel)
{
    int n = snprintf(out, size, "%s/%s%s%s", dir, rel, *rel ? "/" : "",
                     PRELOAD_NAME);
    return n > 0 && (size_t)n < size && access(out, R_OK) == 0;
}

static void
find_preload(char *out, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        die("cannot find its own path", "/proc/self/exe");
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    if (!try_path(out, size, exe, "") &&
        !try_path(out, size, exe, RCGC_PRELOAD_INSTALL_DIR)) {
        die("cannot find " PRELOAD_NAME " next to it or in",
            RCGC_PRELOAD_INSTALL_DIR);
    }
}

/* LD_PRELOAD with our library first (once). */
static void
set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (old != NULL && strstr(old, lib) != NULL) {
        return; /* already there (a launcher started from a child) */
    }
    size_t len = strlen(lib) + (old != NULL ? strlen(old) + 1 : 0) + 1;
    char *value = malloc(len);
    if (value == NULL) {
        die("out of memory", "LD_PRELOAD");
    }
    snprintf(value, len, "%s%s%s", lib, old != NULL ? ":" : "",
             old != NULL ? old : "");
    if (setenv("LD_PRELOAD", value, 1) != 0) {
        die("cannot set", "LD_PRELOAD");
    }
    free(value);
}

int
main(int argc, char **argv)
{
    (void)argc;
    const char *python = getenv("RCGC_STOCK_PYTHON");
    if (python == NULL || python[0] == '\0') {
        python = RCGC_STOCK_PYTHON_PATH;
    }
    char lib[PATH_MAX];
    find_preload(lib, sizeof lib);
    set_preload(lib);
    argv[0] = (char *)python; /* sys.executable: the interpreter */
    execv(python, argv);
    die("cannot run", python);
    return NOT_FOUND;
}
