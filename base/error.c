/* SPDX-License-Identifier: MIT */
/* error.c - the one error path of the library.
 *
 * Every message rcgc writes - a fatal misuse, a refused call, a failed
 * assertion, a check that found a broken invariant - is one line, made
 * here and given to the handler registered with rcgc_register_error, or
 * written to stderr when there is none.  A fatal report aborts after the
 * handler returns (continuing would corrupt memory), so a handler that
 * must not let the process die longjmps or exits from inside.
 *
 * The handler is process-wide state (see base.h); a mutex keeps the
 * function and its argument together, and the handler runs outside it.
 */
#include "base/base.h"

#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* The user's handler and its argument, read and written together. */
static struct {
    pthread_mutex_t lock;
    RcgcErrorFn fn;
    void *arg;
} handler = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL};

void
rcgc_register_error(RcgcErrorFn fn, void *arg)
{
    pthread_mutex_lock(&handler.lock);
    handler.fn = fn;
    handler.arg = fn != NULL ? arg : NULL;
    pthread_mutex_unlock(&handler.lock);
}

static void
deliver(int kind, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    pthread_mutex_lock(&handler.lock);
    RcgcErrorFn fn = handler.fn;
    void *arg = handler.arg;
    pthread_mutex_unlock(&handler.lock);
    if (fn != NULL) {
        fn(kind, msg, arg); /* outside the lock: it may register again */
        return;
    }
    fflush(stdout);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

void
rcgc_report(int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    deliver(kind, fmt, ap);
    va_end(ap);
}

_Noreturn void
rcgc_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    deliver(RCGC_ERROR_FATAL, fmt, ap);
    va_end(ap);
    abort();
}

_Noreturn void
rcgc_assert_fail(const char *cond, const char *file, int line,
                 const char *func)
{
    rcgc_fatal("rcgc: %s:%d: %s: assertion failed: %s", file, line, func,
               cond);
}
