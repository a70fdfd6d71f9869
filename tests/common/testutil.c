/* testutil.c - sizes under Valgrind and small-stack threads for the C
 * suites (see testutil.h). */
#include "common/testutil.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

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
