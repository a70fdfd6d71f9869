/* SPDX-License-Identifier: MIT */
/* start.h - objalloc under CPython before Py_BytesMain: what rcgc-python
 * (main.c) and the preload library (preload_impl.c) both do first. */
#ifndef RCGC_LAUNCHER_START_H
#define RCGC_LAUNCHER_START_H

/* Unless RCGC_OBJALLOC=0: pre-initialise CPython from argc/argv and the
 * environment (as Py_BytesMain would), install one objalloc heap over MEM
 * and OBJ, register the builtin module _rcgc_python and the exit-time
 * statistics / heap check asked for by RCGC_MALLOCSTATS / RCGC_HEAPCHECK.
 * `mode` names the caller ("launcher", "preload"; _rcgc_python.mode()).
 * Returns 1 when objalloc was installed, 0 for RCGC_OBJALLOC=0; on an
 * error prints why on stderr and exits (status 1, or CPython's own for a
 * failed pre-initialisation). */
int rcgc_python_start(int argc, char **argv, const char *mode);

/* The `mode` objalloc was installed by, or NULL. */
const char *rcgc_python_mode(void);

#endif /* RCGC_LAUNCHER_START_H */
