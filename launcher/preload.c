/* SPDX-License-Identifier: MIT */
/* preload.c - librcgc-pyalloc.so: objalloc inside the stock python3.11.
 *
 * What it does: LD_PRELOAD=.../librcgc-pyalloc.so /usr/bin/python3.11 ...
 * runs Debian's own interpreter binary (static libpython, PGO + LTO) with
 * objalloc serving PyMem_Malloc and PyObject_Malloc, installed exactly as
 * rcgc-python installs it (start.c), so that the two allocators can be
 * compared inside the same binary.  rcgc-python-stock (stock.c) sets
 * LD_PRELOAD and execs the interpreter.
 *
 * The library is inherited by every child process through LD_PRELOAD (on
 * purpose: a child started with sys.executable, regrtest's workers, runs
 * on objalloc too, as under rcgc-python), and so is loaded into programs
 * that are not Python.  It therefore references no Python symbol itself:
 * its constructor
 *   1. does nothing when RCGC_OBJALLOC=0;
 *   2. does nothing unless Py_BytesMain is defined by the main program
 *      (the stock interpreter; not a program that embeds
 *      libpython3.11.so, such as rcgc-python or gdb, whose own main()
 *      decides) and Py_Version is 3.11 (the version the hooks are built
 *      for);
 *   3. dlopen()s librcgc-pyalloc-impl.so from its own directory (objalloc,
 *      the hooks and _rcgc_python; its Python calls resolve against the
 *      interpreter's exported C API) and calls its entry point with the
 *      process's argc/argv (glibc passes them to constructors).  That
 *      pre-initialises CPython and installs the heap before main() runs
 *      Py_BytesMain, whose own pre-initialisation is then ignored.
 * A CPython 3.11 that cannot load the implementation stops with a message
 * (exit status 1) rather than run silently on pymalloc.
 */
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#define IMPL_NAME      "librcgc-pyalloc-impl.so"
#define PY_3_11_MAJMIN 0x030Bu /* Py_Version >> 16 */

typedef int (*StartFn)(int argc, char **argv);

static const char self_anchor; /* an address inside this library */

/* Is addr inside the main program (not a shared library)? */
static int
in_main_program(const void *addr)
{
    Dl_info prog, sym;
    const void *phdr = (const void *)getauxval(AT_PHDR);
    return phdr != NULL && dladdr(phdr, &prog) != 0 &&
           dladdr(addr, &sym) != 0 && prog.dli_fbase == sym.dli_fbase;
}

/* The stock CPython 3.11 interpreter? */
static int
is_stock_python311(void)
{
    void *bytes_main = dlsym(RTLD_DEFAULT, "Py_BytesMain");
    const unsigned long *version = dlsym(RTLD_DEFAULT, "Py_Version");
    return bytes_main != NULL && version != NULL &&
           (*version >> 16) == PY_3_11_MAJMIN && in_main_program(bytes_main);
}

static void
fail(const char *what, const char *detail)
{
    fprintf(stderr,
            "librcgc-pyalloc: %s: %s (RCGC_OBJALLOC=0 runs without "
            "objalloc)\n",
            what, detail);
    exit(1);
}

/* Runs before main in a preloaded process: unless RCGC_OBJALLOC=0 or the
 * program is not a stock CPython 3.11, loads the implementation library
 * found next to this one and calls its entry point with argc and argv.
 * Any failure on the way exits with a message naming it. */
__attribute__((constructor)) static void
preload_start(int argc, char **argv)
{
    const char *use = getenv("RCGC_OBJALLOC");
    if ((use != NULL && strcmp(use, "0") == 0) || !is_stock_python311()) {
        return;
    }
    /* The implementation sits next to this library. */
    Dl_info self;
    char path[PATH_MAX];
    if (dladdr(&self_anchor, &self) == 0 || self.dli_fname == NULL) {
        fail("cannot find its own path", "dladdr failed");
    }
    const char *slash = strrchr(self.dli_fname, '/');
    int dirlen = slash != NULL ? (int)(slash - self.dli_fname + 1) : 0;
    if (snprintf(path, sizeof path, "%.*s%s", dirlen, self.dli_fname,
                 IMPL_NAME) >= (int)sizeof path) {
        fail("path too long", self.dli_fname);
    }
    void *impl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (impl == NULL) {
        fail("cannot load the implementation", dlerror());
    }
    StartFn start;
    *(void **)&start = dlsym(impl, "rcgc_pyalloc_preload_start");
    if (start == NULL) {
        fail("no entry point in " IMPL_NAME, dlerror());
    }
    start(argc, argv);
}
