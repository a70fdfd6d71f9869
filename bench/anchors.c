/* SPDX-License-Identifier: MIT */
/* anchors.c - loading the allocators the allocator benchmark compares.
 *
 * glibc malloc and pymalloc are linked in.  mimalloc and jemalloc are
 * Debian's libmimalloc.so.2 and libjemalloc.so.2 (and tcmalloc
 * libtcmalloc_minimal.so.4, through its tc_* names), dlopen'ed with
 * RTLD_LOCAL | RTLD_NOW so that their malloc does not replace the
 * process's; their malloc/free/realloc and trim calls (mi_collect,
 * mallctl "arena.<all>.purge") are taken with dlsym.  jemalloc uses
 * initial-exec TLS, which a dlopen'ed library gets only when glibc
 * reserves static TLS room for it: anchors_reexec_for_jemalloc() restarts
 * the program once with GLIBC_TUNABLES=glibc.rtld.optional_static_tls set.
 * An anchor that cannot load is skipped with the reason in anchors[].why.
 */
#include "bench/anchors.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TUNABLE "glibc.rtld.optional_static_tls=65536"

Anchor anchors[A_COUNT] = {
    [A_PYMALLOC] = {.name = "pymalloc"},
    [A_OBJALLOC] = {.name = "objalloc"},
    [A_OBJALLOC_SIZED] = {.name = "objalloc-sized"},
    [A_GLIBC] = {.name = "glibc"},
    [A_MIMALLOC] = {.name = "mimalloc"},
    [A_JEMALLOC] = {.name = "jemalloc"},
};

void *(*dl_mi_malloc)(size_t);
void (*dl_mi_free)(void *);
void *(*dl_mi_realloc)(void *, size_t);
void *(*dl_je_malloc)(size_t);
void (*dl_je_free)(void *);
void *(*dl_je_realloc)(void *, size_t);
void *(*dl_mi_calloc)(size_t, size_t);
void *(*dl_je_calloc)(size_t, size_t);
Anchor anchor_tcmalloc = {.name = "tcmalloc"};
void *(*dl_tc_malloc)(size_t);
void *(*dl_tc_calloc)(size_t, size_t);
void (*dl_tc_free)(void *);
void *(*dl_tc_realloc)(void *, size_t);
static void (*dl_tc_release)(void);

static void (*dl_mi_collect)(bool);
static int (*dl_je_mallctl)(const char *, void *, size_t *, void *, size_t);

#ifdef BENCH_HAVE_OBJALLOC
OaHeap *bench_oa;

static int
oa_trim_all(void)
{
    oa_heap_trim(bench_oa);
    return 1;
}
#endif

void
anchors_reexec_for_jemalloc(char **argv)
{
    const char *cur = getenv("GLIBC_TUNABLES");
    char buf[512];
    if (cur != NULL && strstr(cur, "optional_static_tls") != NULL) {
        return;
    }
    if (cur != NULL && cur[0] != '\0') {
        snprintf(buf, sizeof buf, "%s:%s", cur, TUNABLE);
    }
    else {
        snprintf(buf, sizeof buf, "%s", TUNABLE);
    }
    setenv("GLIBC_TUNABLES", buf, 1);
    execv("/proc/self/exe", argv);
    /* exec failed: go on without the tunable (jemalloc may not load). */
}

static int
glibc_trim(void)
{
    return malloc_trim(0);
}

static int
mi_trim(void)
{
    dl_mi_collect(true);
    return 1;
}

static int
je_trim(void)
{
    /* 4096 is MALLCTL_ARENAS_ALL: purge every arena's dirty pages. */
    return dl_je_mallctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0;
}

static void *
load(Anchor *a, const char *lib)
{
    void *h = dlopen(lib, RTLD_LOCAL | RTLD_NOW);
    if (h == NULL) {
        snprintf(a->why, sizeof a->why, "%s: %s", lib, dlerror());
        return NULL;
    }
    return h;
}

