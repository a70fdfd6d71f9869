/* SPDX-License-Identifier: MIT */
/* testutil.c - sizes under Valgrind and small-stack threads for the C
 * suites (see testutil.h). */
#include "common/testutil.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VALGRIND_DIVISOR 20

int
tc_under_valgrind(void)
{
    return getenv("RCGC_UNDER_VALGRIND") != NULL;
}

size_t
tc_scaled(size_t n)
{
    if (!tc_under_valgrind()) {
        return n;
    }
    size_t m = n / VALGRIND_DIVISOR;
    return m < 2 ? 2 : m;
}

void
tc_run_with_stack(size_t stack_bytes, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t t;
    cr_assert_eq(pthread_attr_init(&attr), 0);
    cr_assert_eq(pthread_attr_setstacksize(&attr, stack_bytes), 0);
    cr_assert_eq(pthread_create(&t, &attr, fn, arg), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
}

int
tc_run_child(void (*fn)(void), char *buf, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + len, cap - 1 - len)) > 0) {
        len += (size_t)r;
    }
    buf[len] = 0;
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

void
tc_expect_abort(void (*fn)(void), const char *n1, const char *n2)
{
    char buf[4096];
    int status = tc_run_child(fn, buf, sizeof buf);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "child did not abort (status %#x); stderr: %s", status, buf);
    cr_assert_not_null(strstr(buf, n1), "'%s' not in stderr: %s", n1, buf);
    cr_assert_not_null(strstr(buf, n2), "'%s' not in stderr: %s", n2, buf);
}

uint64_t
tc_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

size_t
tc_below(uint64_t *state, size_t n)
{
    return (size_t)(tc_rand(state) % n);
}