/* dlsym into a function pointer (the POSIX way around ISO C's data vs
 * function pointer distinction). */
#define SYM(h, var, name) (*(void **)(&(var)) = dlsym((h), (name)))

static void
load_mimalloc(void)
{
    Anchor *a = &anchors[A_MIMALLOC];
    void *h = load(a, "libmimalloc.so.2");
    if (h == NULL) {
        return;
    }
    if (!SYM(h, dl_mi_malloc, "malloc") || !SYM(h, dl_mi_free, "free") ||
        !SYM(h, dl_mi_realloc, "realloc") || !SYM(h, dl_mi_calloc, "calloc")) {
        snprintf(a->why, sizeof a->why, "libmimalloc.so.2 lacks malloc");
        return;
    }
    if (SYM(h, dl_mi_collect, "mi_collect")) {
        a->trim = mi_trim;
        a->trim_name = "mi_collect(true)";
    }
    a->available = 1;
}

static void
load_jemalloc(void)
{
    Anchor *a = &anchors[A_JEMALLOC];
    void *h = load(a, "libjemalloc.so.2");
    if (h == NULL) {
        return;
    }
    if (!SYM(h, dl_je_malloc, "malloc") || !SYM(h, dl_je_free, "free") ||
        !SYM(h, dl_je_realloc, "realloc") || !SYM(h, dl_je_calloc, "calloc")) {
        snprintf(a->why, sizeof a->why, "libjemalloc.so.2 lacks malloc");
        return;
    }
    if (SYM(h, dl_je_mallctl, "mallctl")) {
        a->trim = je_trim;
        a->trim_name = "mallctl(arena.all.purge)";
    }
    a->available = 1;
}

static int
tc_trim(void)
{
    dl_tc_release();
    return 1;
}

static void
load_tcmalloc(void)
{
    Anchor *a = &anchor_tcmalloc;
    void *h = load(a, "libtcmalloc_minimal.so.4");
    if (h == NULL) {
        return;
    }
    if (!SYM(h, dl_tc_malloc, "tc_malloc") || !SYM(h, dl_tc_free, "tc_free") ||
        !SYM(h, dl_tc_realloc, "tc_realloc") ||
        !SYM(h, dl_tc_calloc, "tc_calloc")) {
        snprintf(a->why, sizeof a->why,
                 "libtcmalloc_minimal.so.4 lacks tc_malloc");
        return;
    }
    if (SYM(h, dl_tc_release, "MallocExtension_ReleaseFreeMemory")) {
        a->trim = tc_trim;
        a->trim_name = "MallocExtension_ReleaseFreeMemory()";
    }
    a->available = 1;
}

void
anchors_init(void)
{
    static int done;
    if (done) {
        return;
    }
    done = 1;
    anchors[A_PYMALLOC].available = 1;
    anchors[A_GLIBC].available = 1;
    anchors[A_GLIBC].trim = glibc_trim;
    anchors[A_GLIBC].trim_name = "malloc_trim(0)";
#ifdef BENCH_HAVE_OBJALLOC
    bench_oa = oa_heap_new();
    if (bench_oa != NULL) {
        anchors[A_OBJALLOC].available = 1;
        anchors[A_OBJALLOC_SIZED].available = 1;
        anchors[A_OBJALLOC].trim = oa_trim_all;
        anchors[A_OBJALLOC].trim_name = "oa_heap_trim";
    }
    else {
        snprintf(anchors[A_OBJALLOC].why, sizeof anchors[A_OBJALLOC].why,
                 "oa_heap_new failed");
    }
#else
    snprintf(anchors[A_OBJALLOC].why, sizeof anchors[A_OBJALLOC].why,
             "objalloc not built yet");
    snprintf(anchors[A_OBJALLOC_SIZED].why,
             sizeof anchors[A_OBJALLOC_SIZED].why, "objalloc not built yet");
#endif
    load_mimalloc();
    load_jemalloc();
    load_tcmalloc();
}
